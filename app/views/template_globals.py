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


def install_template_globals(_app=None):
    app = _app or current_app
    app.jinja_env.filters["local_datetime"] = format_local
    app.jinja_env.globals.update(
        user_display_name=user_display_name,
        workflow_panel=workflow_panel,
    )
