"""Complaints and feedback (投诉及意见反馈, CMP-01 to CMP-18): screens and REST resources."""


def register_complaints_views(appbuilder):
    """Add this module's views, APIs and menu entries."""
