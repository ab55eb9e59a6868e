"""Return visits (回访, VIS-01 to VIS-13): every state change.

Plans (VIS-01, VIS-05) and proposals from the triggers (VIS-02 to VIS-04),
the visit record with signature, phone rule, issues and rectification
(VIS-06, VIS-08, VIS-10, VIS-11, VIS-12), the supervisor's review (VIS-07),
open letters (VIS-09), the light trigger records (maintenance jobs,
community events), visibility, and the monthly statistics (VIS-13).

Web forms, the REST API, the CLI and the demo data all call these functions.
"""
import datetime
import io
import math

from flask import has_app_context
from flask_appbuilder.security.sqla.models import User
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, event, func, or_, select
from sqlalchemy.orm import Session

from ..extensions import db
from ..models.base import utcnow
from ..models.complaints import Complaint, ComplaintConflict, ComplaintSeverity, ComplaintStatus
from ..models.org import StaffProfile, user_display_name
from ..models.visits import (
    CommunityEvent, MaintenanceJob, OpenLetter, ReturnVisit, VisitIssue, VisitMode,
    VisitRectification, VisitSatisfaction, VisitStatus, VisitTrigger,
)
from ..security.visibility import ensure_visible, is_admin, register_visibility, visible_query
from .complaints import (
    _choice, _clean, _flag, _int_or_none, _parse_datetime, conflicted_user_ids, month_bounds,
)
from .errors import InvalidInput, PermissionRefused, RecordNotVisible
from .settings import get_setting, register_setting
from .transaction import transactional
from .versions import ensure_current_version

S = VisitStatus
T = VisitTrigger

VISIT_PREFIX = "HF"
LETTER_PREFIX = "GKX"
JOB_PREFIX = "WX"
VISIT_DUE_KIND = "return_visit_due"
ISSUE_REPLY_KIND = "visit_issue_reply"
RECTIFICATION_KIND = "visit_rectification"

SUPERVISOR = "ServiceSupervisor"
MANAGER = "GeneralManager"
ASSISTANT = "PropertyAssistant"
DEPARTMENT_SUPERVISOR = "DepartmentSupervisor"
CLERK = "CultureClerk"
# VIS-02: the visitor of a complaint by its severity.
VISITOR_BY_SEVERITY = {
    ComplaintSeverity.GENERAL: ASSISTANT,
    ComplaintSeverity.IMPORTANT: DEPARTMENT_SUPERVISOR,
    ComplaintSeverity.MAJOR: MANAGER,
}
# VIS-05: holiday, move-in and emergency visits: whoever the company manager sends.
MANUAL_VISITOR_ROLES = (MANAGER, DEPARTMENT_SUPERVISOR, SUPERVISOR, ASSISTANT, CLERK)
# Who sees every visit (apart from the recused, CMP-05).
READER_ROLES = frozenset({SUPERVISOR, MANAGER})
JOB_ROLES = frozenset({SUPERVISOR, DEPARTMENT_SUPERVISOR, ASSISTANT})
EVENT_ROLES = frozenset({SUPERVISOR, CLERK})
LETTER_ROLES = frozenset({SUPERVISOR, MANAGER})
SIGNATURE_EXTENSIONS = ("png", "jpg", "jpeg")

register_setting("VIS_COMPLAINT_WINDOW_DAYS", 3,
                 _l("Return visits: days after a complaint is resolved within which it is "
                    "visited"), minimum=1, maximum=60, rule="VIS-02")
register_setting("VIS_COMPLAINT_RATE", 50,
                 _l("Return visits: minimum visit rate of resolved complaints, in percent"),
                 minimum=0, maximum=100, rule="VIS-02")
register_setting("VIS_MAINTENANCE_WINDOW_DAYS", 30,
                 _l("Return visits: days after a maintenance job is completed within which it "
                    "is visited"), minimum=1, maximum=180, rule="VIS-03")
register_setting("VIS_MAINTENANCE_RATE", 30,
                 _l("Return visits: minimum visit rate of completed maintenance jobs, in "
                    "percent"), minimum=0, maximum=100, rule="VIS-03")
register_setting("VIS_EVENT_WINDOW_DAYS", 30,
                 _l("Return visits: days after a community event within which its participants "
                    "are visited"), minimum=1, maximum=180, rule="VIS-04")
register_setting("VIS_EVENT_RATE", 10,
                 _l("Return visits: minimum share of a community event's participants visited, "
                    "in percent"), minimum=0, maximum=100, rule="VIS-04")
register_setting("VIS_PHONE_FROM_SEQUENCE", 3,
                 _l("Return visits: from which visit of the same complaint a phone visit is "
                    "allowed (not for a major complaint)"), minimum=1, maximum=20, rule="VIS-08")
register_setting("VIS_PROPOSE_LOOKBACK_DAYS", 90,
                 _l("Return visits: how far back resolved complaints, jobs and events are "
                    "proposed for a visit, in days"), minimum=1, maximum=3660, rule="VIS-01")
register_setting("VIS_SIGNATURE_MAX_KB", 2048,
                 _l("Return visits: largest signature image accepted, in KB"),
                 minimum=16, maximum=20480, rule="VIS-06")

WINDOW_SETTINGS = {
    T.COMPLAINT: ("VIS_COMPLAINT_WINDOW_DAYS", "VIS_COMPLAINT_RATE"),
    T.MAINTENANCE: ("VIS_MAINTENANCE_WINDOW_DAYS", "VIS_MAINTENANCE_RATE"),
    T.EVENT: ("VIS_EVENT_WINDOW_DAYS", "VIS_EVENT_RATE"),
}


def _roles(user):
    return {role.name for role in getattr(user, "roles", []) or []}


def _workflow():
    from ..workflows.visits import VISIT_WORKFLOW

    return VISIT_WORKFLOW


def _year():
    from ..deadlines import local_today

    return local_today().year


def _number(prefix, width=5):
    from .numbering import take_number

    year = _year()
    return f"{prefix}-{year}-{take_number(prefix, year):0{width}d}"


def _link(visit):
    from ..deadlines import record_path

    return record_path("return_visit", visit.id)


def _parse_due(value, field, errors):
    """A due date: a date means the end of that local day; a datetime is taken as it is."""
    from ..deadlines import end_of_local_day

    if value in (None, ""):
        return None
    if isinstance(value, datetime.date) and not isinstance(value, datetime.datetime):
        return end_of_local_day(value)
    text = str(value).strip()
    if len(text) == 10:
        try:
            return end_of_local_day(datetime.date.fromisoformat(text))
        except ValueError:
            errors[field] = _("Not a valid date (YYYY-MM-DD).")
            return None
    return _parse_datetime(value, field, errors)


def _user(value, field, errors):
    user_id = _int_or_none(value, field, errors)
    if user_id is None:
        return None
    user = db.session.get(User, user_id)
    if user is None:
        errors[field] = _("Not a valid choice.")
    return user


def get_visit(visit_id, actor):
    """The visit ``actor`` may see, else RecordNotVisible (404)."""
    visit = db.session.get(ReturnVisit, visit_id) if visit_id else None
    return ensure_visible(actor, visit)


# ---------------------------------------------------------------------------
# Visibility: supervisor and company manager see all, the visitor their own,
# the complaint's respondent (and the recused) never a visit of that complaint.
# ---------------------------------------------------------------------------

def can_see_visit(visit, user):
    if user is None:
        return False
    if visit.complaint is not None and user.id in conflicted_user_ids(visit.complaint):
        return False
    if _roles(user) & READER_ROLES:
        return True
    if user.id in {visit.visitor_id, visit.planned_by_id, visit.created_by_id,
                   visit.recorded_by_id, visit.reviewed_by_id}:
        return True
    return db.session.query(VisitRectification.id).filter_by(
        visit_id=visit.id, assignee_id=user.id).first() is not None


def filter_visits(query, user):
    """The SQL form of :func:`can_see_visit` for lists, the API and exports."""
    user_id = getattr(user, "id", None)
    if user_id is None:
        return query.filter(ReturnVisit.id.is_(None))
    recused = select(Complaint.id).where(Complaint.respondent_user_id == user_id).union(
        select(ComplaintConflict.complaint_id).where(ComplaintConflict.user_id == user_id,
                                                     ComplaintConflict.active.is_(True)))
    query = query.filter(or_(ReturnVisit.complaint_id.is_(None),
                             ReturnVisit.complaint_id.not_in(recused)))
    if _roles(user) & READER_ROLES:
        return query
    assigned = select(VisitRectification.visit_id).where(VisitRectification.assignee_id == user_id)
    return query.filter(or_(
        ReturnVisit.visitor_id == user_id, ReturnVisit.planned_by_id == user_id,
        ReturnVisit.created_by_id == user_id, ReturnVisit.recorded_by_id == user_id,
        ReturnVisit.reviewed_by_id == user_id, ReturnVisit.id.in_(assigned),
    ))


register_visibility(ReturnVisit, filter_visits, can_see_visit)


def visible_visits_query(user):
    """The visits ``user`` may see, as a query."""
    return visible_query(db.session.query(ReturnVisit), ReturnVisit, user)


# ---------------------------------------------------------------------------
# Who visits (VIS-02 to VIS-05)
# ---------------------------------------------------------------------------

def visitor_roles(trigger, complaint=None):
    """The roles the rules name as visitor of a trigger (of a complaint: by its severity)."""
    if trigger == T.COMPLAINT:
        severity = complaint.severity if complaint is not None else ComplaintSeverity.GENERAL
        return (VISITOR_BY_SEVERITY.get(severity, ASSISTANT),)
    if trigger == T.MAINTENANCE:
        return (ASSISTANT,)
    if trigger == T.EVENT:
        return (CLERK,)
    return MANUAL_VISITOR_ROLES


def _role_names_label(roles):
    from ..security.roles import role_label
    from .complaints import _locale_is_en

    locale = "en" if _locale_is_en() else "zh"
    return " / ".join(role_label(role, locale) for role in roles)


def visitor_conflict(visit, user):
    """True when ``user`` is the complaint's respondent or recused from it (never visits)."""
    return (visit.complaint is not None and user is not None
            and user.id in conflicted_user_ids(visit.complaint))


def visitor_role_refusal(visit, user):
    """Why ``user`` may not visit for ``visit``'s trigger, or None (VIS-02 to VIS-04)."""
    return _role_refusal(visit.trigger, visit.complaint, user)


def _role_refusal(trigger, complaint, user):
    roles = visitor_roles(trigger, complaint)
    if user is None or not user.active or not (_roles(user) & set(roles)):
        return _("This visit is made by the %(role)s (VIS-02 to VIS-05); %(name)s does not "
                 "hold that role.", role=_role_names_label(roles),
                 name=user_display_name(user) if user is not None else "-")
    return None


def check_visitor(trigger, complaint, user):
    """Raise InvalidInput (field ``visitor_id``) unless ``user`` may visit for this trigger."""
    refusal = _role_refusal(trigger, complaint, user)
    if refusal:
        raise InvalidInput(refusal, {"visitor_id": refusal})
    if complaint is not None and user.id in conflicted_user_ids(complaint):
        message = _("%(name)s is the respondent of this complaint or recused from it and "
                    "cannot visit the complainant.", name=user_display_name(user))
        raise InvalidInput(message, {"visitor_id": message})


def _candidates(role, excluded, **profile_filter):
    query = db.session.query(User).join(StaffProfile, StaffProfile.user_id == User.id).filter(
        User.active.is_(True), User.roles.any(name=role), StaffProfile.active.is_(True))
    for column, value in profile_filter.items():
        query = query.filter(getattr(StaffProfile, column) == value)
    return [user for user in query.order_by(User.id) if user.id not in excluded]


def default_visitor(trigger, source):
    """The visitor the rules name for a trigger's source record, or None (the supervisor assigns).

    General complaint: the property assistant of the respondent's area, else
    of the respondent department; important: that department's supervisor
    (its head first); major: the company manager. Maintenance: the job's
    assistant, else the area's; event: its clerk, else any clerk. Never the
    respondent or a recused person.
    """
    if trigger == T.COMPLAINT:
        return _complaint_visitor(source)
    if trigger == T.MAINTENANCE:
        if source.assistant is not None and source.assistant.active and ASSISTANT in _roles(
                source.assistant):
            return source.assistant
        found = _candidates(ASSISTANT, set(), area=source.area)
        return found[0] if found else None
    if trigger == T.EVENT:
        if source.clerk is not None and source.clerk.active and CLERK in _roles(source.clerk):
            return source.clerk
        found = _candidates(CLERK, set())
        return found[0] if found else None
    return None


def _complaint_visitor(complaint):
    excluded = conflicted_user_ids(complaint)
    role = visitor_roles(T.COMPLAINT, complaint)[0]
    respondent_profile = None
    if complaint.respondent_user_id is not None:
        respondent_profile = db.session.query(StaffProfile).filter_by(
            user_id=complaint.respondent_user_id).one_or_none()
    department_id = complaint.respondent_department_id or (
        respondent_profile.department_id if respondent_profile is not None else None)
    if role == ASSISTANT:
        if respondent_profile is not None and respondent_profile.area:
            found = _candidates(ASSISTANT, excluded, area=respondent_profile.area)
            if found:
                return found[0]
        if department_id is not None:
            found = _candidates(ASSISTANT, excluded, department_id=department_id)
            if found:
                return found[0]
        return None
    if role == DEPARTMENT_SUPERVISOR:
        department = complaint.respondent_department
        head = department.head if department is not None else None
        if (head is not None and head.active and head.id not in excluded
                and DEPARTMENT_SUPERVISOR in _roles(head)):
            return head
        if department_id is not None:
            found = _candidates(DEPARTMENT_SUPERVISOR, excluded, department_id=department_id)
            if found:
                return found[0]
        return None
    from .org import users_with_role

    for user in users_with_role(MANAGER):
        if user.id not in excluded:
            return user
    return None


# ---------------------------------------------------------------------------
# Planning (VIS-01 to VIS-05)
# ---------------------------------------------------------------------------

def is_exempt(complaint):
    """VIS-11: anonymous complaints and letter-only ones need no visit."""
    return bool(complaint.anonymous or complaint.reply_letter_only)


def exempt_without_letter(visit):
    """VIS-11: the visit follows an exempt complaint whose reply letter is not attached."""
    from .complaints import has_reply_letter

    complaint = visit.complaint
    return complaint is not None and is_exempt(complaint) and not has_reply_letter(complaint)


def trigger_time(trigger, source):
    """When the trigger happened: resolution, completion or the event's end."""
    if trigger == T.COMPLAINT:
        return source.closed_at
    if trigger == T.MAINTENANCE:
        return source.completed_at
    if trigger == T.EVENT:
        return source.ended_at
    return None


def window_days(trigger):
    return get_setting(WINDOW_SETTINGS[trigger][0])


def target_rate(trigger):
    return get_setting(WINDOW_SETTINGS[trigger][1]) / 100


def due_after(trigger, at):
    """End of the trigger's window (calendar days, local time) after ``at``."""
    from ..deadlines import add_calendar_days

    return add_calendar_days(at, window_days(trigger))


def _open_due_deadline(visit):
    from ..deadlines import open_deadline

    deadline = open_deadline("return_visit", visit.id, S.PLANNED, VISIT_DUE_KIND, utcnow(), 0,
                             working_days=False, assignee=visit.visitor_id,
                             assignee_role=None if visit.visitor_id else SUPERVISOR)
    deadline.due_at = visit.due_at
    return deadline


def _announce(visit):
    """Tell the visitor (or, with nobody named yet, the supervisors) about a planned visit."""
    from ..timeutil import format_local
    from .notifications import notify, notify_role

    customer = visit.customer_name or visit.address or "-"
    if visit.visitor is not None:
        notify(visit.visitor,
               _("Return visit %(number)s planned for you", number=visit.number),
               _("%(trigger)s: visit %(customer)s by %(due)s.",
                 trigger=T.label(visit.trigger), customer=customer,
                 due=format_local(visit.due_at)),
               link=_link(visit),
               dedupe_key=f"return_visit:{visit.id}:visitor:{visit.visitor_id}")
    else:
        notify_role(SUPERVISOR,
                    _("Return visit %(number)s needs a visitor", number=visit.number),
                    _("No one the rules name could be found for this visit (%(trigger)s, "
                      "%(customer)s); please assign a visitor.",
                      trigger=T.label(visit.trigger), customer=customer),
                    link=_link(visit), dedupe_key=f"return_visit:{visit.id}:unassigned")


def _create_visit(trigger, source, visitor, planned_by, due_at, sequence=1, previous=None,
                  customer=None, note=None):
    customer = customer or _customer_of(trigger, source)
    visit = ReturnVisit(
        number=_number(VISIT_PREFIX), trigger=trigger, sequence=sequence,
        complaint=source if trigger == T.COMPLAINT else None,
        maintenance_job=source if trigger == T.MAINTENANCE else None,
        community_event=source if trigger == T.EVENT else None,
        previous_visit=previous, visitor=visitor,
        planned_by_id=getattr(planned_by, "id", None), due_at=due_at, plan_note=note,
        status=S.PLANNED, needs_another_visit=False, **customer)
    db.session.add(visit)
    db.session.flush()
    _open_due_deadline(visit)
    _announce(visit)
    return visit


def _customer_of(trigger, source):
    if trigger == T.COMPLAINT and source is not None:
        return dict(customer_name=None if source.anonymous else source.complainant_name,
                    customer_phone=source.complainant_phone, address=source.complainant_address)
    if trigger == T.MAINTENANCE and source is not None:
        return dict(customer_name=source.customer_name, customer_phone=source.customer_phone,
                    address=source.address)
    if trigger == T.EVENT and source is not None:
        return dict(customer_name=None, customer_phone=None, address=source.location)
    return dict(customer_name=None, customer_phone=None, address=None)


SOURCES = {T.COMPLAINT: ("complaint_id", Complaint), T.MAINTENANCE: ("maintenance_job_id",
                                                                     MaintenanceJob),
           T.EVENT: ("community_event_id", CommunityEvent)}


@transactional
def plan_visit(actor, data):
    """Plan one visit by hand (VIS-01, VIS-05); returns the new ReturnVisit.

    ``data`` keys are column names: trigger, complaint_id / maintenance_job_id /
    community_event_id (for those triggers), customer_name, customer_phone,
    address, visitor_id (default: the visitor the rules name), due_at (default:
    the trigger's window; a date means the end of that day), plan_note. The
    supervisor plans any trigger; the company manager plans holiday, move-in
    and emergency visits. Raises PermissionRefused, InvalidInput (visitor of
    the wrong role, the respondent, a duplicate complaint, a past due date...).
    """
    roles = _roles(actor)
    errors = {}
    trigger = _choice(data.get("trigger"), T, "trigger", errors)
    if errors:
        raise InvalidInput(errors=errors)
    if not (is_admin(actor) or SUPERVISOR in roles
            or (MANAGER in roles and trigger in T.MANUAL)):
        raise PermissionRefused(_(
            "The customer-service supervisor plans visits; the company manager plans holiday, "
            "move-in and emergency visits (VIS-01, VIS-05)."))
    source = None
    if trigger in SOURCES:
        field, model = SOURCES[trigger]
        source_id = _int_or_none(data.get(field), field, errors)
        source = db.session.get(model, source_id) if source_id else None
        if source is None:
            errors.setdefault(field, _("Required for this kind of visit."))
        elif trigger == T.COMPLAINT:
            from ..security.visibility import can_see

            if not can_see(actor, source):
                errors[field] = _("Not a valid choice.")
            elif source.status == ComplaintStatus.MERGED or source.master_id is not None:
                errors[field] = _("This complaint is a duplicate of %(number)s: visit for the "
                                  "master complaint, which counts once.",
                                  number=source.master.number if source.master else "")
        elif trigger == T.MAINTENANCE and source.completed_at is None:
            errors[field] = _("The maintenance job is not completed yet.")
    customer = {key: _clean(data.get(key), 200) for key in
                ("customer_name", "customer_phone", "address") if _clean(data.get(key))}
    if trigger in T.MANUAL and not (customer.get("customer_name") or customer.get("address")):
        errors["customer_name"] = _("Name the customer or the address to visit.")
    due_at = _parse_due(data.get("due_at"), "due_at", errors)
    if errors:
        raise InvalidInput(errors=errors)
    if due_at is None:
        at = trigger_time(trigger, source) if source is not None else None
        if trigger in WINDOW_SETTINGS and at is not None:
            due_at = max(due_after(trigger, at), _end_of_today())
        else:
            errors["due_at"] = _("Required.")
    elif due_at < utcnow() - datetime.timedelta(minutes=5):
        errors["due_at"] = _("The due date cannot be in the past.")
    if errors:
        raise InvalidInput(errors=errors)
    visitor_value = data.get("visitor_id")
    if visitor_value in (None, "", "__None"):
        visitor = default_visitor(trigger, source) if source is not None else None
        if visitor is None and trigger in T.MANUAL:
            raise InvalidInput(errors={"visitor_id": _("Choose who visits.")})
    else:
        visitor = _user(visitor_value, "visitor_id", errors)
        if errors:
            raise InvalidInput(errors=errors)
        check_visitor(trigger, source if trigger == T.COMPLAINT else None, visitor)
    merged = dict(_customer_of(trigger, source), **customer)
    return _create_visit(trigger, source, visitor, actor, due_at, customer=merged,
                         note=_clean(data.get("plan_note")))


def _end_of_today():
    from ..deadlines import end_of_local_day, local_today

    return end_of_local_day(local_today())


def _has_first_visit(field, source_id):
    return db.session.query(ReturnVisit.id).filter(
        getattr(ReturnVisit, field) == source_id).first() is not None


def _lock(model, record_id):
    """Lock the trigger's row (PostgreSQL) so that two proposers plan its visit once."""
    return db.session.query(model).filter_by(id=record_id).with_for_update().one()


def propose_for_complaint(complaint, planned_by=None):
    """Plan the first visit of a resolved complaint unless exempt, a duplicate or planned already.

    In the caller's transaction; returns the visit or None.
    """
    if (complaint.closed_at is None or is_exempt(complaint) or complaint.master_id is not None
            or complaint.status == ComplaintStatus.MERGED):
        return None
    if _has_first_visit("complaint_id", complaint.id):
        return None
    return _create_visit(T.COMPLAINT, complaint, default_visitor(T.COMPLAINT, complaint),
                         planned_by, due_after(T.COMPLAINT, complaint.closed_at))


def propose_for_job(job, planned_by=None):
    if job.completed_at is None or _has_first_visit("maintenance_job_id", job.id):
        return None
    return _create_visit(T.MAINTENANCE, job, default_visitor(T.MAINTENANCE, job), planned_by,
                         due_after(T.MAINTENANCE, job.completed_at))


def event_visits_wanted(event):
    """VIS-04: visits to plan for an event: its target share of the participants, at least one."""
    return max(1, math.ceil((event.participants_count or 0) * target_rate(T.EVENT)))


def propose_for_event(event, planned_by=None, now=None):
    """Plan the event's missing first visits, up to :func:`event_visits_wanted`; returns them."""
    if event.ended_at is None or event.ended_at > (now or utcnow()):
        return []
    existing = db.session.query(func.count(ReturnVisit.id)).filter(
        ReturnVisit.community_event_id == event.id, ReturnVisit.sequence == 1).scalar()
    visitor = default_visitor(T.EVENT, event)
    due = due_after(T.EVENT, event.ended_at)
    return [_create_visit(T.EVENT, event, visitor, planned_by, due)
            for _index in range(event_visits_wanted(event) - existing)]


@transactional
def propose_visits(actor=None, now=None):
    """Plan the visits the triggers call for and that are not planned yet; returns how many.

    Resolved complaints (not exempt, not duplicates), completed maintenance
    jobs and ended community events of the last VIS_PROPOSE_LOOKBACK_DAYS,
    each with its due date and the visitor the rules name (VIS-02/03/04). A
    cancelled visit counts as planned (the supervisor decided). Idempotent
    (cron: ``flask visits propose``).
    """
    now = now or utcnow()
    since = now - datetime.timedelta(days=get_setting("VIS_PROPOSE_LOOKBACK_DAYS"))
    created = 0
    planned = select(ReturnVisit.complaint_id).where(ReturnVisit.complaint_id.is_not(None))
    complaint_ids = [row[0] for row in db.session.query(Complaint.id).filter(
        Complaint.status.in_(ComplaintStatus.RESOLVED), Complaint.closed_at >= since,
        Complaint.closed_at <= now, Complaint.anonymous.is_(False),
        Complaint.reply_letter_only.is_(False), Complaint.master_id.is_(None),
        Complaint.id.not_in(planned)).order_by(Complaint.closed_at)]
    for complaint_id in complaint_ids:
        created += propose_for_complaint(_lock(Complaint, complaint_id), actor) is not None
    planned = select(ReturnVisit.maintenance_job_id).where(
        ReturnVisit.maintenance_job_id.is_not(None))
    job_ids = [row[0] for row in db.session.query(MaintenanceJob.id).filter(
        MaintenanceJob.completed_at >= since, MaintenanceJob.completed_at <= now,
        MaintenanceJob.id.not_in(planned)).order_by(MaintenanceJob.completed_at)]
    for job_id in job_ids:
        created += propose_for_job(_lock(MaintenanceJob, job_id), actor) is not None
    event_ids = [row[0] for row in db.session.query(CommunityEvent.id).filter(
        CommunityEvent.ended_at >= since, CommunityEvent.ended_at <= now).order_by(
        CommunityEvent.ended_at)]
    for event_id in event_ids:
        created += len(propose_for_event(_lock(CommunityEvent, event_id), actor, now))
    return created


_PENDING = "visits_pending_complaints"


def propose_after_resolution(complaint, actor):
    """The complaints module's ``on_resolved`` hook: plan the visit of a case just closed.

    The hook runs inside the close step, before the case's new state is
    written; the visit is planned just before that transaction commits, so
    that the complaint row is written once and a rolled-back close plans nothing.
    """
    db.session().info.setdefault(_PENDING, {})[complaint.id] = getattr(actor, "id", None)


@event.listens_for(Session, "before_commit")
def _propose_pending(session):
    pending = session.info.pop(_PENDING, None)
    if not pending or not has_app_context():
        return
    for complaint_id, actor_id in pending.items():
        complaint = session.get(Complaint, complaint_id)
        if complaint is not None and complaint.status in ComplaintStatus.RESOLVED:
            propose_for_complaint(complaint, session.get(User, actor_id) if actor_id else None)


@event.listens_for(Session, "after_rollback")
def _forget_pending(session):
    session.info.pop(_PENDING, None)


def _register_listener():
    from . import complaints

    # Once per process, even if this module is imported again under another name.
    if not any(getattr(listener, "__name__", "") == "propose_after_resolution"
               for listener in complaints._RESOLVED_LISTENERS):
        complaints.on_resolved(propose_after_resolution)


_register_listener()


# ---------------------------------------------------------------------------
# Recording (VIS-06, VIS-08, VIS-10 to VIS-12)
# ---------------------------------------------------------------------------

def phone_allowed(visit):
    """VIS-08: a complaint's visit may be by phone from the n-th visit on, never a major one's.

    Maintenance, event and manual visits may be by phone (marked 电话回访, VIS-06).
    """
    if visit.trigger != T.COMPLAINT:
        return True
    complaint = visit.complaint
    if complaint is not None and complaint.severity == ComplaintSeverity.MAJOR:
        return False
    return (visit.sequence or 1) >= get_setting("VIS_PHONE_FROM_SEQUENCE")


def _signature_upload(signature_png, signature_file, errors):
    """The signature as (bytes, filename), checked: an image, within the size limit (VIS-06)."""
    limit = get_setting("VIS_SIGNATURE_MAX_KB") * 1024
    if signature_png:
        content, filename = bytes(signature_png), "signature.png"
    elif signature_file is not None and getattr(signature_file, "filename", None):
        from .attachments import clean_filename

        filename = clean_filename(signature_file.filename) or "signature"
        extension = filename.rpartition(".")[2].lower() if "." in filename else ""
        if extension not in SIGNATURE_EXTENSIONS:
            errors["signature"] = _("The signature must be an image (%(types)s).",
                                    types=", ".join(SIGNATURE_EXTENSIONS))
            return None
        content = signature_file.stream.read(limit + 1)
    else:
        return None
    if len(content) > limit:
        errors["signature"] = _("The signature image is larger than %(kb)s KB.",
                                kb=get_setting("VIS_SIGNATURE_MAX_KB"))
        return None
    from .attachments import sniff

    kind = sniff(content[:4096])
    if kind not in ("png", "jpeg"):
        errors["signature"] = _("The signature is not a PNG or JPEG image.")
        return None
    if kind == "png" and not filename.lower().endswith(".png"):
        filename += ".png"
    return content, filename


def _store_signature(visit, content, filename, actor):
    """Attach the signature to the visit in the caller's transaction (kind ``signature``)."""
    import uuid

    from werkzeug.datastructures import FileStorage

    from ..models.attachments import Attachment
    from .attachments import store_upload

    stored = store_upload(FileStorage(stream=io.BytesIO(content), filename=filename))
    attachment = Attachment(
        owner_table="return_visit", owner_id=visit.id, kind="signature",
        series_id=uuid.uuid4().hex, version=1, is_current=True,
        original_filename=stored.original_filename, content_type=stored.content_type,
        size_bytes=stored.size_bytes, sha256=stored.sha256, storage_key=stored.storage_key,
        note=visit.signer_name, created_by_id=actor.id, updated_by_id=actor.id)
    db.session.add(attachment)
    return attachment


def signature_of(visit):
    """The current signature attachment of a visit, or None."""
    from ..models.attachments import Attachment

    return db.session.query(Attachment).filter_by(
        owner_table="return_visit", owner_id=visit.id, kind="signature", is_current=True
    ).order_by(Attachment.id.desc()).first()


def _clean_issues(issues, visited_at, errors):
    rows = []
    for index, issue in enumerate(issues or ()):
        description = _clean((issue or {}).get("description"))
        answered = _flag(issue.get("answered_on_spot"))
        answer = _clean(issue.get("answer"))
        if not description:
            if answer or issue.get("agreed_reply_at"):
                errors[f"issues-{index}-description"] = _("Describe the issue.")
            continue  # an empty row of the form
        agreed = _parse_datetime(issue.get("agreed_reply_at"), f"issues-{index}-agreed_reply_at",
                                 errors)
        if answered and not answer:
            errors[f"issues-{index}-answer"] = _("Record the answer given on the spot.")
        if not answered:
            if agreed is None and f"issues-{index}-agreed_reply_at" not in errors:
                errors[f"issues-{index}-agreed_reply_at"] = _(
                    "An issue not answered on the spot needs the reply time agreed with the "
                    "customer (VIS-08).")
            elif agreed is not None and visited_at is not None and agreed <= visited_at:
                errors[f"issues-{index}-agreed_reply_at"] = _(
                    "The agreed reply time must be after the visit.")
        rows.append(dict(description=description, answered_on_spot=answered, answer=answer,
                         agreed_reply_at=None if answered else agreed))
    return rows


def _clean_rectification(data, visited_at, errors):
    data = data or {}
    assignee = _user(data.get("assignee_id"), "rectification-assignee_id", errors)
    description = _clean(data.get("description"))
    due_at = _parse_due(data.get("due_at"), "rectification-due_at", errors)
    if assignee is None and "rectification-assignee_id" not in errors:
        errors["rectification-assignee_id"] = _("Assign the rectification to someone (VIS-12).")
    elif assignee is not None and not assignee.active:
        errors["rectification-assignee_id"] = _("%(name)s is not an active user.",
                                                name=user_display_name(assignee))
    if not description:
        errors["rectification-description"] = _(
            "Say what is to be fixed, or why it cannot be fixed at once (VIS-12).")
    if due_at is None and "rectification-due_at" not in errors:
        errors["rectification-due_at"] = _("Set the date by which it is fixed.")
    elif due_at is not None and visited_at is not None and due_at <= visited_at:
        errors["rectification-due_at"] = _("The rectification is due after the visit.")
    return dict(assignee=assignee, description=description, due_at=due_at)


@transactional
def record_visit(visit_id, actor, version, data, issues=(), signature_png=None,
                 signature_file=None):
    """The visitor records a planned visit (planned → recorded); returns the visit.

    ``data``: mode, visited_at, satisfaction, summary, signer_name,
    needs_another_visit, next_visit_at, rectification ({assignee_id,
    description, due_at} or None), optionally customer_name / customer_phone /
    address. ``issues``: [{description, answered_on_spot, answer,
    agreed_reply_at}]. ``signature_png``: raw PNG bytes drawn on screen;
    ``signature_file``: an uploaded scan (FileStorage). Pass neither for a
    phone visit. Enforces VIS-06, VIS-08, VIS-02 (only the visitor), the
    respondent never, VIS-11 (letter), VIS-12, stale version. When another
    visit is needed, the next one (sequence + 1) is planned at once for the
    next visit date.
    """
    visit = get_visit(visit_id, actor)
    return _workflow().perform(visit, "record", actor, version, payload={
        "data": dict(data or {}), "issues": list(issues or ()),
        "signature_png": signature_png, "signature_file": signature_file})


def effect_record(ctx):
    """The record step's checks and changes (called by the workflow engine)."""
    from ..deadlines import open_deadline
    from .notifications import notify

    visit, actor, payload = ctx.record, ctx.actor, ctx.payload
    data = payload.get("data") or {}
    errors = {}
    mode = _choice(data.get("mode"), VisitMode, "mode", errors)
    if mode == VisitMode.PHONE and not phone_allowed(visit):
        errors["mode"] = (_("A visit for a major complaint is always made on site (VIS-08).")
                          if visit.complaint is not None
                          and visit.complaint.severity == ComplaintSeverity.MAJOR else
                          _("This complaint's visit number %(sequence)s must be on site; a phone "
                            "visit is allowed from visit number %(first)s on (VIS-08).",
                            sequence=visit.sequence,
                            first=get_setting("VIS_PHONE_FROM_SEQUENCE")))
    visited_at = _parse_datetime(data.get("visited_at"), "visited_at", errors, ctx.at)
    if visited_at is not None and visited_at > utcnow() + datetime.timedelta(minutes=5):
        errors["visited_at"] = _("The visit time cannot be in the future.")
    satisfaction = _choice(data.get("satisfaction"), VisitSatisfaction, "satisfaction", errors)
    summary = _clean(data.get("summary"))
    if not summary:
        errors["summary"] = _("Required.")
    signer_name = _clean(data.get("signer_name"), 100)
    signature = _signature_upload(payload.get("signature_png"), payload.get("signature_file"),
                                  errors)
    if mode == VisitMode.ON_SITE:
        if not signer_name:
            errors["signer_name"] = _("An on-site visit needs the name of the customer who "
                                      "signs (VIS-06).")
        if signature is None and "signature" not in errors:
            errors["signature"] = _("An on-site visit needs the customer's signature, drawn on "
                                    "the screen or an uploaded scan (VIS-06).")
    elif mode == VisitMode.PHONE and (signature is not None or signer_name):
        errors["signature"] = _("A phone visit has no customer signature; the record says "
                                "“电话回访” (VIS-06).")
    dissatisfied = satisfaction == VisitSatisfaction.DISSATISFIED
    needs_another = _flag(data.get("needs_another_visit")) or dissatisfied
    next_visit_at = _parse_due(data.get("next_visit_at"), "next_visit_at", errors)
    if needs_another and next_visit_at is None and "next_visit_at" not in errors:
        errors["next_visit_at"] = (
            _("A dissatisfied customer gets a next visit date (VIS-12).") if dissatisfied
            else _("Set the date of the next visit (VIS-08)."))
    elif next_visit_at is not None and visited_at is not None and next_visit_at <= visited_at:
        errors["next_visit_at"] = _("The next visit comes after this one.")
    rectification = None
    if dissatisfied:
        rectification = _clean_rectification(data.get("rectification"), visited_at, errors)
    issue_rows = _clean_issues(payload.get("issues"), visited_at, errors)
    if errors:
        raise InvalidInput(_("The visit record cannot be saved; please correct the fields "
                             "shown."), errors)

    for field in ("customer_name", "customer_phone", "address"):
        if _clean(data.get(field)):
            setattr(visit, field, _clean(data.get(field), 200))
    visit.mode, visit.visited_at, visit.satisfaction = mode, visited_at, satisfaction
    visit.summary, visit.recorded_by_id = summary, actor.id
    visit.signer_name = signer_name if mode == VisitMode.ON_SITE else None
    visit.needs_another_visit = needs_another
    visit.next_visit_at = next_visit_at if needs_another else None
    db.session.flush()
    for row in issue_rows:
        issue = VisitIssue(visit_id=visit.id, **row)
        if row["answered_on_spot"]:
            # Answered on the spot: that answer is its outcome (VIS-10).
            issue.outcome, issue.outcome_at, issue.outcome_by_id = row["answer"], visited_at, \
                actor.id
        db.session.add(issue)
        db.session.flush()
        if not row["answered_on_spot"]:
            deadline = open_deadline("visit_issue", issue.id, "open", ISSUE_REPLY_KIND, ctx.at, 0,
                                     working_days=False, assignee=visit.visitor_id or actor.id)
            deadline.due_at = row["agreed_reply_at"]
    if rectification is not None:
        task = VisitRectification(visit_id=visit.id, assignee_id=rectification["assignee"].id,
                                  description=rectification["description"],
                                  due_at=rectification["due_at"])
        db.session.add(task)
        db.session.flush()
        deadline = open_deadline("visit_rectification", task.id, "open", RECTIFICATION_KIND,
                                 ctx.at, 0, working_days=False, assignee=task.assignee_id)
        deadline.due_at = task.due_at
        notify(rectification["assignee"],
               _("Rectification after return visit %(number)s", number=visit.number),
               rectification["description"], link=_link(visit),
               dedupe_key=f"visit_rectification:{task.id}:assigned")
    if signature is not None:
        _store_signature(visit, signature[0], signature[1], actor)
    if needs_another:
        _plan_follow_up(visit, actor)


def _plan_follow_up(visit, actor):
    """VIS-08/VIS-12: the next visit (sequence + 1), due on the next visit date, same visitor."""
    visitor = visit.visitor
    if visitor is not None and (visitor_role_refusal(visit, visitor)
                                or visitor_conflict(visit, visitor)):
        visitor = default_visitor(visit.trigger, visit.source) if visit.source else None
    follow_up = _create_visit(
        visit.trigger, visit.source, visitor, actor, visit.next_visit_at,
        sequence=(visit.sequence or 1) + 1, previous=visit,
        customer=dict(customer_name=visit.customer_name, customer_phone=visit.customer_phone,
                      address=visit.address),
        note=_("Follow-up of %(number)s", number=visit.number))
    return follow_up


def follow_up_of(visit):
    return db.session.query(ReturnVisit).filter_by(previous_visit_id=visit.id).one_or_none()


# ---------------------------------------------------------------------------
# Review, cancel, reschedule (VIS-01, VIS-07)
# ---------------------------------------------------------------------------

def review_visit(visit_id, actor, version, opinion):
    """The supervisor reviews a recorded visit and signs an opinion, once (VIS-07)."""
    from .workflow import take_step

    get_visit(visit_id, actor)
    return take_step(_workflow(), visit_id, "review", actor, version, comment=opinion,
                     payload={"opinion": opinion})


def effect_review(ctx):
    opinion = _clean(ctx.payload.get("opinion")) or ctx.comment
    if not opinion:
        raise InvalidInput(_("Write the review opinion (VIS-07)."), {"opinion": _("Required.")})
    ctx.record.review_opinion = opinion
    ctx.record.reviewed_by_id = ctx.actor.id
    ctx.record.reviewed_at = ctx.at


def cancel_visit(visit_id, actor, version, reason):
    """Cancel a planned visit, with a reason (supervisor; the company manager for manual plans)."""
    from .workflow import take_step

    get_visit(visit_id, actor)
    return take_step(_workflow(), visit_id, "cancel", actor, version, comment=reason)


def effect_cancel(ctx):
    from ..deadlines import cancel_deadlines

    ctx.record.cancel_reason = ctx.comment
    cancel_deadlines("return_visit", ctx.record.id, ctx.at)


@transactional
def reschedule_visit(visit_id, actor, version, due_at, visitor_id=None):
    """Move a planned visit's due date and/or give it to another visitor (supervisor, admin).

    The company manager may also reschedule the holiday, move-in and
    emergency visits. The new visitor must hold the role the rules name and
    never be the complaint's respondent or recused.
    """
    from ..deadlines import deadline_query
    from ..models.deadlines import DeadlineStatus

    visit = get_visit(visit_id, actor)
    ensure_current_version(visit, version)
    roles = _roles(actor)
    if not (is_admin(actor) or SUPERVISOR in roles
            or (MANAGER in roles and visit.trigger in T.MANUAL)):
        raise PermissionRefused(_("Only the customer-service supervisor reschedules or "
                                  "reassigns visits."))
    if visit.status != S.PLANNED:
        raise PermissionRefused(_("Only a planned visit can be rescheduled."))
    errors = {}
    new_due = _parse_due(due_at, "due_at", errors) if due_at not in (None, "") else visit.due_at
    if new_due is not None and new_due != visit.due_at and new_due < utcnow():
        errors["due_at"] = _("The due date cannot be in the past.")
    visitor = visit.visitor
    if visitor_id not in (None, "", "__None"):
        visitor = _user(visitor_id, "visitor_id", errors)
    if errors:
        raise InvalidInput(errors=errors)
    if visitor is not None and visitor.id != visit.visitor_id:
        check_visitor(visit.trigger, visit.complaint, visitor)
    changed_visitor = visitor is not None and visitor.id != visit.visitor_id
    visit.due_at, visit.visitor = new_due, visitor
    deadline = deadline_query(record_table="return_visit", record_id=visit.id, state=S.PLANNED,
                              status=DeadlineStatus.OPEN).first()
    if deadline is None:
        deadline = _open_due_deadline(visit)
    deadline.due_at = new_due
    deadline.assignee_id = visitor.id if visitor is not None else None
    deadline.assignee_role = None if visitor is not None else SUPERVISOR
    db.session.flush()
    if changed_visitor:
        _announce(visit)
    return visit


# ---------------------------------------------------------------------------
# Issues (VIS-10) and rectifications (VIS-12)
# ---------------------------------------------------------------------------

def _may_follow_up(visit, actor):
    return is_admin(actor) or SUPERVISOR in _roles(actor) or actor.id == visit.visitor_id


@transactional
def record_issue_outcome(issue_id, actor, version, outcome):
    """Record the outcome of an issue raised during a visit, once (VIS-10).

    By the visitor, the supervisor or an administrator; closes the reply deadline.
    """
    from ..deadlines import close_deadlines

    issue = db.session.get(VisitIssue, issue_id) if issue_id else None
    if issue is None:
        raise RecordNotVisible()
    visit = get_visit(issue.visit_id, actor)
    ensure_current_version(issue, version)
    if not _may_follow_up(visit, actor):
        raise PermissionRefused(_("Only the visitor or the customer-service supervisor records "
                                  "what became of an issue."))
    if issue.outcome_at is not None:
        raise PermissionRefused(_("This issue already has its outcome."))
    outcome = _clean(outcome)
    if not outcome:
        raise InvalidInput(_("Say what became of the issue (VIS-10)."), {"outcome": _("Required.")})
    now = utcnow()
    issue.outcome, issue.outcome_at, issue.outcome_by_id = outcome, now, actor.id
    close_deadlines("visit_issue", issue.id, "open", now)
    db.session.flush()
    return issue


@transactional
def complete_rectification(rect_id, actor, version, result):
    """Mark a rectification done with its result, once (VIS-12).

    By its assignee, the supervisor or an administrator; closes its deadline.
    """
    from ..deadlines import close_deadlines

    task = db.session.get(VisitRectification, rect_id) if rect_id else None
    if task is None:
        raise RecordNotVisible()
    get_visit(task.visit_id, actor)
    ensure_current_version(task, version)
    if not (is_admin(actor) or SUPERVISOR in _roles(actor) or actor.id == task.assignee_id):
        raise PermissionRefused(_("Only the person assigned or the customer-service supervisor "
                                  "completes a rectification."))
    if task.done_at is not None:
        raise PermissionRefused(_("This rectification is already done."))
    result = _clean(result)
    if not result:
        raise InvalidInput(_("Say what was done (VIS-12)."), {"result": _("Required.")})
    now = utcnow()
    task.result, task.done_at = result, now
    close_deadlines("visit_rectification", task.id, "open", now)
    db.session.flush()
    return task


# ---------------------------------------------------------------------------
# Trigger records: maintenance jobs and community events
# ---------------------------------------------------------------------------

def _not_future(value, field, errors):
    if value is not None and value > utcnow() + datetime.timedelta(minutes=5):
        errors[field] = _("This time cannot be in the future.")


@transactional
def create_maintenance_job(actor, data):
    """Register a maintenance job (title, area, assistant_id, customer, description, completed_at).

    The assistant defaults to the property assistant of the area. A job
    registered as completed gets its visit proposed at once (VIS-03).
    """
    if not (is_admin(actor) or _roles(actor) & JOB_ROLES):
        raise PermissionRefused(_("Your role may not register maintenance jobs."))
    errors = {}
    title = _clean(data.get("title"), 200)
    area = _clean(data.get("area"), 64)
    if not title:
        errors["title"] = _("Required.")
    if not area:
        errors["area"] = _("Required.")
    assistant = _user(data.get("assistant_id"), "assistant_id", errors)
    completed_at = _parse_datetime(data.get("completed_at"), "completed_at", errors)
    _not_future(completed_at, "completed_at", errors)
    if errors:
        raise InvalidInput(errors=errors)
    if assistant is None:
        found = _candidates(ASSISTANT, set(), area=area)
        assistant = found[0] if found else None
    if assistant is not None and (ASSISTANT not in _roles(assistant) or not assistant.active):
        raise InvalidInput(errors={"assistant_id": _(
            "%(name)s is not an active property assistant.", name=user_display_name(assistant))})
    job = MaintenanceJob(
        number=_number(JOB_PREFIX), title=title, area=area, assistant=assistant,
        description=_clean(data.get("description")),
        customer_name=_clean(data.get("customer_name"), 100),
        customer_phone=_clean(data.get("customer_phone"), 40),
        address=_clean(data.get("address"), 200), completed_at=completed_at)
    db.session.add(job)
    db.session.flush()
    if completed_at is not None:
        propose_for_job(job, actor)
    return job


@transactional
def complete_maintenance_job(job_id, actor, version, completed_at=None):
    """Mark a maintenance job completed; its visit is proposed at once (VIS-03)."""
    job = db.session.get(MaintenanceJob, job_id) if job_id else None
    if job is None:
        raise RecordNotVisible()
    ensure_current_version(job, version)
    if not (is_admin(actor) or _roles(actor) & JOB_ROLES or actor.id == job.assistant_id):
        raise PermissionRefused(_("Your role may not complete maintenance jobs."))
    if job.completed_at is not None:
        raise PermissionRefused(_("This maintenance job is already completed."))
    errors = {}
    completed = _parse_datetime(completed_at, "completed_at", errors, utcnow())
    _not_future(completed, "completed_at", errors)
    if errors:
        raise InvalidInput(errors=errors)
    job.completed_at = completed
    db.session.flush()
    propose_for_job(job, actor)
    return job


@transactional
def create_community_event(actor, data):
    """Register a community event (title, ended_at, clerk_id, participants_count, location).

    The clerk defaults to the actor when a culture clerk, else the first
    clerk. An event already over gets its visits proposed at once (VIS-04);
    a later one when ``flask visits propose`` runs after its end.
    """
    roles = _roles(actor)
    if not (is_admin(actor) or roles & EVENT_ROLES):
        raise PermissionRefused(_("Your role may not register community events."))
    errors = {}
    title = _clean(data.get("title"), 200)
    if not title:
        errors["title"] = _("Required.")
    ended_at = _parse_datetime(data.get("ended_at"), "ended_at", errors)
    if ended_at is None and "ended_at" not in errors:
        errors["ended_at"] = _("Required.")
    try:
        participants = int(data.get("participants_count") or 0)
        if participants < 1:
            raise ValueError
    except (TypeError, ValueError):
        participants = 0
        errors["participants_count"] = _("Give the number of participants (at least 1).")
    clerk = _user(data.get("clerk_id"), "clerk_id", errors)
    if errors:
        raise InvalidInput(errors=errors)
    if clerk is None:
        clerk = actor if CLERK in roles else next(iter(_candidates(CLERK, set())), None)
    if clerk is not None and (CLERK not in _roles(clerk) or not clerk.active):
        raise InvalidInput(errors={"clerk_id": _(
            "%(name)s is not an active community culture clerk.", name=user_display_name(clerk))})
    event = CommunityEvent(title=title, ended_at=ended_at, clerk=clerk,
                           participants_count=participants,
                           location=_clean(data.get("location"), 200),
                           description=_clean(data.get("description")))
    db.session.add(event)
    db.session.flush()
    propose_for_event(event, actor)
    return event


# ---------------------------------------------------------------------------
# Open letters (VIS-09)
# ---------------------------------------------------------------------------

@transactional
def issue_open_letter(actor, data, complaint_ids):
    """Issue an open letter linked to each complaint it answers (VIS-09); returns it.

    ``data``: subject, body, issued_at, optionally ``file`` (FileStorage of the
    signed letter, filed as an attachment of kind ``letter``). A duplicate
    complaint is linked through its master (counted once). The letter is
    filed in the visit archive; it does not count as a visit of any complaint.
    """
    if not (is_admin(actor) or _roles(actor) & LETTER_ROLES):
        raise PermissionRefused(_("Only the customer-service supervisor or the company manager "
                                  "issues open letters."))
    from ..security.visibility import can_see

    errors = {}
    subject = _clean(data.get("subject"), 200)
    body = _clean(data.get("body"))
    if not subject:
        errors["subject"] = _("Required.")
    if not body:
        errors["body"] = _("Required.")
    issued_at = _parse_datetime(data.get("issued_at"), "issued_at", errors, utcnow())
    _not_future(issued_at, "issued_at", errors)
    complaints = []
    for raw in complaint_ids or ():
        complaint_id = _int_or_none(raw, "complaint_ids", errors)
        complaint = db.session.get(Complaint, complaint_id) if complaint_id else None
        if complaint is None or not can_see(actor, complaint):
            errors["complaint_ids"] = _("Choose complaints you can see.")
            continue
        while complaint.master is not None:
            complaint = complaint.master
        if complaint not in complaints:
            complaints.append(complaint)
    if not complaints and "complaint_ids" not in errors:
        errors["complaint_ids"] = _("Link the letter to each complaint it answers (VIS-09).")
    if errors:
        raise InvalidInput(errors=errors)
    letter = OpenLetter(number=_number(LETTER_PREFIX, 4), subject=subject, body=body,
                        issued_at=issued_at, issued_by_id=actor.id, complaints=complaints)
    db.session.add(letter)
    db.session.flush()
    upload = data.get("file")
    if upload is not None and getattr(upload, "filename", None):
        import uuid

        from ..models.attachments import Attachment
        from .attachments import store_upload

        stored = store_upload(upload)
        db.session.add(Attachment(
            owner_table="open_letter", owner_id=letter.id, kind="letter",
            series_id=uuid.uuid4().hex, version=1, is_current=True,
            original_filename=stored.original_filename, content_type=stored.content_type,
            size_bytes=stored.size_bytes, sha256=stored.sha256, storage_key=stored.storage_key,
            created_by_id=actor.id, updated_by_id=actor.id))
        db.session.flush()
    return letter


# ---------------------------------------------------------------------------
# Monthly statistics (VIS-10, VIS-13)
# ---------------------------------------------------------------------------

def _first_visits(field, ids):
    """``{source id: [visited_at, ...]}`` of the recorded visits of those sources."""
    result = {}
    if not ids:
        return result
    column = getattr(ReturnVisit, field)
    for source_id, visited_at in db.session.query(column, ReturnVisit.visited_at).filter(
            column.in_(ids), ReturnVisit.status.in_(S.DONE)):
        result.setdefault(source_id, []).append(visited_at)
    return result


def _staff_in(department_id):
    """Select of the user ids whose staff profile is in ``department_id``."""
    return select(StaffProfile.user_id).where(StaffProfile.department_id == department_id)


def _complaint_in_department(department_id):
    """A complaint's department: its respondent department, else its respondent's."""
    return or_(Complaint.respondent_department_id == department_id,
               and_(Complaint.respondent_department_id.is_(None),
                    Complaint.respondent_user_id.in_(_staff_in(department_id))))


def _visit_in_department(department_id):
    """A visit belongs to its trigger's department; a manual visit to its visitor's."""
    staff = _staff_in(department_id)
    return or_(
        and_(ReturnVisit.trigger == T.COMPLAINT, ReturnVisit.complaint_id.in_(
            select(Complaint.id).where(_complaint_in_department(department_id)))),
        and_(ReturnVisit.trigger == T.MAINTENANCE, ReturnVisit.maintenance_job_id.in_(
            select(MaintenanceJob.id).where(MaintenanceJob.assistant_id.in_(staff)))),
        and_(ReturnVisit.trigger == T.EVENT, ReturnVisit.community_event_id.in_(
            select(CommunityEvent.id).where(CommunityEvent.clerk_id.in_(staff)))),
        and_(ReturnVisit.trigger.in_(T.MANUAL), ReturnVisit.visitor_id.in_(staff)),
    )


def _visited_counts(triggers, visit_column, trigger, happened_attr):
    """(visited, visited within the window) over trigger records, each counted once."""
    visits = _first_visits(visit_column, [record.id for record in triggers])
    visited = in_time = 0
    for record in triggers:
        times = visits.get(record.id)
        if times:
            visited += 1
            in_time += min(times) <= due_after(trigger, getattr(record, happened_attr))
    return visited, in_time


def _rate_row(trigger, eligible, visited, in_time):
    target = target_rate(trigger)
    rate = in_time / eligible if eligible else None
    return {
        "trigger": trigger, "trigger_label": T.label(trigger), "eligible": eligible,
        "visited": visited, "visited_in_time": in_time, "rate": rate, "target": target,
        "met": None if rate is None else rate >= target - 1e-9,
        "window_days": window_days(trigger),
        "window_label": _("within %(days)s days", days=window_days(trigger)),
    }


def visit_rates(year, month, viewer=None, department_id=None):
    """One row per automatic trigger: the rate achieved in a month against its target (VIS-13).

    A trigger belongs to the month (local time) it was resolved, completed or
    ended in. Complaints: duplicates are counted once (only masters count),
    exempt ones (anonymous, letter-only, VIS-11) are left out. ``rate`` =
    triggers visited within the window / eligible; ``visited`` also counts
    the visits made late. Events count participants: eligible = their
    number, visited = the event's recorded first visits (one participant
    each, at most the participants). Keys: trigger, trigger_label, eligible,
    visited, visited_in_time, rate (0..1 or None), target (0..1), met (bool
    or None), window_days, window_label. ``viewer`` limits complaints to
    those they may see. ``department_id`` keeps the triggers of one
    department: a complaint by its respondent department (else its
    respondent's), a job by its assistant's, an event by its clerk's.
    """
    start, end = month_bounds(year, month)
    rows = []
    query = db.session.query(Complaint).filter(
        Complaint.closed_at >= start, Complaint.closed_at < end,
        Complaint.status.in_(ComplaintStatus.RESOLVED), Complaint.master_id.is_(None),
        Complaint.anonymous.is_(False), Complaint.reply_letter_only.is_(False))
    if viewer is not None:
        query = visible_query(query, Complaint, viewer)
    if department_id is not None:
        query = query.filter(_complaint_in_department(department_id))
    complaints = query.all()
    rows.append(_rate_row(T.COMPLAINT, len(complaints),
                          *_visited_counts(complaints, "complaint_id", T.COMPLAINT, "closed_at")))

    query = db.session.query(MaintenanceJob).filter(
        MaintenanceJob.completed_at >= start, MaintenanceJob.completed_at < end)
    if department_id is not None:
        query = query.filter(MaintenanceJob.assistant_id.in_(_staff_in(department_id)))
    jobs = query.all()
    rows.append(_rate_row(T.MAINTENANCE, len(jobs),
                          *_visited_counts(jobs, "maintenance_job_id", T.MAINTENANCE,
                                           "completed_at")))

    query = db.session.query(CommunityEvent).filter(
        CommunityEvent.ended_at >= start, CommunityEvent.ended_at < end)
    if department_id is not None:
        query = query.filter(CommunityEvent.clerk_id.in_(_staff_in(department_id)))
    events = query.all()
    eligible = visited = in_time = 0
    for event in events:
        participants = event.participants_count or 0
        eligible += participants
        times = [visited_at for (visited_at,) in db.session.query(ReturnVisit.visited_at).filter(
            ReturnVisit.community_event_id == event.id, ReturnVisit.sequence == 1,
            ReturnVisit.status.in_(S.DONE))]
        window_end = due_after(T.EVENT, event.ended_at)
        visited += min(len(times), participants)
        in_time += min(sum(1 for at in times if at <= window_end), participants)
    rows.append(_rate_row(T.EVENT, eligible, visited, in_time))
    return rows


def monthly_statistics(year, month, viewer=None, now=None, department_id=None):
    """The monthly visit statistics (客户回访记录, VIS-10, VIS-13) as a dict.

    Keys: year, month, rates (:func:`visit_rates`), satisfaction ({value:
    count} of the visits made in the month), by_mode, by_trigger,
    visits_recorded, overdue (visits due in the month not made by their due
    time: still open past it, or made late), issues_total /
    issues_with_outcome / issues_without_outcome (issues raised in the
    month's visits), handling_rate (0..1 or None, VIS-10 aims at 1),
    pending_review (the month's visits not reviewed yet), open_rectifications.
    ``department_id`` keeps one department's figures: a visit counts by its
    trigger's department (see :func:`visit_rates`), a holiday, move-in or
    emergency visit by its visitor's; issues and rectifications follow
    their visit.
    """
    now = now or utcnow()
    start, end = month_bounds(year, month)
    base = visible_visits_query(viewer) if viewer is not None else db.session.query(ReturnVisit)
    if department_id is not None:
        base = base.filter(_visit_in_department(department_id))
    made = base.filter(ReturnVisit.status.in_(S.DONE), ReturnVisit.visited_at >= start,
                       ReturnVisit.visited_at < end).all()
    satisfaction = {value: 0 for value in VisitSatisfaction.values()}
    by_mode = {value: 0 for value in VisitMode.values()}
    by_trigger = {value: 0 for value in T.values()}
    for visit in made:
        if visit.satisfaction in satisfaction:
            satisfaction[visit.satisfaction] += 1
        if visit.mode in by_mode:
            by_mode[visit.mode] += 1
        by_trigger[visit.trigger] = by_trigger.get(visit.trigger, 0) + 1
    due = base.filter(ReturnVisit.status != S.CANCELLED, ReturnVisit.due_at >= start,
                      ReturnVisit.due_at < end).all()
    overdue = sum(1 for visit in due if (visit.visited_at is None and visit.due_at < now)
                  or (visit.visited_at is not None and visit.visited_at > visit.due_at))
    made_ids = [visit.id for visit in made]
    issues = db.session.query(VisitIssue).filter(VisitIssue.visit_id.in_(made_ids)).all() \
        if made_ids else []
    with_outcome = sum(1 for issue in issues if issue.outcome_at is not None)
    open_rectifications = db.session.query(func.count(VisitRectification.id)).filter(
        VisitRectification.visit_id.in_(made_ids), VisitRectification.done_at.is_(None)
    ).scalar() if made_ids else 0
    return {
        "year": year, "month": month,
        "rates": visit_rates(year, month, viewer, department_id=department_id),
        "satisfaction": satisfaction,
        "by_mode": by_mode,
        "by_trigger": by_trigger,
        "visits_recorded": len(made),
        "overdue": overdue,
        "issues_total": len(issues),
        "issues_with_outcome": with_outcome,
        "issues_without_outcome": len(issues) - with_outcome,
        "handling_rate": with_outcome / len(issues) if issues else None,
        "pending_review": sum(1 for visit in made if visit.status == S.RECORDED),
        "open_rectifications": open_rectifications,
    }


def statistics_rows(statistics):
    """The statistics as ``(section, item, value)`` rows for the CSV export and the CLI."""
    def percent(value):
        return "" if value is None else f"{value * 100:.1f}%"

    rows = []
    for row in statistics["rates"]:
        label = str(row["trigger_label"])
        rows += [
            (str(_l("Visit rate")), f"{label}: " + str(_l("eligible")), row["eligible"]),
            (str(_l("Visit rate")), f"{label}: " + str(_l("visited")), row["visited"]),
            (str(_l("Visit rate")), f"{label}: " + str(_l("visited in time")) +
             f" ({row['window_label']})", row["visited_in_time"]),
            (str(_l("Visit rate")), f"{label}: " + str(_l("rate")), percent(row["rate"])),
            (str(_l("Visit rate")), f"{label}: " + str(_l("target")), percent(row["target"])),
            (str(_l("Visit rate")), f"{label}: " + str(_l("target met")),
             "" if row["met"] is None else (str(_l("yes")) if row["met"] else str(_l("no")))),
        ]
    for value, count in statistics["satisfaction"].items():
        rows.append((str(_l("Satisfaction")), str(VisitSatisfaction.label(value)), count))
    for value, count in statistics["by_mode"].items():
        rows.append((str(_l("Mode")), str(VisitMode.label(value)), count))
    rows += [
        (str(_l("Visits")), str(_l("Visits made this month")), statistics["visits_recorded"]),
        (str(_l("Visits")), str(_l("Pending review")), statistics["pending_review"]),
        (str(_l("Visits")), str(_l("Overdue")), statistics["overdue"]),
        (str(_l("Issues")), str(_l("Issues raised")), statistics["issues_total"]),
        (str(_l("Issues")), str(_l("With an outcome")), statistics["issues_with_outcome"]),
        (str(_l("Issues")), str(_l("Without an outcome")), statistics["issues_without_outcome"]),
        (str(_l("Issues")), str(_l("Handling rate")), percent(statistics["handling_rate"])),
        (str(_l("Issues")), str(_l("Open rectifications")), statistics["open_rectifications"]),
    ]
    return rows


# ---------------------------------------------------------------------------
# Declarations: deadline kinds, attachment slots and guards
# ---------------------------------------------------------------------------

def _register_kinds():
    from ..deadlines import register_deadline_kind
    from .attachments import register_attachment_guard, register_attachment_kinds

    register_deadline_kind(VISIT_DUE_KIND, _l("Return visit due"))
    register_deadline_kind(ISSUE_REPLY_KIND, _l("Reply to an issue raised in a visit"))
    register_deadline_kind(RECTIFICATION_KIND, _l("Rectification after a visit"))
    register_attachment_kinds(ReturnVisit, [
        ("signature", _l("Customer signature")),
        ("record_scan", _l("Scanned visit record form")),
        ("other", _l("Other")),
    ])
    register_attachment_kinds(OpenLetter, [
        ("letter", _l("Signed open letter")),
        ("other", _l("Other")),
    ])

    def read_only_when_reviewed(owner, actor):
        # A reviewed record is signed off (VIS-07); the recused never add material (CMP-05).
        if owner.status in (S.REVIEWED, S.CANCELLED):
            raise PermissionRefused(_("A reviewed or cancelled visit record is read-only."))
        if visitor_conflict(owner, actor):
            raise RecordNotVisible()

    register_attachment_guard(ReturnVisit, read_only_when_reviewed)


_register_kinds()
