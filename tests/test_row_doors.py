"""Row-level rules on every door: a record a user may not see stays unseen whatever the URL.

For each protected record the doors are read from ``app.url_map``: every endpoint of
every view, REST resource and printable form over the record's model, with the
record's id (show, edit, print page, PDF, REST get and put, workflow steps over HTML
and REST, other record actions) and without (lists, CSV and XLSX exports, REST lists
and exports, registers), plus the search box and the record's attachments. Each
record carries a marker string; the user it is hidden from

* gets 403 or 404 on every door naming the record (a form post may also go back with
  a flash), never a page with the marker, and changes nothing;
* never finds the marker in a list, export, REST list or search answer;

while a user entitled to the record finds the marker on the same pages, so the
check cannot pass by looking at the wrong place.

Scenarios: the respondent of a complaint who holds a complaint role, and a director
recused from it (CMP-05); another sales manager's customer and registration form;
registration forms and a customer archive read by other sales managers and by the
sales department head without the general manager's time-limited permission (CUS-06;
the general manager and the custodian keep the archives and see them all).
"""
import io
import zipfile

import pytest
from werkzeug.datastructures import FileStorage

from app import create_app
from app.extensions import db
from tests.conftest import BASE_OVERRIDES, PASSWORD, api_token, login

MISSING = 987654321
MARK_COMPLAINT = "MKCMP05QX"
MARK_CUSTOMER = "MKCUSOWNQX"
MARK_REGISTRATION = "MKREGQX"
MARK_ARCHIVE = "MKARCQX"


@pytest.fixture(scope="module")
def world(database_factory, tmp_path_factory):
    """Demo organisation and customers, plus a complaint about a complaint officer."""
    from app.audit.context import acting_as
    from app.demo import customers as customers_demo
    from app.models.customers import ArchiveFile, Customer, DailyRegistration
    from app.models.org import StaffProfile
    from app.services import attachments, complaints
    from app.setup import _create_demo_organisation, _create_demo_users

    tmp = tmp_path_factory.mktemp("rowdoors")
    url = database_factory.new_url()
    app = create_app({**BASE_OVERRIDES, "SQLALCHEMY_DATABASE_URI": url,
                      "FAB_UPDATE_PERMS": False, "INSTANCE_PATH": str(tmp / "instance"),
                      "ATTACHMENT_FOLDER": str(tmp / "attachments")})
    rows = {}
    with app.app_context():
        sm = app.appbuilder.sm
        admin = sm.add_user("admin", "管理员", "系统", "admin@example.com", sm.find_role("Admin"),
                            password=PASSWORD)
        with acting_as(admin):
            _create_demo_users(sm)
            _create_demo_organisation(sm)
            customers_demo.create_demo_data(lambda *args: None)
            # A second designated officer handles the complaint about the first one.
            officer = sm.add_user("officer2", "二", "专", "officer2@example.com",
                                  sm.find_role("ComplaintOfficer"), password=PASSWORD)
            db.session.add(StaffProfile(user_id=officer.id, display_name="专二"))
            db.session.commit()
        users = {user.username: user for user in sm.get_all_users()}
        for user in users.values():
            sm.reset_password(user.id, PASSWORD)
        db.session.commit()

        front = users["wangfang"]
        with acting_as(front):
            complaint = complaints.register_complaint(front, {
                "kind": "complaint", "channel": "phone",
                "complainant_name": f"投诉人{MARK_COMPLAINT}", "complainant_phone": "13900001111",
                "subject": f"服务态度{MARK_COMPLAINT}", "description": f"详情{MARK_COMPLAINT}",
                "severity": "general", "respondent_user_id": users["sunli"].id,
                "officer_id": users["officer2"].id, "partner_id": users["chenjing"].id,
            })
            rows["complaint"] = complaint.id
        with acting_as(admin):
            complaints.mark_conflicted(rows["complaint"], admin, users["liuyang"].id)
            kinds = [value for value, _label in attachments.attachment_kinds(type(complaint))]
            upload = FileStorage(io.BytesIO(f"原件{MARK_COMPLAINT}".encode()), filename="note.txt",
                                 content_type="text/plain")
            attachment = attachments.add_attachment(
                db.session.get(type(complaint), rows["complaint"]), upload,
                (kinds or ["original"])[0], admin)
            db.session.commit()
            rows["attachment"] = attachment.id

            owned = users["majie"].id
            customer = db.session.query(Customer).filter_by(owner_id=owned).order_by(
                Customer.id).first()
            customer.name = f"客户{MARK_CUSTOMER}"
            registration = db.session.query(DailyRegistration).filter_by(
                manager_id=owned).order_by(DailyRegistration.id).first()
            registration.entries[0].customer_name = f"登记{MARK_REGISTRATION}"
            archive = db.session.query(ArchiveFile).filter_by(manager_id=owned).order_by(
                ArchiveFile.id).first()
            archive.contact_person = f"联系人{MARK_ARCHIVE}"
            db.session.commit()
            rows.update(customer=customer.id, registration=registration.id,
                        entry=registration.entries[0].id, archive=archive.id,
                        archive_no=archive.archive_no)
    app.rows = rows
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    database_factory.drop(url)


class _User:
    def __init__(self, username):
        self.username = username


def _models():
    from app.models.complaints import Complaint
    from app.models.customers import ArchiveFile, Customer, DailyRegistration, RegistrationEntry

    return {"complaint": Complaint, "customer": Customer, "registration": DailyRegistration,
            "entry": RegistrationEntry, "archive": ArchiveFile}


SEARCHED = ("complaint", "customer", "archive")  # the kinds the search box looks through
# (record, marker, users it is hidden from, a user entitled to it)
SCENARIOS = [
    ("complaint", MARK_COMPLAINT, ["sunli", "liuyang"], "zhangwei"),
    ("customer", MARK_CUSTOMER, ["liqiang", "wangrui"], "majie"),
    ("registration", MARK_REGISTRATION, ["liqiang", "wangrui", "huangyan"], "majie"),
    ("entry", MARK_REGISTRATION, ["liqiang", "wangrui", "huangyan"], "majie"),
    ("archive", MARK_ARCHIVE, ["liqiang", "wangrui", "huangyan"], "majie"),
]


def _doors(app, model, pk):
    """(method, url, is_api, names the record) of every endpoint over ``model``."""
    from flask_appbuilder.api import BaseApi

    from app.printing.registry import FORMS, get_form

    get_form("complaint")  # declares the forms
    views = [view for view in app.appbuilder.baseviews
             if getattr(getattr(view, "datamodel", None), "obj", None) is model]
    blueprints = {view.blueprint.name: view for view in views}
    form_names = [spec.name for spec in FORMS.values() if not spec.register and (
        (spec.model or next((view.datamodel.obj for view in app.appbuilder.baseviews
                             if view.class_permission_name == spec.view_name
                             and getattr(view, "datamodel", None)), None)) is model)]
    doors = []
    for rule in app.url_map.iter_rules():
        blueprint, _dot, method_name = rule.endpoint.partition(".")
        if blueprint == "FormsView" and "pk" in rule.arguments:
            doors += [("GET", rule.build({"form": name, "pk": pk}, append_unknown=False)[1],
                       False, True) for name in form_names]
            continue
        view = blueprints.get(blueprint)
        if view is None or method_name in ("action", "action_post", "download",
                                           "remote_select"):
            continue
        is_api = isinstance(view, BaseApi)
        workflow = getattr(view, "workflow", None)
        steps = sorted(workflow.transitions) if workflow is not None else ["nosuch"]
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            values = {"pk": pk, "issue_id": MISSING, "rect_id": MISSING}
            if "action" in rule.arguments:
                for step in steps:
                    url = rule.build({**values, "action": step}, append_unknown=False)[1]
                    doors.append((method, url, is_api, True))
                continue
            if rule.arguments - {"pk", "issue_id", "rect_id"}:
                continue
            url = rule.build(values, append_unknown=False)[1]
            doors.append((method, url, is_api, "pk" in rule.arguments))
    return doors


def _form_and_info_doors(app):
    """The REST ``_info`` answers and the HTML add forms of every resource and view.

    Both offer the rows of related tables as choices: they must offer only rows the
    user may see.
    """
    doors = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint.endswith((".info", ".add")) and not rule.arguments:
            doors.append(("GET", rule.rule, rule.rule.startswith("/api/"), False))
    return doors


def _text(response):
    body = response.get_data()
    if body.startswith(b"PK"):  # XLSX: the cells are in the zipped XML
        with zipfile.ZipFile(io.BytesIO(body)) as archive:
            return "".join(archive.read(name).decode("utf-8", "replace")
                           for name in archive.namelist() if name.endswith(".xml"))
    return body.decode("utf-8", "replace")


def _client(app, username):
    client = app.test_client()
    assert login(client, _User(username)).status_code == 302
    return client, {"Authorization": f"Bearer {api_token(app.test_client(), _User(username))}"}


def _version(app, model, pk):
    with app.app_context():
        record = db.session.get(model, pk)
        return getattr(record, "version", None), getattr(record, "status", None)


@pytest.mark.parametrize("record, marker, hidden_from, entitled", SCENARIOS,
                         ids=[scenario[0] for scenario in SCENARIOS])
def test_a_hidden_record_stays_hidden_on_every_door(world, record, marker, hidden_from,
                                                    entitled):
    from app.security.visibility import can_see

    model = _models()[record]
    pk = world.rows[record]
    with world.app_context():
        sm = world.appbuilder.sm
        row = db.session.get(model, pk)
        for username in hidden_from:  # the rule itself hides it: the doors must agree
            assert not can_see(sm.find_user(username=username), row), username
        assert can_see(sm.find_user(username=entitled), row)
    secrets = [marker]
    # An archive's number alone is offered in the loan application (one borrows archives
    # one cannot read, CUS-09); the search must not find it for them either.
    searched = secrets + ([world.rows["archive_no"]] if record == "archive" else [])
    doors = _doors(world, model, pk) + _form_and_info_doors(world)
    assert any(named for _m, _u, _a, named in doors) and any(
        not named for _m, _u, _a, named in doors)
    before = _version(world, model, pk)
    failures, walked = [], 0
    for username in hidden_from:
        client, headers = _client(world, username)
        for method, url, is_api, names_record in doors:
            if method != "GET" and not names_record:
                continue  # creating a record is not about this one
            kwargs = {"headers": headers} if is_api else {}
            if method in ("POST", "PUT"):
                kwargs["json" if is_api else "data"] = {"version": before[0] or 1}
            response = client.open(url, method=method, **kwargs)
            walked += 1
            text = _text(response)
            status = response.status_code
            shown = [secret for secret in secrets if secret in text]
            if shown:
                at = text.index(shown[0])
                failures.append(f"{username} {method} {url}: {status} shows the record: "
                                f"...{text[max(0, at - 120):at + 20]}...")
            elif names_record and method == "GET" and status not in (403, 404):
                failures.append(f"{username} {method} {url}: {status}, expected 403/404")
            elif names_record and method != "GET" and status not in (302, 403, 404):
                failures.append(f"{username} {method} {url}: {status}, expected a refusal")
            elif not names_record and status not in (200, 403):
                failures.append(f"{username} {method} {url}: {status}")
        search = client.get(f"/search/?q={marker[:-1]}")  # the page repeats the query
        walked += 1
        if any(secret in _text(search) for secret in searched):
            failures.append(f"{username} search finds the record")
    assert not failures, f"{len(failures)} of {walked}:\n" + "\n".join(failures[:60])
    assert _version(world, model, pk) == before, "a refused request changed the record"

    # The entitled user finds the marker on the same doors: the check looks in the right place.
    client, headers = _client(world, entitled)
    shown = [url for method, url, is_api, names_record in doors
             if method == "GET" and names_record
             and ("/show/" in url or (is_api and url.endswith(f"/{pk}")))]
    # One page and one REST answer at least (some views filter; the REST registration form
    # lists no entries).
    for is_api in (False, True) if record != "registration" else (False,):
        answers = [client.get(url, headers=headers if is_api else {}) for url in shown
                   if url.startswith("/api/") == is_api]
        assert any(answer.status_code == 200 and marker in _text(answer)
                   for answer in answers), shown
    listed = [url for method, url, is_api, names_record in doors
              if method == "GET" and not names_record and ("/list/" in url or "export" in url)]
    # (A registration form's list shows no entries: the "entry" scenario lists them.)
    assert record == "registration" or any(
        marker in _text(client.get(url, headers=headers if url.startswith("/api/") else {}))
        for url in listed)
    if record in SEARCHED:
        found = _text(client.get(f"/search/?q={marker[:-1]}"))
        assert any(secret in found for secret in searched)


def test_attachment_of_a_hidden_complaint_is_not_served(world):
    """CMP-04/CMP-05: the respondent and the recused director do not get the file."""
    url = f"/attachmentview/download/{world.rows['attachment']}"
    for username in ("sunli", "liuyang"):
        client, _headers = _client(world, username)
        response = client.get(url)
        assert response.status_code in (403, 404), (username, response.status_code)
        assert MARK_COMPLAINT not in _text(response)
    client, _headers = _client(world, "zhangwei")
    response = client.get(url)
    assert response.status_code == 200 and MARK_COMPLAINT in _text(response)


def test_a_real_pdf_is_refused_to_the_respondent_and_printed_for_the_entitled(world):
    """One real PDF each way; the other print doors are walked above."""
    url = f"/forms/complaint/{world.rows['complaint']}.pdf"
    client, _headers = _client(world, "sunli")
    refused = client.get(url)
    assert refused.status_code == 404 and not refused.get_data().startswith(b"%PDF")
    client, _headers = _client(world, "zhangwei")
    printed = client.get(url)
    assert printed.status_code == 200 and printed.get_data().startswith(b"%PDF")
