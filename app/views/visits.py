"""Return visits (回访, VIS-01 to VIS-13): web views and REST resources."""


def register_visits_views(appbuilder):
    """Add the return-visit views, APIs and menu entries."""
