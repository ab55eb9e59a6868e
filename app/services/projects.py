"""Customer electrical projects (客户工程/业扩报装, ENG-01 to ENG-17): every state change.

Capacity units: an application keeps the unit the customer gave (kW or kVA).
Each rule compares in the unit it states: "low voltage up to 10 kW" in kW,
"1000 kVA" and "3000 kVA" in kVA. A figure in the other unit is converted
with the configurable power factor ``ENG_POWER_FACTOR`` (default 0.9):
kVA = kW / PF and kW = kVA × PF. So 10 kW low voltage is a supply-station
review, while 12 kVA (10.8 kW) is not; 2700 kW is 3000 kVA and needs a
dedicated line. The supply plan states its approved capacity in kVA.

Department head (ENG-03): the reply's department-head review is taken by the
department supervisor role (部门主管, ``DepartmentSupervisor``); the
general manager (``GeneralManager``) signs. Nobody reviews or signs a reply
they drafted or submitted.
"""
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select

from ..deadlines import deadline_query, deadlines_of, local_date, local_today
from ..extensions import db
from ..models.base import utcnow
from ..models.deadlines import Deadline, DeadlineStatus
from ..models.projects import (
    CapacityBand, CapacityUnit, ChangeStatus, CheckResult, CHECK_AREAS, ConstructionChange,
    ConstructionRecord, DESIGN_DOCUMENTS, DesignReview, EquipmentOrder, InspectionStatus,
    LoadClass, Manufacturer, MeteringMethod, MidInspection, OrderStatus, PlanChange, PlanStatus,
    PowerApplication, ReplyUnit, ResponsibleUnit, ReviewRoute, ReviewStatus, Stage, SupplyMode,
    BackupScheme, SupplyPlan, VoltageLevel,
)
from ..security.visibility import ensure_visible, register_visibility
from .errors import InvalidInput, PermissionRefused
from .settings import get_setting, register_setting
from .transaction import transactional

# ---------------------------------------------------------------------------
# Configurable figures (ENG-17: every time limit is tracked)
# ---------------------------------------------------------------------------

register_setting("ENG_POWER_FACTOR", 0.9, _l("Power factor for comparing kW with kVA thresholds"),
                 kind=float, minimum=0.5, maximum=1.0, rule="ENG-05")
register_setting("ENG_PLAN_REPLY_DAYS_SINGLE", 15,
                 _l("Supply-plan reply, single supply (working days)"), minimum=1, rule="ENG-03")
register_setting("ENG_PLAN_REPLY_DAYS_DUAL", 30,
                 _l("Supply-plan reply, dual supply (working days)"), minimum=1, rule="ENG-03")
register_setting("ENG_DESIGN_REVIEW_DAYS", 10, _l("Design review (working days)"), minimum=1,
                 rule="ENG-05")
register_setting("ENG_MID_INSPECTION_DAYS", 5,
                 _l("Mid-construction inspection after the request (working days)"), minimum=1,
                 rule="ENG-12")
register_setting("ENG_MID_INSPECTION_MIN_PERCENT", 67,
                 _l("Share of equipment installed before a mid-construction inspection (%)"),
                 minimum=1, maximum=100, rule="ENG-12")
register_setting("ENG_MID_INSPECTION_MAX_ROUNDS", 4,
                 _l("Most mid-construction inspection rounds per project"), minimum=1,
                 rule="ENG-12")
register_setting("ENG_COMPLETION_REPORT_DAYS", 3,
                 _l("Completion report by the contractor, company-built projects (days)"),
                 minimum=1, rule="ENG-13")
register_setting("ENG_ACCEPTANCE_DAYS", 5, _l("Acceptance after the request (working days)"),
                 minimum=1, rule="ENG-13")
register_setting("ENG_POWER_ON_DAYS_HV", 5,
                 _l("Power-on after acceptance, high voltage (working days)"), minimum=1,
                 rule="ENG-14")
register_setting("ENG_METER_NOTICE_DAYS", 1,
                 _l("Meter-install notice after acceptance, residential lighting (days)"),
                 minimum=1, rule="ENG-15")
register_setting("ENG_RESIDENTIAL_POWER_DAYS", 2,
                 _l("Power-on after acceptance, residential lighting (days)"), minimum=1,
                 rule="ENG-15")
register_setting("ENG_LOW_VOLTAGE_REPLY_BY_BRANCH", True,
                 _l("Low-voltage supply plans are answered by the branch marketing department "
                    "(no: by the company, the literal reading)"), kind=bool, rule="ENG-03")
register_setting("ENG_SITE_CHECK_DAYS", 30,
                 _l("On-site check after power-on (days; one month)"), minimum=1, rule="ENG-16")

# Regulation thresholds (not configurable: they are the rules themselves).
STATION_MAX_KW = 10  # ENG-05: low voltage up to 10 kW (inclusive)
CITY_MIN_KVA = 1000  # ENG-05: 1000 kVA or more; ENG-03: under 1000 kVA
DEDICATED_LINE_KVA = 3000  # ENG-02: 3000 kVA or more

# Deadline kinds (Deadline.kind); the label each shows.
DEADLINE_KINDS = {
    "eng_plan_reply": _l("Send the supply-plan reply"),
    "eng_design_review": _l("Review the design"),
    "eng_mid_inspection": _l("Carry out the mid-construction inspection"),
    "eng_completion_report": _l("Completion report from the contractor"),
    "eng_acceptance": _l("Accept the works"),
    "eng_meter_notice": _l("Issue the meter-install notice"),
    "eng_power_on": _l("Meter and power on"),
    "eng_site_check": _l("On-site check after power-on"),
}
METER_NOTICE_STATE = "meter_notice"


def _register_kinds():
    from ..deadlines import register_deadline_kind

    for kind, label in DEADLINE_KINDS.items():
        register_deadline_kind(kind, label)


_register_kinds()


# ---------------------------------------------------------------------------
# Units, route, band (ENG-05)
# ---------------------------------------------------------------------------

def power_factor():
    return float(get_setting("ENG_POWER_FACTOR"))


def to_kva(value, unit):
    value = float(value or 0)
    return round(value if unit == CapacityUnit.KVA else value / power_factor(), 4)


def to_kw(value, unit):
    value = float(value or 0)
    return round(value if unit == CapacityUnit.KW else value * power_factor(), 4)


def capacity_kva(application):
    """The capacity the thresholds in kVA apply to: the plan's once there is one."""
    plan = application.plan
    if plan is not None and plan.approved_capacity_kva:
        return round(float(plan.approved_capacity_kva), 4)
    return to_kva(application.requested_capacity, application.capacity_unit)


def is_dual_supply(application):
    plan = application.plan
    return bool(application.backup_power or (plan is not None and plan.dual_supply))


def is_dedicated_line(application):
    plan = application.plan
    return plan is not None and plan.supply_mode == SupplyMode.DEDICATED_LINE


def review_route(application):
    """ENG-05: who reviews the design.

    1000 kVA or more, dual supply or a dedicated line → city company; any
    other high-voltage customer → branch marketing department; low voltage
    up to 10 kW → supply station; low voltage above 10 kW (which the seed
    does not place) → branch marketing department.
    """
    if capacity_kva(application) >= CITY_MIN_KVA or is_dual_supply(application) \
            or is_dedicated_line(application):
        return ReviewRoute.CITY
    if application.is_high_voltage:
        return ReviewRoute.BRANCH
    if to_kw(application.requested_capacity, application.capacity_unit) <= STATION_MAX_KW:
        return ReviewRoute.STATION
    return ReviewRoute.BRANCH


def capacity_band(application):
    kva = capacity_kva(application)
    if not application.is_high_voltage and \
            to_kw(application.requested_capacity, application.capacity_unit) <= STATION_MAX_KW:
        return CapacityBand.SMALL
    if kva < CITY_MIN_KVA:
        return CapacityBand.MEDIUM
    if kva < DEDICATED_LINE_KVA:
        return CapacityBand.LARGE
    return CapacityBand.HUGE


def reply_unit(plan):
    """ENG-03: plans under 1000 kVA for dedicated-transformer customers → branch; others → company.

    The seed names only the dedicated-transformer case. Read literally, a
    household on a public transformer would wait for the company; by default
    the branch answers low-voltage plans too (ENG_LOW_VOLTAGE_REPLY_BY_BRANCH).
    """
    if plan.approved_capacity_kva < CITY_MIN_KVA and \
            plan.supply_mode == SupplyMode.DEDICATED_TRANSFORMER:
        return ReplyUnit.BRANCH
    if not plan.application.is_high_voltage and get_setting("ENG_LOW_VOLTAGE_REPLY_BY_BRANCH"):
        return ReplyUnit.BRANCH
    return ReplyUnit.COMPANY


def responsible_unit(application):
    stage = application.stage
    if stage == Stage.RECEIVED:
        return ResponsibleUnit.WINDOW
    if stage == Stage.PLANNING:
        plan = application.plan
        if plan is not None and plan.status == PlanStatus.SIGNED:
            return ReplyUnit.ROLES[plan.reply_unit or reply_unit(plan)]
        return ResponsibleUnit.MARKETING
    if stage == Stage.DESIGN:
        return ReviewRoute.ROLES[application.review_route or review_route(application)]
    if stage in (Stage.CONSTRUCTION, Stage.ACCEPTED):
        return ResponsibleUnit.MARKETING
    if stage in (Stage.ACCEPTANCE, Stage.POWERED):
        return ResponsibleUnit.INSPECTOR
    return ResponsibleUnit.NONE


def refresh(application):
    """Recompute the stored derived columns lists filter by."""
    route = review_route(application)
    if application.review is not None and application.review.status != ReviewStatus.PASSED \
            and application.review.route != route:
        application.review.route = route
        _reroute_review_deadline(application, route)
    application.review_route = (application.review.route if application.review is not None
                                and application.review.status == ReviewStatus.PASSED else route)
    application.capacity_band = capacity_band(application)
    application.responsible_unit = responsible_unit(application)


def _role_names(user):
    return {role.name for role in getattr(user, "roles", None) or []}


# ---------------------------------------------------------------------------
# Visibility: supply-station staff see the projects routed to a station.
# ---------------------------------------------------------------------------

PROJECT_WIDE_ROLES = {"ServiceWindow", "Marketing", "CityCompany", "Inspector",
                      "DepartmentSupervisor", "GeneralManager"}


def _station_only(user):
    roles = _role_names(user)
    return "SupplyStation" in roles and not roles & PROJECT_WIDE_ROLES


def _station_ids():
    return select(PowerApplication.id).where(PowerApplication.review_route == ReviewRoute.STATION)


def _filter_applications(query, user):
    if _station_only(user):
        return query.filter(PowerApplication.review_route == ReviewRoute.STATION)
    return query


def _can_see_application(application, user):
    return not _station_only(user) or application.review_route == ReviewRoute.STATION


register_visibility(PowerApplication, _filter_applications, _can_see_application)


def _register_child(model):
    register_visibility(
        model,
        lambda query, user: query.filter(model.application_id.in_(_station_ids()))
        if _station_only(user) else query,
        lambda record, user: _can_see_application(record.application, user),
    )


for _child in (SupplyPlan, PlanChange, DesignReview, ConstructionRecord, EquipmentOrder,
               ConstructionChange, MidInspection):
    _register_child(_child)


def _get(model, record_id, actor):
    record = db.session.get(model, int(record_id)) if record_id is not None else None
    return ensure_visible(actor, record)


# ---------------------------------------------------------------------------
# Attachments: the design documents (ENG-06)
# ---------------------------------------------------------------------------

def _register_documents():
    from .attachments import register_attachment_kinds

    register_attachment_kinds(DesignReview, DESIGN_DOCUMENTS + [("other", _l("Other document"))])


_register_documents()


def missing_documents(review):
    """ENG-06: the listed documents not yet submitted (file or paper original)."""
    from .attachments import current_attachments

    present = {attachment.kind for attachment in current_attachments(review)}
    return [(kind, label) for kind, label in DESIGN_DOCUMENTS if kind not in present]


# ---------------------------------------------------------------------------
# Deadlines (ENG-17)
# ---------------------------------------------------------------------------

def _open(table, record_id, state, kind, start, days, working, role, assignee=None):
    from ..deadlines import open_deadline

    return open_deadline(record_table=table, record_id=record_id, state=state, kind=kind,
                         start=start, days=int(days), working_days=working,
                         assignee=assignee, assignee_role=role)


def _close_kind(table, record_id, kind, at):
    for deadline in deadline_query(record_table=table, record_id=record_id, kind=kind,
                                   status=DeadlineStatus.OPEN).all():
        deadline.closed_at = at
        deadline.status = DeadlineStatus.LATE if at > deadline.due_at else DeadlineStatus.MET


def plan_reply_days(application):
    key = "ENG_PLAN_REPLY_DAYS_DUAL" if is_dual_supply(application) else "ENG_PLAN_REPLY_DAYS_SINGLE"
    return get_setting(key)


def project_deadlines(application):
    """Every deadline of the project and its inspections, due order."""
    rows = deadlines_of(PowerApplication.__tablename__, application.id)
    inspection_ids = [row.id for row in db.session.query(MidInspection.id)
                      .filter_by(application_id=application.id)]
    if inspection_ids:
        rows += deadline_query(record_table=MidInspection.__tablename__).filter(
            Deadline.record_id.in_(inspection_ids)).all()
    return sorted(rows, key=lambda row: (row.due_at, row.id))


def overdue_application_ids(now=None):
    """SQL: ids of projects with an open deadline past due (theirs or an inspection's)."""
    now = now or utcnow()
    own = select(Deadline.record_id).where(
        Deadline.record_table == PowerApplication.__tablename__,
        Deadline.status == DeadlineStatus.OPEN, Deadline.due_at < now)
    inspections = select(MidInspection.application_id).join(
        Deadline, (Deadline.record_table == MidInspection.__tablename__)
        & (Deadline.record_id == MidInspection.id)).where(
        Deadline.status == DeadlineStatus.OPEN, Deadline.due_at < now)
    return own.union(inspections)


def project_timeline(application, now=None):
    """ENG-17: the path stage by stage: done / current / to come, when, by whom, what is due."""
    from ..workflows.projects import PROJECT_WORKFLOW

    now = now or utcnow()
    history = PROJECT_WORKFLOW.history(application)
    entered = {Stage.RECEIVED: (application.received_at, application.received_by)}
    for step in history:
        entered[step.to_state] = (step.occurred_at, step.actor)
    deadlines = project_deadlines(application)
    path = list(Stage.PATH)
    if application.stage == Stage.WITHDRAWN:
        path.append(Stage.WITHDRAWN)
    current_index = path.index(application.stage) if application.stage in path else -1
    rows = []
    for index, stage in enumerate(path):
        if application.stage == Stage.WITHDRAWN:
            status = "current" if stage == Stage.WITHDRAWN else (
                "done" if stage in entered else "skipped")
        elif index < current_index:
            status = "done"
        elif index == current_index:
            status = "done" if stage == Stage.COMPLETED else "current"
        else:
            status = "pending"
        at, by = entered.get(stage, (None, None))
        stage_deadlines = [
            deadline for deadline in deadlines
            if _deadline_stage(deadline) == stage
        ]
        rows.append({
            "stage": stage, "label": Stage.label(stage), "status": status,
            "entered_at": at if status != "pending" else None,
            "entered_by": by if status != "pending" else None,
            "deadlines": [describe_deadline(deadline, now) for deadline in stage_deadlines],
        })
    return rows


_KIND_STAGE = {
    "eng_plan_reply": Stage.PLANNING, "eng_design_review": Stage.DESIGN,
    "eng_mid_inspection": Stage.CONSTRUCTION, "eng_completion_report": Stage.CONSTRUCTION,
    "eng_acceptance": Stage.ACCEPTANCE, "eng_meter_notice": Stage.ACCEPTED,
    "eng_power_on": Stage.ACCEPTED, "eng_site_check": Stage.POWERED,
}


def _deadline_stage(deadline):
    return _KIND_STAGE.get(deadline.kind, deadline.state)


def describe_deadline(deadline, now=None):
    from ..models.org import user_display_name
    from ..security.roles import role_label

    now = now or utcnow()
    who = user_display_name(deadline.assignee) if deadline.assignee_id else (
        role_label(deadline.assignee_role) if deadline.assignee_role else "")
    overdue = deadline.status == DeadlineStatus.OPEN and deadline.due_at < now
    return {"label": DEADLINE_KINDS.get(deadline.kind, deadline.kind), "due_at": deadline.due_at,
            "who": who, "status": deadline.status, "overdue": overdue,
            "closed_at": deadline.closed_at,
            "late": deadline.status == DeadlineStatus.LATE}


def tell(role, application, what):
    """Notify the holders of ``role`` that a project waits for them (in the default language)."""
    from flask import current_app
    from flask_babel import force_locale

    from ..deadlines import record_path
    from .notifications import notify_role

    with force_locale(current_app.config.get("BABEL_DEFAULT_LOCALE", "zh")):
        subject = _("Project %(number)s: %(what)s", number=application.number, what=str(what))
        body = f"{application.customer_name}，{application.address}"
    notify_role(role, subject, body, link=record_path(PowerApplication.__tablename__,
                                                      application.id))


# ---------------------------------------------------------------------------
# ENG-01: registering an application
# ---------------------------------------------------------------------------

def next_number(year):
    """YK-<year>-<5 digits>, gap-free per year, taken in the registering transaction."""
    from .numbering import take_number

    return f"YK-{year}-{take_number('YK', year):05d}"


def validate_application(application):
    """ENG-01: what an application must say; raises InvalidInput."""
    errors = {}
    for field in ("customer_name", "address", "voltage_level", "capacity_unit", "load_class",
                  "load_nature", "kind"):
        if not getattr(application, field, None):
            errors[field] = _("Required.")
    if application.voltage_level and application.voltage_level not in VoltageLevel.values():
        errors["voltage_level"] = _("Unknown voltage level.")
    if application.capacity_unit and application.capacity_unit not in CapacityUnit.values():
        errors["capacity_unit"] = _("The unit must be kW or kVA.")
    if application.requested_capacity is None or float(application.requested_capacity) <= 0:
        errors["requested_capacity"] = _("The requested capacity must be more than zero.")
    if application.kind == "increase" and not application.existing_capacity:
        errors["existing_capacity"] = _("A capacity increase states the existing capacity.")
    if application.residential_lighting and application.is_high_voltage:
        errors["residential_lighting"] = _("Residential lighting customers are supplied at low voltage.")
    if errors:
        raise InvalidInput(_("The application is incomplete."), errors)


def prepare_application(application, actor, at=None):
    """Fill in what the system sets on a new application (number, receipt, derived columns)."""
    validate_application(application)
    at = at or utcnow()
    application.received_at = application.received_at or at
    application.received_by_id = application.received_by_id or actor.id
    application.number = next_number(local_date(application.received_at).year)
    application.stage = Stage.RECEIVED
    refresh(application)
    return application


@transactional
def register_application(actor, **fields):
    """ENG-01: a service-window clerk registers an application (用电申请)."""
    if "ServiceWindow" not in _role_names(actor) and "Admin" not in _role_names(actor):
        raise PermissionRefused(_("Only the service window registers applications."))
    application = PowerApplication(**fields)
    prepare_application(application, actor)
    db.session.add(application)
    db.session.flush()
    return application


# ---------------------------------------------------------------------------
# Project workflow effects and guards
# ---------------------------------------------------------------------------

def default_plan(application):
    kva = round(to_kva(application.requested_capacity, application.capacity_unit), 2)
    if kva >= DEDICATED_LINE_KVA:
        mode = SupplyMode.DEDICATED_LINE
    elif application.is_high_voltage:
        mode = SupplyMode.DEDICATED_TRANSFORMER
    else:
        mode = SupplyMode.PUBLIC_TRANSFORMER
    if application.is_high_voltage:
        metering = MeteringMethod.HV_HV_SIDE if kva >= CITY_MIN_KVA else MeteringMethod.HV_LV_SIDE
    else:
        metering = MeteringMethod.LV_DIRECT if kva < 100 else MeteringMethod.LV_CT
    backup = BackupScheme.NONE
    if application.backup_power:
        backup = {LoadClass.FIRST: BackupScheme.DUAL_SOURCE,
                  LoadClass.SECOND: BackupScheme.DUAL_CIRCUIT}.get(application.load_class,
                                                                   BackupScheme.OWN_GENERATOR)
    plan = SupplyPlan(
        application=application, approved_capacity_kva=kva,
        supply_voltage=application.voltage_level, supply_mode=mode,
        dual_supply=backup in (BackupScheme.DUAL_SOURCE, BackupScheme.DUAL_CIRCUIT),
        backup_scheme=backup, metering_method=metering, status=PlanStatus.DRAFT,
    )
    plan.reply_unit = reply_unit(plan)
    return plan


def effect_forward(ctx):
    """ENG-01 → ENG-02: a draft plan for marketing and the reply's time limit (ENG-03)."""
    application = ctx.record
    if application.plan is None:
        db.session.add(default_plan(application))
        db.session.flush()
    application.stage = Stage.PLANNING
    refresh(application)
    _open(PowerApplication.__tablename__, application.id, Stage.PLANNING, "eng_plan_reply",
          ctx.at, plan_reply_days(application), True, "Marketing")
    tell("Marketing", application, _l("draft the supply plan"))


def guard_plan_sent(ctx):
    plan = ctx.record.plan
    if plan is None or plan.status != PlanStatus.SENT:
        return _l("The supply-plan reply has not been sent yet.")
    return None


def _reroute_review_deadline(application, route):
    """ENG-05/17: an open review deadline follows the review to its new unit."""
    from ..models.deadlines import Deadline, DeadlineStatus

    for deadline in db.session.query(Deadline).filter_by(
            record_table=PowerApplication.__tablename__, record_id=application.id,
            kind="eng_design_review", status=DeadlineStatus.OPEN):
        deadline.assignee_role = ReviewRoute.ROLES[route]


def effect_plan_answered(ctx):
    """ENG-05: the design review opens, routed by size, with its time limit."""
    application = ctx.record
    application.stage = Stage.DESIGN
    if application.review is None:
        db.session.add(DesignReview(application=application, route=review_route(application),
                                    status=ReviewStatus.SUBMITTED))
        db.session.flush()
    refresh(application)
    _open(PowerApplication.__tablename__, application.id, Stage.DESIGN, "eng_design_review",
          ctx.at, get_setting("ENG_DESIGN_REVIEW_DAYS"), True,
          ReviewRoute.ROLES[application.review.route])
    tell(ReviewRoute.ROLES[application.review.route], application, _l("review the design"))


def guard_review_passed(ctx):
    review = ctx.record.review
    if review is None or review.status != ReviewStatus.PASSED:
        return _l("The design review has not passed yet.")
    return None


def effect_design_passed(ctx):
    application = ctx.record
    application.stage = Stage.CONSTRUCTION
    if application.construction is None:
        db.session.add(ConstructionRecord(application=application))
        db.session.flush()
    refresh(application)


def construction_problems(application):
    """What still stands between construction and the completion report (ENG-07 to ENG-12)."""
    problems = []
    record = application.construction
    if record is None or not record.customer_chose_firms:
        problems.append(_("The record that the customer chose designer, builder and supplier "
                          "is missing (ENG-07)."))
    if record is None or record.start_reported_at is None:
        problems.append(_("No start report has been filed (ENG-10)."))
    pending_changes = db.session.query(ConstructionChange).filter(
        ConstructionChange.application_id == application.id,
        ConstructionChange.status.in_((ChangeStatus.REQUESTED, ChangeStatus.APPROVED))).count()
    if pending_changes:
        problems.append(_("%(count)s construction change(s) are not yet decided or carried out "
                          "(ENG-11).", count=pending_changes))
    open_orders = db.session.query(EquipmentOrder).filter(
        EquipmentOrder.application_id == application.id,
        EquipmentOrder.status.in_((OrderStatus.REQUESTED, OrderStatus.APPROVED,
                                   OrderStatus.ORDERED))).count()
    if open_orders:
        problems.append(_("%(count)s equipment order(s) have no delivery reported (ENG-09).",
                          count=open_orders))
    inspections = db.session.query(MidInspection).filter_by(application_id=application.id).all()
    if any(item.status == InspectionStatus.REQUESTED for item in inspections):
        problems.append(_("A mid-construction inspection is still open (ENG-12)."))
    if application.is_high_voltage and not any(
            item.status == InspectionStatus.PASSED for item in inspections):
        problems.append(_("A high-voltage project needs a passed mid-construction inspection "
                          "(ENG-12)."))
    return problems


def guard_construction_complete(ctx):
    problems = construction_problems(ctx.record)
    return " ".join(problems) if problems else None


def effect_request_acceptance(ctx):
    """ENG-13: completion report filed; acceptance due."""
    application = ctx.record
    application.completion_reported_at = ctx.at
    application.stage = Stage.ACCEPTANCE
    refresh(application)
    _open(PowerApplication.__tablename__, application.id, Stage.ACCEPTANCE, "eng_acceptance",
          ctx.at, get_setting("ENG_ACCEPTANCE_DAYS"), True, "Inspector")
    tell("Inspector", application, _l("accept the works"))


def effect_accept(ctx):
    """ENG-14/15: power-on (and for residential lighting the meter notice) becomes due."""
    application = ctx.record
    application.accepted_at = ctx.at
    application.stage = Stage.ACCEPTED
    refresh(application)
    table = PowerApplication.__tablename__
    if application.residential_lighting:
        _open(table, application.id, METER_NOTICE_STATE, "eng_meter_notice", ctx.at,
              get_setting("ENG_METER_NOTICE_DAYS"), False, "Marketing")
        _open(table, application.id, Stage.ACCEPTED, "eng_power_on", ctx.at,
              get_setting("ENG_RESIDENTIAL_POWER_DAYS"), False, "Marketing")
    elif application.is_high_voltage:
        _open(table, application.id, Stage.ACCEPTED, "eng_power_on", ctx.at,
              get_setting("ENG_POWER_ON_DAYS_HV"), True, "Marketing")
    tell("Marketing", application, _l("sign the supply contract and switch on"))


def power_on_problems(application):
    problems = []
    # ENG-14: the supply contract (供用电合同) comes before metering and power-on.
    if not application.contract_signed_on or not application.contract_no:
        problems.append(_("The supply contract has not been signed: no metering or power-on "
                          "before it (ENG-14)."))
    # ENG-15: residential lighting gets its meter-install notice first.
    if application.residential_lighting and application.meter_notice_at is None:
        problems.append(_("The meter-install notice has not been issued (ENG-15)."))
    return problems


def guard_power_on(ctx):
    problems = power_on_problems(ctx.record)
    return " ".join(problems) if problems else None


def effect_power_on(ctx):
    """ENG-16: the on-site check falls due within a month."""
    application = ctx.record
    application.power_on_at = ctx.at
    application.stage = Stage.POWERED
    refresh(application)
    _open(PowerApplication.__tablename__, application.id, Stage.POWERED, "eng_site_check",
          ctx.at, get_setting("ENG_SITE_CHECK_DAYS"), False, "Inspector")
    tell("Inspector", application, _l("check the meter and the use on site"))


def effect_site_check(ctx):
    application = ctx.record
    application.checked_at = ctx.at
    application.check_findings = ctx.comment
    application.stage = Stage.COMPLETED
    refresh(application)


def effect_withdraw(ctx):
    from ..deadlines import cancel_deadlines

    application = ctx.record
    cancel_deadlines(PowerApplication.__tablename__, application.id, at=ctx.at)
    application.stage = Stage.WITHDRAWN
    refresh(application)


# ---------------------------------------------------------------------------
# ENG-02 / ENG-03: the supply plan and its reply
# ---------------------------------------------------------------------------

def validate_plan(plan, application=None):
    """ENG-02: refuse a plan the regulations do not allow; raises InvalidInput."""
    application = application or plan.application
    errors = {}
    kva = float(plan.approved_capacity_kva or 0)
    if kva <= 0:
        errors["approved_capacity_kva"] = _("The approved capacity must be more than zero.")
    if not plan.supply_voltage:
        errors["supply_voltage"] = _("Required.")
    if kva >= DEDICATED_LINE_KVA and plan.supply_mode != SupplyMode.DEDICATED_LINE:
        errors["supply_mode"] = _(
            "A capacity of %(limit)s kVA or more must be supplied by a dedicated line (专线供电); "
            "this plan says %(kva)s kVA by another mode.", limit=DEDICATED_LINE_KVA, kva=f"{kva:g}")
    # Backup or security power by load class (按负荷性质确定).
    if application is not None and application.backup_power:
        if application.load_class == LoadClass.FIRST and plan.backup_scheme != BackupScheme.DUAL_SOURCE:
            errors["backup_scheme"] = _("A class 1 load asking for backup power gets two "
                                        "independent sources (双电源).")
        elif application.load_class == LoadClass.SECOND and plan.backup_scheme not in (
                BackupScheme.DUAL_SOURCE, BackupScheme.DUAL_CIRCUIT):
            errors["backup_scheme"] = _("A class 2 load asking for backup power gets two "
                                        "sources or two circuits (双回路).")
        elif plan.backup_scheme == BackupScheme.NONE:
            errors["backup_scheme"] = _("The customer asked for backup or security power: "
                                        "the plan must say how it is provided.")
    if plan.backup_scheme in (BackupScheme.DUAL_SOURCE, BackupScheme.DUAL_CIRCUIT) \
            and not plan.dual_supply:
        errors["dual_supply"] = _("Two sources or two circuits is a dual supply.")
    if errors:
        raise InvalidInput(_("The supply plan breaks the supply rules (ENG-02)."), errors)


def check_plan_edit(plan, actor):
    """A plan is edited only as a draft; an agreed plan changes by a change request (ENG-04)."""
    ensure_visible(actor, plan)
    if plan.status != PlanStatus.DRAFT:
        raise PermissionRefused(_("Only a draft plan can be edited; an agreed plan changes "
                                  "through a change request approved by the approving "
                                  "department (ENG-04)."))
    validate_plan(plan)
    plan.reply_unit = reply_unit(plan)
    refresh(plan.application)


@transactional
def update_plan(plan_id, actor, version, **fields):
    """Edit a draft plan (ENG-02 checked)."""
    from .versions import ensure_current_version

    plan = _get(SupplyPlan, plan_id, actor)
    ensure_current_version(plan, version)
    if "Marketing" not in _role_names(actor):
        raise PermissionRefused(_("Only the marketing department drafts supply plans."))
    for key, value in fields.items():
        setattr(plan, key, value)
    check_plan_edit(plan, actor)
    return plan


def guard_plan_valid(ctx):
    try:
        validate_plan(ctx.record)
    except InvalidInput as error:
        return str(error)
    return None


def effect_plan_submit(ctx):
    ctx.record.reply_unit = reply_unit(ctx.record)
    refresh(ctx.record.application)
    tell("DepartmentSupervisor", ctx.record.application, _l("review the supply-plan reply"))


def effect_plan_reviewed(ctx):
    tell("GeneralManager", ctx.record.application, _l("sign the supply-plan reply"))


def effect_plan_signed(ctx):
    ctx.record.status = PlanStatus.SIGNED
    refresh(ctx.record.application)
    unit = ctx.record.reply_unit or reply_unit(ctx.record)
    tell(ReplyUnit.ROLES[unit], ctx.record.application, _l("send the supply-plan reply"))


def guard_reply_unit(ctx):
    """ENG-03: the reply is sent by the unit that answers this plan."""
    unit = ctx.record.reply_unit or reply_unit(ctx.record)
    if ReplyUnit.ROLES[unit] not in _role_names(ctx.actor):
        return _l("This plan is answered by the %(unit)s.", unit=ReplyUnit.label(unit))
    return None


def effect_plan_send(ctx):
    """The reply is sent; the project moves on to the design review."""
    from ..workflows.projects import PROJECT_WORKFLOW

    plan = ctx.record
    plan.status = PlanStatus.SENT
    plan.sent_at = ctx.at
    plan.reply_no = plan.reply_no or f"FA-{plan.application.number[3:]}"
    db.session.flush()
    application = plan.application
    PROJECT_WORKFLOW.perform(application, "plan_answered", ctx.actor, application.version,
                             comment=_("Reply %(number)s sent.", number=plan.reply_no))


# ---------------------------------------------------------------------------
# ENG-04: changing an agreed plan
# ---------------------------------------------------------------------------

@transactional
def request_plan_change(application_id, actor, reason, new_capacity_kva=None,
                        new_supply_mode=None, new_dual_supply=None, new_metering_method=None):
    application = _get(PowerApplication, application_id, actor)
    change = PlanChange(application=application, reason=(reason or "").strip(),
                        new_capacity_kva=new_capacity_kva, new_supply_mode=new_supply_mode,
                        new_dual_supply=new_dual_supply, new_metering_method=new_metering_method)
    prepare_plan_change(change, actor)
    db.session.add(change)
    db.session.flush()
    return change


def prepare_plan_change(change, actor):
    application = change.application
    ensure_visible(actor, application)
    plan = application.plan
    if plan is None or plan.status != PlanStatus.SENT:
        raise PermissionRefused(_("Only an agreed (sent) supply plan is changed by request; "
                                  "a draft is simply edited."))
    if application.stage in (Stage.COMPLETED, Stage.WITHDRAWN, Stage.POWERED):
        raise PermissionRefused(_("The project is closed."))
    if not (change.reason or "").strip():
        raise InvalidInput(errors={"reason": _("Required.")})
    if change.new_capacity_kva is None and not change.new_supply_mode and \
            change.new_dual_supply is None and not change.new_metering_method:
        raise InvalidInput(_("Say what changes."), {"new_capacity_kva": _("Nothing to change.")})
    change.approving_unit = plan.reply_unit or reply_unit(plan)
    change.status = ChangeStatus.REQUESTED
    # The changed plan must still obey ENG-02.
    validate_plan(_changed_copy(plan, change), application)


def _changed_copy(plan, change):
    copy = SupplyPlan(
        approved_capacity_kva=change.new_capacity_kva if change.new_capacity_kva is not None
        else plan.approved_capacity_kva,
        supply_voltage=plan.supply_voltage,
        supply_mode=change.new_supply_mode or plan.supply_mode,
        dual_supply=plan.dual_supply if change.new_dual_supply is None else change.new_dual_supply,
        backup_scheme=plan.backup_scheme,
        metering_method=change.new_metering_method or plan.metering_method,
    )
    return copy


def guard_change_approving_unit(ctx):
    """ENG-04: only the department that approved the plan consents to its change."""
    unit = ctx.record.approving_unit
    if ReplyUnit.ROLES[unit] not in _role_names(ctx.actor):
        return _l("Only the %(unit)s, which approved the plan, may decide on its change.",
                  unit=ReplyUnit.label(unit))
    return None


def effect_plan_change_consent(ctx):
    change = ctx.record
    application = change.application
    plan = application.plan
    changed = _changed_copy(plan, change)
    validate_plan(changed, application)
    plan.approved_capacity_kva = changed.approved_capacity_kva
    plan.supply_mode = changed.supply_mode
    plan.dual_supply = changed.dual_supply
    plan.metering_method = changed.metering_method
    refresh(application)


# ---------------------------------------------------------------------------
# ENG-05 / ENG-06: design review
# ---------------------------------------------------------------------------

def guard_routed_unit(ctx):
    """ENG-05: only the unit the review is routed to decides on it."""
    route = ctx.record.route
    if ReviewRoute.ROLES[route] not in _role_names(ctx.actor):
        return _l("This design review is routed to the %(unit)s; only that unit may decide.",
                  unit=ReviewRoute.label(route))
    return None


def guard_documents_complete(ctx):
    """ENG-06: a high-voltage review cannot pass while a listed document is missing."""
    if not ctx.record.application.is_high_voltage:
        return None
    missing = missing_documents(ctx.record)
    if missing:
        return _l("%(count)s design document(s) missing: %(names)s", count=len(missing),
                  names="; ".join(str(label) for _kind, label in missing))
    return None


def effect_review_pass(ctx):
    from ..workflows.projects import PROJECT_WORKFLOW

    review = ctx.record
    review.opinion = ctx.comment
    review.reviewed_by_id = ctx.actor.id
    review.reviewed_at = ctx.at
    review.opinion_no = review.opinion_no or f"SC-{review.application.number[3:]}"
    review.status = ReviewStatus.PASSED
    db.session.flush()
    application = review.application
    PROJECT_WORKFLOW.perform(application, "design_passed", ctx.actor, application.version,
                             comment=_("Design review opinion %(number)s.",
                                       number=review.opinion_no))


def effect_review_return(ctx):
    review = ctx.record
    review.opinion = ctx.comment
    review.reviewed_by_id = ctx.actor.id
    review.reviewed_at = ctx.at


# ---------------------------------------------------------------------------
# ENG-07 / ENG-08 / ENG-10: the construction record and start report
# ---------------------------------------------------------------------------

def check_construction(record, actor, at=None):
    """Validate an edit of the construction record; stamp the start report when first complete."""
    ensure_visible(actor, record)
    if record.application.stage != Stage.CONSTRUCTION:
        raise PermissionRefused(_("The construction record is edited during construction only."))
    errors = {}
    firms_named = any((record.designer, record.builder, record.supplier))
    # ENG-07: no three designations: the record says the customer chose.
    if firms_named and not record.customer_chose_firms:
        errors["customer_chose_firms"] = _(
            "Staff may only show the list of qualified firms; confirm that the customer chose "
            "the designer, builder and supplier (no 三指定).")
    if record.start_date is not None:
        # ENG-10: the start report gives the dates and a schedule.
        if record.expected_completion is None:
            errors["expected_completion"] = _("The start report gives the expected completion date.")
        elif record.expected_completion < record.start_date:
            errors["expected_completion"] = _("The expected completion is before the start.")
        if not (record.schedule or "").strip():
            errors["schedule"] = _("The start report comes with a schedule (进度表).")
        if not record.builder:
            errors["builder"] = _("Name the contractor (builder).")
        if not record.customer_chose_firms:
            errors.setdefault("customer_chose_firms", _("Required before work starts (ENG-07)."))
        # ENG-08: qualification certificate and business licence valid on the start date.
        if not record.qualification_cert_no or record.qualification_valid_until is None:
            errors["qualification_cert_no"] = _("The contractor's qualification certificate is "
                                                "checked before work starts.")
        elif record.qualification_valid_until < record.start_date:
            errors["qualification_valid_until"] = _(
                "The qualification certificate expired on %(day)s, before the start date.",
                day=record.qualification_valid_until.isoformat())
        if not record.business_licence_no or record.licence_valid_until is None:
            errors["business_licence_no"] = _("The contractor's business licence is checked "
                                              "before work starts.")
        elif record.licence_valid_until < record.start_date:
            errors["licence_valid_until"] = _(
                "The business licence expired on %(day)s, before the start date.",
                day=record.licence_valid_until.isoformat())
    if errors:
        raise InvalidInput(_("The construction record cannot be saved."), errors)
    if record.start_date is not None and record.start_reported_at is None:
        record.start_reported_at = at or utcnow()


CONSTRUCTION_FIELDS = ("designer", "builder", "supplier", "customer_chose_firms",
                       "qualified_list_shown", "qualification_cert_no",
                       "qualification_valid_until", "business_licence_no", "licence_valid_until",
                       "start_date", "expected_completion", "schedule")


@transactional
def update_construction(record_id, actor, version, **fields):
    from .versions import ensure_current_version

    record = _get(ConstructionRecord, record_id, actor)
    ensure_current_version(record, version)
    if not _role_names(actor) & {"ServiceWindow", "Marketing"}:
        raise PermissionRefused()
    for key, value in fields.items():
        if key not in CONSTRUCTION_FIELDS:
            raise InvalidInput(errors={key: _("Unknown field.")})
        setattr(record, key, value)
    check_construction(record, actor)
    return record


@transactional
def record_works_completed(application_id, actor, version, completed_on):
    """The works are finished; for company-built projects the contractor's report is due (ENG-13)."""
    from .versions import ensure_current_version

    application = _get(PowerApplication, application_id, actor)
    ensure_current_version(application, version)
    if application.stage != Stage.CONSTRUCTION:
        raise PermissionRefused(_("Only a project under construction can be reported finished."))
    if completed_on is None:
        raise InvalidInput(errors={"completed_on": _("Required.")})
    if completed_on > local_today():
        raise InvalidInput(errors={"completed_on": _("The date cannot be in the future.")})
    application.works_completed_on = completed_on
    if application.built_by_company:
        _open(PowerApplication.__tablename__, application.id, Stage.CONSTRUCTION,
              "eng_completion_report", completed_on, get_setting("ENG_COMPLETION_REPORT_DAYS"),
              False, "Marketing")
    return application


# ---------------------------------------------------------------------------
# ENG-09: equipment from the catalogue, approved before ordering
# ---------------------------------------------------------------------------

def catalogue_problem(order, today=None):
    manufacturer = order.manufacturer or (
        db.session.get(Manufacturer, order.manufacturer_id) if order.manufacturer_id else None)
    today = today or local_today()
    if manufacturer is None:
        return _("Choose a manufacturer from the approved catalogue.")
    if not manufacturer.active or (manufacturer.approved_until is not None
                                   and manufacturer.approved_until < today):
        return _("%(name)s is not (or no longer) in the approved catalogue of qualified "
                 "manufacturers.", name=manufacturer.name)
    if order.category not in manufacturer.product_list():
        return _("%(name)s is not approved for “%(category)s”; approved: %(products)s.",
                 name=manufacturer.name, category=order.category,
                 products="、".join(manufacturer.product_list()))
    return None


def prepare_order(order, actor):
    application = order.application or db.session.get(PowerApplication, order.application_id)
    ensure_visible(actor, application)
    if application.stage != Stage.CONSTRUCTION:
        raise PermissionRefused(_("Equipment is ordered during construction."))
    errors = {}
    if not (order.category or "").strip():
        errors["category"] = _("Required.")
    if not (order.model_spec or "").strip():
        errors["model_spec"] = _("Required.")
    if not order.quantity or order.quantity < 1:
        errors["quantity"] = _("At least one.")
    if errors:
        raise InvalidInput(errors=errors)
    problem = catalogue_problem(order)
    if problem:
        raise InvalidInput(problem, {"manufacturer": problem})
    order.status = OrderStatus.REQUESTED


@transactional
def request_equipment_order(application_id, actor, manufacturer_id, category, model_spec,
                            quantity=1):
    application = _get(PowerApplication, application_id, actor)
    order = EquipmentOrder(application=application, manufacturer_id=manufacturer_id,
                           manufacturer=db.session.get(Manufacturer, manufacturer_id)
                           if manufacturer_id else None,
                           category=(category or "").strip(), model_spec=model_spec,
                           quantity=quantity)
    prepare_order(order, actor)
    db.session.add(order)
    db.session.flush()
    return order


def guard_order_in_catalogue(ctx):
    return catalogue_problem(ctx.record)


def effect_order_placed(ctx):
    ctx.record.ordered_on = local_date(ctx.at)


def effect_order_delivered(ctx):
    ctx.record.delivered_on = local_date(ctx.at)
    ctx.record.delivery_details = ctx.comment


# ---------------------------------------------------------------------------
# ENG-11: construction changes need written approval first
# ---------------------------------------------------------------------------

def prepare_construction_change(change, actor):
    application = change.application or db.session.get(PowerApplication, change.application_id)
    ensure_visible(actor, application)
    if application.stage != Stage.CONSTRUCTION:
        raise PermissionRefused(_("Construction changes are requested during construction."))
    if not (change.description or "").strip():
        raise InvalidInput(errors={"description": _("Required.")})
    change.status = ChangeStatus.REQUESTED


@transactional
def request_construction_change(application_id, actor, subject, description):
    application = _get(PowerApplication, application_id, actor)
    change = ConstructionChange(application=application, subject=subject, description=description)
    prepare_construction_change(change, actor)
    db.session.add(change)
    db.session.flush()
    return change


def effect_change_approved(ctx):
    ctx.record.approval_no = ctx.record.approval_no or f"BG-{ctx.record.application.number[3:]}-{ctx.record.id}"


def effect_change_done(ctx):
    ctx.record.carried_out_on = local_date(ctx.at)


# ---------------------------------------------------------------------------
# ENG-12: mid-construction inspections
# ---------------------------------------------------------------------------

def prepare_inspection(inspection, actor, at=None):
    application = inspection.application or db.session.get(PowerApplication,
                                                             inspection.application_id)
    ensure_visible(actor, application)
    if application.stage != Stage.CONSTRUCTION:
        raise PermissionRefused(_("Mid-construction inspections happen during construction."))
    record = application.construction
    if record is None or record.start_reported_at is None:
        raise PermissionRefused(_("No start report yet: the works have not started (ENG-10)."))
    minimum = get_setting("ENG_MID_INSPECTION_MIN_PERCENT")
    if inspection.installed_percent is None or not 0 <= inspection.installed_percent <= 100:
        raise InvalidInput(errors={"installed_percent": _("A percentage from 0 to 100.")})
    if inspection.installed_percent < minimum:
        raise InvalidInput(_("Mid-construction inspections start when about two thirds of the "
                             "equipment is installed (at least %(minimum)s%%).", minimum=minimum),
                           {"installed_percent": _("Too early.")})
    rounds = db.session.query(MidInspection).filter_by(application_id=application.id).all()
    if any(item.status == InspectionStatus.REQUESTED for item in rounds):
        raise PermissionRefused(_("The previous inspection round is still open."))
    if any(item.status == InspectionStatus.PASSED for item in rounds):
        raise PermissionRefused(_("The mid-construction inspection has already passed."))
    maximum = get_setting("ENG_MID_INSPECTION_MAX_ROUNDS")
    if len(rounds) >= maximum:
        raise PermissionRefused(_("%(maximum)s inspection rounds have been held; the limit is "
                                  "reached.", maximum=maximum))
    inspection.round_no = len(rounds) + 1
    inspection.status = InspectionStatus.REQUESTED


def start_inspection_deadline(inspection, at=None):
    _open(MidInspection.__tablename__, inspection.id, InspectionStatus.REQUESTED,
          "eng_mid_inspection", at or utcnow(), get_setting("ENG_MID_INSPECTION_DAYS"), True,
          "Inspector")
    tell("Inspector", inspection.application,
         _l("mid-construction inspection, round %(round)s", round=inspection.round_no))


@transactional
def request_inspection(application_id, actor, installed_percent, planned_on=None, at=None):
    application = _get(PowerApplication, application_id, actor)
    inspection = MidInspection(application=application, installed_percent=installed_percent,
                               planned_on=planned_on)
    prepare_inspection(inspection, actor)
    db.session.add(inspection)
    db.session.flush()
    start_inspection_deadline(inspection, at)
    return inspection


def check_inspection_edit(inspection, actor):
    ensure_visible(actor, inspection)
    if inspection.status != InspectionStatus.REQUESTED:
        raise PermissionRefused(_("A decided inspection round is not changed; request a new round."))
    for field, _label in CHECK_AREAS:
        value = getattr(inspection, field)
        if value not in (None, "") and value not in CheckResult.values():
            raise InvalidInput(errors={field: _("Unknown result.")})


INSPECTION_FIELDS = tuple(field for field, _label in CHECK_AREAS) + (
    "findings", "rectification_items", "planned_on")


@transactional
def record_inspection_results(inspection_id, actor, version, **fields):
    from .versions import ensure_current_version

    inspection = _get(MidInspection, inspection_id, actor)
    ensure_current_version(inspection, version)
    if "Inspector" not in _role_names(actor):
        raise PermissionRefused(_("Inspection results are recorded by an inspector."))
    for key, value in fields.items():
        if key not in INSPECTION_FIELDS:
            raise InvalidInput(errors={key: _("Unknown field.")})
        setattr(inspection, key, value)
    check_inspection_edit(inspection, actor)
    return inspection


def guard_inspection_pass(ctx):
    inspection = ctx.record
    unchecked = [str(label) for field, label in CHECK_AREAS if not getattr(inspection, field)]
    if unchecked:
        return _l("Record every check area first: %(areas)s.", areas="、".join(unchecked))
    defects = [str(label) for field, label in CHECK_AREAS
               if getattr(inspection, field) == CheckResult.DEFECT]
    if defects:
        return _l("Defects found (%(areas)s): the round ends with rectification items.",
                  areas="、".join(defects))
    if (inspection.rectification_items or "").strip():
        return _l("Rectification items are listed: the round cannot pass.")
    return None


def guard_inspection_rectify(ctx):
    inspection = ctx.record
    if not any(getattr(inspection, field) for field, _label in CHECK_AREAS):
        return _l("Record the check areas first.")
    if not (inspection.rectification_items or "").strip() and not (ctx.comment or "").strip():
        return _l("List the rectification items.")
    return None


def effect_inspection_done(ctx):
    inspection = ctx.record
    inspection.inspected_at = ctx.at
    inspection.inspector_id = ctx.actor.id
    if not (inspection.rectification_items or "").strip() and ctx.comment and \
            ctx.transition.name == "require_rectification":
        inspection.rectification_items = ctx.comment


# ---------------------------------------------------------------------------
# ENG-14 / ENG-15: contract and meter notice
# ---------------------------------------------------------------------------

@transactional
def sign_contract(application_id, actor, version, contract_no, signed_on):
    """ENG-14: record the signed supply contract (供用电合同)."""
    from .versions import ensure_current_version

    application = _get(PowerApplication, application_id, actor)
    ensure_current_version(application, version)
    if "Marketing" not in _role_names(actor):
        raise PermissionRefused(_("The marketing department signs the supply contract."))
    # 工程验收合格后，与客户签订《供用电合同》: after acceptance, before metering and power-on.
    if application.stage != Stage.ACCEPTED:
        raise PermissionRefused(_("The supply contract is signed after the works are accepted "
                                  "and before power-on."))
    errors = {}
    if not (contract_no or "").strip():
        errors["contract_no"] = _("Required.")
    if signed_on is None:
        errors["signed_on"] = _("Required.")
    elif signed_on > local_today():
        errors["signed_on"] = _("The date cannot be in the future.")
    if errors:
        raise InvalidInput(_("The contract is incomplete."), errors)
    application.contract_no = contract_no.strip()
    application.contract_signed_on = signed_on
    return application


@transactional
def issue_meter_notice(application_id, actor, version, at=None):
    """ENG-15: the meter-install notice (装表通知单) of a residential lighting customer."""
    from .versions import ensure_current_version

    application = _get(PowerApplication, application_id, actor)
    ensure_current_version(application, version)
    if not _role_names(actor) & {"Marketing", "ServiceWindow"}:
        raise PermissionRefused()
    if application.stage != Stage.ACCEPTED:
        raise PermissionRefused(_("The meter-install notice follows acceptance."))
    if application.meter_notice_at is not None:
        raise PermissionRefused(_("The meter-install notice has already been issued."))
    at = at or utcnow()
    application.meter_notice_at = at
    _close_kind(PowerApplication.__tablename__, application.id, "eng_meter_notice", at)
    return application


# ---------------------------------------------------------------------------
# Dashboard figures (managers, ENG-17)
# ---------------------------------------------------------------------------

def _visible_ids(user):
    from ..security.visibility import visible_query

    return visible_query(db.session.query(PowerApplication.id), PowerApplication, user).subquery()


def stage_counts(user):
    """Projects per stage, of those ``user`` may see."""
    from ..security.visibility import visible_query

    query = visible_query(db.session.query(PowerApplication.stage, func.count(PowerApplication.id)),
                          PowerApplication, user).group_by(PowerApplication.stage)
    rows = dict(query.all())
    return [(stage, label, rows.get(stage, 0)) for stage, label, _colour in Stage.CHOICES]


def deadline_figures(user, now=None):
    """Per time limit: met, late, open, overdue now, over the projects ``user`` may see (ENG-17)."""
    now = now or utcnow()
    ids = select(_visible_ids(user).c.id)
    inspections = select(MidInspection.id).where(MidInspection.application_id.in_(ids))
    rows = db.session.query(Deadline).filter(
        Deadline.kind.in_(list(DEADLINE_KINDS)),
        or_((Deadline.record_table == PowerApplication.__tablename__) & Deadline.record_id.in_(ids),
            (Deadline.record_table == MidInspection.__tablename__)
            & Deadline.record_id.in_(inspections))).all()
    figures = {kind: {"label": label, "met": 0, "late": 0, "open": 0, "overdue": 0}
               for kind, label in DEADLINE_KINDS.items()}
    for deadline in rows:
        entry = figures[deadline.kind]
        if deadline.status == DeadlineStatus.MET:
            entry["met"] += 1
        elif deadline.status == DeadlineStatus.LATE:
            entry["late"] += 1
        elif deadline.status == DeadlineStatus.OPEN:
            entry["open"] += 1
            if deadline.due_at < now:
                entry["overdue"] += 1
    return figures
