"""Audit entries for events that are not row changes: logins, logouts, reads."""


def record_login(username, user):
    """Record a successful login of ``user`` or a failed attempt for ``username``."""


def record_logout(user):
    """Record a logout."""


def record_read(record, action="read"):
    """Record that the current user read (or exported) a confidential record."""
