"""Complaints and feedback (投诉及意见反馈, CMP-01 to CMP-18): screens and REST resources.

Every form here calls one service of ``app/services/complaints.py`` and
turns its refusal into a flash (web) or a status (API).
"""
import datetime

from flask import Response, abort, flash, g, redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.fieldwidgets import BS3TextFieldWidget
from flask_appbuilder.models.filters import BaseFilter
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_appbuilder.security.decorators import has_access, permission_name
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam
from wtforms import BooleanField, SelectField, StringField

from ..audit.context import current_actor
from ..extensions import db
from ..models.base import utcnow
from ..models.complaints import (
    Complaint, ComplaintChannel, ComplaintKind, ComplaintOutcome, ComplaintSeverity,
    ComplaintStatus, ContactMode, MeetingKind, ReplyMode, Satisfaction, SurveyParty,
)
from ..services import complaints as service
from ..services.errors import DomainError, RecordNotVisible
from ..workflows.complaints import COMPLAINT_WORKFLOW
from .base import AppModelApi, AppModelView, VersionedFormMixin
from .workflow import WorkflowApiMixin, WorkflowViewMixin

LABELS = {
    "number": _l("Number"), "kind": _l("Kind"), "channel": _l("Channel"),
    "received_at": _l("Received at"), "register_number": _l("Incoming-document register no."),
    "anonymous": _l("Anonymous"), "complainant_name": _l("Complainant"),
    "complainant_phone": _l("Contact phone"), "complainant_address": _l("Contact address"),
    "respondent_user": _l("Respondent (staff)"), "respondent_department": _l("Respondent department"),
    "subject": _l("Subject"), "description": _l("Description"), "severity": _l("Severity"),
    "principle_issue": _l("Principle issue"),
    "reply_letter_only": _l("Superior body asks only for a reply letter"),
    "paper_location": _l("Paper originals kept at"), "officer": _l("Designated officer"),
    "partner": _l("Partner in charge"), "opinion": _l("Written opinion"),
    "decision": _l("Decision"), "outcome": _l("Outcome"), "decided_at": _l("Decided at"),
    "implementation": _l("Implementation"), "escalated_at": _l("Escalated at"),
    "escalated_to": _l("Escalated to"), "escalation_reason": _l("Reason for escalation"),
    "promised_reply_date": _l("Promised reply date"), "replied_at": _l("Replied at"),
    "closed_at": _l("Closed at"), "archived_at": _l("Archived at"),
    "case_file_number": _l("Case-file number"), "master": _l("Duplicate of"),
    "status": _l("Status"), "version": _l("Version"), "created_at": _l("Created at"),
    "updated_at": _l("Updated at"), "created_by": _l("Registered by"),
    "updated_by": _l("Updated by"), "duplicate_of": _l("Duplicate of (number)"),
}


class HoldsRole(BaseFilter):
    """Related-field filter: active users holding the role named by the value."""

    name = "Holds role"
    arg_name = "holds_role"

    def apply(self, query, value):
        from flask_appbuilder.security.sqla.models import Role, User

        return query.filter(User.active.is_(True), User.roles.any(Role.name == value))


ASSIGNEES = {"officer": [["roles", HoldsRole, "ComplaintOfficer"]],
             "partner": [["roles", HoldsRole, "Partner"]]}


# Optional check boxes (FAB would make a NOT NULL boolean "required", i.e. always ticked).
FLAGS = ("anonymous", "principle_issue", "reply_letter_only")


class OverdueFilter(BaseFilter):
    """Open complaints whose promised reply date has passed (CMP-16)."""

    name = _l("Overdue (promised reply date passed)")
    arg_name = "overdue"

    def apply(self, query, value):
        from ..deadlines import local_today

        if str(value or "").strip().lower() in ("", "0", "n", "no", "false"):
            return query
        # The statuses as literals: the planner then sees they match the partial
        # index of open cases (a bound parameter would hide it on SQLite).
        open_statuses = bindparam("open_statuses", ComplaintStatus.OPEN, expanding=True,
                                  literal_execute=True)
        return query.filter(Complaint.promised_reply_date < local_today(),
                            Complaint.status.in_(open_statuses))


def _plain_formatters(model):
    """Yes/No for check boxes and blank for empty text on the record page."""
    from sqlalchemy import Boolean, inspect

    formatters = {}
    for column in inspect(model).columns:
        if isinstance(column.type, Boolean):
            formatters[column.key] = lambda value: _("Yes") if value else _("No")
        elif not column.info.get("choices"):
            formatters[column.key] = lambda value: "" if value is None else value
    return formatters


def _select(choices, label, default=None):
    from flask_appbuilder.fieldwidgets import Select2Widget

    return SelectField(label, choices=choices.choices(), default=default, widget=Select2Widget())


def _flash(error):
    messages = [str(error.message)]
    messages += [f"{LABELS.get(key.removesuffix('_id'), key)}: {text}"
                 for key, text in (getattr(error, "errors", None) or {}).items()]
    for message in dict.fromkeys(messages):
        flash(message, "danger")


class ComplaintView(WorkflowViewMixin, VersionedFormMixin, AppModelView):
    """The ledger (台帐) of complaints and feedback, the registration form and each case's page."""

    datamodel = SQLAInterface(Complaint)
    workflow = COMPLAINT_WORKFLOW
    show_attachments = True  # CMP-04: originals and paper-original locations
    audit_exports = True  # CMP-12: a confidential list
    show_template = "complaints/show.html"
    list_title = _l("Complaints and feedback")
    show_title = _l("Complaint")
    add_title = _l("Register a complaint or feedback")
    edit_title = _l("Correct a complaint")
    list_columns = ["number", "kind", "channel", "severity", "subject", "respondent_department",
                    "received_at", "promised_reply_date", "status"]
    show_fieldsets = [
        (_l("Registration"), {"fields": [
            "number", "kind", "channel", "received_at", "register_number", "status", "master",
            "created_by"]}),
        (_l("Complainant and respondent"), {"fields": [
            "anonymous", "complainant_name", "complainant_phone", "complainant_address",
            "respondent_user", "respondent_department"]}),
        (_l("The complaint"), {"fields": [
            "subject", "description", "severity", "principle_issue", "reply_letter_only",
            "paper_location"]}),
        (_l("Handling"), {"fields": [
            "officer", "partner", "opinion", "decision", "outcome", "decided_at",
            "implementation", "escalated_at", "escalated_to", "escalation_reason",
            "promised_reply_date", "replied_at", "closed_at", "archived_at", "case_file_number"]}),
    ]
    add_columns = ["kind", "channel", "register_number", "anonymous",
                   "complainant_name", "complainant_phone", "complainant_address",
                   "respondent_user", "respondent_department", "subject", "description",
                   "severity", "principle_issue", "reply_letter_only", "paper_location",
                   "officer", "partner", "duplicate_of"]
    edit_columns = ["register_number", "anonymous", "complainant_name", "complainant_phone",
                    "complainant_address", "respondent_user", "respondent_department",
                    "subject", "description", "severity", "principle_issue",
                    "reply_letter_only", "paper_location", "officer", "partner"]
    search_columns = ["number", "kind", "channel", "severity", "status", "respondent_department",
                      "received_at", "promised_reply_date", "subject", "complainant_name",
                      "complainant_phone", "principle_issue", "officer", "outcome", "closed_at"]
    base_order = ("received_at", "desc")
    label_columns = LABELS
    add_form_extra_fields = {
        "kind": _select(ComplaintKind, _l("Kind"), ComplaintKind.COMPLAINT),
        "channel": _select(ComplaintChannel, _l("Channel"), ComplaintChannel.PHONE),
        "severity": _select(ComplaintSeverity, _l("Severity"), ComplaintSeverity.GENERAL),
        **{flag: BooleanField(LABELS[flag]) for flag in FLAGS},
        "duplicate_of": StringField(_l("Duplicate of (number)"), widget=BS3TextFieldWidget(),
                                    description=_l(
            "Optional: the number of the master record when this is the same issue "
            "complained about again (CMP-17).")),
    }
    edit_form_extra_fields = {
        **VersionedFormMixin.edit_form_extra_fields,
        "severity": _select(ComplaintSeverity, _l("Severity")),
        **{flag: BooleanField(LABELS[flag]) for flag in FLAGS},
    }
    add_form_query_rel_fields = edit_form_query_rel_fields = ASSIGNEES
    description_columns = {
        "register_number": _l("Written complaints: the number in the incoming-document "
                              "register (收文登记簿)."),
        "officer": _l("Empty: the first designated officer who is not recused."),
        "partner": _l("Empty: the first partner who is not recused."),
    }

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.formatters_columns = {**_plain_formatters(Complaint), **self.formatters_columns}
        self._filters = self.datamodel.get_filters(
            self.search_columns,
            search_filters={"promised_reply_date": [OverdueFilter("promised_reply_date",
                                                                  self.datamodel)]})

    # -- registration through the form: one transaction, input kept on refusal --

    def _add(self):
        if request.method != "POST":
            return super()._add()
        form = self.add_form.refresh()
        if not form.validate():
            return self._get_add_widget(form=form)
        self.process_form(form, True)
        item = self.datamodel.obj()
        form.populate_obj(item)
        actor = current_actor()
        master = (request.form.get("duplicate_of") or "").strip() or None
        try:
            service.register_filled_complaint(item, actor, master=master)
        except DomainError as error:
            _flash(error)
            for key, text in (getattr(error, "errors", None) or {}).items():
                field = getattr(form, key.removesuffix("_id"), None) or getattr(form, key, None)
                if field is not None:
                    field.errors = list(field.errors or []) + [str(text)]
            return self._get_add_widget(form=form)
        g.new_complaint_id = item.id
        flash(_("Registered as %(number)s.", number=item.number), "success")
        duplicates = service.possible_duplicates(actor, item.complainant_phone, item.subject,
                                                 exclude_id=item.id)
        if duplicates and not master:
            flash(_("Possible duplicates (same contact or subject recently): %(numbers)s. "
                    "Link the record on its page if it is the same issue.",
                    numbers=", ".join(d.number for d in duplicates)), "warning")
        return None

    def post_add_redirect(self):
        new_id = getattr(g, "new_complaint_id", None)
        if new_id:
            return redirect(url_for(".show", pk=new_id))
        return super().post_add_redirect()

    def check_update(self, item):
        service.check_update(item, current_actor())

    @expose("/edit/<pk>", methods=["GET", "POST"])
    @has_access
    def edit(self, pk):
        record = db.session.get(Complaint, int(pk)) if str(pk).isdigit() else None
        if record is not None and request.method == "GET":
            try:
                service.check_editable(record, current_actor())
            except RecordNotVisible:
                abort(404)
            except DomainError as error:
                _flash(error)
                return redirect(url_for(".show", pk=pk))
        return super().edit(pk)

    # -- forms on the record page (one service each) --

    def _record_form(self, pk, call, success):
        try:
            call()
        except RecordNotVisible:
            abort(404)
        except DomainError as error:
            _flash(error)
        else:
            flash(success, "success")
        return redirect(url_for(".show", pk=pk) + "#complaint-work")

    @expose("/contact/<int:pk>", methods=["POST"])
    @has_access
    @permission_name("record")
    def contact(self, pk):
        form = request.form
        return self._record_form(pk, lambda: service.add_contact(
            pk, current_actor(), form.get("summary"), mode=form.get("mode"),
            contacted_at=form.get("contacted_at"), is_commitment=form.get("is_commitment")),
            _("The contact was logged."))

    @expose("/finding/<int:pk>", methods=["POST"])
    @has_access
    @permission_name("record")
    def finding(self, pk):
        form = request.form
        return self._record_form(pk, lambda: service.add_finding(
            pk, current_actor(), form.get("facts"), materials=form.get("materials"),
            verified=form.get("verified")), _("The findings were recorded."))

    @expose("/survey/<int:pk>", methods=["POST"])
    @has_access
    @permission_name("record")
    def survey(self, pk):
        form = request.form
        return self._record_form(pk, lambda: service.record_survey(
            pk, current_actor(), form.get("party"), form.get("satisfaction"),
            comment=form.get("comment")), _("The survey was recorded."))

    @expose("/escalate/<int:pk>", methods=["POST"])
    @has_access
    @permission_name("record")
    def escalate(self, pk):
        form = request.form
        return self._record_form(pk, lambda: service.escalate(
            pk, current_actor(), form.get("version"), form.get("reason"),
            form.get("promised_reply_date"), escalated_to_id=form.get("escalated_to_id")),
            _("The complaint was escalated; the promised reply date is tracked."))

    @expose("/conflict/<int:pk>", methods=["POST"])
    @has_access
    @permission_name("record")
    def conflict(self, pk):
        form = request.form
        if form.get("lift"):
            return self._record_form(pk, lambda: service.lift_conflict(
                pk, current_actor(), int(form.get("lift"))), _("The mark was lifted."))
        return self._record_form(pk, lambda: service.mark_conflicted(
            pk, current_actor(), form.get("user_id"), reason=form.get("reason")),
            _("The person is marked as recused from this complaint."))

    @expose("/print/<int:pk>")
    @has_access
    @permission_name("show")
    def print_form(self, pk):
        """The registration form (投诉处理登记表) laid out like the paper form."""
        from .forms import form_page

        return form_page("complaint", pk)

    @expose("/letter/<int:pk>")
    @has_access
    @permission_name("show")
    def reply_letter(self, pk):
        """A reply letter (回复函) generated from the latest reply, to print, sign and attach."""
        try:
            complaint = service.get_complaint(pk, current_actor())
        except RecordNotVisible:
            abort(404)
        replies = service.children(complaint)["replies"]
        if not replies:
            flash(_("The complaint has not been replied to yet."), "warning")
            return redirect(url_for(".show", pk=pk))
        return self.render_template("complaints/letter.html", complaint=complaint,
                                    reply=replies[-1], printed_at=utcnow())


def complaint_panel(view, pk):
    """What the complaint page shows besides the fields: work forms, children, timeline."""
    from flask_login import current_user

    from ..models.org import user_display_name
    from ..security.visibility import can_see, is_admin
    from ..services.workflow import allowed_steps

    complaint = db.session.get(Complaint, pk)
    if complaint is None or not can_see(current_user, complaint):
        return None
    security = view.appbuilder.sm
    roles = {role.name for role in current_user.roles}
    steps = {t.name: t for t in allowed_steps(COMPLAINT_WORKFLOW, complaint, current_user)}
    may_record = security.has_access("can_record", "ComplaintView")
    open_case = complaint.status not in (ComplaintStatus.ARCHIVED, ComplaintStatus.MERGED)
    from ..services.org import users_with_role

    escalation_targets = []
    if complaint.severity == ComplaintSeverity.MAJOR and complaint.escalated_at is None:
        excluded = service.conflicted_user_ids(complaint)
        for role in sorted(service.ESCALATION_TARGET_ROLES):
            escalation_targets += [u for u in users_with_role(role) if u.id not in excluded]
    return {
        "complaint": complaint,
        "steps": steps,
        "state_label": ComplaintStatus.label(complaint.status),
        "status_label": ComplaintStatus.label,
        "state_colour": ComplaintStatus.colour(complaint.status),
        "parts": service.children(complaint),
        "timeline": service.timeline(complaint),
        "duplicates": service.possible_duplicates(
            current_user, complaint.complainant_phone, complaint.subject,
            exclude_id=complaint.id) if "link_duplicate" in steps else [],
        "can_contact": may_record and open_case and bool(roles & service.CONTACT_ROLES),
        "can_find": may_record and open_case and bool(roles & service.FINDING_ROLES)
        and complaint.status != ComplaintStatus.CLOSED,
        "can_survey": may_record and bool(roles & service.SURVEY_ROLES)
        and complaint.status in (ComplaintStatus.REPLIED, ComplaintStatus.CLOSED),
        "can_escalate": may_record and bool(roles & service.ESCALATION_ROLES)
        and complaint.status in ComplaintStatus.OPEN and bool(escalation_targets),
        "escalation_targets": escalation_targets,
        "can_conflict": is_admin(current_user),
        "before_decision": complaint.status in ComplaintStatus.BEFORE_DECISION,
        "user_display_name": user_display_name,
        "choices": {
            "contact": ContactMode, "meeting": MeetingKind, "outcome": ComplaintOutcome,
            "reply": ReplyMode, "party": SurveyParty, "satisfaction": Satisfaction,
        },
        # current_user is a proxy: query the class of the user it stands for.
        "staff": db.session.query(type(current_user._get_current_object())).filter_by(
            active=True).order_by(type(current_user._get_current_object()).username).all()
        if is_admin(current_user) else [],
        "written_only": complaint.channel == ComplaintChannel.WRITTEN,
        "today": datetime.date.today().isoformat(),
    }


# ---------------------------------------------------------------------------
# Monthly summary (CMP-18) and "complaints about me" (CMP-05)
# ---------------------------------------------------------------------------

def _month_args():
    from ..deadlines import local_today

    today = local_today()
    try:
        year = int(request.args.get("year", today.year))
        month = int(request.args.get("month", today.month))
        if not (2000 <= year <= 2100 and 1 <= month <= 12):
            raise ValueError
    except ValueError:
        abort(400)
    return year, month


class ComplaintSummaryView(BaseView):
    """每月汇总 (CMP-18): by channel, severity, department, outcome and time to close."""

    route_base = "/complaintsummary"
    default_view = "summary"

    @expose("/")
    @has_access
    @permission_name("summary")
    def summary(self):
        year, month = _month_args()
        data = service.monthly_summary(current_actor(), year, month)
        previous = (year - (month == 1), 12 if month == 1 else month - 1)
        following = (year + (month == 12), 1 if month == 12 else month + 1)
        return self.render_template(
            "complaints/summary.html", summary=data, sections=service.SUMMARY_SECTIONS,
            previous=previous, following=following, title=_("Monthly summary of complaints"))

    @expose("/export.csv")
    @has_access
    @permission_name("summary")
    def summary_csv(self):
        year, month = _month_args()
        data = service.monthly_summary(current_actor(), year, month)
        from ..exports.columns import neutralise
        from ..exports.csv import CONTENT_TYPE, csv_chunks

        header = [_("Section"), _("Item"), _("Count")]
        rows = ([neutralise(section), neutralise(str(item)), value]
                for section, item, value in service.summary_rows(data))
        body = b"".join(csv_chunks(header, rows, 1000))
        response = Response(body, content_type=CONTENT_TYPE)
        response.headers["Content-Disposition"] = (
            f'attachment; filename="complaint-summary-{year}-{month:02d}.csv"')
        response.headers["Cache-Control"] = "no-store"
        return response


class ComplaintStatusView(BaseView):
    """Complaints about me (CMP-05): the respondent sees only each case's number and status."""

    route_base = "/complaintstatus"
    default_view = "mine"

    @expose("/")
    @has_access
    @permission_name("mine")
    def mine(self):
        return self.render_template(
            "complaints/mine.html", rows=service.complaints_concerning(current_actor()),
            title=_("Complaints about me"))


# ---------------------------------------------------------------------------
# REST
# ---------------------------------------------------------------------------

class ComplaintApi(WorkflowApiMixin, AppModelApi):
    """``/api/v1/complaint``: list, get, register (POST) and correct (PUT) within the rules."""

    resource_name = "complaint"
    datamodel = SQLAInterface(Complaint)
    workflow = COMPLAINT_WORKFLOW
    audit_exports = True
    list_columns = ["id", "number", "kind", "channel", "severity", "principle_issue",
                    "reply_letter_only", "anonymous", "subject", "respondent_department.id",
                    "respondent_department.name", "received_at", "promised_reply_date",
                    "status", "outcome", "master.number", "version"]
    show_columns = list_columns + [
        "register_number", "complainant_name", "complainant_phone", "complainant_address",
        "respondent_user.id", "respondent_user.username", "description", "paper_location",
        "officer.id", "officer.username", "partner.id", "partner.username", "opinion",
        "decision", "decided_at", "implementation", "escalated_at", "escalation_reason",
        "replied_at", "closed_at", "archived_at", "case_file_number"]
    add_columns = edit_columns = ["subject"]  # the services read the JSON body themselves
    search_columns = ["number", "kind", "channel", "severity", "status", "received_at",
                      "respondent_department", "subject", "outcome"]
    base_order = ("received_at", "desc")

    def post_headless(self):
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            return self.response(422, message=_("A JSON object is expected."))
        try:
            complaint = service.register_complaint(current_actor(), body,
                                                   master=body.get("master"))
        except DomainError as error:
            return self._refusal(error)
        return self.response(201, id=complaint.id, number=complaint.number,
                             status=complaint.status, version=complaint.version)

    def put_headless(self, pk):
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            return self.response(422, message=_("A JSON object is expected."))
        try:
            complaint = service.update_complaint(pk, current_actor(), body.get("version"), body)
        except DomainError as error:
            return self._refusal(error)
        return self.response(200, id=complaint.id, number=complaint.number,
                             status=complaint.status, version=complaint.version)

    def _refusal(self, error):
        extra = {"errors": {k: str(v) for k, v in error.errors.items()}} \
            if getattr(error, "errors", None) else {}
        return self.response(error.status, message=str(error.message), **extra)


def register_complaints_views(appbuilder):
    """Add this module's views, APIs and menu entries."""
    from flask import current_app

    category = dict(category="Complaints", category_label=_l("Complaints"),
                    category_icon="fa-comments")
    appbuilder.add_view(ComplaintView, "Complaint list", label=_l("Complaints and feedback"),
                        icon="fa-list", **category)
    appbuilder.add_link("Register complaint", label=_l("Register a complaint"),
                        href="/complaintview/add", icon="fa-plus", **category)
    appbuilder.add_view(ComplaintSummaryView, "Monthly summary", label=_l("Monthly summary"),
                        icon="fa-bar-chart", **category)
    appbuilder.add_view(ComplaintStatusView, "Complaints about me",
                        label=_l("Complaints about me"), icon="fa-user-secret", **category)
    appbuilder.add_api(ComplaintApi)
    current_app.jinja_env.globals["complaint_panel"] = complaint_panel
