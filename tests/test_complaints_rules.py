"""Complaints and feedback (CMP-01 to CMP-18): the service layer, refusals included."""
import datetime
from contextlib import contextmanager

import pytest

from app.audit.context import acting_as
from app.extensions import db
from app.models.base import utcnow
from app.models.complaints import (
    Complaint, ComplaintChannel, ComplaintMeeting, ComplaintOutcome,
    ComplaintReply, ComplaintSeverity, ComplaintStatus,
)
from app.models.deadlines import Deadline, DeadlineStatus
from app.models.numbering import NumberSequence
from app.models.notifications import Notification
from app.models.org import Absence, AbsenceStatus, Department
from app.models.workflow import WorkflowTransition
from app.security.visibility import can_see, visible_query
from app.services import complaints as service
from app.services.errors import (
    InvalidInput, PermissionRefused, RecordNotVisible, StaleVersion, TransitionRefused,
)

S = ComplaintStatus


@pytest.fixture
def org(app, make_user):
    """The people of a complaint: desks, officers, partners, director, managers, respondent."""
    gm = make_user("GeneralManager", username="zhangwei", display_name="张伟")
    director = make_user("Director", username="liuyang", display_name="刘洋", supervisor=gm)
    partner = make_user("Partner", username="chenjing", display_name="陈静", supervisor=director)
    partner2 = make_user("Partner", username="hejun", display_name="何军", supervisor=director)
    officer = make_user("ComplaintOfficer", username="sunli", display_name="孙丽",
                        supervisor=partner)
    officer2 = make_user("ComplaintOfficer", username="qianyu", display_name="钱宇",
                         supervisor=partner)
    front = make_user("FrontDesk", username="wangfang", display_name="王芳")
    front2 = make_user("FrontDesk", username="lina", display_name="李娜")
    admin_desk = make_user("AdminDesk", username="zhaomin", display_name="赵敏")
    supervisor = make_user("DepartmentSupervisor", username="zhengtao", display_name="郑涛",
                           supervisor=gm)
    service_sup = make_user("ServiceSupervisor", username="zhouqiang", display_name="周强")
    with app.app_context():
        department = Department(code="PROP", name="物业管理部", head_id=supervisor.id)
        db.session.add(department)
        db.session.commit()
        department_id = department.id
    with app.app_context():
        department = db.session.get(Department, department_id)
    respondent = make_user("PropertyAssistant", username="wuxia", display_name="吴霞",
                           department=department, supervisor=supervisor)
    admin = make_user("Admin", username="root")
    return dict(gm=gm, director=director, partner=partner, partner2=partner2, officer=officer,
                officer2=officer2, front=front, front2=front2, admin_desk=admin_desk,
                supervisor=supervisor, service_sup=service_sup, respondent=respondent,
                admin=admin, department_id=department_id)


@contextmanager
def as_user(app, ref):
    with app.app_context():
        user = ref.get()
        with acting_as(user):
            yield user


def register(app, org, actor=None, **overrides):
    data = {
        "kind": "complaint", "channel": "phone", "complainant_name": "李先生",
        "complainant_phone": "13912345678", "subject": "电梯维修不及时",
        "description": "3号楼电梯停运两天无人处理。", "severity": "general",
        "respondent_user_id": org["respondent"].id,
        "respondent_department_id": org["department_id"],
        "officer_id": org["officer"].id, "partner_id": org["partner"].id,
    }
    master = overrides.pop("master", None)
    data.update(overrides)
    with as_user(app, actor or org["front"]) as user:
        complaint = service.register_complaint(user, data, master=master)
        return complaint.id


def step(app, actor, complaint_id, action, comment=None, version=None, **payload):
    with as_user(app, actor) as user:
        if version is None:
            version = db.session.get(Complaint, complaint_id).version
        record = service.take(complaint_id, action, user, version, comment=comment, **payload)
        return record.status


def state(app, complaint_id):
    with app.app_context():
        return db.session.get(Complaint, complaint_id).status


def to_state(app, org, complaint_id, target):
    """Walk a general complaint along the happy path up to ``target``."""
    path = {
        S.REGISTERED: (org["officer"], "write_opinion", {"opinion": "建议向投诉人致歉并限期维修。"}),
        S.OPINION_WRITTEN: (org["partner"], "decide", {"decision": "同意专门负责人意见。",
                                                       "outcome": "upheld"}),
        S.DECIDED: (org["officer"], "implement", {"implementation": "已安排维修。"}),
        S.IMPLEMENTED: (org["officer"], "reply", {"mode": "written", "content": "书面回复已寄出。"}),
        S.REPLIED: (org["officer"], "close", {}),
        S.CLOSED: (org["admin_desk"], "archive", {}),
    }
    while state(app, complaint_id) != target:
        actor, action, payload = path[state(app, complaint_id)]
        step(app, actor, complaint_id, action, **payload)


# ---------------------------------------------------------------------------
# CMP-01 to CMP-04: registration
# ---------------------------------------------------------------------------

def test_cmp_01_kinds_and_channels_are_a_closed_set(app, org):
    feedback = register(app, org, kind="feedback", channel="online")
    with app.app_context():
        assert db.session.get(Complaint, feedback).kind == "feedback"
    with pytest.raises(InvalidInput) as refused:
        register(app, org, channel="carrier_pigeon")
    assert "channel" in refused.value.errors
    with pytest.raises(InvalidInput) as refused:
        register(app, org, kind="praise")
    assert "kind" in refused.value.errors


def test_cmp_02_channels_route_to_their_receivers_and_written_needs_register_number(app, org):
    # Phone: the front desk; the designated officer is told.
    complaint_id = register(app, org)
    with app.app_context():
        assert db.session.query(Notification).filter_by(user_id=org["officer"].id).count() == 1
    # A written complaint is received by the administration desk, with its register number.
    with pytest.raises(InvalidInput) as refused:
        register(app, org, actor=org["front"], channel="written", register_number="SW-2026-031")
    assert "channel" in refused.value.errors
    with pytest.raises(InvalidInput) as refused:
        register(app, org, actor=org["admin_desk"], channel="written")
    assert "register_number" in refused.value.errors
    written = register(app, org, actor=org["admin_desk"], channel="written",
                       register_number="SW-2026-031")
    # Referrals go straight to the designated officer.
    with pytest.raises(InvalidInput):
        register(app, org, actor=org["front"], channel="justice_referral")
    referral = register(app, org, actor=org["officer"], channel="justice_referral")
    with app.app_context():
        assert db.session.get(Complaint, written).register_number == "SW-2026-031"
        assert db.session.get(Complaint, referral).status == S.REGISTERED
        assert complaint_id


def test_cmp_02_roles_without_intake_cannot_register(app, org):
    with pytest.raises(PermissionRefused):
        register(app, org, actor=org["partner"])


def test_cmp_03_numbers_are_unique_gap_free_and_yearly(app, org):
    first = register(app, org)
    # A registration that fails after taking its number rolls the number back.
    with as_user(app, org["front"]) as user:
        complaint = service.apply_fields(Complaint(), {
            "kind": "complaint", "channel": "phone", "complainant_name": "张三",
            "complainant_phone": "1390000", "subject": "噪音", "description": "夜间施工噪音",
            "severity": "general"}, service.REGISTRATION_FIELDS)
        service.prepare_registration(complaint, user)
        taken = complaint.number
        db.session.rollback()
    second = register(app, org)
    with app.app_context():
        one, two = db.session.get(Complaint, first), db.session.get(Complaint, second)
        year = utcnow().year
        assert one.number.startswith(f"TS-{year}-") and len(one.number) == len(f"TS-{year}-00001")
        assert two.sequence == one.sequence + 1
        assert taken == two.number  # the rolled-back number was given again: no gap
        assert db.session.get(NumberSequence, ("TS", one.year)).last_number == two.sequence


def test_cmp_03_rolled_back_registration_leaves_no_gap_when_a_later_step_fails(app, org):
    first = register(app, org)
    # The duplicate link fails inside the same transaction: nothing, not even the number, stays.
    with pytest.raises(InvalidInput):
        register(app, org, master="TS-1999-00001")
    second = register(app, org)
    with app.app_context():
        numbers = [c.sequence for c in db.session.query(Complaint).order_by(Complaint.id)]
        assert numbers == [db.session.get(Complaint, first).sequence,
                           db.session.get(Complaint, first).sequence + 1]
        assert db.session.get(Complaint, second).sequence == numbers[-1]


def test_cmp_03_required_fields_and_anonymous(app, org):
    with pytest.raises(InvalidInput) as refused:
        register(app, org, subject="", complainant_name="", complainant_phone="")
    assert {"subject", "complainant_name", "complainant_phone"} <= set(refused.value.errors)
    anonymous = register(app, org, anonymous=True, complainant_name="不该保存",
                         complainant_phone="", severity="important")
    with app.app_context():
        complaint = db.session.get(Complaint, anonymous)
        assert complaint.anonymous and complaint.complainant_name is None
    with pytest.raises(InvalidInput) as refused:
        register(app, org, severity="catastrophic")
    assert "severity" in refused.value.errors


def test_cmp_04_attachments_keep_originals_and_paper_location(app, org):
    import io

    from werkzeug.datastructures import FileStorage

    from app.services.attachments import add_attachment, record_paper_original, replace_attachment

    complaint_id = register(app, org, paper_location="行政部档案柜3号")
    with as_user(app, org["front"]) as user:
        complaint = db.session.get(Complaint, complaint_id)
        first = add_attachment(complaint, FileStorage(io.BytesIO(b"letter v1"), "来信.txt"),
                               "original", user)
        replace_attachment(first.id, FileStorage(io.BytesIO(b"letter v2"), "来信.txt"), user)
        paper = record_paper_original(complaint, "original", "行政部档案柜3号第2层", user)
        assert paper.paper_location == "行政部档案柜3号第2层"
        from app.models.attachments import Attachment

        versions = db.session.query(Attachment).filter_by(owner_table="complaint",
                                                          owner_id=complaint_id).all()
        assert len(versions) == 3 and sum(1 for a in versions if a.original_filename) == 2
    with pytest.raises(InvalidInput):
        with as_user(app, org["front"]) as user:
            add_attachment(db.session.get(Complaint, complaint_id),
                           FileStorage(io.BytesIO(b"x"), "x.txt"), "made_up_kind", user)


# ---------------------------------------------------------------------------
# CMP-05 and CMP-12: recusal and confidentiality
# ---------------------------------------------------------------------------

def test_cmp_05_respondent_cannot_read_list_act_or_be_assigned(app, org):
    complaint_id = register(app, org)
    with as_user(app, org["respondent"]) as user:
        complaint = db.session.get(Complaint, complaint_id)
        assert not can_see(user, complaint)
        assert visible_query(db.session.query(Complaint), Complaint, user).count() == 0
        with pytest.raises(RecordNotVisible):
            service.get_complaint(complaint_id, user)
        # Only the number and status, on the "complaints about me" page.
        rows = service.complaints_concerning(user)
        registered = str(ComplaintStatus.label(ComplaintStatus.REGISTERED))
        assert [(row[0], str(row[1])) for row in rows] == [(complaint.number, registered)]
    # The respondent can never be the handler or the approver.
    with pytest.raises(InvalidInput) as refused:
        register(app, org, respondent_user_id=org["officer"].id)
    assert "officer_id" in refused.value.errors
    with pytest.raises(InvalidInput) as refused:
        register(app, org, respondent_user_id=org["partner"].id)
    assert "partner_id" in refused.value.errors
    # Default assignment skips the respondent.
    other = register(app, org, respondent_user_id=org["officer"].id, officer_id=None)
    with app.app_context():
        assert db.session.get(Complaint, other).officer_id == org["officer2"].id


def test_cmp_05_partner_respondent_cannot_decide_even_as_substitute(app, org):
    complaint_id = register(app, org, respondent_user_id=org["partner2"].id)
    step(app, org["officer"], complaint_id, "write_opinion", opinion="意见")
    with app.app_context():
        db.session.add(Absence(user_id=org["partner"].id, status=AbsenceStatus.APPROVED,
                               starts_at=utcnow() - datetime.timedelta(days=1),
                               ends_at=utcnow() + datetime.timedelta(days=1)))
        db.session.commit()
    with pytest.raises(RecordNotVisible):
        step(app, org["partner2"], complaint_id, "decide", decision="x", outcome="noted")
    assert state(app, complaint_id) == S.OPINION_WRITTEN


def test_cmp_05_admin_marks_conflicted_person(app, org):
    complaint_id = register(app, org)
    # The respondent's supervisor sees the case as head of the department...
    with as_user(app, org["supervisor"]) as user:
        assert can_see(user, db.session.get(Complaint, complaint_id))
    with as_user(app, org["front"]) as user:
        with pytest.raises(PermissionRefused):
            service.mark_conflicted(complaint_id, user, org["supervisor"].id)
    with as_user(app, org["admin"]) as admin:
        service.mark_conflicted(complaint_id, admin, org["supervisor"].id, reason="被投诉人主管")
        # The assigned officer cannot be marked before someone else is assigned.
        with pytest.raises(InvalidInput):
            service.mark_conflicted(complaint_id, admin, org["officer"].id)
    with as_user(app, org["supervisor"]) as user:
        assert not can_see(user, db.session.get(Complaint, complaint_id))
        assert visible_query(db.session.query(Complaint), Complaint, user).count() == 0
        assert [row[0] for row in service.complaints_concerning(user)]
    # A conflicted officer cannot be assigned.
    with as_user(app, org["admin"]) as admin:
        service.mark_conflicted(complaint_id, admin, org["officer2"].id)
    with as_user(app, org["officer"]) as user:
        with pytest.raises(InvalidInput) as refused:
            service.update_complaint(complaint_id, user, 1, {"officer_id": org["officer2"].id})
        assert "officer_id" in refused.value.errors
    with as_user(app, org["admin"]) as admin:
        service.lift_conflict(complaint_id, admin, org["supervisor"].id)
    with as_user(app, org["supervisor"]) as user:
        assert can_see(user, db.session.get(Complaint, complaint_id))


def test_cmp_12_only_involved_people_and_managers_see_a_complaint(app, org):
    complaint_id = register(app, org)
    with app.app_context():
        complaint = db.session.get(Complaint, complaint_id)
        for key in ("front", "officer", "officer2", "partner", "director", "gm", "service_sup",
                    "supervisor", "admin"):
            assert can_see(org[key].get(), complaint), key
        for key in ("front2", "admin_desk", "respondent"):
            assert not can_see(org[key].get(), complaint), key
        # The SQL filter and the per-record check agree.
        for key in ("front", "front2", "admin_desk", "officer", "respondent", "supervisor"):
            user = org[key].get()
            listed = visible_query(db.session.query(Complaint), Complaint, user).count()
            assert listed == (1 if can_see(user, complaint) else 0), key
    # The administration desk sees closed cases to archive them.
    to_state(app, org, complaint_id, S.CLOSED)
    with app.app_context():
        assert can_see(org["admin_desk"].get(), db.session.get(Complaint, complaint_id))


# ---------------------------------------------------------------------------
# CMP-06, CMP-07, CMP-10 and X-01: processing order
# ---------------------------------------------------------------------------

def test_cmp_06_no_decision_before_the_opinion_and_only_the_officer_writes_it(app, org):
    complaint_id = register(app, org)
    with pytest.raises(TransitionRefused):
        step(app, org["partner"], complaint_id, "decide", decision="x", outcome="upheld")
    with pytest.raises(TransitionRefused):
        step(app, org["front"], complaint_id, "write_opinion", opinion="x")
    with pytest.raises(InvalidInput):
        step(app, org["officer"], complaint_id, "write_opinion")
    assert step(app, org["officer"], complaint_id, "write_opinion", opinion="意见") == S.OPINION_WRITTEN
    with pytest.raises(TransitionRefused):  # second opinion on the same step
        step(app, org["officer"], complaint_id, "write_opinion", opinion="again")
    # Not the partner in charge, who is present: refused.
    with pytest.raises(TransitionRefused):
        step(app, org["partner2"], complaint_id, "decide", decision="x", outcome="upheld")
    with pytest.raises(TransitionRefused):
        step(app, org["director"], complaint_id, "decide", decision="x", outcome="upheld")
    with pytest.raises(InvalidInput) as refused:
        step(app, org["partner"], complaint_id, "decide", decision="同意")
    assert "outcome" in refused.value.errors
    assert step(app, org["partner"], complaint_id, "decide", decision="同意", outcome="upheld") == S.DECIDED
    with pytest.raises(TransitionRefused):
        step(app, org["partner"], complaint_id, "decide", decision="again", outcome="upheld")


def test_cmp_06_nobody_decides_on_their_own_opinion(app, org, make_user):
    both = make_user("ComplaintOfficer", "Partner", username="dual")
    complaint_id = register(app, org, officer_id=both.id, partner_id=both.id)
    step(app, both, complaint_id, "write_opinion", opinion="我的意见")
    with pytest.raises(TransitionRefused) as refused:
        step(app, both, complaint_id, "decide", decision="同意", outcome="upheld")
    assert "earlier step" in str(refused.value.message)


def test_cmp_06_absent_partner_director_or_other_partner_decides_acting_for(app, org):
    complaint_id = register(app, org)
    step(app, org["officer"], complaint_id, "write_opinion", opinion="意见")
    with app.app_context():
        db.session.add(Absence(user_id=org["partner"].id, status=AbsenceStatus.APPROVED,
                               starts_at=utcnow() - datetime.timedelta(days=1),
                               ends_at=utcnow() + datetime.timedelta(days=2), reason="出差"))
        db.session.commit()
    assert step(app, org["director"], complaint_id, "decide", decision="同意", outcome="partly_upheld") == S.DECIDED
    with app.app_context():
        decision = db.session.query(WorkflowTransition).filter_by(
            workflow="complaint", record_id=complaint_id, action="decide").one()
        assert decision.actor_id == org["director"].id
        assert decision.acting_for_id == org["partner"].id


def test_cmp_06_stale_version_is_refused(app, org):
    complaint_id = register(app, org)
    with pytest.raises(StaleVersion):
        step(app, org["officer"], complaint_id, "write_opinion", opinion="意见", version=7)
    assert state(app, complaint_id) == S.REGISTERED


def test_cmp_07_major_case_needs_meeting_before_decision(app, org):
    complaint_id = register(app, org, severity="major")
    step(app, org["officer"], complaint_id, "write_opinion", opinion="意见")
    with pytest.raises(TransitionRefused) as refused:
        step(app, org["partner"], complaint_id, "decide", decision="同意", outcome="upheld")
    assert "meeting" in str(refused.value.message)
    with pytest.raises(InvalidInput) as refused:
        step(app, org["director"], complaint_id, "record_meeting", meeting_kind="partners",
             attendees="刘洋、陈静", meeting_decision="成立", minutes="会议纪要", notify_regulator="y")
    assert {"regulator_name", "regulator_notification"} <= set(refused.value.errors)
    assert step(app, org["director"], complaint_id, "record_meeting", meeting_kind="office",
                attendees="刘洋、陈静、孙丽", meeting_decision="投诉成立，向司法局通报",
                minutes="会议纪要", notify_regulator="y", regulator_name="市司法局律师工作处",
                regulator_notification="书面通报处理情况") == S.MEETING_HELD
    assert step(app, org["partner"], complaint_id, "decide", decision="按会议决定执行",
                outcome="upheld") == S.DECIDED
    with app.app_context():
        meeting = db.session.query(ComplaintMeeting).filter_by(complaint_id=complaint_id).one()
        assert meeting.notify_regulator and meeting.regulator_name == "市司法局律师工作处"
        assert meeting.kind == "office"


def test_cmp_07_principle_issue_also_needs_meeting(app, org):
    complaint_id = register(app, org, principle_issue=True)
    step(app, org["officer"], complaint_id, "write_opinion", opinion="意见")
    with pytest.raises(TransitionRefused):
        step(app, org["partner"], complaint_id, "decide", decision="同意", outcome="upheld")


def test_cmp_08_findings_are_recorded_by_handlers(app, org):
    complaint_id = register(app, org)
    with as_user(app, org["officer"]) as user:
        finding = service.add_finding(complaint_id, user, "电梯确于6日停运", materials="维保记录",
                                      verified=True)
        assert finding.verified
        with pytest.raises(InvalidInput):
            service.add_finding(complaint_id, user, "")
    with as_user(app, org["front"]) as user:
        with pytest.raises(PermissionRefused):
            service.add_finding(complaint_id, user, "前台不做调查")


def test_cmp_09_no_commitment_before_the_decision(app, org):
    complaint_id = register(app, org)
    with as_user(app, org["officer"]) as user:
        contact = service.add_contact(complaint_id, user, "告知已受理，三日内联系", mode="phone")
        assert contact.staff_id == user.id and not contact.is_commitment
        with pytest.raises(PermissionRefused) as refused:
            service.add_contact(complaint_id, user, "承诺赔偿", is_commitment=True)
        assert "CMP-09" in str(refused.value.message)
        with pytest.raises(InvalidInput):
            service.add_contact(complaint_id, user, "")
    to_state(app, org, complaint_id, S.DECIDED)
    with as_user(app, org["officer"]) as user:
        assert service.add_contact(complaint_id, user, "承诺本周内修复", is_commitment="y").is_commitment


def test_cmp_10_decision_is_signed_then_officer_implements(app, org):
    complaint_id = register(app, org)
    to_state(app, org, complaint_id, S.DECIDED)
    with pytest.raises(TransitionRefused):
        step(app, org["partner"], complaint_id, "implement", implementation="x")
    with pytest.raises(TransitionRefused):  # replying before implementation is out of order
        step(app, org["officer"], complaint_id, "reply", content="x")
    assert step(app, org["officer"], complaint_id, "implement", implementation="已维修") == S.IMPLEMENTED
    with app.app_context():
        complaint = db.session.get(Complaint, complaint_id)
        assert complaint.decision and complaint.outcome == "upheld" and complaint.implementation


def test_cmp_11_reply_is_written_unless_a_reason_is_given(app, org):
    complaint_id = register(app, org)
    to_state(app, org, complaint_id, S.IMPLEMENTED)
    with pytest.raises(InvalidInput) as refused:
        step(app, org["officer"], complaint_id, "reply", mode="phone", content="电话告知")
    assert "reason" in refused.value.errors
    assert step(app, org["officer"], complaint_id, "reply", mode="phone", content="电话告知结果",
                reason="投诉人要求电话答复") == S.REPLIED
    written = register(app, org, actor=org["admin_desk"], channel="written",
                       register_number="SW-9")
    to_state(app, org, written, S.IMPLEMENTED)
    with pytest.raises(InvalidInput) as refused:
        step(app, org["officer"], written, "reply", mode="phone", content="x", reason="方便")
    assert "mode" in refused.value.errors
    assert step(app, org["officer"], written, "reply", content="书面回复函") == S.REPLIED
    with app.app_context():
        assert db.session.query(ComplaintReply).filter_by(complaint_id=written).one().mode == "written"


def test_cmp_13_archive_only_after_close_into_yearly_case_file_then_read_only(app, org):
    import io

    from werkzeug.datastructures import FileStorage

    from app.services.attachments import add_attachment

    complaint_id = register(app, org, actor=org["admin_desk"], channel="written",
                            register_number="SW-2026-007")
    to_state(app, org, complaint_id, S.REPLIED)
    with pytest.raises(TransitionRefused):
        step(app, org["admin_desk"], complaint_id, "archive")
    step(app, org["officer"], complaint_id, "close")
    with pytest.raises(TransitionRefused):
        step(app, org["officer"], complaint_id, "archive")
    assert step(app, org["admin_desk"], complaint_id, "archive") == S.ARCHIVED
    second = register(app, org)
    to_state(app, org, second, S.ARCHIVED)
    with app.app_context():
        first, other = db.session.get(Complaint, complaint_id), db.session.get(Complaint, second)
        year = first.case_file.year
        assert first.case_file_number == f"AZ-{year}-0001"
        assert other.case_file_number == f"AZ-{year}-0002"
    with as_user(app, org["officer"]) as user:
        with pytest.raises(PermissionRefused):
            service.update_complaint(complaint_id, user, 9, {"subject": "改"})
        with pytest.raises(PermissionRefused):
            service.add_contact(complaint_id, user, "补充")
        with pytest.raises(PermissionRefused):
            add_attachment(db.session.get(Complaint, complaint_id),
                           FileStorage(io.BytesIO(b"late"), "late.txt"), "other", user)


def test_cmp_14_dissatisfaction_reopens_and_tells_the_officer(app, org):
    complaint_id = register(app, org)
    to_state(app, org, complaint_id, S.IMPLEMENTED)
    with as_user(app, org["service_sup"]) as user:
        with pytest.raises(PermissionRefused):  # survey follows the reply
            service.record_survey(complaint_id, user, "complainant", "satisfied")
    to_state(app, org, complaint_id, S.CLOSED)
    # Reopening without a dissatisfied survey is refused.
    with pytest.raises(TransitionRefused):
        step(app, org["officer"], complaint_id, "reopen", comment="想重开")
    with as_user(app, org["service_sup"]) as user:
        service.record_survey(complaint_id, user, "respondent", "satisfied")
    assert state(app, complaint_id) == S.CLOSED
    with as_user(app, org["service_sup"]) as user:
        service.record_survey(complaint_id, user, "complainant", "dissatisfied", comment="维修质量差")
    assert state(app, complaint_id) == S.FOLLOW_UP
    with app.app_context():
        told = db.session.query(Notification).filter(
            Notification.user_id == org["officer"].id,
            Notification.dedupe_key.like(f"complaint:{complaint_id}:reopened:%")).count()
        assert told == 1
    assert step(app, org["officer"], complaint_id, "reply", content="再次维修后书面回复") == S.REPLIED
    assert step(app, org["officer"], complaint_id, "close") == S.CLOSED


def test_cmp_15_major_complaint_is_reported_at_once_to_managers(app, org):
    complaint_id = register(app, org, severity="major")
    with app.app_context():
        key = f"complaint:{complaint_id}:major"
        told = {n.user_id for n in db.session.query(Notification).filter_by(dedupe_key=key)}
    assert {org["gm"].id, org["director"].id, org["supervisor"].id} <= told
    assert org["respondent"].id not in told and org["front2"].id not in told
    general = register(app, org, severity="general")
    with app.app_context():
        assert not db.session.query(Notification).filter_by(
            dedupe_key=f"complaint:{general}:major").count()
        # CMP-16: a general complaint is relayed to the responsible department's head.
        relayed = db.session.query(Notification).filter_by(
            dedupe_key=f"complaint:{general}:relayed").all()
        assert [n.user_id for n in relayed] == [org["supervisor"].id]
    # Raised to major later: reported then.
    with as_user(app, org["officer"]) as user:
        service.update_complaint(general, user, 1, {"severity": "major"})
    with app.app_context():
        assert db.session.query(Notification).filter_by(
            dedupe_key=f"complaint:{general}:major", user_id=org["gm"].id).count() == 1


def test_cmp_16_escalation_sets_a_tracked_promised_reply_date(app, org):
    general = register(app, org)
    major = register(app, org, severity="major")
    promised = (utcnow() + datetime.timedelta(days=5)).date()
    with as_user(app, org["officer"]) as user:
        with pytest.raises(PermissionRefused):
            service.escalate(general, user, 1, "超出权限", promised.isoformat())
        with pytest.raises(InvalidInput) as refused:
            service.escalate(major, user, 1, "", "2001-01-01")
        assert {"reason", "promised_reply_date"} <= set(refused.value.errors)
        with pytest.raises(StaleVersion):
            service.escalate(major, user, 5, "超出部门权限", promised.isoformat())
        service.escalate(major, user, 1, "超出部门权限，移交部门主管", promised.isoformat(),
                         escalated_to_id=org["supervisor"].id)
    with app.app_context():
        complaint = db.session.get(Complaint, major)
        assert complaint.promised_reply_date == promised
        deadline = db.session.query(Deadline).filter_by(record_table="complaint",
                                                        record_id=major).one()
        assert deadline.status == DeadlineStatus.OPEN and deadline.assignee_id == org["officer"].id
        assert any("超出部门权限" in c.summary for c in complaint.contacts)
    with as_user(app, org["supervisor"]) as user:
        assert can_see(user, db.session.get(Complaint, major))
    # The reply closes the promised-reply deadline.
    step(app, org["officer"], major, "write_opinion", opinion="意见")
    step(app, org["partner"], major, "record_meeting", meeting_kind="partners", attendees="陈静",
         meeting_decision="成立", minutes="纪要")
    step(app, org["partner"], major, "decide", decision="同意", outcome="upheld")
    step(app, org["officer"], major, "implement", implementation="整改")
    step(app, org["officer"], major, "reply", content="书面回复")
    with app.app_context():
        deadline = db.session.query(Deadline).filter_by(record_table="complaint",
                                                        record_id=major).one()
        assert deadline.status == DeadlineStatus.MET


def test_cmp_17_duplicate_follows_master_is_counted_once_and_not_processed(app, org):
    master = register(app, org)
    with as_user(app, org["front"]) as user:
        found = service.possible_duplicates(user, phone="13912345678")
        assert [c.id for c in found] == [master]
        master_number = db.session.get(Complaint, master).number
    duplicate = register(app, org, master=master_number)
    assert state(app, duplicate) == S.MERGED
    later = register(app, org, complainant_phone="13700000000")
    with pytest.raises(InvalidInput):
        step(app, org["front"], later, "link_duplicate", master=str(later))
    assert step(app, org["officer"], later, "link_duplicate", master=str(master)) == S.MERGED
    # Cannot be processed separately.
    with pytest.raises(TransitionRefused):
        step(app, org["officer"], duplicate, "write_opinion", opinion="x")
    with as_user(app, org["officer"]) as user:
        with pytest.raises(PermissionRefused) as refused:
            service.add_contact(duplicate, user, "单独处理")
        assert master_number in str(refused.value.message)
    with as_user(app, org["gm"]) as user:
        summary = service.monthly_summary(user, utcnow().year, utcnow().month)
        assert summary["total"] == 1 and summary["duplicates"] == 2


def test_cmp_18_monthly_summary_by_channel_severity_department_outcome_time(app, org):
    first = register(app, org, severity="major")
    register(app, org, actor=org["admin_desk"], channel="written", register_number="SW-1",
             respondent_department_id=None, respondent_user_id=None)
    to_state(app, org, register(app, org), S.CLOSED)
    with as_user(app, org["gm"]) as user:
        now = utcnow()
        summary = service.monthly_summary(user, now.year, now.month)
        label = lambda choices, value: str(choices.label(value))  # noqa: E731
        assert summary["total"] == 3
        assert dict(summary["by_channel"])[label(ComplaintChannel, "phone")] == 2
        assert dict(summary["by_channel"])[label(ComplaintChannel, "written")] == 1
        assert dict(summary["by_channel"])[label(ComplaintChannel, "visit")] == 0
        assert dict(summary["by_severity"])[label(ComplaintSeverity, "major")] == 1
        assert sorted(dict(summary["by_department"]).values()) == [1, 2]
        assert dict(summary["by_department"])["物业管理部"] == 2
        assert dict(summary["by_outcome"])[label(ComplaintOutcome, "upheld")] == 1
        assert summary["closed"] == 1 and summary["average_days_to_close"] is not None
        rows = service.summary_rows(summary)
        assert any(row[2] == 3 for row in rows)
    # Confidentiality holds in the summary too.
    with as_user(app, org["respondent"]) as user:
        now = utcnow()
        assert service.monthly_summary(user, now.year, now.month)["total"] == 0
        assert first


def test_resolved_service_for_return_visits(app, org):
    calls = []
    listeners = list(service._RESOLVED_LISTENERS)
    service.on_resolved(lambda complaint, actor: calls.append(complaint.id))
    try:
        complaint_id = register(app, org, anonymous=True, complainant_name="", reply_letter_only=True)
        to_state(app, org, complaint_id, S.REPLIED)
        with as_user(app, org["officer"]) as user:
            # VIS-11: no visit follows, so the reply letter is attached before closing.
            import io

            from werkzeug.datastructures import FileStorage

            from app.services.attachments import add_attachment

            add_attachment(db.session.get(Complaint, complaint_id),
                           FileStorage(io.BytesIO(b"%PDF-1.4 reply"), "reply.pdf"), "reply_letter",
                           user)
            version = db.session.get(Complaint, complaint_id).version
            complaint = service.mark_resolved(complaint_id, user, version, comment="办结")
            assert service.is_resolved(complaint)
            assert complaint.anonymous and complaint.reply_letter_only
        assert calls == [complaint_id]
    finally:
        service._RESOLVED_LISTENERS[:] = listeners


def test_x_01_two_officers_at_once_exactly_one_wins(app, org):
    from sqlalchemy.orm.exc import StaleDataError

    from app.workflows.complaints import COMPLAINT_WORKFLOW

    complaint_id = register(app, org)
    first = app.app_context()
    second = app.app_context()
    first.push()
    record_a = db.session.get(Complaint, complaint_id)
    officer = org["officer"].get()
    second.push()
    record_b = db.session.get(Complaint, complaint_id)
    COMPLAINT_WORKFLOW.perform(record_b, "write_opinion", org["officer"].get(), 1, payload={"opinion": "B"})
    db.session.commit()
    second.pop()
    with pytest.raises(Exception) as lost:
        COMPLAINT_WORKFLOW.perform(record_a, "write_opinion", officer, 1, payload={"opinion": "A"})
        db.session.commit()
    db.session.rollback()
    first.pop()
    assert isinstance(lost.value, StaleDataError)
    with app.app_context():
        assert db.session.get(Complaint, complaint_id).opinion == "B"
        assert db.session.query(WorkflowTransition).filter_by(
            workflow="complaint", record_id=complaint_id).count() == 1


def test_cmp_03_concurrent_registrations_get_consecutive_numbers(app, org):
    """Several desks register at the same moment: every one succeeds, numbers stay gap-free."""
    import threading

    register(app, org)  # this year's counter exists
    errors, barrier = [], threading.Barrier(4)

    def worker(number):
        try:
            barrier.wait(timeout=30)
            register(app, org, subject=f"并发登记{number}")
        except Exception as error:  # noqa: BLE001  (collected and asserted below)
            errors.append(error)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    with app.app_context():
        sequences = sorted(c.sequence for c in db.session.query(Complaint))
        assert sequences == list(range(sequences[0], sequences[0] + 5))
        assert len({c.number for c in db.session.query(Complaint)}) == 5


def test_cmp_18_summary_command(app, org):
    register(app, org)
    result = app.test_cli_runner().invoke(args=["complaints", "summary", "--as", "zhangwei"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0] == "section,item,value"
    assert "物业管理部,1" in result.output
    missing = app.test_cli_runner().invoke(args=["complaints", "summary", "--as", "nobody"])
    assert missing.exit_code != 0
