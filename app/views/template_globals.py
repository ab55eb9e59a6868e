"""Functions the templates may call; each only reads."""
from flask import current_app
from flask_login import current_user  # templates render for cookie sessions only

from ..extensions import db
from ..models.org import user_display_name
from ..timeutil import format_local


def workflow_panel(view, pk):
    """State, allowed steps and past steps of the record shown by ``view``."""
    workflow = getattr(view, "workflow", None)
    if workflow is None:
        return None
    record = db.session.get(workflow.model, pk)
    from ..services.workflow import allowed_steps

    if record is None:
        return None
    state = workflow.state_of(record)
    return {
        "workflow": workflow,
        "record": record,
        "state": state,
        "state_label": workflow.state_label(state),
        "state_colour": workflow.states[state].colour if state in workflow.states else "default",
        "actions": allowed_steps(workflow, record, current_user),
        "history": workflow.history(record),
    }


def home_deadlines(limit=20):
    """The current user's open deadlines for the home page, overdue first."""
    from ..deadlines import deadline_label, deadline_link, due_and_overdue_for
    from ..models.base import utcnow

    now = utcnow()
    return [
        {"label": deadline_label(deadline), "link": deadline_link(deadline),
         "due_at": deadline.due_at, "overdue": deadline.due_at < now}
        for deadline in due_and_overdue_for(current_user)[:limit]
    ]


def home_unread_notifications(limit=8):
    from ..models.notifications import Notification
    from ..services.notifications import own_notifications

    return own_notifications(current_user).filter(Notification.read_at.is_(None)).limit(limit).all()


def install_template_globals(_app=None):
    app = _app or current_app
    app.jinja_env.filters["local_datetime"] = format_local
    app.jinja_env.globals.update(
        user_display_name=user_display_name,
        workflow_panel=workflow_panel,
        home_deadlines=home_deadlines,
        home_unread_notifications=home_unread_notifications,
    )
