"""Time limits (ENG-17, VIS-02, CUS-01, ...) and the working-day calendar behind them.

The calendar stores only the exceptions to the plain Monday-to-Friday week:
official holidays (days off, including the weekend days inside a holiday
period) and make-up working days (调休上班). A day without a row is a working
day from Monday to Friday and a day off on Saturday and Sunday.
"""
from flask_appbuilder.security.sqla.models import User
from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    Boolean, Column, Date, DateTime, ForeignKey, Index, Integer, String,
)
from sqlalchemy.orm import relationship

from .base import BigId, ChoiceSet, Model, RecordMixin, utcnow


class CalendarSource(ChoiceSet):
    """Where a calendar row comes from; the seed never overwrites an admin's row."""

    LIBRARY = "library"
    ADMIN = "admin"
    CHOICES = [
        (LIBRARY, _l("Official calendar (library)"), "default"),
        (ADMIN, _l("Entered by an administrator"), "primary"),
    ]


class CalendarDay(RecordMixin, Model):
    """One exception to the plain week: a holiday (休) or a make-up working day (班)."""

    __tablename__ = "calendar_day"

    id = Column(Integer, primary_key=True)
    day = Column(Date, nullable=False, unique=True)
    is_workday = Column(Boolean, nullable=False, default=False)
    # The holiday's Chinese name as users know it, e.g. 国庆节 or 国庆节调休上班.
    name = Column(String(100), nullable=True)
    source = Column(String(16), nullable=False, default=CalendarSource.ADMIN,
                    info={"choices": CalendarSource})
    note = Column(String(200), nullable=True)

    def __str__(self):
        return f"{self.day:%Y-%m-%d} {self.name or ''}".strip()


class DeadlineStatus(ChoiceSet):
    """Life of a deadline. "Overdue" is not stored: it is an open deadline past due.

    A deadline closed after its due time becomes ``late`` and stays so: the
    monthly statistics and the auditors count late closings.
    """

    OPEN = "open"
    MET = "met"
    LATE = "late"
    CANCELLED = "cancelled"
    CHOICES = [
        (OPEN, _l("Open"), "info"),
        (MET, _l("Met"), "success"),
        (LATE, _l("Closed late"), "danger"),
        (CANCELLED, _l("Cancelled"), "default"),
    ]
    CLOSED = (MET, LATE, CANCELLED)


class Deadline(Model):
    """A time limit that started when a record entered a state.

    The record is named by table and id, like attachments, so every module
    uses the same table. Whoever must act is a user (``assignee``) or, when
    nobody in particular is, everyone holding ``assignee_role``. ``due_at``,
    like every timestamp, is naive UTC; working days are counted on the
    local calendar (see ``app.deadlines``).
    """

    __tablename__ = "deadline"
    __table_args__ = (
        # close_deadlines: the open deadlines of one record in one state.
        Index("ix_deadline_record", "record_table", "record_id", "state", "status"),
        # scan and overdue lists: open deadlines by due time.
        Index("ix_deadline_status_due", "status", "due_at"),
        # The deadline list's default order and its kind filter.
        Index("ix_deadline_due_at", "due_at"),
        Index("ix_deadline_kind", "kind"),
    )

    id = Column(BigId, primary_key=True, autoincrement=True)
    record_table = Column(String(64), nullable=False)
    record_id = Column(Integer, nullable=False)
    state = Column(String(40), nullable=False)
    kind = Column(String(64), nullable=False)
    label = Column(String(200), nullable=True)
    # How the due time was computed, for whoever questions it later.
    days = Column(Integer, nullable=False)
    working_days = Column(Boolean, nullable=False, default=True)
    due_at = Column(DateTime, nullable=False)
    assignee_id = Column(Integer, ForeignKey("ab_user.id"), nullable=True, index=True)
    assignee_role = Column(String(64), nullable=True, index=True)
    status = Column(String(16), nullable=False, default=DeadlineStatus.OPEN,
                    info={"choices": DeadlineStatus})
    opened_at = Column(DateTime, nullable=False, default=utcnow)
    closed_at = Column(DateTime, nullable=True)
    reminded_at = Column(DateTime, nullable=True)
    overdue_notified_at = Column(DateTime, nullable=True)

    assignee = relationship(User, foreign_keys=[assignee_id])

    @property
    def is_open(self):
        return self.status == DeadlineStatus.OPEN

    def is_overdue(self, now=None):
        """Open and past its due time."""
        return self.is_open and self.due_at < (now or utcnow())

    @property
    def overdue(self):
        return self.is_overdue()

    @property
    def was_late(self):
        """Closed after its due time (kept for statistics even if later cancelled)."""
        return self.closed_at is not None and self.closed_at > self.due_at

    @property
    def record_ref(self):
        """``(record_table, record_id)``: one value, so a list formatter can link it."""
        return (self.record_table, self.record_id)

    def __str__(self):
        return f"{self.kind} {self.record_table}#{self.record_id}"
