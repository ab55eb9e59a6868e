"""Application factory of the customer-service administration system."""
import os
import secrets
import sqlite3

from flask import Flask
from flask_appbuilder import AppBuilder
from flask_appbuilder.api import BaseApi
from sqlalchemy import event
from sqlalchemy.engine import Engine

from config import BASE_DIR, Config, environment_overrides

from .extensions import csrf, db, migrate

MIGRATIONS_DIR = os.path.join(BASE_DIR, "migrations")


def create_app(overrides=None):
    """Build an app with its own AppBuilder; ``overrides`` win over config and env."""
    instance_path = (overrides or {}).get("INSTANCE_PATH") or os.environ.get("INSTANCE_PATH")
    # The app's own static files (vendored chart code) under /static; FAB's
    # blueprint keeps /static/appbuilder, which is the more specific route.
    app = Flask(__name__, instance_path=instance_path or None, static_folder="static",
                static_url_path="/static")
    app.config.from_object(Config)
    app.config.update(environment_overrides())
    app.config.update(overrides or {})
    os.makedirs(app.instance_path, exist_ok=True)
    _derive_settings(app)

    from .i18n import compile_catalogues

    compile_catalogues(app.config["BABEL_TRANSLATION_DIRECTORIES"])

    db.init_app(app)
    # CSRF protection must be in place before AppBuilder registers its views.
    csrf.init_app(app)
    migrate.init_app(app, db, directory=MIGRATIONS_DIR, render_as_batch=True)

    from . import models  # noqa: F401  (registers every table on Model.metadata)
    from .audit.listener import install_audit_listeners
    from .views import register_views

    install_audit_listeners()
    appbuilder = AppBuilder()
    with app.app_context():
        if not _schema_ready():
            # Before the first `flask db upgrade` there is nothing to register
            # permissions in; the next start (flask init) does it.
            app.config["FAB_UPDATE_PERMS"] = False
        else:
            _ensure_fab_roles(app.config)
        appbuilder.init_app(app, db.session)
        register_views(appbuilder)
        from .services import visits  # noqa: F401  (resolved complaints propose their visit)
        for baseview in appbuilder.baseviews:
            # The REST API authenticates with a bearer token, not the cookie.
            if isinstance(baseview, BaseApi) and baseview.blueprint is not None:
                csrf.exempt(baseview.blueprint)

    from .cli import register_cli
    from .db_errors import install_database_error_handlers
    from .security.headers import install_security_headers
    from .views.base import screen_url_arguments

    install_security_headers(app)
    app.before_request(screen_url_arguments)
    install_database_error_handlers(app)
    register_cli(app)
    return app


def _schema_ready():
    from sqlalchemy import inspect

    return inspect(db.engine).has_table("ab_permission_view")


def _ensure_fab_roles(config):
    """FAB gives every new permission to the Admin role at startup: it must exist."""
    from flask_appbuilder.security.sqla.models import Role

    names = {config["AUTH_ROLE_ADMIN"], config["AUTH_ROLE_PUBLIC"]}
    existing = {name for (name,) in db.session.query(Role.name).filter(Role.name.in_(names))}
    for name in sorted(names - existing):
        db.session.add(Role(name=name))
    if names - existing:
        db.session.commit()
    db.session.remove()


def _derive_settings(app):
    """Fill in the settings whose default depends on the instance or other settings."""
    config = app.config
    if not config.get("SQLALCHEMY_DATABASE_URI"):
        config["SQLALCHEMY_DATABASE_URI"] = "sqlite:///" + os.path.join(
            app.instance_path, "app.db"
        )
    if config["SQLALCHEMY_DATABASE_URI"].startswith("postgres://"):
        config["SQLALCHEMY_DATABASE_URI"] = config["SQLALCHEMY_DATABASE_URI"].replace(
            "postgres://", "postgresql://", 1
        )
    engine_options = dict(config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    if config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        engine_options.setdefault(
            "connect_args", {"timeout": config["SQLITE_BUSY_TIMEOUT_MS"] / 1000}
        )
    else:
        # Survive a database restart: test each pooled connection before use.
        engine_options.setdefault("pool_pre_ping", True)
    config["SQLALCHEMY_ENGINE_OPTIONS"] = engine_options
    if not config.get("SECRET_KEY"):
        config["SECRET_KEY"] = _instance_secret_key(app.instance_path)
    if config.get("SESSION_COOKIE_SECURE") is None:
        config["SESSION_COOKIE_SECURE"] = config["ENV_NAME"] != "development"
    if not config.get("RATELIMIT_STORAGE_URI"):
        config["RATELIMIT_STORAGE_URI"] = config.get("REDIS_URL") or "memory://"
    if not config.get("ATTACHMENT_FOLDER"):
        config["ATTACHMENT_FOLDER"] = os.path.join(app.instance_path, "attachments")


def _instance_secret_key(instance_path):
    """Read the instance's secret key, generating it on first run (race-safe)."""
    path = os.path.join(instance_path, "secret_key")
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        with open(path, encoding="ascii") as key_file:
            return key_file.read().strip()
    key = secrets.token_hex(32)
    with os.fdopen(fd, "w", encoding="ascii") as key_file:
        key_file.write(key)
    return key


@event.listens_for(Engine, "connect")
def _configure_sqlite(dbapi_connection, _record):
    """WAL and foreign keys for the embedded database; a no-op on PostgreSQL."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()
