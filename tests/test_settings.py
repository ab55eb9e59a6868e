"""Configurable figures: defaults, environment, an administrator's audited override."""
import json

import pytest
from flask_babel import lazy_gettext as _l

from app.extensions import db
from app.models.audit import AuditLog
from app.models.settings import Setting
from app.services.errors import InvalidInput
from app.services.settings import get_setting, register_setting, set_setting

register_setting("TEST_LIMIT_DAYS", 3, _l("A test time limit"), minimum=1, maximum=30, rule="X-00")


@pytest.fixture
def app_overrides():
    return {}


def test_default_applies_without_override(ctx):
    assert get_setting("TEST_LIMIT_DAYS") == 3


def test_environment_value_beats_the_default(app):
    app.config["TEST_LIMIT_DAYS"] = "7"
    with app.app_context():
        assert get_setting("TEST_LIMIT_DAYS") == 7


def test_administrator_override_wins_and_is_audited(ctx, make_user):
    from app.audit.context import acting_as

    admin = make_user("Admin")
    with acting_as(admin.get()):
        set_setting("TEST_LIMIT_DAYS", "5", note="新规定")
        set_setting("TEST_LIMIT_DAYS", "6")
    assert get_setting("TEST_LIMIT_DAYS") == 6
    trail = (db.session.query(AuditLog).filter_by(table_name="app_setting")
             .order_by(AuditLog.id).all())
    assert [entry.action for entry in trail] == ["insert", "update"]
    assert trail[-1].actor_id == admin.id
    assert json.loads(trail[-1].changes)["value"] == ["5", "6"]


@pytest.mark.parametrize("raw", ["abc", "0", "31", ""])
def test_bad_values_are_refused_with_nothing_stored(ctx, raw):
    with pytest.raises(InvalidInput):
        set_setting("TEST_LIMIT_DAYS", raw)
    assert db.session.query(Setting).count() == 0
    assert get_setting("TEST_LIMIT_DAYS") == 3


def test_unknown_setting_is_an_error(ctx):
    with pytest.raises(KeyError):
        get_setting("NO_SUCH_SETTING")


def test_settings_screen_is_for_administrators_only(client, make_user, login_as):
    clerk = make_user("FrontDesk")
    login_as(clerk)
    assert client.get("/settingview/registered").status_code == 403
    client.get("/logout/")
    admin = make_user("Admin")
    login_as(admin)
    page = client.get("/settingview/registered")
    assert page.status_code == 200
    assert "TEST_LIMIT_DAYS" in page.get_data(as_text=True)


def test_override_through_the_form(client, make_user, login_as):
    admin = make_user("Admin")
    login_as(admin)
    response = client.post("/settingview/add", data={"key": "TEST_LIMIT_DAYS", "value": "9",
                                                      "note": "试行"})
    assert response.status_code == 302
    with client.application.app_context():
        assert get_setting("TEST_LIMIT_DAYS") == 9
    refused = client.post("/settingview/add", data={"key": "TEST_LIMIT_DAYS", "value": "x"},
                          follow_redirects=True)
    with client.application.app_context():
        assert get_setting("TEST_LIMIT_DAYS") == 9
    assert refused.status_code == 200
    # The refusal is shown in the user's language (Chinese by default).
    assert "该设置项的值无效" in refused.get_data(as_text=True)
