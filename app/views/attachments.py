"""Placeholder: views of the attachments module."""


def register_attachment_views(appbuilder):
    """Register the attachments views."""
