"""Taking a workflow step: the one service behind the web buttons, the API and the CLI."""
from ..extensions import db
from .errors import RecordNotVisible
from .transaction import transactional


@transactional
def take_step(workflow, record_id, action, actor, version, comment=None, payload=None):
    """Load the record, let the workflow engine check and take ``action``, commit.

    Raises RecordNotVisible (404), InvalidInput (422), StaleVersion (409) or
    TransitionRefused (403); on any of them nothing is written.
    """
    record = db.session.get(workflow.model, record_id)
    if record is None:
        raise RecordNotVisible()
    return workflow.perform(record, action, actor, version, comment=comment, payload=payload)


def allowed_steps(workflow, record, actor):
    """The steps ``actor`` may take on ``record`` (what the page shows as buttons)."""
    from ..security.visibility import can_see

    if record is None or not can_see(actor, record):
        return []
    return workflow.allowed_actions(record, actor)
