"""Customer information and archives (客户信息与档案, CUS-01 to CUS-11): screens and REST resources.

Views are declarative; each form hook or action calls one service in
``app.services.customers``. Confidential records (registration forms,
archives, customers) log every read: the show page, the print view, the
REST ``get`` and every export (CUS-06).
"""
import datetime

from flask import Response, flash, redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.models.filters import BaseFilter
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_appbuilder.security.decorators import has_access, permission_name
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_
from wtforms import BooleanField, SelectField

from ..audit.context import current_actor
from ..extensions import db
from ..models.customers import (
    ArchiveAccessGrant, ArchiveDestruction, ArchiveFile, ArchiveFiling, ArchiveLoan,
    ArchiveStatus, ArchiveTrackingEntry, Channel, Customer, CustomerKind, DailyRegistration,
    GrantScope, Intention, LoanStatus, OwnershipConflict, ReceptionVisit, RegistrationEntry,
    RegistrationStatus,
)
from ..security.visibility import VisibleRowsFilter
from ..services import customers as service
from ..services.errors import DomainError
from ..workflows.customers import (
    ARCHIVE_WORKFLOW, DESTRUCTION_WORKFLOW, LOAN_WORKFLOW, REGISTRATION_WORKFLOW,
)
from .base import AppModelApi, AppModelView, VersionedFormMixin, visible_rows
from .workflow import WorkflowApiMixin, WorkflowViewMixin

COMMON_LABELS = {
    "created_at": _l("Created at"), "updated_at": _l("Updated at"),
    "created_by": _l("Created by"), "updated_by": _l("Updated by"),
}

LABELS = {
    **COMMON_LABELS,
    "manager": _l("Sales manager"), "form_date": _l("Date"), "status": _l("Status"),
    "due_at": _l("Due by"), "submitted_at": _l("Submitted at"), "late": _l("Late"),
    "note": _l("Note"), "entries": _l("Lines"),
    "registration": _l("Registration form"), "channel": _l("Came by"),
    "customer_name": _l("Customer"), "kind": _l("Customer type"), "company_name": _l("Company"),
    "phone": _l("Phone"), "id_number": _l("ID number"), "intention": _l("Intention"),
    "intended": _l("Intended customer"), "has_intermediary": _l("Through an intermediary"),
    "intermediary": _l("Intermediary"), "referrer": _l("Referred by"),
    "requirement": _l("Requirement"), "registered_at": _l("Registered at"),
    "customer": _l("Customer"), "name": _l("Name"), "owner": _l("Owner (sales manager)"),
    "owned_since": _l("Owned since"), "purged": _l("Destroyed"),
    "matched_on": _l("Matched on"), "claimant": _l("Also registered by"),
    "owner_registered_at": _l("Owner registered at"),
    "claimant_registered_at": _l("Other registration at"), "outcome": _l("Outcome"),
    "resolution": _l("Resolution"), "detected_at": _l("Detected at"), "entry": _l("Line"),
    "visited_at": _l("Visited at"), "visitor_name": _l("Visitor"),
    "is_referral": _l("Referred by a customer"), "named_manager": _l("Manager named by the visitor"),
    "routed_to": _l("Passed to"), "reason": _l("Reason"),
    "archive_no": _l("Archive no."), "category": _l("Archive category"),
    "contact_person": _l("Contact person"), "contact_phone": _l("Contact phone"),
    "address": _l("Address"), "industry": _l("Industry"), "source": _l("Source"),
    "summary": _l("Summary"), "opened_on": _l("Opened on"), "closed_on": _l("Closed on"),
    "last_filed_at": _l("Last filed at"), "destroyed_on": _l("Destroyed on"),
    "tracking": _l("Tracking log"), "filings": _l("Month-end filings"),
    "archive": _l("Archive"), "tracked_on": _l("Date"), "manner": _l("Manner"),
    "content": _l("Tracking notes"), "next_step": _l("Next step"),
    "period": _l("Month"), "filed_at": _l("Filed at"), "snapshot": _l("Snapshot"),
    "grantee": _l("Permitted person"), "scope": _l("Scope"), "valid_from": _l("Valid from"),
    "valid_until": _l("Valid until"), "revoked_at": _l("Revoked at"),
    "borrower": _l("Borrower"), "purpose": _l("Purpose"), "expected_return": _l("Expected return"),
    "files": _l("Archives"), "register_no": _l("Register no."), "issued_at": _l("Issued at"),
    "due_on": _l("Due back"), "returned_at": _l("Returned at"),
    "retention_ends": _l("Retention ends"), "method": _l("Method"), "executor": _l("Executor"),
    "witness": _l("Witness"), "purge_summary": _l("What was purged"),
}


def _choice(choice_set, label, default=None):
    """A drop-down of a ChoiceSet's labels (FAB would offer free text)."""
    return SelectField(label, choices=[(value, str(text)) for value, text in choice_set.choices()],
                       default=default or choice_set.values()[0])


def _flag(label, description=None):
    """A check box that may stay unticked (FAB makes NOT NULL booleans required)."""
    return BooleanField(label, default=False, description=description)


def _forms(view_cls, fields):
    """Use ``fields`` on both the add and the edit form of ``view_cls``."""
    view_cls.add_form_extra_fields = {**(view_cls.add_form_extra_fields or {}), **fields}
    view_cls.edit_form_extra_fields = {**(view_cls.edit_form_extra_fields or {}), **fields}
    return view_cls


def _yes_no(value):
    return _("Yes") if value else _("No")


def _blank(value):
    return "" if value is None else value


BOOLEAN_FORMATTERS = {
    **{name: _yes_no for name in ("late", "intended", "has_intermediary", "is_referral", "purged")},
    **{name: _blank for name in ("closed_on", "destroyed_on", "due_on", "opened_on",
                                 "retention_ends", "tracked_on", "form_date", "expected_return",
                                 "period", "register_no", "method", "executor", "witness",
                                 "address", "industry", "requirement", "summary",
                                 "contact_person", "contact_phone", "company_name", "phone",
                                 "id_number", "intermediary", "referrer", "note", "source",
                                 "manner", "content", "next_step", "purge_summary")},
}


def _flash_error(error):
    flash(str(error.message), "danger")
    for message in (getattr(error, "errors", None) or {}).values():
        flash(str(message), "danger")


class ReadLoggedMixin:
    """CUS-06: the show page of a confidential record writes a read entry; exports are logged."""

    audit_exports = True
    formatters_columns = BOOLEAN_FORMATTERS

    def _list(self, **kwargs):
        widgets = super()._list(**kwargs)
        from ..audit.events import record_event

        record_event("read", self.datamodel.obj.__tablename__, None,
                     {"door": "list", "query": request.query_string.decode("utf-8", "replace")[:500]})
        return widgets

    def _show(self, pk):
        widgets = super()._show(pk)
        item = self.datamodel.get(pk, self._base_filters)
        if item is not None:
            service.record_read(item, "page")
        return widgets


class ReadLoggedApiMixin:
    audit_exports = True

    def pre_get(self, data):
        record = db.session.get(self.datamodel.obj, data.get("id"))
        if record is not None:
            service.record_read(record, "api")

    def pre_get_list(self, data):
        ids = data.get("ids") or []
        if ids:
            from ..audit.events import record_event

            record_event("read", self.datamodel.obj.__tablename__, None,
                         {"door": "api_list", "ids": [str(value) for value in ids][:200]})


# ---------------------------------------------------------------------------
# Filters for the add forms (only what the user may see or use)
# ---------------------------------------------------------------------------

class OwnDraftRegistrations(BaseFilter):
    name = "Own draft forms"
    arg_name = "own_draft"

    def apply(self, query, value):
        actor = current_actor()
        return query.filter(DailyRegistration.manager_id == getattr(actor, "id", None),
                            DailyRegistration.status == RegistrationStatus.DRAFT)


class ActiveOwnArchives(BaseFilter):
    name = "Archives being followed up"
    arg_name = "active_archives"

    def apply(self, query, value):
        query = VisibleRowsFilter("id", self.datamodel).apply(query, None)
        return query.filter(ArchiveFile.status == ArchiveStatus.ACTIVE)


class LendableArchives(BaseFilter):
    name = "Lendable archives"
    arg_name = "lendable"

    def apply(self, query, value):
        return query.filter(ArchiveFile.status != ArchiveStatus.DESTROYED)


class DueForDestruction(BaseFilter):
    """Closed archives whose retention period is over (CUS-10)."""

    name = "Due for destruction"
    arg_name = "due_destruction"

    def apply(self, query, value):
        return query.filter(ArchiveFile.status == ArchiveStatus.CLOSED,
                            ArchiveFile.closed_on <= service.retention_cutoff())


class InLendingRegister(BaseFilter):
    name = "In the lending register"
    arg_name = "register"

    def apply(self, query, value):
        return query.filter(ArchiveLoan.register_no.isnot(None))


class OverdueLoans(BaseFilter):
    name = "Overdue"
    arg_name = "overdue"

    def apply(self, query, value):
        from ..deadlines import local_today

        return query.filter(and_(ArchiveLoan.status == LoanStatus.ISSUED,
                                 ArchiveLoan.due_on < local_today()))


# ---------------------------------------------------------------------------
# Registration forms (CUS-01, CUS-02, CUS-05)
# ---------------------------------------------------------------------------

class RegistrationEntryView(ReadLoggedMixin, VersionedFormMixin, AppModelView):
    datamodel = SQLAInterface(RegistrationEntry)
    list_title = _l("Registration lines")
    show_title = _l("Registration line")
    add_title = _l("Add a customer to the form")
    edit_title = _l("Correct a line")
    list_columns = ["registration", "channel", "customer_name", "company_name", "phone",
                    "intention", "intended", "has_intermediary", "intermediary", "referrer",
                    "registered_at", "customer"]
    show_columns = ["registration", "channel", "customer_name", "kind", "company_name", "phone",
                    "id_number", "intention", "intended", "has_intermediary", "intermediary",
                    "referrer", "requirement", "registered_at", "customer", "created_by"]
    add_columns = ["registration", "channel", "customer_name", "kind", "company_name", "phone",
                   "id_number", "intention", "intended", "has_intermediary", "intermediary",
                   "referrer", "requirement"]
    edit_columns = ["channel", "customer_name", "kind", "company_name", "phone", "id_number",
                    "intention", "intended", "has_intermediary", "intermediary", "referrer",
                    "requirement"]
    search_columns = ["registration", "channel", "customer_name", "phone", "intended",
                      "has_intermediary", "registered_at"]
    base_order = ("registered_at", "desc")
    label_columns = LABELS
    show_template = "customers/confidential_show.html"
    description_columns = {
        "intended": _l("Intended = a contact phone and a buying or leasing intention (CUS-02)."),
        "has_intermediary": _l("Record the intermediary when there is one (CUS-05)."),
    }
    add_form_query_rel_fields = {"registration": [["id", OwnDraftRegistrations, None]]}

    def pre_add(self, item):
        service.prepare_entry(item, current_actor())

    def check_update(self, item):
        service.prepare_entry(item, current_actor())


_forms(RegistrationEntryView, {
    "channel": _choice(Channel, _l("Came by")),
    "kind": _choice(CustomerKind, _l("Customer type")),
    "intention": _choice(Intention, _l("Intention")),
    "intended": _flag(_l("Intended customer"),
                      _l("Intended = a contact phone and a buying or leasing intention (CUS-02).")),
    "has_intermediary": _flag(_l("Through an intermediary"),
                              _l("Record the intermediary when there is one (CUS-05).")),
})


class DailyRegistrationView(ReadLoggedMixin, WorkflowViewMixin, VersionedFormMixin, AppModelView):
    """客户信息登记表: one form per sales manager per day; submit by 10:00 the next morning."""

    datamodel = SQLAInterface(DailyRegistration)
    workflow = REGISTRATION_WORKFLOW
    list_title = _l("Customer registration forms")
    show_title = _l("Customer registration form")
    add_title = _l("New customer registration form")
    edit_title = _l("Edit the registration form")
    list_columns = ["form_date", "manager", "status", "due_at", "submitted_at", "late"]
    show_columns = ["form_date", "manager", "status", "due_at", "submitted_at", "late", "note",
                    "created_at"]
    add_columns = ["form_date", "note"]
    edit_columns = ["note"]
    search_columns = ["manager", "form_date", "status", "late", "submitted_at"]
    base_order = ("form_date", "desc")
    label_columns = LABELS
    related_views = [RegistrationEntryView]
    show_template = "customers/registration_show.html"

    def pre_add(self, item):
        service.prepare_registration(item, current_actor())

    def check_update(self, item):
        service.ensure_registration_editable(item, current_actor())

    @expose("/print/<int:pk>")
    @has_access
    @permission_name("show")
    def print_form(self, pk):
        from .forms import form_page

        return form_page("registration", pk)


class CustomerView(ReadLoggedMixin, AppModelView):
    datamodel = SQLAInterface(Customer)
    list_title = _l("Customers")
    show_title = _l("Customer")
    list_columns = ["name", "kind", "company_name", "phone", "intention", "intended", "owner",
                    "owned_since"]
    show_columns = ["name", "kind", "company_name", "phone", "id_number", "intention", "intended",
                    "owner", "owned_since", "purged", "created_at"]
    search_columns = ["name", "company_name", "phone", "intended", "owner", "owned_since"]
    base_order = ("owned_since", "desc")
    label_columns = LABELS
    related_views = [RegistrationEntryView]
    show_template = "customers/confidential_show.html"
    # Customers are created from submitted registration forms (CUS-03).
    exclude_route_methods = {"add", "edit", "delete"}


class OwnershipConflictView(AppModelView):
    formatters_columns = BOOLEAN_FORMATTERS
    datamodel = SQLAInterface(OwnershipConflict)
    list_title = _l("Ownership conflicts")
    show_title = _l("Ownership conflict")
    list_columns = ["detected_at", "customer", "matched_on", "owner", "owner_registered_at",
                    "claimant", "claimant_registered_at", "outcome"]
    show_columns = list_columns + ["resolution", "entry"]
    search_columns = ["detected_at", "owner", "claimant", "outcome", "matched_on"]
    base_order = ("detected_at", "desc")
    label_columns = {**LABELS, "owner": _l("Owner (earlier registration)")}
    exclude_route_methods = {"add", "edit", "delete"}


class ReceptionVisitView(AppModelView):
    """CUS-04: who a visitor at reception is passed to."""

    formatters_columns = BOOLEAN_FORMATTERS
    datamodel = SQLAInterface(ReceptionVisit)
    list_title = _l("Reception visits")
    show_title = _l("Reception visit")
    add_title = _l("Receive a visitor")
    list_columns = ["visited_at", "visitor_name", "is_referral", "named_manager", "routed_to",
                    "reason"]
    show_columns = ["visited_at", "visitor_name", "phone", "is_referral", "referrer",
                    "named_manager", "routed_to", "reason", "note", "created_by"]
    add_columns = ["visitor_name", "phone", "is_referral", "referrer", "named_manager", "note"]
    search_columns = ["visited_at", "visitor_name", "routed_to", "reason"]
    base_order = ("visited_at", "desc")
    label_columns = LABELS
    description_columns = {
        "named_manager": _l("Leave empty when the visitor cannot name the manager: the manager on duty receives them."),
    }
    exclude_route_methods = {"edit", "delete"}

    def pre_add(self, item):
        service.route_visitor_item(item, current_actor())

    def post_add(self, item):
        service.announce_visit(item)
        db.session.commit()
        if item.routed_to is not None:
            flash(_("Pass the visitor to %(name)s.", name=str(item.routed_to)), "info")


_forms(ReceptionVisitView, {"is_referral": _flag(_l("Referred by a customer"))})


# ---------------------------------------------------------------------------
# Archives (CUS-06, CUS-07, CUS-08)
# ---------------------------------------------------------------------------

class ArchiveTrackingView(ReadLoggedMixin, VersionedFormMixin, AppModelView):
    datamodel = SQLAInterface(ArchiveTrackingEntry)
    list_title = _l("Tracking log")
    show_title = _l("Tracking entry")
    add_title = _l("Add to the tracking log")
    edit_title = _l("Correct a tracking entry")
    list_columns = ["archive", "tracked_on", "manner", "content", "next_step"]
    show_columns = ["archive", "tracked_on", "manner", "content", "next_step", "created_by",
                    "created_at"]
    add_columns = ["archive", "tracked_on", "manner", "content", "next_step"]
    edit_columns = ["tracked_on", "manner", "content", "next_step"]
    search_columns = ["archive", "tracked_on", "manner"]
    base_order = ("tracked_on", "desc")
    label_columns = LABELS
    add_form_query_rel_fields = {"archive": [["id", ActiveOwnArchives, None]]}

    def pre_add(self, item):
        service.prepare_tracking(item, current_actor())

    def check_update(self, item):
        service.prepare_tracking(item, current_actor())


class ArchiveFilingView(AppModelView):
    datamodel = SQLAInterface(ArchiveFiling)
    audit_exports = True
    list_title = _l("Month-end filings")
    show_title = _l("Month-end filing")
    list_columns = ["period", "archive", "manager", "filed_at", "due_at", "late"]
    show_columns = ["period", "archive", "manager", "filed_at", "due_at", "late"]
    search_columns = ["period", "manager", "late", "filed_at"]
    base_order = ("period", "desc")
    label_columns = {**LABELS, "due_at": _l("Due by (month end)")}
    formatters_columns = BOOLEAN_FORMATTERS
    exclude_route_methods = {"add", "edit", "delete"}


class ArchiveFileView(ReadLoggedMixin, WorkflowViewMixin, VersionedFormMixin, AppModelView):
    """客户档案表: basic information, tracking log, credentials, month-end filings."""

    datamodel = SQLAInterface(ArchiveFile)
    workflow = ARCHIVE_WORKFLOW
    show_attachments = True
    list_title = _l("Customer archives")
    show_title = _l("Customer archive")
    add_title = _l("Open a customer archive")
    edit_title = _l("Update the customer archive")
    list_columns = ["archive_no", "customer", "manager", "category", "status", "opened_on",
                    "last_filed_at", "closed_on"]
    show_columns = ["archive_no", "customer", "manager", "category", "status", "contact_person",
                    "contact_phone", "address", "industry", "source", "requirement", "summary",
                    "opened_on", "last_filed_at", "closed_on", "destroyed_on"]
    add_columns = ["customer", "contact_person", "contact_phone", "address", "industry", "source",
                   "requirement", "summary"]
    edit_columns = ["contact_person", "contact_phone", "address", "industry", "source",
                    "requirement", "summary"]
    search_columns = ["archive_no", "customer", "manager", "category", "status", "opened_on",
                      "closed_on", "last_filed_at"]
    base_order = ("archive_no", "desc")
    label_columns = LABELS
    related_views = [ArchiveTrackingView, ArchiveFilingView]
    show_template = "customers/archive_show.html"
    add_form_query_rel_fields = {"customer": [["id", VisibleRowsFilter, None]]}

    def pre_add(self, item):
        service.prepare_archive(item, current_actor())

    def post_add(self, item):
        service.after_archive_opened(item.id)

    def check_update(self, item):
        service.ensure_archive_editable(item, current_actor())

    @expose("/print/<int:pk>")
    @has_access
    @permission_name("show")
    def print_archive(self, pk):
        from .forms import form_page

        return form_page("archive", pk)


class DueForDestructionView(ArchiveFileView):
    """Closed archives past their retention period (CUS-10)."""

    class_permission_name = "ArchiveFileView"
    route_base = "/archives-due-for-destruction"
    list_title = _l("Archives due for destruction")
    base_filters = visible_rows() + [["id", DueForDestruction, None]]
    related_views = []


class ArchiveAccessGrantView(VersionedFormMixin, AppModelView):
    """The general manager's time-limited permission to read forms and archives (CUS-06)."""

    formatters_columns = BOOLEAN_FORMATTERS
    datamodel = SQLAInterface(ArchiveAccessGrant)
    list_title = _l("Read permissions")
    show_title = _l("Read permission")
    add_title = _l("Permit reading")
    list_columns = ["grantee", "scope", "archive", "registration", "valid_from", "valid_until",
                    "revoked_at", "created_by"]
    show_columns = ["grantee", "scope", "archive", "registration", "reason", "valid_from",
                    "valid_until", "revoked_at", "created_by", "created_at"]
    add_columns = ["grantee", "scope", "archive", "registration", "reason", "valid_until"]
    search_columns = ["grantee", "scope", "valid_until", "revoked_at"]
    base_order = ("valid_until", "desc")
    label_columns = {**LABELS, "registration": _l("Registration form")}
    exclude_route_methods = {"edit", "delete"}
    show_template = "customers/grant_show.html"

    def pre_add(self, item):
        service.prepare_grant(item, current_actor())

    def post_add(self, item):
        service.announce_grant(item)
        db.session.commit()

    @expose("/revoke/<int:pk>", methods=["POST"])
    @has_access
    @permission_name("revoke")
    def revoke(self, pk):
        try:
            service.revoke_grant(pk, current_actor(), request.form.get("version"))
        except DomainError as error:
            _flash_error(error)
        else:
            flash(_("The permission was revoked."), "success")
        return redirect(url_for(".show", pk=pk))


# ---------------------------------------------------------------------------
# Lending (CUS-09) and destruction (CUS-10)
# ---------------------------------------------------------------------------

_forms(ArchiveAccessGrantView, {"scope": _choice(GrantScope, _l("Scope"), GrantScope.ARCHIVE)})


class ArchiveLoanView(WorkflowViewMixin, AppModelView):
    datamodel = SQLAInterface(ArchiveLoan)
    workflow = LOAN_WORKFLOW
    list_title = _l("Archive loans")
    show_title = _l("Archive loan")
    add_title = _l("Apply to borrow archives")
    list_columns = ["id", "borrower", "files", "purpose", "expected_return", "status",
                    "register_no", "due_on", "returned_at"]
    show_columns = ["borrower", "files", "purpose", "expected_return", "status", "register_no",
                    "issued_at", "due_on", "returned_at", "created_at"]
    add_columns = ["files", "purpose", "expected_return"]
    search_columns = ["borrower", "status", "expected_return", "due_on", "issued_at",
                      "register_no"]
    base_order = ("id", "desc")
    label_columns = {**LABELS, "id": _l("No.")}
    exclude_route_methods = {"edit", "delete"}
    add_form_query_rel_fields = {"files": [["id", LendableArchives, None]]}
    # One applies to borrow archives one may not read yet (CUS-09): the form offers
    # every lendable archive, found by its number only, never by its content.
    remote_beyond_visibility = {"files": ("archive_no",)}
    formatters_columns = {**BOOLEAN_FORMATTERS,
                          "files": lambda files: "、".join(str(item) for item in files or [])}

    def pre_add(self, item):
        service.prepare_loan(item, current_actor())

    def post_add(self, item):
        service.after_loan_applied(item.id)

    @expose("/register")
    @has_access
    @permission_name("list")
    def lending_register(self):
        """借阅登记簿: the printed lending register."""
        from .forms import form_page

        return form_page("lending_register")


class LendingRegisterView(ArchiveLoanView):
    class_permission_name = "ArchiveLoanView"
    route_base = "/lending-register"
    list_title = _l("Lending register")
    list_template = "customers/lending_register_list.html"
    base_filters = visible_rows() + [["id", InLendingRegister, None]]
    base_order = ("issued_at", "desc")


class OverdueLoanView(ArchiveLoanView):
    class_permission_name = "ArchiveLoanView"
    route_base = "/overdue-loans"
    list_title = _l("Overdue loans")
    base_filters = visible_rows() + [["id", OverdueLoans, None]]


class ArchiveDestructionView(WorkflowViewMixin, AppModelView):
    formatters_columns = BOOLEAN_FORMATTERS
    datamodel = SQLAInterface(ArchiveDestruction)
    workflow = DESTRUCTION_WORKFLOW
    list_title = _l("Archive destructions")
    show_title = _l("Archive destruction")
    add_title = _l("Apply to destroy an archive")
    list_columns = ["id", "archive", "status", "retention_ends", "destroyed_on", "method",
                    "executor", "witness"]
    show_columns = ["archive", "status", "reason", "retention_ends", "method", "executor",
                    "witness", "destroyed_on", "purge_summary", "created_by", "created_at"]
    add_columns = ["archive", "reason"]
    search_columns = ["archive", "status", "destroyed_on", "retention_ends"]
    base_order = ("id", "desc")
    label_columns = {**LABELS, "id": _l("No."), "reason": _l("Reason")}
    exclude_route_methods = {"edit", "delete"}
    show_template = "customers/destruction_show.html"
    add_form_query_rel_fields = {"archive": [["id", DueForDestruction, None]]}

    def pre_add(self, item):
        service.prepare_destruction(item, current_actor())

    def post_add(self, item):
        service.after_destruction_applied(item.id)

    @expose("/print/<int:pk>")
    @has_access
    @permission_name("show")
    def print_record(self, pk):
        from .forms import form_page

        return form_page("destruction", pk)


# ---------------------------------------------------------------------------
# Assessment (CUS-11)
# ---------------------------------------------------------------------------

class CustomerAssessmentView(BaseView):
    """绩效考核: late forms and late or missed filings per manager and month, with CSV."""

    route_base = "/customer-assessment"
    default_view = "index"

    def _period(self):
        from ..deadlines import local_today
        from ..services.customers import period_of

        raw = (request.args.get("month") or "").strip()
        try:
            year, month = (int(part) for part in raw.split("-"))
            datetime.date(year, month, 1)
            return f"{year:04d}-{month:02d}"
        except ValueError:
            return period_of(local_today())

    @expose("/")
    @has_access
    @permission_name("list")
    def index(self):
        period = self._period()
        rows = service.assessment_rows(period, current_actor())
        service.record_assessment_read(period, "page")
        return self.render_template("customers/assessment.html", rows=rows, period=period,
                                    title=_("Monthly assessment of registrations and filings"))

    @expose("/export.csv")
    @has_access
    @permission_name("list")
    def export_csv(self):
        from ..exports import csv as csv_format
        from ..exports.views import content_disposition

        period = self._period()
        rows = service.assessment_rows(period, current_actor())
        service.record_assessment_read(period, "export")
        db.session.commit()
        header = [_("Month"), _("Sales manager"), _("Late registration forms"),
                  _("Late filings"), _("Missed filings"), _("Points deducted")]
        body = ([period, row["manager_name"], row["late_forms"], row["late_filings"],
                 row["missed_filings"], row["points"]] for row in rows)
        response = Response(b"".join(_encode(chunk) for chunk in csv_format.csv_chunks(header, body, 500)),
                            content_type=csv_format.CONTENT_TYPE)
        response.headers["Content-Disposition"] = content_disposition(
            _("Assessment") + " " + period, "assessment", "csv")
        response.headers["Cache-Control"] = "no-store"
        return response


def _encode(chunk):
    return chunk if isinstance(chunk, bytes) else chunk.encode("utf-8")


# ---------------------------------------------------------------------------
# REST resources
# ---------------------------------------------------------------------------

class CustomerApi(ReadLoggedApiMixin, AppModelApi):
    resource_name = "customer"
    datamodel = SQLAInterface(Customer)
    list_columns = show_columns = ["id", "name", "kind", "company_name", "phone", "id_number",
                                   "intention", "intended", "owner.id", "owner.username",
                                   "owned_since", "purged", "version"]
    exclude_route_methods = {"delete", "post", "put"}


class DailyRegistrationApi(ReadLoggedApiMixin, WorkflowApiMixin, AppModelApi):
    resource_name = "daily_registration"
    datamodel = SQLAInterface(DailyRegistration)
    workflow = REGISTRATION_WORKFLOW
    list_columns = show_columns = ["id", "form_date", "manager.id", "manager.username", "status",
                                   "due_at", "submitted_at", "late", "note", "version"]
    add_columns = ["form_date", "note"]
    edit_columns = ["note"]  # no PUT; keeps _info from listing every entry (CUS-06)
    exclude_route_methods = {"delete", "put"}

    def pre_add(self, item):
        service.prepare_registration(item, current_actor())


class RegistrationEntryApi(ReadLoggedApiMixin, AppModelApi):
    resource_name = "registration_entry"
    datamodel = SQLAInterface(RegistrationEntry)
    list_columns = show_columns = ["id", "registration.id", "channel", "customer_name", "kind",
                                   "company_name", "phone", "id_number", "intention", "intended",
                                   "has_intermediary", "intermediary", "referrer", "requirement",
                                   "registered_at", "customer.id", "version"]
    add_columns = ["registration", "channel", "customer_name", "kind", "company_name", "phone",
                   "id_number", "intention", "intended", "has_intermediary", "intermediary",
                   "referrer", "requirement"]
    # _info offers related rows as choices: only those the form would accept (CUS-06).
    add_query_rel_fields = {"registration": [["id", OwnDraftRegistrations, None]]}
    edit_columns = RegistrationEntryView.edit_columns  # no PUT
    exclude_route_methods = {"delete", "put"}

    def pre_add(self, item):
        service.prepare_entry(item, current_actor())


class ArchiveFileApi(ReadLoggedApiMixin, WorkflowApiMixin, AppModelApi):
    resource_name = "archive_file"
    datamodel = SQLAInterface(ArchiveFile)
    workflow = ARCHIVE_WORKFLOW
    list_columns = show_columns = ["id", "archive_no", "customer.id", "customer.name",
                                   "manager.id", "manager.username", "category", "status",
                                   "contact_person", "contact_phone", "address", "industry",
                                   "source", "requirement", "summary", "opened_on",
                                   "last_filed_at", "closed_on", "destroyed_on", "version"]
    add_columns = ["customer", "contact_person", "contact_phone", "address", "industry", "source",
                   "requirement", "summary"]
    # _info offers related rows as choices: only those the form would accept (CUS-06).
    add_query_rel_fields = {"customer": [["id", VisibleRowsFilter, None]]}
    edit_columns = ArchiveFileView.edit_columns  # no PUT
    exclude_route_methods = {"delete", "put"}

    def pre_add(self, item):
        service.prepare_archive(item, current_actor())

    def post_add(self, item):
        service.after_archive_opened(item.id)


class ArchiveLoanApi(WorkflowApiMixin, AppModelApi):
    resource_name = "archive_loan"
    datamodel = SQLAInterface(ArchiveLoan)
    workflow = LOAN_WORKFLOW
    list_columns = show_columns = ["id", "borrower.id", "borrower.username", "files.id",
                                   "files.archive_no", "purpose", "expected_return", "status",
                                   "register_no", "issued_at", "due_on", "returned_at", "version"]
    add_columns = ["files", "purpose", "expected_return"]
    # _info offers related rows as choices: only those the form would accept (CUS-06).
    add_query_rel_fields = {"files": [["id", LendableArchives, None]]}
    edit_columns = ["purpose"]  # no PUT
    exclude_route_methods = {"delete", "put"}

    def pre_add(self, item):
        service.prepare_loan(item, current_actor())

    def post_add(self, item):
        service.after_loan_applied(item.id)


class ArchiveDestructionApi(WorkflowApiMixin, AppModelApi):
    resource_name = "archive_destruction"
    datamodel = SQLAInterface(ArchiveDestruction)
    workflow = DESTRUCTION_WORKFLOW
    list_columns = show_columns = ["id", "archive.id", "archive.archive_no", "status", "reason",
                                   "retention_ends", "method", "executor", "witness",
                                   "destroyed_on", "purge_summary", "version"]
    add_columns = ["archive", "reason"]
    # _info offers related rows as choices: only those the form would accept (CUS-06).
    add_query_rel_fields = {"archive": [["id", DueForDestruction, None]]}
    edit_columns = ["reason"]  # no PUT
    exclude_route_methods = {"delete", "put"}

    def pre_add(self, item):
        service.prepare_destruction(item, current_actor())

    def post_add(self, item):
        service.after_destruction_applied(item.id)


# ---------------------------------------------------------------------------
# Registration
# ---------------------------------------------------------------------------

CATEGORY = "Customers"


def _choice_label(record, field):
    from sqlalchemy import inspect

    column = inspect(type(record)).columns.get(field)
    choices = column.info.get("choices") if column is not None else None
    value = getattr(record, field)
    return str(choices.label(value)) if choices is not None and value else (value or "")


def _attachment_kind_label(record, kind):
    from ..services.attachments import attachment_kinds

    return str(dict(attachment_kinds(type(record))).get(kind, kind))


def _loan_steps(loan):
    from ..models.org import user_display_name

    return {step.action: user_display_name(step.actor) for step in LOAN_WORKFLOW.history(loan)}


def _step_label(step):
    transition = DESTRUCTION_WORKFLOW.transitions.get(step.action)
    return str(transition.label) if transition else step.action


def _can_revoke_grant():
    return service.GENERAL_MANAGER in service._roles(current_actor())


def _is_custodian():
    return service.CUSTODIAN in service._roles(current_actor())


def _setting(key):
    from ..services.settings import get_setting

    return get_setting(key)


def _is_purged(view, pk):
    record = db.session.get(view.datamodel.obj, pk)
    if isinstance(record, Customer):
        return record.purged
    if isinstance(record, RegistrationEntry):
        return record.customer is not None and record.customer.purged
    if isinstance(record, ArchiveFile):
        return record.status == ArchiveStatus.DESTROYED
    return False


def _locale():
    from flask_babel import get_locale

    return str(get_locale() or "zh")


def _log_credential_download(response):
    """CUS-06: downloading a credential copy of an archive is a read of the archive.

    The shared attachment download has no hook of its own, so this app-level
    ``after_request`` writes the read entry for successful downloads of files
    attached to a customer archive.
    """
    if request.endpoint != "AttachmentView.download" or response.status_code not in (200, 206):
        return response
    from ..models.attachments import Attachment

    try:
        attachment = db.session.get(Attachment, (request.view_args or {}).get("attachment_id"))
        if attachment is not None and attachment.owner_table == ArchiveFile.__tablename__:
            archive = db.session.get(ArchiveFile, attachment.owner_id)
            if archive is not None:
                service.record_read(archive, "attachment_download", attachment_id=attachment.id,
                                    kind=attachment.kind)
                db.session.commit()
    except Exception:  # never break a download that was allowed; the trail logs its own errors
        db.session.rollback()
        import logging

        logging.getLogger(__name__).exception("could not record the credential download")
    return response


def register_customers_views(appbuilder):
    """Add this module's views, APIs and menu entries."""
    from flask import current_app

    if _log_credential_download not in current_app.after_request_funcs.get(None, []):
        current_app.after_request(_log_credential_download)

    current_app.jinja_env.globals.update(
        cus_choice_label=_choice_label, cus_attachment_kind_label=_attachment_kind_label,
        cus_loan_steps=_loan_steps, cus_step_label=_step_label,
        cus_can_revoke_grant=_can_revoke_grant, cus_setting=_setting, cus_locale=_locale,
        cus_is_purged=_is_purged, cus_is_custodian=_is_custodian,
    )
    menu = dict(category=CATEGORY, category_label=_l("Customers & archives"),
                category_icon="fa-address-book")
    appbuilder.add_view(DailyRegistrationView, "Registration forms",
                        label=_l("Customer registration forms"), icon="fa-list-alt", **menu)
    appbuilder.add_view(ReceptionVisitView, "Reception visits", label=_l("Reception visits"),
                        icon="fa-handshake-o", **menu)
    appbuilder.add_view(CustomerView, "Customers", label=_l("Customers"), icon="fa-users", **menu)
    appbuilder.add_view(OwnershipConflictView, "Ownership conflicts",
                        label=_l("Ownership conflicts"), icon="fa-random", **menu)
    appbuilder.add_view(ArchiveFileView, "Customer archives", label=_l("Customer archives"),
                        icon="fa-archive", **menu)
    appbuilder.add_view(ArchiveFilingView, "Month-end filings", label=_l("Month-end filings"),
                        icon="fa-calendar-check-o", **menu)
    appbuilder.add_view(ArchiveAccessGrantView, "Read permissions", label=_l("Read permissions"),
                        icon="fa-key", **menu)
    appbuilder.add_view(ArchiveLoanView, "Archive loans", label=_l("Archive loans"),
                        icon="fa-exchange", **menu)
    appbuilder.add_view(LendingRegisterView, "Lending register", label=_l("Lending register"),
                        icon="fa-book", **menu)
    appbuilder.add_view(OverdueLoanView, "Overdue loans", label=_l("Overdue loans"),
                        icon="fa-clock-o", **menu)
    appbuilder.add_view(ArchiveDestructionView, "Archive destructions",
                        label=_l("Archive destructions"), icon="fa-trash", **menu)
    appbuilder.add_view(DueForDestructionView, "Due for destruction",
                        label=_l("Archives due for destruction"), icon="fa-hourglass-end", **menu)
    appbuilder.add_view(CustomerAssessmentView, "Customer assessment",
                        label=_l("Monthly assessment"), icon="fa-line-chart", **menu)
    appbuilder.add_view_no_menu(RegistrationEntryView)
    appbuilder.add_view_no_menu(ArchiveTrackingView)
    for api in (CustomerApi, DailyRegistrationApi, RegistrationEntryApi, ArchiveFileApi,
                ArchiveLoanApi, ArchiveDestructionApi):
        appbuilder.add_api(api)
