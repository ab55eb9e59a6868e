"""The approval engine (X-01), exercised through the absence approval chain.

Refusals covered: wrong role, self-approval, out-of-order step, second
decision on the same step, stale version (sequential and racing), acting
for an absent approver only with a delegation or a substitute role.
"""
import datetime

import pytest
from sqlalchemy.orm.exc import StaleDataError

from app.extensions import db
from app.models.base import utcnow
from app.models.org import Absence, AbsenceStatus, Department, StaffProfile
from app.models.workflow import WorkflowTransition
from app.services.errors import InvalidInput, StaleVersion, TransitionRefused
from app.services.workflow import take_step
from app.workflows import all_workflows
from app.workflows.absences import ABSENCE_WORKFLOW
from tests.conftest import api_token, login

NOW = utcnow()


@pytest.fixture
def org(app, make_user):
    """A department headed by ``head``; ``clerk`` works there; ``gm`` heads the company."""
    gm = make_user("GeneralManager", username="gm")
    head = make_user("DepartmentSupervisor", username="head", supervisor=gm)
    with app.app_context():
        department = Department(code="PROP", name="物业管理部", head_id=head.id)
        db.session.add(department)
        db.session.commit()
        department_id = department.id
        db.session.query(StaffProfile).filter_by(user_id=head.id).one().department_id = department_id
        db.session.commit()
    with app.app_context():
        department = db.session.get(Department, department_id)
    clerk = make_user("PropertyAssistant", username="clerk", department=department, supervisor=head)
    partner = make_user("Partner", username="partner")
    stranger = make_user("FrontDesk", username="stranger")
    return {"gm": gm, "head": head, "clerk": clerk, "partner": partner, "stranger": stranger,
            "department_id": department_id}


def _absence(app, user, created_by=None, delegate=None, status=AbsenceStatus.REQUESTED, days=(1, 3)):
    with app.app_context():
        absence = Absence(
            user_id=user.id, delegate_id=delegate.id if delegate else None, status=status,
            starts_at=NOW + datetime.timedelta(days=days[0]),
            ends_at=NOW + datetime.timedelta(days=days[1]), reason="年假",
            created_by_id=(created_by or user).id,
        )
        db.session.add(absence)
        db.session.commit()
        return absence.id


def _take(app, actor, absence_id, action, version=None, comment="ok"):
    with app.app_context():
        if version is None:
            version = db.session.get(Absence, absence_id).version
        record = take_step(ABSENCE_WORKFLOW, absence_id, action, actor.get(), version, comment)
        return record.status, record.version


def _state(app, absence_id):
    with app.app_context():
        return db.session.get(Absence, absence_id).status


def test_x_01_department_head_approves_and_the_step_is_recorded(app, org):
    absence_id = _absence(app, org["clerk"])
    status, version = _take(app, org["head"], absence_id, "approve", comment="同意")
    assert status == AbsenceStatus.APPROVED
    assert version == 2
    with app.app_context():
        (step,) = db.session.query(WorkflowTransition).filter_by(record_id=absence_id).all()
        assert (step.action, step.from_state, step.to_state) == ("approve", "requested", "approved")
        assert step.actor_id == org["head"].id and step.acting_for_id is None
        assert step.comment == "同意"


def test_x_01_wrong_role_is_refused(app, org):
    absence_id = _absence(app, org["clerk"])
    with pytest.raises(TransitionRefused):
        _take(app, org["stranger"], absence_id, "approve")
    assert _state(app, absence_id) == AbsenceStatus.REQUESTED


def test_x_01_only_the_assigned_approver_decides(app, org):
    """A partner holds an approver role but is not the clerk's department head."""
    absence_id = _absence(app, org["clerk"])
    with pytest.raises(TransitionRefused) as refusal:
        _take(app, org["partner"], absence_id, "approve")
    assert "测试head" in str(refusal.value.message)  # names who must decide
    assert _state(app, absence_id) == AbsenceStatus.REQUESTED


def test_x_01_self_approval_is_refused(app, org):
    """The head recorded the request; approving it would be approving their own proposal."""
    absence_id = _absence(app, org["clerk"], created_by=org["head"])
    with pytest.raises(TransitionRefused) as refusal:
        _take(app, org["head"], absence_id, "approve")
    assert "own" in str(refusal.value.message)
    assert _state(app, absence_id) == AbsenceStatus.REQUESTED


def test_x_01_out_of_order_and_second_decision_are_refused(app, org):
    absence_id = _absence(app, org["clerk"])
    _take(app, org["head"], absence_id, "reject", comment="人手不足")
    with pytest.raises(TransitionRefused):
        _take(app, org["head"], absence_id, "approve")
    with pytest.raises(TransitionRefused):
        _take(app, org["head"], absence_id, "reject", comment="again")
    with app.app_context():
        assert db.session.query(WorkflowTransition).filter_by(record_id=absence_id).count() == 1


def test_x_01_reject_needs_a_comment(app, org):
    absence_id = _absence(app, org["clerk"])
    with pytest.raises(InvalidInput):
        _take(app, org["head"], absence_id, "reject", comment="  ")
    assert _state(app, absence_id) == AbsenceStatus.REQUESTED


def test_x_01_stale_version_is_refused(app, org):
    absence_id = _absence(app, org["clerk"])
    with pytest.raises(StaleVersion):
        _take(app, org["head"], absence_id, "approve", version=7)
    assert _state(app, absence_id) == AbsenceStatus.REQUESTED


def test_x_01_two_managers_at_once_exactly_one_wins(app, org):
    """Both load version 1; the second commit finds the row changed and is refused."""
    absence_id = _absence(app, org["clerk"], delegate=None)
    # The head is away and named the GM as delegate: both may now decide.
    _absence(app, org["head"], delegate=org["gm"], status=AbsenceStatus.APPROVED, days=(-1, 2))
    first = app.app_context()
    second = app.app_context()
    first.push()
    record_a = db.session.get(Absence, absence_id)
    head_user = org["head"].get()
    second.push()
    record_b = db.session.get(Absence, absence_id)
    gm_user = org["gm"].get()
    ABSENCE_WORKFLOW.perform(record_b, "approve", gm_user, 1, "gm")
    db.session.commit()
    second.pop()
    with pytest.raises(Exception) as lost:
        ABSENCE_WORKFLOW.perform(record_a, "approve", head_user, 1, "head")
        db.session.commit()
    db.session.rollback()
    first.pop()
    assert isinstance(lost.value, StaleDataError)
    with app.app_context():
        steps = db.session.query(WorkflowTransition).filter_by(record_id=absence_id).all()
        assert [step.actor_id for step in steps] == [org["gm"].id]


def test_x_01_delegate_acts_for_absent_approver(app, org):
    absence_id = _absence(app, org["clerk"])
    _absence(app, org["head"], delegate=org["partner"], status=AbsenceStatus.APPROVED, days=(-1, 2))
    status, _version = _take(app, org["partner"], absence_id, "approve")
    assert status == AbsenceStatus.APPROVED
    with app.app_context():
        step = db.session.query(WorkflowTransition).filter_by(record_id=absence_id).one()
        assert step.actor_id == org["partner"].id
        assert step.acting_for_id == org["head"].id


def test_x_01_substitute_role_acts_only_while_approver_is_absent(app, org):
    absence_id = _absence(app, org["clerk"])
    with pytest.raises(TransitionRefused):
        _take(app, org["gm"], absence_id, "approve")
    # An absence that has not been approved does not count.
    _absence(app, org["head"], status=AbsenceStatus.REQUESTED, days=(-1, 2))
    with pytest.raises(TransitionRefused):
        _take(app, org["gm"], absence_id, "approve")
    _absence(app, org["head"], status=AbsenceStatus.APPROVED, days=(-1, 2))
    status, _version = _take(app, org["gm"], absence_id, "approve")
    assert status == AbsenceStatus.APPROVED
    with app.app_context():
        step = db.session.query(WorkflowTransition).filter_by(record_id=absence_id).one()
        assert step.acting_for_id == org["head"].id


def test_x_01_requester_cancels_own_request_but_nobody_else_can(app, org):
    absence_id = _absence(app, org["clerk"])
    with pytest.raises(TransitionRefused):
        _take(app, org["head"], absence_id, "cancel")
    status, _version = _take(app, org["clerk"], absence_id, "cancel")
    assert status == AbsenceStatus.CANCELLED


def test_allowed_actions_follow_the_table(app, org):
    absence_id = _absence(app, org["clerk"])
    with app.app_context():
        record = db.session.get(Absence, absence_id)
        head = [t.name for t in ABSENCE_WORKFLOW.allowed_actions(record, org["head"].get())]
        clerk = [t.name for t in ABSENCE_WORKFLOW.allowed_actions(record, org["clerk"].get())]
        stranger = ABSENCE_WORKFLOW.allowed_actions(record, org["stranger"].get())
    assert head == ["approve", "reject"]
    assert clerk == ["cancel"]
    assert stranger == []


def test_mermaid_diagram_lists_every_transition(app):
    result = app.test_cli_runner().invoke(args=["workflows", "diagram", "absence"])
    assert result.exit_code == 0
    assert result.output.startswith("stateDiagram-v2")
    for transition in ABSENCE_WORKFLOW.transitions.values():
        assert f": {transition.name} (" in result.output
    assert "[not_self]" in result.output
    unknown = app.test_cli_runner().invoke(args=["workflows", "diagram", "nope"])
    assert unknown.exit_code != 0
    assert set(all_workflows()) >= {"absence"}


# ---------------------------------------------------------------------------
# REST doors
# ---------------------------------------------------------------------------

def _headers(client, user):
    return {"Authorization": f"Bearer {api_token(client, user)}"}


def test_x_01_api_lists_and_performs_actions(app, client, org):
    absence_id = _absence(app, org["clerk"])
    headers = _headers(client, org["head"])
    listed = client.get(f"/api/v1/absence/{absence_id}/actions", headers=headers)
    assert listed.status_code == 200
    body = listed.get_json()
    assert body["state"] == "requested" and body["version"] == 1
    assert [a["name"] for a in body["actions"]] == ["approve", "reject"]
    done = client.post(f"/api/v1/absence/{absence_id}/actions/approve", headers=headers,
                       json={"version": 1, "comment": "同意"})
    assert done.status_code == 200, done.get_data(as_text=True)
    assert done.get_json()["state"] == "approved"
    assert done.get_json()["version"] == 2


def test_x_01_api_answers_409_403_422_404(app, client, org):
    absence_id = _absence(app, org["clerk"])
    head = _headers(client, org["head"])
    stale = client.post(f"/api/v1/absence/{absence_id}/actions/approve", headers=head,
                        json={"version": 5})
    assert stale.status_code == 409
    missing = client.post(f"/api/v1/absence/{absence_id}/actions/approve", headers=head,
                          json={"comment": "no version"})
    assert missing.status_code == 422
    not_json = client.post(f"/api/v1/absence/{absence_id}/actions/approve", headers=head,
                           data="version=1", content_type="text/plain")
    assert not_json.status_code == 422
    refused = client.post(f"/api/v1/absence/{absence_id}/actions/approve",
                          headers=_headers(client, org["partner"]), json={"version": 1})
    assert refused.status_code == 403
    assert refused.get_json()["message"]
    nowhere = client.post("/api/v1/absence/999999/actions/approve", headers=head,
                          json={"version": 1})
    assert nowhere.status_code == 404
    no_token = client.post(f"/api/v1/absence/{absence_id}/actions/approve", json={"version": 1})
    assert no_token.status_code == 401
    assert _state(app, absence_id) == AbsenceStatus.REQUESTED


# ---------------------------------------------------------------------------
# Web doors
# ---------------------------------------------------------------------------

def test_x_01_show_page_offers_only_the_users_steps(app, client, org):
    absence_id = _absence(app, org["clerk"])
    login(client, org["head"])
    page = client.get(f"/absenceview/show/{absence_id}").get_data(as_text=True)
    assert f"/absenceview/transition/{absence_id}/approve" in page
    assert f"/absenceview/transition/{absence_id}/cancel" not in page
    client.get("/logout/")
    login(client, org["stranger"])
    page = client.get(f"/absenceview/show/{absence_id}").get_data(as_text=True)
    assert "/transition/" not in page


def test_x_01_web_step_and_refusal_are_flashed(app, client, org):
    absence_id = _absence(app, org["clerk"])
    login(client, org["head"])
    stale = client.post(f"/absenceview/transition/{absence_id}/approve",
                        data={"version": "9"}, follow_redirects=True)
    assert stale.status_code == 200
    assert _state(app, absence_id) == AbsenceStatus.REQUESTED
    done = client.post(f"/absenceview/transition/{absence_id}/approve",
                       data={"version": "1", "comment": "同意"}, follow_redirects=True)
    assert done.status_code == 200
    assert _state(app, absence_id) == AbsenceStatus.APPROVED
    page = done.get_data(as_text=True)
    assert "同意" in page  # the step's comment in the history of steps


def test_x_01_edit_form_refuses_a_stale_version_and_keeps_the_input(app, client, org):
    absence_id = _absence(app, org["clerk"])
    login(client, org["clerk"])
    form = client.get(f"/absenceview/edit/{absence_id}").get_data(as_text=True)
    assert 'name="expected_version"' in form and 'value="1"' in form
    # Someone else corrects the request in the meantime.
    with app.app_context():
        record = db.session.get(Absence, absence_id)
        record.reason = "病假"
        db.session.commit()
    start = (NOW + datetime.timedelta(days=2)).strftime("%Y-%m-%d %H:%M:%S")
    end = (NOW + datetime.timedelta(days=4)).strftime("%Y-%m-%d %H:%M:%S")
    response = client.post(f"/absenceview/edit/{absence_id}", data={
        "starts_at": start, "ends_at": end, "reason": "我的新理由", "expected_version": "1",
    }, follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "我的新理由" in page  # what the user typed is repeated, not lost
    with app.app_context():
        assert db.session.get(Absence, absence_id).reason == "病假"
    fresh = client.post(f"/absenceview/edit/{absence_id}", data={
        "starts_at": start, "ends_at": end, "reason": "我的新理由", "expected_version": "2",
    }, follow_redirects=True)
    assert fresh.status_code == 200
    with app.app_context():
        assert db.session.get(Absence, absence_id).reason == "我的新理由"


def test_decided_absence_cannot_be_edited(app, client, org):
    absence_id = _absence(app, org["clerk"], status=AbsenceStatus.APPROVED)
    login(client, org["clerk"])
    start = (NOW + datetime.timedelta(days=2)).strftime("%Y-%m-%d %H:%M:%S")
    end = (NOW + datetime.timedelta(days=9)).strftime("%Y-%m-%d %H:%M:%S")
    client.post(f"/absenceview/edit/{absence_id}", data={
        "starts_at": start, "ends_at": end, "reason": "延长", "expected_version": "1",
    }, follow_redirects=True)
    with app.app_context():
        assert db.session.get(Absence, absence_id).reason == "年假"


def test_a_new_request_opens_the_approval_deadline_and_tells_the_approver(app, client, org):
    from app.deadlines import deadlines_of
    from app.models.notifications import Notification

    login(client, org["clerk"])
    start = (NOW + datetime.timedelta(days=2)).strftime("%Y-%m-%d %H:%M:%S")
    end = (NOW + datetime.timedelta(days=3)).strftime("%Y-%m-%d %H:%M:%S")
    client.post("/absenceview/add", data={"user": str(org["clerk"].id), "starts_at": start,
                                          "ends_at": end, "reason": "探亲"})
    with app.app_context():
        absence = db.session.query(Absence).filter_by(reason="探亲").one()
        (deadline,) = deadlines_of("absence", absence.id)
        assert deadline.kind == "absence_approval"
        assert deadline.assignee_id == org["head"].id
        assert db.session.query(Notification).filter_by(user_id=org["head"].id).count() == 1
        absence_id, version = absence.id, absence.version
    _take(app, org["head"], absence_id, "approve", version=version)
    with app.app_context():
        (deadline,) = deadlines_of("absence", absence_id)
        assert deadline.status in ("met", "late")
