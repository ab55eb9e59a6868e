"""Login sessions held on the server, and the lock after repeated failed logins.

Sessions
    Flask's session is a signed cookie that cannot be withdrawn. At every
    login the old session content is thrown away (only the language choice
    survives), a new random token is put in it and the token's SHA-256 is
    stored in ``user_session`` with an expiry of ``PERMANENT_SESSION_LIFETIME``.
    Every request with a logged-in cookie looks the token up (one indexed
    read); an unknown, revoked or expired token makes the request anonymous
    and empties the cookie (while the account is locked the request is
    anonymous but the session resumes after the lock). Logging out revokes the
    token, so a cookie copied before the logout opens nothing after it.
    Changing a password revokes the user's other sessions.

Lockout
    Consecutive failed logins are counted per account in ``login_lockout``
    (shared by every worker). After ``LOGIN_MAX_FAILURES`` of them the account
    is locked for ``LOGIN_LOCK_MINUTES`` minutes: even the right password is
    refused, through the web form and the REST login alike, and bearer
    tokens and web sessions of the account stop working until the lock ends.
    Names without an account are counted and locked the same way, so the
    answer never tells whether an account exists. Locks and unlocks are
    audited; ``flask users unlock NAME`` lifts a lock at once.
"""
import datetime
import hashlib
import math
import secrets

import click
from flask import current_app, g, has_request_context, request, session
from flask.cli import with_appcontext
from flask_appbuilder.api import safe
from flask_appbuilder.security.api import SecurityApi
from flask_appbuilder.security.views import AuthDBView
from flask_appbuilder.views import expose
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..models.accounts import LoginLockout, UserSession
from ..models.base import utcnow
from ..services.settings import get_setting, register_setting

SESSION_KEY = "_sid"
# Kept across the session renewal at login: the language the user chose.
KEPT_AT_LOGIN = ("locale",)
# What Flask-Login itself puts in the session at login.
LOGIN_KEYS = ("_user_id", "_fresh", "_id", "_remember", "_remember_seconds")
USER_TABLE = "ab_user"
MAX_NAME = 150

register_setting("LOGIN_MAX_FAILURES", 5,
                 _l("Failed logins in a row before the account is locked"),
                 minimum=1, maximum=100)
register_setting("LOGIN_LOCK_MINUTES", 15,
                 _l("Minutes an account stays locked after too many failed logins"),
                 minimum=1, maximum=24 * 60)

LOCKED_MESSAGE = _l("Too many failed logins: this account is locked for %(minutes)s minutes. "
                    "Try again later or ask an administrator to unlock it.")


def hash_token(token):
    return hashlib.sha256(token.encode("ascii")).hexdigest()


# ---------------------------------------------------------------------------
# Sessions
# ---------------------------------------------------------------------------

def renew_session_at_login(_sender, user, **_extra):
    """``user_logged_in`` handler: a fresh session content and a new server-side token.

    Nothing of the pre-login session survives except Flask-Login's own keys
    (just written for this login) and the language: a session cookie planted
    or read before the login is worth nothing after it.
    """
    kept = {key: session[key] for key in (*LOGIN_KEYS, *KEPT_AT_LOGIN) if key in session}
    session.clear()
    session.update(kept)
    session[SESSION_KEY] = start_session(user)


def start_session(user):
    """Store a new session of ``user`` and return its token (to be put in the cookie)."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    db.session.add(UserSession(
        token_hash=hash_token(token), user_id=user.id, created_at=now,
        expires_at=now + current_app.permanent_session_lifetime,
        remote_addr=request.remote_addr if has_request_context() else None,
        user_agent=(request.user_agent.string or "")[:300] if has_request_context() else None,
    ))
    db.session.commit()
    return token


_VALID_SESSION = (
    select(UserSession.user_id, UserSession.expires_at, UserSession.revoked_at,
           LoginLockout.locked_until)
    .outerjoin(LoginLockout, LoginLockout.user_id == UserSession.user_id)
)


def request_session_state(user_id):
    """The state of the session this request's cookie carries for ``user_id``.

    ``"live"``; ``"locked"`` while the account is locked (the session resumes
    after the lock); ``"dead"`` when the token is missing, unknown, of another
    user, revoked or expired.
    """
    token = session.get(SESSION_KEY)
    if not token or not isinstance(token, str):
        return "dead"
    row = db.session.execute(
        _VALID_SESSION.where(UserSession.token_hash == hash_token(token))).first()
    now = utcnow()
    if (row is None or str(row.user_id) != str(user_id) or row.revoked_at is not None
            or row.expires_at <= now):
        return "dead"
    if row.locked_until is not None and row.locked_until > now:
        return "locked"
    return "live"


def forget_request_session():
    """Empty this request's cookie session (its token is no longer valid)."""
    language = {key: session[key] for key in KEPT_AT_LOGIN if key in session}
    session.clear()
    session.update(language)


def revoke_request_session(reason="logout"):
    """Revoke the session whose token this request's cookie carries."""
    token = session.pop(SESSION_KEY, None)
    if not token or not isinstance(token, str):
        return False
    row = db.session.execute(
        select(UserSession).where(UserSession.token_hash == hash_token(token))).scalar()
    if row is None or row.revoked_at is not None:
        return False
    row.revoked_at, row.revoked_reason = utcnow(), reason
    db.session.commit()
    return True


def revoke_user_sessions(user_id, reason, keep_current=False):
    """Revoke every live session of ``user_id`` (except this request's when ``keep_current``)."""
    user_id = int(user_id)  # FAB's reset form passes the id as text
    keep = None
    if keep_current and has_request_context() and isinstance(session.get(SESSION_KEY), str):
        keep = hash_token(session[SESSION_KEY])
    rows = db.session.execute(
        select(UserSession).where(UserSession.user_id == user_id,
                                  UserSession.revoked_at.is_(None),
                                  UserSession.expires_at > utcnow())).scalars().all()
    now = utcnow()
    revoked = 0
    for row in rows:
        if row.token_hash != keep:
            row.revoked_at, row.revoked_reason = now, reason
            revoked += 1
    if revoked:
        db.session.commit()
    return revoked


# ---------------------------------------------------------------------------
# Lockout
# ---------------------------------------------------------------------------

def _account_key(sm, username):
    """The counter key of a login name, and the account it names (or None)."""
    name = (username or "").strip()[:MAX_NAME]
    user = sm.find_user(username=name) if name else None
    if user is None and name:
        user = sm.find_user(email=name)
    if user is not None:
        return f"user:{user.id}", user
    return f"name:{name.lower()}", None


def _lockout_state(key):
    """(id, failures, locked_until) of the counter ``key``, read outside the session."""
    statement = select(LoginLockout.id, LoginLockout.failures, LoginLockout.locked_until).where(
        LoginLockout.account_key == key)
    with db.engine.connect() as connection:
        return connection.execute(statement).first()


def _remaining_minutes(locked_until):
    return max(1, math.ceil((locked_until - utcnow()).total_seconds() / 60))


def locked_message(locked_until):
    return LOCKED_MESSAGE % {"minutes": _remaining_minutes(locked_until)}


def check_lock(sm, username):
    """Before a password is checked: the time until which ``username`` is locked, or None.

    Also returns the counter key and the account, for :func:`after_attempt`.
    """
    key, user = _account_key(sm, username)
    if key == "name:":
        return None, None, None  # FAB refuses an empty name before any password check
    state = _lockout_state(key)
    if state is not None and state.locked_until is not None and state.locked_until > utcnow():
        return state.locked_until, key, user
    return None, key, user


def refuse_locked(username, key, user, locked_until):
    """Record a login refused because of a lock and tell the user why."""
    from ..audit.events import record_event

    record_event("login_refused", USER_TABLE, user.id if user else None,
                 {"username": (username or "")[:MAX_NAME], "reason": "locked"})
    g.login_refusal = locked_message(locked_until)


def after_attempt(username, key, user, success):
    """Reset the counter after a success; count a failure and lock at the limit.

    Writes (audited like every row change) only when something changes: a
    successful login of an account without failures costs one read.
    """
    from ..audit.events import record_event

    if key is None:
        return
    state = _lockout_state(key)
    if success:
        if state is not None and (state.failures or state.locked_until):
            row = db.session.get(LoginLockout, state.id)
            row.failures, row.locked_until = 0, None
            db.session.commit()
        return
    now = utcnow()
    if state is None:
        row = LoginLockout(account_key=key, user_id=user.id if user else None, failures=0)
        db.session.add(row)
    else:
        row = db.session.get(LoginLockout, state.id)
        if row.locked_until is not None and row.locked_until <= now:
            row.failures, row.locked_until = 0, None  # a lock that ran out starts a new count
    row.failures = (row.failures or 0) + 1
    row.last_failed_at = now
    locking = row.failures >= get_setting("LOGIN_MAX_FAILURES")
    if locking:
        row.locked_until = now + datetime.timedelta(minutes=get_setting("LOGIN_LOCK_MINUTES"))
    failures, locked_until = row.failures, row.locked_until
    try:
        db.session.commit()
    except IntegrityError:
        # Another worker counted the first failure of this name at the same moment.
        db.session.rollback()
        return
    if locking:
        record_event("account_locked", USER_TABLE, user.id if user else None,
                     {"username": (username or "")[:MAX_NAME], "failures": failures,
                      "locked_until": locked_until.isoformat(sep=" ", timespec="seconds")})
        g.login_refusal = locked_message(locked_until)


def user_is_locked(user_id):
    """Whether the account ``user_id`` is locked now (one indexed read)."""
    locked_until = db.session.execute(
        select(LoginLockout.locked_until).where(LoginLockout.user_id == user_id)).scalar()
    return locked_until is not None and locked_until > utcnow()


def unlock_account(user):
    """Lift the lock of ``user`` and clear its count; audited. False when there was none."""
    from ..audit.events import record_event

    state = _lockout_state(f"user:{user.id}")
    if state is None or not (state.failures or state.locked_until):
        return False
    row = db.session.get(LoginLockout, state.id)
    was_locked = row.locked_until is not None and row.locked_until > utcnow()
    row.failures, row.locked_until = 0, None
    db.session.flush()
    record_event("account_unlocked", USER_TABLE, user.id,
                 {"username": user.username, "was_locked": was_locked})
    db.session.commit()
    return True


# ---------------------------------------------------------------------------
# Views: the login form's message and the REST login
# ---------------------------------------------------------------------------

class SessionAuthDBView(AuthDBView):
    """FAB's login form, telling a locked-out user so instead of "invalid login"."""

    @property
    def invalid_login_message(self):
        return g.get("login_refusal") or AuthDBView.invalid_login_message


class SessionSecurityApi(SecurityApi):
    """FAB's REST login, answering a locked-out caller with the lock message."""

    @expose("/login", methods=["POST"])
    @safe
    def login(self):
        response = super().login()
        refusal = g.get("login_refusal")
        if response.status_code == 401 and refusal is not None:
            return self.response(401, message=str(refusal))
        return response


# ---------------------------------------------------------------------------
# Commands
# ---------------------------------------------------------------------------

@click.group("users")
def users_group():
    """User accounts: locks and sessions."""


def _find_account_or_fail(name):
    sm = current_app.appbuilder.sm
    user = sm.find_user(username=name) or sm.find_user(email=name)
    if user is None:
        raise click.ClickException(f"no account named {name!r}")
    return user


def _acting_user(name):
    user = current_app.appbuilder.sm.find_user(username=name)
    if user is None:
        raise click.ClickException(f"no account named {name!r} to act as")
    return user


@users_group.command("unlock")
@click.argument("name")
@click.option("--as", "acting", default="admin", show_default=True,
              help="The administrator the audit trail names.")
@with_appcontext
def unlock_command(name, acting):
    """Lift the failed-login lock of account NAME (user name or e-mail)."""
    from ..audit.context import acting_as

    user = _find_account_or_fail(name)
    with acting_as(_acting_user(acting)):
        done = unlock_account(user)
    click.echo(f"{user.username}: " + ("unlocked" if done else "was not locked"))


@users_group.command("logout")
@click.argument("name")
@click.option("--as", "acting", default="admin", show_default=True,
              help="The administrator the audit trail names.")
@with_appcontext
def logout_command(name, acting):
    """End every session of account NAME at once (e.g. a lost laptop)."""
    from ..audit.context import acting_as

    user = _find_account_or_fail(name)
    with acting_as(_acting_user(acting)):
        count = revoke_user_sessions(user.id, "admin")
    click.echo(f"{user.username}: {count} session(s) ended")


COMMANDS = [users_group]
