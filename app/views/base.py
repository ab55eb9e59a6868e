"""Base classes for every business list and record view.

They only combine options: visibility through ``base_filters``, CSV/XLSX
export of the current list, the record's history from the audit trail and
the workflow buttons on its page.
"""
from flask_appbuilder import ModelView
from flask_appbuilder.api import ModelRestApi

from ..exports.views import ExportApiMixin, ExportViewMixin
from ..security.visibility import VisibleRowsFilter


def visible_rows():
    """The base filter every business view starts from."""
    return [["id", VisibleRowsFilter, lambda: None]]


class AppModelView(ExportViewMixin, ModelView):
    """A business ModelView: visible rows only, exportable, with a history panel."""

    base_filters = visible_rows()
    list_template = "record/list.html"
    show_template = "record/show.html"
    page_size = 25
    # Business rows are never hard-deleted: no delete door at all.
    exclude_route_methods = {"delete"}

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.extra_args = {**(self.extra_args or {}), "record_view": self}


class AppModelApi(ExportApiMixin, ModelRestApi):
    """A business REST resource: visible rows only, exportable."""

    base_filters = visible_rows()
    allow_browser_login = False
    exclude_route_methods = {"delete"}
