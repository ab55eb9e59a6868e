"""Our SecurityManager: FAB's, plus login auditing and cached permission answers.

FAB asks the database once per menu entry, button and endpoint check (about
fifteen queries per page). Here a role's permissions are read once, in one
query, and kept per process together with a fingerprint of the role-permission
table; each request reads the fingerprint once (one small aggregate query) and
drops every cached role when it changed, so a role edited on another worker,
through ``flask sync-roles`` or by hand in the database takes effect on the next
request everywhere. Within a request the answers are also kept on ``flask.g``.
"""
import threading
import weakref

from flask import g, has_request_context
from flask_appbuilder.security.sqla.manager import SecurityManager as FabSecurityManager
from flask_appbuilder.security.sqla.models import (
    Permission, PermissionView, ViewMenu, assoc_permissionview_role,
)
from flask_login import user_logged_in, user_logged_out
from sqlalchemy import BigInteger, cast, event, func, select
from sqlalchemy.orm import Session

from . import sessions
from .sessions import SessionAuthDBView, SessionSecurityApi

_link = assoc_permissionview_role.c
# Changes to any of these rows can change a role's permissions.
_PERMISSION_MODELS = (Permission, PermissionView, ViewMenu)


def _fingerprint_statement():
    """A cheap summary of the role-permission links that changes whenever one does.

    Count and sums catch additions and removals; the product term catches two
    roles swapping permissions; the largest id catches a removal followed by an
    addition.
    """
    pv_id = cast(_link.permission_view_id, BigInteger)
    role_id = cast(_link.role_id, BigInteger)
    return select(
        func.count(), func.coalesce(func.sum(pv_id), 0), func.coalesce(func.sum(role_id), 0),
        func.coalesce(func.sum(pv_id * role_id), 0), func.coalesce(func.max(_link.id), 0),
    )


_FINGERPRINT = _fingerprint_statement()


class PermissionCache:
    """Each role's set of ``(permission, view)`` pairs, valid for one fingerprint."""

    def __init__(self):
        self._lock = threading.Lock()
        self.fingerprint = None
        self.roles = {}

    def clear(self):
        with self._lock:
            self.fingerprint = None
            self.roles = {}

    def check(self, fingerprint):
        """Forget every role when the role-permission links changed since they were read."""
        if fingerprint != self.fingerprint:
            with self._lock:
                self.roles = {}
                self.fingerprint = fingerprint

    def role_permissions(self, role_id, load):
        permissions = self.roles.get(role_id)
        if permissions is None:
            permissions = frozenset(load(role_id))
            self.roles[role_id] = permissions
        return permissions


class SecurityManager(FabSecurityManager):
    """Records every login attempt and logout in the audit trail (X-02); caches permissions.

    Also keeps login sessions on the server and locks an account after repeated
    failed logins (see :mod:`app.security.sessions`).
    """

    authdbview = SessionAuthDBView
    security_api = SessionSecurityApi

    def __init__(self, appbuilder):
        super().__init__(appbuilder)
        self.permission_cache = PermissionCache()
        user_logged_out.connect(_record_logout)
        user_logged_in.connect(sessions.renew_session_at_login)
        _watch_permission_changes(self.permission_cache)

    def register_views(self):
        super().register_views()
        # FAB limits only the login form; the REST login guesses passwords just as well.
        if self.is_auth_limited:
            for baseview in self.appbuilder.baseviews:
                if isinstance(baseview, SessionSecurityApi) and baseview.blueprint is not None:
                    self.limiter.limit(self.auth_rate_limit, methods=["POST"])(baseview.blueprint)

    def auth_user_db(self, username, password):
        from ..audit.events import record_login

        locked_until, key, account = sessions.check_lock(self, username)
        if locked_until is not None:
            sessions.refuse_locked(username, key, account, locked_until)
            return None
        user = super().auth_user_db(username, password)
        record_login(username, user)
        sessions.after_attempt(username, key, account, success=user is not None)
        return user

    # -- server-side sessions ---------------------------------------------

    def load_user(self, pk):
        """The user of a session cookie: only while its server-side session is live."""
        if has_request_context():
            state = sessions.request_session_state(pk)
            if state != "live":
                if state == "dead":
                    sessions.forget_request_session()
                return None
        return super().load_user(pk)

    def load_user_jwt(self, _jwt_header, jwt_data):
        """The user of a bearer token: active and not locked (expiry is checked before)."""
        user = FabSecurityManager.load_user(self, jwt_data["sub"])
        if user is None or sessions.user_is_locked(user.id):
            return None
        g.user = user
        return user

    def on_user_logout(self, user):
        super().on_user_logout(user)
        sessions.revoke_request_session("logout")

    def reset_password(self, userid, password):
        """Change a password and end the user's other sessions."""
        super().reset_password(userid, password)
        sessions.revoke_user_sessions(userid, "password_changed", keep_current=True)

    # -- cached permission answers --------------------------------------

    def _request_cache(self):
        """Answers already given in this request, after checking the fingerprint once."""
        if not has_request_context():
            self.permission_cache.check(self._read_fingerprint())
            return {}
        answers = g.get("_permission_answers")
        if answers is None:
            self.permission_cache.check(self._read_fingerprint())
            answers = g._permission_answers = {}
        return answers

    def _read_fingerprint(self):
        return tuple(self.session.execute(_FINGERPRINT).one())

    def _load_role_permissions(self, role_id):
        rows = self.session.execute(
            select(Permission.name, ViewMenu.name)
            .select_from(assoc_permissionview_role)
            .join(PermissionView, PermissionView.id == _link.permission_view_id)
            .join(Permission, Permission.id == PermissionView.permission_id)
            .join(ViewMenu, ViewMenu.id == PermissionView.view_menu_id)
            .where(_link.role_id == role_id)
        )
        return [(permission, view) for permission, view in rows]

    def _roles_permissions(self, roles):
        """The cached permission sets of ``roles`` (built-in roles are answered by FAB's rules)."""
        return [
            self.permission_cache.role_permissions(role.id, self._load_role_permissions)
            for role in roles if role.name not in self.builtin_roles
        ]

    def _has_view_access(self, user, permission_name, view_name):
        return self._has_view_access_for_roles(
            self.get_user_roles(user), permission_name, view_name)

    def is_item_public(self, permission_name, view_name):
        public = self.get_public_role()
        if public is None:
            return False
        return self._has_view_access_for_roles([public], permission_name, view_name)

    def _has_view_access_for_roles(self, roles, permission_name, view_name):
        answers = self._request_cache()
        key = (tuple(sorted(role.id for role in roles)), permission_name, view_name)
        answer = answers.get(key)
        if answer is None:
            answer = any(
                role.name in self.builtin_roles
                and self._has_access_builtin_roles(role, permission_name, view_name)
                for role in roles
            ) or any((permission_name, view_name) in permissions
                     for permissions in self._roles_permissions(roles))
            answers[key] = answer
        return answer

    def _get_user_permission_view_menus(self, user, permission_name, view_menus_name):
        self._request_cache()
        roles = [self.get_public_role()] if user is None else self.get_user_roles(user)
        roles = [role for role in roles if role is not None]
        wanted = set(view_menus_name or [])
        result = {
            name for role in roles if role.name in self.builtin_roles
            for name in wanted if self._has_access_builtin_roles(role, permission_name, name)
        }
        for permissions in self._roles_permissions(roles):
            result.update(view for permission, view in permissions
                          if permission == permission_name and (not wanted or view in wanted))
        return result

    def get_public_role(self):
        # Asked for on every anonymous check; one lookup per request is enough.
        if has_request_context():
            if "_public_role" not in g:
                g._public_role = super().get_public_role()
            return g._public_role
        return super().get_public_role()


_CACHES = weakref.WeakSet()


def _watch_permission_changes(cache):
    """Forget cached roles in this process as soon as a permission change is committed.

    The fingerprint catches the same change on the next request anyway (and in
    every other process); this only makes it immediate for code that checks
    again within the request that made the change.
    """
    _CACHES.add(cache)


def _after_flush(session, _context):
    from flask_appbuilder.security.sqla.models import Role

    watched = (Role, *_PERMISSION_MODELS)
    if any(isinstance(obj, watched) for obj in (*session.new, *session.dirty, *session.deleted)):
        session.info["permissions_changed"] = True


def _after_commit(session):
    if session.info.pop("permissions_changed", False):
        for cache in list(_CACHES):
            cache.clear()
        if has_request_context():
            g.pop("_permission_answers", None)


event.listen(Session, "after_flush", _after_flush)
event.listen(Session, "after_commit", _after_commit)


def _record_logout(sender, user=None, **_extra):
    from ..audit.events import record_logout

    if user is not None and getattr(user, "is_authenticated", False):
        record_logout(user)
