"""Customer electrical projects over HTTP: pages, forms, print views, REST resources, exports."""
import datetime

import pytest

from app.extensions import db
from app.models.projects import PowerApplication, Stage
from tests.conftest import api_token, login
from tests.test_projects_rules import (  # noqa: F401  (fixtures)
    RESIDENTIAL, TODAY, people, register, reload, send_plan, start_works, to_accepted,
    to_construction, to_planning,
)


@pytest.fixture
def app_overrides():
    return {"BABEL_DEFAULT_LOCALE": "en"}


def _switch(client, user):
    """Log ``user`` in on ``client``. The test's app context (``ctx``) is reused by the
    requests, so Flask-Login's per-context cache of the previous user is dropped first."""
    from flask import g

    g.pop("_login_user", None)
    client.get("/logout/")
    g.pop("_login_user", None)
    response = login(client, user)
    g.pop("_login_user", None)
    return response


def _auth(client, user):
    return {"Authorization": f"Bearer {api_token(client, user)}"}


def _flashes(response):
    return response.get_data(as_text=True)


# ---------------------------------------------------------------------------
# ENG-01
# ---------------------------------------------------------------------------

def test_eng_01_register_through_the_form_and_the_api(ctx, people, login_as, client, make_user):
    login_as(people.window)
    response = client.post("/powerapplicationview/add", data={
        "kind": "new", "customer_name": "杭州西溪花园业主王建国", "address": "杭州市西湖区紫金港路21号",
        "voltage_level": "0.22kV", "requested_capacity": "8", "capacity_unit": "kW",
        "load_class": "3", "load_nature": "residential", "residential_lighting": "y",
    }, follow_redirects=True)
    assert response.status_code == 200
    application = db.session.query(PowerApplication).one()
    assert application.number.startswith("YK-") and application.review_route == "station"
    assert application.capacity_unit == "kW" and application.residential_lighting
    # Bad input: the form says what is wrong and nothing is stored.
    response = client.post("/powerapplicationview/add", data={
        "kind": "increase", "customer_name": "x", "address": "y", "voltage_level": "10kV",
        "requested_capacity": "0", "capacity_unit": "kVA", "load_class": "3",
        "load_nature": "industrial"}, follow_redirects=True)
    assert db.session.query(PowerApplication).count() == 1
    # REST: 201 for the window, 422 for bad input, 403 for a role without the door.
    headers = _auth(client, people.window)
    response = client.post("/api/v1/power_application/", headers=headers, json={
        "kind": "new", "customer_name": "宁波港机电有限公司", "address": "宁波市北仑区长江路1号",
        "voltage_level": "10kV", "requested_capacity": 1600, "capacity_unit": "kVA",
        "load_class": "2", "load_nature": "industrial"})
    assert response.status_code == 201, response.get_data(as_text=True)
    new_id = response.get_json()["id"]
    assert db.session.get(PowerApplication, new_id).review_route == "city"
    response = client.post("/api/v1/power_application/", headers=headers, json={
        "kind": "new", "customer_name": "x", "address": "y", "voltage_level": "10kV",
        "requested_capacity": -5, "capacity_unit": "kVA", "load_class": "3",
        "load_nature": "industrial"})
    assert response.status_code == 422
    front = make_user("FrontDesk")
    assert client.get("/api/v1/power_application/", headers=_auth(client, front)).status_code == 403
    # The window forwards through the API; a second forward is refused.
    actions = client.get(f"/api/v1/power_application/{new_id}/actions", headers=headers).get_json()
    assert [a["name"] for a in actions["actions"]] == ["forward", "withdraw"]
    response = client.post(f"/api/v1/power_application/{new_id}/actions/forward", headers=headers,
                           json={"version": actions["version"]})
    assert response.status_code == 200 and response.get_json()["state"] == "planning"
    response = client.post(f"/api/v1/power_application/{new_id}/actions/forward", headers=headers,
                           json={"version": response.get_json()["version"]})
    assert response.status_code == 403


# ---------------------------------------------------------------------------
# ENG-02 / ENG-03 / ENG-04 through the doors
# ---------------------------------------------------------------------------

def test_eng_02_plan_form_refuses_3000_kva_without_dedicated_line(ctx, people, login_as, client):
    application = to_planning(people, requested_capacity=2999)
    plan = application.plan
    login_as(people.marketing)
    response = client.post(f"/supplyplanview/edit/{plan.id}", data={
        "approved_capacity_kva": "3000", "supply_voltage": "10kV", "supply_mode": "transformer",
        "backup_scheme": "none", "metering_method": "hv_hv_side",
        "expected_version": str(plan.version)}, follow_redirects=True)
    assert "dedicated line" in response.get_data(as_text=True)
    assert reload(plan).approved_capacity_kva == 2999
    # Through the API too.
    headers = _auth(client, people.marketing)
    response = client.post(f"/api/v1/supply_plan/{plan.id}/edit", headers=headers,
                           json={"version": reload(plan).version, "approved_capacity_kva": 3000,
                                 "supply_mode": "transformer"})
    assert response.status_code == 422 and "supply_mode" in response.get_json()["errors"]
    response = client.post(f"/api/v1/supply_plan/{plan.id}/edit", headers=headers,
                           json={"version": reload(plan).version, "approved_capacity_kva": 3000,
                                 "supply_mode": "line"})
    assert response.status_code == 200 and response.get_json()["reply_unit"] == "company"


def test_eng_03_reply_chain_over_http_with_self_approval_and_stale_version(
        ctx, people, login_as, client, make_user):
    application = to_planning(people)
    plan = application.plan
    both = make_user("Marketing", "DepartmentSupervisor", username="mkt_head")
    headers = _auth(client, both)
    response = client.post(f"/api/v1/supply_plan/{plan.id}/actions/submit", headers=headers,
                           json={"version": plan.version})
    assert response.status_code == 200
    version = response.get_json()["version"]
    assert [a["name"] for a in response.get_json()["actions"]] == []  # no self-review offered
    response = client.post(f"/api/v1/supply_plan/{plan.id}/actions/head_review", headers=headers,
                           json={"version": version})
    assert response.status_code == 403
    head_headers = _auth(client, people.head)
    response = client.post(f"/api/v1/supply_plan/{plan.id}/actions/head_review",
                           headers=head_headers, json={"version": version - 1})
    assert response.status_code == 409
    response = client.post(f"/api/v1/supply_plan/{plan.id}/actions/head_review",
                           headers=head_headers, json={"version": version})
    assert response.status_code == 200
    # Web: the GM signs on the plan page; the page offers the print view.
    login_as(people.gm)
    page = client.get(f"/supplyplanview/show/{plan.id}").get_data(as_text=True)
    assert "General manager: sign" in page and "/supplyplanview/print/" in page
    response = client.post(f"/supplyplanview/transition/{plan.id}/sign",
                           data={"version": str(reload(plan).version)}, follow_redirects=True)
    assert reload(plan).status == "signed"
    printed = client.get(f"/supplyplanview/print/{plan.id}")
    assert printed.status_code == 200
    text = printed.get_data(as_text=True)
    assert "Supply-plan notice" in text and "@media print" in text and application.number in text


def test_eng_04_plan_change_over_the_api(ctx, people, client):
    application = send_plan(people, to_planning(people, requested_capacity=800))
    headers = _auth(client, people.marketing2)
    response = client.post("/api/v1/supply_plan_change/", headers=headers, json={
        "application": application.id, "reason": "增加二期厂房", "new_capacity_kva": 900})
    assert response.status_code == 201, response.get_data(as_text=True)
    change_id = response.get_json()["id"]
    city = _auth(client, people.city)
    actions = client.get(f"/api/v1/supply_plan_change/{change_id}/actions", headers=city).get_json()
    response = client.post(f"/api/v1/supply_plan_change/{change_id}/actions/consent", headers=city,
                           json={"version": actions["version"]})
    assert response.status_code == 403
    response = client.post(f"/api/v1/supply_plan_change/{change_id}/actions/consent",
                           headers=_auth(client, people.marketing),
                           json={"version": actions["version"]})
    assert response.status_code == 200
    assert reload(application).plan.approved_capacity_kva == 900


# ---------------------------------------------------------------------------
# ENG-05 / ENG-06: routed review on the page
# ---------------------------------------------------------------------------

def test_eng_05_wrong_unit_refused_on_the_page(ctx, people, login_as, client):
    application = send_plan(people, to_planning(people, requested_capacity=1200))
    review = reload(application).review
    assert review.route == "city"
    login_as(people.marketing)
    response = client.post(f"/designreviewview/transition/{review.id}/pass_review",
                           data={"version": str(review.version), "comment": "同意"},
                           follow_redirects=True)
    assert "routed to the City company" in response.get_data(as_text=True)
    assert reload(review).status == "submitted"
    page = client.get(f"/powerapplicationview/show/{application.id}").get_data(as_text=True)
    assert "City company" in page and "project-timeline" in page


def test_eng_06_document_checklist_shown_and_enforced(ctx, people, login_as, client):
    application = send_plan(people, to_planning(people, requested_capacity=1200))
    review = reload(application).review
    login_as(people.city)
    page = client.get(f"/designreviewview/show/{review.id}").get_data(as_text=True)
    assert "12 missing" in page
    response = client.post(f"/designreviewview/transition/{review.id}/pass_review",
                           data={"version": str(review.version), "comment": "同意"},
                           follow_redirects=True)
    assert "12 design document(s) missing" in response.get_data(as_text=True)
    headers = _auth(client, people.city)
    missing = client.get(f"/api/v1/design_review/{review.id}/documents", headers=headers).get_json()
    assert missing["required"] and len(missing["missing"]) == 12
    printed = client.get(f"/designreviewview/print/{review.id}").get_data(as_text=True)
    assert "Design review opinion" in printed and "Missing" in printed


# ---------------------------------------------------------------------------
# ENG-07 to ENG-12 through the doors
# ---------------------------------------------------------------------------

def test_eng_08_expired_licence_refused_on_the_form(ctx, people, login_as, client):
    application = to_construction(people, requested_capacity=500)
    record = reload(application).construction
    login_as(people.marketing)
    start = TODAY
    response = client.post(f"/constructionrecordview/edit/{record.id}", data={
        "designer": "华电设计院", "builder": "恒安电力", "supplier": "正泰",
        "customer_chose_firms": "y", "qualification_cert_no": "D1",
        "qualification_valid_until": (start + datetime.timedelta(days=9)).isoformat(),
        "business_licence_no": "L1",
        "licence_valid_until": (start - datetime.timedelta(days=1)).isoformat(),
        "start_date": start.isoformat(),
        "expected_completion": (start + datetime.timedelta(days=30)).isoformat(),
        "schedule": "30天", "expected_version": str(record.version)}, follow_redirects=True)
    assert "business licence expired" in response.get_data(as_text=True)
    assert reload(record).start_reported_at is None
    headers = _auth(client, people.marketing)
    response = client.post(f"/api/v1/construction_record/{record.id}/edit", headers=headers, json={
        "version": reload(record).version, "builder": "恒安电力", "customer_chose_firms": True,
        "qualification_cert_no": "D1",
        "qualification_valid_until": (start + datetime.timedelta(days=9)).isoformat(),
        "business_licence_no": "L1",
        "licence_valid_until": (start + datetime.timedelta(days=9)).isoformat(),
        "start_date": start.isoformat(),
        "expected_completion": (start + datetime.timedelta(days=30)).isoformat(),
        "schedule": "30天"})
    assert response.status_code == 200 and response.get_json()["start_reported_at"]


def test_eng_09_order_outside_catalogue_refused_by_the_api(ctx, people, client):
    from app.models.projects import Manufacturer

    application = start_works(people, to_construction(people, requested_capacity=500))
    removed = Manufacturer(name="已撤销厂家", products="开关柜", active=False)
    good = Manufacturer(name="许继电气", products="开关柜,继电保护装置", active=True)
    db.session.add_all([removed, good])
    db.session.commit()
    headers = _auth(client, people.window)
    response = client.post("/api/v1/equipment_order/", headers=headers, json={
        "application": application.id, "manufacturer": removed.id, "category": "开关柜",
        "model_spec": "KYN28", "quantity": 2})
    assert response.status_code == 422
    response = client.post("/api/v1/equipment_order/", headers=headers, json={
        "application": application.id, "manufacturer": good.id, "category": "开关柜",
        "model_spec": "KYN28", "quantity": 2})
    assert response.status_code == 201
    order_id = response.get_json()["id"]
    response = client.post(f"/api/v1/equipment_order/{order_id}/actions/place", headers=headers,
                           json={"version": 1})
    assert response.status_code == 403  # not approved yet


def test_eng_12_inspection_print_in_triplicate(ctx, people, login_as, client):
    from tests.test_projects_rules import pass_inspection

    application = start_works(people, to_construction(people, requested_capacity=500))
    inspection = pass_inspection(people, application)
    login_as(people.inspector)
    text = client.get(f"/midinspectionview/print/{inspection.id}").get_data(as_text=True)
    assert text.count("Mid-construction inspection opinion</h1>") == 3
    for copy in ("Copy for the customer", "Copy for the contractor", "File copy"):
        assert copy in text
    assert "Earthing" in text and "Passed" in text
    # Inspectors record results through the edit form; others may not edit.
    window = ctx.test_client()
    _switch(window, people.window)
    assert window.get(f"/midinspectionview/edit/{inspection.id}").status_code == 403
    _switch(client, people.inspector)
    assert client.get(f"/midinspectionview/edit/{inspection.id}").status_code == 200


# ---------------------------------------------------------------------------
# ENG-14 / ENG-15 on the project page
# ---------------------------------------------------------------------------

def test_eng_14_power_on_refused_without_contract_on_the_page(ctx, people, login_as, client):
    application = to_accepted(people, **RESIDENTIAL)
    login_as(people.marketing)
    page = client.get(f"/powerapplicationview/show/{application.id}").get_data(as_text=True)
    assert "contract-form" in page and "meter-notice-form" in page
    response = client.post(f"/powerapplicationview/transition/{application.id}/power_on",
                           data={"version": str(application.version)}, follow_redirects=True)
    assert "supply contract has not been signed" in response.get_data(as_text=True)
    assert reload(application).stage == Stage.ACCEPTED
    client.post(f"/powerapplicationview/contract/{application.id}", data={
        "version": str(reload(application).version), "contract_no": "GY-2026-0100",
        "signed_on": TODAY.isoformat()}, follow_redirects=True)
    assert reload(application).contract_no == "GY-2026-0100"
    client.post(f"/powerapplicationview/meter_notice/{application.id}",
                data={"version": str(reload(application).version)}, follow_redirects=True)
    assert reload(application).meter_notice_at is not None
    client.post(f"/powerapplicationview/transition/{application.id}/power_on",
                data={"version": str(reload(application).version)}, follow_redirects=True)
    assert reload(application).stage == Stage.POWERED


def test_eng_15_contract_and_meter_notice_over_the_api(ctx, people, client):
    application = to_accepted(people, **RESIDENTIAL)
    headers = _auth(client, people.marketing)
    response = client.post(f"/api/v1/power_application/{application.id}/meter_notice",
                           headers=headers, json={"version": application.version - 1})
    assert response.status_code == 409
    response = client.post(f"/api/v1/power_application/{application.id}/contract",
                           headers=headers, json={"version": application.version,
                                                  "contract_no": "GY-1", "signed_on": "bad"})
    assert response.status_code == 422
    response = client.post(f"/api/v1/power_application/{application.id}/contract",
                           headers=_auth(client, people.window),
                           json={"version": application.version, "contract_no": "GY-1",
                                 "signed_on": TODAY.isoformat()})
    assert response.status_code == 403
    response = client.post(f"/api/v1/power_application/{application.id}/meter_notice",
                           headers=headers, json={"version": application.version})
    assert response.status_code == 200


# ---------------------------------------------------------------------------
# ENG-17: lists, filters, overdue, CSV, visibility
# ---------------------------------------------------------------------------

def test_eng_17_lists_filters_overdue_and_csv(ctx, people, login_as, client):
    from app.models.deadlines import Deadline

    late = to_planning(people, customer_name="逾期测试公司")
    fresh = to_planning(people, customer_name="按期测试公司")
    register(people, customer_name="刚受理公司")
    deadline = db.session.query(Deadline).filter_by(record_id=late.id, kind="eng_plan_reply").one()
    deadline.due_at = datetime.datetime(2020, 1, 1)
    db.session.commit()
    login_as(people.gm)
    overdue = client.get("/overdueprojects/list/").get_data(as_text=True)
    assert "逾期测试公司" in overdue and "按期测试公司" not in overdue
    page = client.get(f"/powerapplicationview/show/{late.id}").get_data(as_text=True)
    assert "Overdue" in page and "Send the supply-plan reply" in page
    planning = client.get("/powerapplicationview/list/?_flt_0_stage=planning").get_data(as_text=True)
    assert "逾期测试公司" in planning and "刚受理公司" not in planning
    band = client.get("/powerapplicationview/list/?_flt_0_capacity_band=lt1000").get_data(as_text=True)
    assert "按期测试公司" in band
    dashboard = client.get("/powerapplicationview/dashboard").get_data(as_text=True)
    assert "Projects per stage" in dashboard and "Send the supply-plan reply" in dashboard
    csv = client.get("/powerapplicationview/export.csv?_flt_0_stage=planning")
    assert csv.status_code == 200
    text = csv.get_data().decode("utf-8-sig")
    assert "逾期测试公司" in text and "刚受理公司" not in text
    timeline = client.get(f"/api/v1/power_application/{late.id}/timeline",
                          headers=_auth(client, people.gm)).get_json()
    planning_row = [row for row in timeline["timeline"] if row["stage"] == "planning"][0]
    assert planning_row["deadlines"][0]["overdue"] is True
    assert fresh.id != late.id


def test_eng_17_invisible_project_is_404_everywhere(ctx, people, login_as, client):
    large = to_planning(people, customer_name="大工业用户")
    small = register(people, **RESIDENTIAL)
    login_as(people.station)
    assert client.get(f"/supplyplanview/print/{large.plan.id}").status_code == 404
    assert client.get(f"/supplyplanview/show/{large.plan.id}").status_code in (302, 404)
    assert "大工业用户" not in client.get("/overdueprojects/list/").get_data(as_text=True)
    assert client.get(f"/powerapplicationview/show/{large.id}").status_code in (302, 404)
    assert "大工业用户" not in client.get("/powerapplicationview/list/").get_data(as_text=True)
    csv = client.get("/powerapplicationview/export.csv").get_data().decode("utf-8-sig")
    assert "大工业用户" not in csv and "张秀英" in csv
    headers = _auth(client, people.station)
    assert client.get(f"/api/v1/power_application/{large.id}", headers=headers).status_code == 404
    assert client.get(f"/api/v1/power_application/{large.id}/actions",
                      headers=headers).status_code == 404
    assert client.get(f"/api/v1/power_application/{large.id}/timeline",
                      headers=headers).status_code == 404
    assert client.get(f"/api/v1/power_application/{small.id}", headers=headers).status_code == 200


def test_eng_12_inspection_requested_recorded_and_passed_through_the_web(ctx, people, client):
    from app.models.deadlines import Deadline
    from app.models.projects import MidInspection

    application = start_works(people, to_construction(people, requested_capacity=500))
    _switch(client, people.marketing)
    response = client.post("/midinspectionview/add", data={
        "application": str(application.id), "installed_percent": "50"}, follow_redirects=True)
    assert "two thirds" in response.get_data(as_text=True)
    assert db.session.query(MidInspection).count() == 0
    client.post("/midinspectionview/add", data={
        "application": str(application.id), "installed_percent": "70",
        "planned_on": TODAY.isoformat()}, follow_redirects=True)
    inspection = db.session.query(MidInspection).one()
    assert inspection.round_no == 1
    assert db.session.query(Deadline).filter_by(record_table="mid_inspection",
                                                record_id=inspection.id).count() == 1
    _switch(client, people.inspector)
    form = {"planned_on": TODAY.isoformat(), "check_equipment": "ok", "check_transformer": "ok",
            "check_relay": "ok", "check_lightning": "ok", "check_earthing": "",
            "findings": "接地待测", "rectification_items": "",
            "expected_version": str(inspection.version)}
    client.post(f"/midinspectionview/edit/{inspection.id}", data=form, follow_redirects=True)
    inspection = reload(inspection)
    assert inspection.check_earthing is None and inspection.check_relay == "ok"
    response = client.post(f"/midinspectionview/transition/{inspection.id}/pass_inspection",
                           data={"version": str(inspection.version)}, follow_redirects=True)
    assert "Record every check area first" in response.get_data(as_text=True)
    form.update(check_earthing="ok", expected_version=str(inspection.version))
    client.post(f"/midinspectionview/edit/{inspection.id}", data=form, follow_redirects=True)
    inspection = reload(inspection)
    client.post(f"/midinspectionview/transition/{inspection.id}/pass_inspection",
                data={"version": str(inspection.version)}, follow_redirects=True)
    assert reload(inspection).status == "passed"
    # A stale edit form is refused and says what was entered.
    response = client.post(f"/midinspectionview/edit/{inspection.id}", data={
        **form, "findings": "迟到的修改", "expected_version": "1"}, follow_redirects=True)
    assert "changed by" in response.get_data(as_text=True)
    assert reload(inspection).findings == "接地待测"
