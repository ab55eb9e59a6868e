"""Absence approval: the requester's department head (or their delegate) decides."""
from flask_babel import lazy_gettext as _l

from ..models.org import Absence, AbsenceStatus
from .engine import DeadlineRule, State, Transition, Workflow, not_self

S = AbsenceStatus


def _approver(absence):
    from ..services.org import department_head_of

    return department_head_of(absence.user)


APPROVERS = ("Partner", "Director", "ServiceSupervisor", "DepartmentSupervisor",
             "GeneralManager", "SalesHead")

ABSENCE_WORKFLOW = Workflow(
    name="absence",
    model=Absence,
    label=_l("Absence approval"),
    states=[
        State(S.REQUESTED, _l("Requested"), "warning",
              deadline=DeadlineRule("absence_approval", _l("Approve the absence"), 1,
                                    assignee=_approver)),
        State(S.APPROVED, _l("Approved"), "success"),
        State(S.REJECTED, _l("Rejected"), "danger", final=True),
        State(S.CANCELLED, _l("Cancelled"), "default", final=True),
    ],
    transitions=[
        Transition("approve", _l("Approve"), (S.REQUESTED,), S.APPROVED, APPROVERS,
                   guards=(not_self("user_id", "created_by_id"),), assignee=_approver,
                   substitute_roles=("GeneralManager", "Director"), style="success"),
        Transition("reject", _l("Reject"), (S.REQUESTED,), S.REJECTED, APPROVERS,
                   guards=(not_self("user_id", "created_by_id"),), assignee=_approver,
                   substitute_roles=("GeneralManager", "Director"), comment_required=True,
                   style="danger"),
        Transition("cancel", _l("Cancel"), (S.REQUESTED, S.APPROVED), S.CANCELLED,
                   tuple(), guards=(), assignee=lambda absence: absence.user,
                   style="default"),
    ],
)
