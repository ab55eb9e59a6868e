"""Audit entries for events that are not row changes: logins, logouts, reads, exports."""


def record_event(action, table_name, row_id=None, details=None):
    """Append one entry (action e.g. "read", "export") for the current actor."""


def record_login(username, user):
    """Record a successful login of ``user`` or a failed attempt for ``username``."""


def record_logout(user):
    """Record a logout."""
