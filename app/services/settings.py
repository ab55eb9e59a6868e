"""Configurable figures (time limits, rates, points) with audited changes.

A module declares each figure it needs with :func:`register_setting`; code
reads it with :func:`get_setting`. The value is, in order: the administrator's
row in ``app_setting`` (changed through the Settings screen, audited like
every row), the same name in the app config (so the environment can set it),
or the registered default. Rules the regulations give a figure for use that
figure as the default.
"""
import json
from dataclasses import dataclass

from flask import current_app

from ..extensions import db
from ..models.settings import Setting
from .errors import InvalidInput
from .transaction import transactional


@dataclass(frozen=True)
class SettingSpec:
    key: str
    default: object
    label: object  # lazy_gettext string
    kind: type
    minimum: object = None
    maximum: object = None
    rule: str = ""  # the rule ID the figure belongs to, e.g. "CUS-10"


_REGISTRY = {}


def register_setting(key, default, label, *, kind=None, minimum=None, maximum=None, rule=""):
    """Declare a configurable figure (idempotent; call at import time)."""
    spec = SettingSpec(key, default, label, kind or type(default), minimum, maximum, rule)
    _REGISTRY[key] = spec
    return spec


def registered_settings():
    """Every declared setting, sorted by key."""
    return [_REGISTRY[key] for key in sorted(_REGISTRY)]


def setting_spec(key):
    try:
        return _REGISTRY[key]
    except KeyError:
        raise KeyError(f"setting {key!r} is not registered") from None


def get_setting(key):
    """The current value of a registered setting."""
    spec = setting_spec(key)
    # Read without flushing: callers consult settings while building new rows.
    with db.session.no_autoflush:
        row = db.session.query(Setting).filter_by(key=key).one_or_none()
    if row is not None:
        return spec.kind(json.loads(row.value))
    if key in current_app.config:
        return spec.kind(current_app.config[key])
    return spec.default


def parse_setting_value(key, raw):
    """Turn a form or API value into the setting's type, or raise InvalidInput."""
    from flask_babel import gettext as _

    spec = setting_spec(key)
    try:
        if spec.kind is bool:
            value = raw if isinstance(raw, bool) else str(raw).strip().lower() in {"1", "true", "yes", "on", "是"}
        else:
            value = spec.kind(str(raw).strip()) if not isinstance(raw, spec.kind) else raw
    except (TypeError, ValueError):
        raise InvalidInput(_("Not a valid value for this setting."), errors={"value": [str(raw)]})
    if spec.minimum is not None and value < spec.minimum:
        raise InvalidInput(_("The value must be at least %(minimum)s.", minimum=spec.minimum),
                           errors={"value": [str(raw)]})
    if spec.maximum is not None and value > spec.maximum:
        raise InvalidInput(_("The value must be at most %(maximum)s.", maximum=spec.maximum),
                           errors={"value": [str(raw)]})
    return value


@transactional
def set_setting(key, raw, note=None):
    """Override a setting; the change is audited through the row's history."""
    value = parse_setting_value(key, raw)
    row = db.session.query(Setting).filter_by(key=key).one_or_none()
    if row is None:
        row = Setting(key=key, value=json.dumps(value), note=note)
        db.session.add(row)
    else:
        row.value = json.dumps(value)
        row.note = note
    return value
