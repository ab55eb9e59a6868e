"""Inbox, "my deadlines" and the working calendar (administrators).

Declarations only: reading and marking notifications goes through
``services.notifications``, deadlines and the calendar through
``app.deadlines``.
"""
from flask import abort, current_app, flash, g, has_request_context, redirect, request, url_for
from flask_appbuilder import expose
from flask_appbuilder.api import safe
from flask_appbuilder.models.filters import BaseFilter
from flask_appbuilder.models.sqla.filters import FilterEqualFunction
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_appbuilder.security.decorators import has_access, permission_name, protect
from flask_appbuilder.widgets import ListWidget
from flask_babel import format_date
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup
from wtforms import BooleanField

from .. import deadlines
from ..audit.context import current_actor
from ..extensions import db
from ..models.base import utcnow
from ..models.deadlines import CalendarDay, CalendarSource, Deadline, DeadlineStatus
from ..models.notifications import Notification
from ..security.roles import role_label
from ..services import notifications as notification_service
from ..services.errors import InvalidInput, RecordNotVisible
from ..timeutil import format_local
from .base import AppModelApi, AppModelView, visible_rows

# Views that show records, not edit them: no form doors, no bulk actions.
READ_ONLY_ROUTES = {"add", "edit", "delete", "download", "action", "action_post"}


# ---------------------------------------------------------------------------
# Formatters (FAB passes a column's value only)
# ---------------------------------------------------------------------------

def _current_user_id():
    return getattr(current_actor(), "id", None)


def _own_rows():
    """Only the current user's rows, administrators included (an inbox is personal)."""
    return [["user_id", FilterEqualFunction, _current_user_id]]


def _choice_label(choice_set):
    def render(value):
        return Markup('<span class="label label-%s">%s</span>') % (
            choice_set.colour(value), choice_set.label(value))

    return render


def _local(value):
    return format_local(value)


def _read_state(is_read):
    if is_read:
        return Markup('<span class="text-muted">%s</span>') % _("Read")
    return Markup('<span class="label label-primary">%s</span>') % _("Unread")


def _link(link):
    if not link:
        return ""
    return Markup('<a href="%s">%s</a>') % (link, _("View"))


def _record_link(record_ref):
    record_table, record_id = record_ref
    title = deadlines.record_title(record_table, record_id)
    path = deadlines.record_path(record_table, record_id)
    return Markup('<a href="%s">%s</a>') % (path, title) if path else title


def _state_label(state):
    from ..workflows import all_workflows

    for workflow in all_workflows().values():
        if state in workflow.states:
            return workflow.state_label(state)
    return state


def _overdue(value):
    if not value:
        return ""
    return Markup('<span class="label label-danger">%s</span>') % _("Overdue")


def _yes_no(value):
    return _("Yes") if value else _("No")


def _day(value):
    return format_date(value, "yyyy-MM-dd EEE") if value else ""


def _workday(value):
    if value:
        return Markup('<span class="label label-default">%s</span>') % _("Working day")
    return Markup('<span class="label label-success">%s</span>') % _("Day off")


# ---------------------------------------------------------------------------
# Inbox
# ---------------------------------------------------------------------------

class InboxListWidget(ListWidget):
    """FAB's list with a "mark read" button beside each unread row's show button."""

    template = "notifications/list_widget.html"


NOTIFICATION_LABELS = {
    "is_read": _l("Status"), "subject": _l("Subject"), "body": _l("Message"),
    "link": _l("Link"), "created_at": _l("Received at"), "read_at": _l("Read at"),
    "emailed_at": _l("E-mailed at"),
}


class NotificationView(AppModelView):
    """The inbox: one's own notifications, newest first; opening one marks it read."""

    datamodel = SQLAInterface(Notification)
    base_filters = visible_rows() + _own_rows()
    exclude_route_methods = READ_ONLY_ROUTES
    list_template = "notifications/list.html"
    list_widget = InboxListWidget
    list_title = _l("Inbox")
    show_title = _l("Notification")
    list_columns = ["is_read", "subject", "created_at", "link"]
    show_columns = ["subject", "body", "link", "created_at", "read_at", "emailed_at"]
    search_columns = ["subject", "created_at", "read_at"]
    # "unread_rank" is the "unread first" order (see the model); not a column of its own.
    order_columns = ["is_read", "subject", "created_at", "unread_rank"]
    base_order = ("created_at", "desc")
    label_columns = NOTIFICATION_LABELS
    formatters_columns = {
        "is_read": _read_state, "link": _link, "created_at": _local, "read_at": _local,
        "emailed_at": _local,
    }

    def _show(self, pk):
        try:
            notification_service.mark_read(int(pk), g.user)
        except (RecordNotVisible, ValueError):
            abort(404)
        return super()._show(pk)

    @expose("/mark_read/<int:pk>", methods=["POST"])
    @has_access
    @permission_name("mark_read")
    def mark_read(self, pk):
        try:
            notification_service.mark_read(pk, g.user)
        except RecordNotVisible:
            abort(404)
        return redirect(url_for(".list"))

    @expose("/mark_all_read/", methods=["POST"])
    @has_access
    @permission_name("mark_read")
    def mark_all_read(self):
        count = notification_service.mark_all_read(g.user)
        flash(_("%(count)s notification(s) marked read.", count=count), "success")
        return redirect(url_for(".list"))


class NotificationApi(AppModelApi):
    """``/api/v1/notification/``: one's own notifications, read-only, plus marking read."""

    resource_name = "notification"
    datamodel = SQLAInterface(Notification)
    base_filters = visible_rows() + _own_rows()
    exclude_route_methods = {"post", "put", "delete"}
    list_columns = show_columns = ["id", "subject", "body", "link", "created_at", "read_at"]
    order_columns = ["id", "created_at", "read_at"]
    search_columns = ["subject", "created_at", "read_at"]
    base_order = ("created_at", "desc")

    @expose("/<int:pk>/read", methods=["POST"])
    @protect()
    @safe
    @permission_name("mark_read")
    def mark_read(self, pk):
        """Mark one of one's own notifications read
        ---
        post:
          parameters:
          - in: path
            schema:
              type: integer
            name: pk
          responses:
            200:
              description: The notification is read
            404:
              $ref: '#/components/responses/404'
        """
        try:
            notification = notification_service.mark_read(pk, g.user)
        except RecordNotVisible:
            return self.response_404()
        return self.response(200, id=notification.id, read_at=notification.read_at.isoformat())


def unread_notification_count():
    """Template global: the current user's unread notifications (the navbar badge)."""
    if not has_request_context() or not getattr(current_user, "is_authenticated", False):
        return 0
    if "unread_notification_count" not in g:
        g.unread_notification_count = notification_service.unread_count(current_user)
    return g.unread_notification_count


# ---------------------------------------------------------------------------
# My deadlines
# ---------------------------------------------------------------------------

DEADLINE_SWITCHES = {
    "open": lambda query, now: query.filter(Deadline.status == DeadlineStatus.OPEN),
    "overdue": lambda query, now: query.filter(Deadline.status == DeadlineStatus.OPEN,
                                               Deadline.due_at < now),
    "late": lambda query, now: query.filter(Deadline.status == DeadlineStatus.LATE),
    "met": lambda query, now: query.filter(Deadline.status == DeadlineStatus.MET),
    "all": lambda query, now: query,
}


class DeadlineListSwitch(BaseFilter):
    """The list's ``?show=`` switch (open by default, overdue, late, met, all).

    A base filter rather than a search filter, because "overdue" compares
    with the current time, which FAB's filters cannot express. It leaves
    the show page alone, so a link to a closed deadline still opens.
    """

    name = "Deadline list switch"
    arg_name = "deadline_switch"

    def apply(self, query, value):
        if not has_request_context() or "pk" in (request.view_args or {}):
            return query
        switch = DEADLINE_SWITCHES.get(request.args.get("show", "open"), DEADLINE_SWITCHES["open"])
        return switch(query, utcnow())


DEADLINE_LABELS = {
    "kind": _l("Deadline"), "label": _l("Description"), "record_ref": _l("Record"),
    "state": _l("Stage"), "days": _l("Days allowed"), "working_days": _l("Working days"),
    "opened_at": _l("Started at"), "due_at": _l("Due by"), "status": _l("Status"),
    "overdue": _l("Overdue"), "closed_at": _l("Closed at"), "assignee": _l("Assigned to"),
    "assignee_role": _l("Assigned role"), "reminded_at": _l("Reminder sent at"),
    "overdue_notified_at": _l("Overdue notice sent at"), "record_table": _l("Record type"),
}


class DeadlineView(AppModelView):
    """My deadlines: what the user (or a role they hold) must do, and by when (ENG-17)."""

    datamodel = SQLAInterface(Deadline)
    base_filters = visible_rows() + [["id", DeadlineListSwitch, lambda: None]]
    exclude_route_methods = READ_ONLY_ROUTES
    list_template = "notifications/deadline_list.html"
    list_title = _l("My deadlines")
    show_title = _l("Deadline")
    list_columns = ["kind", "record_ref", "state", "due_at", "status", "overdue", "assignee",
                    "assignee_role"]
    show_columns = ["kind", "label", "record_ref", "state", "days", "working_days", "opened_at",
                    "due_at", "status", "overdue", "closed_at", "assignee", "assignee_role",
                    "reminded_at", "overdue_notified_at"]
    search_columns = ["status", "kind", "record_table", "due_at", "opened_at", "closed_at"]
    order_columns = ["kind", "state", "due_at", "status"]
    base_order = ("due_at", "asc")
    label_columns = DEADLINE_LABELS
    formatters_columns = {
        "kind": deadlines.kind_label, "record_ref": _record_link, "state": _state_label,
        "status": _choice_label(DeadlineStatus), "overdue": _overdue,
        "assignee_role": lambda name: role_label(name) if name else "",
        "working_days": _yes_no, "opened_at": _local, "due_at": _local, "closed_at": _local,
        "reminded_at": _local, "overdue_notified_at": _local,
    }
    list_switches = [
        ("open", _l("Open")), ("overdue", _l("Overdue")), ("late", _l("Closed late")),
        ("met", _l("Met")), ("all", _l("All")),
    ]


# ---------------------------------------------------------------------------
# Working calendar (administrators)
# ---------------------------------------------------------------------------

class CalendarDayView(AppModelView):
    """Holidays and make-up working days; an administrator's entry is never overwritten."""

    datamodel = SQLAInterface(CalendarDay)
    exclude_route_methods = {"delete", "download", "action", "action_post"}
    list_title = _l("Working calendar")
    show_title = _l("Calendar day")
    add_title = _l("Add a holiday or make-up working day")
    edit_title = _l("Edit calendar day")
    list_columns = ["day", "is_workday", "name", "source", "note"]
    show_columns = ["day", "is_workday", "name", "source", "note", "created_by", "created_at",
                    "updated_by", "updated_at"]
    add_columns = edit_columns = ["day", "is_workday", "name", "note"]
    search_columns = ["day", "is_workday", "name", "source"]
    base_order = ("day", "desc")
    label_columns = {
        "day": _l("Date"), "is_workday": _l("Working day"), "name": _l("Holiday"),
        "source": _l("Source"), "note": _l("Note"), "created_by": _l("Created by"),
        "created_at": _l("Created at"), "updated_by": _l("Updated by"),
        "updated_at": _l("Updated at"),
    }
    description_columns = {
        "is_workday": _l("Ticked: a make-up working day (调休上班). Not ticked: a day off."),
        "name": _l("The holiday as people call it, e.g. 国庆节."),
    }
    # A NOT NULL boolean gets FAB's "required" check, which refuses an unticked box.
    add_form_extra_fields = edit_form_extra_fields = {
        "is_workday": BooleanField(_l("Working day"), default=False,
                                   description=description_columns["is_workday"]),
    }
    formatters_columns = {
        "day": _day, "is_workday": _workday, "source": _choice_label(CalendarSource),
        "created_at": _local, "updated_at": _local,
    }

    def pre_add(self, item):
        if item.day is None:
            raise InvalidInput(_("Enter a date."))
        taken = db.session.query(CalendarDay.id).filter(CalendarDay.day == item.day).first()
        if taken is not None:
            raise InvalidInput(_("%(day)s is already in the calendar: edit that entry instead.",
                                 day=item.day.isoformat()))
        item.source = CalendarSource.ADMIN

    def pre_update(self, item):
        # From now on the seed keeps this day as the administrator left it.
        item.source = CalendarSource.ADMIN


# ---------------------------------------------------------------------------
# Registration
# ---------------------------------------------------------------------------

def register_notification_views(appbuilder):
    """Inbox and "my deadlines" under Inbox; the working calendar under Settings."""
    inbox = dict(category="Inbox", category_label=_l("Inbox"), category_icon="fa-bell")
    appbuilder.add_view(NotificationView, "Inbox", label=_l("Inbox"), icon="fa-envelope",
                        **inbox)
    appbuilder.add_view(DeadlineView, "My deadlines", label=_l("My deadlines"),
                        icon="fa-clock-o", **inbox)
    appbuilder.add_view(CalendarDayView, "Working calendar", label=_l("Working calendar"),
                        icon="fa-calendar", category="Settings", category_label=_l("Settings"),
                        category_icon="fa-cogs")
    appbuilder.add_api(NotificationApi)
    current_app.jinja_env.globals["unread_notification_count"] = unread_notification_count
