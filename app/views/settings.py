"""The Settings screen: an administrator overrides a configurable figure (audited)."""
import json

from flask import flash, redirect, url_for
from flask_appbuilder import expose, has_access
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_babel import lazy_gettext as _l
from wtforms import SelectField, StringField
from wtforms.validators import DataRequired

from ..models.settings import Setting
from ..services.settings import get_setting, parse_setting_value, registered_settings
from .base import AppModelView, VersionedFormMixin


def _key_choices():
    return [(spec.key, f"{spec.key} · {spec.label}") for spec in registered_settings()]


class SettingView(VersionedFormMixin, AppModelView):
    """Overrides of registered settings; the overview lists every figure and its current value."""

    datamodel = SQLAInterface(Setting)
    list_title = _l("Settings")
    show_title = _l("Setting")
    add_title = _l("Override a setting")
    edit_title = _l("Change a setting")
    list_columns = ["key", "value", "note", "updated_by", "updated_at"]
    show_columns = ["key", "value", "note", "created_by", "created_at", "updated_by", "updated_at"]
    add_columns = ["key", "value", "note"]
    edit_columns = ["value", "note"]
    search_columns = ["key"]
    base_order = ("key", "asc")
    label_columns = {"key": _l("Setting"), "value": _l("Value"), "note": _l("Reason for the change"),
                     "updated_by": _l("Changed by"), "updated_at": _l("Changed at"),
                     "created_by": _l("Created by"), "created_at": _l("Created at")}
    add_form_extra_fields = {
        "key": SelectField(_l("Setting"), choices=_key_choices, validators=[DataRequired()]),
        "value": StringField(_l("Value"), validators=[DataRequired()]),
    }
    edit_form_extra_fields = {
        **VersionedFormMixin.edit_form_extra_fields,
        "value": StringField(_l("Value"), validators=[DataRequired()]),
    }

    def _store(self, item):
        item.value = json.dumps(parse_setting_value(item.key, item.value))

    def pre_add(self, item):
        self._store(item)

    def check_update(self, item):
        self._store(item)

    def prefill_form(self, form, pk):
        super().prefill_form(form, pk)
        item = self.datamodel.get(pk, self._base_filters)
        if item is not None:
            form.value.data = str(json.loads(item.value))

    @expose("/registered")
    @has_access
    def registered(self):
        """Every configurable figure with its default and current value."""
        rows = [(spec, get_setting(spec.key)) for spec in registered_settings()]
        return self.render_template("settings/registered.html", rows=rows,
                                    title=_l("Configurable figures"))

    @expose("/")
    def index(self):
        return redirect(url_for(f"{self.__class__.__name__}.registered"))

    def post_add_redirect(self):
        flash(_l("The setting was changed; the change is in the audit trail."), "success")
        return redirect(url_for(f"{self.__class__.__name__}.registered"))

    post_edit_redirect = post_add_redirect


def register_settings_views(appbuilder):
    """Settings → Configurable figures (administrators)."""
    appbuilder.add_view(SettingView, "Configurable figures", label=_l("Configurable figures"),
                        icon="fa-sliders", category="Settings", category_label=_l("Settings"))
