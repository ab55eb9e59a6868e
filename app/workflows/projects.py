"""Customer electrical projects (客户工程/业扩报装, ENG-01 to ENG-17): approval chains.

The project (``power_application``) moves through its stages; the children
have chains of their own. Two project steps are taken by the engine itself
inside a child's step: ``plan_answered`` when the plan's reply is sent,
``design_passed`` when the design review passes; no button offers them
earlier because their guards need the child's step.

Deadlines: the time limits are configurable figures (settings), so they are
opened by the effects (see ``services/projects.py``) rather than by fixed
``DeadlineRule`` days; a project deadline opened with the stage's key is
closed by the engine when the project leaves that stage.
"""
from flask_babel import lazy_gettext as _l

from ..models.projects import (
    ChangeStatus, ConstructionChange, DesignReview, EquipmentOrder, InspectionStatus,
    MidInspection, OrderStatus, PlanChange, PlanStatus, PowerApplication, ReviewStatus, Stage,
    SupplyPlan,
)
from .engine import Guard, State, Transition, Workflow, not_actor_of, not_self


def _svc():
    from ..services import projects

    return projects


def _guard(name, message_function):
    """A guard whose check lives in the service module (``svc.<message_function>(ctx)``)."""
    return Guard(name, lambda ctx: getattr(_svc(), message_function)(ctx))


def _effect(name):
    return lambda ctx: getattr(_svc(), name)(ctx)


S = Stage
REVIEWERS = ("SupplyStation", "Marketing", "CityCompany")

# ---------------------------------------------------------------------------
# The project (ENG-01, ENG-13 to ENG-17)
# ---------------------------------------------------------------------------

PROJECT_WORKFLOW = Workflow(
    name="power_application",
    model=PowerApplication,
    label=_l("Customer electrical project"),
    state_field="stage",
    states=[
        State(S.RECEIVED, _l("Application received"), "default"),
        State(S.PLANNING, _l("Supply plan"), "info"),
        State(S.DESIGN, _l("Design review"), "info"),
        State(S.CONSTRUCTION, _l("Construction"), "primary"),
        State(S.ACCEPTANCE, _l("Acceptance requested"), "warning"),
        State(S.ACCEPTED, _l("Accepted, awaiting power-on"), "warning"),
        State(S.POWERED, _l("Powered on, check due"), "success"),
        State(S.COMPLETED, _l("Completed"), "success", final=True),
        State(S.WITHDRAWN, _l("Withdrawn"), "default", final=True),
    ],
    transitions=[
        # ENG-01: the service window passes the application to the responsible department.
        Transition("forward", _l("Pass to the marketing department"), (S.RECEIVED,), S.PLANNING,
                   ("ServiceWindow",), effect=_effect("effect_forward")),
        Transition("plan_answered", _l("Supply plan answered"), (S.PLANNING,), S.DESIGN,
                   ("Marketing", "CityCompany"),
                   guards=(_guard("plan_sent", "guard_plan_sent"),),
                   effect=_effect("effect_plan_answered")),
        Transition("design_passed", _l("Design review passed"), (S.DESIGN,), S.CONSTRUCTION,
                   REVIEWERS, guards=(_guard("review_passed", "guard_review_passed"),),
                   effect=_effect("effect_design_passed")),
        # ENG-13: completion report and acceptance request.
        Transition("request_acceptance", _l("File the completion report and request acceptance"),
                   (S.CONSTRUCTION,), S.ACCEPTANCE, ("ServiceWindow", "Marketing"),
                   guards=(_guard("construction_complete", "guard_construction_complete"),),
                   effect=_effect("effect_request_acceptance")),
        Transition("accept", _l("Accept the works"), (S.ACCEPTANCE,), S.ACCEPTED,
                   ("Inspector", "Marketing"),
                   guards=(not_actor_of("request_acceptance"),),
                   effect=_effect("effect_accept"), style="success"),
        Transition("fail_acceptance", _l("Acceptance failed: back to construction"),
                   (S.ACCEPTANCE,), S.CONSTRUCTION, ("Inspector", "Marketing"),
                   guards=(not_actor_of("request_acceptance"),),
                   comment_required=True, style="danger"),
        # ENG-14 / ENG-15: contract signed (and meter notice for residential) before power-on.
        Transition("power_on", _l("Install the meter and switch on"), (S.ACCEPTED,), S.POWERED,
                   ("Marketing",), guards=(_guard("contract_signed", "guard_power_on"),),
                   effect=_effect("effect_power_on"), style="success"),
        # ENG-16: the on-site check within a month of power-on.
        Transition("site_check", _l("Record the on-site check"), (S.POWERED,), S.COMPLETED,
                   ("Inspector",), comment_required=True, effect=_effect("effect_site_check"),
                   style="success"),
        Transition("withdraw", _l("Withdraw the application"),
                   (S.RECEIVED, S.PLANNING, S.DESIGN, S.CONSTRUCTION), S.WITHDRAWN,
                   ("ServiceWindow", "Marketing"), comment_required=True,
                   effect=_effect("effect_withdraw"), style="default"),
    ],
)

# ---------------------------------------------------------------------------
# Supply plan reply (ENG-02, ENG-03)
# ---------------------------------------------------------------------------

P = PlanStatus

PLAN_WORKFLOW = Workflow(
    name="supply_plan",
    model=SupplyPlan,
    label=_l("Supply plan reply"),
    states=[
        State(P.DRAFT, _l("Draft"), "default"),
        State(P.SUBMITTED, _l("Awaiting department-head review"), "warning"),
        State(P.REVIEWED, _l("Awaiting general-manager sign-off"), "warning"),
        State(P.SIGNED, _l("Signed, ready to send"), "info"),
        State(P.SENT, _l("Reply sent"), "success", final=True),
    ],
    transitions=[
        Transition("submit", _l("Submit for review"), (P.DRAFT,), P.SUBMITTED, ("Marketing",),
                   guards=(_guard("plan_valid", "guard_plan_valid"),),
                   effect=_effect("effect_plan_submit")),
        Transition("head_review", _l("Department head: reviewed"), (P.SUBMITTED,), P.REVIEWED,
                   ("DepartmentSupervisor",),
                   guards=(not_self("created_by_id"), not_actor_of("submit")),
                   effect=_effect("effect_plan_reviewed"), style="success"),
        Transition("sign", _l("General manager: sign"), (P.REVIEWED,), P.SIGNED,
                   ("GeneralManager",),
                   guards=(not_self("created_by_id"), not_actor_of("submit", "head_review")),
                   effect=_effect("effect_plan_signed"), style="success"),
        Transition("return_plan", _l("Return for rework"), (P.SUBMITTED, P.REVIEWED), P.DRAFT,
                   ("DepartmentSupervisor", "GeneralManager"),
                   guards=(not_actor_of("submit"),), comment_required=True, style="danger"),
        Transition("send", _l("Send the reply to the customer"), (P.SIGNED,), P.SENT,
                   ("Marketing", "CityCompany"),
                   guards=(_guard("reply_unit", "guard_reply_unit"),),
                   effect=_effect("effect_plan_send"), style="success"),
    ],
)

# ---------------------------------------------------------------------------
# Change to an agreed plan (ENG-04)
# ---------------------------------------------------------------------------

C = ChangeStatus

PLAN_CHANGE_WORKFLOW = Workflow(
    name="supply_plan_change",
    model=PlanChange,
    label=_l("Supply plan change"),
    states=[
        State(C.REQUESTED, _l("Awaiting approval"), "warning"),
        State(C.APPROVED, _l("Approved and applied"), "success", final=True),
        State(C.REFUSED, _l("Refused"), "danger", final=True),
    ],
    transitions=[
        Transition("consent", _l("Consent and apply"), (C.REQUESTED,), C.APPROVED,
                   ("Marketing", "CityCompany"),
                   guards=(not_self("created_by_id"),
                           _guard("approving_unit", "guard_change_approving_unit")),
                   effect=_effect("effect_plan_change_consent"), style="success"),
        Transition("refuse", _l("Refuse"), (C.REQUESTED,), C.REFUSED,
                   ("Marketing", "CityCompany"),
                   guards=(not_self("created_by_id"),
                           _guard("approving_unit", "guard_change_approving_unit")),
                   comment_required=True, style="danger"),
    ],
)

# ---------------------------------------------------------------------------
# Design review (ENG-05, ENG-06)
# ---------------------------------------------------------------------------

R = ReviewStatus

REVIEW_WORKFLOW = Workflow(
    name="design_review",
    model=DesignReview,
    label=_l("Design review"),
    states=[
        State(R.SUBMITTED, _l("Under review"), "warning"),
        State(R.RETURNED, _l("Returned for rework"), "danger"),
        State(R.PASSED, _l("Passed"), "success", final=True),
    ],
    transitions=[
        Transition("pass_review", _l("Pass the design (opinion)"), (R.SUBMITTED,), R.PASSED,
                   REVIEWERS,
                   guards=(_guard("routed_unit", "guard_routed_unit"),
                           _guard("documents_complete", "guard_documents_complete")),
                   comment_required=True, effect=_effect("effect_review_pass"), style="success"),
        Transition("return_review", _l("Return for rework (opinion)"), (R.SUBMITTED,), R.RETURNED,
                   REVIEWERS, guards=(_guard("routed_unit", "guard_routed_unit"),),
                   comment_required=True, effect=_effect("effect_review_return"),
                   style="danger"),
        Transition("resubmit", _l("Resubmit the revised design"), (R.RETURNED,), R.SUBMITTED,
                   ("ServiceWindow", "Marketing")),
    ],
)

# ---------------------------------------------------------------------------
# Equipment orders (ENG-09)
# ---------------------------------------------------------------------------

O = OrderStatus

ORDER_WORKFLOW = Workflow(
    name="equipment_order",
    model=EquipmentOrder,
    label=_l("Equipment order"),
    states=[
        State(O.REQUESTED, _l("Awaiting marketing approval"), "warning"),
        State(O.APPROVED, _l("Approved, may be ordered"), "info"),
        State(O.REFUSED, _l("Refused"), "danger", final=True),
        State(O.ORDERED, _l("Ordered"), "primary"),
        State(O.DELIVERED, _l("Delivered"), "success", final=True),
    ],
    transitions=[
        Transition("approve", _l("Approve the order"), (O.REQUESTED,), O.APPROVED, ("Marketing",),
                   guards=(not_self("created_by_id"),
                           _guard("in_catalogue", "guard_order_in_catalogue")),
                   style="success"),
        Transition("refuse", _l("Refuse the order"), (O.REQUESTED,), O.REFUSED, ("Marketing",),
                   guards=(not_self("created_by_id"),), comment_required=True, style="danger"),
        Transition("place", _l("Order placed"), (O.APPROVED,), O.ORDERED,
                   ("ServiceWindow", "Marketing"), effect=_effect("effect_order_placed")),
        Transition("report_delivery", _l("Report delivery (maker, arrival)"), (O.ORDERED,),
                   O.DELIVERED, ("ServiceWindow", "Marketing"), comment_required=True,
                   effect=_effect("effect_order_delivered"), style="success"),
    ],
)

# ---------------------------------------------------------------------------
# Construction changes (ENG-11)
# ---------------------------------------------------------------------------

CHANGE_WORKFLOW = Workflow(
    name="construction_change",
    model=ConstructionChange,
    label=_l("Construction change"),
    states=[
        State(C.REQUESTED, _l("Awaiting approval"), "warning"),
        State(C.APPROVED, _l("Approved in writing"), "success"),
        State(C.REFUSED, _l("Refused"), "danger", final=True),
        State(C.DONE, _l("Carried out"), "default", final=True),
    ],
    transitions=[
        Transition("approve", _l("Approve in writing"), (C.REQUESTED,), C.APPROVED,
                   ("Marketing",), guards=(not_self("created_by_id"),),
                   effect=_effect("effect_change_approved"), style="success"),
        Transition("refuse", _l("Refuse"), (C.REQUESTED,), C.REFUSED, ("Marketing",),
                   guards=(not_self("created_by_id"),), comment_required=True, style="danger"),
        Transition("carry_out", _l("Carried out"), (C.APPROVED,), C.DONE,
                   ("ServiceWindow", "Marketing"), effect=_effect("effect_change_done")),
    ],
)

# ---------------------------------------------------------------------------
# Mid-construction inspections (ENG-12)
# ---------------------------------------------------------------------------

I = InspectionStatus

INSPECTION_WORKFLOW = Workflow(
    name="mid_inspection",
    model=MidInspection,
    label=_l("Mid-construction inspection"),
    states=[
        State(I.REQUESTED, _l("Requested"), "warning"),
        State(I.PASSED, _l("Passed"), "success", final=True),
        State(I.RECTIFY, _l("Rectification required"), "danger", final=True),
    ],
    transitions=[
        Transition("pass_inspection", _l("Passed"), (I.REQUESTED,), I.PASSED, ("Inspector",),
                   guards=(_guard("all_areas_conform", "guard_inspection_pass"),),
                   effect=_effect("effect_inspection_done"), style="success"),
        Transition("require_rectification", _l("Rectification required"), (I.REQUESTED,),
                   I.RECTIFY, ("Inspector",),
                   guards=(_guard("areas_checked", "guard_inspection_rectify"),),
                   effect=_effect("effect_inspection_done"), style="danger"),
    ],
)

WORKFLOWS = [PROJECT_WORKFLOW, PLAN_WORKFLOW, PLAN_CHANGE_WORKFLOW, REVIEW_WORKFLOW,
             ORDER_WORKFLOW, CHANGE_WORKFLOW, INSPECTION_WORKFLOW]
