"""Customer information and archives (客户信息与档案, CUS-01 to CUS-11): demo records for `flask init --demo`."""


def create_demo_data(echo=print):
    """Create this module's demo records (idempotent)."""
