"""Who is acting: the logged-in user, or the user a CLI command acts as.

The audit listener, RecordMixin stamps and the workflow engine all ask here,
so an entry made from the web, the API or the command line names its actor
the same way. ``acting_for`` names the absent person a delegate acts for.
"""
from contextlib import contextmanager

from flask import current_app, g, has_app_context, has_request_context, request


def current_actor():
    """The user on whose behalf the current code runs, or None (system)."""
    if has_app_context() and getattr(g, "audit_actor", None) is not None:
        return g.audit_actor
    if has_request_context():
        # FAB's answer covers the session cookie, a JWT bearer token and API keys.
        try:
            user = current_app.appbuilder.sm.current_user
        except RuntimeError:  # JWT machinery outside a JWT-verified request
            user = None
        if user is not None and getattr(user, "is_authenticated", False):
            return user._get_current_object() if hasattr(user, "_get_current_object") else user
    return None


def current_acting_for():
    if has_app_context():
        return getattr(g, "audit_acting_for", None)
    return None


def current_remote_addr():
    if has_request_context():
        return request.remote_addr
    return None


@contextmanager
def acting_as(user, acting_for=None):
    """Run a block as ``user`` (CLI, seed data, background jobs)."""
    previous = getattr(g, "audit_actor", None), getattr(g, "audit_acting_for", None)
    g.audit_actor, g.audit_acting_for = user, acting_for
    try:
        yield user
    finally:
        g.audit_actor, g.audit_acting_for = previous


@contextmanager
def acting_for(principal):
    """Mark the writes of a block as made on behalf of ``principal``."""
    previous = getattr(g, "audit_acting_for", None)
    g.audit_acting_for = principal
    try:
        yield principal
    finally:
        g.audit_acting_for = previous
