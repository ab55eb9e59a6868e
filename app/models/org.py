"""Organisation: departments, staff profiles, absences with delegates, duty roster.

These tables answer the questions later workflows ask: who heads a
department, who someone reports to (recusal), who acts for an absent
approver (substitutes), and who is on duty on a given day (routing).
"""
from flask_appbuilder.security.sqla.models import User
from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    Boolean, Column, Date, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint,
)
from sqlalchemy.orm import backref, relationship

from .base import ChoiceSet, Model, RecordMixin, VersionedMixin


def user_display_name(user):
    """The name people know a user by: the staff profile's, else family + given name."""
    if user is None:
        return ""
    profile = getattr(user, "staff_profile", None)
    if profile is not None and profile.display_name:
        return profile.display_name
    return f"{user.last_name or ''}{user.first_name or ''}" or user.username


# FAB shows a user as "given family"; Chinese names read family name first, and
# staff know each other by the name on their profile.
User.__str__ = user_display_name


class Department(RecordMixin, Model):
    """A department (部门) or unit of the organisation, with the user who heads it."""

    __tablename__ = "department"

    id = Column(Integer, primary_key=True)
    code = Column(String(32), unique=True, nullable=False)
    name = Column(String(100), nullable=False)
    parent_id = Column(Integer, ForeignKey("department.id"), nullable=True, index=True)
    head_id = Column(Integer, ForeignKey("ab_user.id"), nullable=True, index=True)
    active = Column(Boolean, nullable=False, default=True)

    parent = relationship("Department", remote_side=[id])
    head = relationship(User, foreign_keys=[head_id])

    def __str__(self):
        return self.name


class StaffProfile(RecordMixin, Model):
    """A member of staff: the FAB user plus department, position and supervisor."""

    __tablename__ = "staff_profile"

    id = Column(Integer, primary_key=True)
    user_id = Column(Integer, ForeignKey("ab_user.id"), nullable=False, unique=True)
    display_name = Column(String(64), nullable=False)
    employee_no = Column(String(32), unique=True, nullable=True)
    department_id = Column(Integer, ForeignKey("department.id"), nullable=True, index=True)
    position = Column(String(64), nullable=True)
    supervisor_id = Column(Integer, ForeignKey("ab_user.id"), nullable=True, index=True)
    phone = Column(String(32), nullable=True)
    # Responsibility area (责任区), used to route visits to the area's assistant.
    area = Column(String(64), nullable=True)
    active = Column(Boolean, nullable=False, default=True)

    user = relationship(User, foreign_keys=[user_id], backref=backref("staff_profile", uselist=False))
    department = relationship(Department, foreign_keys=[department_id])
    supervisor = relationship(User, foreign_keys=[supervisor_id])

    def __str__(self):
        return self.display_name


class AbsenceStatus(ChoiceSet):
    REQUESTED = "requested"
    APPROVED = "approved"
    REJECTED = "rejected"
    CANCELLED = "cancelled"
    CHOICES = [
        (REQUESTED, _l("Requested"), "warning"),
        (APPROVED, _l("Approved"), "success"),
        (REJECTED, _l("Rejected"), "danger"),
        (CANCELLED, _l("Cancelled"), "default"),
    ]


class Absence(RecordMixin, VersionedMixin, Model):
    """An absence (请假/外出) from one time to another, optionally naming a delegate.

    Only an approved absence counts: while it runs, the delegate acts for the
    absent person, and workflows may let a substitute decide in their place.
    """

    __tablename__ = "absence"

    id = Column(Integer, primary_key=True)
    user_id = Column(Integer, ForeignKey("ab_user.id"), nullable=False, index=True)
    delegate_id = Column(Integer, ForeignKey("ab_user.id"), nullable=True, index=True)
    starts_at = Column(DateTime, nullable=False)
    ends_at = Column(DateTime, nullable=False)
    reason = Column(Text, nullable=True)
    status = Column(
        String(20), nullable=False, default=AbsenceStatus.REQUESTED, index=True,
        info={"choices": AbsenceStatus},
    )

    user = relationship(User, foreign_keys=[user_id])
    delegate = relationship(User, foreign_keys=[delegate_id])

    def __str__(self):
        return f"{user_display_name(self.user)} {self.starts_at:%Y-%m-%d}–{self.ends_at:%Y-%m-%d}"


class DutyKind(ChoiceSet):
    FRONT_DESK = "front_desk"
    SALES_RECEPTION = "sales_reception"
    CHOICES = [
        (FRONT_DESK, _l("Front desk"), "info"),
        (SALES_RECEPTION, _l("Sales reception"), "primary"),
    ]


class DutyAssignment(RecordMixin, Model):
    """Who is on duty (当班) on a day, for one kind of duty such as sales reception."""

    __tablename__ = "duty_assignment"
    __table_args__ = (UniqueConstraint("duty_date", "duty_kind", "user_id"),)

    id = Column(Integer, primary_key=True)
    duty_date = Column(Date, nullable=False, index=True)
    duty_kind = Column(String(32), nullable=False, info={"choices": DutyKind})
    user_id = Column(Integer, ForeignKey("ab_user.id"), nullable=False, index=True)
    note = Column(String(200), nullable=True)

    user = relationship(User, foreign_keys=[user_id])

    def __str__(self):
        return f"{self.duty_date} {self.duty_kind} {user_display_name(self.user)}"
