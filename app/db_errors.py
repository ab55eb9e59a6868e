"""Database outages answered as a clear 503 instead of a crash page.

When the database cannot be reached (a restart, a dropped connection, a
busy or exhausted pool), refuses writes (a read-only file or server) or has
no room left (a full disk), a request answers 503 with a short message in
the user's language: an HTML page for the browser, JSON for the REST API.
Nothing of the SQL or the driver's message reaches the user; the server log
keeps the full error.

The transaction of the failed request is rolled back, so a request either
committed all of its writes (record, workflow history, audit entries) or
none of them. A dead pooled connection is replaced on the next request
(``pool_pre_ping``), so the app recovers by itself once the database is back.
"""
import logging

from flask import current_app, jsonify, make_response, request
from flask_babel import gettext as _
from sqlalchemy import exc as sa_exc

log = logging.getLogger(__name__)

UNAVAILABLE = "unavailable"
READ_ONLY = "read_only"
DISK_FULL = "disk_full"

# Seconds after which a client may try again when the database was unreachable.
RETRY_AFTER_SECONDS = 30

# PostgreSQL SQLSTATEs: read_only_sql_transaction, and class 53 (insufficient
# resources: disk_full, out_of_memory, too_many_connections ...).
_PG_READ_ONLY = "25006"
_PG_DISK_FULL = "53100"

# Self-contained on purpose: the site's base template reads the menu, the
# user and the notification badge from the database, which is what failed.
_PAGE = """<!DOCTYPE html>
<html lang="{{ lang }}">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }}</title>
<style>body{font-family:sans-serif;max-width:40em;margin:4em auto;padding:0 1em;color:#333}
h1{font-size:1.4em}.box{border-left:4px solid #d9534f;padding:.5em 1em;background:#f9f2f2}</style>
</head>
<body>
<h1>{{ title }}</h1>
<p class="box" role="alert">{{ message }}</p>
<p><a href="{{ home }}">{{ home_label }}</a></p>
</body>
</html>
"""


def classify(error):
    """``READ_ONLY``, ``DISK_FULL`` or ``UNAVAILABLE`` for a database error, else None.

    None means the error is not an outage (a constraint, a bug in a query)
    and is left to the ordinary error handling.
    """
    if isinstance(error, sa_exc.TimeoutError):
        return UNAVAILABLE  # no pooled connection became free in time
    if not isinstance(error, sa_exc.DBAPIError):
        return None
    original = getattr(error, "orig", None)
    sqlstate = getattr(original, "sqlstate", None) or ""
    sqlite_name = getattr(original, "sqlite_errorname", None) or ""
    text = str(original or "").lower()
    if sqlstate == _PG_READ_ONLY or sqlite_name.startswith("SQLITE_READONLY") \
            or "readonly database" in text:
        return READ_ONLY
    if sqlstate == _PG_DISK_FULL or sqlite_name == "SQLITE_FULL" or "disk is full" in text:
        return DISK_FULL
    if error.connection_invalidated or isinstance(
            error, (sa_exc.OperationalError, sa_exc.InterfaceError)):
        return UNAVAILABLE
    return None


def messages():
    """The user's message for each kind of outage, in the current language."""
    return {
        UNAVAILABLE: _("The database cannot be reached at the moment. Please try again in a "
                       "moment; before repeating a change, check whether it was saved."),
        READ_ONLY: _("The database is read-only at the moment, so changes cannot be saved. "
                     "Nothing was saved; please tell the administrator."),
        DISK_FULL: _("The database has no storage space left, so changes cannot be saved. "
                     "Nothing was saved; please tell the administrator."),
    }


def wants_json():
    return request.path.startswith("/api/") or \
        request.accept_mimetypes.best == "application/json"


def outage_response(kind, json=None):
    """The 503 answer for an outage of ``kind``: JSON for the API, else a plain page."""
    message = messages()[kind]
    if json if json is not None else wants_json():
        response = jsonify(message=message, error=kind)
    else:
        from flask_babel import get_locale

        locale = get_locale()
        # Straight from the template, past the context processors: they load the
        # current user, i.e. read the database that just failed.
        response = current_app.jinja_env.from_string(_PAGE).render(
            lang=getattr(locale, "language", "zh"),
            title=_("Service temporarily unavailable"), message=message,
            home=request.script_root + "/", home_label=_("Back to the home page"),
        )
    response = make_response(response, 503)
    if kind == UNAVAILABLE:
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response.headers["Cache-Control"] = "no-store"
    return response


def _discard_session():
    """Roll the failed transaction back; the connection may already be gone."""
    from .extensions import db

    try:
        db.session.rollback()
    except Exception:  # noqa: BLE001  (the outage itself; the pool replaces the connection)
        log.debug("rollback after a database outage failed", exc_info=True)


def handle_database_error(error):
    """Flask error handler: a 503 for an outage, the ordinary handling otherwise."""
    kind = classify(error)
    if kind is None:
        raise error
    _discard_session()
    log.error("database %s during %s %s", kind, request.method, request.path, exc_info=error)
    return outage_response(kind)


def api_outage_response():
    """Inside ``except``: the 503 answer when the error being handled is an outage, else None.

    FAB's ``@safe`` turns every exception of a REST endpoint into a 500 with
    "Fatal error"; its ``response_500`` calls this to say what happened.
    """
    import sys

    error = sys.exc_info()[1]
    kind = classify(error) if error is not None else None
    if kind is None:
        return None
    _discard_session()
    return outage_response(kind, json=True)


def _end_session(_exception):
    """Close the request's session; a connection lost meanwhile is discarded, not raised.

    Registered after Flask-SQLAlchemy's own teardown, so it runs first (Flask
    runs teardowns in reverse): the connection can die after the response was
    built (a restart while the transaction idles), and the rollback of the
    close would then turn a finished request into a server error.
    """
    from .extensions import db

    try:
        db.session.remove()
    except (sa_exc.DBAPIError, sa_exc.TimeoutError) as error:
        if classify(error) is None:
            raise
        log.warning("database connection lost at the end of a request; discarded",
                    exc_info=error)
        # The failed close left the session registered: drop it, its connection is invalid.
        db.session.registry.clear()


def install_database_error_handlers(app):
    """Answer database outages with a 503 (see the module docstring)."""
    app.teardown_appcontext(_end_session)
    # InternalError carries PostgreSQL's read-only refusal; its other cases are re-raised.
    for error_class in (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.InternalError,
                        sa_exc.TimeoutError):
        app.register_error_handler(error_class, handle_database_error)
