"""Session listeners: the audit trail of every row change (X-02) and the
no-hard-delete guard (X-03).

``before_flush`` refuses deleting business rows, stamps ``created_by_id`` /
``updated_by_id`` and fetches old values the session does not hold;
``after_flush`` (primary keys known, ``session.new/dirty/deleted`` and the
attribute history still as before the flush) turns every inserted, changed
and deleted row into one audit entry and appends them, hash-chained, with a
Core insert on the flush's own connection: the entries commit or roll back
with the change they describe.

Which tables are audited
    Every table mapped on ``flask_appbuilder.Model.metadata``, FAB's
    security tables included, except:

    * ``audit_log`` itself;
    * FAB's permission catalogue ``ab_permission``, ``ab_view_menu`` and
      ``ab_permission_view``: rebuilt from the code at every start, they list
      what *can* be granted. Who holds what is audited: role changes of a
      user (``ab_user.roles``, ``ab_user.groups``) and permission changes of
      a role (``ab_role.permissions``), as collection changes;
    * the login bookkeeping ``user_session`` and ``login_lockout``: the
      login, logout, login_failed, account_locked and account_unlocked
      events already record each of their changes once.

Which columns
    All, except secrets (a column whose name contains one of
    :data:`SECRET_MARKERS`, e.g. ``ab_user.password``) and the login
    statistics of ``ab_user`` (``last_login``, ``login_count``,
    ``fail_login_count``), which the login and login_failed events record.

Shape of ``changes``
    Canonical JSON ``{"field": [old, new]}``: for an insert the non-null new
    values (old is null) except the primary key, which is the entry's
    ``row_id``; for a delete the non-null old values (new is null). For a many-to-many collection, old lists the items removed and
    new the items added.
"""
import datetime
import decimal
import enum
import hashlib
import json
import uuid
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from flask_appbuilder import Model
from flask_babel import lazy_gettext as _l
from sqlalchemy import event, inspect, select
from sqlalchemy.orm import Session, configure_mappers
from sqlalchemy.orm.attributes import instance_state
from sqlalchemy.orm.base import NO_VALUE, PASSIVE_NO_INITIALIZE

from ..models.base import RecordMixin, utcnow
from ..services.errors import DomainError
from .chain import append_entries, format_timestamp
from .context import current_acting_for, current_actor, current_remote_addr

SECRET_MARKERS = (
    "password", "secret", "token", "api_key",
    # FAB's stored API-key hashes and registration links are credentials too.
    "key_hash", "lookup_hash", "registration_hash",
)
UNAUDITED_TABLES = frozenset({"audit_log", "ab_permission", "ab_view_menu", "ab_permission_view",
                              "user_session", "login_lockout"})
UNAUDITED_COLUMNS = {"ab_user": frozenset({"last_login", "login_count", "fail_login_count"})}

# session.info keys: the chain's tail known in the open transaction (valid while
# this transaction holds the chain lock), and whether the transaction has written.
_TAIL = "audit_chain_tail"
_WROTE = "audit_wrote"
_OLD_VALUES = "audit_old_values"

_destruction_allowed = ContextVar("audit_destruction_allowed", default=False)


class HardDeleteRefused(DomainError):
    """A business row was to be deleted outside the destruction path (X-03)."""

    status = 403
    default_message = _l("Business records are never deleted; change their status instead.")


@contextmanager
def allow_destruction():
    """Permit hard deletes of business rows inside the block (CUS-10 destruction only).

    The deletes are still audited with their old values.
    """
    token = _destruction_allowed.set(True)
    try:
        yield
    finally:
        _destruction_allowed.reset(token)


# ---------------------------------------------------------------------------
# Installation
# ---------------------------------------------------------------------------

_LISTENERS = []


def install_audit_listeners():
    """Install the listeners once per process (idempotent).

    They sit on ``sqlalchemy.orm.Session`` itself, so every session of every
    app in the process is audited, whatever created it.
    """
    if _LISTENERS:
        return
    _LISTENERS.extend([
        (Session, "before_flush", _before_flush, {}),
        (Session, "after_flush", _after_flush, {}),
        (Session, "after_transaction_end", _after_transaction_end, {}),
        (Session, "do_orm_execute", _note_bulk_write, {}),
        # Catches deletes decided inside the flush (delete-orphan cascades).
        (RecordMixin, "before_delete", _refuse_cascaded_delete, {"propagate": True}),
    ])
    for target, name, function, options in _LISTENERS:
        event.listen(target, name, function, **options)


def uninstall_audit_listeners():
    """Remove the listeners (for benchmarks measuring their cost)."""
    for target, name, function, _options in _LISTENERS:
        event.remove(target, name, function)
    _LISTENERS.clear()


# ---------------------------------------------------------------------------
# What to audit, per mapped class
# ---------------------------------------------------------------------------

@dataclass(frozen=True)
class _Spec:
    table_name: str
    columns: tuple  # attribute keys of the recorded columns
    pk_keys: tuple
    collections: tuple  # keys of the many-to-many relationships recorded here


_SPECS = {}


def is_secret(name):
    name = name.lower()
    return any(marker in name for marker in SECRET_MARKERS)


def _build_specs():
    configure_mappers()
    mappers = [m for m in Model.registry.mappers if m.local_table is not None]
    audited_tables = {
        m.local_table.name for m in mappers
        if m.local_table.metadata is Model.metadata and m.local_table.name not in UNAUDITED_TABLES
    }
    # Record each many-to-many link once: on the side of the association
    # table's first foreign key whose table is audited (ab_user for ab_user_role).
    owners = {}
    for mapper in mappers:
        for rel in mapper.relationships:
            if rel.secondary is None or rel.viewonly:
                continue
            columns = list(rel.secondary.columns)
            referred = [fk.column.table.name for fk in sorted(
                rel.secondary.foreign_keys, key=lambda fk: columns.index(fk.parent))]
            owner_table = next((name for name in referred if name in audited_tables), None)
            if mapper.local_table.name == owner_table:
                owners.setdefault(rel.secondary.name, (mapper, rel.key))
    specs = {}
    for mapper in mappers:
        table = mapper.local_table.name
        if table not in audited_tables:
            specs[mapper] = None
            continue
        skipped = UNAUDITED_COLUMNS.get(table, frozenset())
        columns = tuple(
            prop.key for prop in mapper.column_attrs
            if not is_secret(prop.key) and not any(is_secret(c.name) for c in prop.columns)
            and prop.key not in skipped
        )
        pk_keys = tuple(mapper.get_property_by_column(c).key for c in mapper.primary_key)
        collections = tuple(key for owner, key in owners.values() if owner is mapper)
        specs[mapper] = _Spec(table, columns, pk_keys, collections)
    return specs


def _spec_for(state):
    mapper = state.mapper
    try:
        return _SPECS[mapper]
    except KeyError:
        _SPECS.update(_build_specs())
        return _SPECS.setdefault(mapper, None)


def audited_table_name(model_or_table):
    """The table name audit entries use for a mapped class (or a table name as is)."""
    if isinstance(model_or_table, str):
        return model_or_table
    return inspect(model_or_table).local_table.name


# ---------------------------------------------------------------------------
# Values
# ---------------------------------------------------------------------------

def _plain(value):
    """A JSON-native, deterministic form of a column value."""
    if isinstance(value, datetime.datetime):
        return format_timestamp(value)
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, enum.Enum):
        return _plain(value.value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        data = bytes(value)
        return f"<{len(data)} bytes, sha256 {hashlib.sha256(data).hexdigest()}>"
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime.timedelta):
        return value.total_seconds()
    return str(value)


def canonical_json(data):
    """Sorted keys, no whitespace, UTF-8 text kept: equal data gives equal text."""
    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"),
                      default=_plain)


def _user_fields(user):
    """(id, username) of a user object, without failing on a detached one."""
    if user is None:
        return None, None
    try:
        return user.id, getattr(user, "username", None)
    except Exception:  # detached or deleted instance: keep what its identity says
        identity = inspect(user, raiseerr=False)
        key = identity.identity if identity is not None else None
        return (key[0] if key else None), None


def build_entry(action, table_name, row_id=None, changes=None, actor=None, acting_for=None):
    """One audit entry (without its hashes) for the given actor, now, from here."""
    actor_id, actor_name = _user_fields(actor)
    acting_for_id, acting_for_name = _user_fields(acting_for)
    remote_addr = current_remote_addr()
    return {
        "occurred_at": utcnow(),
        "actor_id": actor_id,
        "actor_name": actor_name[:100] if actor_name else actor_name,
        "acting_for_id": acting_for_id,
        "acting_for_name": acting_for_name[:100] if acting_for_name else acting_for_name,
        "remote_addr": remote_addr[:64] if remote_addr else remote_addr,
        "action": action,
        "table_name": table_name,
        "row_id": None if row_id is None else str(row_id)[:64],
        "changes": None if changes is None else canonical_json(changes),
    }


def _row_id(state, spec):
    values = [state.dict.get(key) for key in spec.pk_keys]
    if any(value is None for value in values):
        identity = state.key[1] if state.key else ()
        values = list(identity) or values
    return ",".join(str(value) for value in values)


def _item_label(obj):
    try:
        return str(obj)
    except Exception:
        return str(inspect(obj).identity)


# ---------------------------------------------------------------------------
# The listeners
# ---------------------------------------------------------------------------

def _before_flush(session, _flush_context, _instances):
    if session.deleted and not _destruction_allowed.get():
        for obj in session.deleted:
            if isinstance(obj, RecordMixin):
                raise HardDeleteRefused()

    actor_id, _name = _user_fields(current_actor())
    if actor_id is not None:
        for obj in session.new:
            if isinstance(obj, RecordMixin):
                state = instance_state(obj)
                if obj.created_by_id is None and state.dict.get("created_by") is None:
                    obj.created_by_id = actor_id
                if obj.updated_by_id is None and state.dict.get("updated_by") is None:
                    obj.updated_by_id = actor_id
        for obj in session.dirty:
            if isinstance(obj, RecordMixin) and session.is_modified(obj, include_collections=False):
                obj.updated_by_id = actor_id

    _fetch_missing_old_values(session)


def _fetch_missing_old_values(session):
    """Read from the database the old values the session never loaded.

    An attribute assigned while expired (after a commit) has no old value in
    its history; a row deleted while expired holds none of its values.
    """
    wanted = []
    for obj in session.dirty:
        state = instance_state(obj)
        spec = _spec_for(state)
        if spec is None:
            continue
        keys = [key for key, old in state.committed_state.items()
                if old is NO_VALUE and key in spec.columns]
        if keys:
            wanted.append((state, keys))
    for obj in session.deleted:
        state = instance_state(obj)
        spec = _spec_for(state)
        if spec is None:
            continue
        keys = [key for key in spec.columns if key not in state.dict]
        if keys:
            wanted.append((state, keys))
    if not wanted:
        return
    old_values = session.info.setdefault(_OLD_VALUES, {})
    for state, keys in wanted:
        mapper = state.mapper
        pk_columns = mapper.primary_key
        statement = select(*[mapper.attrs[key].columns[0] for key in keys]).where(
            *[column == value for column, value in zip(pk_columns, state.key[1])]
        )
        row = session.execute(statement).first()
        if row is not None:
            old_values[state] = dict(zip(keys, row))


def _refuse_cascaded_delete(_mapper, _connection, _target):
    if not _destruction_allowed.get():
        raise HardDeleteRefused()


def _insert_changes(state, spec):
    values = state.dict
    changes = {}
    for key in spec.columns:
        value = values.get(key)
        if value is not None and key not in spec.pk_keys:  # the key is the entry's row_id
            changes[key] = [None, value]
    for key in spec.collections:
        items = values.get(key)
        if items:
            changes[key] = [[], sorted(_item_label(item) for item in items)]
    return changes


def _update_changes(state, spec, preloaded):
    changes = {}
    current = state.dict
    for key, old in state.committed_state.items():
        if key not in spec.columns:
            continue
        if old is NO_VALUE:
            old = preloaded.get(key) if preloaded else None
        new = current.get(key)
        if old != new:
            changes[key] = [old, new]
    for key in spec.collections:
        history = state.get_history(key, PASSIVE_NO_INITIALIZE)
        if history.added or history.deleted:
            changes[key] = [sorted(_item_label(item) for item in history.deleted or ()),
                            sorted(_item_label(item) for item in history.added or ())]
    return changes


def _delete_changes(state, spec, preloaded):
    values = dict(preloaded or {})
    values.update((key, value) for key, value in state.dict.items() if key in spec.columns)
    return {key: [values[key], None] for key in spec.columns if values.get(key) is not None}


def _after_flush(session, _flush_context):
    session.info[_WROTE] = True
    preloaded = session.info.pop(_OLD_VALUES, None) or {}
    changed = []  # (action, state, spec, changes)
    for obj in sorted(session.new, key=lambda o: instance_state(o).insert_order or 0):
        state = instance_state(obj)
        spec = _spec_for(state)
        if spec is not None:
            changed.append(("insert", state, spec, _insert_changes(state, spec)))
    for obj in session.dirty:
        state = instance_state(obj)
        spec = _spec_for(state)
        if spec is not None:
            changes = _update_changes(state, spec, preloaded.get(state))
            if changes:
                changed.append(("update", state, spec, changes))
    for obj in session.deleted:
        state = instance_state(obj)
        spec = _spec_for(state)
        if spec is not None:
            changes = _delete_changes(state, spec, preloaded.get(state))
            changed.append(("delete", state, spec, changes))
    if not changed:
        return
    actor, acting_for = current_actor(), current_acting_for()
    entries = [
        build_entry(action, spec.table_name, _row_id(state, spec), changes, actor, acting_for)
        for action, state, spec, changes in changed
    ]
    append_in_session(session, entries)


def append_in_session(session, entries):
    """Append entries within the session's open transaction (they share its fate)."""
    info = session.info
    info[_TAIL] = append_entries(session.connection(), entries, prev_hash=info.get(_TAIL))
    info[_WROTE] = True


def session_has_written(session):
    """Whether the session's open transaction has written (and so may hold write locks).

    Flushes and ORM-executed DML count; raw SQL through ``text()`` does not
    (and must not touch audited tables anyway).
    """
    return bool(session.info.get(_WROTE)) and session.in_transaction()


def _after_transaction_end(session, transaction):
    # A savepoint's end may undo entries (and release the chain lock on
    # PostgreSQL): forget the tail then too. Flush subtransactions keep it.
    if transaction.nested or transaction.parent is None:
        session.info.pop(_TAIL, None)
    if transaction.parent is None:
        session.info.pop(_WROTE, None)
        session.info.pop(_OLD_VALUES, None)


def _note_bulk_write(orm_execute_state):
    if orm_execute_state.is_insert or orm_execute_state.is_update or orm_execute_state.is_delete:
        orm_execute_state.session.info[_WROTE] = True
