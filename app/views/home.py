"""The home page."""
from flask_appbuilder import IndexView


class HomeView(IndexView):
    """Landing page after login: what waits for the user."""

    index_template = "home.html"
