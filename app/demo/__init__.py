"""Demo data of the business modules, created by `flask init --demo`."""


def create_demo_data(echo=print):
    """Create each module's demo records (idempotent)."""
    from . import complaints, customers, projects, visits

    for module in (complaints, visits, projects, customers):
        module.create_demo_data(echo)
