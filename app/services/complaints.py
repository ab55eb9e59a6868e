"""Complaints and feedback (投诉及意见反馈, CMP-01 to CMP-18): every state change.

Registration (CMP-01 to CMP-03, CMP-15, CMP-17), the workflow's effects
(opinion, meeting, decision, implementation, reply, close, archive, reopen,
duplicate link), the contact log (CMP-09), findings (CMP-08), escalation with
a promised reply date (CMP-16), surveys (CMP-14), conflicted persons (CMP-05),
visibility (CMP-05, CMP-12), the timeline and the monthly summary (CMP-18).

Web forms, the REST API, the CLI and the demo data all call these functions.
"""
import datetime

from flask_appbuilder.security.sqla.models import User
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..models.base import utcnow
from ..models.complaints import (
    Complaint, ComplaintCaseFile, ComplaintChannel, ComplaintConflict, ComplaintContact,
    ComplaintFinding, ComplaintKind, ComplaintMeeting, ComplaintOutcome,
    ComplaintReply, ComplaintSeverity, ComplaintStatus, ComplaintSurvey, ContactMode, MeetingKind,
    ReplyMode, Satisfaction, SurveyParty,
)
from ..models.org import Department, user_display_name
from ..models.workflow import WorkflowTransition
from ..security.visibility import ensure_visible, is_admin, register_visibility
from .errors import InvalidInput, PermissionRefused, RecordNotVisible
from .settings import get_setting, register_setting
from .transaction import transactional
from .versions import ensure_current_version

S = ComplaintStatus
NUMBER_PREFIX = "TS"
CASE_FILE_PREFIX = "AZ"
PROMISED_REPLY_STATE = "promised_reply"
PROMISED_REPLY_KIND = "complaint_promised_reply"

# Roles that see every complaint they are not recused from ("managers with the right", CMP-12).
READER_ROLES = frozenset({"ComplaintOfficer", "Partner", "Director", "GeneralManager",
                          "ServiceSupervisor"})
# CMP-02: who receives which channel. Referrals go straight to the designated officer.
RECEIVERS = {
    ComplaintChannel.PHONE: "FrontDesk",
    ComplaintChannel.VISIT: "FrontDesk",
    ComplaintChannel.ONLINE: "FrontDesk",
    ComplaintChannel.EMAIL: "FrontDesk",
    ComplaintChannel.WRITTEN: "AdminDesk",
    ComplaintChannel.JUSTICE: "ComplaintOfficer",
    ComplaintChannel.SUPERIOR: "ComplaintOfficer",
}
EDITOR_ROLES = frozenset({"ComplaintOfficer", "Director"})
CONTACT_ROLES = frozenset({"ComplaintOfficer", "FrontDesk", "AdminDesk", "Partner", "Director"})
FINDING_ROLES = frozenset({"ComplaintOfficer", "Partner", "Director"})
SURVEY_ROLES = frozenset({"ComplaintOfficer", "FrontDesk", "AdminDesk", "ServiceSupervisor"})
ESCALATION_ROLES = frozenset({"ComplaintOfficer", "FrontDesk", "AdminDesk"})
ESCALATION_TARGET_ROLES = frozenset({"DepartmentSupervisor", "GeneralManager", "Director"})
# CMP-15: company leadership told at once of a major complaint.
LEADERSHIP_ROLES = ("GeneralManager", "Director", "DepartmentSupervisor")

register_setting("COMPLAINT_DUPLICATE_WINDOW_DAYS", 28,
                 _l("Complaints: days within which the same contact or subject is a possible "
                    "duplicate"), minimum=1, maximum=365, rule="CMP-17")
register_setting("COMPLAINT_MAX_PROMISE_DAYS", 30,
                 _l("Complaints: latest promised reply date, in days after escalation"),
                 minimum=1, maximum=365, rule="CMP-16")


def _roles(user):
    return {role.name for role in getattr(user, "roles", []) or []}


def _workflow():
    from ..workflows.complaints import COMPLAINT_WORKFLOW

    return COMPLAINT_WORKFLOW


def _local_today():
    from ..deadlines import local_today

    return local_today()


def _clean(value, limit=None):
    if value is None:
        return None
    value = str(value).strip()
    if limit:
        value = value[:limit]
    return value or None


def _flag(value):
    if isinstance(value, bool):
        return value
    return str(value or "").strip().lower() in {"1", "true", "yes", "y", "on", "是"}


def _int_or_none(value, field, errors):
    if value in (None, "", "__None"):
        return None
    if hasattr(value, "id"):
        return value.id
    try:
        return int(value)
    except (TypeError, ValueError):
        errors[field] = _("Not a valid choice.")
        return None


def _parse_datetime(value, field, errors, default=None):
    if value in (None, ""):
        return default
    if isinstance(value, datetime.datetime):
        return value
    from ..timeutil import to_utc_naive

    text = str(value).strip().replace("T", " ")
    for pattern in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d"):
        try:
            return to_utc_naive(datetime.datetime.strptime(text, pattern))
        except ValueError:
            continue
    errors[field] = _("Not a valid date and time (YYYY-MM-DD HH:MM).")
    return default


def _parse_date(value, field, errors):
    if value in (None, ""):
        return None
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    try:
        return datetime.date.fromisoformat(str(value).strip())
    except ValueError:
        errors[field] = _("Not a valid date (YYYY-MM-DD).")
        return None


def _choice(value, choices, field, errors, default=None):
    value = _clean(value) or default
    if value not in choices.values():
        errors[field] = _("Please choose one of the offered values.")
    return value


def get_complaint(complaint_id, actor):
    """The complaint ``actor`` may see, else RecordNotVisible (404)."""
    complaint = db.session.get(Complaint, complaint_id) if complaint_id else None
    return ensure_visible(actor, complaint)


# ---------------------------------------------------------------------------
# Recusal and visibility (CMP-05, CMP-12)
# ---------------------------------------------------------------------------

def conflicted_user_ids(complaint):
    """The respondent and everyone an administrator marked as conflicted (CMP-05)."""
    ids = {complaint.respondent_user_id} if complaint.respondent_user_id else set()
    if complaint.id is not None:
        ids |= set(db.session.scalars(
            select(ComplaintConflict.user_id).where(
                ComplaintConflict.complaint_id == complaint.id,
                ComplaintConflict.active.is_(True))
        ))
    return ids


def is_conflicted(user, complaint):
    return user is not None and user.id in conflicted_user_ids(complaint)


def _involved(complaint, user):
    if user.id in {complaint.created_by_id, complaint.officer_id, complaint.partner_id,
                   complaint.escalated_to_id}:
        return True
    department = complaint.respondent_department
    if department is not None and department.head_id == user.id:
        return True
    return db.session.query(
        db.session.query(WorkflowTransition.id).filter(
            WorkflowTransition.workflow == "complaint",
            WorkflowTransition.record_id == complaint.id,
            WorkflowTransition.actor_id == user.id,
        ).exists()
    ).scalar()


def can_see_complaint(complaint, user):
    """CMP-12: involved people and managers with the right; never the recused (CMP-05)."""
    if is_conflicted(user, complaint):
        return False
    roles = _roles(user)
    if roles & READER_ROLES:
        return True
    if "DepartmentSupervisor" in roles and complaint.severity == ComplaintSeverity.MAJOR:
        return True  # reported to them at once (CMP-15)
    if "AdminDesk" in roles and complaint.status in S.RESOLVED:
        return True  # they archive closed cases (CMP-13)
    return _involved(complaint, user)


def filter_complaints(query, user):
    """The SQL form of :func:`can_see_complaint` for lists, the API and exports."""
    user_id = getattr(user, "id", None)
    if user_id is None:
        return query.filter(Complaint.id.is_(None))
    conflicts = select(ComplaintConflict.complaint_id).where(
        ComplaintConflict.user_id == user_id, ComplaintConflict.active.is_(True))
    query = query.filter(
        or_(Complaint.respondent_user_id.is_(None), Complaint.respondent_user_id != user_id),
        Complaint.id.not_in(conflicts),
    )
    roles = _roles(user)
    if roles & READER_ROLES:
        return query
    acted = select(WorkflowTransition.record_id).where(
        WorkflowTransition.workflow == "complaint", WorkflowTransition.actor_id == user_id)
    headed = select(Department.id).where(Department.head_id == user_id)
    conditions = [
        Complaint.created_by_id == user_id, Complaint.officer_id == user_id,
        Complaint.partner_id == user_id, Complaint.escalated_to_id == user_id,
        Complaint.id.in_(acted), Complaint.respondent_department_id.in_(headed),
    ]
    if "DepartmentSupervisor" in roles:
        conditions.append(Complaint.severity == ComplaintSeverity.MAJOR)
    if "AdminDesk" in roles:
        conditions.append(Complaint.status.in_(S.RESOLVED))
    return query.filter(or_(*conditions))


register_visibility(Complaint, filter_complaints, can_see_complaint)


def complaints_concerning(user):
    """CMP-05: the cases ``user`` is recused from; they see only number and status.

    Returns ``[(number, status label, received_at)]``; a duplicate shows its
    master's status.
    """
    conflicts = select(ComplaintConflict.complaint_id).where(
        ComplaintConflict.user_id == user.id, ComplaintConflict.active.is_(True))
    rows = db.session.query(Complaint).filter(
        or_(Complaint.respondent_user_id == user.id, Complaint.id.in_(conflicts))
    ).order_by(Complaint.received_at.desc()).all()
    result = []
    for complaint in rows:
        followed = complaint.master if complaint.master is not None else complaint
        result.append((complaint.number, S.label(followed.status), complaint.received_at))
    return result


def _check_assignable(user, role, complaint, field, errors, label):
    """CMP-05: the respondent or a conflicted person is never the handler or the approver."""
    if user is None:
        errors[field] = _("Required.")
        return
    if role not in _roles(user) or not user.active:
        errors[field] = _("%(name)s is not an active %(role)s.", name=user_display_name(user),
                          role=label)
        return
    if user.id in conflicted_user_ids(complaint):
        errors[field] = _("%(name)s is the respondent or recused from this complaint and "
                          "cannot handle or decide it.", name=user_display_name(user))


def _first_free(role, complaint):
    from .org import users_with_role

    excluded = conflicted_user_ids(complaint)
    for user in users_with_role(role):
        if user.id not in excluded:
            return user
    return None


# ---------------------------------------------------------------------------
# Registration (CMP-01 to CMP-03, CMP-15, CMP-17)
# ---------------------------------------------------------------------------

def allocate_number(year):
    """The next gap-free number of ``year``, taken in the caller's transaction (CMP-03)."""
    from .numbering import take_number

    sequence = take_number(NUMBER_PREFIX, year)
    return sequence, f"{NUMBER_PREFIX}-{year}-{sequence:05d}"


REGISTRATION_FIELDS = (
    "kind", "channel", "received_at", "register_number", "anonymous", "complainant_name",
    "complainant_phone", "complainant_address", "respondent_user_id", "respondent_department_id",
    "subject", "description", "severity", "principle_issue", "reply_letter_only",
    "paper_location", "officer_id", "partner_id",
)
EDITABLE_FIELDS = tuple(field for field in REGISTRATION_FIELDS
                        if field not in ("kind", "channel", "received_at"))


def apply_fields(complaint, data, fields):
    """Copy ``data`` (form or JSON) onto ``complaint``; raise InvalidInput for bad values."""
    errors = {}
    for field in fields:
        if field not in data:
            continue
        value = data[field]
        if field == "kind":
            complaint.kind = _choice(value, ComplaintKind, field, errors, ComplaintKind.COMPLAINT)
        elif field == "channel":
            complaint.channel = _choice(value, ComplaintChannel, field, errors)
        elif field == "severity":
            complaint.severity = _choice(value, ComplaintSeverity, field, errors,
                                         ComplaintSeverity.GENERAL)
        elif field == "received_at":
            complaint.received_at = _parse_datetime(value, field, errors, utcnow())
        elif field in ("anonymous", "principle_issue", "reply_letter_only"):
            setattr(complaint, field, _flag(value))
        elif field.endswith("_id"):
            setattr(complaint, field, _int_or_none(value, field, errors))
        elif field == "description":
            complaint.description = _clean(value)
            _refuse_unstorable_text(complaint, field, errors)
        else:
            setattr(complaint, field, _clean(value))
            _refuse_unstorable_text(complaint, field, errors)
    if errors:
        raise InvalidInput(errors=errors)
    return complaint


def _refuse_unstorable_text(complaint, field, errors):
    """Text longer than its column, or with a NUL, is refused: never cut short, never a 500."""
    value = getattr(complaint, field)
    limit = Complaint.__table__.c[field].type.length
    if value is not None and "\x00" in value:
        errors[field] = _("Contains a character that cannot be stored.")
    elif value is not None and limit and len(value) > limit:
        errors[field] = _("At most %(limit)s characters.", limit=limit)


RELATIONS = (("respondent_user", User), ("respondent_department", Department), ("officer", User),
             ("partner", User))


def _sync_ids(complaint):
    """Make ``*_id`` and the relationship agree, whichever the form or JSON set."""
    from sqlalchemy import inspect

    state = inspect(complaint)
    for relation, model in RELATIONS:
        id_field = relation + "_id"
        loaded = relation not in state.unloaded
        related = getattr(complaint, relation) if loaded else None
        current_id = getattr(complaint, id_field)
        if loaded and related is not None and related.id != current_id:
            if state.attrs[relation].history.added:
                setattr(complaint, id_field, related.id)  # the form chose the object
            else:
                setattr(complaint, relation, db.session.get(model, current_id)
                        if current_id else None)
        elif loaded and related is None and current_id is not None:
            if state.attrs[relation].history.deleted or state.attrs[relation].history.added:
                setattr(complaint, id_field, None)  # the form cleared it
            else:
                setattr(complaint, relation, db.session.get(model, current_id))
        elif not loaded and current_id is not None:
            setattr(complaint, relation, db.session.get(model, current_id))


def validate_complaint(complaint, actor, new=True):
    """The registration form's rules (CMP-01 to CMP-03, CMP-05); raises InvalidInput."""
    errors = {}
    _sync_ids(complaint)
    if complaint.kind not in ComplaintKind.values():
        errors["kind"] = _("Please choose complaint or feedback.")
    if complaint.channel not in ComplaintChannel.values():
        errors["channel"] = _("Please choose the channel.")
    if complaint.severity not in ComplaintSeverity.values():
        errors["severity"] = _("Please choose the severity.")
    if not _clean(complaint.subject):
        errors["subject"] = _("Required.")
    if not _clean(complaint.description):
        errors["description"] = _("Required.")
    if complaint.anonymous:
        complaint.complainant_name = None
    else:
        if not _clean(complaint.complainant_name):
            errors["complainant_name"] = _("Required unless the complainant is anonymous.")
        if not _clean(complaint.complainant_phone) and not _clean(complaint.complainant_address):
            errors["complainant_phone"] = _("Give a phone number or an address to reply to.")
    # CMP-02: written records carry their incoming-document register number.
    if complaint.channel == ComplaintChannel.WRITTEN and not _clean(complaint.register_number):
        errors["register_number"] = _("A written complaint needs its incoming-document "
                                      "register number (收文登记簿).")
    if complaint.respondent_user_id is not None and db.session.get(
            User, complaint.respondent_user_id) is None:
        errors["respondent_user_id"] = _("Not a valid choice.")
    if complaint.respondent_department_id is not None and db.session.get(
            Department, complaint.respondent_department_id) is None:
        errors["respondent_department_id"] = _("Not a valid choice.")
    if complaint.received_at and complaint.received_at > utcnow() + datetime.timedelta(minutes=5):
        errors["received_at"] = _("The time received cannot be in the future.")
    if new:
        receiver = RECEIVERS.get(complaint.channel)
        if receiver and receiver not in _roles(actor) and not is_admin(actor):
            from ..security.roles import role_label

            errors["channel"] = _(
                "Records received by “%(channel)s” are registered by the %(role)s (CMP-02).",
                channel=ComplaintChannel.label(complaint.channel),
                role=role_label(receiver, "en" if _locale_is_en() else "zh"))
    # Defaults: the designated officer and the partner in charge, never the recused (CMP-05).
    if complaint.officer_id is None:
        complaint.officer = _first_free("ComplaintOfficer", complaint)
        complaint.officer_id = complaint.officer.id if complaint.officer else None
    if complaint.partner_id is None:
        complaint.partner = _first_free("Partner", complaint)
        complaint.partner_id = complaint.partner.id if complaint.partner else None
    _check_assignable(db.session.get(User, complaint.officer_id) if complaint.officer_id else None,
                      "ComplaintOfficer", complaint, "officer_id", errors,
                      _("designated complaint officer"))
    _check_assignable(db.session.get(User, complaint.partner_id) if complaint.partner_id else None,
                      "Partner", complaint, "partner_id", errors, _("partner"))
    if errors:
        raise InvalidInput(errors=errors)


def _locale_is_en():
    from flask_babel import get_locale

    locale = get_locale()
    return locale is not None and locale.language == "en"


def prepare_registration(complaint, actor):
    """Validate a new complaint and give it its number, in the caller's transaction."""
    if not (_roles(actor) & set(RECEIVERS.values())) and not is_admin(actor):
        raise PermissionRefused(_("Your role may not register complaints."))
    complaint.kind = complaint.kind or ComplaintKind.COMPLAINT
    complaint.severity = complaint.severity or ComplaintSeverity.GENERAL
    complaint.received_at = complaint.received_at or utcnow()
    for flag in ("anonymous", "principle_issue", "reply_letter_only"):
        setattr(complaint, flag, bool(getattr(complaint, flag)))
    validate_complaint(complaint, actor, new=True)
    year = _local_today().year
    complaint.year = year
    complaint.sequence, complaint.number = allocate_number(year)
    complaint.status = S.REGISTERED
    complaint.master_id = None  # linking is a workflow step (CMP-17)
    return complaint


def complete_registration(complaint, actor, master=None):
    """After the insert: start the workflow, tell the officer and, for a major case, the managers."""
    from ..deadlines import record_path
    from .notifications import notify

    _workflow().start(complaint)
    link = record_path("complaint", complaint.id)
    notify(complaint.officer, _("New complaint %(number)s: %(subject)s",
                                number=complaint.number, subject=complaint.subject),
           _("%(channel)s, %(severity)s. Please write the written opinion.",
             channel=ComplaintChannel.label(complaint.channel),
             severity=ComplaintSeverity.label(complaint.severity)),
           link=link, dedupe_key=f"complaint:{complaint.id}:registered")
    if not report_major(complaint):
        relay_to_department(complaint)
    if master is not None:
        _workflow().perform(complaint, "link_duplicate", actor, complaint.version,
                            payload={"master": master})
    return complaint


def relay_to_department(complaint):
    """CMP-16: a general or important complaint is relayed to the responsible department's head."""
    from ..deadlines import record_path
    from .notifications import notify

    department = complaint.respondent_department
    head = department.head if department is not None else None
    if head is None or head.id in conflicted_user_ids(complaint):
        return []
    return notify(head, _("Complaint %(number)s about %(department)s", number=complaint.number,
                          department=department.name),
                  _("%(subject)s. The designated officer handles it; please support the "
                    "investigation.", subject=complaint.subject),
                  link=record_path("complaint", complaint.id),
                  dedupe_key=f"complaint:{complaint.id}:relayed")


def report_major(complaint):
    """CMP-15 (五清楚一报告): a major complaint is reported at once to the managers."""
    if complaint.severity != ComplaintSeverity.MAJOR:
        return []
    from ..deadlines import record_path
    from .notifications import notify
    from .org import users_with_role

    recipients = []
    for role in LEADERSHIP_ROLES:
        recipients += users_with_role(role)
    department = complaint.respondent_department
    if department is not None and department.head is not None:
        recipients.append(department.head)
    excluded = conflicted_user_ids(complaint)
    recipients = [user for user in recipients if user.id not in excluded]
    return notify(
        recipients,
        _("Major complaint %(number)s: %(subject)s", number=complaint.number,
          subject=complaint.subject),
        _("A major complaint was registered (%(channel)s) about %(respondent)s. "
          "Reported at once under the “five clears, one report” rule.",
          channel=ComplaintChannel.label(complaint.channel),
          respondent=str(complaint.respondent_department or "") or _("no department named")),
        link=record_path("complaint", complaint.id),
        dedupe_key=f"complaint:{complaint.id}:major",
    )


@transactional
def register_complaint(actor, data, master=None):
    """Register a complaint or feedback from JSON or form data; one transaction.

    ``master`` (a number or id) links it at once as a duplicate (CMP-17).
    """
    return _register(apply_fields(Complaint(), data, REGISTRATION_FIELDS), actor, master)


@transactional
def register_filled_complaint(complaint, actor, master=None):
    """Register a complaint the web form has already filled in; one transaction."""
    return _register(complaint, actor, master)


def _register(complaint, actor, master):
    prepare_registration(complaint, actor)
    db.session.add(complaint)
    db.session.flush()
    complete_registration(complaint, actor, master=master)
    return complaint


def possible_duplicates(actor, phone=None, subject=None, exclude_id=None, at=None):
    """CMP-17: visible complaints with the same contact or subject within the window."""
    from ..security.visibility import visible_query

    phone, subject = _clean(phone), _clean(subject)
    if not phone and not subject:
        return []
    since = (at or utcnow()) - datetime.timedelta(
        days=get_setting("COMPLAINT_DUPLICATE_WINDOW_DAYS"))
    conditions = []
    if phone:
        conditions.append(Complaint.complainant_phone == phone)
    if subject:
        conditions.append(func.lower(Complaint.subject) == subject.lower())
    query = db.session.query(Complaint).filter(
        or_(*conditions), Complaint.received_at >= since, Complaint.master_id.is_(None),
        Complaint.status != S.MERGED)
    if exclude_id:
        query = query.filter(Complaint.id != exclude_id)
    query = visible_query(query, Complaint, actor)
    return query.order_by(Complaint.received_at.desc()).limit(10).all()


def _find_master(reference):
    if reference in (None, ""):
        return None
    reference = str(getattr(reference, "id", reference)).strip()
    if reference.isdigit():
        return db.session.get(Complaint, int(reference))
    return db.session.query(Complaint).filter_by(number=reference.upper()).one_or_none()


# ---------------------------------------------------------------------------
# Editing the registration
# ---------------------------------------------------------------------------

def check_editable(complaint, actor):
    """Who may correct a registration, and when (CMP-05, CMP-13, CMP-17)."""
    if complaint.status == S.ARCHIVED:
        raise PermissionRefused(_("An archived complaint is read-only."))
    if complaint.status in (S.CLOSED, S.MERGED):
        raise PermissionRefused(_("A closed complaint or a linked duplicate cannot be changed."))
    if is_conflicted(actor, complaint):
        raise RecordNotVisible()
    roles = _roles(actor)
    if is_admin(actor) or roles & EDITOR_ROLES:
        return
    if complaint.created_by_id == actor.id and complaint.status == S.REGISTERED:
        return
    raise PermissionRefused(_("Only the designated officer, the director or, before the "
                              "opinion, whoever registered it may change this complaint."))


def check_update(complaint, actor):
    """Validate a changed complaint (already holding the new values) before it is saved."""
    from sqlalchemy import inspect

    # Read before any query: an autoflush would clear the attribute history.
    history = inspect(complaint).attrs.severity.history
    became_major = bool(history.deleted) and complaint.severity == ComplaintSeverity.MAJOR
    check_editable(complaint, actor)
    validate_complaint(complaint, actor, new=False)
    if became_major:
        report_major(complaint)  # CMP-15 also when a case turns out to be major


@transactional
def update_complaint(complaint_id, actor, version, data):
    complaint = get_complaint(complaint_id, actor)
    ensure_current_version(complaint, version)
    check_editable(complaint, actor)
    with db.session.no_autoflush:
        apply_fields(complaint, data, EDITABLE_FIELDS)
        check_update(complaint, actor)
    db.session.flush()
    return complaint


# ---------------------------------------------------------------------------
# Workflow effects (called by the engine inside take_step's transaction)
# ---------------------------------------------------------------------------

def _text(ctx, key):
    """A required text of a step: the form field ``key``, else the step's comment."""
    value = _clean(ctx.payload.get(key)) or ctx.comment
    if not value:
        raise InvalidInput(_("Please fill in the required fields."), {key: _("Required.")})
    return value


def effect_write_opinion(ctx):
    """CMP-06: the designated officer's written opinion (书面意见)."""
    ctx.record.opinion = _text(ctx, "opinion")


def effect_record_meeting(ctx):
    """CMP-07: the meeting's decision, attendees, minutes and whether the regulator is told."""
    errors = {}
    payload = ctx.payload
    kind = _choice(payload.get("meeting_kind") or payload.get("kind"), MeetingKind,
                   "meeting_kind", errors, MeetingKind.PARTNERS)
    held_at = _parse_datetime(payload.get("held_at"), "held_at", errors, ctx.at)
    fields = {}
    for name in ("attendees", "meeting_decision", "minutes"):
        fields[name] = _clean(payload.get(name))
        if not fields[name]:
            errors[name] = _("Required.")
    notify_regulator = _flag(payload.get("notify_regulator"))
    regulator_name = _clean(payload.get("regulator_name"), 200)
    notification = _clean(payload.get("regulator_notification"))
    notified_at = None
    if notify_regulator:
        if not regulator_name:
            errors["regulator_name"] = _("Name the authority that is notified.")
        if not notification:
            errors["regulator_notification"] = _("Record what the authority was told.")
        notified_at = _parse_datetime(payload.get("regulator_notified_at"),
                                      "regulator_notified_at", errors, ctx.at)
    if errors:
        raise InvalidInput(errors=errors)
    db.session.add(ComplaintMeeting(
        complaint_id=ctx.record.id, kind=kind, held_at=held_at, attendees=fields["attendees"],
        decision=fields["meeting_decision"], minutes=fields["minutes"],
        notify_regulator=notify_regulator, regulator_name=regulator_name if notify_regulator else None,
        regulator_notification=notification if notify_regulator else None,
        regulator_notified_at=notified_at,
    ))
    db.session.flush()


def effect_decide(ctx):
    """CMP-10: the handler signs a clear decision (签署明确处理意见) with its outcome."""
    errors = {}
    decision = _clean(ctx.payload.get("decision")) or ctx.comment
    if not decision:
        errors["decision"] = _("Required.")
    outcome = _choice(ctx.payload.get("outcome"), ComplaintOutcome, "outcome", errors)
    if errors:
        raise InvalidInput(_("Please fill in the required fields."), errors)
    ctx.record.decision, ctx.record.outcome, ctx.record.decided_at = decision, outcome, ctx.at
    from ..deadlines import record_path
    from .notifications import notify

    notify(ctx.record.officer, _("Complaint %(number)s was decided", number=ctx.record.number),
           _("Please organise the implementation."), link=record_path("complaint", ctx.record.id),
           dedupe_key=f"complaint:{ctx.record.id}:decided:{ctx.record.version}")


def effect_implement(ctx):
    """CMP-10: the designated officer organises the implementation."""
    ctx.record.implementation = _text(ctx, "implementation")


def effect_reply(ctx):
    """CMP-11: written by default; another mode needs a reason; written complaints in writing."""
    errors = {}
    mode = _choice(ctx.payload.get("mode"), ReplyMode, "mode", errors, ReplyMode.WRITTEN)
    reason = _clean(ctx.payload.get("reason"))
    content = _clean(ctx.payload.get("content")) or ctx.comment
    if not content:
        errors["content"] = _("Required.")
    if mode != ReplyMode.WRITTEN:
        if ctx.record.channel == ComplaintChannel.WRITTEN:
            errors["mode"] = _("A written complaint is always answered in writing.")
        elif not reason:
            errors["reason"] = _("A reply that is not written needs a stated reason.")
    if errors:
        raise InvalidInput(_("The reply cannot be recorded."), errors)
    db.session.add(ComplaintReply(complaint_id=ctx.record.id, mode=mode,
                                  reason=reason if mode != ReplyMode.WRITTEN else None,
                                  content=content, replied_at=ctx.at))
    ctx.record.replied_at = ctx.at
    from ..deadlines import close_deadlines

    close_deadlines("complaint", ctx.record.id, PROMISED_REPLY_STATE, ctx.at)  # CMP-16


_RESOLVED_LISTENERS = []


def on_resolved(listener):
    """Register ``listener(complaint, actor)``, called when a case is closed (e.g. return visits)."""
    _RESOLVED_LISTENERS.append(listener)
    return listener


def effect_close(ctx):
    ctx.record.closed_at = ctx.at
    for listener in _RESOLVED_LISTENERS:
        listener(ctx.record, ctx.actor)


def effect_archive(ctx):
    """CMP-13: into the yearly case file (年度案宗) with a case-file number."""
    from ..deadlines import local_date
    from .notifications import savepoint

    year = local_date(ctx.record.closed_at or ctx.at).year

    def locked():
        return db.session.query(ComplaintCaseFile).filter_by(year=year).with_for_update().one_or_none()

    case_file = locked()
    if case_file is None:
        try:
            with savepoint():
                db.session.add(ComplaintCaseFile(
                    year=year, file_number=f"{CASE_FILE_PREFIX}-{year}", last_item=0,
                    location=_clean(ctx.payload.get("location"), 200)))
                db.session.flush()
        except IntegrityError:
            pass
        case_file = locked()
    case_file.last_item += 1
    ctx.record.case_file = case_file
    ctx.record.case_file_number = f"{case_file.file_number}-{case_file.last_item:04d}"
    ctx.record.archived_at = ctx.at


def effect_reopen(ctx):
    """CMP-14: back to the handler for follow-up; the designated officer is told."""
    from ..deadlines import record_path
    from .notifications import notify

    ctx.record.closed_at = None
    notify(ctx.record.officer,
           _("Complaint %(number)s reopened for follow-up", number=ctx.record.number),
           ctx.comment, link=record_path("complaint", ctx.record.id),
           dedupe_key=f"complaint:{ctx.record.id}:reopened:{ctx.record.version}")


def effect_link_duplicate(ctx):
    """CMP-17: a duplicate follows its master and is counted once."""
    master = _find_master(ctx.payload.get("master"))
    if master is None or not _can_see(ctx.actor, master):
        raise InvalidInput(_("The master complaint was not found."),
                           {"master": _("Give the number of a complaint you can see.")})
    while master.master is not None:
        master = master.master
    if master.id == ctx.record.id:
        raise InvalidInput(_("A complaint cannot be its own duplicate."),
                           {"master": _("Choose another complaint.")})
    if master.status == S.MERGED:
        raise InvalidInput(_("The master complaint is itself a duplicate."),
                           {"master": _("Choose another complaint.")})
    ctx.record.master_id = master.id
    from ..deadlines import cancel_deadlines

    cancel_deadlines("complaint", ctx.record.id, ctx.at)


def _can_see(user, record):
    from ..security.visibility import can_see

    return can_see(user, record)


def has_meeting(complaint):
    return db.session.query(ComplaintMeeting.id).filter_by(complaint_id=complaint.id).first() is not None


def has_reply(complaint):
    return db.session.query(ComplaintReply.id).filter_by(complaint_id=complaint.id).first() is not None


def has_open_dissatisfaction(complaint):
    """A dissatisfied survey recorded after the latest reply."""
    latest_reply = db.session.query(func.max(ComplaintReply.replied_at)).filter_by(
        complaint_id=complaint.id).scalar()
    query = db.session.query(ComplaintSurvey.id).filter(
        ComplaintSurvey.complaint_id == complaint.id,
        ComplaintSurvey.satisfaction == Satisfaction.DISSATISFIED)
    if latest_reply is not None:
        query = query.filter(ComplaintSurvey.surveyed_at >= latest_reply)
    return query.first() is not None


# ---------------------------------------------------------------------------
# Steps as plain functions (CLI, demo, the return-visit module)
# ---------------------------------------------------------------------------

def take(complaint_id, action, actor, version, comment=None, **payload):
    """Take one workflow step on a complaint; commits (see ``take_step``)."""
    from .workflow import take_step

    return take_step(_workflow(), complaint_id, action, actor, version, comment=comment,
                     payload=payload)


def mark_resolved(complaint_id, actor, version, comment=None):
    """Close a replied case: it is then resolved (the return-visit module starts here)."""
    return take(complaint_id, "close", actor, version, comment=comment)


def is_resolved(complaint):
    return complaint.status in S.RESOLVED


def has_reply_letter(complaint):
    """A reply letter is attached (needed when no visit follows: anonymous or letter-only, VIS-11)."""
    from ..models.attachments import Attachment

    return db.session.query(Attachment.id).filter_by(
        owner_table="complaint", owner_id=complaint.id, kind="reply_letter").first() is not None


# ---------------------------------------------------------------------------
# Children: contact log, findings, surveys, escalation, conflicts
# ---------------------------------------------------------------------------

def _ensure_workable(complaint, actor, roles, action_label):
    """Common refusals for work on a case (CMP-05, CMP-13, CMP-17)."""
    if is_conflicted(actor, complaint):
        raise RecordNotVisible()
    if complaint.status == S.MERGED:
        raise PermissionRefused(_(
            "This complaint is a duplicate of %(number)s and follows it; work on the master "
            "record instead.", number=complaint.master.number if complaint.master else ""))
    if complaint.status == S.ARCHIVED:
        raise PermissionRefused(_("An archived complaint is read-only."))
    if not (_roles(actor) & roles) and not is_admin(actor):
        raise PermissionRefused(_("Your role may not %(action)s.", action=action_label))


@transactional
def add_contact(complaint_id, actor, summary, mode=ContactMode.PHONE, contacted_at=None,
                is_commitment=False):
    """CMP-09: log a contact with the complainant; no commitment before the decision."""
    complaint = get_complaint(complaint_id, actor)
    _ensure_workable(complaint, actor, CONTACT_ROLES, _("log contacts"))
    errors = {}
    mode = _choice(mode, ContactMode, "mode", errors, ContactMode.PHONE)
    contacted_at = _parse_datetime(contacted_at, "contacted_at", errors, utcnow())
    summary = _clean(summary)
    if not summary:
        errors["summary"] = _("Required.")
    if errors:
        raise InvalidInput(errors=errors)
    if _flag(is_commitment) and complaint.status in S.BEFORE_DECISION:
        raise PermissionRefused(_(
            "No promise may be made before the decision (CMP-09): record what the "
            "complainant was told about the handling arrangement, without a commitment."))
    contact = ComplaintContact(complaint_id=complaint.id, staff_id=actor.id, mode=mode,
                               contacted_at=contacted_at, summary=summary,
                               is_commitment=_flag(is_commitment))
    db.session.add(contact)
    db.session.flush()
    return contact


@transactional
def add_finding(complaint_id, actor, facts, materials=None, verified=False):
    """CMP-08: investigation findings on the facts and materials."""
    complaint = get_complaint(complaint_id, actor)
    _ensure_workable(complaint, actor, FINDING_ROLES, _("record findings"))
    if complaint.status in (S.CLOSED,):
        raise PermissionRefused(_("The case is closed."))
    facts = _clean(facts)
    if not facts:
        raise InvalidInput(errors={"facts": _("Required.")})
    finding = ComplaintFinding(complaint_id=complaint.id, facts=facts,
                               materials=_clean(materials), verified=_flag(verified))
    db.session.add(finding)
    db.session.flush()
    return finding


@transactional
def record_survey(complaint_id, actor, party, satisfaction, comment=None, surveyed_at=None):
    """CMP-14: a survey after the reply; dissatisfaction reopens the case and tells the officer."""
    complaint = get_complaint(complaint_id, actor)
    _ensure_workable(complaint, actor, SURVEY_ROLES, _("record surveys"))
    if complaint.status not in (S.REPLIED, S.CLOSED):
        raise PermissionRefused(_("A satisfaction survey follows the reply."))
    errors = {}
    party = _choice(party, SurveyParty, "party", errors)
    satisfaction = _choice(satisfaction, Satisfaction, "satisfaction", errors)
    surveyed_at = _parse_datetime(surveyed_at, "surveyed_at", errors, utcnow())
    if errors:
        raise InvalidInput(errors=errors)
    survey = ComplaintSurvey(complaint_id=complaint.id, party=party, satisfaction=satisfaction,
                             comment=_clean(comment), surveyed_at=surveyed_at)
    db.session.add(survey)
    db.session.flush()
    if satisfaction == Satisfaction.DISSATISFIED:
        _workflow().perform(
            complaint, "reopen", actor, complaint.version,
            comment=_("%(party)s dissatisfied: %(comment)s", party=SurveyParty.label(party),
                      comment=_clean(comment) or "-"))
    return survey


@transactional
def escalate(complaint_id, actor, version, reason, promised_reply_date, escalated_to_id=None):
    """CMP-16: a major complaint goes to the department supervisor; the reply date is tracked."""
    from ..deadlines import open_deadline, record_path
    from .notifications import notify

    complaint = get_complaint(complaint_id, actor)
    ensure_current_version(complaint, version)
    _ensure_workable(complaint, actor, ESCALATION_ROLES, _("escalate complaints"))
    if complaint.severity != ComplaintSeverity.MAJOR:
        raise PermissionRefused(_(
            "Only a major complaint is escalated; a general one is relayed to the responsible "
            "department and answered promptly (CMP-16)."))
    if complaint.status not in S.OPEN or complaint.escalated_at is not None:
        raise PermissionRefused(_("This complaint cannot be escalated now (already escalated "
                                  "or replied)."))
    errors = {}
    reason = _clean(reason)
    if not reason:
        errors["reason"] = _("Tell the complainant why the case is escalated.")
    promised = _parse_date(promised_reply_date, "promised_reply_date", errors)
    today = _local_today()
    if promised is None and "promised_reply_date" not in errors:
        errors["promised_reply_date"] = _("Required.")
    elif promised is not None and not (
            today <= promised <= today + datetime.timedelta(
                days=get_setting("COMPLAINT_MAX_PROMISE_DAYS"))):
        errors["promised_reply_date"] = _(
            "The promised reply date must be between today and %(days)s days from now.",
            days=get_setting("COMPLAINT_MAX_PROMISE_DAYS"))
    target_id = _int_or_none(escalated_to_id, "escalated_to_id", errors)
    target = db.session.get(User, target_id) if target_id else None
    if target is None and complaint.respondent_department is not None:
        target = complaint.respondent_department.head
    if target is None:
        errors["escalated_to_id"] = _("Choose the department supervisor.")
    elif not (_roles(target) & ESCALATION_TARGET_ROLES) or target.id in conflicted_user_ids(
            complaint):
        errors["escalated_to_id"] = _("%(name)s cannot take over this complaint.",
                                      name=user_display_name(target))
    if errors:
        raise InvalidInput(errors=errors)
    now = utcnow()
    complaint.escalated_at, complaint.escalated_to = now, target
    complaint.escalation_reason, complaint.promised_reply_date = reason, promised
    db.session.add(ComplaintContact(
        complaint_id=complaint.id, staff_id=actor.id, mode=ContactMode.PHONE, contacted_at=now,
        summary=_("Told the complainant the case is escalated (%(reason)s); reply promised by "
                  "%(date)s.", reason=reason, date=promised.isoformat()),
        is_commitment=False))
    days = (promised - today).days
    open_deadline("complaint", complaint.id, PROMISED_REPLY_STATE, PROMISED_REPLY_KIND,
                             now, days, working_days=False, assignee=complaint.officer,
                             label=_("Reply to %(number)s as promised", number=complaint.number))
    notify(target, _("Complaint %(number)s escalated to you", number=complaint.number),
           reason, link=record_path("complaint", complaint.id),
           dedupe_key=f"complaint:{complaint.id}:escalated")
    db.session.flush()
    return complaint


def _register_kinds():
    from ..deadlines import register_deadline_kind
    from .attachments import register_attachment_guard, register_attachment_kinds

    register_deadline_kind(PROMISED_REPLY_KIND, _l("Reply to the complainant as promised"))
    register_attachment_kinds(Complaint, [
        ("original", _l("Original complaint material")),
        ("evidence", _l("Investigation material")),
        ("opinion", _l("Written opinion")),
        ("minutes", _l("Meeting minutes")),
        ("reply_letter", _l("Reply letter")),
        ("other", _l("Other")),
    ])

    def read_only_when_archived(owner, actor):
        # CMP-13: archived cases are read-only; CMP-05: the recused never add material.
        if owner.status == S.ARCHIVED:
            raise PermissionRefused(_("An archived complaint is read-only."))
        if is_conflicted(actor, owner):
            raise RecordNotVisible()

    register_attachment_guard(Complaint, read_only_when_archived)


_register_kinds()


@transactional
def mark_conflicted(complaint_id, admin, user_id, reason=None):
    """CMP-05: an administrator marks someone (e.g. in the respondent's reporting line) as recused."""
    if not is_admin(admin):
        raise PermissionRefused(_("Only an administrator marks conflicted persons."))
    complaint = db.session.get(Complaint, complaint_id)
    if complaint is None:
        raise RecordNotVisible()
    user = db.session.get(User, _int_or_none(user_id, "user_id", {}) or 0)
    if user is None:
        raise InvalidInput(errors={"user_id": _("Not a valid choice.")})
    if user.id in (complaint.officer_id, complaint.partner_id) and complaint.status not in (
            S.CLOSED, S.ARCHIVED, S.MERGED):
        raise InvalidInput(_("%(name)s handles or decides this complaint: assign someone else "
                             "first.", name=user_display_name(user)),
                           {"user_id": _("Assigned to this complaint.")})
    row = db.session.query(ComplaintConflict).filter_by(
        complaint_id=complaint.id, user_id=user.id).one_or_none()
    if row is None:
        row = ComplaintConflict(complaint_id=complaint.id, user_id=user.id)
        db.session.add(row)
    row.active, row.reason = True, _clean(reason, 200)
    db.session.flush()
    return row


@transactional
def lift_conflict(complaint_id, admin, user_id):
    """Deactivate a conflict mark (kept on record, never deleted)."""
    if not is_admin(admin):
        raise PermissionRefused(_("Only an administrator marks conflicted persons."))
    row = db.session.query(ComplaintConflict).filter_by(
        complaint_id=complaint_id, user_id=user_id, active=True).one_or_none()
    if row is None:
        raise RecordNotVisible()
    row.active = False
    return row


# ---------------------------------------------------------------------------
# Reading: the case's children and timeline
# ---------------------------------------------------------------------------

def children(complaint):
    def rows(model, order):
        return db.session.query(model).filter_by(complaint_id=complaint.id).order_by(order).all()

    return {
        "contacts": rows(ComplaintContact, ComplaintContact.contacted_at),
        "findings": rows(ComplaintFinding, ComplaintFinding.created_at),
        "meetings": rows(ComplaintMeeting, ComplaintMeeting.held_at),
        "replies": rows(ComplaintReply, ComplaintReply.replied_at),
        "surveys": rows(ComplaintSurvey, ComplaintSurvey.surveyed_at),
        "conflicts": rows(ComplaintConflict, ComplaintConflict.id),
        "duplicates": db.session.query(Complaint).filter_by(master_id=complaint.id).order_by(
            Complaint.id).all(),
    }


def timeline(complaint):
    """Every step, contact, finding, meeting, reply, survey and attachment, oldest first."""
    from ..models.attachments import Attachment

    workflow = _workflow()
    events = []
    for step in workflow.history(complaint):
        label = workflow.transitions[step.action].label if step.action in workflow.transitions \
            else step.action
        who = user_display_name(step.actor)
        if step.acting_for is not None:
            who = _("%(name)s, acting for %(principal)s", name=who,
                    principal=user_display_name(step.acting_for))
        events.append((step.occurred_at, _("Step"), str(label), who, step.comment or ""))
    parts = children(complaint)
    for contact in parts["contacts"]:
        text = contact.summary + (" [" + _("commitment") + "]" if contact.is_commitment else "")
        events.append((contact.contacted_at, _("Contact"), str(ContactMode.label(contact.mode)),
                       user_display_name(contact.staff), text))
    for finding in parts["findings"]:
        events.append((finding.created_at, _("Finding"), finding.materials or "",
                       user_display_name(finding.created_by), finding.facts))
    for meeting in parts["meetings"]:
        events.append((meeting.held_at, _("Meeting"), str(MeetingKind.label(meeting.kind)),
                       meeting.attendees, meeting.decision))
    for reply in parts["replies"]:
        events.append((reply.replied_at, _("Reply"), str(ReplyMode.label(reply.mode)),
                       user_display_name(reply.created_by), reply.content))
    for survey in parts["surveys"]:
        events.append((survey.surveyed_at, _("Survey"), str(SurveyParty.label(survey.party)),
                       str(Satisfaction.label(survey.satisfaction)), survey.comment or ""))
    for attachment in db.session.query(Attachment).filter_by(
            owner_table="complaint", owner_id=complaint.id).order_by(Attachment.id):
        events.append((attachment.created_at, _("Attachment"), attachment.kind,
                       user_display_name(attachment.created_by),
                       attachment.original_filename or attachment.paper_location or ""))
    events.sort(key=lambda event: (event[0] or datetime.datetime.min))
    return events


# ---------------------------------------------------------------------------
# CMP-18: monthly summary (每月汇总)
# ---------------------------------------------------------------------------

def month_bounds(year, month):
    """Naive-UTC bounds of a local calendar month."""
    from ..timeutil import to_utc_naive

    start = datetime.datetime(year, month, 1)
    end = datetime.datetime(year + (month == 12), month % 12 + 1, 1)
    return to_utc_naive(start), to_utc_naive(end)


def monthly_summary(actor, year, month):
    """Counts of the complaints received in a month, duplicates counted once (CMP-17).

    Only complaints ``actor`` may see are counted (CMP-12). Returns a dict
    of sections, each a list of ``(label, count)``, plus time to close.
    """
    from ..security.visibility import visible_query

    start, end = month_bounds(year, month)
    base = visible_query(db.session.query(Complaint), Complaint, actor).filter(
        Complaint.received_at >= start, Complaint.received_at < end)
    counted = base.filter(Complaint.status != S.MERGED).all()
    duplicates = base.filter(Complaint.status == S.MERGED).count()

    def tally(key, choices=None, none_label=None):
        counts = {}
        for complaint in counted:
            value = key(complaint)
            counts[value] = counts.get(value, 0) + 1
        if choices is not None:
            rows = [(str(label), counts.get(value, 0)) for value, label, _c in choices.CHOICES]
            if counts.get(None):
                rows.append((str(none_label or _("None")), counts[None]))
            return rows
        return sorted(((str(k) if k is not None else str(none_label)), v)
                      for k, v in counts.items())

    closed = [c for c in counted if c.closed_at is not None]
    durations = [(c.closed_at - c.received_at).total_seconds() / 86400 for c in closed]
    closed_in_month = visible_query(db.session.query(Complaint), Complaint, actor).filter(
        Complaint.closed_at >= start, Complaint.closed_at < end,
        Complaint.status != S.MERGED).count()
    return {
        "year": year, "month": month,
        "total": len(counted),
        "duplicates": duplicates,
        "by_kind": tally(lambda c: c.kind, ComplaintKind),
        "by_channel": tally(lambda c: c.channel, ComplaintChannel),
        "by_severity": tally(lambda c: c.severity, ComplaintSeverity),
        "by_department": tally(lambda c: c.respondent_department.name
                               if c.respondent_department else None,
                               none_label=_("No department named")),
        "by_outcome": tally(lambda c: c.outcome, ComplaintOutcome, none_label=_("Not decided yet")),
        "by_status": tally(lambda c: c.status, ComplaintStatus),
        "closed": len(closed),
        "closed_in_month": closed_in_month,
        "average_days_to_close": round(sum(durations) / len(durations), 1) if durations else None,
        "longest_days_to_close": round(max(durations), 1) if durations else None,
    }


SUMMARY_SECTIONS = (
    ("by_kind", _l("Kind")),
    ("by_channel", _l("Channel")),
    ("by_severity", _l("Severity")),
    ("by_department", _l("Respondent department")),
    ("by_outcome", _l("Outcome")),
    ("by_status", _l("Status")),
)


def summary_rows(summary):
    """The summary as ``(section, item, value)`` rows for the CSV export."""
    rows = [(str(_l("Total")), str(_l("Complaints and feedback (duplicates counted once)")),
             summary["total"]),
            (str(_l("Total")), str(_l("Linked duplicates (not counted again)")),
             summary["duplicates"])]
    for key, label in SUMMARY_SECTIONS:
        rows += [(str(label), item, count) for item, count in summary[key]]
    rows += [
        (str(_l("Time to close")), str(_l("Closed (of those received this month)")),
         summary["closed"]),
        (str(_l("Time to close")), str(_l("Average days to close")),
         summary["average_days_to_close"] if summary["average_days_to_close"] is not None else ""),
        (str(_l("Time to close")), str(_l("Longest days to close")),
         summary["longest_days_to_close"] if summary["longest_days_to_close"] is not None else ""),
        (str(_l("Time to close")), str(_l("Closed during this month")),
         summary["closed_in_month"]),
    ]
    return rows
