"""Placeholder: views of the notifications module."""


def register_notification_views(appbuilder):
    """Register the notifications views."""
