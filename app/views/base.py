"""Base classes for every business list and record view.

They only combine options: visibility through ``base_filters``, CSV/XLSX
export of the current list, the record's history from the audit trail and
the workflow buttons on its page.

Lists stay fast on large tables: the record count stops at
``LIST_COUNT_CAP`` ("10,000+", exact on demand), the page size is capped at
``PAGE_SIZE_MAX``, and the many-to-one relations a list shows are loaded with
the page instead of one query per row.
"""
from flask import abort, current_app, request
from flask_appbuilder import ModelView
from flask_appbuilder.api import ModelRestApi
from flask_appbuilder.models.filters import Filters
from flask_appbuilder.models.sqla.filters import (
    FilterEqual,
    FilterIn,
    FilterNotEqual,
    get_field_setup_query,
)
from flask_babel import gettext as _
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


def capped_page_size(page_size, default=25):
    """A page size between 1 and ``PAGE_SIZE_MAX``; FAB itself accepts any ``psize_``."""
    maximum = current_app.config.get("PAGE_SIZE_MAX") or 100
    try:
        page_size = int(page_size or default)
    except (TypeError, ValueError):
        page_size = default
    if page_size < 1:
        page_size = default
    return min(page_size, maximum)


def list_eager_options(model, column_names):
    """Join the many-to-one relations a list shows, and a shown user's staff profile.

    Without it each row costs one query per relation column, and one more per
    user for the profile name ``User.__str__`` shows.
    """
    from sqlalchemy import inspect as sa_inspect
    from sqlalchemy.orm import joinedload

    options = []
    for name in column_names:
        current, option = model, None
        for part in name.split("."):
            prop = sa_inspect(current).relationships.get(part)
            if prop is None or prop.uselist:
                break
            attribute = getattr(current, part)
            option = joinedload(attribute) if option is None else option.joinedload(attribute)
            current = prop.mapper.class_
        if option is None:
            continue
        profile = sa_inspect(current).relationships.get("staff_profile")
        if profile is not None and not profile.uselist:
            option = option.joinedload(getattr(current, "staff_profile"))
        options.append(option)
    return options


def exact_count_arg(view_name):
    """The query argument asking a list for its exact record count."""
    return f"exact_count_{view_name}"


TRUE_WORDS = ("y", "yes", "1", "true", "on")
FALSE_WORDS = ("n", "no", "0", "false", "off")


def yes_no_filter_value(value):
    """A check-box filter's value as True/False; anything else is refused (400).

    FAB turns only ``y`` into True and compares any other text with the
    boolean column as text, which PostgreSQL rejects (a server error).
    """
    text = str(value if value is not None else "").strip().lower()
    if text in TRUE_WORDS:
        return True
    if text in FALSE_WORDS:
        return False
    abort(400, description=_("A yes/no filter takes y or n, not \"%(value)s\".",
                             value=str(value)[:50]))


class YesNoEqual(FilterEqual):
    # Own arg names: FAB maps each arg name to the last filter class built with it,
    # and the REST API's "eq"/"neq" must stay FAB's.
    arg_name = "eq_yes_no"

    def apply(self, query, value):
        query, field = get_field_setup_query(query, self.model, self.column_name)
        return query.filter(field == yes_no_filter_value(value))


class YesNoNotEqual(FilterNotEqual):
    arg_name = "neq_yes_no"

    def apply(self, query, value):
        query, field = get_field_setup_query(query, self.model, self.column_name)
        return query.filter(field != yes_no_filter_value(value))


def choice_filter_converter(base):
    """A filter converter offering "equal to" first on columns with declared choices.

    FAB's default for text is "starts with" (``ILIKE 'x%'``), which no index
    serves on PostgreSQL; a choice column holds exact codes, so equality (an
    index lookup) is the useful filter, and ``_flt_0_<column>=<code>`` keeps
    working as before. Check boxes get FAB's two filters (same places, same
    names) reading the value as yes/no.
    """

    class ChoiceFilterConverter(base):
        def convert(self, col_name):
            column = self.datamodel.list_columns.get(col_name)
            if column is not None and getattr(column, "info", {}).get("choices") is not None:
                return [flt(col_name, self.datamodel)
                        for flt in (FilterEqual, FilterNotEqual, FilterIn)]
            if self.datamodel.is_boolean(col_name):
                return [flt(col_name, self.datamodel) for flt in (YesNoEqual, YesNoNotEqual)]
            return super().convert(col_name)

    return ChoiceFilterConverter


class SearchFormFilters(Filters):
    """The list's filters, read from ``_flt_<index>_<column>`` as the search form offers them.

    The form numbers a column's filters by their place in ``_search_filters``
    (FAB's own filters for the column, then the view's custom ones), but FAB
    looks the index up in ``_all_filters``, which has no custom filters: the
    form's "Overdue" was an IndexError. Here the index means what the form
    shows; a column outside the search (a related view's ``_flt_0_<fk>``)
    keeps FAB's list, and an index no list has is ignored.
    """

    def add_filter_index(self, column_name, filter_instance_index, value):
        offered = (self._search_filters.get(column_name)
                   or self._all_filters.get(column_name) or [])
        if 0 <= filter_instance_index < len(offered):
            self._add_filter(offered[filter_instance_index], value)


class CappedCountMixin:
    """A list page without an exact COUNT(*) over the whole table.

    The count reads at most ``LIST_COUNT_CAP`` + 1 rows (of the filtered,
    visible query); above the cap the list says "10,000+" and offers the
    exact figure on demand (``?exact_count_<View>=1``, kept while paging).
    The page itself is read with one extra row, so "next" works beyond the
    cap without knowing the total; "last" needs the exact count.
    """

    def list_count(self, joined_filters):
        """``(count, capped)`` for the filtered list; ``count`` is the cap when capped."""
        from sqlalchemy import func
        from sqlalchemy import inspect as sa_inspect

        datamodel = self.datamodel
        query = datamodel._apply_inner_all(
            datamodel.session.query(datamodel.obj), joined_filters, aliases_mapping={})
        cap = current_app.config.get("LIST_COUNT_CAP")
        exact = request.args.get(exact_count_arg(self.__class__.__name__)) in ("1", "true", "yes")
        if not cap or exact:
            return query.count(), False
        primary_key = sa_inspect(datamodel.obj).primary_key[0]
        limited = query.with_entities(primary_key).order_by(None).limit(cap + 1).subquery()
        count = datamodel.session.query(func.count()).select_from(limited).scalar()
        return (cap, True) if count > cap else (count, False)

    def list_page(self, joined_filters, order_column, order_direction, page, page_size):
        """The page's records, and whether a next page exists."""
        datamodel = self.datamodel
        query = datamodel.apply_all(
            datamodel.session.query(datamodel.obj), joined_filters, order_column,
            order_direction)
        query = query.options(*list_eager_options(datamodel.obj, self.list_columns))
        rows = query.offset(page * page_size).limit(page_size + 1).all()
        return rows[:page_size], len(rows) > page_size

    def exact_count_url(self):
        """This list, as it is, with its exact record count."""
        from flask import url_for

        args = {**(request.view_args or {}), **request.args.to_dict()}
        args[exact_count_arg(self.__class__.__name__)] = 1
        return url_for(request.endpoint, **args)

    def _get_list_widget(self, filters, actions=None, order_column="", order_direction="",
                         page=None, page_size=None, widgets=None, **kwargs):
        widgets = widgets or {}
        actions = actions or self.actions
        page_size = capped_page_size(page_size, self.page_size)
        page = max(int(page or 0), 0)
        if not order_column and self.base_order:
            order_column, order_direction = self.base_order
        joined_filters = filters.get_joined_filters(self._base_filters)
        count, capped = self.list_count(joined_filters)
        records, has_next = self.list_page(
            joined_filters, order_column, order_direction, page, page_size)
        if not capped and page * page_size >= count > 0:
            has_next = False
        pks = [self._serialize_pk_if_composite(pk) for pk in self.datamodel.get_keys(records)]
        widgets["list"] = self.list_widget(
            label_columns=self.label_columns,
            include_columns=self.list_columns,
            value_columns=self.datamodel.get_values(records, self.list_columns),
            order_columns=self.order_columns,
            formatters_columns=self.formatters_columns,
            page=page,
            page_size=page_size,
            count=count,
            count_capped=capped,
            has_next=has_next,
            page_rows=len(records),
            exact_count_url=self.exact_count_url() if capped else None,
            pks=pks,
            actions=actions,
            filters=filters,
            modelview_name=self.__class__.__name__,
            **kwargs,
        )
        return widgets


class AppModelView(CappedCountMixin, ExportViewMixin, ModelView):
    """A business ModelView: visible rows only, exportable, with a history panel."""

    base_filters = visible_rows()
    list_template = "record/list.html"
    show_template = "record/show.html"
    page_size = 25
    # Business rows are never hard-deleted: no delete door at all.
    exclude_route_methods = {"delete"}

    @property
    def _filters(self):
        return self.__dict__.get("_search_form_filters")

    @_filters.setter
    def _filters(self, filters):
        # Every assignment, FAB's or a view's own with custom ``search_filters``.
        if isinstance(filters, Filters) and not isinstance(filters, SearchFormFilters):
            filters.__class__ = SearchFormFilters
        self.__dict__["_search_form_filters"] = filters

    def __init__(self, **kwargs):
        converter = self.datamodel.filter_converter_class
        if not getattr(converter, "choice_aware", False):
            self.datamodel.filter_converter_class = choice_filter_converter(converter)
            self.datamodel.filter_converter_class.choice_aware = True
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
