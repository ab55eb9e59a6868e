"""The audit trail on screen (X-02): a read-only list for auditors, a read-only
REST resource, and the history panel of every record page.
"""
import datetime
import json
from dataclasses import dataclass, field

from flask import current_app
from flask_appbuilder.api import ModelRestApi
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape
from sqlalchemy import DateTime, inspect, select
from sqlalchemy.orm import selectinload

from ..audit.listener import audited_table_name
from ..extensions import db
from ..models.audit import AuditAction, AuditLog
from ..models.org import user_display_name
from ..timeutil import format_local
from .base import AppModelView, RecordSchemaConverter

USER_TABLE = "ab_user"
CHANGE_ACTIONS = ("insert", "update", "delete")


def _parse(changes):
    if not changes:
        return {}
    try:
        data = json.loads(changes)
    except ValueError:
        return {"": changes}
    return data if isinstance(data, dict) else {"": data}


def _plain_text(value):
    if value is None:
        return "—"
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(value, list):
        return ", ".join(_plain_text(item) for item in value) or "—"
    return str(value)


def format_changes(changes):
    """``changes`` JSON as one ``field: old → new`` line per field (details as ``key: value``)."""
    lines = []
    for key, value in sorted(_parse(changes).items()):
        if isinstance(value, list) and len(value) == 2:
            text = _("%(old)s → %(new)s", old=_plain_text(value[0]), new=_plain_text(value[1]))
        else:
            text = _plain_text(value)
        lines.append(escape(f"{key}: {text}" if key else text))
    return Markup("<br>").join(lines)


def format_action(action):
    return AuditAction.label(action)


def format_time(value):
    return format_local(value, with_seconds=True)


AUDIT_LABELS = {
    "id": _l("Entry no."),
    "occurred_at": _l("Time"),
    "actor_id": _l("Actor id"),
    "actor_name": _l("Actor"),
    "acting_for_id": _l("Acting for (id)"),
    "acting_for_name": _l("Acting for"),
    "remote_addr": _l("Remote address"),
    "action": _l("Action"),
    "table_name": _l("Table"),
    "row_id": _l("Record id"),
    "changes": _l("Changes"),
    "prev_hash": _l("Previous hash"),
    "entry_hash": _l("Entry hash"),
}


class AuditLogView(AppModelView):
    """The trail, newest first: list, show and export; it cannot be added to or edited."""

    datamodel = SQLAInterface(AuditLog)
    # No door that writes: the trail is written by the listener only.
    exclude_route_methods = {"add", "edit", "delete", "download", "action", "action_post"}
    # Who took the trail home is itself part of the trail.
    audit_exports = True
    list_title = _l("Audit trail")
    show_title = _l("Audit entry")
    list_columns = ["occurred_at", "actor_name", "acting_for_name", "action", "table_name",
                    "row_id", "remote_addr", "changes"]
    show_columns = ["id", "occurred_at", "actor_name", "actor_id", "acting_for_name",
                    "acting_for_id", "remote_addr", "action", "table_name", "row_id", "changes",
                    "prev_hash", "entry_hash"]
    search_columns = ["occurred_at", "actor_name", "actor_id", "acting_for_name", "action",
                      "table_name", "row_id", "remote_addr"]
    order_columns = ["id", "occurred_at", "actor_name", "action", "table_name"]
    base_order = ("id", "desc")
    page_size = 50
    label_columns = AUDIT_LABELS
    formatters_columns = {
        "changes": format_changes,
        "action": format_action,
        "occurred_at": format_time,
    }


class AuditLogApi(ModelRestApi):
    """``/api/v1/audit_log/``: read-only, newest first."""

    resource_name = "audit_log"
    datamodel = SQLAInterface(AuditLog)
    exclude_route_methods = {"post", "put", "delete"}
    allow_browser_login = False
    model2schemaconverter = RecordSchemaConverter
    list_columns = show_columns = ["id", "occurred_at", "actor_id", "actor_name", "acting_for_id",
                                   "acting_for_name", "remote_addr", "action", "table_name",
                                   "row_id", "changes", "prev_hash", "entry_hash"]
    search_columns = ["occurred_at", "actor_name", "actor_id", "acting_for_name", "action",
                      "table_name", "row_id"]
    order_columns = ["id", "occurred_at"]
    base_order = ("id", "desc")
    label_columns = AUDIT_LABELS


# ---------------------------------------------------------------------------
# The history panel of a record
# ---------------------------------------------------------------------------

@dataclass
class FieldChange:
    label: str
    old: str
    new: str


@dataclass
class HistoryEntry:
    """One audit entry of a record, ready to show."""

    entry: AuditLog
    actor: str
    acting_for: str
    action_label: str
    changes: list = field(default_factory=list)

    @property
    def occurred_at(self):
        return self.entry.occurred_at

    @property
    def action(self):
        return self.entry.action


def _user_names(ids):
    """Display names of the users with ``ids`` (who still exist)."""
    from flask_appbuilder.security.sqla.models import User

    ids = {user_id for user_id in ids if isinstance(user_id, int)}
    if not ids:
        return {}
    users = db.session.scalars(
        select(User).where(User.id.in_(ids)).options(selectinload(User.staff_profile))
    )
    return {user.id: user_display_name(user) for user in users}


class _FieldPresenter:
    """Labels and readable values of one model's fields, as its view shows them."""

    def __init__(self, model, view):
        self.labels = {}
        self.columns = {}
        self.user_columns = set()
        labels = dict(view.label_columns) if view is not None else {}
        shown = set(view.show_columns) if view is not None else None
        # None: every field may be shown (no view to restrict them).
        self.shown = None if shown is None else set()
        if model is None:
            return
        mapper = inspect(model)
        for prop in mapper.column_attrs:
            self.columns[prop.key] = prop.columns[0]
            self._add(prop.key, prop.key, labels, shown)
        for rel in mapper.relationships:
            if rel.secondary is not None:
                self._add(rel.key, rel.key, labels, shown)
                continue
            # A foreign key is shown as its relationship: head_id as "head".
            for column in rel.local_columns:
                prop = mapper.get_property_by_column(column) if column.table is mapper.local_table \
                    else None
                if prop is None or rel.direction.name != "MANYTOONE":
                    continue
                self._add(prop.key, rel.key, labels, shown)
                if rel.mapper.local_table.name == USER_TABLE:
                    self.user_columns.add(prop.key)

    def _add(self, key, shown_as, labels, shown):
        if shown_as in labels or key not in self.labels:
            self.labels[key] = str(labels.get(shown_as, key))
        if shown is not None and shown_as in shown:
            self.shown.add(key)

    def visible(self, key):
        return self.shown is None or key in self.shown

    def value(self, key, value, user_names):
        if value is None:
            return "—"
        if key in self.user_columns and isinstance(value, int):
            return user_names.get(value) or str(value)
        column = self.columns.get(key)
        if column is not None:
            choices = (column.info or {}).get("choices")
            if choices is not None:
                return str(choices.label(value))
            if isinstance(column.type, DateTime) and isinstance(value, str):
                try:
                    return format_local(datetime.datetime.fromisoformat(value), with_seconds=True)
                except ValueError:
                    return value
        return _plain_text(value)


def record_history(model_class_or_table_name, pk, view=None, actions=None):
    """The audit entries of one row, oldest first.

    With ``view`` (the record's ModelView), only the fields that view shows
    are listed, under its labels: the history never reveals a field the
    record page hides. ``actions`` limits the kinds of entries (e.g.
    ``CHANGE_ACTIONS``).
    """
    table_name = audited_table_name(model_class_or_table_name)
    model = None if isinstance(model_class_or_table_name, str) else model_class_or_table_name
    statement = select(AuditLog).where(
        AuditLog.table_name == table_name, AuditLog.row_id == str(pk)
    ).order_by(AuditLog.id)
    if actions:
        statement = statement.where(AuditLog.action.in_(actions))
    entries = list(db.session.scalars(statement))
    presenter = _FieldPresenter(model, view)

    changes_of = {}
    user_ids = set()
    for entry in entries:
        diffs = {key: value for key, value in _parse(entry.changes).items()
                 if isinstance(value, list) and len(value) == 2 and presenter.visible(key)}
        changes_of[entry.id] = diffs
        user_ids |= {entry.actor_id, entry.acting_for_id}
        for key in presenter.user_columns & diffs.keys():
            user_ids.update(diffs[key])
    user_names = _user_names(user_ids)

    history = []
    for entry in entries:
        acting_for = ""
        if entry.acting_for_id is not None or entry.acting_for_name:
            acting_for = user_names.get(entry.acting_for_id) or entry.acting_for_name or ""
        history.append(HistoryEntry(
            entry=entry,
            actor=user_names.get(entry.actor_id) or entry.actor_name or _("System"),
            acting_for=acting_for,
            action_label=str(AuditAction.label(entry.action)),
            changes=[
                FieldChange(presenter.labels.get(key, key),
                            presenter.value(key, old, user_names),
                            presenter.value(key, new, user_names))
                for key, (old, new) in sorted(changes_of[entry.id].items())
            ],
        ))
    return history


def register_audit_views(appbuilder):
    """The trail under the "Audit" menu, its REST resource, and the history panel global."""
    appbuilder.add_view(
        AuditLogView, "Audit trail", label=_l("Audit trail"), icon="fa-history",
        category="Audit", category_label=_l("Audit"), category_icon="fa-shield",
    )
    appbuilder.add_api(AuditLogApi)
    current_app.jinja_env.globals.update(record_history=record_history,
                                         history_change_actions=CHANGE_ACTIONS)
