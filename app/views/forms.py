"""Official printable forms, as HTML and PDF: one mechanism for every form."""


def register_form_views(appbuilder):
    """Add the form print and PDF routes."""
