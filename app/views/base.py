"""Base classes for every business list and record view.

They only combine options: visibility through ``base_filters``, CSV/XLSX
export of the current list, the record's history from the audit trail and
the workflow buttons on its page.
"""
from flask import request
from flask_appbuilder import ModelView
from flask_appbuilder.api import ModelRestApi
from flask_babel import lazy_gettext as _l
from wtforms import HiddenField

from ..exports.views import ExportApiMixin, ExportViewMixin
from ..security.visibility import VisibleRowsFilter
from ..services.versions import ensure_current_version


def visible_rows():
    """The base filter every business view starts from."""
    return [["id", VisibleRowsFilter, lambda: None]]


def default_formatters(model):
    """How list and show pages present values: local times, choice labels."""
    import datetime

    from sqlalchemy import DateTime, inspect

    from ..timeutil import format_local

    formatters = {}
    for relationship in inspect(model).relationships:
        if not relationship.uselist:
            formatters[relationship.key] = lambda value: "" if value is None else str(value)
    for column in inspect(model).columns:
        choices = column.info.get("choices")
        if choices is not None:
            formatters[column.key] = lambda value, choices=choices: choices.label(value) if value else ""
        elif isinstance(column.type, DateTime):
            formatters[column.key] = lambda value: format_local(value) if isinstance(
                value, datetime.datetime) else (value or "")
    return formatters


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
        self.formatters_columns = {**default_formatters(self.datamodel.obj),
                                   **(self.formatters_columns or {})}


def domain_error_response(api, error):
    """A DomainError as the API's JSON answer: its status, message and field errors."""
    extra = {"errors": {k: str(v) for k, v in error.errors.items()}} if getattr(
        error, "errors", None) else {}
    return api.response(error.status, message=str(error.message), **extra)


class AppModelApi(ExportApiMixin, ModelRestApi):
    """A business REST resource: visible rows only, exportable.

    A refusal raised by a create or update hook answers with its own status
    (403, 409, 422 ...) instead of a 500, and nothing of the refused body is
    written.
    """

    base_filters = visible_rows()
    allow_browser_login = False
    exclude_route_methods = {"delete"}

    def post_headless(self):
        from ..extensions import db
        from ..services.errors import DomainError

        try:
            return super().post_headless()
        except DomainError as error:
            db.session.rollback()
            return domain_error_response(self, error)

    def put_headless(self, pk):
        from ..extensions import db
        from ..services.errors import DomainError

        try:
            return super().put_headless(pk)
        except DomainError as error:
            db.session.rollback()
            return domain_error_response(self, error)


class VersionedFormMixin:
    """Optimistic locking through the edit form.

    FAB reloads the row on POST, so ``version_id_col`` alone would not notice
    that someone else saved in between: the version the user started from
    travels in a hidden field and is compared in ``pre_update``. The version
    column itself is never an edit column.
    """

    edit_form_extra_fields = {"expected_version": HiddenField()}
    database_error_message = _l(
        "The record could not be saved: someone else may have changed it at the same "
        "moment. Reload it and try again."
    )

    def __init__(self, **kwargs):
        # FAB adds an extra field only when it is listed among the form's columns.
        if self.edit_columns and "expected_version" not in self.edit_columns:
            self.edit_columns = [*self.edit_columns, "expected_version"]
        super().__init__(**kwargs)

    def prefill_form(self, form, pk):
        item = self.datamodel.get(pk, self._base_filters)
        if item is not None:
            form.expected_version.data = item.version

    def pre_update(self, item):
        attempted = {
            str(self.label_columns.get(column, column)): request.form.get(column)
            for column in self.edit_columns
            if column != "expected_version"
        }
        ensure_current_version(item, request.form.get("expected_version"), attempted)
        self.check_update(item)

    def check_update(self, item):
        """Domain validation of an edit; raise a DomainError to refuse it."""
