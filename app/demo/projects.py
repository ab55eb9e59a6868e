"""Customer electrical projects (客户工程/业扩报装, ENG-01 to ENG-17): demo records for `flask init --demo`."""


def create_demo_data(echo=print):
    """Create this module's demo records (idempotent)."""
