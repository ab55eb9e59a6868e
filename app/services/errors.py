"""Domain errors with a message the user can read; web and API map them once.

Each carries the HTTP status the REST API answers with; the web views flash
the message instead.
"""
from flask_babel import lazy_gettext as _l


class DomainError(Exception):
    """A refusal with a translatable, user-readable ``message``."""

    status = 400
    default_message = _l("The request was refused.")

    def __init__(self, message=None, **details):
        self.message = message if message is not None else self.default_message
        self.details = details
        super().__init__(str(self.message))


class RecordNotVisible(DomainError):
    """The record does not exist or the user may not see it (never say which)."""

    status = 404
    default_message = _l("Record not found.")


class PermissionRefused(DomainError):
    status = 403
    default_message = _l("You are not allowed to do this.")


class TransitionRefused(PermissionRefused):
    """The workflow engine refused a step; ``message`` says why."""


class StaleVersion(DomainError):
    status = 409
    default_message = _l(
        "This record was changed by someone else in the meantime. "
        "Reload it and try again."
    )


class InvalidInput(DomainError):
    """Bad input; ``errors`` maps field names to messages."""

    status = 422
    default_message = _l("Please correct the highlighted fields.")

    def __init__(self, message=None, errors=None):
        super().__init__(message)
        self.errors = errors or {}

    def __str__(self):
        parts = [str(self.message)]
        parts += [f"{field}: {text}" for field, text in self.errors.items()]
        return " ".join(parts)
