"""Complaints and feedback (投诉及意见反馈, CMP-01 to CMP-18): tables.

One :class:`Complaint` per case (投诉处理登记表 and 台帐 in the regulations),
with its children: the contact log (联系记录, CMP-09), investigation findings
(调查核实, CMP-08), meetings (所务会议/合伙人会议, CMP-07), replies (回复,
CMP-11), satisfaction surveys (满意度调查, CMP-14), conflicted persons marked
by an administrator (回避, CMP-05) and the yearly case files (年度案宗, CMP-13).
Numbers come from :class:`ComplaintCounter`, one row per year, locked while a
number is taken so that numbers are gap-free (CMP-03).
"""
from flask_appbuilder.security.sqla.models import User
from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    Boolean, Column, Date, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint,
    text,
)
from sqlalchemy.orm import relationship

from .base import ChoiceSet, Model, RecordMixin, VersionedMixin, utcnow
from .org import Department


class ComplaintKind(ChoiceSet):
    """投诉 or 意见反馈 (CMP-01)."""

    COMPLAINT = "complaint"
    FEEDBACK = "feedback"
    CHOICES = [
        (COMPLAINT, _l("Complaint"), "danger"),
        (FEEDBACK, _l("Feedback"), "info"),
    ]


class ComplaintChannel(ChoiceSet):
    """How the record came in (CMP-01): 电话, 上门, 书面, 司法行政机关转来, 律师协会/上级部门转来, 网上, 电子邮件."""

    PHONE = "phone"
    VISIT = "visit"
    WRITTEN = "written"
    JUSTICE = "justice_referral"
    SUPERIOR = "superior_referral"
    ONLINE = "online"
    EMAIL = "email"
    CHOICES = [
        (PHONE, _l("Phone"), "default"),
        (VISIT, _l("Visit in person"), "default"),
        (WRITTEN, _l("Written"), "primary"),
        (JUSTICE, _l("Referred by the justice administration"), "warning"),
        (SUPERIOR, _l("Referred by the bar association or a superior body"), "warning"),
        (ONLINE, _l("Online"), "default"),
        (EMAIL, _l("E-mail"), "default"),
    ]
    # CMP-02: who receives which channel.
    FRONT_DESK = (PHONE, VISIT, ONLINE, EMAIL)  # 总台
    ADMIN_DESK = (WRITTEN,)  # 行政总台, with the 收文登记簿 number
    REFERRALS = (JUSTICE, SUPERIOR)  # straight to the designated officer


class ComplaintSeverity(ChoiceSet):
    """一般 / 重要 / 重大 (CMP-03)."""

    GENERAL = "general"
    IMPORTANT = "important"
    MAJOR = "major"
    CHOICES = [
        (GENERAL, _l("General"), "default"),
        (IMPORTANT, _l("Important"), "warning"),
        (MAJOR, _l("Major"), "danger"),
    ]


class ComplaintStatus(ChoiceSet):
    """The states of the complaint workflow (see ``app/workflows/complaints.py``)."""

    REGISTERED = "registered"
    OPINION_WRITTEN = "opinion_written"
    MEETING_HELD = "meeting_held"
    DECIDED = "decided"
    IMPLEMENTED = "implemented"
    REPLIED = "replied"
    FOLLOW_UP = "follow_up"
    CLOSED = "closed"
    ARCHIVED = "archived"
    MERGED = "merged"
    CHOICES = [
        (REGISTERED, _l("Registered"), "info"),
        (OPINION_WRITTEN, _l("Opinion written"), "primary"),
        (MEETING_HELD, _l("Discussed at a meeting"), "primary"),
        (DECIDED, _l("Decided"), "primary"),
        (IMPLEMENTED, _l("Implemented"), "primary"),
        (REPLIED, _l("Replied"), "success"),
        (FOLLOW_UP, _l("Follow-up"), "warning"),
        (CLOSED, _l("Closed"), "success"),
        (ARCHIVED, _l("Archived"), "default"),
        (MERGED, _l("Duplicate (follows its master)"), "default"),
    ]
    # Before the decision step (CMP-09: no promise yet).
    BEFORE_DECISION = (REGISTERED, OPINION_WRITTEN, MEETING_HELD)
    # Resolved: handled to the end (the return-visit module starts from these).
    RESOLVED = (CLOSED, ARCHIVED)
    OPEN = (REGISTERED, OPINION_WRITTEN, MEETING_HELD, DECIDED, IMPLEMENTED, FOLLOW_UP)


class ComplaintOutcome(ChoiceSet):
    """What the decision found (处理结果), for the monthly summary (CMP-18)."""

    UPHELD = "upheld"
    PARTLY = "partly_upheld"
    NOT_UPHELD = "not_upheld"
    ADOPTED = "adopted"
    NOTED = "noted"
    CHOICES = [
        (UPHELD, _l("Upheld"), "danger"),
        (PARTLY, _l("Partly upheld"), "warning"),
        (NOT_UPHELD, _l("Not upheld"), "success"),
        (ADOPTED, _l("Suggestion adopted"), "info"),
        (NOTED, _l("Noted"), "default"),
    ]


class ContactMode(ChoiceSet):
    PHONE = "phone"
    VISIT = "visit"
    LETTER = "letter"
    SMS = "sms"
    EMAIL = "email"
    CHOICES = [
        (PHONE, _l("Phone"), "default"),
        (VISIT, _l("In person"), "default"),
        (LETTER, _l("Letter"), "default"),
        (SMS, _l("Text message"), "default"),
        (EMAIL, _l("E-mail"), "default"),
    ]


class MeetingKind(ChoiceSet):
    """所务会议 or 合伙人会议 (CMP-07)."""

    OFFICE = "office"
    PARTNERS = "partners"
    CHOICES = [
        (OFFICE, _l("Office meeting"), "primary"),
        (PARTNERS, _l("Partners' meeting"), "primary"),
    ]


class ReplyMode(ChoiceSet):
    """原则上书面回复 (CMP-11): written is the default; others need a reason."""

    WRITTEN = "written"
    PHONE = "phone"
    IN_PERSON = "in_person"
    EMAIL = "email"
    CHOICES = [
        (WRITTEN, _l("Written reply"), "success"),
        (PHONE, _l("By phone"), "warning"),
        (IN_PERSON, _l("In person"), "warning"),
        (EMAIL, _l("By e-mail"), "warning"),
    ]


class SurveyParty(ChoiceSet):
    COMPLAINANT = "complainant"
    RESPONDENT = "respondent"
    CHOICES = [
        (COMPLAINANT, _l("Complainant"), "default"),
        (RESPONDENT, _l("Respondent"), "default"),
    ]


class Satisfaction(ChoiceSet):
    SATISFIED = "satisfied"
    BASICALLY = "basically_satisfied"
    DISSATISFIED = "dissatisfied"
    CHOICES = [
        (SATISFIED, _l("Satisfied"), "success"),
        (BASICALLY, _l("Basically satisfied"), "info"),
        (DISSATISFIED, _l("Dissatisfied"), "danger"),
    ]


class ComplaintCaseFile(RecordMixin, Model):
    """The yearly case file (年度案宗, CMP-13) into which closed complaints are archived."""

    __tablename__ = "complaint_case_file"

    id = Column(Integer, primary_key=True)
    year = Column(Integer, nullable=False, unique=True)
    file_number = Column(String(32), nullable=False, unique=True)
    location = Column(String(200), nullable=True)
    last_item = Column(Integer, nullable=False, default=0)

    def __str__(self):
        return self.file_number


# The open statuses as SQL, for the partial index of the overdue list: a query
# uses it when it names the same statuses as literals (see OverdueFilter).
OPEN_STATUS_SQL = "status IN ({})".format(", ".join(f"'{s}'" for s in ComplaintStatus.OPEN))


class Complaint(RecordMixin, VersionedMixin, Model):
    """A complaint or piece of feedback (投诉处理登记表 and 台帐, CMP-01 to CMP-03)."""

    __tablename__ = "complaint"
    __table_args__ = (
        UniqueConstraint("year", "sequence", name="uq_complaint_year_sequence"),
        Index("ix_complaint_status_received", "status", "received_at"),
        # List filters and sort columns (a filter by severity keeps the default order).
        Index("ix_complaint_severity_received", "severity", "received_at"),
        Index("ix_complaint_subject", "subject"),
        Index("ix_complaint_complainant_name", "complainant_name"),
        Index("ix_complaint_escalated_to_id", "escalated_to_id"),
        Index("ix_complaint_case_file_id", "case_file_id"),
        # A list sorted by a column of few values is ordered by (column, id): with
        # the id in the index PostgreSQL reads the first page straight off it
        # instead of sorting a whole group (hundreds of thousands of closed cases).
        Index("ix_complaint_kind_id", "kind", "id"),
        Index("ix_complaint_channel_id", "channel", "id"),
        Index("ix_complaint_severity_id", "severity", "id"),
        Index("ix_complaint_status_id", "status", "id"),
        # The overdue list (CMP-16) reads only open cases, a small part of the ledger.
        Index("ix_complaint_open_promised_reply_date", "promised_reply_date",
              postgresql_where=text(OPEN_STATUS_SQL), sqlite_where=text(OPEN_STATUS_SQL)),
    )

    id = Column(Integer, primary_key=True)
    number = Column(String(32), nullable=False, unique=True)
    year = Column(Integer, nullable=False)
    sequence = Column(Integer, nullable=False)
    kind = Column(String(16), nullable=False, default=ComplaintKind.COMPLAINT,
                  info={"choices": ComplaintKind})
    channel = Column(String(24), nullable=False, info={"choices": ComplaintChannel})
    received_at = Column(DateTime, nullable=False, default=utcnow, index=True)
    # 收文登记簿 number of a written record (CMP-02).
    register_number = Column(String(40), nullable=True)
    anonymous = Column(Boolean, nullable=False, default=False)
    complainant_name = Column(String(100), nullable=True)
    complainant_phone = Column(String(40), nullable=True, index=True)
    complainant_address = Column(String(200), nullable=True)
    # 被投诉人: a member of staff and/or a department.
    respondent_user_id = Column(Integer, ForeignKey("ab_user.id"), nullable=True, index=True)
    respondent_department_id = Column(Integer, ForeignKey("department.id"), nullable=True,
                                      index=True)
    subject = Column(String(200), nullable=False)
    description = Column(Text, nullable=False)
    severity = Column(String(16), nullable=False, default=ComplaintSeverity.GENERAL,
                      info={"choices": ComplaintSeverity})
    principle_issue = Column(Boolean, nullable=False, default=False)
    # 上级部门只要求复函: the return-visit module skips the visit but needs the letter.
    reply_letter_only = Column(Boolean, nullable=False, default=False)
    paper_location = Column(String(200), nullable=True)
    # 专门负责人 handling the case and 业务分管合伙人 deciding it.
    officer_id = Column(Integer, ForeignKey("ab_user.id"), nullable=True, index=True)
    partner_id = Column(Integer, ForeignKey("ab_user.id"), nullable=True, index=True)
    opinion = Column(Text, nullable=True)
    decision = Column(Text, nullable=True)
    outcome = Column(String(20), nullable=True, index=True, info={"choices": ComplaintOutcome})
    decided_at = Column(DateTime, nullable=True)
    implementation = Column(Text, nullable=True)
    # CMP-16: escalation of a major complaint, with a promised reply date.
    escalated_at = Column(DateTime, nullable=True)
    escalated_to_id = Column(Integer, ForeignKey("ab_user.id"), nullable=True)
    escalation_reason = Column(Text, nullable=True)
    promised_reply_date = Column(Date, nullable=True, index=True)
    replied_at = Column(DateTime, nullable=True)
    closed_at = Column(DateTime, nullable=True, index=True)
    archived_at = Column(DateTime, nullable=True)
    case_file_id = Column(Integer, ForeignKey("complaint_case_file.id"), nullable=True)
    case_file_number = Column(String(40), nullable=True)
    # CMP-17: a duplicate points at its master and follows it.
    master_id = Column(Integer, ForeignKey("complaint.id"), nullable=True, index=True)
    status = Column(String(20), nullable=False, default=ComplaintStatus.REGISTERED,
                    info={"choices": ComplaintStatus})

    respondent_user = relationship(User, foreign_keys=[respondent_user_id])
    respondent_department = relationship(Department, foreign_keys=[respondent_department_id])
    officer = relationship(User, foreign_keys=[officer_id])
    partner = relationship(User, foreign_keys=[partner_id])
    escalated_to = relationship(User, foreign_keys=[escalated_to_id])
    case_file = relationship(ComplaintCaseFile, foreign_keys=[case_file_id])
    master = relationship("Complaint", remote_side=[id], foreign_keys=[master_id])

    @property
    def complainant_display(self):
        return _l("Anonymous") if self.anonymous else (self.complainant_name or "")

    @property
    def is_major(self):
        """Goes to a meeting before its decision counts (CMP-07)."""
        return self.severity == ComplaintSeverity.MAJOR or bool(self.principle_issue)

    def __str__(self):
        return f"{self.number} {self.subject}"


class ComplaintContact(RecordMixin, Model):
    """One contact with the complainant (联系记录, CMP-09): when, how, who, what was said."""

    __tablename__ = "complaint_contact"

    id = Column(Integer, primary_key=True)
    complaint_id = Column(Integer, ForeignKey("complaint.id"), nullable=False, index=True)
    contacted_at = Column(DateTime, nullable=False, default=utcnow)
    mode = Column(String(16), nullable=False, default=ContactMode.PHONE,
                  info={"choices": ContactMode})
    staff_id = Column(Integer, ForeignKey("ab_user.id"), nullable=False, index=True)
    summary = Column(Text, nullable=False)
    # A commitment (承诺) may be recorded only after the decision (CMP-09).
    is_commitment = Column(Boolean, nullable=False, default=False)

    complaint = relationship(Complaint, backref="contacts")
    staff = relationship(User, foreign_keys=[staff_id])


class ComplaintFinding(RecordMixin, Model):
    """Investigation findings on the facts and materials (调查核实, CMP-08)."""

    __tablename__ = "complaint_finding"

    id = Column(Integer, primary_key=True)
    complaint_id = Column(Integer, ForeignKey("complaint.id"), nullable=False, index=True)
    facts = Column(Text, nullable=False)
    materials = Column(Text, nullable=True)
    verified = Column(Boolean, nullable=False, default=False)

    complaint = relationship(Complaint, backref="findings")


class ComplaintMeeting(RecordMixin, Model):
    """A 所务会议 or 合伙人会议 on a major or principle complaint (CMP-07)."""

    __tablename__ = "complaint_meeting"

    id = Column(Integer, primary_key=True)
    complaint_id = Column(Integer, ForeignKey("complaint.id"), nullable=False, index=True)
    kind = Column(String(16), nullable=False, info={"choices": MeetingKind})
    held_at = Column(DateTime, nullable=False)
    attendees = Column(Text, nullable=False)
    decision = Column(Text, nullable=False)
    minutes = Column(Text, nullable=False)
    # 是否向相关管理部门通报, and the notification itself when yes.
    notify_regulator = Column(Boolean, nullable=False, default=False)
    regulator_name = Column(String(200), nullable=True)
    regulator_notified_at = Column(DateTime, nullable=True)
    regulator_notification = Column(Text, nullable=True)

    complaint = relationship(Complaint, backref="meetings")


class ComplaintReply(RecordMixin, Model):
    """The reply to the complainant (CMP-11): written by default, otherwise with a reason."""

    __tablename__ = "complaint_reply"

    id = Column(Integer, primary_key=True)
    complaint_id = Column(Integer, ForeignKey("complaint.id"), nullable=False, index=True)
    mode = Column(String(16), nullable=False, default=ReplyMode.WRITTEN,
                  info={"choices": ReplyMode})
    reason = Column(Text, nullable=True)
    content = Column(Text, nullable=False)
    replied_at = Column(DateTime, nullable=False, default=utcnow)

    complaint = relationship(Complaint, backref="replies")


class ComplaintSurvey(RecordMixin, Model):
    """A satisfaction survey of the complainant or the respondent (CMP-14)."""

    __tablename__ = "complaint_survey"

    id = Column(Integer, primary_key=True)
    complaint_id = Column(Integer, ForeignKey("complaint.id"), nullable=False, index=True)
    party = Column(String(16), nullable=False, info={"choices": SurveyParty})
    satisfaction = Column(String(24), nullable=False, info={"choices": Satisfaction})
    comment = Column(Text, nullable=True)
    surveyed_at = Column(DateTime, nullable=False, default=utcnow)

    complaint = relationship(Complaint, backref="surveys")


class ComplaintConflict(RecordMixin, Model):
    """A person an administrator marked as conflicted for one complaint (回避, CMP-05).

    Never deleted: a mark lifted by mistake is deactivated and stays on record.
    """

    __tablename__ = "complaint_conflict"
    __table_args__ = (UniqueConstraint("complaint_id", "user_id", name="uq_complaint_conflict"),)

    id = Column(Integer, primary_key=True)
    complaint_id = Column(Integer, ForeignKey("complaint.id"), nullable=False, index=True)
    user_id = Column(Integer, ForeignKey("ab_user.id"), nullable=False, index=True)
    reason = Column(String(200), nullable=True)
    active = Column(Boolean, nullable=False, default=True)

    complaint = relationship(Complaint, backref="conflicts")
    user = relationship(User, foreign_keys=[user_id])
