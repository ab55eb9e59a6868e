"""Sessions and accounts: login renewal, logout, lockout, JWT expiry, headers, no logged password.

One app and database serve the whole module (rate limiting on, keyed by a
distinct client address per test client); every test makes its own users.
"""
import datetime
import itertools
import json
import logging

import pytest
from flask_jwt_extended import create_access_token
from sqlalchemy import select

from app import create_app
from app.extensions import db
from app.models.accounts import LoginLockout, UserSession
from app.models.audit import AuditLog
from app.models.base import utcnow
from app.security import sessions
from tests.conftest import BASE_OVERRIDES, PASSWORD

MAX_FAILURES = 3
LOCK_MINUTES = 10
_numbers = itertools.count(1)


@pytest.fixture(scope="module")
def app(database_factory, tmp_path_factory):
    url = database_factory.new_url()
    root = tmp_path_factory.mktemp("sessions")
    application = create_app({
        **BASE_OVERRIDES, "SQLALCHEMY_DATABASE_URI": url, "FAB_UPDATE_PERMS": False,
        "INSTANCE_PATH": str(root / "instance"), "ATTACHMENT_FOLDER": str(root / "files"),
        "RATELIMIT_ENABLED": True, "AUTH_RATE_LIMIT": "40 per minute",
        "LOGIN_MAX_FAILURES": MAX_FAILURES, "LOGIN_LOCK_MINUTES": LOCK_MINUTES,
    })
    yield application
    with application.app_context():
        db.session.remove()
        db.engine.dispose()
    database_factory.drop(url)


def new_client(app):
    """A browser of its own, from an address of its own (the rate limit counts per address)."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = f"10.9.{next(_numbers) % 250}.{next(_numbers) % 250}"
    return client


def new_user(app, role="FrontDesk", password=PASSWORD):
    from app.models.org import StaffProfile

    number = next(_numbers)
    username = f"acct{number}"
    with app.app_context():
        sm = app.appbuilder.sm
        user = sm.add_user(username, f"名{number}", "测", f"{username}@example.com",
                           [sm.find_role(role)], password=password)
        db.session.add(StaffProfile(user_id=user.id, display_name=f"测试{username}"))
        db.session.commit()
        return user.id, username


def web_login(client, username, password=PASSWORD):
    return client.post("/login/", data={"username": username, "password": password})


def api_login(client, username, password=PASSWORD):
    return client.post("/api/v1/security/login", json={
        "username": username, "password": password, "provider": "db", "refresh": False})


def is_logged_in(client):
    """A page only a logged-in user may open: 200 when logged in, a redirect to login otherwise."""
    response = client.get("/resetmypassword/form")
    if response.status_code == 200:
        return True
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    return False


def flashes(client):
    with client.session_transaction() as session:
        return [str(message) for _category, message in session.get("_flashes", [])]


def take_flashes(client):
    messages = flashes(client)
    with client.session_transaction() as session:
        session.pop("_flashes", None)
    return messages


def audit_entries(app, action, row_id=None):
    with app.app_context():
        query = select(AuditLog).where(AuditLog.action == action)
        if row_id is not None:
            query = query.where(AuditLog.row_id == str(row_id))
        return db.session.execute(query.order_by(AuditLog.id)).scalars().all()


def expected_lock_message(app, minutes=LOCK_MINUTES):
    with app.test_request_context():
        return str(sessions.LOCKED_MESSAGE % {"minutes": minutes})


def generic_failure_message(app):
    from flask_appbuilder.security.views import AuthDBView

    with app.test_request_context():
        return str(AuthDBView.invalid_login_message)


# ---------------------------------------------------------------------------
# Session renewal, logout, expiry
# ---------------------------------------------------------------------------

def test_login_replaces_the_whole_pre_login_session(app):
    _user_id, username = new_user(app)
    client = new_client(app)
    with client.session_transaction() as session:
        # What an attacker could have planted, or read, before the login.
        session[sessions.SESSION_KEY] = "planted-token"
        session["csrf_token"] = "planted-csrf"
        session["locale"] = "en"
    response = web_login(client, username)
    assert response.status_code == 302 and "/login" not in response.headers["Location"]
    with client.session_transaction() as session:
        token = session[sessions.SESSION_KEY]
        assert token != "planted-token"
        assert "csrf_token" not in session
        assert session["locale"] == "en"  # the language choice survives
    assert is_logged_in(client)

    other = new_client(app)
    web_login(other, username)
    with other.session_transaction() as session:
        assert session[sessions.SESSION_KEY] != token  # a new token at every login
    with app.app_context():
        row = db.session.execute(select(UserSession).where(
            UserSession.token_hash == sessions.hash_token(token))).scalar_one()
        assert row.revoked_at is None
        assert row.remote_addr == client.environ_base["REMOTE_ADDR"]
        lifetime = app.permanent_session_lifetime
        assert abs((row.expires_at - row.created_at) - lifetime) < datetime.timedelta(seconds=1)


def test_a_cookie_copied_before_logout_is_refused_after_it(app):
    _user_id, username = new_user(app)
    owner = new_client(app)
    web_login(owner, username)
    cookie = owner.get_cookie("session").value
    thief = new_client(app)
    thief.set_cookie("session", cookie)
    assert is_logged_in(thief)  # a copy works while the session lives

    owner.get("/logout/")
    assert not is_logged_in(owner)
    thief.set_cookie("session", cookie)
    assert not is_logged_in(thief)
    thief.set_cookie("session", cookie)
    assert thief.get("/api/v1/absence/").status_code == 401
    with app.app_context():
        revoked = db.session.execute(select(UserSession).where(
            UserSession.user_id == _user_id)).scalar_one()
        assert revoked.revoked_reason == "logout" and revoked.revoked_at is not None


def test_an_expired_or_unknown_session_is_logged_out(app):
    user_id, username = new_user(app)
    client = new_client(app)
    web_login(client, username)
    assert is_logged_in(client)
    with app.app_context():
        row = db.session.execute(select(UserSession).where(
            UserSession.user_id == user_id)).scalar_one()
        row.expires_at = utcnow() - datetime.timedelta(seconds=1)
        db.session.commit()
    assert not is_logged_in(client)
    with client.session_transaction() as session:
        assert "_user_id" not in session  # the dead session was emptied

    # A signed cookie naming the user but carrying a token the server never issued.
    forged = new_client(app)
    with forged.session_transaction() as session:
        session.update({"_user_id": str(user_id), "_fresh": True,
                        sessions.SESSION_KEY: "never-issued"})
    assert not is_logged_in(forged)


def test_changing_the_password_ends_the_other_sessions(app):
    _user_id, username = new_user(app)
    here, elsewhere = new_client(app), new_client(app)
    web_login(here, username)
    web_login(elsewhere, username)
    new_password = "N3w#Passw0rd-ok"
    response = here.post("/resetmypassword/form",
                         data={"password": new_password, "conf_password": new_password})
    assert response.status_code == 302
    assert is_logged_in(here)
    assert not is_logged_in(elsewhere)
    stale = new_client(app)
    web_login(stale, username)  # the old password
    assert not is_logged_in(stale)
    fresh = new_client(app)
    web_login(fresh, username, new_password)
    assert is_logged_in(fresh)


def test_users_logout_command_ends_every_session(app):
    _user_id, username = new_user(app)
    client = new_client(app)
    web_login(client, username)
    _admin_id, admin = new_user(app, role="Admin")
    result = app.test_cli_runner().invoke(args=["users", "logout", username, "--as", admin])
    assert result.exit_code == 0, result.output
    assert "1 session(s) ended" in result.output
    assert not is_logged_in(client)


# ---------------------------------------------------------------------------
# Brute force: rate limit and lockout
# ---------------------------------------------------------------------------

def test_login_doors_are_rate_limited_by_default():
    from config import Config

    assert Config.AUTH_RATE_LIMITED and Config.RATELIMIT_ENABLED
    assert Config.AUTH_RATE_LIMIT


def test_the_rest_login_is_rate_limited_too(app):
    client = new_client(app)
    statuses = [api_login(client, "nobody-at-all-rl", "wrong").status_code for _ in range(41)]
    assert 429 not in statuses[:40]
    assert statuses[40] == 429


def test_an_account_is_locked_after_repeated_failures_and_unlocked_by_an_admin(app):
    user_id, username = new_user(app)
    _admin_id, admin = new_user(app, role="Admin")
    bearer = api_login(new_client(app), username).get_json()["access_token"]
    session_holder = new_client(app)
    web_login(session_holder, username)
    assert is_logged_in(session_holder)

    client = new_client(app)
    generic, locked = generic_failure_message(app), expected_lock_message(app)
    for _ in range(MAX_FAILURES - 1):
        web_login(client, username, "Wrong#Pass12")
        assert take_flashes(client) == [generic]
    web_login(client, username, "Wrong#Pass12")
    assert take_flashes(client) == [locked]

    # Locked: the right password is refused too, on both doors, with the reason.
    web_login(client, username)
    assert take_flashes(client) == [locked]
    assert not is_logged_in(client)
    refused = api_login(new_client(app), username)
    assert refused.status_code == 401
    assert refused.get_json()["message"] == locked
    assert new_client(app).get("/api/v1/absence/", headers={
        "Authorization": f"Bearer {bearer}"}).status_code == 401
    assert not is_logged_in(session_holder)

    (lock_entry,) = audit_entries(app, "account_locked", user_id)
    details = json.loads(lock_entry.changes)
    assert details["username"] == username and details["failures"] == MAX_FAILURES
    assert len(audit_entries(app, "login_refused", user_id)) == 2

    result = app.test_cli_runner().invoke(args=["users", "unlock", username, "--as", admin])
    assert result.exit_code == 0, result.output
    assert "unlocked" in result.output
    (unlock_entry,) = audit_entries(app, "account_unlocked", user_id)
    assert unlock_entry.actor_name == admin or unlock_entry.actor_id == _admin_id
    assert is_logged_in(session_holder)  # the lock ended, the session had not
    web_login(client, username)
    assert is_logged_in(client)

    again = app.test_cli_runner().invoke(args=["users", "unlock", username, "--as", admin])
    assert "was not locked" in again.output
    missing = app.test_cli_runner().invoke(args=["users", "unlock", "no-such-account"])
    assert missing.exit_code != 0


def test_unknown_names_get_exactly_the_same_answers(app):
    _user_id, username = new_user(app)
    real, ghost = new_client(app), new_client(app)
    answers = {"real": [], "ghost": []}
    for _ in range(MAX_FAILURES + 1):
        web_login(real, username, "Wrong#Pass12")
        answers["real"].append(take_flashes(real))
        web_login(ghost, "ghost-" + username, "Wrong#Pass12")
        answers["ghost"].append(take_flashes(ghost))
    assert answers["real"] == answers["ghost"]
    assert answers["ghost"][-1] == [expected_lock_message(app)]
    rest_real = api_login(new_client(app), username, "Wrong#Pass12")
    rest_ghost = api_login(new_client(app), "ghost-" + username, "Wrong#Pass12")
    assert (rest_real.status_code, rest_real.get_json()) == (
        rest_ghost.status_code, rest_ghost.get_json())


def test_a_success_resets_the_count_and_a_lock_runs_out(app):
    user_id, username = new_user(app)
    client = new_client(app)
    for _ in range(MAX_FAILURES - 1):
        web_login(client, username, "Wrong#Pass12")
    web_login(client, username)
    assert is_logged_in(client)
    client.get("/logout/")
    for _ in range(MAX_FAILURES - 1):
        web_login(client, username, "Wrong#Pass12")
    web_login(client, username)
    assert is_logged_in(client)  # never more than MAX_FAILURES - 1 in a row
    client.get("/logout/")

    for _ in range(MAX_FAILURES):
        api_login(client, username, "Wrong#Pass12")  # the REST door counts as well
    assert api_login(client, username).status_code == 401
    with app.app_context():
        row = db.session.execute(select(LoginLockout).where(
            LoginLockout.user_id == user_id)).scalar_one()
        row.locked_until = utcnow() - datetime.timedelta(seconds=1)
        db.session.commit()
    assert api_login(client, username).status_code == 200
    with app.app_context():
        row = db.session.execute(select(LoginLockout).where(
            LoginLockout.user_id == user_id)).scalar_one()
        assert (row.failures, row.locked_until) == (0, None)


def test_lockout_figures_are_configurable_settings(app):
    from app.services.settings import get_setting, setting_spec

    assert setting_spec("LOGIN_MAX_FAILURES").default == 5
    assert setting_spec("LOGIN_LOCK_MINUTES").default == 15
    with app.app_context():
        assert get_setting("LOGIN_MAX_FAILURES") == MAX_FAILURES


# ---------------------------------------------------------------------------
# Bearer tokens
# ---------------------------------------------------------------------------

def test_expired_and_deactivated_bearer_tokens_are_refused(app):
    user_id, username = new_user(app)
    client = new_client(app)
    with app.app_context():
        good = create_access_token(identity=str(user_id))
        expired = create_access_token(identity=str(user_id),
                                      expires_delta=datetime.timedelta(seconds=-1))
    assert app.config["JWT_ACCESS_TOKEN_EXPIRES"] == 3600

    def call(token):
        return client.get("/api/v1/absence/", headers={"Authorization": f"Bearer {token}"})

    assert call(good).status_code == 200
    assert call(expired).status_code == 401
    with app.app_context():
        user = app.appbuilder.sm.get_user_by_id(user_id)
        user.active = False
        db.session.commit()
    assert call(good).status_code == 401


# ---------------------------------------------------------------------------
# Headers on every kind of response
# ---------------------------------------------------------------------------

def _assert_security_headers(response, what):
    headers = response.headers
    assert headers.get("X-Content-Type-Options") == "nosniff", what
    csp = headers.get("Content-Security-Policy", "")
    assert "default-src 'self'" in csp, what
    assert headers.get("X-Frame-Options") == "SAMEORIGIN" or "frame-ancestors" in csp, what
    assert headers.get("Referrer-Policy"), what


def test_every_kind_of_response_carries_the_security_headers(app):
    _user_id, username = new_user(app, role="Admin")
    client = new_client(app)
    login = web_login(client, username)
    cookie = login.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    token = api_login(new_client(app), username).get_json()["access_token"]
    bearer = {"Authorization": f"Bearer {token}"}

    def get(some_client, url, **options):
        # Read and close at once: a streamed export holds its request context until closed.
        response = some_client.get(url, **options)
        response.get_data()
        response.close()
        return response

    responses = {
        "html page": (get(client, "/absenceview/list/"), "text/html"),
        "rest json": (get(client, "/api/v1/absence/", headers=bearer), "application/json"),
        "rest refusal": (get(new_client(app), "/api/v1/absence/"), "application/json"),
        "csv export": (get(client, "/absenceview/export.csv"), "text/csv"),
        "pdf": (get(client, "/monthlyreports/complaints/print.pdf"), "application/pdf"),
        "static file": (get(client, "/static/vendor/echarts/echarts.min.js"), "javascript"),
        "fab static": (get(client, "/static/appbuilder/css/flags/flags16.css"), "text/css"),
        "error page": (get(client, "/no/such/page"), "text/html"),
        "login page": (get(new_client(app), "/login/"), "text/html"),
        "redirect": (get(new_client(app), "/absenceview/list/"), None),
    }
    for what, (response, content_type) in responses.items():
        assert response.status_code < 500, what
        if content_type:
            assert content_type in response.content_type, (what, response.content_type)
        _assert_security_headers(response, what)
    assert responses["error page"][0].status_code == 404


# ---------------------------------------------------------------------------
# Passwords never in logs or the trail
# ---------------------------------------------------------------------------

def test_passwords_never_reach_the_logs_or_the_trail(app, caplog):
    _admin_id, admin = new_user(app, role="Admin")
    user_id, username = new_user(app)
    wrong, changed, created, reset = (
        "Wr0ng#Secret-7781", "Ch4nged#Secret-5519", "Cr3ated#Secret-2204", "R3set#Secret-8876")
    with caplog.at_level(logging.DEBUG):
        client = new_client(app)
        web_login(client, username, wrong)
        api_login(new_client(app), username, wrong)
        web_login(client, username)
        client.post("/resetmypassword/form", data={"password": changed, "conf_password": changed})
        client.get("/logout/")
        web_login(client, username, changed)
        api_login(new_client(app), username, changed)

        admin_client = new_client(app)
        web_login(admin_client, admin)
        with app.app_context():
            role_id = app.appbuilder.sm.find_role("FrontDesk").id
        added = admin_client.post("/users/add", data={
            "first_name": "新", "last_name": "用户", "username": "created-by-form",
            "email": "created@example.com", "active": "y", "roles": [str(role_id)],
            "password": created, "conf_password": created})
        assert added.status_code == 302, added.get_data(as_text=True)[:2000]
        reset_done = admin_client.post(f"/resetpassword/form?pk={user_id}",
                                       data={"password": reset, "conf_password": reset})
        assert reset_done.status_code == 302
    assert is_logged_in(_fresh_login(app, "created-by-form", created))
    assert is_logged_in(_fresh_login(app, username, reset))

    assert "Login Failed" in caplog.text or "login" in caplog.text.lower()  # logs were captured
    with app.app_context():
        trail = "\n".join(
            " ".join(str(value) for value in row)
            for row in db.session.execute(select(AuditLog.__table__)).all())
    assert f'"{username}"' in trail  # the trail was read
    for secret in (wrong, changed, created, reset, PASSWORD):
        assert secret not in caplog.text, secret
        assert secret not in trail, secret


def _fresh_login(app, username, password):
    client = new_client(app)
    web_login(client, username, password)
    return client
