"""Row-level visibility: who may see which record, on every door.

A domain registers, per model, a query filter and a per-record check. List
views and REST resources apply the filter through :class:`VisibleRowsFilter`
in their ``base_filters``; services call :func:`ensure_visible` because FAB's
actions and our own endpoints ignore ``base_filters``; exports reuse the
list's query and so its filter. A model with no rule is visible to everyone
who holds the view permission.
"""
from dataclasses import dataclass
from typing import Callable

from flask_appbuilder.models.filters import BaseFilter

from ..services.errors import RecordNotVisible


@dataclass(frozen=True)
class VisibilityRule:
    filter_query: Callable  # (query, user) -> query
    can_see: Callable  # (record, user) -> bool


_RULES = {}


def register_visibility(model, filter_query, can_see):
    """Declare who sees rows of ``model``."""
    _RULES[model] = VisibilityRule(filter_query, can_see)


def is_admin(user):
    from .roles import ADMIN

    return any(role.name == ADMIN for role in getattr(user, "roles", []) or [])


def visible_query(query, model, user):
    rule = _RULES.get(model)
    if rule is None or is_admin(user):
        return query
    return rule.filter_query(query, user)


def can_see(user, record):
    rule = _RULES.get(type(record))
    if rule is None or is_admin(user):
        return True
    return bool(user is not None and rule.can_see(record, user))


def ensure_visible(user, record):
    """Raise RecordNotVisible unless ``user`` may see ``record`` (None counts as missing)."""
    if record is None or not can_see(user, record):
        raise RecordNotVisible()
    return record


class VisibleRowsFilter(BaseFilter):
    """FAB base filter applying the registered rule for the current user."""

    name = "Visible to the current user"
    arg_name = "visible"

    def apply(self, query, value):
        from ..audit.context import current_actor

        return visible_query(query, self.model, current_actor())
