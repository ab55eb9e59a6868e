"""Server-side login sessions and failed-login lockouts.

Flask's session is a signed cookie: it cannot be withdrawn once issued. Each
login therefore also creates a :class:`UserSession` row whose random token
(only its SHA-256 is stored) travels in the cookie; a request whose token is
unknown, revoked or expired is treated as logged out. Logging out revokes
the row, so a cookie copied before the logout is useless after it.

:class:`LoginLockout` counts consecutive failed logins per account (per
typed name when no account has that name, so that the answer never tells
whether an account exists) and holds the time until which logins are refused.
"""
from sqlalchemy import Column, DateTime, ForeignKey, Index, Integer, String

from .base import Model, utcnow


class UserSession(Model):
    """One login of one user in one browser; valid until revoked or expired."""

    __tablename__ = "user_session"

    id = Column(Integer, primary_key=True)
    token_hash = Column(String(64), nullable=False, unique=True)
    user_id = Column(Integer, ForeignKey("ab_user.id", ondelete="CASCADE"), nullable=False)
    created_at = Column(DateTime, nullable=False, default=utcnow)
    expires_at = Column(DateTime, nullable=False)
    revoked_at = Column(DateTime)
    # "logout", "password_changed", "locked", "admin"
    revoked_reason = Column(String(40))
    remote_addr = Column(String(64))
    user_agent = Column(String(300))

    __table_args__ = (Index("ix_user_session_user_id_revoked_at", "user_id", "revoked_at"),)

    def __repr__(self):
        return f"<UserSession {self.id} user={self.user_id}>"


class LoginLockout(Model):
    """Consecutive failed logins of one account (or one unknown name) and its lock."""

    __tablename__ = "login_lockout"

    id = Column(Integer, primary_key=True)
    # "user:<id>" for an existing account, "name:<lower-cased name>" otherwise.
    account_key = Column(String(200), nullable=False, unique=True)
    user_id = Column(Integer, ForeignKey("ab_user.id", ondelete="CASCADE"), index=True)
    failures = Column(Integer, nullable=False, default=0)
    last_failed_at = Column(DateTime)
    locked_until = Column(DateTime)

    def __repr__(self):
        return f"<LoginLockout {self.account_key} failures={self.failures}>"
