"""Test fixtures: an isolated app and database per test, users with exactly one role.

The database engine is SQLite unless ``TEST_DATABASE_URL`` points at a
PostgreSQL server. A template database (schema, permissions, roles) is
built once per run; every test gets a fresh copy of it: a file copy on
SQLite, ``CREATE DATABASE ... TEMPLATE`` on PostgreSQL.
"""
import itertools
import os
import shutil
import uuid

import pytest
from sqlalchemy.engine import make_url

from app import create_app
from app.extensions import db

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")
PASSWORD = "Test#Pass12word"
IN_CI = bool(os.environ.get("CI"))

BASE_OVERRIDES = {
    "TESTING": True,
    "SECRET_KEY": "test-secret-key-not-for-production",
    "WTF_CSRF_ENABLED": False,
    "RATELIMIT_ENABLED": False,
    "SESSION_COOKIE_SECURE": False,
    "SERVER_NAME": None,
}


def is_postgres():
    return bool(TEST_DATABASE_URL) and TEST_DATABASE_URL.startswith("postgresql")


# ---------------------------------------------------------------------------
# Databases
# ---------------------------------------------------------------------------

def _pg_admin_connection(url):
    import psycopg

    admin_url = make_url(url).set(database="postgres")
    return psycopg.connect(
        host=admin_url.host, port=admin_url.port or 5432, user=admin_url.username,
        password=admin_url.password, dbname="postgres", autocommit=True,
    )


def _build_template(url, instance_path):
    """Create the schema, FAB's permissions and our roles in the database at ``url``."""
    from flask_appbuilder import Model

    from app.security.sync import ensure_builtin_roles, sync_roles

    app = create_app({**BASE_OVERRIDES, "SQLALCHEMY_DATABASE_URI": url,
                      "INSTANCE_PATH": instance_path})
    with app.app_context():
        Model.metadata.create_all(db.engine)
        db.session.remove()
        db.engine.dispose()
    # A second app now finds the tables and registers every permission.
    app = create_app({**BASE_OVERRIDES, "SQLALCHEMY_DATABASE_URI": url,
                      "INSTANCE_PATH": instance_path})
    with app.app_context():
        ensure_builtin_roles(app.appbuilder)
        sync_roles(app.appbuilder.sm)
        db.session.remove()
        db.engine.dispose()


class DatabaseFactory:
    """Hands out fresh copies of the template database."""

    def __init__(self, tmp_root):
        self.tmp_root = tmp_root
        self.counter = itertools.count()
        self.run_id = uuid.uuid4().hex[:8]
        self.created = []
        if is_postgres():
            self.template = f"cs_tpl_{self.run_id}"
            connection = _pg_admin_connection(TEST_DATABASE_URL)
            with connection.cursor() as cursor:
                cursor.execute(f'CREATE DATABASE "{self.template}"')
            connection.close()
            url = make_url(TEST_DATABASE_URL).set(database=self.template)
            _build_template(url.render_as_string(hide_password=False), str(tmp_root / "instance"))
        else:
            self.template = str(tmp_root / "template.db")
            _build_template("sqlite:///" + self.template, str(tmp_root / "instance"))

    def new_url(self):
        number = next(self.counter)
        if is_postgres():
            name = f"cs_t_{self.run_id}_{number}"
            connection = _pg_admin_connection(TEST_DATABASE_URL)
            with connection.cursor() as cursor:
                cursor.execute(f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"')
            connection.close()
            self.created.append(name)
            return make_url(TEST_DATABASE_URL).set(database=name).render_as_string(hide_password=False)
        path = self.tmp_root / f"test_{number}.db"
        shutil.copyfile(self.template, path)
        return "sqlite:///" + str(path)

    def drop(self, url):
        if is_postgres():
            name = make_url(url).database
            connection = _pg_admin_connection(TEST_DATABASE_URL)
            with connection.cursor() as cursor:
                cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            connection.close()

    def close(self):
        if is_postgres():
            connection = _pg_admin_connection(TEST_DATABASE_URL)
            with connection.cursor() as cursor:
                for name in self.created + [self.template]:
                    cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            connection.close()


@pytest.fixture(scope="session")
def database_factory(tmp_path_factory):
    factory = DatabaseFactory(tmp_path_factory.mktemp("db"))
    yield factory
    factory.close()


@pytest.fixture
def database_url(database_factory):
    url = database_factory.new_url()
    yield url
    database_factory.drop(url)


# ---------------------------------------------------------------------------
# The app
# ---------------------------------------------------------------------------

@pytest.fixture
def app_overrides():
    """Per-test settings; a test module may override this fixture."""
    return {}


@pytest.fixture
def app(database_url, tmp_path, app_overrides):
    application = create_app({
        **BASE_OVERRIDES,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "FAB_UPDATE_PERMS": False,
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "ATTACHMENT_FOLDER": str(tmp_path / "attachments"),
        **app_overrides,
    })
    yield application
    with application.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def ctx(app):
    """An application context for service-level tests (no HTTP)."""
    with app.app_context():
        yield app
        db.session.remove()


@pytest.fixture
def client(app):
    return app.test_client()


# ---------------------------------------------------------------------------
# Users
# ---------------------------------------------------------------------------

@pytest.fixture
def make_user(app):
    """Create a user holding exactly the given roles (and a staff profile)."""
    counter = itertools.count(1)

    def _make_user(*role_names, username=None, department=None, supervisor=None,
                   display_name=None):
        from app.models.org import StaffProfile

        sm = app.appbuilder.sm
        with app.app_context():
            number = next(counter)
            username = username or f"user{number}_{'_'.join(role_names).lower() or 'norole'}"
            roles = [sm.find_role(name) for name in role_names]
            assert all(roles), f"unknown role in {role_names}"
            user = sm.add_user(username, f"名{number}", "测", f"{username}@example.com",
                               roles, password=PASSWORD)
            assert user, f"could not create {username}"
            db.session.add(StaffProfile(
                user_id=user.id, display_name=display_name or f"测试{username}",
                department_id=department.id if department is not None else None,
                supervisor_id=supervisor.id if supervisor is not None else None,
            ))
            db.session.commit()
            user_id = user.id
        return _Ref(app, user_id, username)

    return _make_user


class _Ref:
    """A user handle usable across app contexts: ``.id``, ``.username``, ``.get()``."""

    def __init__(self, app, user_id, username):
        self.app = app
        self.id = user_id
        self.username = username
        self.password = PASSWORD

    def get(self):
        from flask_appbuilder.security.sqla.models import User

        return db.session.get(User, self.id)


def login(client, user, password=PASSWORD):
    """Log ``user`` in through the real login form; returns the response."""
    return client.post("/login/", data={"username": user.username, "password": password},
                       follow_redirects=False)


def logged_in(response):
    """FAB answers both success and failure with a redirect; failure goes back to /login/."""
    return response.status_code == 302 and "/login" not in response.headers.get("Location", "")


def api_token(client, user, password=PASSWORD):
    response = client.post("/api/v1/security/login", json={
        "username": user.username, "password": password, "provider": "db", "refresh": False,
    })
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()["access_token"]


@pytest.fixture
def login_as(client):
    def _login_as(user):
        response = login(client, user)
        assert logged_in(response), response.headers.get("Location")
        return client

    return _login_as


def pytest_report_header(config):
    return f"database: {'PostgreSQL' if is_postgres() else 'SQLite'}"
