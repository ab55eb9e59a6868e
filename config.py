"""Settings of the customer-service administration system.

Every upper-case attribute of :class:`Config` can be overridden from the
environment under the same name (``SESSION_COOKIE_SECURE=false``,
``ATTACHMENT_MAX_BYTES=5242880``). Values are read as JSON when they parse as
JSON (numbers, ``true``/``false``, lists, objects) and as plain text otherwise.
A few settings also have a conventional short name: ``DATABASE_URL``,
``REDIS_URL``, ``SECRET_KEY``, ``MAIL_*``.
"""
import json
import os

from flask_appbuilder.const import AUTH_DB

BASE_DIR = os.path.abspath(os.path.dirname(__file__))


class Config:
    # ------------------------------------------------------------------
    # Application
    # ------------------------------------------------------------------
    APP_NAME = "客户服务管理系统"
    APP_THEME = ""
    FAB_BASE_TEMPLATE = "base.html"
    FAB_SECURITY_MANAGER_CLASS = "app.security.manager.SecurityManager"
    FAB_INDEX_VIEW = "app.views.home.HomeView"
    # Swagger UI loads its code from the internet; the OpenAPI document stays available.
    FAB_API_SWAGGER_UI = False
    # Largest page_size the REST API accepts (keep equal to PAGE_SIZE_MAX below).
    FAB_API_MAX_PAGE_SIZE = 100
    # The schema belongs to the migrations (flask db upgrade), not to FAB's startup.
    FAB_CREATE_DB = False
    # Development or production: decides cookie security and HSTS.
    ENV_NAME = os.environ.get("FLASK_ENV", "production")
    # Address of the site as users reach it, for full links in e-mails
    # (e.g. https://cs.example.com); without it e-mails carry paths only.
    PUBLIC_BASE_URL = None
    # Timezone in which dates are shown and exported; storage is UTC.
    TIMEZONE = "Asia/Shanghai"

    # ------------------------------------------------------------------
    # Database: embedded SQLite by default (create_app puts it in the
    # instance folder), PostgreSQL through DATABASE_URL.
    # ------------------------------------------------------------------
    SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL")
    SQLALCHEMY_TRACK_MODIFICATIONS = False
    SQLITE_BUSY_TIMEOUT_MS = 10000

    # ------------------------------------------------------------------
    # Secrets: never in the repository. When SECRET_KEY is not given, one
    # is generated into the instance folder on first run.
    # ------------------------------------------------------------------
    SECRET_KEY = os.environ.get("SECRET_KEY")

    # ------------------------------------------------------------------
    # Authentication and sessions
    # ------------------------------------------------------------------
    AUTH_TYPE = AUTH_DB
    AUTH_ROLE_ADMIN = "Admin"
    AUTH_ROLE_PUBLIC = "Public"
    AUTH_USER_REGISTRATION = False
    AUTH_RATE_LIMITED = True
    AUTH_RATE_LIMIT = "10 per 5 minute"
    RATELIMIT_ENABLED = True
    REDIS_URL = os.environ.get("REDIS_URL")
    RATELIMIT_STORAGE_URI = None  # derived from REDIS_URL in create_app
    FAB_PASSWORD_COMPLEXITY_ENABLED = True
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = None  # derived from ENV_NAME in create_app
    # A login's server-side session ends this many seconds after the login
    # (app/security/sessions.py); logging out ends it at once.
    PERMANENT_SESSION_LIFETIME = 8 * 3600
    # Failed logins in a row before the account is locked, and for how long;
    # an administrator may change both under Settings, `flask users unlock` lifts a lock.
    LOGIN_MAX_FAILURES = 5
    LOGIN_LOCK_MINUTES = 15
    JWT_ACCESS_TOKEN_EXPIRES = 3600
    WTF_CSRF_ENABLED = True
    WTF_CSRF_TIME_LIMIT = 8 * 3600

    # ------------------------------------------------------------------
    # Languages: Chinese first, English second
    # ------------------------------------------------------------------
    BABEL_DEFAULT_LOCALE = "zh"
    BABEL_DEFAULT_TIMEZONE = "Asia/Shanghai"
    BABEL_TRANSLATION_DIRECTORIES = os.path.join(BASE_DIR, "translations")
    LANGUAGES = {
        "zh": {"flag": "cn", "name": "中文"},
        "en": {"flag": "gb", "name": "English"},
    }

    # ------------------------------------------------------------------
    # Attachments
    # ------------------------------------------------------------------
    ATTACHMENT_FOLDER = None  # default: <instance>/attachments
    ATTACHMENT_MAX_BYTES = 20 * 1024 * 1024
    ATTACHMENT_ALLOWED_EXTENSIONS = [
        "pdf", "jpg", "jpeg", "png", "gif", "doc", "docx", "xls", "xlsx", "txt", "csv",
    ]
    MAX_CONTENT_LENGTH = 25 * 1024 * 1024

    # ------------------------------------------------------------------
    # Mail: notifications are also e-mailed when MAIL_SERVER is set
    # ------------------------------------------------------------------
    MAIL_SERVER = os.environ.get("MAIL_SERVER")
    MAIL_PORT = int(os.environ.get("MAIL_PORT", "25"))
    MAIL_USE_TLS = os.environ.get("MAIL_USE_TLS", "false").lower() == "true"
    MAIL_USE_SSL = False
    MAIL_TIMEOUT = 10
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME")
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD")
    MAIL_DEFAULT_SENDER = os.environ.get("MAIL_DEFAULT_SENDER", "noreply@localhost")

    # ------------------------------------------------------------------
    # Deadlines and lists
    # ------------------------------------------------------------------
    DEADLINE_REMIND_BEFORE_HOURS = 24
    # Rows read per round trip while exporting (server-side cursor / keyset batches).
    EXPORT_BATCH_SIZE = 5000
    # List pages count at most this many records and show "10,000+" above it
    # (the exact count is one click away); 0 counts exactly every time.
    LIST_COUNT_CAP = 10000
    # Largest page size a list accepts (psize_<View>=...); the REST API's
    # FAB_API_MAX_PAGE_SIZE above should match it.
    PAGE_SIZE_MAX = 100
    # Matches a search-as-you-type relation field offers at once (staff, customers...).
    REMOTE_SELECT_LIMIT = 20


def _parse(raw, default):
    if isinstance(default, str):
        return raw
    if default is None:
        return {"true": True, "false": False}.get(raw.lower(), raw)
    if isinstance(default, bool):
        return raw.lower() in ("true", "1", "yes", "on")
    try:
        return json.loads(raw)
    except ValueError:
        return raw


def environment_overrides(config_class=Config, environ=None):
    """Return the settings of ``config_class`` that the environment overrides."""
    environ = os.environ if environ is None else environ
    return {
        key: _parse(environ[key], getattr(config_class, key))
        for key in dir(config_class)
        if key.isupper() and key in environ
    }
