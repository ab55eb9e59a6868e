"""Return visits: demo data."""


def create_demo_data(echo=print):
    """Create the demo visits (idempotent)."""
