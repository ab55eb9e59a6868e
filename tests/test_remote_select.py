"""Relation fields search the server instead of listing a whole related table.

One app and database for the module (many cases, one data set): 300 staff,
a few complaints. Covers what a user notices: the list page and the forms no
longer carry every staff member, the search answers by one character, caps
its answer, escapes names, answers only to those who may open the form and
only with rows they may see; a filter set by id still filters, shows its
label on reload and survives a bad id. And the REST list's capped count.
"""
import json
import re

import pytest
from sqlalchemy import insert, select
from werkzeug.security import generate_password_hash

from app import create_app
from app.extensions import db
from tests.conftest import BASE_OVERRIDES, PASSWORD, _Ref, api_token, login, logged_in

STAFF = 300
# A family name all staff share, and one given-name character only some have.
FAMILY = "欧阳"
RARE = "珏"
EVIL = "<script>alert(1)</script>坏名"


@pytest.fixture(scope="module")
def world(database_factory, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("remote")
    url = database_factory.new_url()
    app = create_app({**BASE_OVERRIDES, "SQLALCHEMY_DATABASE_URI": url,
                      "FAB_UPDATE_PERMS": False, "INSTANCE_PATH": str(tmp / "instance"),
                      "ATTACHMENT_FOLDER": str(tmp / "attachments")})
    with app.app_context():
        ids = _load(app)
    yield app, ids
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    database_factory.drop(url)


def _add_user(connection, username, role_id, display_name, password_hash):
    from flask_appbuilder.security.sqla.models import User, assoc_user_role

    from app.models.base import utcnow
    from app.models.org import StaffProfile

    now = utcnow()
    user_id = connection.execute(insert(User.__table__).returning(User.__table__.c.id), {
        "first_name": display_name[len(FAMILY):] or "名", "last_name": FAMILY,
        "username": username, "password": password_hash, "active": True,
        "email": f"{username}@example.com", "login_count": 0, "fail_login_count": 0,
        "created_on": now, "changed_on": now}).scalar_one()
    connection.execute(insert(assoc_user_role), {"user_id": user_id, "role_id": role_id})
    connection.execute(insert(StaffProfile.__table__), {
        "user_id": user_id, "display_name": display_name, "active": True,
        "created_at": now, "updated_at": now})
    return user_id


def _load(app):
    """300 officers (bulk, one password hash), a few named users and two complaints."""
    from flask_appbuilder.security.sqla.models import Role

    from app.models.complaints import Complaint

    password_hash = generate_password_hash(PASSWORD)
    ids = {}
    with db.engine.begin() as connection:
        roles = dict(connection.execute(select(Role.__table__.c.name, Role.__table__.c.id)).all())
        officers = []
        for number in range(STAFF):
            given = RARE if number % 100 == 7 else "明"
            officers.append(_add_user(connection, f"officer{number:03d}", roles["ComplaintOfficer"],
                                      f"{FAMILY}{given}{number:03d}", password_hash))
        ids["officers"] = officers
        ids["evil"] = _add_user(connection, "evil", roles["ComplaintOfficer"], EVIL, password_hash)
        for role in ("FrontDesk", "GeneralManager", "PropertyAssistant", "Director", "Partner"):
            ids[role] = _add_user(connection, role.lower(), roles[role], f"{role}甲", password_hash)
    complaint = dict(year=2000, kind="complaint", channel="phone", description="描述")
    db.session.add_all([
        Complaint(number="TS-0001", sequence=1, subject="电梯噪音投诉", officer_id=officers[0],
                  **complaint),
        Complaint(number="TS-0002", sequence=2, subject="停车场投诉",
                  officer_id=ids["PropertyAssistant"], **complaint),
        Complaint(number="TS-0003", sequence=3, subject="尚无负责人的投诉", **complaint),
    ])
    db.session.commit()
    ids["complaints"] = {c.number: c.id for c in db.session.query(Complaint)}
    return ids


@pytest.fixture
def client_for(world):
    app, ids = world

    def _client(role):
        client = app.test_client()
        if role:
            assert logged_in(login(client, _Ref(app, ids[role], role.lower())))
        return client

    return _client


def officer_names_in(html):
    return len(re.findall(rf"{FAMILY}[明{RARE}]\d{{3}}", html))


def search_form_fields(page):
    """The search form's ``{column: field HTML}``, as the browser receives it."""
    match = re.search(r"new AdminFilters\(\s*'#filter_form',", page)
    decoder, rest = json.JSONDecoder(), page[match.end():].lstrip()
    _labels, end = decoder.raw_decode(rest)
    fields, _end = decoder.raw_decode(rest[end:].lstrip().lstrip(",").lstrip())
    return fields


def search(client, url, q):
    response = client.get(url, query_string={"q": q})
    return response, (response.get_json() if response.status_code == 200 else None)


# ---------------------------------------------------------------------------
# Pages no longer carry the whole staff table
# ---------------------------------------------------------------------------

def test_list_and_forms_do_not_carry_every_staff_member(client_for):
    desk = client_for("FrontDesk")
    page = desk.get("/complaintview/list/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    # The officer filter is a remote search; at most the listed rows' own names appear.
    assert "/complaintview/remote/search/officer" in html
    assert officer_names_in(html) <= 5
    form = desk.get("/complaintview/add").get_data(as_text=True)
    assert "/complaintview/remote/add/officer" in form
    assert officer_names_in(form) == 0
    # Departments are few: still a plain select box.
    assert "/complaintview/remote/add/respondent_department" not in form


# ---------------------------------------------------------------------------
# The search answer
# ---------------------------------------------------------------------------

def test_one_character_finds_matches_capped_with_a_more_flag(world, client_for):
    _app, ids = world
    desk = client_for("FrontDesk")
    response, answer = search(desk, "/complaintview/remote/search/officer", FAMILY[0])
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert len(answer["results"]) == 20 and answer["more"] is True

    _response, answer = search(desk, "/complaintview/remote/search/officer", RARE)
    expected = {str(ids["officers"][n]) for n in range(STAFF) if n % 100 == 7}
    assert {hit["id"] for hit in answer["results"]} == expected
    assert all(RARE in hit["text"] for hit in answer["results"]) and answer["more"] is False

    # LIKE wildcards typed by the user are plain characters.
    _response, answer = search(desk, "/complaintview/remote/search/officer", "%")
    assert answer["results"] == []


def test_names_come_back_as_text_never_as_markup(world, client_for):
    _app, ids = world
    response, answer = search(client_for("FrontDesk"),
                              "/complaintview/remote/search/officer", "坏名")
    assert answer["results"] == [{"id": str(ids["evil"]), "text": EVIL}]
    body = response.get_data(as_text=True)
    assert "<" not in body and ">" not in body
    assert response.mimetype == "application/json"


def test_form_restriction_applies_to_the_search(world, client_for):
    """The add form's officer must hold the officer role: a front-desk user is not offered."""
    desk = client_for("FrontDesk")
    _response, answer = search(desk, "/complaintview/remote/add/officer", "FrontDesk")
    assert answer["results"] == []
    _response, answer = search(desk, "/complaintview/remote/add/respondent_user", "FrontDesk")
    assert [hit["text"] for hit in answer["results"]] == ["FrontDesk甲"]


def test_search_refuses_who_may_not_open_the_form(client_for):
    anonymous = client_for(None)
    assert anonymous.get("/complaintview/remote/search/officer?q=a").status_code == 401
    # A property assistant has no complaint list; a general manager may list, not register.
    assistant = client_for("PropertyAssistant")
    assert assistant.get("/complaintview/remote/search/officer?q=a").status_code == 403
    manager = client_for("GeneralManager")
    assert manager.get("/complaintview/remote/search/officer?q=a").status_code == 200
    assert manager.get("/complaintview/remote/add/officer?q=a").status_code == 403
    # Only relation fields a form has; nothing else is searchable this way.
    desk = client_for("FrontDesk")
    assert desk.get("/complaintview/remote/search/subject?q=a").status_code == 404
    assert desk.get("/complaintview/remote/delete/officer?q=a").status_code == 404


def test_search_offers_only_rows_the_user_may_see(world, client_for):
    """A property assistant sees only the complaints they are involved in."""
    _app, ids = world
    assistant = client_for("PropertyAssistant")
    _response, answer = search(assistant, "/returnvisitview/remote/search/complaint", "投诉")
    assert [hit["id"] for hit in answer["results"]] == [str(ids["complaints"]["TS-0002"])]
    # A manager reads every complaint.
    _response, answer = search(client_for("GeneralManager"),
                               "/returnvisitview/remote/search/complaint", "投诉")
    assert {hit["id"] for hit in answer["results"]} == {str(i) for i in ids["complaints"].values()}


# ---------------------------------------------------------------------------
# Filtering by the chosen id
# ---------------------------------------------------------------------------

def test_filter_by_id_filters_and_shows_its_label_on_reload(world, client_for):
    _app, ids = world
    desk = client_for("GeneralManager")  # reads every complaint
    officer = ids["officers"][0]
    html = desk.get(f"/complaintview/list/?_flt_0_officer={officer}").get_data(as_text=True)
    assert "TS-0001" in html and "TS-0002" not in html
    # The filter row comes back with the officer's name as its option (ab_filters selects it).
    field = search_form_fields(html)["officer"]
    assert f'<option value="{officer}">{FAMILY}明000</option>' in field
    assert officer_names_in(field) == 1


def test_an_unknown_or_malformed_id_gives_an_empty_list(client_for):
    desk = client_for("GeneralManager")
    for value in ("999999", "abc", "1.5", "-1"):
        response = desk.get(f"/complaintview/list/?_flt_0_officer={value}")
        assert response.status_code == 200, value
        html = response.get_data(as_text=True)
        # Not the complaints without an officer either (FAB's reading of a missing row).
        assert not re.search(r"TS-000\d", html), value
    # "No relation" to a row that does not exist: every complaint.
    html = desk.get("/complaintview/list/?_flt_1_officer=999999").get_data(as_text=True)
    assert all(f"TS-000{n}" in html for n in (1, 2, 3))


# ---------------------------------------------------------------------------
# Forms: the chosen row is shown and a submitted id is checked
# ---------------------------------------------------------------------------

def test_edit_form_shows_the_chosen_officer_only(world, client_for):
    _app, ids = world
    desk = client_for("Director")  # reads every complaint and may correct it
    complaint = ids["complaints"]["TS-0001"]
    html = desk.get(f"/complaintview/edit/{complaint}").get_data(as_text=True)
    assert re.search(rf'<option value="{ids["officers"][0]}" selected="selected">{FAMILY}明000',
                     html)
    assert officer_names_in(html) == 1
    assert "js/remote_select.js" in html


def test_a_submitted_officer_outside_the_choices_is_refused(world, client_for):
    from app.models.complaints import Complaint

    app, ids = world
    desk = client_for("FrontDesk")
    form = {"kind": "complaint", "channel": "phone", "severity": "general",
            "complainant_name": "王五", "complainant_phone": "13800000000",
            "subject": "远程选择测试", "description": "描述"}
    for bad in (str(ids["FrontDesk"]), "999999", "abc"):
        response = desk.post("/complaintview/add", data={**form, "officer": bad})
        assert response.status_code == 200, bad
        assert "Not a valid choice" in response.get_data(as_text=True) or \
            "不是有效的选项" in response.get_data(as_text=True), bad
    with app.app_context():
        assert db.session.query(Complaint).filter_by(subject="远程选择测试").count() == 0
    response = desk.post("/complaintview/add",
                         data={**form, "officer": str(ids["officers"][3])})
    assert response.status_code == 302
    with app.app_context():
        created = db.session.query(Complaint).filter_by(subject="远程选择测试").one()
        assert created.officer_id == ids["officers"][3]


def test_an_unchanged_value_the_user_could_not_choose_is_kept(world):
    """Saving a form unchanged never fails on a related row outside the user's visibility."""
    from types import SimpleNamespace

    from flask import g
    from flask_appbuilder.security.sqla.models import User
    from werkzeug.datastructures import MultiDict
    from wtforms import Form

    from app.models.complaints import Complaint
    from app.views.remote_select import RemoteChoices, RemoteSelectField

    app, ids = world
    view = next(v for v in app.appbuilder.baseviews if type(v).__name__ == "ReturnVisitView")
    with app.test_request_context():
        # The property assistant sees TS-0002 only (see the search test above).
        g.audit_actor = db.session.get(User, ids["PropertyAssistant"])

        class VisitForm(Form):
            complaint = RemoteSelectField(choices=RemoteChoices(view, "edit", "complaint"),
                                          kind="edit", allow_blank=True)

        hidden = db.session.get(Complaint, ids["complaints"]["TS-0001"])
        record = SimpleNamespace(complaint=hidden)
        kept = VisitForm(MultiDict({"complaint": str(hidden.id)}), obj=record)
        assert kept.validate(), kept.errors
        assert kept.complaint.data is hidden
        # Changing it to another row the user cannot see is still refused.
        other = ids["complaints"]["TS-0003"]
        changed = VisitForm(MultiDict({"complaint": str(other)}), obj=record)
        assert not changed.validate()
        # And the same hidden row is refused on a record that did not hold it.
        fresh = VisitForm(MultiDict({"complaint": str(hidden.id)}),
                          obj=SimpleNamespace(complaint=None))
        assert not fresh.validate()


# ---------------------------------------------------------------------------
# REST list: the capped count
# ---------------------------------------------------------------------------

def test_rest_list_count_is_capped_unless_exact_is_asked(world, client_for):
    app, ids = world
    desk = client_for(None)
    headers = {"Authorization": "Bearer " + api_token(desk, _Ref(app, ids["GeneralManager"],
                                                                  "generalmanager"))}
    app.config["LIST_COUNT_CAP"] = 1
    try:
        capped = desk.get("/api/v1/complaint/", headers=headers).get_json()
        assert capped["count"] == 1 and capped["count_capped"] is True
        assert len(capped["result"]) >= 2  # the page itself is not cut by the cap
        exact = desk.get("/api/v1/complaint/?exact_count=1", headers=headers).get_json()
        assert exact["count"] == len(exact["result"]) >= 2 and exact["count_capped"] is False
    finally:
        app.config["LIST_COUNT_CAP"] = 10000
    below = desk.get("/api/v1/complaint/?q=(page_size:1)", headers=headers).get_json()
    assert below["count"] >= 2 and below["count_capped"] is False
    assert len(below["result"]) == 1
