"""Optimistic locking: refuse a change made against an older version of a record."""
from flask_babel import gettext as _

from .errors import InvalidInput, StaleVersion


def ensure_current_version(record, expected_version, attempted=None):
    """Raise unless ``expected_version`` is the record's current version.

    ``attempted`` (field label -> value the user entered) is repeated in the
    refusal so that nothing the user typed is lost.
    """
    if expected_version in (None, ""):
        raise InvalidInput(_("The record version is missing."), {"version": _("Required.")})
    try:
        expected_version = int(expected_version)
    except (TypeError, ValueError):
        raise InvalidInput(_("The record version is not a number."), {"version": _("Not a number.")})
    if expected_version == record.version:
        return
    from ..models.org import user_display_name
    from ..timeutil import format_local

    message = _(
        "This record was changed by %(name)s at %(when)s while you were working on it. "
        "Reload it and try again.",
        name=user_display_name(getattr(record, "updated_by", None)) or _("someone else"),
        when=format_local(getattr(record, "updated_at", None)),
    )
    if attempted:
        entered = "; ".join(f"{label}: {value}" for label, value in attempted.items() if value)
        message += " " + _("What you entered: %(values)s", values=entered)
    raise StaleVersion(message)
