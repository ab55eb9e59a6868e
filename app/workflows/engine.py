"""The small engine that runs every approval chain (X-01).

A workflow is data: its states and a table of transitions
``action: (from states, to state, who may, guards)``. The engine checks a
requested step against that table and refuses with a reason the user can
read: an out-of-order step, a role that may not act, a failed guard
(self-approval, a step taken twice), a stale version. When it accepts, it
moves the record, writes a :class:`WorkflowTransition` (who, acting for
whom, when, comment), closes the deadlines of the state left and opens those
of the state entered, all in the caller's transaction.
"""
from dataclasses import dataclass, field
from typing import Callable, Optional

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..extensions import db
from ..models.base import utcnow
from ..models.workflow import WorkflowTransition
from ..security.visibility import ensure_visible
from ..services.errors import InvalidInput, TransitionRefused
from ..services.versions import ensure_current_version


# ---------------------------------------------------------------------------
# Declarations
# ---------------------------------------------------------------------------

@dataclass(frozen=True)
class DeadlineRule:
    """A time limit that starts when a record enters a state."""

    kind: str
    label: object
    days: int
    working_days: bool = True
    # record -> user who must act (None: whoever holds ``assignee_role``)
    assignee: Optional[Callable] = None
    assignee_role: Optional[str] = None


@dataclass(frozen=True)
class State:
    key: str
    label: object
    colour: str = "default"
    final: bool = False
    deadline: Optional[DeadlineRule] = None


@dataclass(frozen=True)
class Guard:
    """A named check: ``check(ctx)`` returns None to allow or a refusal message."""

    name: str
    check: Callable

    def __call__(self, ctx):
        return self.check(ctx)


@dataclass(frozen=True)
class Transition:
    name: str
    label: object
    sources: tuple
    target: str
    roles: tuple
    guards: tuple = ()
    # record -> the one user expected to take this step (e.g. the department
    # head). Others may act only as that user's delegate or, when that user is
    # absent, as a substitute holding one of ``substitute_roles``.
    assignee: Optional[Callable] = None
    substitute_roles: tuple = ()
    comment_required: bool = False
    # ctx -> None: domain changes made together with the step (validated payload).
    effect: Optional[Callable] = None
    style: str = "primary"


@dataclass
class Context:
    """What a guard or effect sees about the step being taken."""

    workflow: "Workflow"
    transition: Transition
    record: object
    actor: object
    acting_for: object = None
    comment: Optional[str] = None
    payload: dict = field(default_factory=dict)
    at: object = field(default_factory=utcnow)

    def previous_actors(self, *actions):
        """Ids of users who took any of ``actions`` on this record."""
        query = db.session.query(WorkflowTransition.actor_id).filter(
            WorkflowTransition.workflow == self.workflow.name,
            WorkflowTransition.record_id == self.record.id,
        )
        if actions:
            query = query.filter(WorkflowTransition.action.in_(actions))
        return {row[0] for row in query}


# ---------------------------------------------------------------------------
# The engine
# ---------------------------------------------------------------------------

def user_role_names(user):
    return {role.name for role in getattr(user, "roles", []) or []}


class Workflow:
    """States and transitions of one approval chain, and the rules to run it."""

    def __init__(self, name, model, label, states, transitions, state_field="status"):
        self.name = name
        self.model = model
        self.label = label
        self.states = {state.key: state for state in states}
        self.transitions = {transition.name: transition for transition in transitions}
        self.state_field = state_field
        for transition in transitions:
            if not transition.roles and transition.assignee is None:
                raise ValueError(f"{name}.{transition.name}: say who may take it")
            unknown = set(transition.sources + (transition.target,)) - set(self.states)
            if unknown:
                raise ValueError(f"{name}.{transition.name}: unknown states {unknown}")

    # -- reading ------------------------------------------------------------

    def state_of(self, record):
        return getattr(record, self.state_field)

    def state_label(self, key):
        state = self.states.get(key)
        return state.label if state else key

    def refusal(self, record, action, actor, at=None):
        """Why ``actor`` may not take ``action`` now, or None if they may.

        Returns ``(message, acting_for)``; ``acting_for`` is the absent user
        the actor would act for.
        """
        transition = self.transitions.get(action)
        if transition is None:
            return _("Unknown action."), None
        state = self.state_of(record)
        if state not in transition.sources:
            return (
                _(
                    "“%(action)s” cannot be taken while the record is “%(state)s”.",
                    action=transition.label,
                    state=self.state_label(state),
                ),
                None,
            )
        at = at or utcnow()
        acting_for = None
        effective_roles = user_role_names(actor)
        if transition.assignee is not None:
            expected = transition.assignee(record)
            if expected is None:
                return _("Nobody is assigned to take this step yet."), None
            if expected.id != actor.id:
                acting_for, via_delegation = _substitution(
                    actor, expected, transition, at
                )
                if acting_for is None:
                    return (
                        _(
                            "Only %(name)s, or someone acting for them during a "
                            "recorded absence, may take this step.",
                            name=_display(expected),
                        ),
                        None,
                    )
                if via_delegation:
                    effective_roles |= user_role_names(expected)
        if transition.roles and not effective_roles & set(transition.roles):
            return _("Your role may not take the step “%(action)s”.", action=transition.label), None
        ctx = Context(self, transition, record, actor, acting_for=acting_for, at=at)
        for guard in transition.guards:
            message = guard(ctx)
            if message:
                return message, None
        return None, acting_for

    def allowed_actions(self, record, actor):
        """The transitions ``actor`` may take on ``record`` now."""
        return [
            transition
            for name, transition in self.transitions.items()
            if self.refusal(record, name, actor)[0] is None
        ]

    # -- acting ---------------------------------------------------------------

    def perform(self, record, action, actor, version, comment=None, payload=None):
        """Take one step; the caller commits (see ``services.transaction``).

        Raises RecordNotVisible, StaleVersion, InvalidInput or TransitionRefused.
        """
        ensure_visible(actor, record)
        ensure_current_version(record, version)
        message, acting_for = self.refusal(record, action, actor)
        if message:
            raise TransitionRefused(message)
        transition = self.transitions[action]
        comment = (comment or "").strip() or None
        if transition.comment_required and not comment:
            raise InvalidInput(_("A comment is required for this step."), {"comment": _("Required.")})
        ctx = Context(self, transition, record, actor, acting_for, comment, dict(payload or {}))
        from ..audit.context import acting_for as audit_acting_for

        with audit_acting_for(acting_for):
            source = self.state_of(record)
            if transition.effect is not None:
                transition.effect(ctx)
            setattr(record, self.state_field, transition.target)
            db.session.add(
                WorkflowTransition(
                    workflow=self.name,
                    record_id=record.id,
                    action=transition.name,
                    from_state=source,
                    to_state=transition.target,
                    actor_id=actor.id,
                    acting_for_id=acting_for.id if acting_for is not None else None,
                    occurred_at=ctx.at,
                    comment=comment,
                )
            )
            self._move_deadlines(record, source, transition.target, ctx.at)
            db.session.flush()
        return record

    def start(self, record, at=None):
        """A new record enters its first state: open that state's deadline, if any.

        Returns the deadline opened (or None); the caller commits.
        """
        return self._open_deadline(record, self.state_of(record), at or utcnow())

    def _move_deadlines(self, record, source, target, at):
        from .. import deadlines

        deadlines.close_deadlines(self.model.__tablename__, record.id, source, at)
        self._open_deadline(record, target, at)

    def _open_deadline(self, record, state, at):
        from .. import deadlines

        rule = self.states[state].deadline
        if rule is None:
            return None
        return deadlines.open_deadline(
            record_table=self.model.__tablename__,
            record_id=record.id,
            state=state,
            kind=rule.kind,
            start=at,
            days=rule.days,
            working_days=rule.working_days,
            assignee=rule.assignee(record) if rule.assignee else None,
            assignee_role=rule.assignee_role,
            label=rule.label,
        )

    def history(self, record):
        return (
            db.session.query(WorkflowTransition)
            .filter_by(workflow=self.name, record_id=record.id)
            .order_by(WorkflowTransition.id)
            .all()
        )

    # -- documentation --------------------------------------------------------

    def mermaid(self):
        """The transition table as a Mermaid state diagram."""
        lines = ["stateDiagram-v2"]
        for key, state in self.states.items():
            lines.append(f"    {key}: {key} / {_plain(state.label)}")
        for transition in self.transitions.values():
            who = ", ".join(transition.roles) or "assignee"
            if transition.roles and transition.assignee is not None:
                who += "; assignee or acting for them"
            guards = "".join(f" [{guard.name}]" for guard in transition.guards)
            for source in transition.sources:
                lines.append(
                    f"    {source} --> {transition.target}: {transition.name} ({who}){guards}"
                )
        for key, state in self.states.items():
            if state.final:
                lines.append(f"    {key} --> [*]")
        return "\n".join(lines)


def _substitution(actor, expected, transition, at):
    """Return (principal, via_delegation) when ``actor`` may act for ``expected``."""
    from ..services.org import acting_delegate_ids, is_absent

    if actor.id in acting_delegate_ids(expected, at):
        return expected, True
    if transition.substitute_roles and is_absent(expected, at):
        if user_role_names(actor) & set(transition.substitute_roles):
            return expected, False
    return None, False


def _display(user):
    from ..models.org import user_display_name

    return user_display_name(user) if user is not None else ""


def _plain(label):
    with_labels = str(label)
    return with_labels.replace('"', "'").replace(":", " ")


# ---------------------------------------------------------------------------
# Named guards shared by the workflows
# ---------------------------------------------------------------------------

def not_self(*user_fields):
    """The actor is none of the users named by ``user_fields`` (e.g. the requester)."""
    fields = user_fields or ("created_by_id",)

    def check(ctx):
        involved = {getattr(ctx.record, name, None) for name in fields}
        if ctx.actor.id in involved:
            return _l("You cannot approve or decide on your own request.")
        return None

    return Guard("not_self", check)


def not_actor_of(*actions):
    """The actor took none of ``actions`` on this record (no one approves their own step)."""

    def check(ctx):
        if ctx.actor.id in ctx.previous_actors(*actions):
            return _l("You took an earlier step on this record and cannot also take this one.")
        return None

    return Guard("not_actor_of_" + "_".join(actions), check)


def previous_step_done(action):
    """A step named ``action`` has been taken on this record."""

    def check(ctx):
        if not ctx.previous_actors(action):
            return _l("An earlier step has not been completed yet.")
        return None

    return Guard("previous_step_done_" + action, check)
