"""Session listener writing every business-row change to the audit trail."""


def install_audit_listeners():
    """Install the listeners once per process (idempotent)."""
