"""Customer information and archives (客户信息与档案, CUS-01 to CUS-11): screens and REST resources."""


def register_customers_views(appbuilder):
    """Add this module's views, APIs and menu entries."""
