"""The home page: what waits for the person who opens it.

"What waits for me" is read from the workflow tables themselves: for every
approval chain, the steps whose roles the user holds (or that name an
assignee), and among the records the user may see in those steps' source
states, the ones where the engine would accept the step from this user now.
Nothing here is written per role, so a new workflow shows up by itself.
Each panel is bounded: the first PER_PANEL records, counted over at most
SCAN_LIMIT candidates.
"""
from flask_appbuilder import IndexView, expose
from flask_login import current_user

from ..extensions import db
from ..models.base import utcnow
from ..security.visibility import visible_query

PER_PANEL = 10
SCAN_LIMIT = 200

# Steps that are always open to their assignee but are not work waiting for them:
# withdrawing one's own request, linking a duplicate, closing an archive early,
# and steps that leave the state unchanged (the monthly filing, which has its own
# deadline on the home page).
OPTIONAL_ACTIONS = frozenset({"cancel", "withdraw", "link_duplicate", "close_deal",
                              "close_not_closed", "reopen"})
# Steps that wait only when a guard of the following step asks for them:
# ``{step: (following step, guard name)}`` (a meeting before a major decision, CMP-07).
PREREQUISITES = {"record_meeting": ("decide", "meeting_if_major")}


def _role_names(user):
    return {role.name for role in getattr(user, "roles", None) or []}


def _candidate_transitions(workflow, roles):
    """Steps of ``workflow`` this user could be expected to take, by the table alone."""
    found = []
    for transition in workflow.transitions.values():
        if transition.name in OPTIONAL_ACTIONS or transition.sources == (transition.target,):
            continue
        if set(transition.roles) & roles or (not transition.roles and transition.assignee):
            found.append(transition)
    return found


def _needed(workflow, record, transition, user):
    """False for a prerequisite step the following step does not ask for on this record."""
    from ..workflows.engine import Context

    prerequisite = PREREQUISITES.get(transition.name)
    if prerequisite is None:
        return True
    following_name, guard_name = prerequisite
    following = workflow.transitions.get(following_name)
    if following is None:
        return True
    ctx = Context(workflow, following, record, user)
    return any(guard.name == guard_name and guard(ctx) for guard in following.guards)


def pending_steps(user, per_panel=PER_PANEL, scan_limit=SCAN_LIMIT):
    """One panel per workflow with records waiting for ``user``'s step.

    Returns ``[{"workflow", "label", "count", "more", "items": [{"record_id",
    "title", "link", "actions": [labels]}]}]``; ``more`` is True when the
    count stopped at ``scan_limit`` candidates.
    """
    from ..deadlines import record_path
    from ..workflows import all_workflows

    if user is None or not getattr(user, "is_authenticated", True):
        return []
    roles = _role_names(user)
    panels = []
    for workflow in all_workflows().values():
        transitions = _candidate_transitions(workflow, roles)
        if not transitions:
            continue
        model = workflow.model
        states = sorted({state for transition in transitions for state in transition.sources})
        query = visible_query(db.session.query(model), model, user).filter(
            getattr(model, workflow.state_field).in_(states))
        candidates = query.order_by(model.id).limit(scan_limit + 1).all()
        more = len(candidates) > scan_limit
        items, count = [], 0
        for record in candidates[:scan_limit]:
            # Returning or rejecting is always possible beside the step that moves the
            # record on; on its own (a manager who could send back someone else's step)
            # it is not work waiting for this user.
            actions = [transition for transition in transitions
                       if transition.style != "danger"
                       and workflow.state_of(record) in transition.sources
                       and workflow.refusal(record, transition.name, user)[0] is None
                       and _needed(workflow, record, transition, user)]
            if not actions:
                continue
            count += 1
            if len(items) < per_panel:
                items.append({
                    "record_id": record.id, "title": str(record),
                    "link": record_path(model.__tablename__, record.id),
                    "actions": [str(transition.label) for transition in actions],
                })
        if count:
            panels.append({"workflow": workflow.name, "label": str(workflow.label),
                           "count": count, "more": more, "items": items})
    return panels


def visits_due(user, per_panel=PER_PANEL, now=None):
    """Planned return visits assigned to ``user``, soonest due first: (count, first rows)."""
    try:
        from ..models.visits import ReturnVisit, VisitStatus
    except ImportError:  # pragma: no cover - the visits module ships with the product
        return 0, []
    now = now or utcnow()
    query = visible_query(db.session.query(ReturnVisit), ReturnVisit, user).filter(
        ReturnVisit.visitor_id == user.id, ReturnVisit.status == VisitStatus.PLANNED)
    count = query.order_by(None).count()
    from ..deadlines import record_path

    rows = [{"title": str(visit), "customer": visit.customer_name or "", "due_at": visit.due_at,
             "overdue": visit.due_at < now,
             "link": record_path(ReturnVisit.__tablename__, visit.id)}
            for visit in query.order_by(ReturnVisit.due_at, ReturnVisit.id).limit(per_panel)]
    return count, rows


def overdue_count(user, now=None):
    from ..deadlines import deadline_query

    return deadline_query(user=user, overdue_at=now or utcnow()).order_by(None).count()


class HomeView(IndexView):
    """Landing page after login: what waits for the user."""

    index_template = "home.html"

    @expose("/")
    def index(self):
        self.update_redirect()
        context = {}
        if current_user.is_authenticated:
            steps = pending_steps(current_user)
            visit_count, visit_rows = visits_due(current_user)
            context = {
                "pending_panels": steps,
                "pending_total": sum(panel["count"] for panel in steps),
                "visit_count": visit_count, "visit_rows": visit_rows,
                "overdue_total": overdue_count(current_user),
            }
        return self.render_template(self.index_template, appbuilder=self.appbuilder, **context)
