"""Customer information and archives (客户信息与档案, CUS-01 to CUS-11): tables.

* :class:`DailyRegistration` / :class:`RegistrationEntry`: the daily customer
  registration form (客户信息登记表) of a sales manager (招商经理) and its lines
  (来电 calls, 来访 visits, 自行开发 self-developed, 老客户介绍 referrals).
* :class:`Customer`: one customer, identified by normalised phone, ID number
  or company name, owned by the manager who registered it first (客户归属).
* :class:`OwnershipConflict`: a customer registered by two managers (客户冲撞)
  and how it was resolved.
* :class:`ReceptionVisit`: a visitor at reception and whom they were passed to.
* :class:`ArchiveFile` (客户档案表) with :class:`ArchiveTrackingEntry` (跟踪情况)
  and :class:`ArchiveFiling` (month-end filing snapshot, 每月最后一天归档).
* :class:`ArchiveAccessGrant`: the general manager's time-limited permission
  to read registration forms or archives (未经总经理允许不得查阅).
* :class:`ArchiveLoan` (借阅, the lending register 借阅登记) and
  :class:`ArchiveDestruction` (销毁记录).
"""
from flask_appbuilder.security.sqla.models import User
from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    Boolean, Column, Date, DateTime, ForeignKey, Index, Integer, String, Table, Text,
    UniqueConstraint,
)
from sqlalchemy.orm import relationship

from .base import ChoiceSet, Model, RecordMixin, VersionedMixin
from .org import user_display_name


# ---------------------------------------------------------------------------
# Choice sets
# ---------------------------------------------------------------------------

class RegistrationStatus(ChoiceSet):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    CHOICES = [
        (DRAFT, _l("Draft"), "warning"),
        (SUBMITTED, _l("Submitted"), "success"),
    ]


class Channel(ChoiceSet):
    """How the customer came: 来电, 来访, 自行开发, 老客户介绍."""

    CALL = "call"
    VISIT = "visit"
    SELF_DEVELOPED = "self_developed"
    REFERRAL = "referral"
    CHOICES = [
        (CALL, _l("Phone call"), "info"),
        (VISIT, _l("Visit"), "primary"),
        (SELF_DEVELOPED, _l("Self-developed"), "success"),
        (REFERRAL, _l("Referred by a customer"), "default"),
    ]


class Intention(ChoiceSet):
    """购买/租赁意向."""

    NONE = "none"
    BUY = "buy"
    LEASE = "lease"
    BOTH = "buy_or_lease"
    CHOICES = [
        (NONE, _l("No intention yet"), "default"),
        (BUY, _l("Buy"), "success"),
        (LEASE, _l("Lease"), "info"),
        (BOTH, _l("Buy or lease"), "primary"),
    ]


class CustomerKind(ChoiceSet):
    PERSON = "person"
    COMPANY = "company"
    CHOICES = [
        (PERSON, _l("Individual"), "default"),
        (COMPANY, _l("Company"), "info"),
    ]


class MatchKind(ChoiceSet):
    PHONE = "phone"
    ID_NUMBER = "id_number"
    COMPANY = "company"
    CHOICES = [
        (PHONE, _l("Phone"), "default"),
        (ID_NUMBER, _l("ID number"), "default"),
        (COMPANY, _l("Company name"), "default"),
    ]


class ConflictOutcome(ChoiceSet):
    KEPT = "kept"  # the existing owner registered earlier and keeps the customer
    TRANSFERRED = "transferred"  # the claimant registered earlier: ownership moves
    CHOICES = [
        (KEPT, _l("Kept by the earlier manager"), "info"),
        (TRANSFERRED, _l("Transferred to the earlier manager"), "warning"),
    ]


class RouteReason(ChoiceSet):
    """CUS-04: why a visitor went to that manager."""

    NAMED = "named"
    REFERRAL_NAMED = "referral_named"
    ON_DUTY = "on_duty"
    NOBODY_ON_DUTY = "nobody_on_duty"
    CHOICES = [
        (NAMED, _l("Named the manager"), "success"),
        (REFERRAL_NAMED, _l("Referral naming a manager"), "success"),
        (ON_DUTY, _l("Manager on duty"), "info"),
        (NOBODY_ON_DUTY, _l("Nobody on duty: the sales head decides"), "danger"),
    ]


class ArchiveCategory(ChoiceSet):
    """CUS-08: 已成交客户档案 / 未成交客户档案."""

    CLOSED_DEAL = "closed_deal"
    NOT_CLOSED = "not_closed"
    CHOICES = [
        (CLOSED_DEAL, _l("Closed deal"), "success"),
        (NOT_CLOSED, _l("Not closed"), "default"),
    ]


class ArchiveStatus(ChoiceSet):
    ACTIVE = "active"  # being followed up, filed monthly
    CLOSED = "closed"  # deal done or follow-up ended: the retention period runs
    DESTROYED = "destroyed"
    CHOICES = [
        (ACTIVE, _l("Following up"), "primary"),
        (CLOSED, _l("Closed (in retention)"), "info"),
        (DESTROYED, _l("Destroyed"), "danger"),
    ]


class LoanStatus(ChoiceSet):
    APPLIED = "applied"
    REVIEWED = "reviewed"
    APPROVED = "approved"
    ISSUED = "issued"
    RETURNED = "returned"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"
    CHOICES = [
        (APPLIED, _l("Applied"), "warning"),
        (REVIEWED, _l("Reviewed by the sales head"), "info"),
        (APPROVED, _l("Approved by the general manager"), "primary"),
        (ISSUED, _l("Issued"), "success"),
        (RETURNED, _l("Returned"), "default"),
        (REJECTED, _l("Rejected"), "danger"),
        (WITHDRAWN, _l("Withdrawn"), "default"),
    ]


class DestructionStatus(ChoiceSet):
    APPLIED = "applied"
    REVIEWED = "reviewed"
    APPROVED = "approved"
    DESTROYED = "destroyed"
    REJECTED = "rejected"
    CHOICES = [
        (APPLIED, _l("Applied"), "warning"),
        (REVIEWED, _l("Reviewed by the sales head"), "info"),
        (APPROVED, _l("Approved by the general manager"), "primary"),
        (DESTROYED, _l("Destroyed"), "danger"),
        (REJECTED, _l("Rejected"), "default"),
    ]


class GrantScope(ChoiceSet):
    ALL = "all"
    ARCHIVE = "archive"
    REGISTRATION = "registration"
    CHOICES = [
        (ALL, _l("All registration forms and archives"), "danger"),
        (ARCHIVE, _l("One archive"), "info"),
        (REGISTRATION, _l("One registration form"), "info"),
    ]


# ---------------------------------------------------------------------------
# Customers and registration forms
# ---------------------------------------------------------------------------

class Customer(RecordMixin, VersionedMixin, Model):
    """A customer (客户) and the sales manager who owns them (客户归属, CUS-03).

    ``phone_key``, ``id_key`` and ``company_key`` are the normalised forms the
    conflict check compares; ``owned_since`` is the registration time that won.
    """

    __tablename__ = "cus_customer"
    __table_args__ = (
        Index("ix_cus_customer_phone_key", "phone_key"),
        Index("ix_cus_customer_id_key", "id_key"),
        Index("ix_cus_customer_company_key", "company_key"),
        # The list's default order, its filters and sort columns.
        Index("ix_cus_customer_owned_since", "owned_since"),
        Index("ix_cus_customer_name", "name"),
        Index("ix_cus_customer_phone", "phone"),
        Index("ix_cus_customer_company_name", "company_name"),
        Index("ix_cus_customer_kind", "kind"),
    )

    id = Column(Integer, primary_key=True)
    name = Column(String(100), nullable=False)
    kind = Column(String(16), nullable=False, default=CustomerKind.PERSON,
                  info={"choices": CustomerKind})
    company_name = Column(String(200), nullable=True)
    phone = Column(String(40), nullable=True)
    id_number = Column(String(40), nullable=True)
    phone_key = Column(String(40), nullable=True)
    id_key = Column(String(40), nullable=True)
    company_key = Column(String(200), nullable=True)
    intention = Column(String(16), nullable=False, default=Intention.NONE,
                       info={"choices": Intention})
    intended = Column(Boolean, nullable=False, default=False, index=True)
    owner_id = Column(Integer, ForeignKey("ab_user.id"), nullable=False, index=True)
    owned_since = Column(DateTime, nullable=False)
    note = Column(Text, nullable=True)
    purged = Column(Boolean, nullable=False, default=False)

    owner = relationship(User, foreign_keys=[owner_id])

    def __str__(self):
        return self.name


class DailyRegistration(RecordMixin, VersionedMixin, Model):
    """One sales manager's customer registration form (客户信息登记表) for one day (CUS-01).

    Due by the end of ``form_date``, at the latest at the configured cut-off
    (10:00) the next morning, local time; ``late`` is decided on submission.
    """

    __tablename__ = "cus_daily_registration"
    __table_args__ = (UniqueConstraint("manager_id", "form_date", name="uq_cus_registration_day"),)

    id = Column(Integer, primary_key=True)
    manager_id = Column(Integer, ForeignKey("ab_user.id"), nullable=False, index=True)
    form_date = Column(Date, nullable=False, index=True)
    status = Column(String(16), nullable=False, default=RegistrationStatus.DRAFT, index=True,
                    info={"choices": RegistrationStatus})
    due_at = Column(DateTime, nullable=False)
    submitted_at = Column(DateTime, nullable=True)
    late = Column(Boolean, nullable=False, default=False, index=True)
    note = Column(Text, nullable=True)

    manager = relationship(User, foreign_keys=[manager_id])
    entries = relationship("RegistrationEntry", back_populates="registration",
                           order_by="RegistrationEntry.id")

    def __str__(self):
        return f"{user_display_name(self.manager)} {self.form_date}"


class RegistrationEntry(RecordMixin, VersionedMixin, Model):
    """One line of a registration form: a call, visit, self-developed or referred customer.

    ``registered_at`` (server time the line was entered) decides ownership
    (CUS-03, 以登记时间判断客户归属). Intended (意向客户) = a contact and a buying
    or leasing intention (CUS-02). Intermediary (中介) when there is one (CUS-05).
    """

    __tablename__ = "cus_registration_entry"
    __table_args__ = (
        # The list's default order, its filters and sort columns.
        Index("ix_cus_registration_entry_registered_at", "registered_at"),
        Index("ix_cus_registration_entry_customer_name", "customer_name"),
        Index("ix_cus_registration_entry_phone", "phone"),
        Index("ix_cus_registration_entry_channel", "channel"),
    )

    id = Column(Integer, primary_key=True)
    registration_id = Column(Integer, ForeignKey("cus_daily_registration.id"), nullable=False,
                             index=True)
    channel = Column(String(20), nullable=False, info={"choices": Channel})
    customer_name = Column(String(100), nullable=False)
    kind = Column(String(16), nullable=False, default=CustomerKind.PERSON,
                  info={"choices": CustomerKind})
    company_name = Column(String(200), nullable=True)
    phone = Column(String(40), nullable=True)
    id_number = Column(String(40), nullable=True)
    intention = Column(String(16), nullable=False, default=Intention.NONE,
                       info={"choices": Intention})
    intended = Column(Boolean, nullable=False, default=False, index=True)
    has_intermediary = Column(Boolean, nullable=False, default=False)
    intermediary = Column(String(200), nullable=True)
    referrer = Column(String(100), nullable=True)
    requirement = Column(Text, nullable=True)
    registered_at = Column(DateTime, nullable=False)
    customer_id = Column(Integer, ForeignKey("cus_customer.id"), nullable=True, index=True)

    registration = relationship(DailyRegistration, back_populates="entries")
    customer = relationship(Customer, foreign_keys=[customer_id])

    def __str__(self):
        return self.customer_name


class OwnershipConflict(RecordMixin, Model):
    """客户冲撞: the same customer registered by two managers, and the outcome (CUS-03)."""

    __tablename__ = "cus_ownership_conflict"

    id = Column(Integer, primary_key=True)
    customer_id = Column(Integer, ForeignKey("cus_customer.id"), nullable=False, index=True)
    entry_id = Column(Integer, ForeignKey("cus_registration_entry.id"), nullable=False,
                      index=True)
    matched_on = Column(String(16), nullable=False, info={"choices": MatchKind})
    owner_id = Column(Integer, ForeignKey("ab_user.id"), nullable=False, index=True)
    claimant_id = Column(Integer, ForeignKey("ab_user.id"), nullable=False, index=True)
    owner_registered_at = Column(DateTime, nullable=False)
    claimant_registered_at = Column(DateTime, nullable=False)
    outcome = Column(String(16), nullable=False, info={"choices": ConflictOutcome})
    resolution = Column(Text, nullable=False)
    detected_at = Column(DateTime, nullable=False, index=True)

    customer = relationship(Customer)
    entry = relationship(RegistrationEntry)
    owner = relationship(User, foreign_keys=[owner_id])
    claimant = relationship(User, foreign_keys=[claimant_id])

    def __str__(self):
        return f"#{self.id}"


class ReceptionVisit(RecordMixin, Model):
    """A visitor at reception and the manager they were passed to (CUS-04)."""

    __tablename__ = "cus_reception_visit"

    id = Column(Integer, primary_key=True)
    visited_at = Column(DateTime, nullable=False, index=True)
    visitor_name = Column(String(100), nullable=False)
    phone = Column(String(40), nullable=True)
    is_referral = Column(Boolean, nullable=False, default=False)
    referrer = Column(String(100), nullable=True)
    named_manager_id = Column(Integer, ForeignKey("ab_user.id"), nullable=True, index=True)
    routed_to_id = Column(Integer, ForeignKey("ab_user.id"), nullable=True, index=True)
    reason = Column(String(20), nullable=False, info={"choices": RouteReason})
    note = Column(Text, nullable=True)

    named_manager = relationship(User, foreign_keys=[named_manager_id])
    routed_to = relationship(User, foreign_keys=[routed_to_id])

    def __str__(self):
        return self.visitor_name


# ---------------------------------------------------------------------------
# Archives
# ---------------------------------------------------------------------------

class ArchiveFile(RecordMixin, VersionedMixin, Model):
    """客户档案表 (CUS-07): basic information, tracking log, copies of credentials.

    ``category`` keeps closed-deal and not-closed archives apart (CUS-08);
    ``closed_on`` starts the retention period (CUS-10).
    """

    __tablename__ = "cus_archive_file"

    id = Column(Integer, primary_key=True)
    archive_no = Column(String(32), nullable=False, unique=True)
    customer_id = Column(Integer, ForeignKey("cus_customer.id"), nullable=False, unique=True)
    manager_id = Column(Integer, ForeignKey("ab_user.id"), nullable=False, index=True)
    category = Column(String(16), nullable=False, default=ArchiveCategory.NOT_CLOSED, index=True,
                      info={"choices": ArchiveCategory})
    status = Column(String(16), nullable=False, default=ArchiveStatus.ACTIVE, index=True,
                    info={"choices": ArchiveStatus})
    # 基本信息
    contact_person = Column(String(100), nullable=True)
    contact_phone = Column(String(40), nullable=True)
    address = Column(String(255), nullable=True)
    industry = Column(String(100), nullable=True)
    requirement = Column(Text, nullable=True)  # 需求: area, use, budget
    source = Column(String(100), nullable=True)
    summary = Column(Text, nullable=True)
    opened_on = Column(Date, nullable=False, index=True)
    closed_on = Column(Date, nullable=True, index=True)
    last_filed_at = Column(DateTime, nullable=True)
    destroyed_on = Column(Date, nullable=True)

    customer = relationship(Customer)
    manager = relationship(User, foreign_keys=[manager_id])
    tracking = relationship("ArchiveTrackingEntry", back_populates="archive",
                            order_by="ArchiveTrackingEntry.tracked_on")
    filings = relationship("ArchiveFiling", back_populates="archive",
                           order_by="ArchiveFiling.period")

    def __str__(self):
        return self.archive_no


class ArchiveTrackingEntry(RecordMixin, VersionedMixin, Model):
    """One line of the archive's tracking log (跟踪情况)."""

    __tablename__ = "cus_archive_tracking"

    id = Column(Integer, primary_key=True)
    archive_id = Column(Integer, ForeignKey("cus_archive_file.id"), nullable=False, index=True)
    tracked_on = Column(Date, nullable=False, index=True)
    manner = Column(String(50), nullable=True)  # phone, visit, site tour, ...
    content = Column(Text, nullable=True)
    next_step = Column(Text, nullable=True)

    archive = relationship(ArchiveFile, back_populates="tracking")

    def __str__(self):
        return f"{self.tracked_on}"


class ArchiveFiling(RecordMixin, Model):
    """The month-end filing (每月最后一天归档) of one archive: a snapshot, on time or late."""

    __tablename__ = "cus_archive_filing"
    __table_args__ = (UniqueConstraint("archive_id", "period", name="uq_cus_filing_period"),)

    id = Column(Integer, primary_key=True)
    archive_id = Column(Integer, ForeignKey("cus_archive_file.id"), nullable=False, index=True)
    manager_id = Column(Integer, ForeignKey("ab_user.id"), nullable=False, index=True)
    period = Column(String(7), nullable=False, index=True)  # YYYY-MM
    filed_at = Column(DateTime, nullable=False)
    due_at = Column(DateTime, nullable=False)
    late = Column(Boolean, nullable=False, default=False, index=True)
    snapshot = Column(Text, nullable=True)

    archive = relationship(ArchiveFile, back_populates="filings")
    manager = relationship(User, foreign_keys=[manager_id])

    def __str__(self):
        return f"{self.period}"


class ArchiveAccessGrant(RecordMixin, VersionedMixin, Model):
    """The general manager's time-limited permission to read (CUS-06, 总经理允许)."""

    __tablename__ = "cus_access_grant"

    id = Column(Integer, primary_key=True)
    grantee_id = Column(Integer, ForeignKey("ab_user.id"), nullable=False, index=True)
    scope = Column(String(16), nullable=False, default=GrantScope.ARCHIVE,
                   info={"choices": GrantScope})
    archive_id = Column(Integer, ForeignKey("cus_archive_file.id"), nullable=True, index=True)
    registration_id = Column(Integer, ForeignKey("cus_daily_registration.id"), nullable=True,
                             index=True)
    reason = Column(Text, nullable=False)
    valid_from = Column(DateTime, nullable=False)
    valid_until = Column(DateTime, nullable=False, index=True)
    revoked_at = Column(DateTime, nullable=True)

    grantee = relationship(User, foreign_keys=[grantee_id])
    archive = relationship(ArchiveFile)
    registration = relationship(DailyRegistration)

    def __str__(self):
        return f"{user_display_name(self.grantee)} #{self.id}"


archive_loan_file = Table(
    "cus_archive_loan_file", Model.metadata,
    Column("loan_id", Integer, ForeignKey("cus_archive_loan.id"), primary_key=True),
    Column("archive_id", Integer, ForeignKey("cus_archive_file.id"), primary_key=True),
    # Which loans took a file: the primary key only serves lookups by loan.
    Index("ix_cus_archive_loan_file_archive_id", "archive_id"),
)


class ArchiveLoan(RecordMixin, VersionedMixin, Model):
    """An application to borrow archives (档案使用申请) and, once issued, its lending-register entry (CUS-09)."""

    __tablename__ = "cus_archive_loan"

    id = Column(Integer, primary_key=True)
    borrower_id = Column(Integer, ForeignKey("ab_user.id"), nullable=False, index=True)
    purpose = Column(Text, nullable=False)
    expected_return = Column(Date, nullable=False)
    status = Column(String(16), nullable=False, default=LoanStatus.APPLIED, index=True,
                    info={"choices": LoanStatus})
    register_no = Column(String(32), nullable=True, unique=True)
    issued_at = Column(DateTime, nullable=True, index=True)
    due_on = Column(Date, nullable=True, index=True)
    returned_at = Column(DateTime, nullable=True)

    borrower = relationship(User, foreign_keys=[borrower_id])
    files = relationship(ArchiveFile, secondary=archive_loan_file)

    def __str__(self):
        return self.register_no or f"#{self.id}"


class ArchiveDestruction(RecordMixin, VersionedMixin, Model):
    """A destruction of an archive past its retention period, and its record (销毁记录, CUS-10)."""

    __tablename__ = "cus_archive_destruction"

    id = Column(Integer, primary_key=True)
    archive_id = Column(Integer, ForeignKey("cus_archive_file.id"), nullable=False, index=True)
    status = Column(String(16), nullable=False, default=DestructionStatus.APPLIED, index=True,
                    info={"choices": DestructionStatus})
    reason = Column(Text, nullable=False)
    retention_ends = Column(Date, nullable=False)
    method = Column(String(100), nullable=True)
    executor = Column(String(100), nullable=True)
    witness = Column(String(100), nullable=True)
    destroyed_on = Column(Date, nullable=True)
    purge_summary = Column(Text, nullable=True)

    archive = relationship(ArchiveFile)

    def __str__(self):
        return f"#{self.id}"
