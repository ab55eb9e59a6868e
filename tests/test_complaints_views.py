"""Complaints and feedback (CMP-01 to CMP-18): web pages, forms, exports and the REST API."""
import datetime

import pytest

from app.extensions import db
from app.models.base import utcnow
from app.models.complaints import Complaint, ComplaintContact, ComplaintStatus
from tests.conftest import api_token, login
from tests.test_complaints_rules import org, register, state, step, to_state  # noqa: F401

S = ComplaintStatus


def _headers(client, user):
    return {"Authorization": f"Bearer {api_token(client, user)}"}


def _number(app, complaint_id):
    with app.app_context():
        return db.session.get(Complaint, complaint_id).number


def _version(app, complaint_id):
    with app.app_context():
        return db.session.get(Complaint, complaint_id).version


FORM = {
    "kind": "complaint", "channel": "phone", "complainant_name": "周女士",
    "complainant_phone": "13611112222", "subject": "物业费收据未开具",
    "description": "缴费后一个月仍未收到收据。", "severity": "general",
}


def test_cmp_01_registration_form_registers_and_opens_the_record(app, client, org):
    login(client, org["front"])
    form_page = client.get("/complaintview/add")
    assert form_page.status_code == 200
    assert 'name="channel"' in form_page.get_data(as_text=True)
    response = client.post("/complaintview/add", data={
        **FORM, "respondent_department": str(org["department_id"]),
        "officer": str(org["officer"].id), "partner": str(org["partner"].id)})
    assert response.status_code == 302
    with app.app_context():
        complaint = db.session.query(Complaint).one()
        assert complaint.created_by_id == org["front"].id
        assert complaint.respondent_department_id == org["department_id"]
        assert complaint.status == S.REGISTERED
        number, complaint_id = complaint.number, complaint.id
    assert response.headers["Location"].endswith(f"/complaintview/show/{complaint_id}")
    page = client.get(f"/complaintview/show/{complaint_id}").get_data(as_text=True)
    assert number in page and "complaint-timeline" in page and "attachments-panel" in page


def test_cmp_02_form_refusal_keeps_what_was_typed(app, client, org):
    login(client, org["front"])
    response = client.post("/complaintview/add", data={
        **FORM, "channel": "written", "subject": "来信反映保洁问题"})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "来信反映保洁问题" in page  # the input is kept
    assert "CMP-02" in page
    with app.app_context():
        assert db.session.query(Complaint).count() == 0


def test_cmp_02_rest_registration_and_refusals(app, client, org):
    headers = _headers(client, org["front"])
    created = client.post("/api/v1/complaint/", headers=headers, json={
        **FORM, "respondent_user_id": org["respondent"].id, "officer_id": org["officer"].id,
        "partner_id": org["partner"].id})
    assert created.status_code == 201, created.get_data(as_text=True)
    body = created.get_json()
    assert body["number"].startswith("TS-") and body["status"] == "registered"
    bad = client.post("/api/v1/complaint/", headers=headers, json={**FORM, "subject": ""})
    assert bad.status_code == 422 and "subject" in bad.get_json()["errors"]
    written = client.post("/api/v1/complaint/", headers=headers,
                          json={**FORM, "channel": "written", "register_number": "SW-1"})
    assert written.status_code == 422 and "channel" in written.get_json()["errors"]
    refused = client.post("/api/v1/complaint/", headers=_headers(client, org["partner"]),
                          json=FORM)
    assert refused.status_code == 403
    got = client.get(f"/api/v1/complaint/{body['id']}", headers=headers)
    assert got.status_code == 200 and got.get_json()["result"]["number"] == body["number"]


def test_cmp_05_respondent_sees_nothing_but_number_and_status(app, client, org):
    complaint_id = register(app, org)
    number = _number(app, complaint_id)
    login(client, org["respondent"])
    # Their roles give no complaint list at all; the record page, print view and export are closed.
    assert client.get("/complaintview/list/").status_code == 403
    assert client.get(f"/complaintview/show/{complaint_id}").status_code == 403
    mine = client.get("/complaintstatus/")
    assert mine.status_code == 200
    text = mine.get_data(as_text=True)
    assert number in text and "电梯维修不及时" not in text


def test_cmp_05_recused_manager_gets_404_on_every_door(app, client, org):
    complaint_id = register(app, org)
    number = _number(app, complaint_id)
    with app.app_context():
        from app.audit.context import acting_as
        from app.services.complaints import mark_conflicted

        with acting_as(org["admin"].get()):
            mark_conflicted(complaint_id, org["admin"].get(), org["partner2"].id)
    login(client, org["partner2"])
    assert client.get(f"/complaintview/show/{complaint_id}").status_code == 404
    assert client.get(f"/complaintview/print/{complaint_id}").status_code == 404
    assert number not in client.get("/complaintview/list/").get_data(as_text=True)
    assert number not in client.get("/complaintview/export.csv").get_data(as_text=True)
    decided = client.post(f"/complaintview/transition/{complaint_id}/decide",
                          data={"version": "1", "decision": "x"}, follow_redirects=False)
    assert decided.status_code == 302 and state(app, complaint_id) == S.REGISTERED
    contact = client.post(f"/complaintview/contact/{complaint_id}", data={"summary": "x"})
    assert contact.status_code == 404
    assert number in client.get("/complaintstatus/").get_data(as_text=True)
    headers = _headers(client, org["partner2"])
    assert client.get(f"/api/v1/complaint/{complaint_id}", headers=headers).status_code == 404
    assert client.get(f"/api/v1/complaint/{complaint_id}/actions", headers=headers).status_code == 404
    acted = client.post(f"/api/v1/complaint/{complaint_id}/actions/decide", headers=headers,
                        json={"version": 1, "decision": "x", "outcome": "upheld"})
    assert acted.status_code == 404
    listed = client.get("/api/v1/complaint/", headers=headers).get_json()
    assert listed["count"] == 0
    exported = client.get("/api/v1/complaint/export.csv", headers=headers)
    assert exported.status_code == 200 and number not in exported.get_data(as_text=True)


def test_cmp_06_web_steps_refusals_are_flashed_and_stale_versions_refused(app, client, org):
    complaint_id = register(app, org)
    login(client, org["partner"])
    page = client.post(f"/complaintview/transition/{complaint_id}/decide",
                       data={"version": "1", "decision": "同意", "outcome": "upheld"},
                       follow_redirects=True)
    assert page.status_code == 200 and state(app, complaint_id) == S.REGISTERED
    client.get("/logout/")
    login(client, org["officer"])
    show = client.get(f"/complaintview/show/{complaint_id}").get_data(as_text=True)
    assert f"/complaintview/transition/{complaint_id}/write_opinion" in show
    assert f"/complaintview/transition/{complaint_id}/decide" not in show
    stale = client.post(f"/complaintview/transition/{complaint_id}/write_opinion",
                        data={"version": "3", "opinion": "意见"}, follow_redirects=True)
    assert stale.status_code == 200 and state(app, complaint_id) == S.REGISTERED
    done = client.post(f"/complaintview/transition/{complaint_id}/write_opinion",
                       data={"version": "1", "opinion": "建议致歉并维修"}, follow_redirects=True)
    assert state(app, complaint_id) == S.OPINION_WRITTEN
    assert "建议致歉并维修" in done.get_data(as_text=True)
    headers = _headers(client, org["partner"])
    actions = client.get(f"/api/v1/complaint/{complaint_id}/actions", headers=headers).get_json()
    assert [a["name"] for a in actions["actions"]] == ["record_meeting", "decide"]
    stale = client.post(f"/api/v1/complaint/{complaint_id}/actions/decide", headers=headers,
                        json={"version": 1, "decision": "同意", "outcome": "upheld"})
    assert stale.status_code == 409
    missing = client.post(f"/api/v1/complaint/{complaint_id}/actions/decide", headers=headers,
                          json={"version": 2, "decision": "同意"})
    assert missing.status_code == 422 and "outcome" in missing.get_json()["errors"]
    done = client.post(f"/api/v1/complaint/{complaint_id}/actions/decide", headers=headers,
                       json={"version": 2, "decision": "同意", "outcome": "upheld"})
    assert done.status_code == 200 and done.get_json()["state"] == "decided"


def test_cmp_07_major_case_decided_without_meeting_is_refused_over_rest(app, client, org):
    complaint_id = register(app, org, severity="major")
    step(app, org["officer"], complaint_id, "write_opinion", opinion="意见")
    headers = _headers(client, org["partner"])
    refused = client.post(f"/api/v1/complaint/{complaint_id}/actions/decide", headers=headers,
                          json={"version": 2, "decision": "同意", "outcome": "upheld"})
    assert refused.status_code == 403 and refused.get_json()["message"]
    login(client, org["director"])
    client.post(f"/complaintview/transition/{complaint_id}/record_meeting", data={
        "version": "2", "meeting_kind": "partners", "attendees": "刘洋、陈静",
        "meeting_decision": "投诉成立", "minutes": "纪要", "held_at": "2026-01-05T10:00"})
    assert state(app, complaint_id) == S.MEETING_HELD
    page = client.get(f"/complaintview/show/{complaint_id}").get_data(as_text=True)
    assert "complaint-meetings" in page and "投诉成立" in page


def test_cmp_09_contact_form_refuses_commitment_before_decision(app, client, org):
    complaint_id = register(app, org)
    login(client, org["officer"])
    refused = client.post(f"/complaintview/contact/{complaint_id}",
                          data={"summary": "承诺赔偿500元", "mode": "phone", "is_commitment": "y"},
                          follow_redirects=True)
    assert "CMP-09" in refused.get_data(as_text=True)
    client.post(f"/complaintview/contact/{complaint_id}",
                data={"summary": "告知处理安排", "mode": "phone"})
    with app.app_context():
        contacts = db.session.query(ComplaintContact).filter_by(complaint_id=complaint_id).all()
        assert [c.summary for c in contacts] == ["告知处理安排"]


def test_cmp_08_findings_form(app, client, org):
    complaint_id = register(app, org)
    login(client, org["officer"])
    page = client.post(f"/complaintview/finding/{complaint_id}",
                       data={"facts": "经查维保单位未按时到场", "verified": "y"},
                       follow_redirects=True).get_data(as_text=True)
    assert "经查维保单位未按时到场" in page


def test_cmp_11_reply_over_rest_needs_reason_for_other_modes(app, client, org):
    complaint_id = register(app, org)
    to_state(app, org, complaint_id, S.IMPLEMENTED)
    headers = _headers(client, org["officer"])
    version = _version(app, complaint_id)
    refused = client.post(f"/api/v1/complaint/{complaint_id}/actions/reply", headers=headers,
                          json={"version": version, "mode": "phone", "content": "电话回复"})
    assert refused.status_code == 422 and "reason" in refused.get_json()["errors"]
    done = client.post(f"/api/v1/complaint/{complaint_id}/actions/reply", headers=headers,
                       json={"version": version, "content": "书面回复函已寄出"})
    assert done.status_code == 200 and done.get_json()["state"] == "replied"


def test_cmp_12_list_and_export_show_only_visible_complaints(app, client, org):
    mine = register(app, org)
    other = register(app, org, actor=org["front2"], subject="停车位纠纷")
    login(client, org["front"])
    listing = client.get("/complaintview/list/").get_data(as_text=True)
    assert _number(app, mine) in listing and _number(app, other) not in listing
    exported = client.get("/complaintview/export.csv").get_data(as_text=True)
    assert _number(app, mine) in exported and _number(app, other) not in exported
    assert client.get(f"/complaintview/show/{other}").status_code == 404
    client.get("/logout/")
    login(client, org["gm"])
    listing = client.get("/complaintview/list/").get_data(as_text=True)
    assert _number(app, mine) in listing and _number(app, other) in listing


def test_cmp_13_archived_complaint_is_read_only_on_every_door(app, client, org):
    complaint_id = register(app, org)
    to_state(app, org, complaint_id, S.ARCHIVED)
    login(client, org["officer"])
    edit = client.get(f"/complaintview/edit/{complaint_id}")
    assert edit.status_code == 302
    headers = _headers(client, org["officer"])
    put = client.put(f"/api/v1/complaint/{complaint_id}", headers=headers,
                     json={"version": _version(app, complaint_id), "subject": "改"})
    assert put.status_code == 403
    page = client.get(f"/complaintview/show/{complaint_id}").get_data(as_text=True)
    assert "AZ-" in page


def test_cmp_13_edit_form_keeps_version_check(app, client, org):
    complaint_id = register(app, org)
    login(client, org["officer"])
    stale = client.post(f"/complaintview/edit/{complaint_id}", data={
        **FORM, "expected_version": "9", "officer": str(org["officer"].id),
        "partner": str(org["partner"].id), "subject": "改过的主题"}, follow_redirects=True)
    assert stale.status_code == 200
    with app.app_context():
        assert db.session.get(Complaint, complaint_id).subject == "电梯维修不及时"
    client.post(f"/complaintview/edit/{complaint_id}", data={
        **FORM, "expected_version": "1", "officer": str(org["officer"].id),
        "partner": str(org["partner"].id), "subject": "改过的主题"})
    with app.app_context():
        assert db.session.get(Complaint, complaint_id).subject == "改过的主题"


def test_cmp_14_survey_form_reopens_on_dissatisfaction(app, client, org):
    complaint_id = register(app, org)
    to_state(app, org, complaint_id, S.CLOSED)
    login(client, org["service_sup"])
    client.post(f"/complaintview/survey/{complaint_id}",
                data={"party": "complainant", "satisfaction": "dissatisfied", "comment": "不满意"})
    assert state(app, complaint_id) == S.FOLLOW_UP


def test_cmp_16_escalation_form(app, client, org):
    complaint_id = register(app, org, severity="major")
    login(client, org["officer"])
    page = client.get(f"/complaintview/show/{complaint_id}").get_data(as_text=True)
    assert "complaint-escalation" in page
    promised = (utcnow() + datetime.timedelta(days=3)).date().isoformat()
    client.post(f"/complaintview/escalate/{complaint_id}", data={
        "version": "1", "reason": "超出部门权限", "promised_reply_date": promised,
        "escalated_to_id": str(org["supervisor"].id)})
    with app.app_context():
        assert db.session.get(Complaint, complaint_id).promised_reply_date.isoformat() == promised
    # The list filters overdue complaints: open, promised reply date passed.
    from app.views.complaints import OverdueFilter
    from tests.test_list_filters import form_filters

    not_due, closed = register(app, org), register(app, org)
    to_state(app, org, closed, S.CLOSED)
    past, future = datetime.date(2020, 1, 1), utcnow().date() + datetime.timedelta(days=30)
    with app.app_context():
        for pk, promised in ((complaint_id, past), (not_due, future), (closed, past)):
            db.session.get(Complaint, pk).promised_reply_date = promised
        db.session.commit()
    numbers = {pk: _number(app, pk) for pk in (complaint_id, not_due, closed)}
    login(client, org["officer"])
    page = client.get("/complaintview/list/").get_data(as_text=True)
    assert all(number in page for number in numbers.values())
    # The index the browser sends is the filter's place in the search form.
    with app.test_request_context():
        label = str(OverdueFilter.name)
    index = form_filters(page)["promised_reply_date"].index(label)
    overdue = client.get(f"/complaintview/list/?_flt_{index}_promised_reply_date=y")
    assert overdue.status_code == 200
    text = overdue.get_data(as_text=True)
    assert numbers[complaint_id] in text
    assert numbers[not_due] not in text and numbers[closed] not in text


def test_cmp_17_link_duplicate_on_the_page_and_over_rest(app, client, org):
    master = register(app, org)
    duplicate = register(app, org)
    login(client, org["front"])
    page = client.get(f"/complaintview/show/{duplicate}").get_data(as_text=True)
    assert _number(app, master) in page  # offered as a possible duplicate
    client.post(f"/complaintview/transition/{duplicate}/link_duplicate",
                data={"version": "1", "master": _number(app, master)})
    assert state(app, duplicate) == S.MERGED
    headers = _headers(client, org["front"])
    created = client.post("/api/v1/complaint/", headers=headers,
                          json={**FORM, "master": _number(app, master)})
    assert created.status_code == 201 and created.get_json()["status"] == "merged"
    officer = _headers(client, org["officer"])
    refused = client.post(f"/api/v1/complaint/{duplicate}/actions/write_opinion",
                          headers=officer, json={"version": _version(app, duplicate),
                                                 "opinion": "单独处理"})
    assert refused.status_code == 403


def test_cmp_18_monthly_summary_page_and_csv(app, client, org):
    register(app, org, severity="major")
    register(app, org)
    login(client, org["gm"])
    now = utcnow()
    page = client.get(f"/complaintsummary/?year={now.year}&month={now.month}")
    assert page.status_code == 200
    assert 'id="summary-total">2<' in page.get_data(as_text=True)
    csv = client.get(f"/complaintsummary/export.csv?year={now.year}&month={now.month}")
    assert csv.status_code == 200 and csv.data.startswith(b"\xef\xbb\xbf")
    assert "物业管理部" in csv.data.decode("utf-8-sig")
    assert client.get("/complaintsummary/?year=abc").status_code == 400
    client.get("/logout/")
    login(client, org["front"])
    assert client.get("/complaintsummary/").status_code == 403


def test_print_view_of_the_registration_form(app, client, org):
    complaint_id = register(app, org)
    login(client, org["officer"])
    page = client.get(f"/complaintview/print/{complaint_id}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert _number(app, complaint_id) in text and "@media print" in text
    assert "http://" not in text.replace("http://localhost", "") and "https://" not in text


@pytest.mark.parametrize("locale", ["zh", "en"])
def test_pages_render_in_both_languages(app, client, org, locale):
    complaint_id = register(app, org, severity="major")
    login(client, org["officer"])
    client.get(f"/lang/{locale}")
    for url in ("/complaintview/list/", f"/complaintview/show/{complaint_id}",
                "/complaintview/add", "/complaintsummary/", "/complaintstatus/"):
        assert client.get(url).status_code == 200, url


def test_cmp_11_reply_letter_is_generated_from_the_reply(app, client, org):
    complaint_id = register(app, org)
    login(client, org["officer"])
    early = client.get(f"/complaintview/letter/{complaint_id}")
    assert early.status_code == 302
    to_state(app, org, complaint_id, S.REPLIED)
    letter = client.get(f"/complaintview/letter/{complaint_id}")
    assert letter.status_code == 200 and "书面回复已寄出。" in letter.get_data(as_text=True)
    client.get("/logout/")
    login(client, org["front2"])
    assert client.get(f"/complaintview/letter/{complaint_id}").status_code == 404


def test_cmp_05_respondent_holding_a_complaint_role_is_shut_out_of_every_door(app, client, org):
    complaint_id = register(app, org, respondent_user_id=org["officer2"].id)
    number = _number(app, complaint_id)
    login(client, org["officer2"])
    assert number not in client.get("/complaintview/list/").get_data(as_text=True)
    assert number not in client.get("/complaintview/export.csv").get_data(as_text=True)
    assert client.get(f"/complaintview/show/{complaint_id}").status_code == 404
    assert client.get(f"/complaintview/letter/{complaint_id}").status_code == 404
    opinion = client.post(f"/complaintview/transition/{complaint_id}/write_opinion",
                          data={"version": "1", "opinion": "自己处理"})
    assert opinion.status_code == 302 and state(app, complaint_id) == S.REGISTERED
    headers = _headers(client, org["officer2"])
    assert client.get(f"/api/v1/complaint/{complaint_id}", headers=headers).status_code == 404
    acted = client.post(f"/api/v1/complaint/{complaint_id}/actions/write_opinion",
                        headers=headers, json={"version": 1, "opinion": "自己处理"})
    assert acted.status_code == 404
    put = client.put(f"/api/v1/complaint/{complaint_id}", headers=headers,
                     json={"version": 1, "subject": "改"})
    assert put.status_code == 404
    exported = client.get("/api/v1/complaint/export.csv", headers=headers).get_data(as_text=True)
    assert number not in exported
    mine = client.get("/complaintstatus/").get_data(as_text=True)
    assert number in mine and "电梯维修不及时" not in mine


def test_cmp_03_numbers_in_the_ledger_and_api_follow_registration(app, client, org):
    first, second = register(app, org), register(app, org)
    headers = _headers(client, org["front"])
    listed = client.get("/api/v1/complaint/", headers=headers).get_json()
    numbers = sorted(row["number"] for row in listed["result"])
    assert numbers == sorted([_number(app, first), _number(app, second)])
    assert int(numbers[1][-5:]) == int(numbers[0][-5:]) + 1


def test_cmp_04_originals_are_attached_on_the_page_and_archived_ones_refuse_more(app, client, org):
    import io

    complaint_id = register(app, org)
    login(client, org["front"])
    client.post(f"/attachmentview/upload/complaint/{complaint_id}", data={
        "kind": "original", "file": (io.BytesIO(b"complaint letter"), "来信.txt"),
        "paper_location": "行政部档案柜3号", "next": f"/complaintview/show/{complaint_id}"},
        content_type="multipart/form-data")
    page = client.get(f"/complaintview/show/{complaint_id}").get_data(as_text=True)
    assert "来信.txt" in page and "行政部档案柜3号" in page
    upload_door = f"/attachmentview/upload/complaint/{complaint_id}"
    assert upload_door in page
    to_state(app, org, complaint_id, S.ARCHIVED)
    client.get("/logout/")
    login(client, org["admin_desk"])
    # Archived: the files stay, the upload forms are gone, and the door refuses too.
    page = client.get(f"/complaintview/show/{complaint_id}").get_data(as_text=True)
    assert "来信.txt" in page and upload_door not in page
    client.post(f"/attachmentview/upload/complaint/{complaint_id}", data={
        "kind": "other", "file": (io.BytesIO(b"late"), "late.txt"),
        "next": f"/complaintview/show/{complaint_id}"}, content_type="multipart/form-data")
    from app.models.attachments import Attachment

    with app.app_context():
        names = [a.original_filename for a in db.session.query(Attachment).filter_by(
            owner_table="complaint", owner_id=complaint_id)]
        assert names == ["来信.txt"]


def test_cmp_10_officer_implements_the_signed_decision_on_the_page(app, client, org):
    complaint_id = register(app, org)
    to_state(app, org, complaint_id, S.DECIDED)
    login(client, org["partner"])
    client.post(f"/complaintview/transition/{complaint_id}/implement",
                data={"version": str(_version(app, complaint_id)), "implementation": "x"})
    assert state(app, complaint_id) == S.DECIDED
    client.get("/logout/")
    login(client, org["officer"])
    page = client.get(f"/complaintview/show/{complaint_id}").get_data(as_text=True)
    assert "同意专门负责人意见。" in page  # the signed decision is on the record
    client.post(f"/complaintview/transition/{complaint_id}/implement",
                data={"version": str(_version(app, complaint_id)), "implementation": "已维修"})
    assert state(app, complaint_id) == S.IMPLEMENTED


def test_cmp_15_managers_find_the_major_complaint_in_their_inbox(app, client, org):
    login(client, org["front"])
    client.post("/complaintview/add", data={**FORM, "severity": "major",
                                            "respondent_department": str(org["department_id"])})
    client.get("/logout/")
    login(client, org["gm"])
    inbox = client.get("/").get_data(as_text=True)
    assert "物业费收据未开具" in inbox
