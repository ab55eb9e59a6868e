"""Return visits (VIS-01 to VIS-13): web pages, the visit form, exports, print and the REST API."""
import base64
import datetime
import re
import struct
import zlib

import pytest

from app.audit.context import acting_as
from app.extensions import db
from app.models.base import utcnow
from app.models.complaints import Complaint, ComplaintStatus
from app.models.org import Department, StaffProfile
from app.models.visits import (
    MaintenanceJob, OpenLetter, ReturnVisit, VisitIssue, VisitRectification, VisitStatus,
)
from app.services import visits as service
from tests.conftest import api_token, login
from tests.test_complaints_rules import org, register, to_state  # noqa: F401  (fixture)

S = VisitStatus


def png_bytes(width=40, height=20):
    """A small valid PNG: a black stroke on white, as the pad would send."""
    rows = []
    for y in range(height):
        row = bytearray([0])
        for x in range(width):
            ink = y == height // 2 or x == y
            row += bytes([0, 0, 0] if ink else [255, 255, 255])
        rows.append(bytes(row))

    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    return (b"\x89PNG\r\n\x1a\n"
            + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"".join(rows))) + chunk(b"IEND", b""))


def data_url(png=None):
    return "data:image/png;base64," + base64.b64encode(png or png_bytes()).decode("ascii")


def _local(value):
    from app.timeutil import to_local

    return to_local(value).strftime("%Y-%m-%dT%H:%M")


@pytest.fixture
def people(app, make_user):
    """The visit staff: supervisor, manager, director, assistants (area A1), clerk, a desk."""
    supervisor = make_user("ServiceSupervisor", username="zhouqiang", display_name="周强")
    gm = make_user("GeneralManager", username="zhangwei", display_name="张伟")
    director = make_user("Director", username="liuyang", display_name="刘洋")
    assistant = make_user("PropertyAssistant", username="chenli", display_name="陈丽")
    assistant2 = make_user("PropertyAssistant", username="huangbo", display_name="黄波")
    clerk = make_user("CultureClerk", username="linlin", display_name="林琳")
    desk = make_user("FrontDesk", username="wangfang", display_name="王芳")
    with app.app_context():
        for ref in (assistant, assistant2):
            db.session.query(StaffProfile).filter_by(user_id=ref.id).one().area = "A1"
        db.session.commit()
    return dict(supervisor=supervisor, gm=gm, director=director, assistant=assistant,
                assistant2=assistant2, clerk=clerk, desk=desk)


def completed_job(app, people, **overrides):
    """A maintenance job of area A1, completed an hour ago: its visit is planned for the assistant."""
    with app.app_context():
        actor = people["supervisor"].get()
        with acting_as(actor):
            job = service.create_maintenance_job(actor, {
                "title": "3号楼水管更换", "area": "A1", "assistant_id": people["assistant"].id,
                "customer_name": "李先生", "customer_phone": "13900001111",
                "address": "3号楼502", **overrides})
            if job.completed_at is None:
                service.complete_maintenance_job(job.id, actor, job.version,
                                                 completed_at=utcnow() - datetime.timedelta(hours=1))
        visit = db.session.query(ReturnVisit).filter_by(maintenance_job_id=job.id).one()
        return visit.id


def visit_of(app, visit_id):
    with app.app_context():
        visit = db.session.get(ReturnVisit, visit_id)
        db.session.expunge(visit)
        return visit


def form(visit, **overrides):
    data = {
        "version": str(visit.version), "mode": "on_site",
        "visited_at": _local(utcnow() - datetime.timedelta(minutes=10)),
        "satisfaction": "satisfied", "summary": "客户对维修结果满意，水压正常。",
        "signer_name": "李先生", "signature_data": data_url(),
        "issues-0-description": "楼道灯不亮", "issues-0-agreed_reply_at":
            _local(utcnow() + datetime.timedelta(days=2)),
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def recorded(app, people, client, **overrides):
    visit_id = completed_job(app, people)
    visit = visit_of(app, visit_id)
    login(client, people["assistant"])
    response = client.post(f"/returnvisitview/record/{visit_id}", data=form(visit, **overrides))
    assert response.status_code == 302, response.get_data(as_text=True)[-3000:]
    client.get("/logout/")
    return visit_id


def _headers(client, user):
    return {"Authorization": f"Bearer {api_token(client, user)}"}


# ---------------------------------------------------------------------------
# The visit form (VIS-06, VIS-08, VIS-12)
# ---------------------------------------------------------------------------

def test_vis_06_visit_form_refuses_on_site_visit_without_signature_and_keeps_input(app, client,
                                                                                    people):
    visit_id = completed_job(app, people)
    visit = visit_of(app, visit_id)
    login(client, people["assistant"])
    page = client.get(f"/returnvisitview/record/{visit_id}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "signature-pad" in text and "/static/visits/signature_pad.js" in text
    response = client.post(f"/returnvisitview/record/{visit_id}", data=form(
        visit, signature_data="", summary="客户说阳台还有渗水，需要再看看",
        **{"issues-0-description": "阳台渗水"}))
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    # The reason sits next to the signature; everything typed is still there.
    assert re.search(r'data-field="signature"[^>]*>[^<]*VIS-06', text)
    assert "客户说阳台还有渗水，需要再看看" in text and "阳台渗水" in text
    assert 'value="李先生"' in text
    # A refused drawing is not silently dropped either: the pad gets it back.
    refused = client.post(f"/returnvisitview/record/{visit_id}", data=form(
        visit, signature_data="data:image/png;base64,bm90IGEgcG5n"))
    assert refused.status_code == 422
    assert 'data-field="signature"' in refused.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(ReturnVisit, visit_id).status == S.PLANNED


def test_vis_06_drawn_signature_is_stored_shown_and_printed(app, client, people):
    visit_id = recorded(app, people, client)
    with app.app_context():
        visit = db.session.get(ReturnVisit, visit_id)
        assert visit.status == S.RECORDED and visit.mode == "on_site"
        assert service.signature_of(visit) is not None
        assert db.session.query(VisitIssue).filter_by(visit_id=visit_id).count() == 1
    login(client, people["assistant"])
    page = client.get(f"/returnvisitview/show/{visit_id}").get_data(as_text=True)
    assert 'id="signature-image"' in page and "楼道灯不亮" in page
    image = client.get(f"/returnvisitview/signature/{visit_id}")
    assert image.status_code == 200 and image.mimetype == "image/png"
    assert image.data.startswith(b"\x89PNG")
    printed = client.get(f"/returnvisitview/print/{visit_id}").get_data(as_text=True)
    assert "回访记录表" in printed and "signature-img" in printed and "李先生" in printed
    assert "电话回访</span>" not in printed


def test_vis_06_phone_visit_is_marked_on_page_and_print(app, client, people):
    visit_id = completed_job(app, people)
    visit = visit_of(app, visit_id)
    login(client, people["assistant"])
    response = client.post(f"/returnvisitview/record/{visit_id}", data=form(
        visit, mode="phone", signer_name="", signature_data=""))
    assert response.status_code == 302, response.get_data(as_text=True)[-2000:]
    page = client.get(f"/returnvisitview/show/{visit_id}").get_data(as_text=True)
    assert "电话回访" in page and 'id="signature-image"' not in page
    printed = client.get(f"/returnvisitview/print/{visit_id}").get_data(as_text=True)
    assert '<span class="phone-mark">电话回访</span>' in printed
    assert client.get(f"/returnvisitview/signature/{visit_id}").status_code == 404


def test_vis_08_issue_without_reply_time_and_vis_12_dissatisfied_need_their_fields(app, client,
                                                                                  people):
    visit_id = completed_job(app, people)
    visit = visit_of(app, visit_id)
    login(client, people["assistant"])
    response = client.post(f"/returnvisitview/record/{visit_id}", data=form(
        visit, satisfaction="dissatisfied", **{"issues-0-agreed_reply_at": ""}))
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert re.search(r'data-field="issues\.0\.agreed_reply_at"[^>]*>[^<]*VIS-08', text)
    assert re.search(r'data-field="rectification\.assignee_id"[^>]*>[^<]*VIS-12', text)
    assert re.search(r'data-field="next_visit_at"', text)
    # With the reply time, the rectification and the next visit date it is recorded.
    response = client.post(f"/returnvisitview/record/{visit_id}", data=form(
        visit, satisfaction="dissatisfied",
        next_visit_at=(datetime.date.today() + datetime.timedelta(days=7)).isoformat(),
        rectification_assignee_id=str(people["assistant2"].id),
        rectification_description="更换楼道灯并检查线路",
        rectification_due_at=(datetime.date.today() + datetime.timedelta(days=3)).isoformat()))
    assert response.status_code == 302, response.get_data(as_text=True)[-2000:]
    with app.app_context():
        assert db.session.query(VisitRectification).filter_by(visit_id=visit_id).count() == 1
        follow_up = service.follow_up_of(db.session.get(ReturnVisit, visit_id))
        assert follow_up is not None and follow_up.sequence == 2


def test_vis_06_stale_version_is_refused_and_keeps_input(app, client, people):
    visit_id = completed_job(app, people)
    visit = visit_of(app, visit_id)
    with app.app_context():
        actor = people["supervisor"].get()
        with acting_as(actor):
            service.reschedule_visit(visit_id, actor, visit.version,
                                     _local(utcnow() + datetime.timedelta(days=5)))
    login(client, people["assistant"])
    response = client.post(f"/returnvisitview/record/{visit_id}",
                           data=form(visit, summary="这段文字不能丢"))
    assert response.status_code == 409
    text = response.get_data(as_text=True)
    assert "这段文字不能丢" in text and 'id="visit-form-errors"' in text
    with app.app_context():
        assert db.session.get(ReturnVisit, visit_id).status == S.PLANNED


# ---------------------------------------------------------------------------
# Doors: roles (403) and visibility (404)
# ---------------------------------------------------------------------------

def test_vis_01_wrong_role_gets_403(app, client, people):
    visit_id = completed_job(app, people)
    login(client, people["desk"])
    for url in ("/returnvisitview/list/", f"/returnvisitview/show/{visit_id}",
                f"/returnvisitview/record/{visit_id}", "/visit-statistics/",
                "/maintenancejobview/list/", "/returnvisitview/plan"):
        assert client.get(url).status_code == 403, url
    client.get("/logout/")
    login(client, people["assistant"])
    # The visitor records but neither reviews, plans, proposes nor reads the statistics.
    assert client.post(f"/returnvisitview/review/{visit_id}",
                       data={"version": "1", "opinion": "x"}).status_code == 403
    assert client.get("/returnvisitview/plan").status_code == 403
    assert client.post("/returnvisitview/propose").status_code == 403
    assert client.get("/visit-statistics/").status_code == 403
    assert client.get("/visits-pending-review/list/").status_code == 200  # same list door
    headers = _headers(client, people["assistant"])
    assert client.post("/api/v1/return_visit/", headers=headers, json={
        "trigger": "holiday", "customer_name": "x"}).status_code == 403
    client.get("/logout/")
    # Leadership reads the statistics (VIS-13) and nothing else of the module.
    login(client, people["director"])
    assert client.get("/visit-statistics/").status_code == 200
    assert client.get("/returnvisitview/list/").status_code == 403


def test_vis_02_another_visitor_cannot_record_and_sees_nothing(app, client, people):
    visit_id = completed_job(app, people)
    visit = visit_of(app, visit_id)
    login(client, people["assistant2"])
    assert client.get(f"/returnvisitview/show/{visit_id}").status_code == 404
    assert client.post(f"/returnvisitview/record/{visit_id}", data=form(visit)).status_code == 404
    with app.app_context():
        assert db.session.get(ReturnVisit, visit_id).status == S.PLANNED


def test_vis_02_respondent_gets_404_on_every_door(app, client, make_user, org):
    with app.app_context():
        department = db.session.get(Department, org["department_id"])
    visitor = make_user("PropertyAssistant", username="zhaolei", display_name="赵磊",
                        department=department)
    supervisor = org["service_sup"]
    complaint_id = register(app, org)
    to_state(app, org, complaint_id, ComplaintStatus.CLOSED)
    with app.app_context():
        visit = db.session.query(ReturnVisit).filter_by(complaint_id=complaint_id).one()
        visit_id, number = visit.id, visit.number
        assert visit.visitor_id == visitor.id
    # The supervisor sees it everywhere.
    login(client, supervisor)
    assert client.get(f"/returnvisitview/show/{visit_id}").status_code == 200
    assert number in client.get("/returnvisitview/export.csv").get_data(as_text=True)
    client.get("/logout/")
    # The respondent (a property assistant too) never does.
    respondent = org["respondent"]
    login(client, respondent)
    assert client.get(f"/returnvisitview/show/{visit_id}").status_code == 404
    assert client.get(f"/returnvisitview/print/{visit_id}").status_code == 404
    assert client.get(f"/returnvisitview/record/{visit_id}").status_code == 404
    assert client.get(f"/returnvisitview/signature/{visit_id}").status_code == 404
    assert number not in client.get("/returnvisitview/list/").get_data(as_text=True)
    assert number not in client.get("/returnvisitview/export.csv").get_data(as_text=True)
    headers = _headers(client, respondent)
    assert client.get(f"/api/v1/return_visit/{visit_id}", headers=headers).status_code == 404
    assert client.get(f"/api/v1/return_visit/{visit_id}/actions",
                      headers=headers).status_code == 404
    assert client.post(f"/api/v1/return_visit/{visit_id}/record", headers=headers, json={
        "version": 1, "mode": "phone"}).status_code == 404
    listed = client.get("/api/v1/return_visit/", headers=headers).get_json()
    assert visit_id not in listed["ids"]
    assert number not in client.get("/api/v1/return_visit/export.csv",
                                    headers=headers).get_data(as_text=True)


# ---------------------------------------------------------------------------
# Review (VIS-07), plan (VIS-01, VIS-05)
# ---------------------------------------------------------------------------

def test_vis_07_supervisor_signs_once_from_the_visit_page(app, client, people):
    visit_id = recorded(app, people, client)
    login(client, people["supervisor"])
    pending = client.get("/visits-pending-review/list/").get_data(as_text=True)
    number = visit_of(app, visit_id).number
    assert number in pending
    page = client.get(f"/returnvisitview/show/{visit_id}").get_data(as_text=True)
    assert 'id="review-form"' in page
    version = visit_of(app, visit_id).version
    response = client.post(f"/returnvisitview/review/{visit_id}",
                           data={"version": str(version), "opinion": "记录完整，同意。"})
    assert response.status_code == 302
    with app.app_context():
        visit = db.session.get(ReturnVisit, visit_id)
        assert visit.status == S.REVIEWED and visit.review_opinion == "记录完整，同意。"
        assert visit.reviewed_by_id == people["supervisor"].id
    page = client.get(f"/returnvisitview/show/{visit_id}").get_data(as_text=True)
    assert 'id="review-form"' not in page and "记录完整，同意。" in page
    assert number not in client.get("/visits-pending-review/list/").get_data(as_text=True)
    # A second signature is refused, on the web and through the API.
    again = client.post(f"/returnvisitview/review/{visit_id}", follow_redirects=True,
                        data={"version": str(visit_of(app, visit_id).version), "opinion": "改"})
    assert again.status_code == 200
    headers = _headers(client, people["supervisor"])
    api = client.post(f"/api/v1/return_visit/{visit_id}/actions/review", headers=headers,
                      json={"version": visit_of(app, visit_id).version, "opinion": "再签"})
    assert api.status_code == 403
    with app.app_context():
        assert db.session.get(ReturnVisit, visit_id).review_opinion == "记录完整，同意。"
    printed = client.get(f"/returnvisitview/print/{visit_id}").get_data(as_text=True)
    assert "记录完整，同意。" in printed and "周强" in printed


def test_vis_05_manager_plans_holiday_visits_only(app, client, people):
    login(client, people["gm"])
    form_page = client.get("/returnvisitview/plan").get_data(as_text=True)
    assert 'value="holiday"' in form_page and 'value="complaint"' not in form_page
    due = _local(utcnow() + datetime.timedelta(days=3))
    refused = client.post("/returnvisitview/plan", data={
        "trigger": "holiday", "customer_name": "", "visitor_id": str(people["assistant"].id),
        "due_at": due, "plan_note": "中秋节拜访"})
    assert refused.status_code == 422
    assert "中秋节拜访" in refused.get_data(as_text=True)
    response = client.post("/returnvisitview/plan", data={
        "trigger": "holiday", "customer_name": "王阿姨", "address": "5号楼101",
        "visitor_id": str(people["assistant"].id), "due_at": due, "plan_note": "中秋节拜访"})
    assert response.status_code == 302, response.get_data(as_text=True)[-2000:]
    with app.app_context():
        visit = db.session.query(ReturnVisit).filter_by(trigger="holiday").one()
        assert visit.planned_by_id == people["gm"].id
    # The manager's own door is the service's: a complaint visit is the supervisor's plan.
    headers = _headers(client, people["gm"])
    api = client.post("/api/v1/return_visit/", headers=headers, json={
        "trigger": "maintenance", "maintenance_job_id": 1})
    assert api.status_code == 403


def test_vis_01_supervisor_proposes_and_reassigns(app, client, people):
    with app.app_context():
        actor = people["supervisor"].get()
        with acting_as(actor):
            job = service.create_maintenance_job(actor, {
                "title": "屋面防水", "area": "A1", "assistant_id": people["assistant"].id,
                "completed_at": utcnow() - datetime.timedelta(days=1)})
            visit = db.session.query(ReturnVisit).filter_by(maintenance_job_id=job.id).one()
            visit.status = S.CANCELLED  # proposals are idempotent: a cancelled one counts
            db.session.commit()
    login(client, people["supervisor"])
    listing = client.get("/returnvisitview/list/").get_data(as_text=True)
    assert 'id="propose-form"' in listing and 'id="plan-link"' in listing
    response = client.post("/returnvisitview/propose", follow_redirects=True)
    assert response.status_code == 200
    visit_id = completed_job(app, people)
    visit = visit_of(app, visit_id)
    moved = client.post(f"/returnvisitview/reschedule/{visit_id}", data={
        "version": str(visit.version), "due_at": _local(utcnow() + datetime.timedelta(days=9)),
        "visitor_id": str(people["assistant2"].id)})
    assert moved.status_code == 302
    with app.app_context():
        assert db.session.get(ReturnVisit, visit_id).visitor_id == people["assistant2"].id
    # A visitor of the wrong role is refused with the reason, nothing changes.
    refused = client.post(f"/returnvisitview/reschedule/{visit_id}", follow_redirects=True, data={
        "version": str(visit_of(app, visit_id).version), "visitor_id": str(people["clerk"].id)})
    assert "VIS-02" in refused.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(ReturnVisit, visit_id).visitor_id == people["assistant2"].id
    # Cancelling needs a reason and is final.
    cancelled = client.post(f"/returnvisitview/cancel/{visit_id}", data={
        "version": str(visit_of(app, visit_id).version), "reason": "业主已搬离"})
    assert cancelled.status_code == 302
    with app.app_context():
        visit = db.session.get(ReturnVisit, visit_id)
        assert visit.status == S.CANCELLED and visit.cancel_reason == "业主已搬离"
    client.get("/logout/")
    login(client, people["assistant"])
    listing = client.get("/returnvisitview/list/").get_data(as_text=True)
    assert 'id="propose-form"' not in listing and 'id="plan-link"' not in listing


# ---------------------------------------------------------------------------
# Lists, statistics (VIS-13), open letters (VIS-09), jobs, REST
# ---------------------------------------------------------------------------

def test_vis_01_plan_list_filters_and_csv(app, client, people):
    visit_id = completed_job(app, people)
    number = visit_of(app, visit_id).number
    login(client, people["supervisor"])
    month = datetime.date.today().strftime("%Y-%m")
    listed = client.get("/returnvisitview/list/?_flt_0_trigger=maintenance")
    assert listed.status_code == 200 and number in listed.get_data(as_text=True)
    csv = client.get("/returnvisitview/export.csv?_flt_0_trigger=maintenance")
    assert csv.status_code == 200 and number in csv.get_data(as_text=True)
    assert number not in client.get("/returnvisitview/list/?_flt_0_trigger=event") \
        .get_data(as_text=True)
    # Due in month / overdue are filters of the due date.
    text = client.get(f"/returnvisitview/list/?_flt_1_due_at={month}").get_data(as_text=True)
    assert "Due in month" in text or "月" in text


def test_vis_13_statistics_page_matches_the_service(app, client, people):
    visit_id = recorded(app, people, client)
    login(client, people["supervisor"])
    today = datetime.date.today()
    page = client.get(f"/visit-statistics/?month={today:%Y-%m}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    with app.app_context():
        stats = service.monthly_statistics(today.year, today.month)
    maintenance = next(row for row in stats["rates"] if row["trigger"] == "maintenance")
    assert maintenance["eligible"] == 1 and maintenance["visited_in_time"] == 1
    row = re.search(r'data-trigger="maintenance">(.*?)</tr>', text, re.S).group(1)
    assert re.search(r'class="text-right eligible">1<', row)
    assert re.search(r'class="text-right in-time">1<', row)
    assert "100.0%" in row and "label-success" in row
    assert re.search(rf'id="visits-recorded">{stats["visits_recorded"]}<', text)
    assert re.search(rf'id="issues-total">{stats["issues_total"]}<', text)
    csv = client.get(f"/visit-statistics/export.csv?month={today:%Y-%m}")
    assert csv.status_code == 200 and csv.mimetype == "text/csv"
    assert "100.0%" in csv.get_data(as_text=True)
    assert client.get("/visit-statistics/?month=2026-13").status_code == 400
    assert visit_id


def test_vis_09_open_letter_by_complaint_numbers_keeps_input_on_refusal(app, client, people):
    with app.app_context():
        complaint = Complaint(number="TS-2026-09001", year=2026, sequence=9001, kind="complaint",
                              channel="phone", subject="小区停车难", description="车位不足",
                              severity="general", status=ComplaintStatus.CLOSED)
        db.session.add(complaint)
        db.session.commit()
        complaint_id = complaint.id
    login(client, people["supervisor"])
    assert client.get("/openletterview/add").status_code == 200
    refused = client.post("/openletterview/add", data={
        "subject": "关于停车问题的公开信", "body": "各位业主：……",
        "complaint_numbers": "TS-2026-09001, TS-1999-00000"})
    assert refused.status_code == 422
    text = refused.get_data(as_text=True)
    assert "TS-1999-00000" in text and "关于停车问题的公开信" in text
    response = client.post("/openletterview/add", data={
        "subject": "关于停车问题的公开信", "body": "各位业主：……",
        "complaint_numbers": "TS-2026-09001"})
    assert response.status_code == 302, response.get_data(as_text=True)[-2000:]
    with app.app_context():
        letter = db.session.query(OpenLetter).one()
        assert [c.id for c in letter.complaints] == [complaint_id]
        letter_id = letter.id
    page = client.get(f"/openletterview/show/{letter_id}").get_data(as_text=True)
    assert "TS-2026-09001" in page
    client.get("/logout/")
    login(client, people["assistant"])
    assert client.get("/openletterview/add").status_code == 403


def test_vis_03_maintenance_job_form_and_completion_plan_the_visit(app, client, people):
    login(client, people["assistant"])
    response = client.post("/maintenancejobview/add", data={
        "title": "电梯门更换", "area": "A1", "customer_name": "周先生"})
    assert response.status_code == 302, response.get_data(as_text=True)[-3000:]
    with app.app_context():
        job = db.session.query(MaintenanceJob).one()
        job_id, version = job.id, job.version
        assert job.assistant_id == people["assistant"].id
    page = client.get(f"/maintenancejobview/show/{job_id}").get_data(as_text=True)
    assert 'id="job-complete"' in page
    done = client.post(f"/maintenancejobview/complete/{job_id}", data={"version": str(version)})
    assert done.status_code == 302
    with app.app_context():
        visit = db.session.query(ReturnVisit).filter_by(maintenance_job_id=job_id).one()
        assert visit.visitor_id == people["assistant"].id
    refused = client.post("/maintenancejobview/add", data={"title": "", "area": "A1"})
    assert refused.status_code == 200 and "alert-danger" in refused.get_data(as_text=True)


def test_vis_06_rest_record_with_signature_and_refusals(app, client, people):
    visit_id = completed_job(app, people)
    visit = visit_of(app, visit_id)
    headers = _headers(client, people["assistant"])
    body = {"version": visit.version, "mode": "on_site", "satisfaction": "satisfied",
            "summary": "满意", "signer_name": "李先生"}
    missing = client.post(f"/api/v1/return_visit/{visit_id}/record", headers=headers, json=body)
    assert missing.status_code == 422 and "signature" in missing.get_json()["errors"]
    stale = client.post(f"/api/v1/return_visit/{visit_id}/record", headers=headers,
                        json={**body, "version": visit.version + 5,
                              "signature_png": base64.b64encode(png_bytes()).decode()})
    assert stale.status_code == 409
    done = client.post(f"/api/v1/return_visit/{visit_id}/record", headers=headers,
                       json={**body, "signature_png": data_url()})
    assert done.status_code == 200, done.get_data(as_text=True)
    assert done.get_json()["status"] == S.RECORDED
    actions = client.get(f"/api/v1/return_visit/{visit_id}/actions", headers=headers)
    assert actions.status_code == 200 and actions.get_json()["state"] == S.RECORDED
    # The visitor may not review (role), the supervisor may.
    refused = client.post(f"/api/v1/return_visit/{visit_id}/actions/review", headers=headers,
                          json={"version": done.get_json()["version"], "opinion": "x"})
    assert refused.status_code == 403
    supervisor = _headers(client, people["supervisor"])
    reviewed = client.post(f"/api/v1/return_visit/{visit_id}/actions/review", headers=supervisor,
                           json={"version": done.get_json()["version"], "opinion": "同意"})
    assert reviewed.status_code == 200 and reviewed.get_json()["state"] == S.REVIEWED
    for resource in ("maintenance_job", "community_event", "open_letter", "return_visit"):
        assert client.get(f"/api/v1/{resource}/", headers=supervisor).status_code == 200
