"""The official forms: for each, its template, its record and how a user's copy is loaded.

Loading goes through the domain's own visibility rule (a respondent never
loads their complaint, a sales manager never another's customer, a
confidential archive needs a grant) and logs the read where the domain logs
reads (complaints: a print event; registration forms and archives: CUS-06).
"""
from flask_babel import lazy_gettext as _l

from ..extensions import db
from ..security.visibility import ensure_visible, visible_query
from .registry import FormSpec, register_form


def _get_visible(model, pk, actor):
    return ensure_visible(actor, db.session.get(model, pk) if pk is not None else None)


def _visible(module, model_name):
    """A loader of ``app.models.<module>.<model_name>`` rows the actor may see."""

    def load(pk, actor):
        import importlib

        model = getattr(importlib.import_module(f"app.models.{module}"), model_name)
        return _get_visible(model, pk, actor)

    return load


# -- Complaints (CMP-03) ------------------------------------------------------

def _load_complaint(pk, actor):
    from ..audit.events import record_event
    from ..services import complaints as service

    complaint = service.get_complaint(pk, actor)
    record_event("print", "complaint", complaint.id, {"form": "registration"})
    db.session.commit()
    return complaint


def _complaint_context(complaint):
    from ..models.complaints import (
        ComplaintChannel, ComplaintKind, ComplaintOutcome, ComplaintSeverity, ContactMode,
        MeetingKind, ReplyMode, Satisfaction, SurveyParty,
    )
    from ..services import complaints as service
    from ..workflows.complaints import COMPLAINT_WORKFLOW

    return {
        "parts": service.children(complaint),
        "history": COMPLAINT_WORKFLOW.history(complaint),
        "choices": {
            "kind": ComplaintKind, "channel": ComplaintChannel, "severity": ComplaintSeverity,
            "outcome": ComplaintOutcome, "reply": ReplyMode, "meeting": MeetingKind,
            "satisfaction": Satisfaction, "party": SurveyParty, "contact": ContactMode,
        },
    }


register_form(FormSpec(
    name="complaint", paper_title="投诉处理登记表", template="complaints/print.html",
    title=_l("Complaint handling registration form"), record_name="complaint",
    view_name="ComplaintView", load=_load_complaint, context=_complaint_context,
    number=lambda complaint: complaint.number,
))


# -- Customer electrical projects (ENG-03, ENG-05, ENG-12) ----------------------

def last_steps(workflow, record):
    """The latest transition of each action taken on ``record``: who signed what, and when."""
    return {step.action: step for step in workflow.history(record)}


def _plan_context(plan):
    from ..models.projects import ApplicationKind
    from ..services import projects as svc
    from ..workflows.projects import PLAN_WORKFLOW

    return {"application": plan.application, "svc": svc,
            "kind_label": ApplicationKind.label(plan.application.kind),
            "steps": last_steps(PLAN_WORKFLOW, plan)}


def _review_context(review):
    from ..services import projects as svc

    return {"application": review.application, "missing": svc.missing_documents(review),
            "route_label": svc.ReviewRoute.label(review.route)}


INSPECTION_COPIES = (_l("Copy for the customer"), _l("Copy for the contractor"), _l("File copy"))


def _inspection_context(inspection):
    from ..models.projects import CHECK_AREAS, CheckResult
    from ..workflows.projects import INSPECTION_WORKFLOW

    return {"application": inspection.application,
            "copies": [str(label) for label in INSPECTION_COPIES],
            "areas": CHECK_AREAS, "results": CheckResult,
            "status_label": INSPECTION_WORKFLOW.state_label(inspection.status)}


register_form(FormSpec(
    name="supply_plan", paper_title="供电方案通知书", template="projects/print_plan.html",
    title=_l("Supply-plan notice"), record_name="plan", view_name="SupplyPlanView",
    load=_visible("projects", "SupplyPlan"),
    context=_plan_context, number=lambda plan: plan.reply_no or plan.application.number,
))
register_form(FormSpec(
    name="design_review", paper_title="设计审查意见书", template="projects/print_review.html",
    title=_l("Design review opinion"), record_name="review", view_name="DesignReviewView",
    load=_visible("projects", "DesignReview"), context=_review_context,
    number=lambda review: review.opinion_no or review.application.number,
))
register_form(FormSpec(
    name="mid_inspection", paper_title="中间检查意见书",
    template="projects/print_inspection.html", title=_l("Mid-construction inspection opinion"),
    record_name="inspection", view_name="MidInspectionView",
    load=_visible("projects", "MidInspection"),
    context=_inspection_context, copies=INSPECTION_COPIES,
    number=lambda inspection: f"{inspection.application.number}-{inspection.round_no}",
))


# -- Customer information and archives (CUS-01, CUS-06, CUS-07, CUS-09, CUS-10) --

def _load_logged(model_name):
    """Confidential records: every read, the printed one included, is logged (CUS-06)."""

    visible = _visible("customers", model_name)

    def load(pk, actor):
        from ..services import customers as service

        record = visible(pk, actor)
        service.record_read(record, "print")
        db.session.commit()
        return record

    return load


def _archive_context(archive):
    from ..services.attachments import current_attachments

    return {"attachments": current_attachments(archive)}


def _load_lending_register(_pk, actor):
    from ..models.customers import ArchiveLoan

    query = db.session.query(ArchiveLoan).filter(ArchiveLoan.register_no.isnot(None))
    return visible_query(query, ArchiveLoan, actor).order_by(ArchiveLoan.issued_at,
                                                             ArchiveLoan.id).all()


def _destruction_context(item):
    from ..workflows.customers import DESTRUCTION_WORKFLOW

    return {"history": DESTRUCTION_WORKFLOW.history(item)}


register_form(FormSpec(
    name="registration", paper_title="客户信息登记表",
    template="customers/print_registration.html", title=_l("Customer registration form"),
    record_name="form",
    view_name="DailyRegistrationView", load=_load_logged("DailyRegistration"),
    number=lambda form: f"{form.form_date:%Y%m%d}-{form.id}",
))
register_form(FormSpec(
    name="archive", paper_title="客户档案表", template="customers/print_archive.html",
    title=_l("Customer archive"), record_name="archive", view_name="ArchiveFileView",
    load=_load_logged("ArchiveFile"),
    context=_archive_context, number=lambda archive: archive.archive_no,
))
register_form(FormSpec(
    name="lending_register", paper_title="档案借阅登记簿",
    template="customers/print_lending_register.html", title=_l("Lending register"),
    record_name="loans", view_name="ArchiveLoanView",
    permission="can_list", load=_load_lending_register, register=True,
    number=lambda loans: "",
))
register_form(FormSpec(
    name="destruction", paper_title="客户档案销毁记录", template="customers/print_destruction.html",
    title=_l("Destruction record"), record_name="item", view_name="ArchiveDestructionView",
    load=_visible("customers", "ArchiveDestruction"), context=_destruction_context,
    number=lambda item: f"{item.archive.archive_no}-{item.id}",
))


# -- Return visits (VIS-06 to VIS-08) -----------------------------------------

SIGNATURE_MAX_BYTES = 2 * 1024 * 1024


def _load_visit(pk, actor):
    from ..audit.events import record_event
    from ..models.visits import ReturnVisit
    from ..services import visits as service

    visit = service.get_visit(pk, actor)
    record_event("print", ReturnVisit.__tablename__, visit.id, {"form": "visit_record"})
    db.session.commit()
    return visit


def _signature_data_uri(attachment):
    """The drawn or scanned signature inline (``data:``), so the PDF needs no request."""
    import base64
    import os

    from ..services.attachments import storage_path

    try:
        path = storage_path(attachment.storage_key)
        if os.path.getsize(path) > SIGNATURE_MAX_BYTES:
            return None
        with open(path, "rb") as stored:
            content = stored.read()
    except (OSError, ValueError):
        return None
    return f"data:{attachment.content_type};base64,{base64.b64encode(content).decode()}"


def _visit_context(visit):
    from ..models.visits import VisitMode, VisitSatisfaction, VisitTrigger
    from ..services.attachments import current_attachments

    signatures = [item for item in current_attachments(visit)
                  if item.kind == "signature" and item.has_file]
    signature = signatures[-1] if signatures else None
    is_image = signature is not None and (signature.content_type or "").startswith("image/")
    source = visit.source
    if visit.complaint is not None:
        source_summary = f"{visit.complaint.number} {visit.complaint.subject}"
    else:
        source_summary = str(source) if source is not None else (visit.plan_note or "")
    return {
        "trigger_label": VisitTrigger.label(visit.trigger),
        "mode_choices": VisitMode.choices(),
        "satisfaction_choices": VisitSatisfaction.choices(),
        "source_summary": source_summary,
        "signature": signature,
        "signature_src": _signature_data_uri(signature) if is_image else None,
        "issues": list(getattr(visit, "issues", None) or []),
        "rectifications": list(getattr(visit, "rectifications", None) or []),
    }


register_form(FormSpec(
    name="return_visit", paper_title="回访记录表", template="forms/return_visit.html",
    title=_l("Return visit record"), record_name="visit", view_name="ReturnVisitView",
    load=_load_visit, context=_visit_context, number=lambda visit: visit.number,
))
