"""In-app notifications (the inbox), also e-mailed when a mail server is configured."""
from flask_appbuilder.security.sqla.models import User
from sqlalchemy import (
    Column, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint, case,
)
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import relationship

from .base import BigId, Model, utcnow


class Notification(Model):
    """One message to one user: a reminder, an overdue notice, a report of a major case.

    ``dedupe_key`` names the event (``deadline:17:reminder``); it is unique
    per user, so a second insert of the same event, by a rerun or by a
    concurrent worker, fails instead of notifying twice. Only the recipient
    ever sees a notification (see ``services.notifications``).
    """

    __tablename__ = "notification"
    __table_args__ = (
        UniqueConstraint("user_id", "dedupe_key", name="uq_notification_user_dedupe"),
        # The navbar counts a user's unread notifications on every page.
        Index("ix_notification_user_read", "user_id", "read_at"),
        # The inbox: one user's notifications, newest first.
        Index("ix_notification_user_created", "user_id", "created_at"),
    )

    id = Column(BigId, primary_key=True, autoincrement=True)
    user_id = Column(Integer, ForeignKey("ab_user.id"), nullable=False)
    subject = Column(String(200), nullable=False)
    body = Column(Text, nullable=True)
    # A path inside this application (/absenceview/show/3), never an outside URL.
    link = Column(String(500), nullable=True)
    created_at = Column(DateTime, nullable=False, default=utcnow)
    read_at = Column(DateTime, nullable=True)
    dedupe_key = Column(String(200), nullable=True)
    emailed_at = Column(DateTime, nullable=True)

    user = relationship(User, foreign_keys=[user_id])

    @hybrid_property
    def is_read(self):
        return self.read_at is not None

    @is_read.inplace.expression
    @classmethod
    def _is_read_expression(cls):
        return cls.read_at.isnot(None)

    @hybrid_property
    def unread_rank(self):
        """The id while unread, 0 once read: sorted descending, unread first, newest first in each group."""
        return self.id if self.read_at is None else 0

    @unread_rank.inplace.expression
    @classmethod
    def _unread_rank_expression(cls):
        return case((cls.read_at.is_(None), cls.id), else_=0)

    def __str__(self):
        return self.subject

