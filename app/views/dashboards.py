"""Role home pages, global search, charts and monthly reports."""


def register_dashboard_views(appbuilder):
    """Add the dashboard, search, chart and report views."""
