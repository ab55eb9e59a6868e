"""Return visits (回访, VIS-01 to VIS-13): tables.

One :class:`ReturnVisit` per visit (回访记录表): planned from a trigger (a
resolved complaint, a completed maintenance job, an ended community event)
or by hand (holiday, move-in, emergency), then recorded by the visitor and
reviewed once by the customer-service supervisor. Its children are the
issues the customer raised (:class:`VisitIssue`, VIS-08/VIS-10) and the
rectification a dissatisfied customer gets (:class:`VisitRectification`,
VIS-12). The trigger records themselves are kept light:
:class:`MaintenanceJob` (维修工程) and :class:`CommunityEvent` (文体活动).
Open letters (公开信, VIS-09) answer one issue for many residents and are
linked to each complaint they answer.

The customer's signature of an on-site visit is an attachment of kind
``signature`` on the visit (the shared attachment table keeps every version).
"""
from flask_appbuilder.security.sqla.models import User
from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    Boolean, Column, DateTime, ForeignKey, Index, Integer, String, Table, Text, UniqueConstraint,
)
from sqlalchemy.orm import relationship

from .base import ChoiceSet, Model, RecordMixin, VersionedMixin, utcnow
from .complaints import Complaint


class VisitTrigger(ChoiceSet):
    """What a visit follows (VIS-02 to VIS-05)."""

    COMPLAINT = "complaint"
    MAINTENANCE = "maintenance"
    EVENT = "event"
    HOLIDAY = "holiday"
    MOVE_IN = "move_in"
    EMERGENCY = "emergency"
    CHOICES = [
        (COMPLAINT, _l("Resolved complaint"), "danger"),
        (MAINTENANCE, _l("Completed maintenance job"), "primary"),
        (EVENT, _l("Community event"), "info"),
        (HOLIDAY, _l("Holiday visit"), "success"),
        (MOVE_IN, _l("Move-in visit"), "success"),
        (EMERGENCY, _l("After an emergency"), "warning"),
    ]
    # Triggers the system proposes visits for, each with a window and a target rate.
    AUTOMATIC = (COMPLAINT, MAINTENANCE, EVENT)
    # Planned by hand by the company manager (VIS-05).
    MANUAL = (HOLIDAY, MOVE_IN, EMERGENCY)


class VisitStatus(ChoiceSet):
    """The states of the visit workflow (see ``app/workflows/visits.py``)."""

    PLANNED = "planned"
    RECORDED = "recorded"
    REVIEWED = "reviewed"
    CANCELLED = "cancelled"
    CHOICES = [
        (PLANNED, _l("Planned"), "info"),
        (RECORDED, _l("Recorded, pending review"), "warning"),
        (REVIEWED, _l("Reviewed"), "success"),
        (CANCELLED, _l("Cancelled"), "default"),
    ]
    DONE = (RECORDED, REVIEWED)


class VisitMode(ChoiceSet):
    """上门回访 or 电话回访 (VIS-06, VIS-08)."""

    ON_SITE = "on_site"
    PHONE = "phone"
    CHOICES = [
        (ON_SITE, _l("On-site visit"), "primary"),
        (PHONE, _l("Phone visit"), "default"),
    ]
    # What the paper record form (回访记录表) says, whatever the reader's language (VIS-06).
    RECORD_MARK = {ON_SITE: "上门回访", PHONE: "电话回访"}


class VisitSatisfaction(ChoiceSet):
    SATISFIED = "satisfied"
    BASICALLY = "basically_satisfied"
    DISSATISFIED = "dissatisfied"
    CHOICES = [
        (SATISFIED, _l("Satisfied"), "success"),
        (BASICALLY, _l("Basically satisfied"), "info"),
        (DISSATISFIED, _l("Dissatisfied"), "danger"),
    ]


class MaintenanceJob(RecordMixin, VersionedMixin, Model):
    """A maintenance job (维修工程) of a responsibility area; completed, it is visited (VIS-03)."""

    __tablename__ = "maintenance_job"

    id = Column(Integer, primary_key=True)
    number = Column(String(32), nullable=False, unique=True)
    title = Column(String(200), nullable=False)
    # Responsibility area (责任区); matches StaffProfile.area.
    area = Column(String(64), nullable=False, index=True)
    # The property assistant of the area, who visits after completion.
    assistant_id = Column(Integer, ForeignKey("ab_user.id"), nullable=True, index=True)
    description = Column(Text, nullable=True)
    # Whom the visit goes to.
    customer_name = Column(String(100), nullable=True)
    customer_phone = Column(String(40), nullable=True)
    address = Column(String(200), nullable=True)
    completed_at = Column(DateTime, nullable=True, index=True)

    assistant = relationship(User, foreign_keys=[assistant_id])

    @property
    def is_completed(self):
        return self.completed_at is not None

    def __str__(self):
        return f"{self.number} {self.title}"


class CommunityEvent(RecordMixin, VersionedMixin, Model):
    """A community event (文体活动); its end triggers visits of its participants (VIS-04)."""

    __tablename__ = "community_event"

    id = Column(Integer, primary_key=True)
    title = Column(String(200), nullable=False)
    location = Column(String(200), nullable=True)
    ended_at = Column(DateTime, nullable=False, index=True)
    # The community culture clerk (社区文化文员), who visits afterwards.
    clerk_id = Column(Integer, ForeignKey("ab_user.id"), nullable=True, index=True)
    participants_count = Column(Integer, nullable=False, default=0)
    description = Column(Text, nullable=True)

    clerk = relationship(User, foreign_keys=[clerk_id])

    def __str__(self):
        return self.title


class ReturnVisit(RecordMixin, VersionedMixin, Model):
    """One return visit (回访记录表): plan, record and review (VIS-01 to VIS-08, VIS-12)."""

    __tablename__ = "return_visit"
    __table_args__ = (
        UniqueConstraint("previous_visit_id", name="uq_return_visit_previous"),
        Index("ix_return_visit_status_due", "status", "due_at"),
        Index("ix_return_visit_trigger_visited", "trigger", "visited_at"),
    )

    id = Column(Integer, primary_key=True)
    number = Column(String(32), nullable=False, unique=True)
    trigger = Column(String(16), nullable=False, index=True, info={"choices": VisitTrigger})
    complaint_id = Column(Integer, ForeignKey("complaint.id"), nullable=True, index=True)
    maintenance_job_id = Column(Integer, ForeignKey("maintenance_job.id"), nullable=True,
                                index=True)
    community_event_id = Column(Integer, ForeignKey("community_event.id"), nullable=True,
                                index=True)
    customer_name = Column(String(100), nullable=True)
    customer_phone = Column(String(40), nullable=True)
    address = Column(String(200), nullable=True)
    # 1 = first visit, 2 = second... (VIS-08).
    sequence = Column(Integer, nullable=False, default=1, index=True)
    previous_visit_id = Column(Integer, ForeignKey("return_visit.id"), nullable=True)
    visitor_id = Column(Integer, ForeignKey("ab_user.id"), nullable=True, index=True)
    planned_by_id = Column(Integer, ForeignKey("ab_user.id"), nullable=True, index=True)
    due_at = Column(DateTime, nullable=False, index=True)
    plan_note = Column(Text, nullable=True)
    status = Column(String(16), nullable=False, default=VisitStatus.PLANNED, index=True,
                    info={"choices": VisitStatus})
    # The record (filled in by the visitor).
    mode = Column(String(16), nullable=True, index=True, info={"choices": VisitMode})
    visited_at = Column(DateTime, nullable=True, index=True)
    satisfaction = Column(String(24), nullable=True, index=True,
                          info={"choices": VisitSatisfaction})
    summary = Column(Text, nullable=True)
    needs_another_visit = Column(Boolean, nullable=False, default=False)
    next_visit_at = Column(DateTime, nullable=True)
    signer_name = Column(String(100), nullable=True)
    recorded_by_id = Column(Integer, ForeignKey("ab_user.id"), nullable=True)
    # The supervisor's review (VIS-07), once.
    review_opinion = Column(Text, nullable=True)
    reviewed_by_id = Column(Integer, ForeignKey("ab_user.id"), nullable=True, index=True)
    reviewed_at = Column(DateTime, nullable=True)
    cancel_reason = Column(Text, nullable=True)

    complaint = relationship(Complaint, foreign_keys=[complaint_id])
    maintenance_job = relationship(MaintenanceJob, foreign_keys=[maintenance_job_id])
    community_event = relationship(CommunityEvent, foreign_keys=[community_event_id])
    previous_visit = relationship("ReturnVisit", remote_side=[id],
                                  foreign_keys=[previous_visit_id])
    visitor = relationship(User, foreign_keys=[visitor_id])
    planned_by = relationship(User, foreign_keys=[planned_by_id])
    recorded_by = relationship(User, foreign_keys=[recorded_by_id])
    reviewed_by = relationship(User, foreign_keys=[reviewed_by_id])

    @property
    def record_mark(self):
        """上门回访 / 电话回访, as the record form says it (VIS-06); empty until recorded."""
        return VisitMode.RECORD_MARK.get(self.mode, "")

    @property
    def source(self):
        """The complaint, job or event the visit follows (None for a manual plan)."""
        return self.complaint or self.maintenance_job or self.community_event

    @property
    def is_pending_review(self):
        return self.status == VisitStatus.RECORDED

    def __str__(self):
        return self.number


class VisitIssue(RecordMixin, VersionedMixin, Model):
    """An issue the customer raised during a visit (VIS-08), and its outcome (VIS-10)."""

    __tablename__ = "visit_issue"

    id = Column(Integer, primary_key=True)
    visit_id = Column(Integer, ForeignKey("return_visit.id"), nullable=False, index=True)
    description = Column(Text, nullable=False)
    answered_on_spot = Column(Boolean, nullable=False, default=False)
    answer = Column(Text, nullable=True)
    # Required when the issue could not be answered on the spot (预约时间回复).
    agreed_reply_at = Column(DateTime, nullable=True, index=True)
    outcome = Column(Text, nullable=True)
    outcome_at = Column(DateTime, nullable=True, index=True)
    outcome_by_id = Column(Integer, ForeignKey("ab_user.id"), nullable=True)

    visit = relationship(ReturnVisit, backref="issues")
    outcome_by = relationship(User, foreign_keys=[outcome_by_id])

    @property
    def has_outcome(self):
        return self.outcome_at is not None

    def __str__(self):
        return (self.description or "")[:60]


class VisitRectification(RecordMixin, VersionedMixin, Model):
    """The rectification (整改) assigned after a dissatisfied visit (VIS-12)."""

    __tablename__ = "visit_rectification"

    id = Column(Integer, primary_key=True)
    visit_id = Column(Integer, ForeignKey("return_visit.id"), nullable=False, index=True)
    assignee_id = Column(Integer, ForeignKey("ab_user.id"), nullable=False, index=True)
    description = Column(Text, nullable=False)
    due_at = Column(DateTime, nullable=False, index=True)
    done_at = Column(DateTime, nullable=True, index=True)
    result = Column(Text, nullable=True)

    visit = relationship(ReturnVisit, backref="rectifications")
    assignee = relationship(User, foreign_keys=[assignee_id])

    @property
    def is_done(self):
        return self.done_at is not None

    def __str__(self):
        return (self.description or "")[:60]


open_letter_complaint = Table(
    "open_letter_complaint",
    Model.metadata,
    Column("open_letter_id", Integer, ForeignKey("open_letter.id"), primary_key=True),
    Column("complaint_id", Integer, ForeignKey("complaint.id"), primary_key=True, index=True),
)


class OpenLetter(RecordMixin, Model):
    """An open letter (公开信) answering one issue shared by many residents (VIS-09).

    Filed in the visit archive (this table and its attachments) and linked to
    each complaint it answers.
    """

    __tablename__ = "open_letter"

    id = Column(Integer, primary_key=True)
    number = Column(String(32), nullable=False, unique=True)
    subject = Column(String(200), nullable=False)
    body = Column(Text, nullable=False)
    issued_at = Column(DateTime, nullable=False, default=utcnow, index=True)
    issued_by_id = Column(Integer, ForeignKey("ab_user.id"), nullable=True, index=True)

    issued_by = relationship(User, foreign_keys=[issued_by_id])
    complaints = relationship(Complaint, secondary=open_letter_complaint,
                              backref="open_letters", order_by=Complaint.id)

    def __str__(self):
        return f"{self.number} {self.subject}"
