"""Customer information and archives (客户信息与档案, CUS-01 to CUS-11): every state change.

Each public function validates (existence, visibility, the rule), acts and
commits; the web forms, the REST API, the CLI and the demo data call these.
Workflow steps (submit a form, file or close an archive, the lending and
destruction chains) go through :func:`app.services.workflow.take_step`; their
effects live here too (``effect_*``).
"""
import calendar
import datetime
import json
import os
import re
import unicodedata

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, exists, false, or_, select

from ..audit.events import record_event
from ..audit.listener import allow_destruction
from ..deadlines import (
    cancel_deadlines, close_deadlines, end_of_local_day, local_date, local_today, open_deadline,
    record_path, register_deadline_kind,
)
from ..extensions import db
from ..models.attachments import Attachment
from ..models.base import utcnow
from ..models.customers import (
    ArchiveAccessGrant, ArchiveCategory, ArchiveDestruction, ArchiveFile, ArchiveFiling,
    ArchiveLoan, ArchiveStatus, ArchiveTrackingEntry, Channel, ConflictOutcome, Customer,
    CustomerKind, DailyRegistration, DestructionStatus, GrantScope, Intention, LoanStatus,
    MatchKind, OwnershipConflict, ReceptionVisit, RegistrationEntry, RegistrationStatus,
    RouteReason, archive_loan_file,
)
from ..models.org import DutyKind, user_display_name
from ..security.visibility import ensure_visible, register_visibility
from ..timeutil import format_local, to_utc_naive
from .errors import InvalidInput, PermissionRefused
from .notifications import notify, notify_role
from .numbering import take_number
from .settings import get_setting, register_setting
from .transaction import transactional

SALES_MANAGER = "SalesManager"
SALES_HEAD = "SalesHead"
CUSTODIAN = "ArchiveCustodian"
GENERAL_MANAGER = "GeneralManager"
AUDITOR = "Auditor"
# CUS-06: the custodian keeps every form and archive; the general manager gives permission.
KEEPERS = frozenset({CUSTODIAN, GENERAL_MANAGER})

# ---------------------------------------------------------------------------
# Configurable figures
# ---------------------------------------------------------------------------

register_setting("CUS_REGISTRATION_CUTOFF_HOUR", 10,
                 _l("Registration form: latest submission hour the next morning (local time)"),
                 minimum=0, maximum=23, rule="CUS-01")
register_setting("CUS_RETENTION_YEARS", 10, _l("Customer archives: retention period in years"),
                 minimum=1, maximum=100, rule="CUS-10")
register_setting("CUS_POINTS_LATE_FORM", 2,
                 _l("Assessment: points deducted per late registration form"),
                 minimum=0, maximum=100, rule="CUS-11")
register_setting("CUS_POINTS_LATE_FILING", 2,
                 _l("Assessment: points deducted per late or missed month-end archive filing"),
                 minimum=0, maximum=100, rule="CUS-11")
register_setting("CUS_GRANT_MAX_DAYS", 30,
                 _l("Read permission for archives: longest validity in days"),
                 minimum=1, maximum=366, rule="CUS-06")
register_setting("CUS_LOAN_MAX_DAYS", 30, _l("Archive loans: longest loan in calendar days"),
                 minimum=1, maximum=366, rule="CUS-09")

FILING_KIND = "cus_archive_filing"
LOAN_RETURN_KIND = "cus_loan_return"
LOAN_RETURN_CUSTODIAN_KIND = "cus_loan_return_custodian"
register_deadline_kind(FILING_KIND, _l("Month-end archive filing"))
register_deadline_kind(LOAN_RETURN_KIND, _l("Return the borrowed archives"))
register_deadline_kind(LOAN_RETURN_CUSTODIAN_KIND, _l("Borrowed archives due back"))


def _roles(user):
    return {role.name for role in getattr(user, "roles", None) or []}


def is_keeper(user):
    from ..security.visibility import is_admin

    return bool(_roles(user) & KEEPERS) or is_admin(user)


# ---------------------------------------------------------------------------
# Normalisation (CUS-03)
# ---------------------------------------------------------------------------

COMPANY_SUFFIXES = ("股份有限公司", "有限责任公司", "有限公司", "集团公司", "公司")


def normalise_phone(raw):
    """Digits only, without a +86/0086 prefix; None when too short to identify anyone."""
    digits = re.sub(r"\D", "", unicodedata.normalize("NFKC", raw or ""))
    if digits.startswith("0086"):
        digits = digits[4:]
    elif digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    return digits if len(digits) >= 7 else None


def normalise_id(raw):
    value = re.sub(r"[\s\-]", "", unicodedata.normalize("NFKC", raw or "")).upper()
    return value or None


def normalise_company(raw):
    """Full-width to half-width, no spaces or punctuation, no legal-form suffix (有限公司 ...)."""
    value = unicodedata.normalize("NFKC", raw or "").lower()
    value = re.sub(r"[\s\(\)\[\]（）【】·,，.。\-_/]", "", value)
    for suffix in COMPANY_SUFFIXES:
        if value.endswith(suffix) and len(value) > len(suffix):
            value = value[: -len(suffix)]
            break
    return value or None


# ---------------------------------------------------------------------------
# Confidentiality (CUS-06)
# ---------------------------------------------------------------------------

def _active_grant(user, now=None):
    now = now or utcnow()
    return and_(
        ArchiveAccessGrant.grantee_id == user.id,
        ArchiveAccessGrant.revoked_at.is_(None),
        ArchiveAccessGrant.valid_from <= now,
        ArchiveAccessGrant.valid_until > now,
    )


def _registration_condition(user):
    return or_(
        DailyRegistration.manager_id == user.id,
        exists().where(_active_grant(user), or_(
            ArchiveAccessGrant.scope == GrantScope.ALL,
            and_(ArchiveAccessGrant.scope == GrantScope.REGISTRATION,
                 ArchiveAccessGrant.registration_id == DailyRegistration.id),
        )),
    )


def _archive_condition(user):
    on_loan = exists().where(
        ArchiveLoan.id == archive_loan_file.c.loan_id,
        archive_loan_file.c.archive_id == ArchiveFile.id,
        ArchiveLoan.borrower_id == user.id,
        ArchiveLoan.status == LoanStatus.ISSUED,
    )
    return or_(
        ArchiveFile.manager_id == user.id,
        exists().where(_active_grant(user), or_(
            ArchiveAccessGrant.scope == GrantScope.ALL,
            and_(ArchiveAccessGrant.scope == GrantScope.ARCHIVE,
                 ArchiveAccessGrant.archive_id == ArchiveFile.id),
        )),
        on_loan,
    )


def visible_registration_ids(user):
    return select(DailyRegistration.id).where(_registration_condition(user))


def visible_archive_ids(user):
    return select(ArchiveFile.id).where(_archive_condition(user))


def _customer_condition(user):
    return or_(
        Customer.owner_id == user.id,
        Customer.id.in_(select(ArchiveFile.customer_id).where(_archive_condition(user))),
    )


def _keeper_or(condition_factory):
    def filter_query(query, user):
        if user is None:
            return query.filter(false())
        if is_keeper(user):
            return query
        return query.filter(condition_factory(user))

    return filter_query


def _can_see_by_query(model, condition_factory):
    def can_see(record, user):
        if is_keeper(user):
            return True
        if record.id is None:
            return False
        with db.session.no_autoflush:
            return bool(db.session.query(db.session.query(model.id).filter(
                model.id == record.id, condition_factory(user)).exists()).scalar())

    return can_see


def _register_rules():
    rules = {
        DailyRegistration: _registration_condition,
        RegistrationEntry: lambda user: RegistrationEntry.registration_id.in_(
            visible_registration_ids(user)),
        ArchiveFile: _archive_condition,
        ArchiveTrackingEntry: lambda user: ArchiveTrackingEntry.archive_id.in_(
            visible_archive_ids(user)),
        ArchiveFiling: lambda user: ArchiveFiling.archive_id.in_(visible_archive_ids(user)),
        Customer: _customer_condition,
    }
    for model, condition in rules.items():
        register_visibility(model, _keeper_or(condition), _can_see_by_query(model, condition))

    def staff_rule(model, own_condition, also_roles):
        def filter_query(query, user):
            if user is None:
                return query.filter(false())
            if _roles(user) & also_roles or is_keeper(user):
                return query
            return query.filter(own_condition(user))

        def can_see(record, user):
            if _roles(user) & also_roles or is_keeper(user):
                return True
            if record.id is None:
                return False
            with db.session.no_autoflush:
                return bool(db.session.query(db.session.query(model.id).filter(
                    model.id == record.id, own_condition(user)).exists()).scalar())

        register_visibility(model, filter_query, can_see)

    managers = frozenset({SALES_HEAD})
    staff_rule(ArchiveLoan, lambda user: or_(ArchiveLoan.borrower_id == user.id,
                                             ArchiveLoan.created_by_id == user.id), managers)
    staff_rule(ArchiveDestruction, lambda user: ArchiveDestruction.created_by_id == user.id,
               managers)
    staff_rule(OwnershipConflict, lambda user: or_(OwnershipConflict.owner_id == user.id,
                                                   OwnershipConflict.claimant_id == user.id),
               managers)
    staff_rule(ReceptionVisit, lambda user: or_(ReceptionVisit.routed_to_id == user.id,
                                                ReceptionVisit.named_manager_id == user.id,
                                                ReceptionVisit.created_by_id == user.id),
               managers | {"FrontDesk"})
    staff_rule(ArchiveAccessGrant, lambda user: ArchiveAccessGrant.grantee_id == user.id,
               frozenset())


_register_rules()


def record_read(record, door, **details):
    """CUS-06: every read of a registration form or archive goes to the audit trail."""
    record_event("read", record.__tablename__, record.id, {"door": door, **details})


def _load(model, record_id, actor):
    record = db.session.get(model, record_id) if record_id is not None else None
    return ensure_visible(actor, record)


# ---------------------------------------------------------------------------
# Daily registration forms (CUS-01, CUS-02, CUS-05)
# ---------------------------------------------------------------------------

def registration_due_at(form_date):
    """CUS-01: 次日上午10:00 local time (configurable hour), as naive UTC."""
    hour = int(get_setting("CUS_REGISTRATION_CUTOFF_HOUR"))
    return to_utc_naive(datetime.datetime.combine(form_date + datetime.timedelta(days=1),
                                                  datetime.time(hour, 0, 0)))


def is_late_submission(form_date, submitted_at):
    """10:00:00 the next morning is on time, 10:00:01 is late."""
    return submitted_at > registration_due_at(form_date)


def prepare_registration(item, actor):
    """Validate a new form; the manager is the actor (a sales manager files their own)."""
    if not _roles(actor) & {SALES_MANAGER, SALES_HEAD}:
        raise PermissionRefused(_("Only sales managers fill in customer registration forms."))
    item.manager_id = actor.id
    item.manager = actor
    if item.form_date is None:
        raise InvalidInput(_("Please give the date of the form."), {"form_date": _("Required.")})
    if item.form_date > local_today():
        raise InvalidInput(_("A registration form cannot be dated in the future."),
                           {"form_date": _("In the future.")})
    duplicate = db.session.query(DailyRegistration.id).filter_by(
        manager_id=actor.id, form_date=item.form_date).first()
    if duplicate is not None and duplicate[0] != item.id:
        raise InvalidInput(_("You already have a registration form for %(day)s.", day=item.form_date),
                           {"form_date": _("Already exists.")})
    item.status = RegistrationStatus.DRAFT
    item.due_at = registration_due_at(item.form_date)
    return item


@transactional
def create_registration(actor, form_date, note=None):
    item = DailyRegistration(form_date=form_date, note=note)
    prepare_registration(item, actor)
    db.session.add(item)
    db.session.flush()
    return item


def ensure_registration_editable(registration, actor):
    ensure_visible(actor, registration)
    if registration.status != RegistrationStatus.DRAFT:
        raise PermissionRefused(_("The form has been submitted; its lines can no longer change."))
    if registration.manager_id != actor.id:
        raise PermissionRefused(_("Only the manager who owns the form may change it."))


def prepare_entry(entry, actor, registration=None):
    """Check one line and derive its fields (CUS-02 intended, CUS-05 intermediary)."""
    registration = registration or entry.registration or (
        db.session.get(DailyRegistration, entry.registration_id) if entry.registration_id else None)
    if registration is None:
        raise InvalidInput(_("Please choose the registration form."), {"registration": _("Required.")})
    ensure_registration_editable(registration, actor)
    entry.registration = registration
    errors = {}
    entry.customer_name = (entry.customer_name or "").strip()
    if not entry.customer_name:
        errors["customer_name"] = _("Required.")
    if entry.channel not in Channel.values():
        errors["channel"] = _("Please choose how the customer came.")
    if entry.intention not in Intention.values():
        entry.intention = Intention.NONE
    if entry.kind not in CustomerKind.values():
        entry.kind = CustomerKind.PERSON
    if entry.kind == CustomerKind.COMPANY and not (entry.company_name or "").strip():
        errors["company_name"] = _("A company customer needs its company name.")
    has_contact = bool(normalise_phone(entry.phone))
    if entry.phone and not has_contact:
        errors["phone"] = _("This is not a usable phone number.")
    # CUS-02: 意向客户 = a contact and a buying or leasing intention.
    qualifies = has_contact and entry.intention != Intention.NONE
    if entry.intended and not qualifies:
        errors["intended"] = _(
            "An intended customer needs a contact phone and a buying or leasing intention.")
    entry.intended = qualifies
    # CUS-05: 注明是否有中介人.
    entry.intermediary = (entry.intermediary or "").strip() or None
    if entry.intermediary:
        entry.has_intermediary = True
    if entry.has_intermediary and not entry.intermediary:
        errors["intermediary"] = _("Name the intermediary (agency and person).")
    entry.has_intermediary = bool(entry.has_intermediary)
    entry.referrer = (entry.referrer or "").strip() or None
    if entry.channel == Channel.REFERRAL and not entry.referrer:
        errors["referrer"] = _("A referred customer needs the referring customer's name.")
    if errors:
        raise InvalidInput(errors=errors)
    if entry.registered_at is None:
        entry.registered_at = utcnow()
    return entry


@transactional
def add_entry(registration_id, actor, **fields):
    registration = _load(DailyRegistration, registration_id, actor)
    entry = RegistrationEntry(**fields)
    prepare_entry(entry, actor, registration)
    db.session.add(entry)
    db.session.flush()
    return entry


def effect_submit_registration(ctx):
    """Workflow effect of ``submit``: decide lateness (CUS-01), resolve ownership (CUS-03)."""
    registration = ctx.record
    registration.submitted_at = ctx.at
    registration.due_at = registration_due_at(registration.form_date)
    registration.late = is_late_submission(registration.form_date, ctx.at)
    db.session.flush()
    for entry in registration.entries:
        resolve_ownership(entry, registration.manager, ctx.at)


def _customer_matches(entry):
    keys = []
    phone, id_number = normalise_phone(entry.phone), normalise_id(entry.id_number)
    company = normalise_company(entry.company_name) if entry.company_name else None
    if phone:
        keys.append((MatchKind.PHONE, Customer.phone_key == phone))
    if id_number:
        keys.append((MatchKind.ID_NUMBER, Customer.id_key == id_number))
    if company:
        keys.append((MatchKind.COMPANY, Customer.company_key == company))
    for kind, condition in keys:
        customer = (db.session.query(Customer)
                    .filter(condition, Customer.purged.is_(False))
                    .order_by(Customer.owned_since, Customer.id).first())
        if customer is not None:
            return customer, kind
    return None, None


def resolve_ownership(entry, manager, at):
    """CUS-03: link the line to its customer; the earliest registration owns it."""
    customer, matched_on = _customer_matches(entry)
    if customer is None:
        customer = Customer(
            name=entry.customer_name, kind=entry.kind, company_name=entry.company_name,
            phone=entry.phone, id_number=entry.id_number, phone_key=normalise_phone(entry.phone),
            id_key=normalise_id(entry.id_number),
            company_key=normalise_company(entry.company_name) if entry.company_name else None,
            intention=entry.intention, intended=entry.intended, owner=manager,
            owned_since=entry.registered_at,
        )
        db.session.add(customer)
        db.session.flush()
        entry.customer = customer
        _complete_customer(customer, entry)
        return customer, None
    entry.customer = customer
    _complete_customer(customer, entry)
    if customer.owner_id == manager.id:
        if entry.registered_at < customer.owned_since:
            customer.owned_since = entry.registered_at
        return customer, None
    owner = customer.owner
    claimant_earlier = entry.registered_at < customer.owned_since
    conflict = OwnershipConflict(
        customer=customer, entry=entry, matched_on=matched_on, owner_id=customer.owner_id,
        claimant_id=manager.id, owner_registered_at=customer.owned_since,
        claimant_registered_at=entry.registered_at, detected_at=at,
        outcome=ConflictOutcome.TRANSFERRED if claimant_earlier else ConflictOutcome.KEPT,
    )
    values = dict(customer=customer.name, owner=user_display_name(owner),
                  claimant=user_display_name(manager),
                  owner_at=format_local(customer.owned_since, True),
                  claimant_at=format_local(entry.registered_at, True),
                  matched=str(MatchKind.label(matched_on)))
    if claimant_earlier:
        conflict.resolution = _(
            "%(customer)s (same %(matched)s) was registered by %(claimant)s at %(claimant_at)s, "
            "before %(owner)s at %(owner_at)s: the customer now belongs to %(claimant)s.", **values)
        customer.owner = manager
        customer.owned_since = entry.registered_at
        archive = db.session.query(ArchiveFile).filter_by(customer_id=customer.id).one_or_none()
        if archive is not None and archive.status != ArchiveStatus.DESTROYED:
            archive.manager = manager
        loser = owner
    else:
        conflict.resolution = _(
            "%(customer)s (same %(matched)s) was registered by %(owner)s at %(owner_at)s, "
            "before %(claimant)s at %(claimant_at)s: the customer stays with %(owner)s.", **values)
        loser = manager
    db.session.add(conflict)
    db.session.flush()
    link = record_path(OwnershipConflict.__tablename__, conflict.id)
    notify(loser, _("Customer ownership conflict: %(customer)s", customer=customer.name),
           conflict.resolution, link=link, dedupe_key=f"cus_conflict:{conflict.id}")
    return customer, conflict


def _complete_customer(customer, entry):
    """Fill what the customer record lacks from a later line; upgrade the intention."""
    for field, key_field, normalise in (("phone", "phone_key", normalise_phone),
                                        ("id_number", "id_key", normalise_id),
                                        ("company_name", "company_key", normalise_company)):
        value = getattr(entry, field)
        if value and not getattr(customer, field):
            setattr(customer, field, value)
            setattr(customer, key_field, normalise(value))
    if entry.intended and not customer.intended:
        customer.intended = True
        customer.intention = entry.intention
    if customer.intended:
        _ensure_archive(customer, entry)


def _ensure_archive(customer, entry=None):
    """CUS-07: 每开发一个客户建立《客户档案表》: an intended customer gets an archive."""
    archive = db.session.query(ArchiveFile).filter_by(customer_id=customer.id).one_or_none()
    if archive is not None:
        return archive
    today = local_today()
    archive = ArchiveFile(
        archive_no=_next_archive_no(today), customer=customer, manager_id=customer.owner_id,
        category=ArchiveCategory.NOT_CLOSED, status=ArchiveStatus.ACTIVE,
        contact_person=customer.name, contact_phone=customer.phone,
        requirement=getattr(entry, "requirement", None),
        source=str(Channel.label(entry.channel)) if entry is not None else None,
        opened_on=local_date(entry.registered_at) if entry is not None else today,
    )
    db.session.add(archive)
    db.session.flush()
    open_filing_deadline(archive, period_of(today))
    return archive


def _next_archive_no(day):
    return f"KH{day.year}{take_number('KH', day.year):04d}"


# ---------------------------------------------------------------------------
# Reception (CUS-04)
# ---------------------------------------------------------------------------

def route_visitor_item(item, actor, at=None):
    """Decide whom a visitor goes to; fills ``routed_to`` and ``reason`` (the caller saves).

    A visitor (or a referral) who names a manager goes to that manager; one who
    cannot is new and goes to the sales manager on duty (当班, duty kind
    ``sales_reception``); with nobody on the roster the sales head decides.
    """
    from .org import on_duty

    at = at or utcnow()
    item.visited_at = item.visited_at or at
    item.visitor_name = (item.visitor_name or "").strip()
    if not item.visitor_name:
        raise InvalidInput(errors={"visitor_name": _("Required.")})
    if item.is_referral and not (item.referrer or "").strip():
        raise InvalidInput(errors={"referrer": _("A referral needs the referring customer's name.")})
    named = item.named_manager or (db.session.get(type(actor), item.named_manager_id)
                                   if item.named_manager_id else None)
    if named is not None:
        if not _roles(named) & {SALES_MANAGER, SALES_HEAD} or not named.active:
            raise InvalidInput(errors={"named_manager": _("This person is not a sales manager.")})
        item.routed_to = named
        item.reason = RouteReason.REFERRAL_NAMED if item.is_referral else RouteReason.NAMED
        return item
    duty = [user for user in on_duty(local_date(item.visited_at), DutyKind.SALES_RECEPTION)
            if user.active]
    if duty:
        item.routed_to = duty[0]
        item.reason = RouteReason.ON_DUTY
    else:
        item.routed_to = None
        item.reason = RouteReason.NOBODY_ON_DUTY
    return item


def announce_visit(visit):
    link = record_path(ReceptionVisit.__tablename__, visit.id)
    subject = _("Visitor at reception: %(name)s", name=visit.visitor_name)
    body = _("%(name)s is waiting at reception (%(reason)s).", name=visit.visitor_name,
             reason=RouteReason.label(visit.reason))
    if visit.routed_to is not None:
        notify(visit.routed_to, subject, body, link=link, dedupe_key=f"cus_visit:{visit.id}")
    else:
        notify_role(SALES_HEAD, subject, body, link=link, dedupe_key=f"cus_visit:{visit.id}")


@transactional
def route_visitor(actor, visitor_name, phone=None, named_manager=None, is_referral=False,
                  referrer=None, note=None, at=None):
    visit = ReceptionVisit(visitor_name=visitor_name, phone=phone, named_manager=named_manager,
                           is_referral=is_referral, referrer=referrer, note=note,
                           visited_at=at)
    route_visitor_item(visit, actor, at)
    db.session.add(visit)
    db.session.flush()
    announce_visit(visit)
    return visit


# ---------------------------------------------------------------------------
# Archives: edits, tracking, month-end filing (CUS-07, CUS-08)
# ---------------------------------------------------------------------------

def period_of(day):
    return f"{day.year:04d}-{day.month:02d}"


def period_bounds(period):
    year, month = (int(part) for part in period.split("-"))
    first = datetime.date(year, month, 1)
    last = datetime.date(year, month, calendar.monthrange(year, month)[1])
    return first, last


def filing_due_at(period):
    """每月最后一天: the end of the month's last day, local time."""
    return end_of_local_day(period_bounds(period)[1])


def previous_period(period):
    first, _last = period_bounds(period)
    return period_of(first - datetime.timedelta(days=1))


def open_filing_deadline(archive, period, start=None):
    start = start or utcnow()
    days = (period_bounds(period)[1] - local_date(start)).days
    if days < 0:
        return None
    return open_deadline(ArchiveFile.__tablename__, archive.id, f"filing:{period}", FILING_KIND,
                         start, days, working_days=False, assignee=archive.manager_id,
                         label=_("Month-end filing %(period)s of archive %(no)s",
                                 period=period, no=archive.archive_no))


def open_month_filing_deadlines(now=None):
    """Open the current month's filing deadline of every active archive (idempotent); commits."""
    now = now or utcnow()
    period = period_of(local_date(now))
    filed = select(ArchiveFiling.archive_id).where(ArchiveFiling.period == period)
    count = 0
    for archive in db.session.query(ArchiveFile).filter(
            ArchiveFile.status == ArchiveStatus.ACTIVE, ArchiveFile.id.not_in(filed)):
        if open_filing_deadline(archive, period, now) is not None:
            count += 1
    db.session.commit()
    return count


def ensure_archive_editable(archive, actor):
    ensure_visible(actor, archive)
    if archive.status != ArchiveStatus.ACTIVE:
        raise PermissionRefused(_("Only an archive still being followed up can be changed."))
    if archive.manager_id != actor.id and CUSTODIAN not in _roles(actor):
        raise PermissionRefused(_("Only the customer's manager or the archive custodian may change the archive."))


def prepare_archive(archive, actor):
    """A manually opened archive (for a customer not yet intended)."""
    customer = archive.customer or (db.session.get(Customer, archive.customer_id)
                                    if archive.customer_id else None)
    ensure_visible(actor, customer)
    if customer.purged:
        raise InvalidInput(errors={"customer": _("This customer's data was destroyed.")})
    if db.session.query(ArchiveFile.id).filter_by(customer_id=customer.id).first():
        raise InvalidInput(_("This customer already has an archive."),
                           {"customer": _("Already has an archive.")})
    if customer.owner_id != actor.id and CUSTODIAN not in _roles(actor):
        raise PermissionRefused(_("Only the customer's manager or the archive custodian may open the archive."))
    today = local_today()
    archive.customer = customer
    archive.manager_id = customer.owner_id
    archive.archive_no = _next_archive_no(today)
    archive.status = ArchiveStatus.ACTIVE
    archive.category = ArchiveCategory.NOT_CLOSED
    archive.opened_on = archive.opened_on or today
    return archive


def after_archive_opened(archive_id):
    archive = db.session.get(ArchiveFile, archive_id)
    if archive is not None:
        open_filing_deadline(archive, period_of(local_today()))
        db.session.commit()


def prepare_tracking(entry, actor):
    archive = entry.archive or (db.session.get(ArchiveFile, entry.archive_id)
                                if entry.archive_id else None)
    if archive is None:
        raise InvalidInput(errors={"archive": _("Required.")})
    ensure_archive_editable(archive, actor)
    entry.archive = archive
    if entry.tracked_on is None:
        entry.tracked_on = local_today()
    if not (entry.content or "").strip():
        raise InvalidInput(errors={"content": _("Required.")})
    return entry


@transactional
def add_tracking(archive_id, actor, tracked_on=None, manner=None, content=None, next_step=None):
    archive = _load(ArchiveFile, archive_id, actor)
    entry = ArchiveTrackingEntry(archive_id=archive.id, tracked_on=tracked_on, manner=manner,
                                 content=content, next_step=next_step)
    prepare_tracking(entry, actor)
    db.session.add(entry)
    db.session.flush()
    return entry


def archive_snapshot(archive):
    """The archive as filed: basic information, tracking log and the credentials on file."""
    from .attachments import current_attachments

    return json.dumps({
        "archive_no": archive.archive_no,
        "customer": archive.customer.name,
        "category": archive.category,
        "contact_person": archive.contact_person,
        "contact_phone": archive.contact_phone,
        "address": archive.address,
        "industry": archive.industry,
        "requirement": archive.requirement,
        "summary": archive.summary,
        "tracking": [{"on": line.tracked_on.isoformat(), "manner": line.manner,
                      "content": line.content, "next": line.next_step}
                     for line in archive.tracking],
        "credentials": [{"kind": item.kind, "file": item.original_filename, "sha256": item.sha256}
                        for item in current_attachments(archive)],
    }, ensure_ascii=False, sort_keys=True)


def filing_period_for(archive, at):
    """The month a filing made at ``at`` covers: last month if that one is still missing."""
    current = period_of(local_date(at))
    previous = previous_period(current)
    first_prev, last_prev = period_bounds(previous)
    if archive.opened_on <= last_prev:
        missing = not db.session.query(ArchiveFiling.id).filter_by(
            archive_id=archive.id, period=previous).first()
        if missing:
            return previous
    return current


def file_archive(archive, actor, at):
    """Month-end filing (CUS-07): snapshot; late when after the month's last day."""
    period = filing_period_for(archive, at)
    due_at = filing_due_at(period)
    filing = db.session.query(ArchiveFiling).filter_by(archive_id=archive.id, period=period).one_or_none()
    late = at > due_at
    if filing is None:
        filing = ArchiveFiling(archive=archive, manager_id=archive.manager_id, period=period,
                               due_at=due_at, late=late)
        db.session.add(filing)
    else:
        filing.late = filing.late and late
    filing.filed_at = at
    filing.snapshot = archive_snapshot(archive)
    archive.last_filed_at = at
    close_deadlines(ArchiveFile.__tablename__, archive.id, f"filing:{period}", at)
    return filing


def effect_file(ctx):
    filing = file_archive(ctx.record, ctx.actor, ctx.at)
    current = period_of(local_date(ctx.at))
    if filing.period == current:
        first, last = period_bounds(current)
        open_filing_deadline(ctx.record, period_of(last + datetime.timedelta(days=1)), ctx.at)
    else:
        open_filing_deadline(ctx.record, current, ctx.at)


def _close(ctx, category):
    archive = ctx.record
    archive.category = category
    archive.closed_on = local_date(ctx.at)
    file_archive(archive, ctx.actor, ctx.at)
    # Closed: no more month-end filings are due.
    cancel_deadlines(ArchiveFile.__tablename__, archive.id, ctx.at)


def effect_close_deal(ctx):
    """CUS-08 / 3.2.4: a closed-deal customer's complete archive goes to the closed-deal archives."""
    _close(ctx, ArchiveCategory.CLOSED_DEAL)


def effect_close_not_closed(ctx):
    """CUS-08 / 3.2.5: 归入未成交客户档案."""
    _close(ctx, ArchiveCategory.NOT_CLOSED)


# ---------------------------------------------------------------------------
# Read permission from the general manager (CUS-06)
# ---------------------------------------------------------------------------

def prepare_grant(grant, actor, at=None):
    at = at or utcnow()
    if GENERAL_MANAGER not in _roles(actor):
        raise PermissionRefused(_("Only the general manager may permit reading customer forms and archives."))
    errors = {}
    grantee = grant.grantee or (db.session.get(type(actor), grant.grantee_id) if grant.grantee_id else None)
    if grantee is None:
        errors["grantee"] = _("Required.")
    if not (grant.reason or "").strip():
        errors["reason"] = _("Required.")
    if grant.scope not in GrantScope.values():
        grant.scope = GrantScope.ARCHIVE
    if grant.scope == GrantScope.ARCHIVE and grant.archive is None and grant.archive_id is None:
        errors["archive"] = _("Choose the archive.")
    if grant.scope == GrantScope.REGISTRATION and grant.registration is None and grant.registration_id is None:
        errors["registration"] = _("Choose the registration form.")
    grant.valid_from = grant.valid_from or at
    if grant.valid_until is None:
        errors["valid_until"] = _("Required.")
    else:
        longest = grant.valid_from + datetime.timedelta(days=int(get_setting("CUS_GRANT_MAX_DAYS")))
        if grant.valid_until <= max(at, grant.valid_from):
            errors["valid_until"] = _("The permission must end in the future.")
        elif grant.valid_until > longest:
            errors["valid_until"] = _("A permission lasts at most %(days)s days.",
                                      days=get_setting("CUS_GRANT_MAX_DAYS"))
    if errors:
        raise InvalidInput(errors=errors)
    if grant.scope != GrantScope.ARCHIVE:
        grant.archive, grant.archive_id = None, None
    if grant.scope != GrantScope.REGISTRATION:
        grant.registration, grant.registration_id = None, None
    return grant


@transactional
def grant_access(actor, grantee, valid_until, reason, scope=GrantScope.ARCHIVE, archive=None,
                 registration=None, valid_from=None):
    grant = ArchiveAccessGrant(grantee=grantee, scope=scope, archive=archive,
                               registration=registration, reason=reason,
                               valid_from=valid_from, valid_until=valid_until)
    prepare_grant(grant, actor)
    db.session.add(grant)
    db.session.flush()
    announce_grant(grant)
    return grant


def announce_grant(grant):
    notify(grant.grantee, _("You may read customer records until %(until)s",
                            until=format_local(grant.valid_until)),
           grant.reason, link=record_path(ArchiveAccessGrant.__tablename__, grant.id),
           dedupe_key=f"cus_grant:{grant.id}")


@transactional
def revoke_grant(grant_id, actor, version):
    from .versions import ensure_current_version

    grant = _load(ArchiveAccessGrant, grant_id, actor)
    if GENERAL_MANAGER not in _roles(actor):
        raise PermissionRefused(_("Only the general manager may revoke a permission."))
    ensure_current_version(grant, version)
    if grant.revoked_at is not None:
        raise PermissionRefused(_("This permission is already revoked."))
    grant.revoked_at = utcnow()
    return grant


# ---------------------------------------------------------------------------
# Lending (CUS-09)
# ---------------------------------------------------------------------------

def prepare_loan(loan, actor, at=None):
    at = at or utcnow()
    loan.borrower_id = actor.id
    loan.borrower = actor
    loan.status = LoanStatus.APPLIED
    errors = {}
    if not (loan.purpose or "").strip():
        errors["purpose"] = _("Required.")
    if not loan.files:
        errors["files"] = _("Choose at least one archive.")
    elif any(item.status == ArchiveStatus.DESTROYED for item in loan.files):
        errors["files"] = _("A destroyed archive cannot be lent.")
    today = local_date(at)
    if loan.expected_return is None:
        errors["expected_return"] = _("Required.")
    elif loan.expected_return < today:
        errors["expected_return"] = _("The expected return cannot be in the past.")
    elif loan.expected_return > today + datetime.timedelta(days=int(get_setting("CUS_LOAN_MAX_DAYS"))):
        errors["expected_return"] = _("A loan lasts at most %(days)s days.",
                                      days=get_setting("CUS_LOAN_MAX_DAYS"))
    if errors:
        raise InvalidInput(errors=errors)
    return loan


def start_loan(loan):
    from ..workflows.customers import LOAN_WORKFLOW

    LOAN_WORKFLOW.start(loan)
    notify_role(SALES_HEAD, _("Archive loan application waits for your review"),
                _("%(name)s asks to borrow archives: %(purpose)s",
                  name=user_display_name(loan.borrower), purpose=loan.purpose),
                link=record_path(ArchiveLoan.__tablename__, loan.id),
                dedupe_key=f"cus_loan:{loan.id}:applied")


def after_loan_applied(loan_id):
    loan = db.session.get(ArchiveLoan, loan_id)
    if loan is not None:
        start_loan(loan)
        db.session.commit()


@transactional
def apply_loan(actor, archives, purpose, expected_return):
    loan = ArchiveLoan(purpose=purpose, expected_return=expected_return)
    loan.files = list(archives)
    prepare_loan(loan, actor)
    db.session.add(loan)
    db.session.flush()
    start_loan(loan)
    return loan


def _parse_date(raw, field):
    if raw in (None, ""):
        return None
    if isinstance(raw, datetime.date):
        return raw
    try:
        return datetime.date.fromisoformat(str(raw).strip())
    except ValueError:
        raise InvalidInput(errors={field: _("Not a date (YYYY-MM-DD).")})


def effect_issue_loan(ctx):
    """On issue: an entry in the lending register (登记手续) with its due date; reminders open."""
    loan = ctx.record
    today = local_date(ctx.at)
    due_on = _parse_date(ctx.payload.get("due_on"), "due_on") or loan.expected_return
    if due_on < today:
        raise InvalidInput(_("The due date cannot be in the past."), {"due_on": _("In the past.")})
    year = today.year
    loan.register_no = f"JY{year}-{take_number('JY', year):04d}"
    loan.issued_at = ctx.at
    loan.due_on = due_on
    days = (due_on - today).days
    table = ArchiveLoan.__tablename__
    label = _("Return of loan %(no)s", no=loan.register_no)
    open_deadline(table, loan.id, LoanStatus.ISSUED, LOAN_RETURN_KIND, ctx.at, days,
                  working_days=False, assignee=loan.borrower_id, label=label)
    open_deadline(table, loan.id, LoanStatus.ISSUED, LOAN_RETURN_CUSTODIAN_KIND, ctx.at, days,
                  working_days=False, assignee_role=CUSTODIAN, label=label)


def effect_return_loan(ctx):
    ctx.record.returned_at = ctx.at


# ---------------------------------------------------------------------------
# Destruction (CUS-10, X-03)
# ---------------------------------------------------------------------------

def retention_ends(archive):
    """The first day the archive may be destroyed: its close date plus the retention years."""
    if archive.closed_on is None:
        return None
    years = int(get_setting("CUS_RETENTION_YEARS"))
    closed = archive.closed_on
    try:
        return closed.replace(year=closed.year + years)
    except ValueError:  # 29 February
        return closed.replace(year=closed.year + years, day=28) + datetime.timedelta(days=1)


def retention_cutoff(today=None):
    """Archives closed on or before this day have served their retention period (CUS-10)."""
    today = today or local_today()
    years = int(get_setting("CUS_RETENTION_YEARS"))
    try:
        return today.replace(year=today.year - years)
    except ValueError:  # 29 February
        return today.replace(year=today.year - years, day=28)


def retention_refusal(archive, today=None):
    """None when the retention period is over; else why destruction is refused (CUS-10)."""
    today = today or local_today()
    if archive.status == ArchiveStatus.DESTROYED:
        return _("This archive has already been destroyed.")
    if archive.status != ArchiveStatus.CLOSED or archive.closed_on is None:
        return _("Only a closed archive can be destroyed; this one is still being followed up.")
    ends = retention_ends(archive)
    if today < ends:
        return _("The archive must be kept until %(day)s (%(years)s years from its close on %(closed)s).",
                 day=ends.isoformat(), years=get_setting("CUS_RETENTION_YEARS"),
                 closed=archive.closed_on.isoformat())
    return None


def prepare_destruction(item, actor):
    if CUSTODIAN not in _roles(actor):
        raise PermissionRefused(_("Only the archive custodian applies for a destruction."))
    archive = item.archive or (db.session.get(ArchiveFile, item.archive_id) if item.archive_id else None)
    ensure_visible(actor, archive)
    if not (item.reason or "").strip():
        raise InvalidInput(errors={"reason": _("Required.")})
    refusal = retention_refusal(archive)
    if refusal:
        raise PermissionRefused(refusal)
    pending = db.session.query(ArchiveDestruction.id).filter(
        ArchiveDestruction.archive_id == archive.id,
        ArchiveDestruction.status.in_([DestructionStatus.APPLIED, DestructionStatus.REVIEWED,
                                       DestructionStatus.APPROVED])).first()
    if pending is not None:
        raise InvalidInput(_("A destruction of this archive is already under way."),
                           {"archive": _("Already under way.")})
    item.archive = archive
    item.status = DestructionStatus.APPLIED
    item.retention_ends = retention_ends(archive)
    return item


def start_destruction(item):
    from ..workflows.customers import DESTRUCTION_WORKFLOW

    DESTRUCTION_WORKFLOW.start(item)
    notify_role(SALES_HEAD, _("Archive destruction waits for your review"),
                _("Archive %(no)s: %(reason)s", no=item.archive.archive_no, reason=item.reason),
                link=record_path(ArchiveDestruction.__tablename__, item.id),
                dedupe_key=f"cus_destruction:{item.id}:applied")


def after_destruction_applied(item_id):
    item = db.session.get(ArchiveDestruction, item_id)
    if item is not None:
        start_destruction(item)
        db.session.commit()


@transactional
def apply_destruction(actor, archive, reason):
    item = ArchiveDestruction(archive=archive, reason=reason)
    prepare_destruction(item, actor)
    db.session.add(item)
    db.session.flush()
    start_destruction(item)
    return item


PURGED = "（已销毁）"


def effect_destroy(ctx):
    """Carry out an approved destruction: record it, purge the content, keep the metadata."""
    item = ctx.record
    errors = {}
    for field in ("method", "executor", "witness"):
        value = (ctx.payload.get(field) or "").strip()
        if not value:
            errors[field] = _("Required.")
        setattr(item, field, value[:100] or None)
    destroyed_on = _parse_date(ctx.payload.get("destroyed_on"), "destroyed_on") or local_date(ctx.at)
    if destroyed_on > local_date(ctx.at):
        errors["destroyed_on"] = _("The destruction date cannot be in the future.")
    if item.executor and item.witness and item.executor == item.witness:
        errors["witness"] = _("The witness must be someone other than the executor.")
    if errors:
        raise InvalidInput(_("The destruction record needs the method, executor, witness and date."),
                           errors)
    refusal = retention_refusal(item.archive, local_date(ctx.at))
    if refusal:
        raise PermissionRefused(refusal)
    item.destroyed_on = destroyed_on
    item.purge_summary = purge_archive(item.archive, item)


def purge_archive(archive, destruction):
    """Blank the archive's content, its customer's and the registration lines'; remove files.

    What remains: the rows with their numbers, dates, owner and category, and
    the destruction record. The only deletion path of business data (X-03).
    """
    from .attachments import storage_path

    counts = {"tracking": 0, "filings": 0, "files": 0, "lines": 0}
    with allow_destruction():
        for field in ("contact_person", "contact_phone", "address", "industry", "requirement",
                      "source", "summary"):
            setattr(archive, field, None)
        for line in list(archive.tracking):
            db.session.delete(line)
            counts["tracking"] += 1
        for filing in archive.filings:
            filing.snapshot = None
            counts["filings"] += 1
        attachments = db.session.query(Attachment).filter_by(
            owner_table=ArchiveFile.__tablename__, owner_id=archive.id).all()
        keys = {item.storage_key for item in attachments if item.storage_key}
        for item in attachments:
            item.original_filename = None
            item.storage_key = None
            item.sha256 = None
            item.paper_location = None
            item.note = _("Destroyed with the archive (destruction record #%(id)s).", id=destruction.id)
        db.session.flush()
        for key in keys:
            still_used = db.session.query(Attachment.id).filter_by(storage_key=key).first()
            if still_used is None:
                try:
                    os.remove(storage_path(key))
                    counts["files"] += 1
                except FileNotFoundError:
                    pass
        customer = archive.customer
        for field in ("phone", "id_number", "company_name", "phone_key", "id_key", "company_key",
                      "note"):
            setattr(customer, field, None)
        customer.name = PURGED
        customer.purged = True
        for line in db.session.query(RegistrationEntry).filter_by(customer_id=customer.id):
            line.customer_name = PURGED
            for field in ("phone", "id_number", "company_name", "intermediary", "referrer",
                          "requirement"):
                setattr(line, field, None)
            counts["lines"] += 1
        archive.status = ArchiveStatus.DESTROYED
        archive.destroyed_on = destruction.destroyed_on
        db.session.flush()
    return _("Purged: %(tracking)s tracking lines deleted, %(filings)s filing snapshots blanked, "
             "%(files)s stored files removed, %(lines)s registration lines blanked.", **counts)


# ---------------------------------------------------------------------------
# Monthly assessment (CUS-11)
# ---------------------------------------------------------------------------

def assessment_rows(period, viewer=None, now=None):
    """Per manager: late registration forms and late or missed archive filings in ``period``.

    A form counts when submitted after its cut-off, or still unsubmitted past
    it; a filing when made after the month's last day, or missing once that
    day is over for an archive followed up during the month.
    """
    from flask_appbuilder.security.sqla.models import User

    from .org import users_with_role

    now = now or utcnow()
    first, last = period_bounds(period)
    form_points = int(get_setting("CUS_POINTS_LATE_FORM"))
    filing_points = int(get_setting("CUS_POINTS_LATE_FILING"))
    rows = {}

    def row(user_id):
        return rows.setdefault(user_id, {"late_forms": 0, "late_filings": 0, "missed_filings": 0})

    for user in users_with_role(SALES_MANAGER):
        row(user.id)
    forms = db.session.query(DailyRegistration).filter(
        DailyRegistration.form_date >= first, DailyRegistration.form_date <= last).all()
    for form in forms:
        if form.late or (form.status == RegistrationStatus.DRAFT and form.due_at < now):
            row(form.manager_id)["late_forms"] += 1
    for filing in db.session.query(ArchiveFiling).filter_by(period=period, late=True):
        row(filing.manager_id)["late_filings"] += 1
    due = filing_due_at(period)
    if now > due:
        filed = select(ArchiveFiling.archive_id).where(ArchiveFiling.period == period)
        expected = db.session.query(ArchiveFile).filter(
            ArchiveFile.opened_on <= last,
            or_(ArchiveFile.closed_on.is_(None), ArchiveFile.closed_on >= first),
            ArchiveFile.id.not_in(filed),
        )
        for archive in expected:
            row(archive.manager_id)["missed_filings"] += 1
    if viewer is not None and not (_roles(viewer) & {SALES_HEAD, GENERAL_MANAGER, CUSTODIAN, AUDITOR}
                                   or is_keeper(viewer)):
        rows = {key: value for key, value in rows.items() if key == viewer.id}
    users = {user.id: user for user in db.session.query(User).filter(User.id.in_(rows or [0]))}
    result = []
    for user_id, counts in rows.items():
        late_filings = counts["late_filings"] + counts["missed_filings"]
        result.append({
            "manager": users.get(user_id),
            "manager_name": user_display_name(users.get(user_id)),
            "late_forms": counts["late_forms"],
            "late_filings": counts["late_filings"],
            "missed_filings": counts["missed_filings"],
            "points": counts["late_forms"] * form_points + late_filings * filing_points,
        })
    return sorted(result, key=lambda item: (-item["points"], item["manager_name"]))


def record_assessment_read(period, door):
    record_event("read", "cus_assessment", None, {"period": period, "door": door})



# ---------------------------------------------------------------------------
# Credentials attached to an archive (CUS-07)
# ---------------------------------------------------------------------------

def _archive_attachment_guard(archive, actor):
    if archive.status == ArchiveStatus.DESTROYED:
        raise PermissionRefused(_("This archive was destroyed; nothing can be attached to it."))
    if archive.manager_id != actor.id and CUSTODIAN not in _roles(actor):
        raise PermissionRefused(_("Only the customer's manager or the archive custodian may attach copies."))


def _register_attachments():
    from .attachments import register_attachment_guard, register_attachment_kinds

    register_attachment_kinds(ArchiveFile, [
        ("business_licence", _l("Business licence copy")),
        ("id_card", _l("ID card copy")),
        ("organisation_code", _l("Organisation code certificate copy")),
        ("tax_registration", _l("Tax registration certificate copy")),
        ("other", _l("Other document")),
    ])
    register_attachment_guard(ArchiveFile, _archive_attachment_guard)


_register_attachments()
