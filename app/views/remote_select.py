"""Relation fields that search the related table as the user types.

FAB renders a many-to-one or many-to-many field, in the search form as in
the add and edit forms, as a ``<select>`` holding every row of the related
table; with a few hundred staff or thousands of complaints that was most of
a list page's time. A remote field renders only the chosen row(s) and a URL;
the widget (``static/js/remote_select.js``, on FAB's select2) asks that URL
for at most ``REMOTE_SELECT_LIMIT`` matches of what the user typed.

The answers come from :meth:`AppModelView.remote_select` (``base.py``): it
answers only to a user holding the list (search form), add or edit
permission of the view, and offers only rows the form would accept - the
view's ``*_form_query_rel_fields`` restriction and the user's row visibility
- which is also what a submitted id is checked against.
"""
import json
import re

from flask import current_app, request, url_for
from flask_appbuilder.fields import QuerySelectField, QuerySelectMultipleField
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape
from sqlalchemy import String, Text, false, inspect, or_
from wtforms.validators import ValidationError

FORM_KINDS = ("search", "add", "edit")
# The view method whose permission opens each kind of form.
PERMISSION_METHOD = {"search": "list", "add": "add", "edit": "edit"}

# Columns a row is known by (what ``__str__`` shows); searched with "contains".
LABEL_COLUMNS = ("display_name", "name", "number", "code", "title", "subject", "archive_no",
                 "register_no", "file_number", "customer_name", "visitor_name", "username",
                 "last_name", "first_name", "description")

MAX_ID = 2**31 - 1

# Related tables small enough to list in full (a plain select box).
SMALL_MODELS = {"Department"}

NO_CHOICE = _l("Not a valid choice.")
MORE_TEXT = _l("More matches: type more to narrow the list")
SEARCH_TEXT = _l("Type to search")
NO_MATCH_TEXT = _l("No matches")
SEARCHING_TEXT = _l("Searching…")
FAILED_TEXT = _l("The search did not answer; try again.")


def remote_limit():
    return int(current_app.config.get("REMOTE_SELECT_LIMIT") or 20)


def like_pattern(text):
    """``%text%`` with the user's own ``%``, ``_`` and ``\\`` taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _user_search(query, pattern):
    from flask_appbuilder.security.sqla.models import User

    from ..models.org import StaffProfile

    query = query.outerjoin(StaffProfile, StaffProfile.user_id == User.id)
    conditions = [column.ilike(pattern, escape="\\") for column in (
        StaffProfile.display_name, User.username, User.last_name, User.first_name)]
    # "张三" typed in one go: family + given name as FAB stores them.
    conditions.append((User.last_name + User.first_name).ilike(pattern, escape="\\"))
    return query, conditions


def search_conditions(model, query, text):
    """``(query, conditions)`` matching ``text`` against what a row is known by."""
    pattern = like_pattern(text)
    if model.__name__ == "User":
        return _user_search(query, pattern)
    columns = inspect(model).columns
    conditions = [getattr(model, column.key).ilike(pattern, escape="\\")
                  for column in columns
                  if column.key in LABEL_COLUMNS and isinstance(column.type, (String, Text))
                  and not column.info.get("choices")]
    if re.fullmatch(r"[0-9]{1,10}", text) and int(text) <= MAX_ID:
        conditions.append(inspect(model).primary_key[0] == int(text))
    return query, conditions


def order_column(model):
    if model.__name__ == "User":
        from flask_appbuilder.security.sqla.models import User

        return User.username
    for name in ("display_name", "name", "number", "code", "archive_no", "title"):
        if name in inspect(model).columns:
            return getattr(model, name)
    return inspect(model).primary_key[0].desc()


def label_options(model):
    """Load what ``str(row)`` of a user reads, with the row."""
    from sqlalchemy.orm import joinedload

    if model.__name__ == "User":
        return [joinedload(model.staff_profile)]
    return []


def primary_key_values(model, values):
    """The submitted ids that can be ids of ``model`` at all (others match nothing)."""
    column = inspect(model).primary_key[0]
    try:
        python_type = column.type.python_type
    except NotImplementedError:
        python_type = str
    keys = []
    for value in values:
        text = str(value).strip()
        if python_type is int:
            # Larger than PostgreSQL's integer: no row has it, and the database would refuse it.
            if re.fullmatch(r"[0-9]{1,10}", text) and int(text) <= MAX_ID:
                keys.append(int(text))
        elif text:
            keys.append(text)
    return keys


class RemoteChoices:
    """The rows one relation field of one form of a view may take."""

    def __init__(self, view, kind, column):
        self.view, self.kind, self.column = view, kind, column

    @property
    def model(self):
        return self.view.datamodel.get_related_model(self.column)

    def query(self):
        """Rows the form accepts: its declared restriction, then the user's visibility."""
        from ..audit.context import current_actor
        from ..security.visibility import visible_query

        datamodel = self.view.datamodel.get_related_interface(self.column)
        restriction = (getattr(self.view, f"{self.kind}_form_query_rel_fields", None) or {}).get(
            self.column) or []
        filters = datamodel.get_filters().add_filter_list(restriction)
        query = datamodel._apply_inner_all(
            datamodel.session.query(self.model), filters, aliases_mapping={})
        if self.revealed_columns() is not None:
            return query
        return visible_query(query, self.model, current_actor())

    def revealed_columns(self):
        """The columns a field beyond row visibility may be searched by, else None.

        A view lists such fields in ``remote_beyond_visibility`` (``{column:
        (searchable columns,)}``) when its own form restriction says what may be
        chosen, e.g. applying to borrow an archive one may not read yet (CUS-09):
        the field then offers rows the user cannot see, found only by those columns.
        """
        return (getattr(self.view, "remote_beyond_visibility", None) or {}).get(self.column)

    def rows(self, ids):
        keys = primary_key_values(self.model, ids)
        if not keys:
            return []
        primary_key = inspect(self.model).primary_key[0]
        return self.query().options(*label_options(self.model)).filter(
            primary_key.in_(keys)).all()

    def search(self, text, limit):
        """At most ``limit`` matches of ``text``, and whether there were more."""
        query = self.query()
        text = (text or "").strip()[:100]
        revealed = self.revealed_columns()
        if text and revealed is not None:
            conditions = [getattr(self.model, name).ilike(like_pattern(text), escape="\\")
                          for name in revealed]
            query = query.filter(or_(*conditions))
        elif text:
            query, conditions = search_conditions(self.model, query, text)
            query = query.filter(or_(*conditions)) if conditions else query.filter(false())
        rows = query.options(*label_options(self.model)).order_by(
            order_column(self.model)).limit(limit + 1).all()
        return rows[:limit], len(rows) > limit

    def url(self):
        return url_for(f"{self.view.endpoint}.remote_select", kind=self.kind, column=self.column)


def answer_json(rows, more):
    """The search answer; ``<``, ``>`` and ``&`` escaped so no HTML survives any sniffing."""
    body = {"results": [{"id": str(inspect(row).identity[0]), "text": str(row)} for row in rows],
            "more": more}
    text = json.dumps(body, ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _select_html(field, options, kwargs):
    """``<select>`` with only ``options`` (value, label, selected), labels escaped."""
    choices = field.choices_source
    attributes = {
        "id": kwargs.pop("id", field.id),
        "name": field.name,
        "class": " ".join(filter(None, ["remote-select form-control", kwargs.pop("class", "")])),
        "data-remote-url": choices.url(),
        "data-placeholder": str(SEARCH_TEXT),
        "data-more-text": str(MORE_TEXT),
        "data-no-match-text": str(NO_MATCH_TEXT),
        "data-searching-text": str(SEARCHING_TEXT),
        "data-failed-text": str(FAILED_TEXT),
        "data-allow-clear": "true" if getattr(field, "allow_blank", False) else "false",
    }
    if field.multiple:
        attributes["multiple"] = "multiple"
    if field.flags.required:
        attributes["required"] = "required"
    attributes.update({key: value for key, value in kwargs.items() if key != "name_"})
    html = ["<select"]
    for key, value in attributes.items():
        html.append(f' {key}="{escape(value)}"')
    html.append(">")
    if not field.multiple:
        html.append('<option value=""></option>')
    for value, label, selected in options:
        mark = ' selected="selected"' if selected else ""
        html.append(f'<option value="{escape(value)}"{mark}>{escape(label)}</option>')
    html.append("</select>")
    return "".join(html)


class RemoteSelectWidget:
    """Renders a remote field; in a form also loads the script (the list page's search
    template loads it for the filters)."""

    def __call__(self, field, **kwargs):
        if field.kind == "search":
            options = field.search_options()
            return Markup(_select_html(field, options, kwargs))
        options = [(value, label, True) for value, label in field.chosen()]
        script = (f'<script src="{escape(url_for("static", filename="js/remote_select.js"))}" '
                  "defer></script>")
        return Markup(_select_html(field, options, kwargs) + script)


class _RemoteMixin:
    widget = RemoteSelectWidget()
    multiple = False

    def _init_remote(self, choices, kind):
        self.choices_source = choices
        self.kind = kind
        self._invalid = False

    def _resolve(self, ids):
        """The rows of the submitted ``ids``: the record's current ones kept as they are.

        A value the record already holds stays acceptable even when the user could not
        choose it today (a row outside their visibility), so saving a form unchanged
        never fails on a field the user did not touch.
        """
        data = self.object_data
        current = data if isinstance(data, (list, tuple)) else ([] if data is None else [data])
        current = {str(inspect(row).identity[0]): row for row in current}
        kept = [current[str(value)] for value in ids if str(value) in current]
        others = [value for value in ids if str(value) not in current]
        return kept + (self.choices_source.rows(others) if others else [])

    def chosen(self):
        """``[(id, label)]`` of the current value."""
        data = self.data
        rows = data if isinstance(data, (list, tuple)) else ([] if data is None else [data])
        return [(str(inspect(row).identity[0]), str(row)) for row in rows]

    def search_options(self):
        """Options for the values of this column's filters in the request (reload keeps them)."""
        pattern = re.compile(rf"_flt_\d+_{re.escape(self.name)}$")
        values = [value for key in request.args if pattern.match(key)
                  for value in request.args.getlist(key) if value]
        if not values:
            return []
        labels = {str(inspect(row).identity[0]): str(row)
                  for row in self.choices_source.rows(values)}
        # An id the user cannot see (or none at all) keeps its filter, shown as the bare id.
        return [(value, labels.get(value, f"#{value}"), False)
                for value in dict.fromkeys(values)]


class RemoteSelectField(_RemoteMixin, QuerySelectField):
    """A many-to-one field that loads only the submitted or current row."""

    def __init__(self, label=None, validators=None, choices=None, kind="add", **kwargs):
        super().__init__(label, validators, query_func=lambda: [],
                         get_pk_func=lambda row: inspect(row).identity[0], **kwargs)
        self._init_remote(choices, kind)

    def _get_data(self):
        if self._formdata is not None:
            rows = self._resolve([self._formdata])
            self._invalid = not rows
            self._set_data(rows[0] if rows else None)
        return self._data

    data = property(_get_data, QuerySelectField._set_data)

    def process_formdata(self, valuelist):
        if valuelist and valuelist[0] in ("", "__None"):
            self.data = None
        else:
            super().process_formdata(valuelist)

    def iter_choices(self):
        if self.allow_blank:
            yield ("__None", self.blank_text, self.data is None, {})
        for value, label in self.chosen():
            yield (value, label, True, {})

    def pre_validate(self, form):
        if self.data is None and not self.allow_blank or self._invalid:
            raise ValidationError(str(NO_CHOICE))


class RemoteSelectMultipleField(_RemoteMixin, QuerySelectMultipleField):
    """A many-to-many (or one-to-many) field that loads only the submitted or current rows."""

    multiple = True

    def __init__(self, label=None, validators=None, choices=None, kind="add", **kwargs):
        kwargs.setdefault("default", [])
        super().__init__(label, validators, query_func=lambda: [],
                         get_pk_func=lambda row: inspect(row).identity[0], **kwargs)
        self._init_remote(choices, kind)

    def _get_data(self):
        if self._formdata is not None:
            wanted = [value for value in dict.fromkeys(self._formdata) if value]
            rows = self._resolve(wanted)
            self._invalid = len(rows) != len(wanted)
            self._set_data(rows)
        return self._data

    data = property(_get_data, QuerySelectMultipleField._set_data)

    def iter_choices(self):
        for value, label in self.chosen():
            yield (value, label, True, {})

    def pre_validate(self, form):
        self.data  # noqa: B018 - resolves the submitted ids
        if self._invalid:
            raise ValidationError(str(NO_CHOICE))


def is_remote_candidate(view, column):
    """Whether a relation field of ``view`` searches remotely instead of listing every row."""
    datamodel = view.datamodel
    if column in (getattr(view, "local_select_columns", None) or ()):
        return False
    if column not in datamodel.list_properties or not datamodel.is_relation(column):
        return False
    return datamodel.get_related_model(column).__name__ not in SMALL_MODELS


def make_remote(view, form_class, kind):
    """Replace the FAB relation fields of ``form_class`` by remote ones (in place).

    Returns ``{(kind, column): RemoteChoices}`` of the replaced fields.
    """
    replaced = {}
    if form_class is None:
        return replaced
    # A field a view declares itself keeps its own query.
    declared = getattr(view, f"{kind}_form_extra_fields", None) or {}
    for name in list(form_class.__dict__):
        if name in declared:
            continue
        unbound = form_class.__dict__[name]
        field_class = getattr(unbound, "field_class", None)
        if field_class not in (QuerySelectField, QuerySelectMultipleField):
            continue
        if not is_remote_candidate(view, name):
            continue
        arguments = dict(unbound.kwargs)
        for unused in ("query_func", "get_pk_func", "widget", "get_label"):
            arguments.pop(unused, None)
        label = unbound.args[0] if unbound.args else arguments.pop("label", None)
        remote_class = (RemoteSelectMultipleField if field_class is QuerySelectMultipleField
                        else RemoteSelectField)
        choices = replaced[(kind, name)] = RemoteChoices(view, kind, name)
        setattr(form_class, name, remote_class(
            label, choices=choices, kind=kind,
            **{key: value for key, value in arguments.items() if key != "label"}))
    return replaced
