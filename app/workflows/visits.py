"""Return visits (回访, VIS-01 to VIS-13): approval chains.

The visit record (回访记录表) as a table:

    planned --record--> recorded     回访人填写回访记录 (VIS-06, VIS-08, VIS-11, VIS-12)
    recorded --review--> reviewed    客服部主管检查并签署意见, once (VIS-07)
    planned --cancel--> cancelled    客服部主管取消计划, with a reason

``record`` is taken through the visit form (``services.visits.record_visit``),
which hands the record, the issues and the signature to the step; it is not
a plain button. Only the visitor the plan names records (or their delegate
during a recorded absence), never the complaint's respondent or a person
recused from it, and only in the role the rules name for the trigger
(VIS-02 to VIS-04). A recorded visit waits for the supervisor's review: the
``recorded`` state opens a review deadline.
"""
from flask_babel import lazy_gettext as _l

from ..models.visits import ReturnVisit, VisitStatus
from .engine import DeadlineRule, Guard, State, Transition, Workflow, not_self

S = VisitStatus

SUPERVISOR = "ServiceSupervisor"
MANAGER = "GeneralManager"
# Every role a rule may name as visitor (the guard narrows it per trigger).
VISITOR_ROLES = ("PropertyAssistant", "DepartmentSupervisor", "GeneralManager", "CultureClerk",
                 "ServiceSupervisor")
REVIEW_DAYS = 3


def _visitor(visit):
    return visit.visitor


def _not_conflicted(ctx):
    # The complaint's respondent, and anyone recused from the complaint, never visits (CMP-05).
    from ..services.visits import visitor_conflict

    if visitor_conflict(ctx.record, ctx.actor):
        return _l("You are the respondent of this complaint or recused from it and cannot "
                  "visit the complainant.")
    return None


def _visitor_role_matches(ctx):
    # VIS-02 to VIS-04: the trigger (and a complaint's severity) names the visitor's role.
    from ..services.visits import visitor_role_refusal

    return visitor_role_refusal(ctx.record, ctx.acting_for or ctx.actor)


def _reply_letter_if_exempt(ctx):
    # VIS-11: an anonymous or letter-only complaint needs its reply letter, visit or not.
    from ..services.visits import exempt_without_letter

    if exempt_without_letter(ctx.record):
        return _l("This complaint is anonymous or a superior body asked only for a reply "
                  "letter: attach the reply letter to the complaint before recording a visit.")
    return None


def _manager_only_manual(ctx):
    # VIS-05: the company manager organises holiday, move-in and emergency visits; the rest
    # belong to the customer-service supervisor's plan (VIS-01).
    from ..models.visits import VisitTrigger
    from .engine import user_role_names

    roles = user_role_names(ctx.actor)
    if SUPERVISOR not in roles and ctx.record.trigger not in VisitTrigger.MANUAL:
        return _l("Only the customer-service supervisor changes the plan of this visit.")
    return None


not_conflicted = Guard("not_conflicted", _not_conflicted)
manager_only_manual = Guard("manager_only_manual", _manager_only_manual)
visitor_role_matches = Guard("visitor_role_matches", _visitor_role_matches)
reply_letter_if_exempt = Guard("reply_letter_if_exempt", _reply_letter_if_exempt)


def _effect(name):
    def run(ctx):
        from ..services import visits as service

        getattr(service, name)(ctx)

    run.__name__ = name
    return run


VISIT_WORKFLOW = Workflow(
    name="return_visit",
    model=ReturnVisit,
    label=_l("Return visit"),
    states=[
        State(S.PLANNED, _l("Planned"), "info"),
        State(S.RECORDED, _l("Recorded, pending review"), "warning",
              deadline=DeadlineRule("return_visit_review", _l("Review the visit record"),
                                    REVIEW_DAYS, working_days=True, assignee_role=SUPERVISOR)),
        State(S.REVIEWED, _l("Reviewed"), "success", final=True),
        State(S.CANCELLED, _l("Cancelled"), "default", final=True),
    ],
    transitions=[
        Transition("record", _l("Record the visit"), (S.PLANNED,), S.RECORDED, VISITOR_ROLES,
                   guards=(not_conflicted, visitor_role_matches, reply_letter_if_exempt),
                   assignee=_visitor, effect=_effect("effect_record"), style="success"),
        Transition("review", _l("Review and sign"), (S.RECORDED,), S.REVIEWED, (SUPERVISOR,),
                   guards=(not_self("visitor_id", "recorded_by_id"),),
                   effect=_effect("effect_review"), style="success"),
        Transition("cancel", _l("Cancel the visit"), (S.PLANNED,), S.CANCELLED,
                   (SUPERVISOR, MANAGER), guards=(manager_only_manual,), comment_required=True,
                   effect=_effect("effect_cancel"), style="default"),
    ],
)

WORKFLOWS = [VISIT_WORKFLOW]
