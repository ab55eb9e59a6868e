"""Return visits (回访, VIS-01 to VIS-13): screens and REST resources.

The visit plan and its lists, the visit form (a tablet form with a signature
pad), the supervisor's review, maintenance jobs, community events, open
letters, the monthly statistics and the printable visit record (回访记录表).
Every form calls one service of ``app/services/visits.py``; a refusal comes
back next to the fields with everything the user typed, or as the API's
status and field errors.
"""
import base64
import binascii
import datetime
import re

from flask import Response, abort, current_app, flash, g, redirect, request, send_file, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.api import safe
from flask_appbuilder.models.filters import BaseFilter
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_appbuilder.security.decorators import has_access, permission_name, protect
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..audit.context import current_actor
from ..extensions import db
from ..models.base import utcnow
from ..models.complaints import Complaint
from ..models.visits import (
    CommunityEvent, MaintenanceJob, OpenLetter, ReturnVisit, VisitIssue, VisitMode,
    VisitRectification, VisitSatisfaction, VisitStatus, VisitTrigger,
)
from ..security.visibility import can_see, visible_query
from ..services import visits as service
from ..services.errors import DomainError, InvalidInput, RecordNotVisible
from .base import AppModelApi, AppModelView, domain_error_response, visible_rows
from .workflow import WorkflowApiMixin

LABELS = {
    "number": _l("Number"), "trigger": _l("Trigger"), "complaint": _l("Complaint"),
    "maintenance_job": _l("Maintenance job"), "community_event": _l("Community event"),
    "customer_name": _l("Customer"), "customer_phone": _l("Phone"), "address": _l("Address"),
    "sequence": _l("Visit no."), "previous_visit": _l("Previous visit"),
    "visitor": _l("Visitor (staff)"), "planned_by": _l("Planned by"), "due_at": _l("Due by"),
    "plan_note": _l("Plan note"), "status": _l("Status"), "mode": _l("Mode"),
    "visited_at": _l("Time of the visit"), "satisfaction": _l("Satisfaction"),
    "summary": _l("Customer's opinion"), "needs_another_visit": _l("Needs another visit"),
    "next_visit_at": _l("Next visit on"), "signer_name": _l("Signed by (customer)"),
    "recorded_by": _l("Recorded by"), "review_opinion": _l("Supervisor's opinion"),
    "reviewed_by": _l("Reviewed by"), "reviewed_at": _l("Reviewed at"),
    "cancel_reason": _l("Reason for cancelling"), "version": _l("Version"),
    "created_at": _l("Created at"), "updated_at": _l("Updated at"),
    "created_by": _l("Created by"), "updated_by": _l("Updated by"),
    # maintenance jobs and community events
    "title": _l("Title"), "area": _l("Responsibility area"), "assistant": _l("Property assistant"),
    "description": _l("Description"), "completed_at": _l("Completed at"),
    "location": _l("Location"), "ended_at": _l("Ended at"), "clerk": _l("Community culture clerk"),
    "participants_count": _l("Participants"),
    # open letters
    "subject": _l("Subject"), "body": _l("Letter"), "issued_at": _l("Issued at"),
    "issued_by": _l("Issued by"), "complaints": _l("Complaints answered"),
}

# Who may be named as a visitor (VIS-02 to VIS-05); the service checks the role the rule names.
VISITOR_ROLES = ("PropertyAssistant", "DepartmentSupervisor", "GeneralManager", "CultureClerk",
                 "ServiceSupervisor")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MAX_SIGNATURE_BYTES = 2 * 1024 * 1024
DATA_URL_PREFIX = "data:image/png;base64,"


# ---------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------

def _yes_no(value):
    return _("Yes") if value else _("No")


def _blank(value):
    return "" if value is None else value


def _flash(error):
    messages = [str(error.message)]
    messages += [f"{LABELS.get(str(key).removesuffix('_id'), key)}: {text}"
                 for key, text in (getattr(error, "errors", None) or {}).items()]
    for message in dict.fromkeys(messages):
        flash(message, "danger")


def _local_input(value, with_time=True):
    """A stored UTC datetime as the value of a datetime-local (or date) input."""
    from ..timeutil import to_local

    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        local = to_local(value)
        return local.strftime("%Y-%m-%dT%H:%M") if with_time else local.strftime("%Y-%m-%d")
    return value.isoformat() if isinstance(value, datetime.date) else str(value)


def _users_with_roles(roles):
    from ..services.org import users_with_role

    seen, users = set(), []
    for role in roles:
        for user in users_with_role(role):
            if user.id not in seen:
                seen.add(user.id)
                users.append(user)
    return users


def _roles(user):
    return {role.name for role in getattr(user, "roles", None) or []}


def _visible_visit(pk):
    """The visit, or 404 when it does not exist or the user may not see it."""
    visit = db.session.get(ReturnVisit, pk)
    if visit is None or not can_see(current_actor(), visit):
        abort(404)
    return visit


def decode_signature(data_url):
    """The PNG bytes of a drawn signature (a ``data:image/png;base64,`` URL), or None if empty.

    Raises InvalidInput (field ``signature``) for anything that is not a PNG
    image of a sensible size.
    """
    text = (data_url or "").strip()
    if not text:
        return None
    refused = InvalidInput(errors={"signature": _(
        "The drawn signature could not be read. Clear the pad and sign again.")})
    if not text.startswith(DATA_URL_PREFIX):
        raise refused
    encoded = text[len(DATA_URL_PREFIX):]
    if len(encoded) > MAX_SIGNATURE_BYTES * 4 // 3 + 4:
        raise InvalidInput(errors={"signature": _("The drawn signature is too large.")})
    try:
        png = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise refused from None
    if not png.startswith(PNG_SIGNATURE):
        raise refused
    return png


_ISSUE_KEY = re.compile(r"^issues?[\[\.\-_](\d+)\]?[\.\-_]?(\w+)$")
_RECT_KEY = re.compile(r"^rectification[\.\-_\[]+(\w+?)\]?$")


def field_errors(error):
    """A refusal's field errors under the names the visit form shows them at.

    ``issues[0].agreed_reply_at``, ``issues-0-agreed_reply_at`` and
    ``issues.0.agreed_reply_at`` all become ``issues.0.agreed_reply_at``;
    ``rectification_due_at`` becomes ``rectification.due_at``.
    """
    errors = {}
    for key, text in (getattr(error, "errors", None) or {}).items():
        key = str(key)
        issue = _ISSUE_KEY.match(key)
        rect = _RECT_KEY.match(key)
        if issue:
            key = f"issues.{int(issue.group(1))}.{issue.group(2)}"
        elif rect:
            key = f"rectification.{rect.group(1)}"
        elif key in ("signature_png", "signature_file", "signature_data"):
            key = "signature"
        errors[key] = str(text)
    return errors


# ---------------------------------------------------------------------------
# List filters
# ---------------------------------------------------------------------------

def _is_off(value):
    return str(value or "").strip().lower() in ("", "0", "n", "no", "false")


class OverdueVisitFilter(BaseFilter):
    """Planned visits whose due time has passed."""

    name = _l("Overdue (planned, due time passed)")
    arg_name = "overdue"

    def apply(self, query, value):
        if _is_off(value):
            return query
        return query.filter(ReturnVisit.status == VisitStatus.PLANNED,
                            ReturnVisit.due_at < utcnow())


class DueInMonthFilter(BaseFilter):
    """Visits due in a month, given as ``YYYY-MM`` (local calendar)."""

    name = _l("Due in month (YYYY-MM)")
    arg_name = "month"

    def apply(self, query, value):
        bounds = month_bounds(value)
        if bounds is None:
            return query
        start, end = bounds
        return query.filter(ReturnVisit.due_at >= start, ReturnVisit.due_at < end)


def month_bounds(value):
    """``(start, end)`` in naive UTC of the local month ``YYYY-MM``, or None."""
    from ..timeutil import to_utc_naive

    match = re.match(r"^\s*(\d{4})-(\d{1,2})\s*$", str(value or ""))
    if not match:
        return None
    year, month = int(match.group(1)), int(match.group(2))
    if not (2000 <= year <= 2100 and 1 <= month <= 12):
        return None
    start = datetime.datetime(year, month, 1)
    end = datetime.datetime(year + (month == 12), 1 if month == 12 else month + 1, 1)
    return to_utc_naive(start), to_utc_naive(end)


class RecordedVisits(BaseFilter):
    """Base filter of 回访记录: the visits made, reviewed or not."""

    name = "Recorded"
    arg_name = "recorded"

    def apply(self, query, value):
        return query.filter(ReturnVisit.status.in_(VisitStatus.DONE))


class PendingReview(BaseFilter):
    """Base filter of the review queue: recorded, not signed by the supervisor (VIS-07)."""

    name = "Pending review"
    arg_name = "pending_review"

    def apply(self, query, value):
        return query.filter(ReturnVisit.status == VisitStatus.RECORDED,
                            ReturnVisit.reviewed_at.is_(None))


class HoldsRole(BaseFilter):
    """Related-field filter: active users holding the role named by the value."""

    name = "Holds role"
    arg_name = "holds_role"

    def apply(self, query, value):
        from flask_appbuilder.security.sqla.models import Role, User

        names = value if isinstance(value, (list, tuple)) else [value]
        return query.filter(User.active.is_(True), User.roles.any(Role.name.in_(names)))


# ---------------------------------------------------------------------------
# Visits
# ---------------------------------------------------------------------------

class ReturnVisitView(AppModelView):
    """回访计划: every visit the user may see, by due date; the visit page; the visit form."""

    datamodel = SQLAInterface(ReturnVisit)
    show_attachments = True
    show_template = "visits/show.html"
    list_template = "visits/list.html"
    list_title = _l("Visit plan")
    show_title = _l("Return visit")
    list_columns = ["number", "trigger", "customer_name", "sequence", "visitor", "due_at",
                    "status", "mode", "visited_at", "satisfaction"]
    show_fieldsets = [
        (_l("Plan"), {"fields": [
            "number", "trigger", "complaint", "maintenance_job", "community_event", "sequence",
            "previous_visit", "customer_name", "customer_phone", "address", "visitor",
            "planned_by", "due_at", "plan_note", "status", "cancel_reason"]}),
        (_l("Visit record"), {"fields": [
            "mode", "visited_at", "satisfaction", "summary", "needs_another_visit",
            "next_visit_at", "signer_name", "recorded_by"]}),
        (_l("Review"), {"fields": ["review_opinion", "reviewed_by", "reviewed_at"]}),
    ]
    search_columns = ["number", "status", "trigger", "visitor", "due_at", "mode",
                      "satisfaction", "visited_at", "customer_name", "customer_phone",
                      "complaint", "reviewed_at"]
    order_columns = ["number", "trigger", "due_at", "status", "visited_at", "sequence"]
    base_order = ("due_at", "asc")
    label_columns = LABELS
    # Visits are planned through the plan form or proposed from the triggers, recorded
    # through the visit form, never edited as raw fields.
    exclude_route_methods = {"add", "edit", "delete"}
    formatters_columns = {
        "needs_another_visit": _yes_no,
        **{name: _blank for name in ("customer_name", "customer_phone", "address", "plan_note",
                                     "summary", "signer_name", "review_opinion",
                                     "cancel_reason")},
    }

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._filters = self.datamodel.get_filters(
            self.search_columns,
            search_filters={"due_at": [OverdueVisitFilter("due_at", self.datamodel),
                                       DueInMonthFilter("due_at", self.datamodel)]})

    # -- the visit form (VIS-06, VIS-08, VIS-12) --

    @expose("/record/<int:pk>", methods=["GET", "POST"])
    @has_access
    @permission_name("record")
    def record(self, pk):
        """Record a planned visit: GET shows the form, POST calls ``record_visit``."""
        visit = _visible_visit(pk)
        if request.method == "GET":
            if visit.status != VisitStatus.PLANNED:
                flash(_("This visit is no longer waiting to be recorded."), "warning")
                return redirect(url_for(".show", pk=pk))
            return self._visit_form(visit, _initial_values(visit), [], {}, [])

        values, issues = _posted_values(request.form)
        try:
            signature_png = None
            signature_file = None
            if values["mode"] != VisitMode.PHONE:
                upload = request.files.get("signature_file")
                if upload is not None and upload.filename:
                    signature_file = upload
                else:
                    signature_png = decode_signature(values["signature_data"])
            service.record_visit(
                pk, current_actor(), values["version"], _visit_data(values),
                issues=[_issue_data(issue) for issue in issues],
                signature_png=signature_png, signature_file=signature_file)
        except RecordNotVisible:
            abort(404)
        except DomainError as error:
            db.session.rollback()
            errors = field_errors(error)
            shown = _shown_fields(issues)
            general = [str(error.message)] + [
                f"{LABELS.get(key.removesuffix('_id'), key)}: {text}"
                for key, text in errors.items() if key not in shown]
            visit = _visible_visit(pk)
            return self._visit_form(visit, values, issues, errors,
                                    list(dict.fromkeys(general)), status=_form_status(error))
        flash(_("The visit was recorded. It now waits for the supervisor's review."), "success")
        return redirect(url_for(".show", pk=pk))

    def _visit_form(self, visit, values, issues, errors, general_errors, status=200):
        from ..models.complaints import ComplaintSeverity
        from ..services.settings import get_setting

        phone_hint = None
        if visit.trigger == VisitTrigger.COMPLAINT:
            if visit.complaint is not None and visit.complaint.severity == ComplaintSeverity.MAJOR:
                phone_hint = _("A major complaint is visited on site, whatever the visit number "
                               "(VIS-08).")
            elif service.phone_allowed(visit):
                phone_hint = _("From this visit on, a phone visit is allowed (VIS-08).")
            else:
                phone_hint = _("Visits of a complaint are on site until visit no. %(n)s (VIS-08).",
                               n=get_setting("VIS_PHONE_FROM_SEQUENCE"))
        body = self.render_template(
            "visits/record.html", title=_("Record the return visit"), visit=visit,
            values=values, issues=issues, errors=errors, general_errors=general_errors,
            labels=LABELS, trigger_label=VisitTrigger.label(visit.trigger),
            source_summary=_source_summary(visit), phone_hint=phone_hint,
            view_name="ReturnVisitView",
            choices={"mode": [(v, str(t)) for v, t in VisitMode.choices()],
                     "satisfaction": [(v, str(t)) for v, t in VisitSatisfaction.choices()]},
            assignees=_users_with_roles(("PropertyAssistant", "DepartmentSupervisor",
                                         "ServiceSupervisor", "GeneralManager", "CultureClerk")),
        )
        return body, status

    # -- the supervisor's review and the plan (VIS-01, VIS-07) --

    def _on_record_page(self, pk, call, success, anchor=""):
        try:
            call()
        except RecordNotVisible:
            abort(404)
        except DomainError as error:
            db.session.rollback()
            _flash(error)
        else:
            flash(success, "success")
        return redirect(url_for(".show", pk=pk) + anchor)

    @expose("/review/<int:pk>", methods=["POST"])
    @has_access
    @permission_name("review")
    def review(self, pk):
        form = request.form
        return self._on_record_page(pk, lambda: service.review_visit(
            pk, current_actor(), form.get("version"), form.get("opinion")),
            _("Your review was signed."))

    @expose("/reschedule/<int:pk>", methods=["POST"])
    @has_access
    @permission_name("plan")
    def reschedule(self, pk):
        form = request.form
        return self._on_record_page(pk, lambda: service.reschedule_visit(
            pk, current_actor(), form.get("version"), form.get("due_at"),
            visitor_id=form.get("visitor_id") or None),
            _("The plan was changed."))

    @expose("/cancel/<int:pk>", methods=["POST"])
    @has_access
    @permission_name("plan")
    def cancel(self, pk):
        form = request.form
        return self._on_record_page(pk, lambda: service.cancel_visit(
            pk, current_actor(), form.get("version"), form.get("reason")),
            _("The visit was cancelled."))

    @expose("/issue/<int:pk>/<int:issue_id>", methods=["POST"])
    @has_access
    @permission_name("record")
    def issue_outcome(self, pk, issue_id):
        issue = db.session.get(VisitIssue, issue_id)
        if issue is None or issue.visit_id != pk:
            abort(404)
        _visible_visit(pk)
        form = request.form
        return self._on_record_page(pk, lambda: service.record_issue_outcome(
            issue_id, current_actor(), form.get("version"), form.get("outcome")),
            _("The outcome was recorded."), "#visit-issues")

    @expose("/rectification/<int:pk>/<int:rect_id>", methods=["POST"])
    @has_access
    @permission_name("record")
    def rectification_done(self, pk, rect_id):
        rect = db.session.get(VisitRectification, rect_id)
        if rect is None or rect.visit_id != pk:
            abort(404)
        _visible_visit(pk)
        form = request.form
        return self._on_record_page(pk, lambda: service.complete_rectification(
            rect_id, current_actor(), form.get("version"), form.get("result")),
            _("The rectification was marked as done."), "#visit-rectifications")

    @expose("/plan", methods=["GET", "POST"])
    @has_access
    @permission_name("plan")
    def plan(self):
        """Plan a visit by hand: any trigger for the supervisor, VIS-05 visits for the manager."""
        values = {key: (request.form.get(key) or "").strip() for key in (
            "trigger", "source_number", "customer_name", "customer_phone", "address",
            "visitor_id", "due_at", "plan_note")} if request.method == "POST" else {
            "trigger": request.args.get("trigger") or VisitTrigger.HOLIDAY}
        errors, general = {}, []
        if request.method == "POST":
            try:
                data = _plan_data(values)
                visit = service.plan_visit(current_actor(), data)
            except DomainError as error:
                db.session.rollback()
                errors = field_errors(error)
                if "complaint_id" in errors or "maintenance_job_id" in errors or \
                        "community_event_id" in errors:
                    errors["source_number"] = errors.pop("complaint_id", None) or errors.pop(
                        "maintenance_job_id", None) or errors.pop("community_event_id", None)
                shown = {"trigger", "source_number", "customer_name", "customer_phone", "address",
                         "visitor_id", "due_at", "plan_note"}
                general = list(dict.fromkeys([str(error.message)] + [
                    f"{LABELS.get(key.removesuffix('_id'), key)}: {text}"
                    for key, text in errors.items() if key not in shown]))
            else:
                flash(_("Visit %(number)s was planned.", number=visit.number), "success")
                return redirect(url_for(".show", pk=visit.id))
        actor = current_actor()
        triggers = [(value, str(label)) for value, label in VisitTrigger.choices()]
        if "ServiceSupervisor" not in _roles(actor):
            triggers = [(v, t) for v, t in triggers if v in VisitTrigger.MANUAL]
        return self.render_template(
            "visits/plan.html", title=_("Plan a return visit"), values=values, errors=errors,
            general_errors=general, triggers=triggers, labels=LABELS,
            visitors=_users_with_roles(VISITOR_ROLES)), 200 if not errors and not general else 422

    @expose("/propose", methods=["POST"])
    @has_access
    @permission_name("propose")
    def propose(self):
        """Plan now every visit the triggers call for (VIS-02 to VIS-04)."""
        try:
            created = service.propose_visits(current_actor())
        except DomainError as error:
            db.session.rollback()
            _flash(error)
        else:
            flash(_("%(count)s new visit(s) were planned from the triggers.", count=created),
                  "success")
        return redirect(url_for(".list"))

    # -- the paper form and the signature --

    @expose("/print/<int:pk>")
    @has_access
    @permission_name("show")
    def print_form(self, pk):
        """回访记录表 laid out like the paper form, with the signature or 电话回访 (VIS-06, VIS-07).

        The shared form mechanism (``/forms/return_visit/<id>``, also as PDF) renders it.
        """
        from .forms import form_page

        return form_page("return_visit", pk)

    @expose("/signature/<int:pk>")
    @has_access
    @permission_name("show")
    def signature(self, pk):
        """The customer's signature of the visit (the current version)."""
        from ..services.attachments import StoredFileMissing, open_for_download

        visit = _visible_visit(pk)
        attachment = _signature_of(visit)
        if attachment is None:
            abort(404)
        try:
            path, filename, content_type = open_for_download(attachment.id, current_actor())
        except RecordNotVisible:
            abort(404)
        except StoredFileMissing as error:
            abort(503, description=str(error.message))
        response = send_file(path, mimetype=content_type, as_attachment=not _is_image(attachment),
                             download_name=filename, conditional=True)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.cache_control.private = True
        response.cache_control.no_store = True
        return response


class VisitRecordView(ReturnVisitView):
    """回访记录: the visits recorded, reviewed or not, newest first."""

    class_permission_name = "ReturnVisitView"
    route_base = "/visit-records"
    list_title = _l("Visit records")
    list_columns = ["number", "trigger", "customer_name", "visitor", "visited_at", "mode",
                    "satisfaction", "needs_another_visit", "status", "reviewed_at"]
    base_filters = visible_rows() + [["status", RecordedVisits, None]]
    base_order = ("visited_at", "desc")


class PendingReviewView(ReturnVisitView):
    """Recorded visits the supervisor has not signed yet (VIS-07)."""

    class_permission_name = "ReturnVisitView"
    route_base = "/visits-pending-review"
    list_title = _l("Visit records pending review")
    list_columns = ["number", "trigger", "customer_name", "visitor", "visited_at", "mode",
                    "satisfaction", "status"]
    base_filters = visible_rows() + [["status", PendingReview, None]]
    base_order = ("visited_at", "asc")


def _initial_values(visit):
    from ..timeutil import to_local

    return {
        "version": visit.version, "mode": VisitMode.ON_SITE,
        "visited_at": to_local(utcnow()).strftime("%Y-%m-%dT%H:%M"), "satisfaction": "",
        "summary": "", "needs_another_visit": False, "next_visit_at": "",
        "signer_name": visit.customer_name or "", "signature_data": "",
        "rectification_assignee_id": "", "rectification_description": "",
        "rectification_due_at": "",
    }


def _posted_values(form):
    """What the visit form sent, as the form shows it again, and the issues typed."""
    values = {
        "version": form.get("version"),
        "mode": (form.get("mode") or "").strip(),
        "visited_at": (form.get("visited_at") or "").strip(),
        "satisfaction": (form.get("satisfaction") or "").strip(),
        "summary": form.get("summary") or "",
        "needs_another_visit": bool(form.get("needs_another_visit")),
        "next_visit_at": (form.get("next_visit_at") or "").strip(),
        "signer_name": (form.get("signer_name") or "").strip(),
        "signature_data": (form.get("signature_data") or "").strip(),
        "rectification_assignee_id": (form.get("rectification_assignee_id") or "").strip(),
        "rectification_description": form.get("rectification_description") or "",
        "rectification_due_at": (form.get("rectification_due_at") or "").strip(),
    }
    indexes = sorted({int(match.group(1)) for key in form.keys()
                      if (match := re.match(r"^issues-(\d+)-", key))})
    issues = []
    for index in indexes[:50]:
        issue = {
            "description": (form.get(f"issues-{index}-description") or "").strip(),
            "answered_on_spot": bool(form.get(f"issues-{index}-answered_on_spot")),
            "answer": (form.get(f"issues-{index}-answer") or "").strip(),
            "agreed_reply_at": (form.get(f"issues-{index}-agreed_reply_at") or "").strip(),
        }
        if issue["description"] or issue["answer"] or issue["agreed_reply_at"]:
            issues.append(issue)
    return values, issues


def _visit_data(values):
    data = {key: values[key] for key in (
        "mode", "visited_at", "satisfaction", "summary", "needs_another_visit",
        "next_visit_at", "signer_name")}
    for key in ("visited_at", "next_visit_at", "satisfaction", "mode"):
        data[key] = data[key] or None
    if values["mode"] == VisitMode.PHONE:
        data["signer_name"] = None
    rectification = {
        "assignee_id": values["rectification_assignee_id"] or None,
        "description": values["rectification_description"].strip() or None,
        "due_at": values["rectification_due_at"] or None,
    }
    data["rectification"] = rectification if (
        values["satisfaction"] == VisitSatisfaction.DISSATISFIED
        or any(rectification.values())) else None
    return data


def _issue_data(issue):
    return {
        "description": issue["description"],
        "answered_on_spot": issue["answered_on_spot"],
        "answer": issue["answer"] or None,
        "agreed_reply_at": None if issue["answered_on_spot"] else (issue["agreed_reply_at"] or None),
    }


def _shown_fields(issues):
    """The error keys the visit form shows next to a field."""
    shown = {"mode", "visited_at", "satisfaction", "summary", "needs_another_visit",
             "next_visit_at", "signer_name", "signature", "issues", "rectification",
             "rectification.assignee_id", "rectification.description", "rectification.due_at"}
    for index in range(len(issues)):
        shown |= {f"issues.{index}.description", f"issues.{index}.answer",
                  f"issues.{index}.agreed_reply_at"}
    return shown


def _form_status(error):
    return getattr(error, "status", 422) if getattr(error, "status", 400) in (403, 409, 422) else 422


def _plan_data(values):
    """The plan form as ``plan_visit`` data; the source is given by its number."""
    data = {
        "trigger": values.get("trigger") or None,
        "customer_name": values.get("customer_name") or None,
        "customer_phone": values.get("customer_phone") or None,
        "address": values.get("address") or None,
        "visitor_id": values.get("visitor_id") or None,
        "due_at": values.get("due_at") or None,
        "plan_note": values.get("plan_note") or None,
    }
    number = values.get("source_number")
    trigger = data["trigger"]
    sources = {VisitTrigger.COMPLAINT: (Complaint, Complaint.number, "complaint_id"),
               VisitTrigger.MAINTENANCE: (MaintenanceJob, MaintenanceJob.number,
                                          "maintenance_job_id")}
    if trigger in sources and number:
        model, column, key = sources[trigger]
        query = visible_query(db.session.query(model.id).filter(column == number), model,
                              current_actor())
        found = query.scalar()
        if found is None:
            raise InvalidInput(errors={"source_number": _("No record with number %(number)s.",
                                                          number=number)})
        data[key] = found
    elif trigger == VisitTrigger.EVENT and number:
        event = None
        if number.isdigit():
            event = db.session.get(CommunityEvent, int(number))
        if event is None:
            event = db.session.query(CommunityEvent).filter(
                CommunityEvent.title == number).order_by(CommunityEvent.id.desc()).first()
        if event is None:
            raise InvalidInput(errors={"source_number": _("No community event “%(title)s”.",
                                                          title=number)})
        data["community_event_id"] = event.id
    return data


def _source_summary(visit):
    """One line on what the visit follows."""
    if visit.complaint is not None:
        return f"{visit.complaint.number} {visit.complaint.subject}"
    if visit.maintenance_job is not None:
        return str(visit.maintenance_job)
    if visit.community_event is not None:
        return str(visit.community_event)
    return visit.plan_note or ""


def _signature_of(visit):
    """The current signature attachment of the visit, or None."""
    from ..services.attachments import current_attachments

    signatures = [item for item in current_attachments(visit)
                  if item.kind == "signature" and item.has_file]
    return signatures[-1] if signatures else None


def _is_image(attachment):
    return attachment is not None and (attachment.content_type or "").startswith("image/")


def visit_panel(view, pk):
    """What the visit page shows besides the fields: state, allowed forms, issues, signature."""
    from flask_login import current_user

    from ..security.visibility import is_admin

    visit = db.session.get(ReturnVisit, pk)
    if visit is None or not can_see(current_user, visit):
        return None
    security = view.appbuilder.sm
    roles = _roles(current_user)
    planned = visit.status == VisitStatus.PLANNED
    admin = is_admin(current_user)
    workflow = _workflow()
    may_plan = security.has_access("can_plan", "ReturnVisitView")
    step_labels = {name: str(t.label) for name, t in workflow.transitions.items()} if workflow else {}
    related = []
    if visit.complaint_id or visit.maintenance_job_id or visit.community_event_id:
        same = db.session.query(ReturnVisit).filter(ReturnVisit.id != visit.id)
        if visit.complaint_id:
            same = same.filter(ReturnVisit.complaint_id == visit.complaint_id)
        elif visit.maintenance_job_id:
            same = same.filter(ReturnVisit.maintenance_job_id == visit.maintenance_job_id,
                               ReturnVisit.customer_name == visit.customer_name)
        else:
            same = same.filter(ReturnVisit.community_event_id == visit.community_event_id,
                               ReturnVisit.customer_name == visit.customer_name)
        related = [other for other in same.order_by(ReturnVisit.sequence).limit(20)
                   if can_see(current_user, other)]
    signature = _signature_of(visit) if visit.visited_at else None
    return {
        "visit": visit,
        "view_name": "ReturnVisitView",
        "workflow": workflow,
        "history": workflow.history(visit) if workflow else [],
        "step_label": lambda step: step_labels.get(step.action, step.action),
        "state_label": VisitStatus.label(visit.status),
        "state_colour": VisitStatus.colour(visit.status),
        "status_label": VisitStatus.label,
        "mode_label": VisitMode.label,
        "overdue": planned and visit.due_at is not None and visit.due_at < utcnow(),
        "can_print": True,
        "can_record": planned and security.has_access("can_record", "ReturnVisitView")
        and (visit.visitor_id == current_user.id or admin),
        "can_review": visit.status == VisitStatus.RECORDED and visit.reviewed_at is None
        and security.has_access("can_review", "ReturnVisitView"),
        "can_plan": planned and may_plan and (
            "ServiceSupervisor" in roles or admin or visit.trigger in VisitTrigger.MANUAL),
        "can_cancel": planned and may_plan and (
            "ServiceSupervisor" in roles or admin
            or ("GeneralManager" in roles and visit.trigger in VisitTrigger.MANUAL)),
        "can_outcome": security.has_access("can_record", "ReturnVisitView")
        and (visit.visitor_id == current_user.id or "ServiceSupervisor" in roles or admin),
        "may_complete": lambda rect: security.has_access("can_record", "ReturnVisitView") and (
            rect.assignee_id == current_user.id or "ServiceSupervisor" in roles or admin),
        "visitors": _users_with_roles(VISITOR_ROLES) if planned and may_plan else [],
        "due_local": _local_input(visit.due_at),
        "issues": list(getattr(visit, "issues", []) or []),
        "rectifications": list(getattr(visit, "rectifications", []) or []),
        "signature": signature,
        "signature_is_image": _is_image(signature),
        "related_visits": related,
        "now": utcnow(),
    }


def letter_panel(pk):
    """The complaints an open letter answers, linked where the user may open them."""
    from flask_login import current_user

    letter = db.session.get(OpenLetter, pk)
    if letter is None or not can_see(current_user, letter):
        return None
    may_open = current_app.appbuilder.sm.has_access("can_show", "ComplaintView")
    return {"letter": letter, "complaints": [
        {"number": complaint.number,
         "subject": complaint.subject if can_see(current_user, complaint) else "",
         "link": url_for("ComplaintView.show", pk=complaint.id)
         if may_open and can_see(current_user, complaint) else None}
        for complaint in letter.complaints]}


def job_panel(pk):
    """A maintenance job's completion form and its visits."""
    from flask_login import current_user

    from ..timeutil import to_local

    job = db.session.get(MaintenanceJob, pk)
    if job is None or not can_see(current_user, job):
        return None
    visits = db.session.query(ReturnVisit).filter(ReturnVisit.maintenance_job_id == job.id) \
        .order_by(ReturnVisit.sequence).all()
    return {
        "record": job,
        "can_complete": job.completed_at is None
        and current_app.appbuilder.sm.has_access("can_complete", "MaintenanceJobView"),
        "now": to_local(utcnow()).strftime("%Y-%m-%dT%H:%M"),
        "visits": [visit for visit in visits if can_see(current_user, visit)],
        "status_label": VisitStatus.label,
    }


def _workflow():
    from ..workflows.visits import VISIT_WORKFLOW

    return VISIT_WORKFLOW


# ---------------------------------------------------------------------------
# Maintenance jobs and community events (the light trigger records)
# ---------------------------------------------------------------------------

class _ServiceAddMixin:
    """The add form calls ``create(actor, data)``; a refusal keeps the input, next to the fields."""

    def create(self, actor, data):  # pragma: no cover - each view sets its service
        raise NotImplementedError

    def _add(self):
        if request.method != "POST":
            return super()._add()
        form = self.add_form.refresh()
        if not form.validate():
            return self._get_add_widget(form=form)
        data = {}
        for name in self.add_columns:
            value = getattr(form, name).data
            if hasattr(value, "id"):
                data[f"{name}_id"] = value.id
            elif isinstance(value, datetime.datetime):
                # FAB's picker gives the local time the user typed; the service reads text as local.
                data[name] = value.strftime("%Y-%m-%d %H:%M:%S")
            elif value is None and name in ("assistant", "clerk"):
                data[f"{name}_id"] = None
            else:
                data[name] = value
        try:
            item = self.create(current_actor(), data)
        except DomainError as error:
            db.session.rollback()
            _flash(error)
            for key, text in (getattr(error, "errors", None) or {}).items():
                field = getattr(form, str(key).removesuffix("_id"), None)
                if field is not None:
                    field.errors = list(field.errors or []) + [str(text)]
            return self._get_add_widget(form=form)
        flash(_("Saved."), "success")
        g.created_record_id = item.id
        return None

    def post_add_redirect(self):
        created = getattr(g, "created_record_id", None)
        if created:
            return redirect(url_for(".show", pk=created))
        return super().post_add_redirect()


class MaintenanceJobView(_ServiceAddMixin, AppModelView):
    """维修工程: jobs of each responsibility area; completing one plans its visit (VIS-03)."""

    datamodel = SQLAInterface(MaintenanceJob)
    show_template = "visits/job_show.html"
    list_title = _l("Maintenance jobs")
    show_title = _l("Maintenance job")
    add_title = _l("Register a maintenance job")
    list_columns = ["number", "title", "area", "assistant", "customer_name", "completed_at"]
    show_columns = ["number", "title", "area", "assistant", "description", "customer_name",
                    "customer_phone", "address", "completed_at", "created_by", "created_at"]
    add_columns = ["title", "area", "assistant", "description", "customer_name",
                   "customer_phone", "address"]
    search_columns = ["number", "title", "area", "assistant", "completed_at", "customer_name"]
    base_order = ("created_at", "desc")
    label_columns = LABELS
    exclude_route_methods = {"edit", "delete"}
    add_form_query_rel_fields = {"assistant": [["roles", HoldsRole, "PropertyAssistant"]]}
    description_columns = {
        "area": _l("The responsibility area (责任区); its property assistant visits after completion."),
        "assistant": _l("Empty: the property assistant of the area."),
    }
    formatters_columns = {name: _blank for name in ("description", "customer_name",
                                                    "customer_phone", "address")}

    def create(self, actor, data):
        return service.create_maintenance_job(actor, data)

    @expose("/complete/<int:pk>", methods=["POST"])
    @has_access
    @permission_name("complete")
    def complete(self, pk):
        job = db.session.get(MaintenanceJob, pk)
        if job is None or not can_see(current_actor(), job):
            abort(404)
        try:
            service.complete_maintenance_job(pk, current_actor(), request.form.get("version"),
                                             completed_at=request.form.get("completed_at") or None)
        except RecordNotVisible:
            abort(404)
        except DomainError as error:
            db.session.rollback()
            _flash(error)
        else:
            flash(_("The job is completed; its return visit is planned."), "success")
        return redirect(url_for(".show", pk=pk))


class CommunityEventView(_ServiceAddMixin, AppModelView):
    """文体活动: events whose end calls for visits of participants (VIS-04)."""

    datamodel = SQLAInterface(CommunityEvent)
    list_title = _l("Community events")
    show_title = _l("Community event")
    add_title = _l("Register a community event")
    list_columns = ["title", "location", "ended_at", "clerk", "participants_count"]
    show_columns = ["title", "location", "ended_at", "clerk", "participants_count",
                    "description", "created_by", "created_at"]
    add_columns = ["title", "location", "ended_at", "clerk", "participants_count",
                   "description"]
    search_columns = ["title", "location", "ended_at", "clerk"]
    base_order = ("ended_at", "desc")
    label_columns = LABELS
    exclude_route_methods = {"edit", "delete"}
    add_form_query_rel_fields = {"clerk": [["roles", HoldsRole, "CultureClerk"]]}
    description_columns = {"clerk": _l("Empty: yourself, or the community culture clerk.")}
    formatters_columns = {name: _blank for name in ("location", "description")}

    def create(self, actor, data):
        return service.create_community_event(actor, data)


# ---------------------------------------------------------------------------
# Open letters (VIS-09)
# ---------------------------------------------------------------------------

def complaint_ids_from_numbers(text, actor):
    """The ids of the complaints typed as numbers (any separator); InvalidInput for unknown ones.

    Only complaints the actor may see are found: a number of a hidden one
    reads as unknown.
    """
    numbers = [part for part in re.split(r"[\s,;，；、]+", text or "") if part]
    numbers = list(dict.fromkeys(numbers))
    if not numbers:
        return []
    if len(numbers) > 500:
        raise InvalidInput(errors={"complaints": _("At most 500 complaints per letter.")})
    query = visible_query(db.session.query(Complaint.id, Complaint.number)
                          .filter(Complaint.number.in_(numbers)), Complaint, actor)
    found = {number: complaint_id for complaint_id, number in query}
    unknown = [number for number in numbers if number not in found]
    if unknown:
        raise InvalidInput(errors={"complaints": _("Unknown complaint numbers: %(numbers)s",
                                                   numbers=", ".join(unknown))})
    return [found[number] for number in numbers]


class OpenLetterView(AppModelView):
    """公开信: letters answering one issue of many residents, filed in the visit archive (VIS-09)."""

    datamodel = SQLAInterface(OpenLetter)
    show_attachments = True
    show_template = "visits/letter_show.html"
    list_title = _l("Open letters")
    show_title = _l("Open letter")
    list_columns = ["number", "subject", "issued_at", "issued_by"]
    show_columns = ["number", "subject", "body", "issued_at", "issued_by", "complaints"]
    search_columns = ["number", "subject", "issued_at", "issued_by"]
    base_order = ("issued_at", "desc")
    label_columns = LABELS
    exclude_route_methods = {"edit", "delete"}
    formatters_columns = {"complaints": lambda items: ", ".join(c.number for c in items or [])}

    @expose("/add", methods=["GET", "POST"])
    @has_access
    def add(self):
        values = {key: request.form.get(key) or "" for key in (
            "subject", "body", "issued_at", "complaint_numbers")}
        errors, general = {}, []
        if request.method == "POST":
            actor = current_actor()
            try:
                complaint_ids = complaint_ids_from_numbers(values["complaint_numbers"], actor)
                upload = request.files.get("file")
                data = {"subject": values["subject"].strip(), "body": values["body"].strip(),
                        "issued_at": values["issued_at"].strip() or None,
                        "file": upload if upload is not None and upload.filename else None}
                letter = service.issue_open_letter(actor, data, complaint_ids)
            except RecordNotVisible:
                abort(404)
            except DomainError as error:
                db.session.rollback()
                errors = field_errors(error)
                if "complaint_ids" in errors:
                    errors["complaints"] = errors.pop("complaint_ids")
                general = list(dict.fromkeys([str(error.message)] + [
                    f"{LABELS.get(key, key)}: {text}" for key, text in errors.items()
                    if key not in ("subject", "body", "issued_at", "complaints", "file")]))
            else:
                flash(_("Open letter %(number)s was filed and linked to %(count)s complaint(s).",
                        number=letter.number, count=len(complaint_ids)), "success")
                return redirect(url_for(".show", pk=letter.id))
        return self.render_template(
            "visits/letter_form.html", title=_("Issue an open letter"), values=values,
            errors=errors, general_errors=general, labels=LABELS), 422 if general else 200


# ---------------------------------------------------------------------------
# Monthly statistics (客户回访记录, VIS-10, VIS-13)
# ---------------------------------------------------------------------------

def _month_arg():
    from ..deadlines import local_today

    today = local_today()
    raw = (request.args.get("month") or "").strip()
    if not raw:
        return today.year, today.month
    match = re.match(r"^(\d{4})-(\d{1,2})$", raw)
    if not match or not (2000 <= int(match.group(1)) <= 2100 and 1 <= int(match.group(2)) <= 12):
        abort(400)
    return int(match.group(1)), int(match.group(2))


def _percent(value):
    return "—" if value is None else f"{value * 100:.1f}%"


class VisitStatisticsView(BaseView):
    """客户回访记录: per month and trigger, the rate achieved against its target, with CSV."""

    route_base = "/visit-statistics"
    default_view = "index"

    @expose("/")
    @has_access
    @permission_name("statistics")
    def index(self):
        year, month = _month_arg()
        stats = _statistics(year, month)
        previous = f"{year - (month == 1)}-{12 if month == 1 else month - 1:02d}"
        following = f"{year + (month == 12)}-{1 if month == 12 else month + 1:02d}"
        return self.render_template(
            "visits/statistics.html", title=_("Monthly visit statistics"), stats=stats,
            period=f"{year}-{month:02d}", previous=previous, following=following,
            percent=_percent, satisfaction_choices=VisitSatisfaction.choices())

    @expose("/export.csv")
    @has_access
    @permission_name("statistics")
    def export_csv(self):
        from ..exports.columns import neutralise
        from ..exports.csv import CONTENT_TYPE, csv_chunks

        year, month = _month_arg()
        period = f"{year}-{month:02d}"
        rows = ([period, neutralise(section), neutralise(str(item)), value]
                for section, item, value in service.statistics_rows(_statistics(year, month)))
        header = [_("Month"), _("Section"), _("Item"), _("Value")]
        body = b"".join(chunk if isinstance(chunk, bytes) else chunk.encode("utf-8")
                        for chunk in csv_chunks(header, rows, 1000))
        response = Response(body, content_type=CONTENT_TYPE)
        response.headers["Content-Disposition"] = (
            f'attachment; filename="visit-statistics-{period}.csv"')
        response.headers["Cache-Control"] = "no-store"
        return response


def _statistics(year, month):
    """The month's figures for leadership (VIS-13): the whole organisation.

    The page only shows counts and rates, never a visit, and its permission
    is given to the supervisor and to leadership alone; a viewer filter would
    leave the director, who sees no single visit, with empty figures.
    """
    return service.monthly_statistics(year, month)


# ---------------------------------------------------------------------------
# REST resources
# ---------------------------------------------------------------------------

def _json_body(api):
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return None, api.response(422, message=_("A JSON object is expected."))
    return body, None


def _visit_json(visit):
    return {"id": visit.id, "number": visit.number, "status": visit.status,
            "version": visit.version}


class ReturnVisitApi(WorkflowApiMixin, AppModelApi):
    """``/api/v1/return_visit``: list, get, plan (POST), record, and the workflow steps.

    ``POST /<pk>/actions/review`` (``opinion``), ``.../cancel`` (``reason`` or
    ``comment``) and ``POST /<pk>/record`` call the visit services, so the
    API cannot skip a rule the web form obeys.
    """

    resource_name = "return_visit"
    datamodel = SQLAInterface(ReturnVisit)
    list_columns = ["id", "number", "trigger", "complaint.id", "complaint.number",
                    "maintenance_job.id", "community_event.id", "customer_name", "sequence",
                    "visitor.id", "visitor.username", "due_at", "status", "mode", "visited_at",
                    "satisfaction", "needs_another_visit", "next_visit_at", "reviewed_at",
                    "version"]
    show_columns = list_columns + [
        "customer_phone", "address", "previous_visit.id", "planned_by.id", "plan_note",
        "summary", "signer_name", "recorded_by.id", "review_opinion", "reviewed_by.id",
        "reviewed_by.username", "cancel_reason"]
    add_columns = edit_columns = ["customer_name"]  # the services read the JSON body themselves
    search_columns = ["number", "status", "trigger", "visitor", "due_at", "mode", "satisfaction",
                      "visited_at", "complaint"]
    order_columns = ["number", "due_at", "visited_at", "status", "trigger"]
    base_order = ("due_at", "asc")
    exclude_route_methods = {"delete", "put"}

    @property
    def workflow(self):
        return _workflow()

    def post_headless(self):
        body, refusal = _json_body(self)
        if refusal:
            return refusal
        try:
            visit = service.plan_visit(current_actor(), body)
        except DomainError as error:
            db.session.rollback()
            return domain_error_response(self, error)
        return self.response(201, **_visit_json(visit))

    @expose("/<int:pk>/record", methods=["POST"])
    @protect()
    @safe
    @permission_name("record")
    def record(self, pk):
        """Record a planned visit
        ---
        post:
          parameters:
          - in: path
            schema:
              type: integer
            name: pk
          requestBody:
            required: true
            content:
              application/json:
                schema:
                  type: object
                  properties:
                    version: {type: integer}
                    mode: {type: string, enum: [on_site, phone]}
                    visited_at: {type: string}
                    satisfaction: {type: string}
                    summary: {type: string}
                    signer_name: {type: string}
                    signature_png: {type: string, description: "data:image/png;base64,... or base64"}
                    needs_another_visit: {type: boolean}
                    next_visit_at: {type: string}
                    rectification: {type: object}
                    issues: {type: array, items: {type: object}}
                  required: [version, mode]
          responses:
            200:
              description: The visit was recorded
            403:
              description: Refused (not the visitor, the respondent...)
            404:
              $ref: '#/components/responses/404'
            409:
              description: The visit changed since the given version
            422:
              description: Bad input; field errors
        """
        body, refusal = _json_body(self)
        if refusal:
            return refusal
        try:
            raw = body.get("signature_png")
            if raw and not str(raw).startswith("data:"):
                raw = DATA_URL_PREFIX + str(raw)
            signature = decode_signature(raw) if body.get("mode") != VisitMode.PHONE else None
            data = {key: body.get(key) for key in (
                "mode", "visited_at", "satisfaction", "summary", "signer_name",
                "needs_another_visit", "next_visit_at", "rectification")}
            data["needs_another_visit"] = bool(data["needs_another_visit"])
            issues = body.get("issues") or []
            if not isinstance(issues, list) or not all(isinstance(i, dict) for i in issues):
                raise InvalidInput(errors={"issues": _("A list of issues is expected.")})
            visit = service.record_visit(pk, current_actor(), body.get("version"), data,
                                         issues=issues, signature_png=signature)
        except DomainError as error:
            db.session.rollback()
            return domain_error_response(self, error)
        return self.response(200, **_visit_json(visit))

    @expose("/propose", methods=["POST"])
    @protect()
    @safe
    @permission_name("propose")
    def propose(self):
        """Plan the visits the triggers call for
        ---
        post:
          responses:
            200:
              description: How many visits were planned
        """
        try:
            created = service.propose_visits(current_actor())
        except DomainError as error:
            db.session.rollback()
            return domain_error_response(self, error)
        return self.response(200, created=created)

    @expose("/<int:pk>/reschedule", methods=["POST"])
    @protect()
    @safe
    @permission_name("plan")
    def reschedule(self, pk):
        """Move a planned visit or give it to another visitor
        ---
        post:
          parameters:
          - in: path
            schema:
              type: integer
            name: pk
          responses:
            200:
              description: The visit's new state
        """
        body, refusal = _json_body(self)
        if refusal:
            return refusal
        try:
            visit = service.reschedule_visit(pk, current_actor(), body.get("version"),
                                             body.get("due_at"), visitor_id=body.get("visitor_id"))
        except DomainError as error:
            db.session.rollback()
            return domain_error_response(self, error)
        return self.response(200, **_visit_json(visit))

    @expose("/<int:pk>/actions/<string:action>", methods=["POST"])
    @protect()
    @safe
    @permission_name("transition")
    def perform_action(self, pk, action):
        """Take one workflow step: review (``opinion``) and cancel (``reason``) through their services
        ---
        post:
          parameters:
          - in: path
            schema:
              type: integer
            name: pk
          - in: path
            schema:
              type: string
            name: action
          requestBody:
            required: true
            content:
              application/json:
                schema:
                  type: object
                  properties:
                    version: {type: integer}
                    opinion: {type: string}
                    reason: {type: string}
                    comment: {type: string}
                  required: [version]
          responses:
            200:
              description: The step was taken; the new state
            403:
              description: The step was refused; the reason
            404:
              $ref: '#/components/responses/404'
            409:
              description: The record changed since the given version
            422:
              description: Bad input
        """
        body, refusal = _json_body(self)
        if refusal:
            return refusal
        actor = current_actor()
        calls = {
            "review": lambda: service.review_visit(pk, actor, body.get("version"),
                                                   body.get("opinion") or body.get("comment")),
            "cancel": lambda: service.cancel_visit(pk, actor, body.get("version"),
                                                   body.get("reason") or body.get("comment")),
        }
        if action == "record":
            return self.response(422, message=_(
                "A visit is recorded with POST /api/v1/return_visit/<id>/record."))
        try:
            if action in calls:
                visit = calls[action]()
            else:
                from ..services.workflow import take_step

                payload = {k: v for k, v in body.items() if k not in ("version", "comment")}
                visit = take_step(self.workflow, pk, action, actor, version=body.get("version"),
                                  comment=body.get("comment"), payload=payload)
        except DomainError as error:
            db.session.rollback()
            return domain_error_response(self, error)
        from .workflow import _describe

        return self.response(200, **_describe(self.workflow, visit, actor))


class MaintenanceJobApi(AppModelApi):
    """``/api/v1/maintenance_job``: list, get, register (POST) and complete."""

    resource_name = "maintenance_job"
    datamodel = SQLAInterface(MaintenanceJob)
    list_columns = show_columns = ["id", "number", "title", "area", "assistant.id",
                                   "assistant.username", "description", "customer_name",
                                   "customer_phone", "address", "completed_at", "version"]
    add_columns = edit_columns = ["title"]
    search_columns = ["number", "title", "area", "assistant", "completed_at"]
    base_order = ("created_at", "desc")
    exclude_route_methods = {"delete", "put"}

    def post_headless(self):
        body, refusal = _json_body(self)
        if refusal:
            return refusal
        try:
            job = service.create_maintenance_job(current_actor(), body)
        except DomainError as error:
            db.session.rollback()
            return domain_error_response(self, error)
        return self.response(201, id=job.id, number=job.number, version=job.version)

    @expose("/<int:pk>/complete", methods=["POST"])
    @protect()
    @safe
    @permission_name("complete")
    def complete(self, pk):
        """Mark a maintenance job completed (its visit is planned)
        ---
        post:
          parameters:
          - in: path
            schema:
              type: integer
            name: pk
          responses:
            200:
              description: The job, completed
        """
        body, refusal = _json_body(self)
        if refusal:
            return refusal
        try:
            job = service.complete_maintenance_job(pk, current_actor(), body.get("version"),
                                                   completed_at=body.get("completed_at"))
        except DomainError as error:
            db.session.rollback()
            return domain_error_response(self, error)
        return self.response(200, id=job.id, number=job.number, version=job.version,
                             completed_at=job.completed_at.isoformat() if job.completed_at else None)


class CommunityEventApi(AppModelApi):
    """``/api/v1/community_event``: list, get and register (POST)."""

    resource_name = "community_event"
    datamodel = SQLAInterface(CommunityEvent)
    list_columns = show_columns = ["id", "title", "location", "ended_at", "clerk.id",
                                   "clerk.username", "participants_count", "description",
                                   "version"]
    add_columns = edit_columns = ["title"]
    search_columns = ["title", "location", "ended_at", "clerk"]
    base_order = ("ended_at", "desc")
    exclude_route_methods = {"delete", "put"}

    def post_headless(self):
        body, refusal = _json_body(self)
        if refusal:
            return refusal
        try:
            event = service.create_community_event(current_actor(), body)
        except DomainError as error:
            db.session.rollback()
            return domain_error_response(self, error)
        return self.response(201, id=event.id, title=event.title, version=event.version)


class OpenLetterApi(AppModelApi):
    """``/api/v1/open_letter``: list, get and issue (POST with ``complaint_ids`` or ``complaint_numbers``)."""

    resource_name = "open_letter"
    datamodel = SQLAInterface(OpenLetter)
    list_columns = show_columns = ["id", "number", "subject", "body", "issued_at",
                                   "issued_by.id", "issued_by.username", "complaints.id",
                                   "complaints.number"]
    add_columns = edit_columns = ["subject"]
    search_columns = ["number", "subject", "issued_at"]
    base_order = ("issued_at", "desc")
    exclude_route_methods = {"delete", "put"}

    def post_headless(self):
        body, refusal = _json_body(self)
        if refusal:
            return refusal
        actor = current_actor()
        try:
            ids = body.get("complaint_ids")
            if ids is None:
                numbers = body.get("complaint_numbers") or []
                text = " ".join(numbers) if isinstance(numbers, list) else str(numbers)
                ids = complaint_ids_from_numbers(text, actor)
            elif not isinstance(ids, list):
                raise InvalidInput(errors={"complaint_ids": _("A list of ids is expected.")})
            data = {key: body.get(key) for key in ("subject", "body", "issued_at")}
            letter = service.issue_open_letter(actor, data, ids)
        except DomainError as error:
            db.session.rollback()
            return domain_error_response(self, error)
        return self.response(201, id=letter.id, number=letter.number,
                             complaint_ids=[c.id for c in letter.complaints])


# ---------------------------------------------------------------------------
# Registration
# ---------------------------------------------------------------------------

CATEGORY = "Return visits"


def register_visits_views(appbuilder):
    """Add the return-visit views, APIs and menu entries."""
    current_app.jinja_env.globals.update(visit_panel=visit_panel, visit_letter=letter_panel,
                                         visit_job=job_panel)
    menu = dict(category=CATEGORY, category_label=_l("Return visits"),
                category_icon="fa-phone-square")
    appbuilder.add_view(ReturnVisitView, "Visit plan", label=_l("Visit plan"),
                        icon="fa-calendar", **menu)
    appbuilder.add_view(VisitRecordView, "Visit records", label=_l("Visit records"),
                        icon="fa-file-text-o", **menu)
    appbuilder.add_view(PendingReviewView, "Pending review", label=_l("Pending review"),
                        icon="fa-pencil-square-o", **menu)
    appbuilder.add_link("Plan a visit", label=_l("Plan a visit"), href="/returnvisitview/plan",
                        icon="fa-plus", **menu)
    appbuilder.add_view(MaintenanceJobView, "Maintenance jobs", label=_l("Maintenance jobs"),
                        icon="fa-wrench", **menu)
    appbuilder.add_view(CommunityEventView, "Community events", label=_l("Community events"),
                        icon="fa-users", **menu)
    appbuilder.add_view(OpenLetterView, "Open letters", label=_l("Open letters"),
                        icon="fa-envelope-open-o", **menu)
    appbuilder.add_view(VisitStatisticsView, "Visit statistics", label=_l("Visit statistics"),
                        icon="fa-bar-chart", **menu)
    for api in (ReturnVisitApi, MaintenanceJobApi, CommunityEventApi, OpenLetterApi):
        appbuilder.add_api(api)
