"""Customer information and archives (客户信息与档案, CUS-01 to CUS-11): approval chains.

* ``cus_registration``: a daily registration form is submitted by its manager (CUS-01).
* ``cus_archive``: an archive is filed at month end and closed as closed-deal or
  not-closed (CUS-07, CUS-08).
* ``cus_loan``: 借阅 — applied → reviewed by the sales head (招商部负责人审核) →
  approved by the general manager (总经理审批) → issued (登记) → returned (CUS-09).
* ``cus_destruction``: 销毁 — applied → reviewed by the sales head → approved by
  the general manager → destroyed, with the destruction record (CUS-10).

X-01: the engine refuses out-of-order steps (state), wrong roles, the applicant
deciding (``not_self``), one person taking two approval steps (``not_actor_of``)
and a second decision (the state has moved; stale versions are refused).
"""
from flask_babel import lazy_gettext as _l

from ..models.customers import (
    ArchiveDestruction, ArchiveFile, ArchiveLoan, ArchiveStatus, DailyRegistration,
    DestructionStatus, LoanStatus, RegistrationStatus,
)
from .engine import Guard, State, Transition, Workflow, not_actor_of, not_self


def _effect(name):
    def run(ctx):
        from ..services import customers

        return getattr(customers, name)(ctx)

    return run


def _retention_over():
    """CUS-10: no step of a destruction before the retention period ends."""

    def check(ctx):
        from ..services.customers import retention_refusal

        archive = ctx.record.archive
        if ctx.record.status == DestructionStatus.APPROVED and archive.status == ArchiveStatus.DESTROYED:
            return None
        return retention_refusal(archive, None)

    return Guard("retention_over", check)


R = RegistrationStatus

REGISTRATION_WORKFLOW = Workflow(
    name="cus_registration",
    model=DailyRegistration,
    label=_l("Customer registration form"),
    states=[
        State(R.DRAFT, _l("Draft"), "warning"),
        State(R.SUBMITTED, _l("Submitted"), "success", final=True),
    ],
    transitions=[
        Transition("submit", _l("Submit to the archive custodian"), (R.DRAFT,), R.SUBMITTED, (),
                   assignee=lambda form: form.manager, effect=_effect("effect_submit_registration"),
                   style="success"),
    ],
)

A = ArchiveStatus
_OWNER_ROLES = ("SalesManager", "SalesHead")

ARCHIVE_WORKFLOW = Workflow(
    name="cus_archive",
    model=ArchiveFile,
    label=_l("Customer archive"),
    states=[
        State(A.ACTIVE, _l("Following up"), "primary"),
        State(A.CLOSED, _l("Closed (in retention)"), "info"),
        State(A.DESTROYED, _l("Destroyed"), "danger", final=True),
    ],
    transitions=[
        Transition("file", _l("File for the month"), (A.ACTIVE,), A.ACTIVE, _OWNER_ROLES,
                   assignee=lambda archive: archive.manager, effect=_effect("effect_file"),
                   style="primary"),
        Transition("close_deal", _l("Close: deal done"), (A.ACTIVE,), A.CLOSED, _OWNER_ROLES,
                   assignee=lambda archive: archive.manager, effect=_effect("effect_close_deal"),
                   style="success"),
        Transition("close_not_closed", _l("Close: no deal"), (A.ACTIVE,), A.CLOSED, _OWNER_ROLES,
                   assignee=lambda archive: archive.manager, comment_required=True,
                   effect=_effect("effect_close_not_closed"), style="default"),
    ],
)

L = LoanStatus
_not_borrower = not_self("borrower_id", "created_by_id")

LOAN_WORKFLOW = Workflow(
    name="cus_loan",
    model=ArchiveLoan,
    label=_l("Archive loan"),
    states=[
        State(L.APPLIED, _l("Applied"), "warning"),
        State(L.REVIEWED, _l("Reviewed by the sales head"), "info"),
        State(L.APPROVED, _l("Approved by the general manager"), "primary"),
        State(L.ISSUED, _l("Issued"), "success"),
        State(L.RETURNED, _l("Returned"), "default", final=True),
        State(L.REJECTED, _l("Rejected"), "danger", final=True),
        State(L.WITHDRAWN, _l("Withdrawn"), "default", final=True),
    ],
    transitions=[
        Transition("review", _l("Review (sales head)"), (L.APPLIED,), L.REVIEWED, ("SalesHead",),
                   guards=(_not_borrower,), style="success"),
        Transition("reject_review", _l("Reject (sales head)"), (L.APPLIED,), L.REJECTED,
                   ("SalesHead",), guards=(_not_borrower,), comment_required=True, style="danger"),
        Transition("approve", _l("Approve (general manager)"), (L.REVIEWED,), L.APPROVED,
                   ("GeneralManager",), guards=(_not_borrower, not_actor_of("review")),
                   style="success"),
        Transition("reject_approval", _l("Reject (general manager)"), (L.REVIEWED,), L.REJECTED,
                   ("GeneralManager",), guards=(_not_borrower, not_actor_of("review")),
                   comment_required=True, style="danger"),
        Transition("issue", _l("Issue and register"), (L.APPROVED,), L.ISSUED,
                   ("ArchiveCustodian",), guards=(_not_borrower,),
                   effect=_effect("effect_issue_loan"), style="primary"),
        Transition("return", _l("Record the return"), (L.ISSUED,), L.RETURNED,
                   ("ArchiveCustodian",), guards=(_not_borrower,),
                   effect=_effect("effect_return_loan"), style="primary"),
        Transition("withdraw", _l("Withdraw the application"), (L.APPLIED, L.REVIEWED),
                   L.WITHDRAWN, (), assignee=lambda loan: loan.borrower, style="default"),
    ],
)

D = DestructionStatus
_not_applicant = not_self("created_by_id")

DESTRUCTION_WORKFLOW = Workflow(
    name="cus_destruction",
    model=ArchiveDestruction,
    label=_l("Archive destruction"),
    states=[
        State(D.APPLIED, _l("Applied"), "warning"),
        State(D.REVIEWED, _l("Reviewed by the sales head"), "info"),
        State(D.APPROVED, _l("Approved by the general manager"), "primary"),
        State(D.DESTROYED, _l("Destroyed"), "danger", final=True),
        State(D.REJECTED, _l("Rejected"), "default", final=True),
    ],
    transitions=[
        Transition("review", _l("Review (sales head)"), (D.APPLIED,), D.REVIEWED, ("SalesHead",),
                   guards=(_not_applicant, _retention_over()), style="success"),
        Transition("reject_review", _l("Reject (sales head)"), (D.APPLIED,), D.REJECTED,
                   ("SalesHead",), guards=(_not_applicant,), comment_required=True, style="danger"),
        Transition("approve", _l("Approve (general manager)"), (D.REVIEWED,), D.APPROVED,
                   ("GeneralManager",),
                   guards=(_not_applicant, not_actor_of("review"), _retention_over()),
                   style="success"),
        Transition("reject_approval", _l("Reject (general manager)"), (D.REVIEWED,), D.REJECTED,
                   ("GeneralManager",), guards=(_not_applicant, not_actor_of("review")),
                   comment_required=True, style="danger"),
        Transition("destroy", _l("Destroy and record"), (D.APPROVED,), D.DESTROYED,
                   ("ArchiveCustodian",), guards=(_retention_over(),),
                   effect=_effect("effect_destroy"), style="danger"),
    ],
)

WORKFLOWS = [REGISTRATION_WORKFLOW, ARCHIVE_WORKFLOW, LOAN_WORKFLOW, DESTRUCTION_WORKFLOW]
