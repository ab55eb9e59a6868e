"""Organisation queries and changes: heads, reporting lines, absences, duty roster."""
from flask_babel import gettext as _
from flask_appbuilder.security.sqla.models import User

from ..extensions import db
from ..models.base import utcnow
from ..models.org import Absence, AbsenceStatus, DutyAssignment, StaffProfile
from .errors import InvalidInput, PermissionRefused
from .transaction import transactional


# ---------------------------------------------------------------------------
# Queries
# ---------------------------------------------------------------------------

def profile_of(user):
    return db.session.query(StaffProfile).filter_by(user_id=user.id).one_or_none()


def department_of(user):
    profile = profile_of(user)
    return profile.department if profile is not None else None


def department_head_of(user):
    """The head of ``user``'s department; for the head themself, their supervisor."""
    profile = profile_of(user)
    if profile is None:
        return None
    department = profile.department
    if department is not None and department.head_id not in (None, user.id):
        return department.head
    return profile.supervisor


def reporting_line(user, limit=20):
    """``user``'s supervisors, nearest first (stops on a loop)."""
    line, seen, current = [], {user.id}, user
    while len(line) < limit:
        profile = profile_of(current)
        if profile is None or profile.supervisor is None or profile.supervisor_id in seen:
            break
        current = profile.supervisor
        seen.add(current.id)
        line.append(current)
    return line


def _active_absences(user, at):
    return db.session.query(Absence).filter(
        Absence.user_id == user.id,
        Absence.status == AbsenceStatus.APPROVED,
        Absence.starts_at <= at,
        Absence.ends_at > at,
    )


def is_absent(user, at=None):
    """True while an approved absence of ``user`` runs."""
    return db.session.query(_active_absences(user, at or utcnow()).exists()).scalar()


def acting_delegate_ids(user, at=None):
    """Ids of the users who act for ``user`` at ``at`` (delegates of running absences)."""
    return {
        absence.delegate_id
        for absence in _active_absences(user, at or utcnow())
        if absence.delegate_id is not None
    }


def on_duty(day, duty_kind):
    """Users on duty of ``duty_kind`` on ``day``, in roster order."""
    rows = (
        db.session.query(DutyAssignment)
        .filter_by(duty_date=day, duty_kind=duty_kind)
        .order_by(DutyAssignment.id)
        .all()
    )
    return [row.user for row in rows]


def users_with_role(role_name):
    return (
        db.session.query(User)
        .filter(User.active.is_(True), User.roles.any(name=role_name))
        .order_by(User.id)
        .all()
    )


# ---------------------------------------------------------------------------
# Changes
# ---------------------------------------------------------------------------

def validate_absence(user_id, delegate_id, starts_at, ends_at):
    """Check an absence request; raises InvalidInput with per-field messages."""
    errors = {}
    if starts_at is None:
        errors["starts_at"] = _("Required.")
    if ends_at is None:
        errors["ends_at"] = _("Required.")
    if starts_at and ends_at and ends_at <= starts_at:
        errors["ends_at"] = _("The end must be after the start.")
    if delegate_id is not None and delegate_id == user_id:
        errors["delegate"] = _("Nobody can be their own delegate.")
    if errors:
        raise InvalidInput(errors=errors)


def ensure_absence_editable(absence, actor):
    """An absence may be corrected only while requested, by its person or its author."""
    if absence.status != AbsenceStatus.REQUESTED:
        raise PermissionRefused(_("Only a requested absence can be changed; this one is decided."))
    if actor.id not in (absence.user_id, absence.created_by_id):
        raise PermissionRefused(_("Only the absent person or whoever recorded the absence may change it."))


@transactional
def request_absence(user, starts_at, ends_at, reason=None, delegate=None):
    """Record an absence of ``user``; it counts once its approver approves it."""
    validate_absence(user.id, delegate.id if delegate else None, starts_at, ends_at)
    absence = Absence(
        user=user, delegate=delegate, starts_at=starts_at, ends_at=ends_at, reason=reason,
        status=AbsenceStatus.REQUESTED,
    )
    db.session.add(absence)
    db.session.flush()
    _start_approval(absence)
    return absence


@transactional
def start_absence_approval(absence_id):
    """For an absence saved through a form: open its approval deadline and tell the approver."""
    absence = db.session.get(Absence, absence_id)
    if absence is not None and absence.status == AbsenceStatus.REQUESTED:
        _start_approval(absence)
    return absence


def _start_approval(absence):
    from ..deadlines import record_path
    from ..workflows.absences import ABSENCE_WORKFLOW
    from .notifications import notify

    deadline = ABSENCE_WORKFLOW.start(absence)
    approver = department_head_of(absence.user)
    if approver is not None:
        from ..models.org import user_display_name
        from ..timeutil import format_local

        notify(
            approver,
            _("Absence request of %(name)s waits for your approval", name=user_display_name(absence.user)),
            _("%(name)s asks to be away from %(start)s until %(end)s.",
              name=user_display_name(absence.user), start=format_local(absence.starts_at),
              end=format_local(absence.ends_at)),
            link=record_path("absence", absence.id),
            dedupe_key=f"absence:{absence.id}:requested",
        )
    return deadline


def _register_absence_attachments():
    from flask_babel import lazy_gettext as _l

    from .attachments import register_attachment_kinds

    register_attachment_kinds(Absence, [("certificate", _l("Supporting document"))])


_register_absence_attachments()
