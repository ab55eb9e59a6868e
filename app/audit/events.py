"""Audit entries for events that are not row changes: logins, logouts, reads, exports.

Where an entry is written
    If the request's session has already written in its open transaction,
    the entry joins that transaction (which holds SQLite's write lock, and
    on PostgreSQL possibly the chain lock: a second connection would wait
    for it) and commits or rolls back with it. Otherwise the entry is
    written and committed at once on a connection of its own, leaving the
    session untouched: this is the case of logins and logouts (FAB has
    already committed its own change of the user row) and of reads.

    On SQLite, a transaction that has read and then writes after someone
    else committed fails (its snapshot is stale); an event committed on its
    own connection counts as someone else. So in a service that reads,
    records an event and then writes, record the event after the write.
"""
from ..extensions import db
from .chain import append_entries
from .context import current_acting_for, current_actor
from .listener import append_in_session, build_entry, session_has_written

USER_TABLE = "ab_user"
# Enough for any real username; keeps a pasted essay out of the trail.
MAX_USERNAME = 150


def record_event(action, table_name, row_id=None, details=None):
    """Append one entry (action e.g. "read", "export") for the current actor.

    ``details`` is any JSON-serialisable dict, stored canonically in ``changes``.
    """
    _append(build_entry(action, table_name, row_id, details,
                        actor=current_actor(), acting_for=current_acting_for()))


def record_login(username, user):
    """Record a successful login of ``user`` or a failed attempt for ``username``.

    A failed attempt names the account tried when it exists; the password is
    never passed here.
    """
    details = {"username": (username or "")[:MAX_USERNAME]}
    if user:
        _append(build_entry("login", USER_TABLE, user.id, details, actor=user))
        return
    target = _find_account(username)
    _append(build_entry("login_failed", USER_TABLE, target, details))


def record_logout(user):
    """Record a logout."""
    _append(build_entry("logout", USER_TABLE, user.id, actor=user))


def _find_account(username):
    """The id of the account a login attempt named (by username or e-mail), or None."""
    if not username:
        return None
    from flask_appbuilder.security.sqla.models import User
    from sqlalchemy import or_, select

    statement = select(User.id).where(or_(User.username == username, User.email == username))
    with db.engine.connect() as connection:
        return connection.execute(statement.limit(1)).scalar()


def _append(entry):
    session = db.session()
    if session_has_written(session):
        append_in_session(session, [entry])
        return
    with db.engine.begin() as connection:
        append_entries(connection, [entry])
