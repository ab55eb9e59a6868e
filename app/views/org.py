"""Organisation screens and resources: departments, staff, absences, duty roster."""
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from ..models.org import Absence, Department, DutyAssignment, StaffProfile
from ..services.org import ensure_absence_editable, start_absence_approval, validate_absence
from ..workflows.absences import ABSENCE_WORKFLOW
from .base import AppModelApi, AppModelView, VersionedFormMixin
from .workflow import WorkflowApiMixin, WorkflowViewMixin

COMMON_LABELS = {
    "created_at": _l("Created at"),
    "updated_at": _l("Updated at"),
    "created_by": _l("Created by"),
    "updated_by": _l("Updated by"),
}


class DepartmentView(AppModelView):
    datamodel = SQLAInterface(Department)
    list_title = _l("Departments")
    show_title = _l("Department")
    add_title = _l("Add department")
    edit_title = _l("Edit department")
    list_columns = ["code", "name", "parent", "head", "active"]
    show_columns = ["code", "name", "parent", "head", "active", "created_at", "updated_at"]
    add_columns = edit_columns = ["code", "name", "parent", "head", "active"]
    search_columns = ["code", "name", "active"]
    base_order = ("code", "asc")
    label_columns = {
        "code": _l("Code"), "name": _l("Name"), "parent": _l("Parent department"),
        "head": _l("Head"), "active": _l("Active"), **COMMON_LABELS,
    }


class StaffProfileView(AppModelView):
    datamodel = SQLAInterface(StaffProfile)
    list_title = _l("Staff")
    show_title = _l("Staff member")
    add_title = _l("Add staff member")
    edit_title = _l("Edit staff member")
    list_columns = ["employee_no", "display_name", "department", "position", "supervisor", "phone", "active"]
    show_columns = ["employee_no", "display_name", "user", "department", "position", "supervisor",
                    "phone", "area", "active", "created_at", "updated_at"]
    add_columns = edit_columns = ["user", "display_name", "employee_no", "department", "position",
                                  "supervisor", "phone", "area", "active"]
    search_columns = ["display_name", "employee_no", "department", "position", "active"]
    base_order = ("employee_no", "asc")
    label_columns = {
        "employee_no": _l("Employee no."), "display_name": _l("Full name"), "user": _l("Login account"),
        "department": _l("Department"), "position": _l("Position"), "supervisor": _l("Supervisor"),
        "phone": _l("Phone"), "area": _l("Responsibility area"), "active": _l("Active"),
        **COMMON_LABELS,
    }


class AbsenceView(WorkflowViewMixin, VersionedFormMixin, AppModelView):
    """Absences with a delegate; approval is a workflow step, never a form edit."""

    datamodel = SQLAInterface(Absence)
    workflow = ABSENCE_WORKFLOW
    # Supporting documents, e.g. a doctor's certificate for sick leave.
    show_attachments = True
    list_title = _l("Absences")
    show_title = _l("Absence")
    add_title = _l("Record an absence")
    edit_title = _l("Correct an absence request")
    list_columns = ["user", "starts_at", "ends_at", "delegate", "status"]
    show_columns = ["user", "starts_at", "ends_at", "delegate", "reason", "status", "created_by", "created_at"]
    add_columns = ["user", "starts_at", "ends_at", "delegate", "reason"]
    edit_columns = ["starts_at", "ends_at", "delegate", "reason"]
    search_columns = ["user", "delegate", "status", "starts_at", "ends_at"]
    base_order = ("starts_at", "desc")
    label_columns = {
        "user": _l("Absent person"), "starts_at": _l("From"), "ends_at": _l("Until"),
        "delegate": _l("Delegate (acts for them)"), "reason": _l("Reason"), "status": _l("Status"),
        **COMMON_LABELS,
    }
    def pre_add(self, item):
        if item.user_id is None and item.user is None:
            item.user = current_user
        validate_absence(
            item.user.id if item.user else item.user_id,
            item.delegate.id if item.delegate else item.delegate_id,
            item.starts_at, item.ends_at,
        )

    def post_add(self, item):
        start_absence_approval(item.id)

    def check_update(self, item):
        from flask_login import current_user as actor

        ensure_absence_editable(item, actor)
        validate_absence(item.user_id, item.delegate.id if item.delegate else None,
                         item.starts_at, item.ends_at)


class DutyAssignmentView(AppModelView):
    datamodel = SQLAInterface(DutyAssignment)
    list_title = _l("Duty roster")
    show_title = _l("Duty")
    add_title = _l("Add duty")
    edit_title = _l("Edit duty")
    list_columns = ["duty_date", "duty_kind", "user", "note"]
    show_columns = ["duty_date", "duty_kind", "user", "note", "created_by", "created_at"]
    add_columns = edit_columns = ["duty_date", "duty_kind", "user", "note"]
    search_columns = ["duty_date", "duty_kind", "user"]
    base_order = ("duty_date", "desc")
    label_columns = {
        "duty_date": _l("Date"), "duty_kind": _l("Duty"), "user": _l("On duty"), "note": _l("Note"),
        **COMMON_LABELS,
    }


class DepartmentApi(AppModelApi):
    resource_name = "department"
    datamodel = SQLAInterface(Department)
    list_columns = show_columns = ["id", "code", "name", "parent.id", "parent.name",
                                   "head.id", "head.username", "active"]
    add_columns = edit_columns = ["code", "name", "parent", "head", "active"]


class AbsenceApi(WorkflowApiMixin, AppModelApi):
    resource_name = "absence"
    datamodel = SQLAInterface(Absence)
    workflow = ABSENCE_WORKFLOW
    list_columns = show_columns = ["id", "user.id", "user.username", "delegate.id",
                                   "delegate.username", "starts_at", "ends_at", "reason",
                                   "status", "version"]
    add_columns = ["user", "delegate", "starts_at", "ends_at", "reason"]
    # Approval is a workflow step; an absence is not edited through the API.
    exclude_route_methods = {"delete", "put"}

    def pre_add(self, item):
        validate_absence(
            item.user.id if item.user else None,
            item.delegate.id if item.delegate else None,
            item.starts_at, item.ends_at,
        )

    def post_add(self, item):
        start_absence_approval(item.id)
