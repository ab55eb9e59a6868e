"""Customer electrical projects (客户工程/业扩报装, ENG-01 to ENG-17): screens and REST resources."""


def register_projects_views(appbuilder):
    """Add this module's views, APIs and menu entries."""
