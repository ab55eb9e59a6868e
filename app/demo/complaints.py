"""Complaints and feedback (投诉及意见反馈, CMP-01 to CMP-18): demo records for `flask init --demo`."""


def create_demo_data(echo=print):
    """Create this module's demo records (idempotent)."""
