"""Notifications: every user's inbox, and its e-mail copy.

:func:`notify` adds one row per recipient in the caller's transaction. A
``dedupe_key`` names the event; the same key is delivered at most once per
user, even when two workers notify at the same moment (the second insert
hits the unique constraint inside a savepoint and is dropped).

When ``MAIL_SERVER`` is set, the notifications of a transaction are also
e-mailed, after that transaction commits (never for one that rolls back),
and stamped ``emailed_at``. A mail failure is logged; it never fails the
request or command that notified.

Only the recipient sees a notification, on every door (lists, show pages,
API, exports): the visibility rule at the end of this module, plus the
own-rows filter of the inbox views, which holds for administrators too.
"""
import logging
from contextlib import contextmanager

from flask import has_app_context
from flask_appbuilder.security.sqla.models import User
from sqlalchemy import event, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..extensions import db
from ..models.base import utcnow
from ..models.notifications import Notification
from ..security.visibility import register_visibility
from .errors import RecordNotVisible
from .mail import OutgoingMail, mail_configured, send_mails
from .transaction import transactional

log = logging.getLogger(__name__)

_PENDING_MAIL = "pending_notification_mail"


# ---------------------------------------------------------------------------
# Sending
# ---------------------------------------------------------------------------

def notify(users, subject, body, link=None, dedupe_key=None):
    """Add a notification for each of ``users``; returns the ones added.

    ``users`` is a user or an iterable of users (None and inactive users are
    skipped, duplicates collapsed). ``link`` is a path inside the app. With a
    ``dedupe_key``, a user who already has a notification with that key gets
    nothing new. The caller commits.
    """
    link = _safe_link(link)
    subject = str(subject)[:200]
    body = str(body) if body is not None else None
    added = []
    for user in _recipients(users):
        if dedupe_key is not None and _already_notified(user.id, dedupe_key):
            continue
        notification = Notification(user_id=user.id, subject=subject, body=body, link=link,
                                    dedupe_key=dedupe_key)
        if dedupe_key is None:
            db.session.add(notification)
            db.session.flush()
        else:
            try:
                with savepoint():
                    db.session.add(notification)
                    db.session.flush()
            except IntegrityError:
                # A concurrent worker delivered the same event to this user first.
                continue
        added.append(notification)
        _queue_mail(user, notification)
    return added


def notify_role(role_name, subject, body, link=None, dedupe_key=None):
    """Notify every active user holding ``role_name``; returns the notifications added."""
    from .org import users_with_role

    return notify(users_with_role(role_name), subject, body, link=link, dedupe_key=dedupe_key)


def _recipients(users):
    if users is None:
        return []
    if isinstance(users, User):
        users = [users]
    seen, result = set(), []
    for user in users:
        if user is None or user.id in seen or not getattr(user, "active", True):
            continue
        seen.add(user.id)
        result.append(user)
    return result


def _safe_link(link):
    """Only a path inside this application: no other host, no ``javascript:``."""
    if not link:
        return None
    link = str(link)
    if not link.startswith("/") or link.startswith("//") or "\\" in link:
        raise ValueError(f"a notification link must be a path inside the app: {link!r}")
    return link[:500]


def _already_notified(user_id, dedupe_key):
    return db.session.query(
        db.session.query(Notification.id)
        .filter(Notification.user_id == user_id, Notification.dedupe_key == dedupe_key)
        .exists()
    ).scalar()


@contextmanager
def savepoint():
    """``session.begin_nested()`` that also holds on SQLite.

    The sqlite3 driver opens its transaction only before a write, so a
    SAVEPOINT issued first becomes the outermost transaction and its RELEASE
    commits, whatever the caller does afterwards. Opening the transaction
    explicitly first keeps the savepoint nested.
    """
    session = db.session
    connection = session.connection()
    if connection.dialect.name == "sqlite":
        dbapi_connection = connection.connection.dbapi_connection
        if not dbapi_connection.in_transaction:
            connection.exec_driver_sql("BEGIN")
    with session.begin_nested():
        yield session


# ---------------------------------------------------------------------------
# E-mail, after commit
# ---------------------------------------------------------------------------

def _queue_mail(user, notification):
    if not has_app_context() or not mail_configured() or not user.email:
        return
    body = notification.body or ""
    if notification.link:
        body = f"{body}\n\n{_absolute(notification.link)}".strip()
    db.session.info.setdefault(_PENDING_MAIL, []).append(
        (notification.id, OutgoingMail(user.email, notification.subject, body))
    )


def _absolute(link):
    from flask import current_app

    base = current_app.config.get("PUBLIC_BASE_URL")
    return base.rstrip("/") + link if base else link


@event.listens_for(Session, "after_commit")
def _send_mail_after_commit(session):
    if session.in_nested_transaction() or not session.info.get(_PENDING_MAIL):
        return
    pending = session.info.pop(_PENDING_MAIL)
    if not has_app_context():
        return
    try:
        deliver_mail(session.get_bind(), pending)
    except Exception:  # noqa: BLE001  (mail never breaks the request that notified)
        log.exception("E-mail of %d notification(s) failed", len(pending))


@event.listens_for(Session, "after_transaction_end")
def _forget_mail_of_ended_transaction(session, transaction):
    # A rolled back (or closed) transaction mails nothing; a committed one
    # has already taken its list in after_commit.
    if transaction.parent is None:
        session.info.pop(_PENDING_MAIL, None)


def deliver_mail(engine, pending):
    """E-mail ``[(notification_id, OutgoingMail)]`` and stamp ``emailed_at``.

    Runs after the commit, when the request's session can no longer emit
    SQL, so the stamp goes through a short session of its own: still the ORM,
    so the audit trail records it like every other write.
    """
    ids = [notification_id for notification_id, _mail in pending]
    with Session(bind=engine) as session:
        still_unsent = set(session.scalars(
            select(Notification.id).where(Notification.id.in_(ids),
                                          Notification.emailed_at.is_(None))
        ))
    pending = [(nid, mail) for nid, mail in pending if nid in still_unsent]
    results = send_mails([mail for _nid, mail in pending])
    sent_ids = [nid for (nid, _mail), ok in zip(pending, results) if ok]
    if sent_ids:
        with Session(bind=engine) as session:
            for notification in session.scalars(
                select(Notification).where(Notification.id.in_(sent_ids))
            ):
                notification.emailed_at = utcnow()
            session.commit()
    return sent_ids


# ---------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------

@transactional
def mark_read(notification_id, user):
    """Mark one of ``user``'s own notifications read; anyone else's is "not found"."""
    notification = db.session.get(Notification, notification_id)
    if notification is None or user is None or notification.user_id != user.id:
        raise RecordNotVisible()
    if notification.read_at is None:
        notification.read_at = utcnow()
    return notification


@transactional
def mark_all_read(user):
    """Mark all of ``user``'s notifications read; returns how many changed."""
    now = utcnow()
    unread = db.session.query(Notification).filter(
        Notification.user_id == user.id, Notification.read_at.is_(None)
    ).all()
    for notification in unread:
        notification.read_at = now
    return len(unread)


def unread_count(user):
    if user is None or getattr(user, "id", None) is None:
        return 0
    return db.session.query(Notification).filter(
        Notification.user_id == user.id, Notification.read_at.is_(None)
    ).count()


def own_notifications(user):
    """``user``'s notifications, newest first."""
    return db.session.query(Notification).filter(
        Notification.user_id == user.id
    ).order_by(Notification.created_at.desc(), Notification.id.desc())


# ---------------------------------------------------------------------------
# Visibility: a notification is its recipient's alone.
# ---------------------------------------------------------------------------

def _filter_own(query, user):
    return query.filter(Notification.user_id == getattr(user, "id", None))


def _is_own(record, user):
    return record.user_id == getattr(user, "id", None)


register_visibility(Notification, _filter_own, _is_own)
