"""Customer electrical projects (客户工程/业扩报装, ENG-01 to ENG-17): screens and REST resources.

Every action calls one service in ``app/services/projects.py``; the views only
declare columns, filters and forms and turn a DomainError into a flash (web)
or an HTTP status (API).
"""
import datetime

from flask import flash, redirect, request, url_for
from flask_appbuilder import expose
from flask_appbuilder.api import safe
from flask_appbuilder.models.filters import BaseFilter
from flask_appbuilder.models.sqla.filters import FilterEqual, FilterInFunction
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_appbuilder.security.decorators import has_access, permission_name, protect
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import BooleanField, SelectField
from wtforms.widgets import Select

from ..audit.context import current_actor
from ..extensions import db
from ..models.projects import (
    ApplicationKind, BackupScheme, CapacityUnit, ChangeSubject, CHECK_AREAS, CheckResult,
    ConstructionChange, ConstructionRecord, DesignReview, EquipmentOrder, LoadClass, LoadNature,
    Manufacturer, MeteringMethod, MidInspection, PlanChange, PowerApplication, Stage,
    SupplyMode, SupplyPlan, VoltageLevel,
)
from ..security.visibility import can_see
from ..services import projects as svc
from ..services.errors import DomainError, RecordNotVisible
from ..workflows.projects import (
    CHANGE_WORKFLOW, INSPECTION_WORKFLOW, ORDER_WORKFLOW, PLAN_CHANGE_WORKFLOW, PLAN_WORKFLOW,
    PROJECT_WORKFLOW, REVIEW_WORKFLOW,
)
from .base import AppModelApi, AppModelView, VersionedFormMixin, domain_error_response, visible_rows
from .workflow import WorkflowApiMixin, WorkflowViewMixin

COMMON_LABELS = {
    "created_at": _l("Created at"), "updated_at": _l("Updated at"),
    "created_by": _l("Created by"), "updated_by": _l("Updated by"),
}

APPLICATION_LABELS = {
    "number": _l("Project no."), "kind": _l("Kind"), "customer_name": _l("Customer"),
    "contact_person": _l("Contact person"), "contact_phone": _l("Contact phone"),
    "address": _l("Address"), "voltage_level": _l("Voltage level"),
    "requested_capacity": _l("Requested capacity"), "capacity_unit": _l("Unit"),
    "existing_capacity": _l("Existing capacity (same unit)"), "load_class": _l("Load class"),
    "load_nature": _l("Load nature"), "backup_power": _l("Backup/security power wanted"),
    "residential_lighting": _l("Residential lighting"),
    "built_by_company": _l("Built by the company"), "description": _l("Description"),
    "received_at": _l("Received at"), "received_by": _l("Received by"), "stage": _l("Stage"),
    "review_route": _l("Design review route"), "capacity_band": _l("Capacity band"),
    "responsible_unit": _l("Responsible unit"), "works_completed_on": _l("Works completed on"),
    "completion_reported_at": _l("Completion reported at"), "accepted_at": _l("Accepted at"),
    "contract_no": _l("Supply contract no."), "contract_signed_on": _l("Contract signed on"),
    "meter_notice_at": _l("Meter-install notice at"), "power_on_at": _l("Powered on at"),
    "checked_at": _l("On-site check at"), "check_findings": _l("Check findings"),
    "application": _l("Project"), **COMMON_LABELS,
}


class _BootstrapSelect(Select):
    """A plain select styled like the other form fields."""

    def __call__(self, field, **kwargs):
        kwargs.setdefault("class", "form-control")
        return super().__call__(field, **kwargs)


def _select(label, choice_set, blank=False, default=None):
    choices = ([("", "—")] if blank else []) + [(value, label_) for value, label_ in
                                                 choice_set.choices()]
    return SelectField(label, choices=choices, widget=_BootstrapSelect(),
                       default=default or (None if blank else choice_set.values()[0]))


def _formatters(model):
    """Yes/No for tick boxes, blanks instead of "None", capacities without a trailing ".0"."""
    from sqlalchemy import Boolean, DateTime, Float, inspect

    formatters = {}
    for column in inspect(model).columns:
        if isinstance(column.type, Boolean):
            formatters[column.key] = lambda value: _("Yes") if value else _("No")
        elif isinstance(column.type, Float):
            formatters[column.key] = lambda value: "" if value is None else f"{value:g}"
        elif column.info.get("choices") is None and not isinstance(column.type, DateTime):
            formatters[column.key] = lambda value: "" if value is None else value
    return formatters


def _checkbox(label):
    """A tick box that may stay unticked (FAB would make a NOT NULL boolean required)."""
    return BooleanField(label, default=False)


def _parse_date(value):
    if value in (None, ""):
        return None
    if isinstance(value, datetime.date):
        return value
    try:
        return datetime.date.fromisoformat(str(value).strip())
    except ValueError:
        return "invalid"


def _blank_to_none(item, fields):
    for field in fields:
        if getattr(item, field, None) == "":
            setattr(item, field, None)


def _rollback_on_refusal(method):
    """FAB flashes a refusal raised by a form hook but keeps the populated row in the session:
    roll it back so that nothing of the refused form is written later in the request."""
    import functools

    @functools.wraps(method)
    def wrapper(self, item):
        try:
            return method(self, item)
        except DomainError:
            db.session.rollback()
            raise

    return wrapper


class RefusalRollbackMixin:
    @_rollback_on_refusal
    def pre_update(self, item):
        return super().pre_update(item)


class OverdueFilter(BaseFilter):
    """Projects with an open deadline past due (theirs or an inspection's) (ENG-17)."""

    name = "Overdue"
    arg_name = "overdue"

    def apply(self, query, value):
        return query.filter(PowerApplication.id.in_(svc.overdue_application_ids()))


def _in_construction():
    return [row.id for row in db.session.query(PowerApplication.id)
            .filter(PowerApplication.stage == Stage.CONSTRUCTION)]


def _sent_plans():
    return [row.application_id for row in db.session.query(SupplyPlan.application_id)
            .filter(SupplyPlan.status == "sent")]


# ---------------------------------------------------------------------------
# The project
# ---------------------------------------------------------------------------

class PowerApplicationView(WorkflowViewMixin, RefusalRollbackMixin, VersionedFormMixin, AppModelView):
    """Applications (用电申请) and the project page with its stage timeline (ENG-01, ENG-17)."""

    datamodel = SQLAInterface(PowerApplication)
    formatters_columns = _formatters(PowerApplication)
    workflow = PROJECT_WORKFLOW
    show_template = "projects/application_show.html"
    list_title = _l("Customer electrical projects")
    show_title = _l("Customer electrical project")
    add_title = _l("Register an application")
    edit_title = _l("Correct the contact details")
    list_columns = ["number", "customer_name", "kind", "voltage_level", "requested_capacity",
                    "capacity_unit", "capacity_band", "review_route", "stage",
                    "responsible_unit", "received_at"]
    show_fieldsets = [
        (_l("Application"), {"fields": [
            "number", "kind", "customer_name", "contact_person", "contact_phone", "address",
            "voltage_level", "requested_capacity", "capacity_unit", "existing_capacity",
            "load_class", "load_nature", "backup_power", "residential_lighting",
            "built_by_company", "description", "received_at", "received_by"]}),
        (_l("Where it stands"), {"fields": [
            "stage", "review_route", "capacity_band", "responsible_unit", "works_completed_on",
            "completion_reported_at", "accepted_at", "contract_no", "contract_signed_on",
            "meter_notice_at", "power_on_at", "checked_at", "check_findings"]}),
    ]
    add_columns = ["kind", "customer_name", "contact_person", "contact_phone", "address",
                   "voltage_level", "requested_capacity", "capacity_unit", "existing_capacity",
                   "load_class", "load_nature", "backup_power", "residential_lighting",
                   "built_by_company", "description"]
    edit_columns = ["contact_person", "contact_phone", "description"]
    search_columns = ["number", "customer_name", "address", "kind", "stage", "review_route",
                      "capacity_band", "responsible_unit", "voltage_level", "load_nature",
                      "residential_lighting", "received_at"]
    base_order = ("received_at", "desc")
    label_columns = APPLICATION_LABELS
    add_form_extra_fields = {
        "kind": _select(_l("Kind"), ApplicationKind),
        "voltage_level": _select(_l("Voltage level"), VoltageLevel),
        "capacity_unit": _select(_l("Unit"), CapacityUnit),
        "load_class": _select(_l("Load class"), LoadClass, default=LoadClass.THIRD),
        "load_nature": _select(_l("Load nature"), LoadNature),
        "backup_power": _checkbox(_l("Backup/security power wanted")),
        "residential_lighting": _checkbox(_l("Residential lighting")),
        "built_by_company": _checkbox(_l("Built by the company")),
    }
    description_columns = {
        "requested_capacity": _l("For a capacity increase: the total capacity after the increase."),
        "built_by_company": _l("The customer commissioned the company to build the works: "
                               "the contractor reports completion within 3 days (ENG-13)."),
    }

    @_rollback_on_refusal
    def pre_add(self, item):
        svc.prepare_application(item, current_actor())

    def check_update(self, item):
        svc.ensure_visible(current_actor(), item)

    def _act(self, pk, function, *args, **kwargs):
        try:
            function(pk, current_actor(), request.form.get("version"), *args, **kwargs)
        except RecordNotVisible as error:
            flash(str(error.message), "danger")
            return redirect(url_for(".list"))
        except DomainError as error:
            flash(str(error.message), "danger")
            for message in getattr(error, "errors", {}).values():
                flash(str(message), "danger")
        else:
            flash(_("Saved."), "success")
        return redirect(url_for(".show", pk=pk))

    @expose("/contract/<int:pk>", methods=["POST"])
    @has_access
    @permission_name("contract")
    def contract(self, pk):
        """ENG-14: record the signed supply contract."""
        signed_on = _parse_date(request.form.get("signed_on"))
        if signed_on == "invalid":
            flash(_("Not a valid date."), "danger")
            return redirect(url_for(".show", pk=pk))
        return self._act(pk, svc.sign_contract, request.form.get("contract_no"), signed_on)

    @expose("/meter_notice/<int:pk>", methods=["POST"])
    @has_access
    @permission_name("contract")
    def meter_notice(self, pk):
        """ENG-15: issue the meter-install notice."""
        return self._act(pk, svc.issue_meter_notice)

    @expose("/works_completed/<int:pk>", methods=["POST"])
    @has_access
    @permission_name("contract")
    def works_completed(self, pk):
        """ENG-13: the works are finished (starts the contractor's 3 days for company builds)."""
        completed_on = _parse_date(request.form.get("completed_on"))
        if completed_on == "invalid":
            flash(_("Not a valid date."), "danger")
            return redirect(url_for(".show", pk=pk))
        return self._act(pk, svc.record_works_completed, completed_on)


    @expose("/dashboard")
    @has_access
    @permission_name("list")
    def dashboard(self):
        """Managers' view (ENG-17): projects per stage, time limits met, late and overdue."""
        actor = current_actor()
        return self.render_template("projects/dashboard.html", title=_l("Project dashboard"),
                                    stages=svc.stage_counts(actor),
                                    figures=svc.deadline_figures(actor))


class OverdueProjectView(PowerApplicationView):
    """The projects with something overdue (same permissions as the project list)."""

    class_permission_name = "PowerApplicationView"
    route_base = "/overdueprojects"
    list_title = _l("Overdue projects")
    base_filters = visible_rows() + [["id", OverdueFilter, lambda: None]]


# ---------------------------------------------------------------------------
# Supply plan and its reply (ENG-02, ENG-03, ENG-04)
# ---------------------------------------------------------------------------

PLAN_LABELS = {
    "application": _l("Project"), "approved_capacity_kva": _l("Approved capacity (kVA)"),
    "supply_voltage": _l("Supply voltage"), "supply_mode": _l("Supply mode"),
    "dual_supply": _l("Dual supply"), "backup_scheme": _l("Backup/security power"),
    "metering_method": _l("Metering method"), "economics": _l("Economics (fees, investment)"),
    "remarks": _l("Remarks"), "reply_unit": _l("Answered by"), "status": _l("Status"),
    "reply_no": _l("Notice no."), "sent_at": _l("Sent at"), **COMMON_LABELS,
}
PLAN_FIELDS = ["approved_capacity_kva", "supply_voltage", "supply_mode", "dual_supply",
               "backup_scheme", "metering_method", "economics", "remarks"]


class SupplyPlanView(WorkflowViewMixin, RefusalRollbackMixin, VersionedFormMixin, AppModelView):
    """Supply plans (供电方案) with the reply chain and the printable notice."""

    datamodel = SQLAInterface(SupplyPlan)
    formatters_columns = _formatters(SupplyPlan)
    workflow = PLAN_WORKFLOW
    list_title = _l("Supply plans")
    show_title = _l("Supply plan")
    edit_title = _l("Edit the draft supply plan")
    list_columns = ["application", "approved_capacity_kva", "supply_voltage", "supply_mode",
                    "dual_supply", "reply_unit", "status", "sent_at"]
    show_columns = ["application", *PLAN_FIELDS, "reply_unit", "status", "reply_no", "sent_at",
                    "created_by", "created_at"]
    edit_columns = list(PLAN_FIELDS)
    search_columns = ["application", "status", "supply_mode", "reply_unit", "dual_supply",
                      "sent_at"]
    base_order = ("id", "desc")
    label_columns = PLAN_LABELS
    exclude_route_methods = {"delete", "add"}
    show_template = "projects/plan_show.html"
    edit_form_extra_fields = {
        **VersionedFormMixin.edit_form_extra_fields,
        "supply_voltage": _select(_l("Supply voltage"), VoltageLevel),
        "supply_mode": _select(_l("Supply mode"), SupplyMode),
        "backup_scheme": _select(_l("Backup/security power"), BackupScheme),
        "metering_method": _select(_l("Metering method"), MeteringMethod),
        "dual_supply": _checkbox(_l("Dual supply")),
    }

    def check_update(self, item):
        svc.check_plan_edit(item, current_actor())

    @expose("/print/<int:pk>")
    @has_access
    @permission_name("show")
    def print_notice(self, pk):
        """The supply-plan notice (供电方案通知书) laid out for printing."""
        from .forms import form_page

        return form_page("supply_plan", pk)


class PlanChangeView(WorkflowViewMixin, AppModelView):
    """Changes to an agreed plan, consented by the approving department (ENG-04)."""

    datamodel = SQLAInterface(PlanChange)
    formatters_columns = _formatters(PlanChange)
    workflow = PLAN_CHANGE_WORKFLOW
    show_template = "projects/child_show.html"
    list_title = _l("Supply plan changes")
    show_title = _l("Supply plan change")
    add_title = _l("Request a change to the agreed supply plan")
    list_columns = ["application", "reason", "new_capacity_kva", "new_supply_mode",
                    "approving_unit", "status", "created_at"]
    show_columns = ["application", "reason", "new_capacity_kva", "new_supply_mode",
                    "new_dual_supply", "new_metering_method", "approving_unit", "status",
                    "created_by", "created_at"]
    add_columns = ["application", "reason", "new_capacity_kva", "new_supply_mode",
                   "new_dual_supply", "new_metering_method"]
    search_columns = ["application", "status", "approving_unit", "created_at"]
    base_order = ("id", "desc")
    exclude_route_methods = {"delete", "edit"}
    label_columns = {
        "application": _l("Project"), "reason": _l("Reason"),
        "new_capacity_kva": _l("New capacity (kVA)"), "new_supply_mode": _l("New supply mode"),
        "new_dual_supply": _l("Dual supply after the change"),
        "new_metering_method": _l("New metering method"),
        "approving_unit": _l("Approving department"), "status": _l("Status"), **COMMON_LABELS,
    }
    add_form_extra_fields = {
        "new_supply_mode": _select(_l("New supply mode"), SupplyMode, blank=True),
        "new_metering_method": _select(_l("New metering method"), MeteringMethod, blank=True),
    }
    add_form_query_rel_fields = {"application": [["id", FilterInFunction, _sent_plans]]}

    @_rollback_on_refusal
    def pre_add(self, item):
        _blank_to_none(item, ["new_supply_mode", "new_metering_method"])
        if item.new_dual_supply is False:
            item.new_dual_supply = None
        svc.prepare_plan_change(item, current_actor())


# ---------------------------------------------------------------------------
# Design review (ENG-05, ENG-06)
# ---------------------------------------------------------------------------

class DesignReviewView(WorkflowViewMixin, AppModelView):
    """Design reviews routed by size, the document checklist and the printable opinion."""

    datamodel = SQLAInterface(DesignReview)
    formatters_columns = _formatters(DesignReview)
    workflow = REVIEW_WORKFLOW
    show_attachments = True
    show_template = "projects/review_show.html"
    list_title = _l("Design reviews")
    show_title = _l("Design review")
    list_columns = ["application", "route", "status", "reviewed_by", "reviewed_at"]
    show_columns = ["application", "route", "status", "opinion_no", "opinion", "reviewed_by",
                    "reviewed_at", "created_at"]
    search_columns = ["application", "route", "status", "reviewed_at"]
    base_order = ("id", "desc")
    exclude_route_methods = {"delete", "add", "edit"}
    label_columns = {
        "application": _l("Project"), "route": _l("Routed to"), "status": _l("Status"),
        "opinion_no": _l("Opinion no."), "opinion": _l("Review opinion"),
        "reviewed_by": _l("Reviewed by"), "reviewed_at": _l("Reviewed at"), **COMMON_LABELS,
    }

    @expose("/print/<int:pk>")
    @has_access
    @permission_name("show")
    def print_opinion(self, pk):
        """The design review opinion (设计审查意见书)."""
        from .forms import form_page

        return form_page("design_review", pk)


# ---------------------------------------------------------------------------
# Construction (ENG-07 to ENG-12)
# ---------------------------------------------------------------------------

CONSTRUCTION_LABELS = {
    "application": _l("Project"), "designer": _l("Designer"), "builder": _l("Builder (contractor)"),
    "supplier": _l("Equipment supplier"),
    "customer_chose_firms": _l("The customer chose designer, builder and supplier"),
    "qualified_list_shown": _l("Staff showed the list of qualified firms only"),
    "qualification_cert_no": _l("Qualification certificate no."),
    "qualification_valid_until": _l("Certificate valid until"),
    "business_licence_no": _l("Business licence no."),
    "licence_valid_until": _l("Licence valid until"), "start_date": _l("Start date"),
    "expected_completion": _l("Expected completion"), "schedule": _l("Schedule"),
    "start_reported_at": _l("Start report filed at"), **COMMON_LABELS,
}


class ConstructionRecordView(RefusalRollbackMixin, VersionedFormMixin, AppModelView):
    datamodel = SQLAInterface(ConstructionRecord)
    formatters_columns = _formatters(ConstructionRecord)
    show_template = "projects/child_show.html"
    list_title = _l("Construction records")
    show_title = _l("Construction record")
    edit_title = _l("Construction record and start report")
    list_columns = ["application", "builder", "customer_chose_firms", "start_date",
                    "expected_completion", "start_reported_at"]
    show_columns = ["application", *svc.CONSTRUCTION_FIELDS, "start_reported_at", "updated_by",
                    "updated_at"]
    edit_columns = list(svc.CONSTRUCTION_FIELDS)
    search_columns = ["application", "builder", "start_date", "expected_completion",
                      "customer_chose_firms"]
    base_order = ("id", "desc")
    exclude_route_methods = {"delete", "add"}
    label_columns = CONSTRUCTION_LABELS
    description_columns = {
        "customer_chose_firms": _l("No “three designations” (三指定): staff may only show the "
                                   "list of qualified firms (ENG-07)."),
        "start_date": _l("Filling in the start date files the start report (ENG-10); the "
                         "certificate and licence must be valid on it (ENG-08)."),
    }

    edit_form_extra_fields = {
        **VersionedFormMixin.edit_form_extra_fields,
        "customer_chose_firms": _checkbox(CONSTRUCTION_LABELS["customer_chose_firms"]),
        "qualified_list_shown": _checkbox(CONSTRUCTION_LABELS["qualified_list_shown"]),
    }

    def check_update(self, item):
        svc.check_construction(item, current_actor())


class ManufacturerView(RefusalRollbackMixin, VersionedFormMixin, AppModelView):
    datamodel = SQLAInterface(Manufacturer)
    formatters_columns = _formatters(Manufacturer)
    list_title = _l("Approved manufacturers")
    show_title = _l("Approved manufacturer")
    add_title = _l("Add an approved manufacturer")
    edit_title = _l("Edit an approved manufacturer")
    list_columns = ["name", "products", "certificate_no", "approved_until", "active"]
    show_columns = ["name", "products", "certificate_no", "approved_until", "active",
                    "created_at", "updated_at"]
    add_columns = ["name", "products", "certificate_no", "approved_until", "active"]
    edit_columns = list(add_columns)
    search_columns = ["name", "products", "approved_until", "active"]
    base_order = ("name", "asc")
    label_columns = {
        "name": _l("Manufacturer"), "products": _l("Approved products (comma-separated)"),
        "certificate_no": _l("Certificate no."), "approved_until": _l("Approved until"),
        "active": _l("In the catalogue"), **COMMON_LABELS,
    }
    add_form_extra_fields = {"active": BooleanField(_l("In the catalogue"), default=True)}
    edit_form_extra_fields = {**VersionedFormMixin.edit_form_extra_fields,
                              "active": BooleanField(_l("In the catalogue"))}


class EquipmentOrderView(WorkflowViewMixin, AppModelView):
    datamodel = SQLAInterface(EquipmentOrder)
    formatters_columns = _formatters(EquipmentOrder)
    workflow = ORDER_WORKFLOW
    show_template = "projects/child_show.html"
    list_title = _l("Equipment orders")
    show_title = _l("Equipment order")
    add_title = _l("Request approval of an equipment order")
    list_columns = ["application", "manufacturer", "category", "model_spec", "quantity",
                    "status", "ordered_on", "delivered_on"]
    show_columns = ["application", "manufacturer", "category", "model_spec", "quantity",
                    "status", "ordered_on", "delivered_on", "delivery_details", "created_by",
                    "created_at"]
    add_columns = ["application", "manufacturer", "category", "model_spec", "quantity"]
    search_columns = ["application", "manufacturer", "category", "status", "ordered_on",
                      "delivered_on"]
    base_order = ("id", "desc")
    exclude_route_methods = {"delete", "edit"}
    label_columns = {
        "application": _l("Project"), "manufacturer": _l("Manufacturer"),
        "category": _l("Equipment category"), "model_spec": _l("Model / specification"),
        "quantity": _l("Quantity"), "status": _l("Status"), "ordered_on": _l("Ordered on"),
        "delivered_on": _l("Delivered on"), "delivery_details": _l("Delivery details"),
        **COMMON_LABELS,
    }
    add_form_query_rel_fields = {
        "application": [["id", FilterInFunction, _in_construction]],
        "manufacturer": [["active", FilterEqual, True]],
    }

    @_rollback_on_refusal
    def pre_add(self, item):
        svc.prepare_order(item, current_actor())


class ConstructionChangeView(WorkflowViewMixin, AppModelView):
    datamodel = SQLAInterface(ConstructionChange)
    formatters_columns = _formatters(ConstructionChange)
    workflow = CHANGE_WORKFLOW
    show_template = "projects/child_show.html"
    list_title = _l("Construction changes")
    show_title = _l("Construction change")
    add_title = _l("Request a construction change")
    list_columns = ["application", "subject", "description", "status", "approval_no",
                    "carried_out_on"]
    show_columns = ["application", "subject", "description", "status", "approval_no",
                    "carried_out_on", "created_by", "created_at"]
    add_columns = ["application", "subject", "description"]
    search_columns = ["application", "subject", "status", "carried_out_on"]
    base_order = ("id", "desc")
    exclude_route_methods = {"delete", "edit"}
    label_columns = {
        "application": _l("Project"), "subject": _l("What changes"),
        "description": _l("Description"), "status": _l("Status"),
        "approval_no": _l("Written approval no."), "carried_out_on": _l("Carried out on"),
        **COMMON_LABELS,
    }
    add_form_extra_fields = {"subject": _select(_l("What changes"), ChangeSubject)}
    add_form_query_rel_fields = {"application": [["id", FilterInFunction, _in_construction]]}

    @_rollback_on_refusal
    def pre_add(self, item):
        svc.prepare_construction_change(item, current_actor())


INSPECTION_LABELS = {
    "application": _l("Project"), "round_no": _l("Round"),
    "installed_percent": _l("Equipment installed (%)"), "planned_on": _l("Planned on"),
    "inspector": _l("Inspector"), "findings": _l("Findings"),
    "rectification_items": _l("Rectification items"), "status": _l("Status"),
    "inspected_at": _l("Inspected at"), **{field: label for field, label in CHECK_AREAS},
    **COMMON_LABELS,
}


class MidInspectionView(WorkflowViewMixin, RefusalRollbackMixin, VersionedFormMixin, AppModelView):
    datamodel = SQLAInterface(MidInspection)
    formatters_columns = _formatters(MidInspection)
    workflow = INSPECTION_WORKFLOW
    list_title = _l("Mid-construction inspections")
    show_title = _l("Mid-construction inspection")
    add_title = _l("Request a mid-construction inspection")
    edit_title = _l("Record the inspection results")
    show_template = "projects/inspection_show.html"
    list_columns = ["application", "round_no", "installed_percent", "planned_on", "status",
                    "inspector", "inspected_at"]
    show_columns = ["application", "round_no", "installed_percent", "planned_on",
                    *[field for field, _label in CHECK_AREAS], "findings",
                    "rectification_items", "status", "inspector", "inspected_at"]
    add_columns = ["application", "installed_percent", "planned_on"]
    edit_columns = ["planned_on", *[field for field, _label in CHECK_AREAS], "findings",
                    "rectification_items"]
    search_columns = ["application", "status", "round_no", "planned_on", "inspected_at"]
    base_order = ("id", "desc")
    exclude_route_methods = {"delete"}
    label_columns = INSPECTION_LABELS
    add_form_query_rel_fields = {"application": [["id", FilterInFunction, _in_construction]]}
    edit_form_extra_fields = {
        **VersionedFormMixin.edit_form_extra_fields,
        **{field: _select(label, CheckResult, blank=True) for field, label in CHECK_AREAS},
    }

    @_rollback_on_refusal
    def pre_add(self, item):
        svc.prepare_inspection(item, current_actor())

    def post_add(self, item):
        from ..services.transaction import transaction

        with transaction():
            svc.start_inspection_deadline(db.session.get(MidInspection, item.id))

    def check_update(self, item):
        _blank_to_none(item, [field for field, _label in CHECK_AREAS])
        if "Inspector" not in {role.name for role in current_user.roles}:
            raise svc.PermissionRefused(_("Inspection results are recorded by an inspector."))
        svc.check_inspection_edit(item, current_actor())

    @expose("/print/<int:pk>")
    @has_access
    @permission_name("show")
    def print_opinion(self, pk):
        """The inspection opinion (中间检查意见书) in triplicate: customer, contractor, file."""
        from .forms import form_page

        return form_page("mid_inspection", pk)


# ---------------------------------------------------------------------------
# REST resources
# ---------------------------------------------------------------------------


def _json():
    body = request.get_json(silent=True)
    return body if isinstance(body, dict) else None


class PowerApplicationApi(WorkflowApiMixin, AppModelApi):
    resource_name = "power_application"
    datamodel = SQLAInterface(PowerApplication)
    workflow = PROJECT_WORKFLOW
    list_columns = show_columns = [
        "id", "number", "kind", "customer_name", "contact_person", "contact_phone", "address",
        "voltage_level", "requested_capacity", "capacity_unit", "existing_capacity",
        "load_class", "load_nature", "backup_power", "residential_lighting",
        "built_by_company", "received_at", "stage", "review_route", "capacity_band",
        "responsible_unit", "works_completed_on", "completion_reported_at", "accepted_at",
        "contract_no", "contract_signed_on", "meter_notice_at", "power_on_at", "checked_at",
        "version"]
    add_columns = ["kind", "customer_name", "contact_person", "contact_phone", "address",
                   "voltage_level", "requested_capacity", "capacity_unit", "existing_capacity",
                   "load_class", "load_nature", "backup_power", "residential_lighting",
                   "built_by_company", "description"]
    search_columns = ["number", "customer_name", "stage", "review_route", "capacity_band",
                      "responsible_unit", "received_at"]
    exclude_route_methods = {"delete", "put"}

    def pre_add(self, item):
        svc.prepare_application(item, current_actor())

    def _call(self, pk, function, arguments):
        body = _json()
        if body is None:
            return self.response(422, message=_("A JSON object is expected."))
        try:
            record = function(pk, current_actor(), body.get("version"), *arguments(body))
        except DomainError as error:
            return domain_error_response(self, error)
        return self.response(200, id=record.id, stage=record.stage, version=record.version)

    @expose("/<int:pk>/contract", methods=["POST"])
    @protect()
    @safe
    @permission_name("contract")
    def contract(self, pk):
        """Record the signed supply contract (ENG-14): {version, contract_no, signed_on}"""
        return self._call(pk, svc.sign_contract,
                          lambda body: (body.get("contract_no"), _api_date(body, "signed_on")))

    @expose("/<int:pk>/meter_notice", methods=["POST"])
    @protect()
    @safe
    @permission_name("contract")
    def meter_notice(self, pk):
        """Issue the meter-install notice (ENG-15): {version}"""
        return self._call(pk, svc.issue_meter_notice, lambda body: ())

    @expose("/<int:pk>/works_completed", methods=["POST"])
    @protect()
    @safe
    @permission_name("contract")
    def works_completed(self, pk):
        """Record that the works are finished (ENG-13): {version, completed_on}"""
        return self._call(pk, svc.record_works_completed,
                          lambda body: (_api_date(body, "completed_on"),))

    @expose("/<int:pk>/timeline", methods=["GET"])
    @protect()
    @safe
    @permission_name("get")
    def timeline(self, pk):
        """The project's stages with what is due, by whom, and what is overdue (ENG-17)."""
        application = db.session.get(PowerApplication, pk)
        if application is None or not can_see(current_actor(), application):
            return self.response_404()
        rows = []
        for row in svc.project_timeline(application):
            rows.append({
                "stage": row["stage"], "label": str(row["label"]), "status": row["status"],
                "entered_at": row["entered_at"].isoformat() if row["entered_at"] else None,
                "deadlines": [{
                    "label": str(item["label"]), "due_at": item["due_at"].isoformat(),
                    "who": str(item["who"]), "status": item["status"],
                    "overdue": item["overdue"]} for item in row["deadlines"]],
            })
        return self.response(200, number=application.number, stage=application.stage,
                             review_route=application.review_route, timeline=rows)


def _api_date(body, key):
    value = _parse_date(body.get(key))
    if value == "invalid":
        from ..services.errors import InvalidInput

        raise InvalidInput(errors={key: _("Not a valid date.")})
    return value


class SupplyPlanApi(WorkflowApiMixin, AppModelApi):
    resource_name = "supply_plan"
    datamodel = SQLAInterface(SupplyPlan)
    workflow = PLAN_WORKFLOW
    list_columns = show_columns = ["id", "application.id", "application.number",
                                   *PLAN_FIELDS, "reply_unit", "status", "reply_no", "sent_at",
                                   "version"]
    exclude_route_methods = {"delete", "put", "post"}

    @expose("/<int:pk>/edit", methods=["POST"])
    @protect()
    @safe
    @permission_name("put")
    def edit_draft(self, pk):
        """Edit a draft plan (ENG-02 checked): {version, field: value, ...}"""
        body = _json()
        if body is None:
            return self.response(422, message=_("A JSON object is expected."))
        fields = {key: value for key, value in body.items() if key in PLAN_FIELDS}
        try:
            plan = svc.update_plan(pk, current_actor(), body.get("version"), **fields)
        except DomainError as error:
            return domain_error_response(self, error)
        return self.response(200, id=plan.id, status=plan.status, version=plan.version,
                             reply_unit=plan.reply_unit)


class PlanChangeApi(WorkflowApiMixin, AppModelApi):
    resource_name = "supply_plan_change"
    datamodel = SQLAInterface(PlanChange)
    workflow = PLAN_CHANGE_WORKFLOW
    list_columns = show_columns = ["id", "application.id", "application.number", "reason",
                                   "new_capacity_kva", "new_supply_mode", "new_dual_supply",
                                   "new_metering_method", "approving_unit", "status", "version"]
    add_columns = ["application", "reason", "new_capacity_kva", "new_supply_mode",
                   "new_dual_supply", "new_metering_method"]
    exclude_route_methods = {"delete", "put"}

    def pre_add(self, item):
        svc.prepare_plan_change(item, current_actor())


class DesignReviewApi(WorkflowApiMixin, AppModelApi):
    resource_name = "design_review"
    datamodel = SQLAInterface(DesignReview)
    workflow = REVIEW_WORKFLOW
    list_columns = show_columns = ["id", "application.id", "application.number", "route",
                                   "status", "opinion_no", "opinion", "reviewed_by.username",
                                   "reviewed_at", "version"]
    exclude_route_methods = {"delete", "put", "post"}

    @expose("/<int:pk>/documents", methods=["GET"])
    @protect()
    @safe
    @permission_name("get")
    def documents(self, pk):
        """The ENG-06 checklist: which listed design documents are still missing."""
        review = db.session.get(DesignReview, pk)
        if review is None or not can_see(current_actor(), review):
            return self.response_404()
        missing = svc.missing_documents(review)
        return self.response(200, required=review.application.is_high_voltage,
                             missing=[kind for kind, _label in missing])


class ConstructionRecordApi(AppModelApi):
    resource_name = "construction_record"
    datamodel = SQLAInterface(ConstructionRecord)
    list_columns = show_columns = ["id", "application.id", "application.number",
                                   *svc.CONSTRUCTION_FIELDS, "start_reported_at", "version"]
    exclude_route_methods = {"delete", "put", "post"}

    @expose("/<int:pk>/edit", methods=["POST"])
    @protect()
    @safe
    @permission_name("put")
    def edit_record(self, pk):
        """Edit the construction record / file the start report: {version, field: value}"""
        body = _json()
        if body is None:
            return self.response(422, message=_("A JSON object is expected."))
        fields = {}
        try:
            for key, value in body.items():
                if key == "version":
                    continue
                if key in ("qualification_valid_until", "licence_valid_until", "start_date",
                           "expected_completion"):
                    value = _api_date(body, key)
                fields[key] = value
            record = svc.update_construction(pk, current_actor(), body.get("version"), **fields)
        except DomainError as error:
            return domain_error_response(self, error)
        return self.response(200, id=record.id, version=record.version,
                             start_reported_at=record.start_reported_at.isoformat()
                             if record.start_reported_at else None)


class ManufacturerApi(AppModelApi):
    resource_name = "approved_manufacturer"
    datamodel = SQLAInterface(Manufacturer)
    list_columns = show_columns = ["id", "name", "products", "certificate_no", "approved_until",
                                   "active"]
    add_columns = edit_columns = ["name", "products", "certificate_no", "approved_until", "active"]


class EquipmentOrderApi(WorkflowApiMixin, AppModelApi):
    resource_name = "equipment_order"
    datamodel = SQLAInterface(EquipmentOrder)
    workflow = ORDER_WORKFLOW
    list_columns = show_columns = ["id", "application.id", "application.number",
                                   "manufacturer.id", "manufacturer.name", "category",
                                   "model_spec", "quantity", "status", "ordered_on",
                                   "delivered_on", "delivery_details", "version"]
    add_columns = ["application", "manufacturer", "category", "model_spec", "quantity"]
    exclude_route_methods = {"delete", "put"}

    def pre_add(self, item):
        svc.prepare_order(item, current_actor())


class ConstructionChangeApi(WorkflowApiMixin, AppModelApi):
    resource_name = "construction_change"
    datamodel = SQLAInterface(ConstructionChange)
    workflow = CHANGE_WORKFLOW
    list_columns = show_columns = ["id", "application.id", "application.number", "subject",
                                   "description", "status", "approval_no", "carried_out_on",
                                   "version"]
    add_columns = ["application", "subject", "description"]
    exclude_route_methods = {"delete", "put"}

    def pre_add(self, item):
        svc.prepare_construction_change(item, current_actor())


class MidInspectionApi(WorkflowApiMixin, AppModelApi):
    resource_name = "mid_inspection"
    datamodel = SQLAInterface(MidInspection)
    workflow = INSPECTION_WORKFLOW
    list_columns = show_columns = ["id", "application.id", "application.number", "round_no",
                                   "installed_percent", "planned_on",
                                   *[field for field, _label in CHECK_AREAS], "findings",
                                   "rectification_items", "status", "inspected_at", "version"]
    add_columns = ["application", "installed_percent", "planned_on"]
    exclude_route_methods = {"delete", "put"}

    def pre_add(self, item):
        svc.prepare_inspection(item, current_actor())

    def post_add(self, item):
        from ..services.transaction import transaction

        with transaction():
            svc.start_inspection_deadline(db.session.get(MidInspection, item.id))

    @expose("/<int:pk>/results", methods=["POST"])
    @protect()
    @safe
    @permission_name("put")
    def results(self, pk):
        """Record the five check areas and rectification items: {version, field: value}"""
        body = _json()
        if body is None:
            return self.response(422, message=_("A JSON object is expected."))
        fields = {key: value for key, value in body.items() if key != "version"}
        try:
            inspection = svc.record_inspection_results(pk, current_actor(), body.get("version"),
                                                       **fields)
        except DomainError as error:
            return domain_error_response(self, error)
        return self.response(200, id=inspection.id, version=inspection.version)


# ---------------------------------------------------------------------------
# Template helpers and registration
# ---------------------------------------------------------------------------

def project_panel(pk):
    """What the project page shows besides the fields: timeline, children, forms (ENG-17)."""
    application = db.session.get(PowerApplication, pk)
    if application is None or not can_see(current_user, application):
        return None
    sm = current_app_sm()
    return {
        "application": application,
        "timeline": svc.project_timeline(application),
        "plan": application.plan, "review": application.review,
        "construction": application.construction,
        "inspections": db.session.query(MidInspection).filter_by(
            application_id=application.id).order_by(MidInspection.round_no).all(),
        "orders": db.session.query(EquipmentOrder).filter_by(
            application_id=application.id).order_by(EquipmentOrder.id).all(),
        "changes": db.session.query(ConstructionChange).filter_by(
            application_id=application.id).order_by(ConstructionChange.id).all(),
        "plan_changes": db.session.query(PlanChange).filter_by(
            application_id=application.id).order_by(PlanChange.id).all(),
        "construction_problems": svc.construction_problems(application)
        if application.stage == Stage.CONSTRUCTION else [],
        "power_on_problems": svc.power_on_problems(application)
        if application.stage == Stage.ACCEPTED else [],
        "can_contract": sm.has_access("can_contract", "PowerApplicationView"),
        "missing_documents": svc.missing_documents(application.review)
        if application.review is not None and application.is_high_voltage else [],
        "labels": {"route": svc.ReviewRoute, "plan": svc.PlanStatus, "stage": Stage},
    }


def project_of(view, pk):
    """The project a child record belongs to, when the current user may see it."""
    record = db.session.get(view.datamodel.obj, pk)
    if record is None or not can_see(current_user, record):
        return None
    return getattr(record, "application", None)


def review_documents(pk):
    review = db.session.get(DesignReview, pk)
    if review is None or not can_see(current_user, review):
        return None
    return {"review": review, "high_voltage": review.application.is_high_voltage,
            "missing": svc.missing_documents(review),
            "all": svc.DESIGN_DOCUMENTS}


def current_app_sm():
    from flask import current_app

    return current_app.appbuilder.sm


def register_projects_views(appbuilder):
    """Add this module's views, APIs and menu entries."""
    projects = dict(category="Projects", category_label=_l("Customer projects"),
                    category_icon="fa-bolt")
    appbuilder.add_view(PowerApplicationView, "Power applications",
                        label=_l("Projects (applications)"), icon="fa-plug", **projects)
    appbuilder.add_view(OverdueProjectView, "Overdue projects", label=_l("Overdue projects"),
                        icon="fa-clock-o", **projects)
    appbuilder.add_link("Project dashboard", href="/powerapplicationview/dashboard",
                        label=_l("Project dashboard"), icon="fa-dashboard", **projects)
    appbuilder.add_view(SupplyPlanView, "Supply plans", label=_l("Supply plans"),
                        icon="fa-file-text-o", **projects)
    appbuilder.add_view(PlanChangeView, "Plan changes", label=_l("Supply plan changes"),
                        icon="fa-exchange", **projects)
    appbuilder.add_view(DesignReviewView, "Design reviews", label=_l("Design reviews"),
                        icon="fa-check-square-o", **projects)
    appbuilder.add_view(ConstructionRecordView, "Construction records",
                        label=_l("Construction records"), icon="fa-wrench", **projects)
    appbuilder.add_view(EquipmentOrderView, "Equipment orders", label=_l("Equipment orders"),
                        icon="fa-truck", **projects)
    appbuilder.add_view(ConstructionChangeView, "Construction changes",
                        label=_l("Construction changes"), icon="fa-pencil-square-o", **projects)
    appbuilder.add_view(MidInspectionView, "Mid inspections",
                        label=_l("Mid-construction inspections"), icon="fa-search", **projects)
    appbuilder.add_view(ManufacturerView, "Approved manufacturers",
                        label=_l("Approved manufacturers"), icon="fa-industry", **projects)
    for api in (PowerApplicationApi, SupplyPlanApi, PlanChangeApi, DesignReviewApi,
                ConstructionRecordApi, ManufacturerApi, EquipmentOrderApi,
                ConstructionChangeApi, MidInspectionApi):
        appbuilder.add_api(api)
    from flask import current_app

    current_app.jinja_env.globals.update(project_panel=project_panel,
                                                review_documents=review_documents,
                                      project_of=project_of)
