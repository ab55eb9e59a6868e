"""Customer information and archives (CUS-01 to CUS-11): the web screens and the REST resources.

Confidentiality (CUS-06) is checked on every door: list, show page, print
view, REST get, CSV export; each read is in the audit trail for the auditor.
"""
import datetime

import pytest

from app.audit.context import acting_as
from app.extensions import db
from app.models.audit import AuditLog
from app.models.customers import (
    ArchiveDestruction, ArchiveFile, ArchiveLoan, DailyRegistration, LoanStatus, ReceptionVisit,
    RegistrationEntry,
)
from app.services import customers as service
from tests.conftest import api_token, login as _login
from tests.test_customers_rules import (  # noqa: F401  (fixture)
    archive_of, closed_archive, intended_line, make_form, people, step, today, user,
)


def _reads(app, table, row_id=None, actor=None, action="read"):
    with app.app_context():
        query = db.session.query(AuditLog).filter_by(action=action, table_name=table)
        if row_id is not None:
            query = query.filter_by(row_id=str(row_id))
        if actor is not None:
            query = query.filter_by(actor_id=actor.id)
        return query.count()


@pytest.fixture
def records(app, people):
    """majie's submitted form with an intended customer, and its archive."""
    with app.app_context():
        form = make_form(people["majie"], lines=[intended_line()])
        archive = archive_of("赵建国")
        return {"form": form.id, "archive": archive.id, "entry": form.entries[0].id,
                "customer": archive.customer_id}


def login(client, ref):
    """Log in as ``ref``, logging out whoever was logged in on this client."""
    client.get("/logout/")
    response = _login(client, ref)
    assert response.status_code == 302 and "/login" not in response.headers.get("Location", "")
    return response


def _api(client, ref):
    return {"Authorization": f"Bearer {api_token(client, ref)}"}


# ---------------------------------------------------------------------------
# CUS-01 / CUS-02 / CUS-05 through the screens and the API
# ---------------------------------------------------------------------------

def test_cus_01_form_filled_and_submitted_through_the_web(app, client, people):
    login(client, people["majie"])
    response = client.post("/dailyregistrationview/add", data={"form_date": today().isoformat(),
                                                               "note": "当日登记"})
    assert response.status_code == 302
    with app.app_context():
        form = db.session.query(DailyRegistration).one()
        form_id, version = form.id, form.version
        assert form.manager_id == people["majie"].id
    response = client.post("/registrationentryview/add", data={
        "registration": str(form_id), "channel": "visit", "customer_name": "周海燕",
        "kind": "person", "phone": "18691827364", "intention": "buy", "intended": "y",
        "has_intermediary": "y", "intermediary": "我爱我家曲江店 陈女士",
    })
    assert response.status_code == 302
    # A line without the intermediary's name is refused with a message.
    response = client.post("/registrationentryview/add", data={
        "registration": str(form_id), "channel": "visit", "customer_name": "无名中介",
        "kind": "person", "intention": "none", "has_intermediary": "y",
    }, follow_redirects=True)
    assert "intermediary" in response.get_data(as_text=True).lower() or "中介" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.query(RegistrationEntry).count() == 1
    page = client.get(f"/dailyregistrationview/show/{form_id}").get_data(as_text=True)
    assert "周海燕" in page
    response = client.post(f"/dailyregistrationview/transition/{form_id}/submit",
                           data={"version": str(version)})
    assert response.status_code == 302
    with app.app_context():
        form = db.session.get(DailyRegistration, form_id)
        assert form.status == "submitted" and form.late is False
    printed = client.get(f"/dailyregistrationview/print/{form_id}")
    assert printed.status_code == 200 and "客户信息登记表" in printed.get_data(as_text=True)


def test_cus_01_rest_form_lines_and_submit(app, client, people):
    headers = _api(client, people["liqiang"])
    response = client.post("/api/v1/daily_registration/", json={
        "form_date": (today() - datetime.timedelta(days=3)).isoformat()}, headers=headers)
    assert response.status_code == 201, response.get_json()
    form_id = response.get_json()["id"]
    duplicate = client.post("/api/v1/daily_registration/", json={
        "form_date": (today() - datetime.timedelta(days=3)).isoformat()}, headers=headers)
    assert duplicate.status_code == 422
    future = client.post("/api/v1/daily_registration/", json={
        "form_date": (today() + datetime.timedelta(days=3)).isoformat()}, headers=headers)
    assert future.status_code == 422
    bad_line = client.post("/api/v1/registration_entry/", json={
        "registration": form_id, "channel": "call", "customer_name": "甲", "intended": True,
        "intention": "none"}, headers=headers)
    assert bad_line.status_code == 422 and "intended" in bad_line.get_json()["errors"]
    line = client.post("/api/v1/registration_entry/", json={
        "registration": form_id, "channel": "call", "customer_name": "吴志刚",
        "phone": "13572001234", "intention": "lease"}, headers=headers)
    assert line.status_code == 201, line.get_json()
    actions = client.get(f"/api/v1/daily_registration/{form_id}/actions", headers=headers).get_json()
    assert [a["name"] for a in actions["actions"]] == ["submit"]
    stale = client.post(f"/api/v1/daily_registration/{form_id}/actions/submit",
                        json={"version": actions["version"] + 1}, headers=headers)
    assert stale.status_code == 409
    other = client.post(f"/api/v1/daily_registration/{form_id}/actions/submit",
                        json={"version": actions["version"]}, headers=_api(client, people["majie"]))
    assert other.status_code == 404
    done = client.post(f"/api/v1/daily_registration/{form_id}/actions/submit",
                       json={"version": actions["version"]}, headers=headers)
    assert done.status_code == 200 and done.get_json()["state"] == "submitted"
    form = client.get(f"/api/v1/daily_registration/{form_id}", headers=headers).get_json()
    assert form["result"]["late"] is True


def test_cus_02_rest_line_marks_intended(app, client, people):
    headers = _api(client, people["majie"])
    form_id = client.post("/api/v1/daily_registration/", json={"form_date": today().isoformat()},
                          headers=headers).get_json()["id"]
    response = client.post("/api/v1/registration_entry/", json={
        "registration": form_id, "channel": "visit", "customer_name": "租客",
        "phone": "13800001111", "intention": "lease"}, headers=headers)
    entry_id = response.get_json()["id"]
    got = client.get(f"/api/v1/registration_entry/{entry_id}", headers=headers).get_json()
    assert got["result"]["intended"] is True


def test_cus_05_referral_line_needs_referrer_on_the_web(app, client, people):
    with app.app_context():
        form = make_form(people["majie"], submit=False)
        form_id = form.id
    login(client, people["majie"])
    client.post("/registrationentryview/add", data={
        "registration": str(form_id), "channel": "referral", "customer_name": "钱丽华",
        "kind": "person", "intention": "none"})
    with app.app_context():
        assert db.session.query(RegistrationEntry).count() == 0
    client.post("/registrationentryview/add", data={
        "registration": str(form_id), "channel": "referral", "customer_name": "钱丽华",
        "kind": "person", "intention": "none", "referrer": "赵建国"})
    with app.app_context():
        assert db.session.query(RegistrationEntry).one().referrer == "赵建国"


# ---------------------------------------------------------------------------
# CUS-03 / CUS-04
# ---------------------------------------------------------------------------

def test_cus_03_conflict_list_shows_both_managers(app, client, people):
    from tests.test_customers_rules import local

    with app.app_context():
        make_form(people["majie"], lines=[intended_line(registered_at=local(today(), 9))])
        make_form(people["liqiang"], lines=[intended_line(registered_at=local(today(), 10))])
    login(client, people["liqiang"])
    page = client.get("/ownershipconflictview/list/").get_data(as_text=True)
    assert "赵建国" in page and "马杰" in page
    # The customer itself stays invisible to the manager who lost it.
    assert "赵建国" not in client.get("/customerview/list/").get_data(as_text=True)


def test_cus_04_front_desk_receives_a_visitor(app, client, people):
    from app.models.org import DutyAssignment, DutyKind

    with app.app_context(), acting_as(user(people["head"])):
        db.session.add(DutyAssignment(duty_date=today(), duty_kind=DutyKind.SALES_RECEPTION,
                                      user_id=people["liqiang"].id))
        db.session.commit()
    login(client, people["desk"])
    response = client.post("/receptionvisitview/add", data={"visitor_name": "冯立新",
                                                             "phone": "13700001111"},
                           follow_redirects=True)
    assert response.status_code == 200
    response = client.post("/receptionvisitview/add", data={
        "visitor_name": "钱丽华", "named_manager": str(people["majie"].id)})
    with app.app_context():
        visits = {v.visitor_name: v for v in db.session.query(ReceptionVisit)}
        assert visits["冯立新"].routed_to_id == people["liqiang"].id
        assert visits["钱丽华"].routed_to_id == people["majie"].id
    # The front desk cannot open registration forms or archives.
    assert client.get("/archivefileview/list/").status_code in (302, 403)


# ---------------------------------------------------------------------------
# CUS-06: every door
# ---------------------------------------------------------------------------

def test_cus_06_other_manager_gets_404_on_every_door(app, client, people, records):
    login(client, people["liqiang"])
    for path in (f"/dailyregistrationview/show/{records['form']}",
                 f"/archivefileview/show/{records['archive']}",
                 f"/customerview/show/{records['customer']}",
                 f"/registrationentryview/show/{records['entry']}"):
        assert client.get(path).status_code == 404, path
    assert client.get(f"/dailyregistrationview/print/{records['form']}").status_code == 404
    assert client.get(f"/archivefileview/print/{records['archive']}").status_code == 404
    assert "赵建国" not in client.get("/archivefileview/list/").get_data(as_text=True)
    export = client.get("/archivefileview/export.csv").get_data(as_text=True)
    assert "赵建国" not in export and "KH" not in export
    assert "赵建国" not in client.get("/registrationentryview/export.csv").get_data(as_text=True)
    headers = _api(client, people["liqiang"])
    for resource, key in (("daily_registration", "form"), ("archive_file", "archive"),
                          ("customer", "customer"), ("registration_entry", "entry")):
        assert client.get(f"/api/v1/{resource}/{records[key]}", headers=headers).status_code == 404
        assert client.get(f"/api/v1/{resource}/", headers=headers).get_json()["count"] == 0
    api_export = client.get("/api/v1/archive_file/export.csv", headers=headers).get_data(as_text=True)
    assert "赵建国" not in api_export
    # A permission-less workflow step on an invisible record is 404 too.
    response = client.post(f"/api/v1/archive_file/{records['archive']}/actions/file",
                           json={"version": 1}, headers=headers)
    assert response.status_code == 404


def test_cus_06_sales_head_needs_a_grant_and_it_expires(app, client, people, records):
    from app.models.base import utcnow

    login(client, people["head"])
    path = f"/archivefileview/show/{records['archive']}"
    assert client.get(path).status_code == 404
    # Only the general manager permits.
    login(client, people["custodian"])
    assert client.post("/archiveaccessgrantview/add", data={
        "grantee": str(people["head"].id), "scope": "archive", "archive": str(records["archive"]),
        "reason": "核查", "valid_until": (utcnow() + datetime.timedelta(days=1)).strftime("%Y-%m-%d %H:%M:%S"),
    }).status_code in (302, 403)
    with app.app_context():
        from app.models.customers import ArchiveAccessGrant

        assert db.session.query(ArchiveAccessGrant).count() == 0
    login(client, people["gm"])
    response = client.post("/archiveaccessgrantview/add", data={
        "grantee": str(people["head"].id), "scope": "archive", "archive": str(records["archive"]),
        "reason": "核查客户冲撞",
        "valid_until": (datetime.datetime.now() + datetime.timedelta(days=2)).strftime("%Y-%m-%d %H:%M:%S"),
    })
    assert response.status_code == 302
    with app.app_context():
        grant = db.session.query(ArchiveAccessGrant).one()
        grant_id = grant.id
    login(client, people["head"])
    assert client.get(path).status_code == 200
    with app.app_context(), acting_as(user(people["gm"])):
        grant = db.session.get(ArchiveAccessGrant, grant_id)
        grant.valid_until = utcnow() - datetime.timedelta(minutes=1)
        db.session.commit()
    assert client.get(path).status_code == 404
    assert client.get(f"/api/v1/archive_file/{records['archive']}",
                      headers=_api(client, people["head"])).status_code == 404


def test_cus_06_reads_and_exports_are_logged_for_the_auditor(app, client, people, records):
    login(client, people["custodian"])
    custodian = people["custodian"]
    assert client.get(f"/archivefileview/show/{records['archive']}").status_code == 200
    assert _reads(app, "cus_archive_file", records["archive"], custodian) == 1
    assert client.get(f"/dailyregistrationview/show/{records['form']}").status_code == 200
    assert _reads(app, "cus_daily_registration", records["form"], custodian) == 1
    assert client.get(f"/archivefileview/print/{records['archive']}").status_code == 200
    assert _reads(app, "cus_archive_file", records["archive"], custodian) == 2
    assert "赵建国" in client.get("/archivefileview/list/").get_data(as_text=True)
    with app.app_context():
        assert db.session.query(AuditLog).filter_by(
            action="read", table_name="cus_archive_file", actor_id=custodian.id,
            row_id=None).count() == 1
    export = client.get("/archivefileview/export.csv").get_data(as_text=True)
    assert "赵建国" in export
    assert _reads(app, "cus_archive_file", actor=custodian, action="export") == 1
    headers = _api(client, custodian)
    assert client.get(f"/api/v1/archive_file/{records['archive']}", headers=headers).status_code == 200
    assert _reads(app, "cus_archive_file", records["archive"], custodian) == 3
    # The auditor finds the reads in the audit trail and cannot open the archive.
    login(client, people["auditor"])
    trail = client.get("/api/v1/audit_log/?q=(filters:!((col:action,opr:eq,value:read)),page_size:100)",
                       headers=_api(client, people["auditor"]))
    assert trail.status_code == 200
    entries = trail.get_json()["result"]
    assert sum(1 for e in entries if e["table_name"] == "cus_archive_file"
               and e["actor_name"] == "custodian") == 4  # three of the archive, one of the list
    page = client.get("/auditlogview/list/")
    assert page.status_code == 200
    assert client.get(f"/archivefileview/show/{records['archive']}").status_code in (403, 404)


# ---------------------------------------------------------------------------
# CUS-07 / CUS-08
# ---------------------------------------------------------------------------

def test_cus_07_archive_update_file_and_print(app, client, people, records):
    login(client, people["majie"])
    with app.app_context():
        version = db.session.get(ArchiveFile, records["archive"]).version
    response = client.post(f"/archivefileview/edit/{records['archive']}", data={
        "contact_person": "赵建国", "contact_phone": "13891234567", "address": "西安市雁塔区科技路48号",
        "industry": "个人", "source": "来电", "requirement": "三室", "summary": "重点跟进",
        "expected_version": str(version)})
    assert response.status_code == 302
    stale = client.post(f"/archivefileview/edit/{records['archive']}", data={
        "address": "被覆盖", "expected_version": str(version)}, follow_redirects=True)
    assert stale.status_code == 200
    with app.app_context():
        archive = db.session.get(ArchiveFile, records["archive"])
        assert archive.address == "西安市雁塔区科技路48号"
        version = archive.version
    response = client.post("/archivetrackingview/add", data={
        "archive": str(records["archive"]), "tracked_on": today().isoformat(), "manner": "电话",
        "content": "约周六看房"})
    assert response.status_code == 302
    response = client.post(f"/archivefileview/transition/{records['archive']}/file",
                           data={"version": str(version)})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(ArchiveFile, records["archive"]).filings[0].late is False
    printed = client.get(f"/archivefileview/print/{records['archive']}").get_data(as_text=True)
    assert "客户档案表" in printed and "约周六看房" in printed and "西安市雁塔区科技路48号" in printed
    # Another manager cannot update it.
    login(client, people["liqiang"])
    assert client.post(f"/archivefileview/edit/{records['archive']}", data={
        "address": "x", "expected_version": str(version)}).status_code == 404


def test_cus_08_categories_filter_and_rest_close(app, client, people, records):
    headers = _api(client, people["majie"])
    actions = client.get(f"/api/v1/archive_file/{records['archive']}/actions", headers=headers).get_json()
    assert {"file", "close_deal", "close_not_closed"} <= {a["name"] for a in actions["actions"]}
    no_comment = client.post(f"/api/v1/archive_file/{records['archive']}/actions/close_not_closed",
                             json={"version": actions["version"]}, headers=headers)
    assert no_comment.status_code == 422
    done = client.post(f"/api/v1/archive_file/{records['archive']}/actions/close_deal",
                       json={"version": actions["version"], "comment": "签约"}, headers=headers)
    assert done.status_code == 200
    login(client, people["custodian"])
    closed = client.get("/archivefileview/list/?_flt_0_category=closed_deal").get_data(as_text=True)
    assert "赵建国" in closed
    open_list = client.get("/archivefileview/list/?_flt_0_category=not_closed").get_data(as_text=True)
    assert "赵建国" not in open_list


# ---------------------------------------------------------------------------
# CUS-09: the lending chain through the REST API
# ---------------------------------------------------------------------------

def test_cus_09_loan_chain_over_rest_with_refusals(app, client, people, records):
    borrower = _api(client, people["liqiang"])
    response = client.post("/api/v1/archive_loan/", json={
        "files": [records["archive"]], "purpose": "核对登记时间",
        "expected_return": (today() + datetime.timedelta(days=3)).isoformat()}, headers=borrower)
    assert response.status_code == 201, response.get_json()
    loan_id = response.get_json()["id"]
    bad = client.post("/api/v1/archive_loan/", json={
        "files": [records["archive"]], "purpose": "",
        "expected_return": today().isoformat()}, headers=borrower)
    assert bad.status_code == 422

    def act(ref, action, version=None, **body):
        headers = _api(client, ref)
        if version is None:
            version = client.get(f"/api/v1/archive_loan/{loan_id}/actions",
                                 headers=_api(client, people["head"])).get_json()["version"]
        return client.post(f"/api/v1/archive_loan/{loan_id}/actions/{action}",
                           json={"version": version, **body}, headers=headers)

    assert act(people["gm"], "approve").status_code == 403  # before the department head
    assert act(people["liqiang"], "review").status_code == 403  # wrong role
    assert act(people["head"], "review", version=99).status_code == 409
    assert act(people["head"], "review").status_code == 200
    assert act(people["head"], "review").status_code == 403  # second decision
    assert act(people["gm"], "approve").status_code == 200
    assert act(people["custodian"], "issue").status_code == 200
    # Visible to the borrower while issued.
    assert client.get(f"/api/v1/archive_file/{records['archive']}", headers=borrower).status_code == 200
    assert act(people["custodian"], "return").status_code == 200
    with app.app_context():
        loan = db.session.get(ArchiveLoan, loan_id)
        assert loan.status == LoanStatus.RETURNED and loan.register_no
    login(client, people["custodian"])
    register = client.get("/archiveloanview/register").get_data(as_text=True)
    assert "借阅登记簿" in register and loan.register_no in register
    register_list = client.get("/lending-register/list/").get_data(as_text=True)
    assert loan.register_no in register_list and "/archiveloanview/register" in register_list
    # Another manager does not see the loan.
    other = client.get(f"/api/v1/archive_loan/{loan_id}", headers=_api(client, people["majie"]))
    assert other.status_code == 404


def test_cus_09_applicant_cannot_review_own_loan_on_the_web(app, client, people, records):
    with app.app_context():
        head = user(people["head"])
        with acting_as(head):
            loan = service.apply_loan(head, [db.session.get(ArchiveFile, records["archive"])],
                                      "自查", today() + datetime.timedelta(days=2))
        loan_id, version = loan.id, loan.version
    login(client, people["head"])
    page = client.get(f"/archiveloanview/show/{loan_id}").get_data(as_text=True)
    assert f"/archiveloanview/transition/{loan_id}/review" not in page
    client.post(f"/archiveloanview/transition/{loan_id}/review", data={"version": str(version)})
    with app.app_context():
        assert db.session.get(ArchiveLoan, loan_id).status == LoanStatus.APPLIED


# ---------------------------------------------------------------------------
# CUS-10: destruction through the web, with its printed record
# ---------------------------------------------------------------------------

def test_cus_10_destruction_on_the_web(app, client, people):
    with app.app_context():
        archive = closed_archive(people, 11)
        young = closed_archive(people, 5, name="新近结案", phone="13309190002", days_back=2)
        archive_id, young_id = archive.id, young.id
    login(client, people["custodian"])
    due = client.get("/archives-due-for-destruction/list/").get_data(as_text=True)
    assert archive.archive_no in due and young.archive_no not in due
    refused = client.post("/archivedestructionview/add", data={"archive": str(young_id),
                                                               "reason": "提前销毁"})
    with app.app_context():
        assert db.session.query(ArchiveDestruction).count() == 0
    assert refused.status_code in (200, 302)
    client.post("/archivedestructionview/add", data={"archive": str(archive_id), "reason": "保管期满"})
    with app.app_context():
        item = db.session.query(ArchiveDestruction).one()
        item_id = item.id

    def version():
        with app.app_context():
            return str(db.session.get(ArchiveDestruction, item_id).version)

    login(client, people["gm"])
    client.post(f"/archivedestructionview/transition/{item_id}/approve", data={"version": version()})
    login(client, people["head"])
    client.post(f"/archivedestructionview/transition/{item_id}/review", data={"version": version()})
    login(client, people["gm"])
    client.post(f"/archivedestructionview/transition/{item_id}/approve", data={"version": version()})
    login(client, people["custodian"])
    page = client.get(f"/archivedestructionview/show/{item_id}").get_data(as_text=True)
    assert "destruction-execute" in page
    client.post(f"/archivedestructionview/transition/{item_id}/destroy", data={
        "version": version(), "method": "碎纸机粉碎", "executor": "杨慧", "witness": "唐宁",
        "destroyed_on": today().isoformat()})
    with app.app_context():
        item = db.session.get(ArchiveDestruction, item_id)
        assert item.status == "destroyed"
        assert [s.action for s in __import__("app.workflows.customers", fromlist=["x"])
                .DESTRUCTION_WORKFLOW.history(item)] == ["review", "approve", "destroy"]
    printed = client.get(f"/archivedestructionview/print/{item_id}").get_data(as_text=True)
    assert "销毁记录" in printed and "碎纸机粉碎" in printed and "唐宁" in printed
    show = client.get(f"/archivefileview/show/{archive_id}").get_data(as_text=True)
    assert "record-history" not in show and "13309190001" not in show
    with app.app_context():
        customer_id = db.session.get(ArchiveFile, archive_id).customer_id
    customer_page = client.get(f"/customerview/show/{customer_id}").get_data(as_text=True)
    assert "purged-note" in customer_page and "13309190001" not in customer_page
    assert "刘德明" not in customer_page


# ---------------------------------------------------------------------------
# CUS-11: the monthly table and its CSV
# ---------------------------------------------------------------------------

def test_cus_11_assessment_page_and_csv(app, client, people):
    last_month_day = today().replace(day=1) - datetime.timedelta(days=5)
    period = service.period_of(last_month_day)
    with app.app_context():
        make_form(people["majie"], last_month_day, [])
        make_form(people["liqiang"], last_month_day - datetime.timedelta(days=1), [],
                  submit=False)
    login(client, people["head"])
    page = client.get(f"/customer-assessment/?month={period}").get_data(as_text=True)
    assert "马杰" in page and "李强" in page
    csv = client.get(f"/customer-assessment/export.csv?month={period}")
    assert csv.status_code == 200
    text = csv.get_data().decode("utf-8-sig")
    assert "马杰" in text and period in text
    login(client, people["liqiang"])
    own = client.get(f"/customer-assessment/?month={period}").get_data(as_text=True)
    assert "李强" in own and "马杰" not in own
    login(client, people["desk"])
    assert client.get(f"/customer-assessment/?month={period}").status_code in (302, 403)


def test_cus_06_credential_download_is_a_logged_read(app, client, people, records):
    import io

    login(client, people["majie"])
    response = client.post(f"/attachmentview/upload/cus_archive_file/{records['archive']}", data={
        "kind": "id_card", "file": (io.BytesIO(b"%PDF-1.4 id copy"), "身份证复印件.pdf"),
        "next": f"/archivefileview/show/{records['archive']}"}, content_type="multipart/form-data")
    assert response.status_code == 302
    from app.models.attachments import Attachment

    with app.app_context():
        attachment_id = db.session.query(Attachment).one().id
    login(client, people["custodian"])
    before = _reads(app, "cus_archive_file", records["archive"], people["custodian"])
    assert client.get(f"/attachmentview/download/{attachment_id}").status_code == 200
    assert _reads(app, "cus_archive_file", records["archive"], people["custodian"]) == before + 1
    login(client, people["liqiang"])
    assert client.get(f"/attachmentview/download/{attachment_id}").status_code == 404
    assert _reads(app, "cus_archive_file", records["archive"], people["liqiang"]) == 0


def test_cus_09_loan_form_offers_an_archive_one_may_not_read_by_its_number_only(
        app, client, people, records):
    """Applying to borrow is how a sales manager gets to another's archive (CUS-09), but
    the form's search finds it by its number only, never by what it holds (CUS-06)."""
    with app.app_context():
        archive = db.session.get(ArchiveFile, records["archive"])
        number = archive.archive_no
    login(client, people["liqiang"])
    # liqiang may not read majie's archive...
    assert client.get(f"/archivefileview/show/{records['archive']}").status_code in (403, 404)
    # ...but may find it by its number in the loan form,
    answer = client.get("/archiveloanview/remote/add/files",
                        query_string={"q": number[-4:]}).get_json()
    assert {"id": str(records["archive"]), "text": number} in answer["results"]
    # and not by the customer's name it holds.
    answer = client.get("/archiveloanview/remote/add/files",
                        query_string={"q": "赵建国"}).get_json()
    assert answer["results"] == []
    response = client.post("/archiveloanview/add", data={
        "files": str(records["archive"]), "purpose": "核对登记时间",
        "expected_return": (today() + datetime.timedelta(days=3)).isoformat()})
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    with app.app_context():
        loan = db.session.query(ArchiveLoan).filter_by(borrower_id=people["liqiang"].id).one()
        assert [item.id for item in loan.files] == [records["archive"]]
