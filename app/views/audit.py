"""Placeholder: views of the audit module."""


def register_audit_views(appbuilder):
    """Register the audit views."""
