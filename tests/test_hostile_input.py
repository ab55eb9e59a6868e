"""Hostile input: markup in every text field, SQL in list parameters, bad uploads.

One app with the demo data serves the whole module (building it once is what
makes walking every page affordable). The tests that change data come last
in the file, and each says what it changed.
"""
import io
import os
import re

import pytest
from sqlalchemy import String, func, select
from sqlalchemy import inspect as sa_inspect

from app import create_app
from app.extensions import db
from tests.conftest import BASE_OVERRIDES, PASSWORD

PAYLOAD = "<script>alert(1)</script>\"'><img src=x onerror=alert(1)>"
# For columns too short for the whole payload.
SHORT_PAYLOAD = "\"'><svg/onload=alert(1)>"
RAW_MARKUP = ("<script>alert(1)", "<img src=x onerror", "<svg/onload")
ESCAPED_MARKUP = ("&lt;script&gt;alert(1)&lt;/script&gt;", "&lt;svg/onload=alert(1)&gt;")
INJECTION = "' OR 1=1--"
# Columns holding machine data (keys, hashes, JSON) rather than text a person types.
MACHINE_COLUMNS = {"storage_key", "sha256", "entry_hash", "prev_hash", "changes", "payload",
                   "documents", "record_table", "owner_table", "kind_key", "key", "value",
                   "url", "link", "endpoint", "password", "token"}
# Lists of FAB's security screens and of the append-only or machine tables.
SKIPPED_MODELS = {"AuditLog", "CalendarDay", "Setting", "Deadline"}
ATTACHMENT_LIMIT = 64 * 1024


@pytest.fixture(scope="module")
def demo_app(database_factory, tmp_path_factory):
    """An app whose database holds the demo users, organisation and business data."""
    from app.audit.context import acting_as
    from app.demo import create_demo_data
    from app.setup import _create_demo_organisation, _create_demo_users

    tmp = tmp_path_factory.mktemp("hostile")
    url = database_factory.new_url()
    app = create_app({**BASE_OVERRIDES, "SQLALCHEMY_DATABASE_URI": url,
                      "FAB_UPDATE_PERMS": False, "INSTANCE_PATH": str(tmp / "instance"),
                      "ATTACHMENT_FOLDER": str(tmp / "attachments"),
                      "ATTACHMENT_MAX_BYTES": ATTACHMENT_LIMIT, "BABEL_DEFAULT_LOCALE": "zh"})
    with app.app_context():
        sm = app.appbuilder.sm
        admin = sm.add_user("admin", "管理员", "系统", "admin@example.com", sm.find_role("Admin"),
                            password=PASSWORD)
        with acting_as(admin):
            _create_demo_users(sm)
            _create_demo_organisation(sm)
            create_demo_data(lambda *args: None)
        for user in sm.get_all_users():
            sm.reset_password(user.id, PASSWORD)
        db.session.commit()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    database_factory.drop(url)


def client_of(app, username):
    client = app.test_client()
    response = client.post("/login/", data={"username": username, "password": PASSWORD})
    assert response.status_code == 302 and "/login" not in response.headers["Location"]
    return client


def business_views(app):
    """Our list views over business tables (FAB's own security screens excluded)."""
    from app.views.base import AppModelView

    return [view for view in app.appbuilder.baseviews
            if isinstance(view, AppModelView)
            and view.datamodel.obj.__name__ not in SKIPPED_MODELS]


def routes(app):
    return {rule.rule for rule in app.url_map.iter_rules()}


def shown_ids(body, route_base):
    """Ids of the rows a list page links to."""
    return set(re.findall(re.escape(route_base) + r"/show/(\d+)", body))


def assert_no_raw_markup(body, where):
    for marker in RAW_MARKUP:
        assert marker not in body, f"{where}: unescaped {marker!r}"


# ---------------------------------------------------------------------------
# SQL in list parameters (read only: run before the data is poisoned)
# ---------------------------------------------------------------------------

def table_counts(app):
    """Rows in each business table."""
    tables = {view.datamodel.obj.__table__ for view in business_views(app)}
    with app.app_context():
        with db.engine.connect() as connection:
            return {table.name: connection.execute(select(func.count()).select_from(table)).scalar()
                    for table in tables}


def injection_queries(view):
    """Query strings that try SQL through the filter, order and paging parameters."""
    name = view.__class__.__name__
    filters = "&".join(f"_flt_0_{column}={INJECTION}" for column in view.search_columns or [])
    return [
        filters,
        f"_flt_0_{(view.search_columns or ['id'])[0]}={INJECTION}&_flt_99_id=1&_flt_0_nosuch=1",
        f"_oc_{name}=id;DROP TABLE complaint--&_od_{name}=asc;DROP TABLE complaint--",
        f"_oc_{name}=nosuch&_od_{name}=sideways&_page_{name}=-1&_psize_{name}=abc",
        f"_page_{name}=99999999999999999999&_psize_{name}=-5",
        f"_page_{name}=abc&_psize_{name}=99999999999999999999",
    ]


def test_sql_in_list_parameters_is_data_never_sql(demo_app):
    """No 500, no row beyond the user's list, every table intact afterwards.

    The administrator tries every parameter on every list; two users who see
    only part of the rows try the filters, where a leak would show.
    """
    before = table_counts(demo_app)
    failures = []
    for username, tried in (("admin", None), ("sunli", 2), ("majie", 2)):
        client = client_of(demo_app, username)
        for view in business_views(demo_app):
            base = f"{view.route_base}/list/"
            name = view.__class__.__name__
            plain = client.get(f"{base}?_psize_{name}=100")
            if plain.status_code != 200:
                assert plain.status_code in (302, 403), (username, base, plain.status_code)
                continue
            allowed = shown_ids(plain.get_data(as_text=True), view.route_base)
            for number, query in enumerate(injection_queries(view)[:tried]):
                response = client.get(f"{base}?{query}")
                where = f"{username} {base}?{query}"
                if response.status_code >= 500:
                    failures.append(f"{where}: {response.status_code}")
                    continue
                ids = shown_ids(response.get_data(as_text=True), view.route_base)
                if not ids <= allowed:
                    failures.append(f"{where}: rows the user's list does not have")
                # Every filter value is matched as data: the injection matches no row.
                if number == 0 and ids and any(_is_text_filter(view, column)
                                               for column in view.search_columns or []):
                    failures.append(f"{where}: {INJECTION!r} matched rows {ids}")
    assert not failures, "\n".join(failures)
    assert table_counts(demo_app) == before


def _is_text_filter(view, column):
    attribute = getattr(view.datamodel.obj, column, None)
    column_type = getattr(getattr(attribute, "property", None), "columns", [None])[0]
    return column_type is not None and isinstance(column_type.type, String) \
        and not column_type.info.get("choices")


def test_sql_in_rest_list_parameters_is_data_never_sql(demo_app):
    from flask_appbuilder.api import BaseApi

    before = table_counts(demo_app)
    client = demo_app.test_client()
    token = client.post("/api/v1/security/login", json={
        "username": "sunli", "password": PASSWORD, "provider": "db", "refresh": False,
    }).get_json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    failures = []
    for api in demo_app.appbuilder.baseviews:
        if not isinstance(api, BaseApi) or not getattr(api, "datamodel", None):
            continue
        base = f"/api/v1/{api.resource_name}/"
        plain = client.get(f"{base}?q=(page_size:100)", headers=headers)
        if plain.status_code != 200:
            continue
        allowed = set(plain.get_json()["ids"])
        column = next(iter(api.search_columns or []), "id")
        for query in (
            f"(filters:!((col:{column},opr:eq,value:'{INJECTION}')))",
            f"(filters:!((col:{column},opr:sw,value:'x%27) OR (1=1')))",
            "(order_column:'id;DROP TABLE complaint',order_direction:asc)",
            "(order_column:id,order_direction:'desc;DROP TABLE complaint')",
            "(page:-1,page_size:-1)",
            "(page:99999999999999999999,page_size:99999999999999999999)",
            "(filters:!((col:nosuch,opr:eq,value:1)))",
            "'unbalanced",
        ):
            response = client.get(f"{base}?q={query}", headers=headers)
            where = f"{base}?q={query}"
            if response.status_code >= 500:
                failures.append(f"{where}: {response.status_code}")
            elif response.status_code == 200 and not set(response.get_json()["ids"]) <= allowed:
                failures.append(f"{where}: rows beyond the user's list")
    assert not failures, "\n".join(failures)
    assert table_counts(demo_app) == before


# ---------------------------------------------------------------------------
# The examples that answered 500 before, kept as plain regression tests
# ---------------------------------------------------------------------------

def test_an_id_no_record_can_have_answers_404_on_every_door(demo_app):
    client = client_of(demo_app, "admin")
    token = client.post("/api/v1/security/login", json={
        "username": "admin", "password": PASSWORD, "provider": "db", "refresh": False,
    }).get_json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    for big in ("13783750961623212228608", "15031732376", "abc"):
        for url in (f"/api/v1/complaint/{big}", f"/api/v1/complaint/{big}/actions",
                    f"/api/v1/notification/{big}/read"):
            method = client.post if url.endswith("/read") else client.get
            response = method(url, headers=headers)
            # A non-number matches no GET route at all (405 beside the PUT route).
            assert response.status_code == (405 if big == "abc" and "read" not in url
                                            and "actions" not in url else 404), url
        response = client.put(f"/api/v1/complaint/{big}", headers=headers, json={"subject": "x"})
        assert response.status_code == 404 and response.get_json()["message"] == "未找到该记录。"
        for url in (f"/complaintview/show/{big}", f"/complaintview/edit/{big}",
                    f"/complaintview/print/{big}"):
            assert client.get(url).status_code == 404, url


def test_malformed_paging_shows_the_first_page(demo_app):
    client = client_of(demo_app, "admin")
    for query in ("_psize_ComplaintView=abc", "_page_ComplaintView=-1",
                  "_page_ComplaintView=99999999999999999999"):
        response = client.get(f"/complaintview/list/?{query}")
        assert response.status_code == 200, query
        assert shown_ids(response.get_data(as_text=True), "/complaintview"), query
    token = client.post("/api/v1/security/login", json={
        "username": "admin", "password": PASSWORD, "provider": "db", "refresh": False,
    }).get_json()["access_token"]
    response = client.get("/api/v1/complaint/?q=(page:99999999999999999999,page_size:10)",
                          headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200 and response.get_json()["result"] == []


def test_a_related_record_must_exist_and_is_never_created_from_the_body(demo_app):
    from app.models.customers import DailyRegistration

    client = demo_app.test_client()
    token = client.post("/api/v1/security/login", json={
        "username": "admin", "password": PASSWORD, "provider": "db", "refresh": False,
    }).get_json()["access_token"]
    with demo_app.app_context():
        before = db.session.query(DailyRegistration).count()
    for registration in ({"\\1'": "x"}, {"id": 99999, "status": "draft"}, 99999, "1", True):
        response = client.post("/api/v1/registration_entry/", json={
            "registration": registration, "channel": "call", "customer_name": "x",
            "phone": "13800000000"}, headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 422, registration
        assert response.get_json()["message"] == {"registration": ["未找到该记录。"]}
    with demo_app.app_context():
        assert db.session.query(DailyRegistration).count() == before


def test_api_times_carry_their_utc_offset_and_info_no_catalogue_header(demo_app):
    client = demo_app.test_client()
    token = client.post("/api/v1/security/login", json={
        "username": "admin", "password": PASSWORD, "provider": "db", "refresh": False,
    }).get_json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    [row] = client.get("/api/v1/complaint/?q=(page_size:1)", headers=headers).get_json()["result"]
    assert row["received_at"].endswith("+00:00")
    info = client.get("/api/v1/registration_entry/_info", headers=headers).get_json()
    assert all("Project-Id-Version" not in column["description"] for column in info["add_columns"])


# ---------------------------------------------------------------------------
# Markup in every text field (changes data: after the read-only tests)
# ---------------------------------------------------------------------------

def poison_one_row_of_each_model(app):
    """Put markup in every free-text column of the first row of each business model.

    Returns ``{model name: id}``. Choice columns, keys and machine data keep
    their values: the pages need them to render at all.
    """
    from app.audit.context import acting_as

    poisoned = {}
    with app.app_context():
        admin = app.appbuilder.sm.find_user(username="admin")
        with acting_as(admin):
            for model in {view.datamodel.obj for view in business_views(app)}:
                row = db.session.scalars(select(model).order_by(*sa_inspect(model).primary_key)
                                         .limit(1)).first()
                if row is None:
                    continue
                changed = False
                for prop in sa_inspect(model).column_attrs:
                    column = prop.columns[0]
                    if (not isinstance(column.type, String) or column.primary_key
                            or column.foreign_keys or column.info.get("choices")
                            or prop.key in MACHINE_COLUMNS):
                        continue
                    length = column.type.length
                    for value in (PAYLOAD, SHORT_PAYLOAD):
                        if length is None or length >= len(value):
                            setattr(row, prop.key, value)
                            changed = True
                            break
                if changed:
                    poisoned[model.__name__] = row.id
            db.session.commit()
    return poisoned


def record_pages(app, view, pk):
    """The pages of one record that a view offers: show, edit, print, letter."""
    names = routes(app)
    for page in ("show", "edit", "print", "letter"):
        for rule in (f"{view.route_base}/{page}/<pk>", f"{view.route_base}/{page}/<int:pk>"):
            if rule in names:
                yield page, f"{view.route_base}/{page}/{pk}"
                break


def test_markup_in_every_text_field_comes_back_escaped_on_every_page(demo_app):
    from app.services.reports import CHARTS

    poisoned = poison_one_row_of_each_model(demo_app)
    assert {"Complaint", "ReturnVisit", "PowerApplication", "Customer",
            "ArchiveFile"} <= set(poisoned)
    client = client_of(demo_app, "admin")
    failures, shown_escaped, answered = [], set(), set()
    for view in business_views(demo_app):
        model = view.datamodel.obj.__name__
        pages = [("list", f"{view.route_base}/list/?_psize_{view.__class__.__name__}=100")]
        if model in poisoned:
            pages += list(record_pages(demo_app, view, poisoned[model]))
        for page, url in pages:
            response = client.get(url)
            if response.status_code != 200:
                # A view may refuse a record in its state (an archived one is not editable).
                if response.status_code >= 500:
                    failures.append(f"{url}: {response.status_code}")
                continue
            answered.add((model, page))
            body = response.get_data(as_text=True)
            try:
                assert_no_raw_markup(body, url)
            except AssertionError as error:
                failures.append(str(error))
            if any(escaped in body for escaped in ESCAPED_MARKUP):
                shown_escaped.add((model, page))
    pages = ["/", "/search/?q=alert(1)", "/search/?q=<script>alert(1)</script>",
             "/dashboards/", "/monthlyreports/", "/monthlyreports/complaints/",
             "/monthlyreports/visits/", "/monthlyreports/assessment/"]
    pages += [f"/dashboards/{key}/" for key in CHARTS]
    for url in pages:
        response = client.get(url)
        if response.status_code >= 500:
            failures.append(f"{url}: {response.status_code}")
        assert_no_raw_markup(response.get_data(as_text=True), url)
    search = client.get("/search/?q=alert(1)").get_data(as_text=True)
    assert any(escaped in search for escaped in ESCAPED_MARKUP), "search shows no poisoned row"
    assert not failures, "\n".join(failures)
    # The markup is shown (as text) on the record page of every poisoned model.
    missing = {model for model in poisoned
               if (model, "show") in answered and (model, "show") not in shown_escaped}
    assert not missing, f"record pages that do not show the escaped text: {sorted(missing)}"
    assert len({model for model, page in answered if page == "show"}) >= 20
    for model, page in (("Complaint", "print"), ("Complaint", "letter"), ("ReturnVisit", "print"),
                        ("ArchiveFile", "print"), ("DailyRegistration", "print")):
        assert (model, page) in shown_escaped, f"{model} {page} page"


# ---------------------------------------------------------------------------
# Uploads through the web door of a business record
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("filename, content, message", [
    ("合同.pdf", b"MZ\x90\x00" + b"\x00" * 200, "的内容不是“pdf”文件，已拒收"),
    ("回复.pdf", b"<html><script>alert(1)</script></html>", "的内容不是“pdf”文件，已拒收"),
    ("page.html", b"<html><script>alert(1)</script></html>", "不接受“html”类型的文件"),
    ("tool.exe", b"MZ\x90\x00", "不接受“exe”类型的文件"),
    ("扫描件.pdf", b"%PDF-1.4\n" + b"0" * ATTACHMENT_LIMIT, "超过了0.06 MB的大小限制"),
])
def test_bad_uploads_are_refused_with_a_clear_message_and_nothing_is_stored(
        demo_app, filename, content, message):
    from app.models.attachments import Attachment
    from app.models.complaints import Complaint, ComplaintStatus

    folder = demo_app.config["ATTACHMENT_FOLDER"]

    def stored():
        with demo_app.app_context():
            rows = db.session.query(Attachment).count()
        files = sorted(os.path.join(root, name) for root, _dirs, names in os.walk(folder)
                       for name in names) if os.path.isdir(folder) else []
        return rows, files

    with demo_app.app_context():
        # An archived complaint refuses every file (CMP-13): take one still open.
        complaint_id = db.session.scalars(select(Complaint.id).where(
            Complaint.status != ComplaintStatus.ARCHIVED).order_by(Complaint.id)).first()
    before = stored()
    client = client_of(demo_app, "admin")
    response = client.post(f"/attachmentview/upload/complaint/{complaint_id}", data={
        "kind": "original", "file": (io.BytesIO(content), filename),
    }, content_type="multipart/form-data", follow_redirects=True)
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert stored() == before
