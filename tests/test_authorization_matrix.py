"""The authorisation matrix: every role against every endpoint the application serves.

The endpoints are read from ``app.url_map``, not listed by hand: HTML views, REST
resources, workflow transitions (HTML POST and REST), exports (CSV, XLSX), print
pages and PDFs, charts, monthly reports, attachments, settings, the audit trail,
notifications and FAB's own security screens. For each endpoint the permission FAB
checks, ``(permission, view menu)``, comes from the view (its method's permission
name and ``class_permission_name``); the expected answer for each role comes from
the roles data (``app/security/roles.py``; the administrator holds everything).

* A role without the permission is refused (403; 401 on the REST API without a
  token; the login page when anonymous), and the refusal never carries the data of
  the record whose id is in the URL.
* A role with the permission is not refused by the permission layer: FAB does not
  log an access denial and the answer is neither 401/403 from that layer nor a
  server error. Which rows it then sees is the row-level rules' business
  (``tests/test_row_doors.py``).
* An endpoint the matrix cannot classify fails the run, so a new door cannot be
  added without its permission being checked here.

Record URLs use demo rows. Requests that would change something (forms, steps,
uploads) name a record that does not exist, an unknown step or an empty form: the
permission check runs first, and nothing is changed when it lets the request in.
"""
import logging
from dataclasses import dataclass, field

import pytest
from sqlalchemy import String, Text, inspect as sa_inspect

from app import create_app
from app.extensions import db
from app.security.roles import ADMIN, ROLES, ROLES_BY_NAME
from tests.conftest import BASE_OVERRIDES, PASSWORD, api_token, login

MISSING = 987654321  # an id no table reaches in the demo data

# URLs that no permission guards, each with the reason it may stay so.
PUBLIC = {
    "/static/<path:filename>": "the application's CSS, JavaScript, fonts and vendored ECharts",
    "/static/appbuilder/<path:filename>": "Flask-AppBuilder's CSS and JavaScript",
    "/login/": "the login form",
    "/logout/": "logging out",
    "/api/v1/security/login": "REST login: answers a token for valid credentials only",
    "/api/v1/security/refresh": "REST token refresh: needs a valid refresh token",
    "/back": "redirects to the previous page of the same session",
    "/lang/<string:locale>": "switches the interface language",
}
# Pages any logged-in person may open: they show only the viewer's own work.
PERSONAL = {
    "HomeView.index": "the home page: the viewer's own pending steps, visits and deadlines",
    "SettingView.index": "redirects to SettingView.registered, which checks can_registered",
}


class _DenialLog(logging.Handler):
    """Collects FAB's "Access is Denied" warnings: the mark of a permission-layer refusal."""

    def __init__(self):
        super().__init__(logging.WARNING)
        self.records = []

    def emit(self, record):
        if record.msg.startswith("Access is Denied"):
            self.records.append(record.getMessage())


@dataclass
class Door:
    """One request: an endpoint, its method and URL, and the permission that opens it."""

    endpoint: str
    method: str
    url: str
    kind: str  # html, api, form, action, remote, personal, absent, get_action
    pair: tuple = None  # (permission, view menu) checked; None when no permission decides
    markers: tuple = field(default=())  # values of the record in the URL
    base_permissions: frozenset = field(default=frozenset())  # what the view serves at all
    data: dict = None  # form fields of a POST

    def allowed(self, permissions):
        """Expected answer for a holder of ``permissions`` (None: the administrator)."""
        if self.kind == "personal":
            return True
        if self.kind in ("absent", "get_action"):
            return False
        if permissions is None:
            return self.kind == "form" or self.pair[0] in self.base_permissions
        if self.kind != "form" and self.pair[0] not in self.base_permissions:
            return False
        return self.pair in permissions


# ---------------------------------------------------------------------------
# The application with the demo data, and its doors
# ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def matrix(database_factory, tmp_path_factory):
    """One app with the demo organisation, users (one per role) and records."""
    from app.setup import initialise

    tmp = tmp_path_factory.mktemp("matrix")
    url = database_factory.new_url()
    app = create_app({**BASE_OVERRIDES, "SQLALCHEMY_DATABASE_URI": url,
                      "FAB_UPDATE_PERMS": False, "INSTANCE_PATH": str(tmp / "instance"),
                      "ATTACHMENT_FOLDER": str(tmp / "attachments")})
    with app.app_context():
        initialise(demo=True, echo=lambda *args: None)
        sm = app.appbuilder.sm
        for user in sm.get_all_users():
            sm.reset_password(user.id, PASSWORD)
        users = {}
        for user in sm.get_all_users():
            for role in user.roles:
                users.setdefault(role.name, user.username)
        doors, unclassified = _doors(app)
    app.matrix_users = users
    app.matrix_doors = doors
    app.matrix_unclassified = unclassified
    handler = _DenialLog()
    logging.getLogger("flask_appbuilder.security.decorators").addHandler(handler)
    app.denials = handler
    yield app
    logging.getLogger("flask_appbuilder.security.decorators").removeHandler(handler)
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    database_factory.drop(url)


def _views_by_blueprint(app):
    return {view.blueprint.name: view for view in app.appbuilder.baseviews
            if getattr(view, "blueprint", None) is not None}


def _first_row(model):
    """The demo row with the lowest id, or None when the table is empty."""
    return db.session.query(model).order_by(*sa_inspect(model).primary_key).first()


def _markers(record):
    """Text values of ``record`` distinctive enough to spot in a page (numbers, names...)."""
    if record is None:
        return ()
    values = []
    for column in sa_inspect(type(record)).columns:
        if isinstance(column.type, (String, Text)) and not column.info.get("choices"):
            value = getattr(record, column.key, None)
            if isinstance(value, str) and len(value.strip()) >= 6 and "password" not in column.key:
                values.append(value.strip()[:40])
    return tuple(values)


def _model_of(view):
    datamodel = getattr(view, "datamodel", None)
    return getattr(datamodel, "obj", None)


def _argument_values(app, view, rule, method):
    """Values for the rule's URL arguments: lists of (values, markers) to request."""
    from app.models.attachments import Attachment
    from app.printing.registry import get_form
    from app.services import reports

    arguments = set(rule.arguments)
    base = {}
    markers = ()
    method_name = rule.endpoint.partition(".")[2]
    mutating = method != "GET" or method_name in ("delete", "action")
    if "pk" in arguments and rule.endpoint.split(".")[0] != "FormsView":
        model = _model_of(view)
        record = None if mutating or model is None else _first_row(model)
        base["pk"] = record.id if record is not None else MISSING
        markers = _markers(record)
    if "attachment_id" in arguments:
        attachment = None if mutating else _first_row(Attachment)
        base["attachment_id"] = attachment.id if attachment is not None else MISSING
        markers = _markers(attachment)
    for name, value in (("name", "nosuch_action"), ("filename", "nosuch.txt"),
                        ("action", "nosuch_step"), ("group_by", "0"),
                        ("owner_table", "complaint"), ("owner_id", MISSING),
                        ("issue_id", MISSING), ("rect_id", MISSING)):
        if name in arguments:
            base[name] = value
    if "key" in arguments:
        return [({**base, "key": key}, markers) for key in reports.CHARTS]
    if "form" in arguments:
        get_form("complaint")  # declares the forms
        from app.printing.registry import FORMS

        combos = []
        for spec in FORMS.values():
            if spec.register == ("pk" in arguments):
                continue
            values = {**base, "form": spec.name}
            form_markers = ()
            if "pk" in arguments:
                model = spec.model or _model_of(_views_by_class_permission(app).get(spec.view_name))
                record = _first_row(model)
                values["pk"] = record.id if record is not None else MISSING
                form_markers = _markers(record)
            combos.append((values, form_markers, spec))
        return combos
    return [(base, markers)]


def _views_by_class_permission(app):
    views = {}
    for view in app.appbuilder.baseviews:
        views.setdefault(view.class_permission_name, view)
    return views


def _doors(app):
    """Every (endpoint, method) of the url_map as a Door, and the rules left unclassified."""
    from flask_appbuilder.api import BaseApi

    views = _views_by_blueprint(app)
    doors, unclassified = [], []
    for rule in app.url_map.iter_rules():
        if rule.rule in PUBLIC:
            continue
        blueprint, _dot, method_name = rule.endpoint.partition(".")
        view = views.get(blueprint)
        methods = rule.methods - {"HEAD", "OPTIONS"}
        if {"GET", "POST"} <= methods and not rule.endpoint.endswith(".action"):
            # A form page and its submission: one function, one permission check.
            methods = {"GET"}
        for method in sorted(methods):
            if rule.endpoint in PERSONAL:
                doors.append(Door(rule.endpoint, method, rule.rule, "personal"))
                continue
            if view is None:
                unclassified.append(f"{rule.rule} {method} ({rule.endpoint}): no view")
                continue
            if blueprint == "FormsView":
                for values, markers, spec in _argument_values(app, view, rule, method):
                    doors.append(Door(rule.endpoint, method, _build(rule, values), "form",
                                      (spec.permission, spec.view_name), markers))
                continue
            if method_name == "action" and method == "GET":
                # With CSRF protection on, FAB refuses every action asked for by GET.
                doors.append(Door(rule.endpoint, method,
                                  _build(rule, {"name": "nosuch_action", "pk": MISSING}),
                                  "get_action"))
                continue
            if method_name in ("action", "action_post"):
                # Runs the @action named if its permission is held; an action the view
                # does not declare is 404 for everyone.
                for name in sorted(getattr(view, "actions", None) or {}) + ["nosuch_action"]:
                    if method_name == "action":
                        url, data = _build(rule, {"name": name, "pk": MISSING}), None
                    else:
                        url, data = _build(rule, {}), {"action": name, "rowid": MISSING}
                    if name not in (view.actions or {}):
                        doors.append(Door(rule.endpoint, method, url, "absent", data=data))
                        continue
                    pair = (view.get_action_permission_name(name), view.class_permission_name)
                    doors.append(Door(rule.endpoint, method, url, "action", pair, (),
                                      frozenset(view.base_permissions or ()), data=data))
                continue
            if method_name == "remote_select":
                # The search-as-you-type answers of a form's relation fields: the
                # permission of the form they belong to.
                from app.views.remote_select import PERMISSION_METHOD

                fields = sorted(getattr(view, "_remote_choices", {}))
                if not fields:  # no such field here: 404 for everyone
                    doors.append(Door(rule.endpoint, method,
                                      _build(rule, {"kind": "search", "column": "nosuch"}),
                                      "absent"))
                seen_kinds = set()
                for kind, column in fields:
                    if kind in seen_kinds:  # every field of a form has the form's permission
                        continue
                    seen_kinds.add(kind)
                    method_key = PERMISSION_METHOD[kind]
                    permission = (view.method_permission_name or {}).get(method_key) or method_key
                    doors.append(Door(rule.endpoint, method,
                                      _build(rule, {"kind": kind, "column": column}), "remote",
                                      ("can_" + permission, view.class_permission_name), (),
                                      frozenset(view.base_permissions or ())))
                continue
            function = getattr(view, method_name, None)
            permission = getattr(function, "_permission_name", None)
            if permission is None:
                unclassified.append(f"{rule.rule} {method} ({rule.endpoint}): no permission")
                continue
            permission = (view.method_permission_name or {}).get(method_name) or permission
            if not permission.startswith("can_"):
                permission = "can_" + permission
            kind = "api" if isinstance(view, BaseApi) else "html"
            for values, markers in _argument_values(app, view, rule, method):
                doors.append(Door(rule.endpoint, method, _build(rule, values), kind,
                                  (permission, view.class_permission_name), markers,
                                  frozenset(view.base_permissions or ())))
    return doors, unclassified


def _build(rule, values):
    _domain, path = rule.build(values, append_unknown=False)
    return path


# ---------------------------------------------------------------------------
# Requests
# ---------------------------------------------------------------------------

class _User:
    def __init__(self, username):
        self.username = username


def _request(app, client, token, door):
    """(status, body text, FAB denial logged) of ``door`` for the client's user."""
    app.denials.records.clear()
    headers = {"Authorization": f"Bearer {token}"} if token and door.kind == "api" else {}
    kwargs = {}
    if door.method in ("POST", "PUT"):
        kwargs = {"json": {}} if door.kind == "api" else {"data": door.data or {}}
    try:
        response = client.open(door.url, method=door.method, headers=headers, **kwargs)
    except Exception as error:  # the test client re-raises a view's exception
        return 500, None, repr(error), bool(app.denials.records)
    body = response.get_data()
    text = body.decode("utf-8", "replace") if not body.startswith(b"%PDF") else ""
    return response.status_code, response, text, bool(app.denials.records)


def _verdict(door, allowed, status, response, text, denied):
    """None when the answer is the one the roles data expects, else why not."""
    if allowed:
        if denied or status == 401 or status >= 500:
            return f"refused or failed ({status}) although the role holds {door.pair}"
        if door.kind == "form" and status not in (200, 404):
            return f"print door answered {status} to a holder of {door.pair}"
        return None
    if door.kind == "get_action":
        if status != 302:
            return f"an action asked for by GET answered {status}"
    elif door.kind == "absent":
        if status != 404:
            return f"answered {status} for a field that does not exist"
    elif door.kind == "action":
        # FAB flashes "Access is Denied" and goes back to the list: nothing ran.
        if status != 302:
            return f"action door answered {status} without {door.pair}"
    elif door.kind == "api":
        if status not in (401, 403):
            return f"answered {status} without {door.pair}"
    elif status != 403:
        return f"answered {status} without {door.pair}"
    leaked = [marker for marker in door.markers if marker in text]
    if leaked:
        return f"refusal shows the record's data {leaked[:3]}"
    return None


ROLE_NAMES = [spec.name for spec in ROLES] + [ADMIN]


def test_every_endpoint_is_classified(matrix):
    """A new endpoint must be guarded by a permission the matrix reads, or listed as public."""
    assert not matrix.matrix_unclassified, "\n".join(matrix.matrix_unclassified)
    endpoints = {door.endpoint for door in matrix.matrix_doors}
    # The doors the matrix walks include every kind the product serves.
    for expected in ("ComplaintView.transition", "ComplaintApi.perform_action",
                     "ComplaintView.export_csv", "ComplaintApi.export_xlsx",
                     "FormsView.record_pdf", "FormsView.record_html", "DashboardView.chart",
                     "AttachmentView.download", "SettingView.registered", "AuditLogView.list",
                     "NotificationView.mark_read", "MonthlyReportView.complaints_pdf"):
        assert expected in endpoints, expected
    with matrix.app_context():
        rules = {rule.endpoint for rule in matrix.url_map.iter_rules()}
        public = {rule.endpoint for rule in matrix.url_map.iter_rules() if rule.rule in PUBLIC}
    assert rules == endpoints | public


def test_roles_data_grants_only_permissions_some_door_checks(matrix):
    """A pair in roles.py that no endpoint checks is a typo or a door that went away."""
    checked = {door.pair for door in matrix.matrix_doors if door.pair}
    for spec in ROLES:
        dead = {pair for pair in spec.permissions
                if pair[0] != "menu_access" and pair not in checked}
        assert not dead, (spec.name, sorted(dead))


def _permissions_of(role_name):
    return None if role_name == ADMIN else set(ROLES_BY_NAME[role_name].permissions)


def _share_of_allowed_doors(doors, role_name):
    """The doors this role holds that it walks itself.

    A refusal is cheap, so every role walks every door it lacks. The doors opened by
    one permission are shared out among the roles holding it, so that each is
    walked once by one of its holders: same answer from the permission layer,
    a fraction of the time (lists, exports and charts are the slow pages).
    """
    by_pair = {}
    for door in doors:
        if door.pair is not None:
            by_pair.setdefault((door.kind == "form", door.pair), []).append(door)
    mine = set()
    for pair_doors in by_pair.values():
        holders = [name for name in ROLE_NAMES if pair_doors[0].allowed(_permissions_of(name))]
        if role_name in holders:
            index = holders.index(role_name)
            mine.update(id(door) for door in pair_doors[index::len(holders)])
    return mine


@pytest.mark.parametrize("role_name", ROLE_NAMES)
def test_role_gets_exactly_the_doors_the_roles_data_gives_it(matrix, role_name):
    username = matrix.matrix_users[role_name]
    client = matrix.test_client()
    assert login(client, _User(username)).status_code == 302
    token = api_token(matrix.test_client(), _User(username))
    permissions = _permissions_of(role_name)
    mine = _share_of_allowed_doors(matrix.matrix_doors, role_name)
    failures, checked = [], 0
    for door in matrix.matrix_doors:
        allowed = door.allowed(permissions)
        if allowed and door.pair is not None and id(door) not in mine:
            continue
        if allowed and door.kind == "form" and door.url.endswith(".pdf"):
            continue  # rendering PDFs is slow: tests/test_row_doors.py renders some
        if allowed and (door.kind == "action" or door.endpoint.endswith(".download")):
            # FAB's own account actions (reset a password, copy a role) would run, and its
            # file-column download (no model has a file column) fails on a missing file.
            continue
        status, response, text, denied = _request(matrix, client, token, door)
        checked += 1
        problem = _verdict(door, allowed, status, response, text, denied)
        if problem:
            failures.append(f"{door.method} {door.url}: {problem}")
    assert not failures, f"{role_name}: {len(failures)} of {checked}\n" + "\n".join(failures[:60])


def test_anonymous_requests_go_to_the_login_page(matrix):
    client = matrix.test_client()
    failures = []
    for door in matrix.matrix_doors:
        if door.kind == "personal":
            continue
        status, response, text, _denied = _request(matrix, client, None, door)
        location = response.headers.get("Location", "") if response is not None else ""
        if door.kind in ("api", "remote"):
            ok = status == 401
        elif door.kind == "action":
            ok = status == 302  # FAB flashes "Access is Denied" and goes back
        elif door.kind == "absent":
            ok = status == 404
        elif door.kind == "get_action":
            ok = status == 302
        else:
            ok = status == 302 and "/login" in location
        leaked = [marker for marker in door.markers if marker in text]
        if not ok or leaked:
            failures.append(f"{door.method} {door.url}: {status} {location} {leaked[:2]}")
    assert not failures, "\n".join(failures[:60])
