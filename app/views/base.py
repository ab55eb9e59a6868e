"""Base classes for every business list and record view.

They only combine options: visibility through ``base_filters``, CSV/XLSX
export of the current list, the record's history from the audit trail and
the workflow buttons on its page.

Lists stay fast on large tables: the record count stops at
``LIST_COUNT_CAP`` ("10,000+", exact on demand), the page size is capped at
``PAGE_SIZE_MAX``, and the many-to-one relations a list shows are loaded with
the page instead of one query per row.
"""
import datetime

from flask import abort, current_app, request
from flask_appbuilder import ModelView, expose
from flask_appbuilder.api import ModelRestApi
from flask_appbuilder.api.convert import Model2SchemaConverter
from flask_appbuilder.models.filters import Filters
from flask_appbuilder.models.sqla.filters import (
    FilterEqual,
    FilterIn,
    FilterNotEqual,
    FilterRelationManyToManyEqual,
    FilterRelationOneToManyEqual,
    FilterRelationOneToManyNotEqual,
    get_field_setup_query,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from marshmallow import ValidationError, fields
from marshmallow_sqlalchemy.fields import Related, RelatedList
from sqlalchemy.exc import NoResultFound
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


# PostgreSQL ``integer``, the type of almost every key: no record has a larger id
# (the few BIGINT keys would need two billion rows to pass it).
MAX_RECORD_ID = 2**31 - 1


def screen_url_arguments():
    """Before each request: answer or clean what FAB would turn into a 500.

    - A record id in the URL that no record can have (``/show/abc``,
      ``/api/v1/complaint/99999999999``) answers 404: FAB and our routes hand
      it to the database, which fails on it (out of range on PostgreSQL,
      overflow on SQLite).
    - FAB reads every query argument whose name contains ``page_`` or
      ``psize_`` with a bare ``int()`` and pages with it unchecked
      (``?psize_X=abc``, ``?page_X=-1``); such arguments are dropped, so the
      list shows its first page.
    """
    import re

    from werkzeug.datastructures import ImmutableMultiDict

    for name, value in (request.view_args or {}).items():
        if (name == "pk" or isinstance(value, int)) and not (
                re.fullmatch(r"[0-9]{1,10}", str(value)) and int(value) <= MAX_RECORD_ID):
            if request.path.startswith("/api/"):
                return _json_refusal(404, _("Record not found."))
            abort(404)
    args = request.args
    malformed = {key for key, value in args.items(multi=True)
                 if re.search(r"(page|psize)_", key) and not re.fullmatch(r"[0-9]{1,6}", value)}
    if malformed:
        request.args = ImmutableMultiDict(
            [(key, value) for key, value in args.items(multi=True) if key not in malformed])


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


def related_row(flt, value):
    """The related row an id filter names, or None; an id no row can have is not looked up.

    FAB hands the text to the database, which refuses ``abc`` on PostgreSQL (the list
    then redirected), and reads a missing row as "empty".
    """
    from .remote_select import primary_key_values

    model = flt.datamodel.get_related_model(flt.column_name)
    keys = primary_key_values(model, [value])
    return flt.datamodel.session.get(model, keys[0]) if keys else None


class RelationEqual(FilterRelationOneToManyEqual):
    """"Relation" by id; an unknown or malformed id matches nothing (FAB: the empty ones)."""

    def apply(self, query, value):
        from sqlalchemy import false

        query, field = get_field_setup_query(query, self.model, self.column_name)
        row = related_row(self, value)
        return query.filter(false()) if row is None else query.filter(field == row)


class RelationNotEqual(FilterRelationOneToManyNotEqual):
    """"No relation" by id; nothing is related to a row that does not exist."""

    def apply(self, query, value):
        query, field = get_field_setup_query(query, self.model, self.column_name)
        row = related_row(self, value)
        return query if row is None else query.filter(field != row)


class RelationManyEqual(FilterRelationManyToManyEqual):
    """"Relation as many" by id(s); an unknown or malformed id matches nothing."""

    def apply(self, query, value):
        from sqlalchemy import false

        query, field = get_field_setup_query(query, self.model, self.column_name)
        for item in value if isinstance(value, list) else [value]:
            row = related_row(self, item)
            if row is None:
                return query.filter(false())
            query = query.filter(field.contains(row))
        return query


def choice_filter_converter(base):
    """A filter converter offering "equal to" first on columns with declared choices.

    FAB's default for text is "starts with" (``ILIKE 'x%'``), which no index
    serves on PostgreSQL; a choice column holds exact codes, so equality (an
    index lookup) is the useful filter, and ``_flt_0_<column>=<code>`` keeps
    working as before. Relation filters by id match nothing for an id no row
    has (FAB: the rows without a relation; on PostgreSQL ``abc`` failed the
    list). Check boxes get FAB's two filters (same places, same
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
            if self.datamodel.is_relation(col_name):
                if (self.datamodel.is_relation_many_to_one(col_name)
                        or self.datamodel.is_relation_one_to_one(col_name)):
                    return [flt(col_name, self.datamodel)
                            for flt in (RelationEqual, RelationNotEqual)]
                return [RelationManyEqual(col_name, self.datamodel)]
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


def capped_count(datamodel, joined_filters, exact=False, select_columns=None):
    """``(count, capped)`` of the filtered query; at most ``LIST_COUNT_CAP`` rows are counted.

    ``count`` is the cap when ``capped``. ``exact`` (or a cap of 0) counts everything.
    """
    from sqlalchemy import func
    from sqlalchemy import inspect as sa_inspect

    query = datamodel._apply_inner_all(
        datamodel.session.query(datamodel.obj), joined_filters,
        select_columns=select_columns, aliases_mapping={})
    cap = current_app.config.get("LIST_COUNT_CAP")
    if not cap or exact:
        return query.count(), False
    primary_key = sa_inspect(datamodel.obj).primary_key[0]
    limited = query.with_entities(primary_key).order_by(None).limit(cap + 1).subquery()
    count = datamodel.session.query(func.count()).select_from(limited).scalar()
    return (cap, True) if count > cap else (count, False)


def asks_exact(value):
    return str(value or "").strip().lower() in ("1", "true", "yes", "y")


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
        exact = request.args.get(exact_count_arg(self.__class__.__name__)) in ("1", "true", "yes")
        return capped_count(self.datamodel, joined_filters, exact)

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

    # Relation fields kept as a full select box although their table is not a small one.
    local_select_columns = ()

    def _init_forms(self):
        from .remote_select import make_remote

        # Only the forms FAB builds here: a form class a view declares may be shared.
        generated = {kind: getattr(type(self), f"{kind}_form", None) is None
                     for kind in ("search", "add", "edit")}
        super()._init_forms()
        self._remote_choices = {}
        for kind in ("search", "add", "edit"):
            if generated[kind]:
                self._remote_choices.update(make_remote(self, getattr(self, f"{kind}_form"), kind))

    @expose("/remote/<kind>/<column>")
    def remote_select(self, kind, column):
        """Matches of ``?q=`` for one relation field of one form (the remote select widget).

        Answers only to a user who may open that form, with rows the form would accept.
        """
        from .remote_select import PERMISSION_METHOD, answer_json, remote_limit

        choices = self._remote_choices.get((kind, column))
        if choices is None:
            return _json_refusal(404, _("No such field."))
        method = PERMISSION_METHOD[kind]
        permission = f"can_{(self.method_permission_name or {}).get(method) or method}"
        sm = self.appbuilder.sm
        if not getattr(sm.current_user, "is_authenticated", False):
            return _json_refusal(401, _("Please log in to continue."))
        if permission not in self.base_permissions or not sm.has_access(
                permission, self.class_permission_name):
            return _json_refusal(403, _("Access is Denied"))
        rows, more = choices.search(request.args.get("q", ""), remote_limit())
        return current_app.response_class(
            answer_json(rows, more), mimetype="application/json",
            headers={"Cache-Control": "no-store"})

    def __init__(self, **kwargs):
        converter = self.datamodel.filter_converter_class
        if not getattr(converter, "choice_aware", False):
            self.datamodel.filter_converter_class = choice_filter_converter(converter)
            self.datamodel.filter_converter_class.choice_aware = True
        super().__init__(**kwargs)
        self.extra_args = {**(self.extra_args or {}), "record_view": self}
        self.formatters_columns = {**default_formatters(self.datamodel.obj),
                                   **(self.formatters_columns or {})}


def _json_refusal(status, message):
    import json

    return current_app.response_class(json.dumps({"message": str(message)}, ensure_ascii=False),
                                      status=status, mimetype="application/json")


def domain_error_response(api, error):
    """A DomainError as the API's JSON answer: its status, message and field errors."""
    extra = {"errors": {k: str(v) for k, v in error.errors.items()}} if getattr(
        error, "errors", None) else {}
    return api.response(error.status, message=str(error.message), **extra)


class UtcDateTime(fields.DateTime):
    """A stored time (naive UTC) written with its offset, as RFC 3339 wants."""

    def _serialize(self, value, attr, obj, **kwargs):
        if isinstance(value, datetime.datetime) and value.tzinfo is None:
            value = value.replace(tzinfo=datetime.timezone.utc)
        return super()._serialize(value, attr, obj, **kwargs)


class ExistingRelated(Related):
    """A related record named by its key; one that does not exist is a field error.

    marshmallow-sqlalchemy would build a new row from any value it cannot
    find (or fail on unknown keys with a 500).
    """

    def _deserialize(self, value, *args, **kwargs):
        if not isinstance(value, dict) and len(self.related_keys) == 1:
            value = {self.related_keys[0].key: value}
        keys = {prop.key: prop for prop in self.related_keys}
        if not isinstance(value, dict) or set(value) != set(keys) or not all(
                _is_key_value(keys[name], key_value) for name, key_value in value.items()):
            raise ValidationError(_("Record not found."))
        try:
            return self._get_existing_instance(self.related_model, value)
        except NoResultFound:
            raise ValidationError(_("Record not found.")) from None


def _is_key_value(prop, value):
    """Whether ``value`` can be looked up in key column ``prop`` without a driver error."""
    if prop.columns[0].type.python_type is int:
        return isinstance(value, int) and not isinstance(value, bool) and abs(value) < 2**63
    return isinstance(value, str)


class RecordSchemaConverter(Model2SchemaConverter):
    """FAB's model-to-schema converter, true to what the API reads and writes.

    An optional relation shown nested may be null; times carry their UTC
    offset; a related record given in a body must exist.
    """

    def _column2relation(self, datamodel, column, nested=False, parent_schema_name=None):
        field = super()._column2relation(datamodel, column, nested=nested,
                                         parent_schema_name=parent_schema_name)
        if isinstance(field, fields.Nested) and not field.many and not field.required:
            field.allow_none = True
        # Class swaps: the subclasses add behaviour only, no state of their own.
        if type(field) is Related:
            field.__class__ = ExistingRelated
        elif isinstance(field, RelatedList) and type(field.inner) is Related:
            field.inner.__class__ = ExistingRelated
        return field

    def _column2field(self, datamodel, column, nested=True, parent_schema_name=None):
        field = super()._column2field(datamodel, column, nested=nested,
                                      parent_schema_name=parent_schema_name)
        if type(field) is fields.DateTime:
            field.__class__ = UtcDateTime
        return field


class AppModelApi(ExportApiMixin, ModelRestApi):
    """A business REST resource: visible rows only, exportable.

    A refusal raised by a create or update hook answers with its own status
    (403, 409, 422 ...) instead of a 500, and nothing of the refused body is
    written.
    """

    base_filters = visible_rows()
    allow_browser_login = False
    exclude_route_methods = {"delete"}
    model2schemaconverter = RecordSchemaConverter

    def _sanitize_page_args(self, page, page_size):
        page, page_size = super()._sanitize_page_args(page, page_size)
        if page is not None:
            # FAB takes any page: a negative one fails on PostgreSQL, a huge one overflows.
            page = min(max(page, 0), MAX_RECORD_ID)
        return page, page_size

    def _get_field_info(self, field, filter_rel_field, page=None, page_size=None):
        info = super()._get_field_info(field, filter_rel_field, page=page, page_size=page_size)
        if not self.description_columns.get(field.name):
            # FAB translates "" here, and gettext("") is the catalogue's header.
            info["description"] = ""
        return info

    def get_list_headless(self, **kwargs):
        """FAB's list answer with the capped record count of the HTML lists.

        ``count`` stops at ``LIST_COUNT_CAP`` and ``count_capped`` says so;
        ``?exact_count=1`` counts every row.
        """
        from flask_appbuilder.api import API_RESULT_RES_KEY, API_SELECT_COLUMNS_RIS_KEY
        from flask_appbuilder.exceptions import (
            FABException, InvalidColumnArgsFABException, InvalidOrderByColumnFABException,
        )

        response = {}
        args = kwargs.get("rison", {})
        try:
            select_columns, pruned_select_cols = self._handle_columns_args(
                args, self.list_select_columns, self.list_columns)
        except InvalidColumnArgsFABException as error:
            return self.response_400(message=str(error))
        self.set_response_key_mappings(
            response, self.get_list, args, **{API_SELECT_COLUMNS_RIS_KEY: pruned_select_cols})
        if pruned_select_cols:
            list_model_schema = self.model2schemaconverter.convert(pruned_select_cols)
        else:
            list_model_schema = self.list_model_schema
        try:
            joined_filters = self._handle_filters_args(args)
        except FABException as error:
            return self.response_400(message=str(error))
        try:
            order_column, order_direction = self._handle_order_args(args)
        except InvalidOrderByColumnFABException as error:
            return self.response_400(message=str(error))
        page_index, page_size = self._handle_page_args(args)
        datamodel = self.datamodel
        count, capped = capped_count(datamodel, joined_filters,
                                     asks_exact(request.args.get("exact_count")), select_columns)
        query = datamodel.apply_all(
            datamodel.session.query(datamodel.obj), joined_filters, order_column,
            order_direction, page_index, page_size, select_columns,
            self.list_outer_default_load)
        rows = query.all()
        # As FAB: a select-columns query yields rows carrying the object under the model's name.
        name = datamodel.obj.__name__
        if all(hasattr(row, name) for row in rows):
            rows = [getattr(row, name) for row in rows]
        response[API_RESULT_RES_KEY] = list_model_schema.dump(rows, many=True)
        response["ids"] = datamodel.get_keys(rows)
        response["count"] = count
        response["count_capped"] = capped
        self.pre_get_list(response)
        return self.response(200, **response)

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

    def response_500(self, message=None):
        # FAB's @safe turns a database outage into "Fatal error": say what happened (503).
        from ..db_errors import api_outage_response

        return api_outage_response() or super().response_500(message)


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
