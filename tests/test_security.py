"""Security defaults: CSRF, cookies, headers, rate limits, JWT, passwords, secret key."""
import datetime
import os
import re
import stat
import uuid

import pytest

from app import create_app
from config import Config, environment_overrides
from tests.conftest import BASE_OVERRIDES, IN_CI, PASSWORD, api_token, logged_in, login


def _csrf_token(page):
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page) or re.search(
        r'id="csrf_token"[^>]*value="([^"]+)"', page)
    assert match, "no CSRF token in the page"
    return match.group(1)


class TestCsrf:
    @pytest.fixture
    def app_overrides(self):
        return {"WTF_CSRF_ENABLED": True}

    def test_login_without_token_is_refused(self, client, make_user):
        user = make_user("FrontDesk")
        response = login(client, user)
        assert response.status_code == 400
        assert client.get("/api/v1/absence/").status_code == 401  # still logged out

    def test_login_with_token_works_and_forms_need_it(self, client, make_user):
        user = make_user("FrontDesk")
        token = _csrf_token(client.get("/login/").get_data(as_text=True))
        response = client.post("/login/", data={"username": user.username, "password": PASSWORD,
                                                "csrf_token": token})
        assert logged_in(response)
        refused = client.post("/absenceview/transition/1/approve", data={"version": "1"})
        assert refused.status_code == 400

    def test_api_is_exempt_because_it_uses_bearer_tokens(self, client, make_user):
        user = make_user("FrontDesk")
        token = api_token(client, user)
        response = client.post("/api/v1/absence/1/actions/approve", json={"version": 1},
                               headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 404  # reached the endpoint: no CSRF refusal


class TestCookiesAndHeaders:
    @pytest.fixture
    def app_overrides(self):
        return {"SESSION_COOKIE_SECURE": None, "ENV_NAME": "production"}

    def test_session_cookie_flags_and_headers(self, client, make_user):
        user = make_user("FrontDesk")
        response = login(client, user)
        cookie = response.headers.get("Set-Cookie", "")
        assert "HttpOnly" in cookie
        assert "SameSite=Lax" in cookie
        assert "Secure" in cookie
        page = client.get("/login/")
        for header in ("X-Content-Type-Options", "X-Frame-Options", "Content-Security-Policy",
                       "Referrer-Policy", "Strict-Transport-Security"):
            assert header in page.headers, header
        assert "default-src 'self'" in page.headers["Content-Security-Policy"]


def test_development_cookie_is_not_secure(database_url, tmp_path):
    app = create_app({**BASE_OVERRIDES, "SQLALCHEMY_DATABASE_URI": database_url,
                      "SESSION_COOKIE_SECURE": None, "ENV_NAME": "development",
                      "INSTANCE_PATH": str(tmp_path)})
    assert app.config["SESSION_COOKIE_SECURE"] is False


def test_no_delete_door_on_business_views(client, make_user, login_as):
    login_as(make_user("GeneralManager"))
    assert client.get("/departmentview/delete/1").status_code in (404, 405)
    assert client.post("/departmentview/delete/1").status_code in (404, 405)


class TestRateLimit:
    @pytest.fixture
    def app_overrides(self):
        return {"RATELIMIT_ENABLED": True, "AUTH_RATE_LIMIT": "3 per minute"}

    def test_login_attempts_are_rate_limited(self, client, make_user):
        user = make_user("FrontDesk")
        statuses = [login(client, user, password="wrong").status_code for _ in range(4)]
        assert statuses[-1] == 429
        assert 429 not in statuses[:3]


def _redis_available(url):
    try:
        import redis

        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
        return True
    except Exception:  # any failure means: no usable server here
        return False


def test_rate_limit_is_shared_between_workers_through_redis(database_url, tmp_path, make_user):
    """Two app instances (as two gunicorn workers) count the same attempts."""
    url = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
    if not _redis_available(url):
        if IN_CI:
            pytest.fail("Redis is required in CI")
        pytest.skip("no Redis server")
    settings = {**BASE_OVERRIDES, "SQLALCHEMY_DATABASE_URI": database_url, "REDIS_URL": url,
                "RATELIMIT_ENABLED": True, "AUTH_RATE_LIMIT": "2 per minute",
                "RATELIMIT_KEY_PREFIX": "test-" + uuid.uuid4().hex, "FAB_UPDATE_PERMS": False,
                "INSTANCE_PATH": str(tmp_path)}
    first, second = create_app(settings), create_app(settings)
    assert first.config["RATELIMIT_STORAGE_URI"] == url
    user = make_user("FrontDesk")
    assert login(first.test_client(), user, "wrong").status_code != 429
    assert login(second.test_client(), user, "wrong").status_code != 429
    assert login(first.test_client(), user, "wrong").status_code == 429


def test_jwt_login_and_protected_api(client, make_user):
    user = make_user("FrontDesk")
    assert client.get("/api/v1/absence/").status_code == 401
    bad = client.post("/api/v1/security/login", json={"username": user.username,
                                                      "password": "wrong", "provider": "db"})
    assert bad.status_code == 401
    token = api_token(client, user)
    response = client.get("/api/v1/absence/", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200


class TestJwtExpiry:
    @pytest.fixture
    def app_overrides(self):
        return {"JWT_ACCESS_TOKEN_EXPIRES": datetime.timedelta(seconds=-30)}

    def test_expired_token_is_refused(self, client, make_user):
        token = api_token(client, make_user("FrontDesk"))
        response = client.get("/api/v1/absence/", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401


def test_weak_password_is_refused(app, client, make_user, login_as):
    user = make_user("FrontDesk")
    login_as(user)
    assert app.config["FAB_PASSWORD_COMPLEXITY_ENABLED"] is True
    page = client.post("/resetmypassword/form", data={"password": "abc", "conf_password": "abc"})
    assert page.status_code == 200  # the form comes back with the complexity message
    client.get("/logout/")
    assert not logged_in(login(client, user, password="abc"))
    assert logged_in(login(client, user))  # the old password still works


def test_secret_key_is_generated_once_into_the_instance_folder(database_url, tmp_path):
    settings = {key: value for key, value in BASE_OVERRIDES.items() if key != "SECRET_KEY"}
    settings.update({"SQLALCHEMY_DATABASE_URI": database_url, "INSTANCE_PATH": str(tmp_path),
                     "FAB_UPDATE_PERMS": False})
    os.environ.pop("SECRET_KEY", None)
    first = create_app(settings)
    key_file = tmp_path / "secret_key"
    assert key_file.exists()
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert len(first.config["SECRET_KEY"]) >= 64
    second = create_app(settings)
    assert second.config["SECRET_KEY"] == first.config["SECRET_KEY"]


def test_every_setting_can_come_from_the_environment():
    overrides = environment_overrides(Config, {
        "SESSION_COOKIE_SECURE": "false", "ATTACHMENT_MAX_BYTES": "5242880",
        "SECRET_KEY": "12345", "LANGUAGES": '{"zh": {"name": "中文"}}', "NOT_A_SETTING": "x",
        "REDIS_URL": "redis://cache:6379/1",
    })
    assert overrides["SESSION_COOKIE_SECURE"] is False
    assert overrides["ATTACHMENT_MAX_BYTES"] == 5242880
    assert overrides["SECRET_KEY"] == "12345"  # text settings stay text
    assert overrides["LANGUAGES"] == {"zh": {"name": "中文"}}
    assert overrides["REDIS_URL"] == "redis://cache:6379/1"
    assert "NOT_A_SETTING" not in overrides


def test_row_visibility_holds_for_bearer_token_callers(app, client, make_user):
    """The REST door applies the same visibility rule as the web door (JWT callers included)."""
    from app.extensions import db
    from app.models.org import Department
    from app.security import visibility

    user = make_user("FrontDesk")
    with app.app_context():
        db.session.add_all([Department(code="OPEN", name="公开部门"),
                            Department(code="HIDDEN", name="隐藏部门")])
        db.session.commit()
    saved = dict(visibility._RULES)
    # The rule depends on who asks: an anonymous caller would see nothing at all.
    visibility.register_visibility(
        Department,
        lambda query, who: query.filter(
            Department.code != "HIDDEN" if getattr(who, "id", None) == user.id else False),
        lambda record, who: getattr(who, "id", None) == user.id and record.code != "HIDDEN")
    try:
        token = api_token(client, user)
        body = client.get("/api/v1/department/",
                          headers={"Authorization": f"Bearer {token}"}).get_json()
        assert [row["code"] for row in body["result"]] == ["OPEN"]
    finally:
        visibility._RULES.clear()
        visibility._RULES.update(saved)
