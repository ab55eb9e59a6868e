"""Races (X-01, X-02, CMP-03): many people acting on the same thing at the same instant.

Sixteen threads, each with its own app context, session and database
connection, wait at a barrier and then act together:

- sixteen deciders take the same approval step on the same version of a
  complaint: exactly one wins, the fifteen others are refused with a reason
  (stale version or wrong state), and the trail holds one decision;
- sixteen desks register complaints: sixteen distinct, consecutive numbers;
- in both, the audit hash chain stays one chain (no fork) and verifies.

These run on the PostgreSQL pass, the engine that serves several workers
on several machines at once; the SQLite pass skips them.
"""
import datetime
import threading
from collections import Counter

import pytest
from sqlalchemy import func, select

from app import create_app
from app.audit.chain import verify_chain
from app.audit.context import acting_as
from app.extensions import db
from app.models.audit import AuditLog
from app.models.base import utcnow
from app.models.complaints import Complaint, ComplaintStatus
from app.models.numbering import NumberSequence
from app.models.org import Absence, AbsenceStatus, Department
from app.models.workflow import WorkflowTransition
from app.services import complaints as service
from app.services.errors import StaleVersion, TransitionRefused
from tests.conftest import BASE_OVERRIDES, PASSWORD, _Ref, is_postgres

THREADS = 16

pytestmark = pytest.mark.skipif(
    not is_postgres(),
    reason="races run on the PostgreSQL pass (set TEST_DATABASE_URL)",
)


@pytest.fixture(scope="module")
def app(database_factory, tmp_path_factory):
    """One app and database for the module: each race measures from the state it found."""
    url = database_factory.new_url()
    folder = tmp_path_factory.mktemp("races")
    application = create_app({
        **BASE_OVERRIDES,
        "SQLALCHEMY_DATABASE_URI": url,
        "FAB_UPDATE_PERMS": False,
        "INSTANCE_PATH": str(folder / "instance"),
        "ATTACHMENT_FOLDER": str(folder / "attachments"),
        # One connection per thread: the default pool (5 + 10 overflow) would make
        # the sixteenth thread wait for a free connection instead of racing.
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": THREADS + 2, "max_overflow": 0},
    })
    yield application
    with application.app_context():
        db.session.remove()
        db.engine.dispose()
    database_factory.drop(url)


def race(app, setups, act):
    """Run ``act(prepared)`` in one thread per entry of ``setups``, all released at once.

    Each setup runs in its thread's own app context before the barrier (loading
    the user, reading the version), so the threads differ only in timing.
    Returns one ``("ok", value)`` or ``("error", exception)`` per thread.
    """
    barrier = threading.Barrier(len(setups))
    results = [None] * len(setups)

    def run(index, setup):
        try:
            with app.app_context():
                try:
                    prepared = setup()
                    barrier.wait(timeout=60)
                    with acting_as(prepared["user"]):
                        results[index] = ("ok", act(prepared))
                finally:
                    db.session.remove()
        except BaseException as error:  # reported to the test thread below
            results[index] = ("error", error)
            barrier.abort()

    threads = [threading.Thread(target=run, args=(index, setup), daemon=True)
               for index, setup in enumerate(setups)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a racing thread hung"
    return results


def chain_report():
    """(entries, verify result, distinct prev_hash count) of the whole trail."""
    with db.engine.connect() as connection:
        result = verify_chain(connection)
        total, links = connection.execute(
            select(func.count(AuditLog.id), func.count(func.distinct(AuditLog.prev_hash)))
        ).one()
    return total, result, links


def add_staff(app, *specs):
    """Users with one role each and a staff profile, in one transaction: ``(role, username)``.

    They share one password hash: hashing sixteen passwords costs more than the race.
    """
    from werkzeug.security import generate_password_hash

    from app.models.org import StaffProfile

    hashed = generate_password_hash(PASSWORD)
    sm = app.appbuilder.sm
    with app.app_context():
        users = []
        for role, username in specs:
            user = sm.add_user(username, username, "测", f"{username}@example.com",
                               [sm.find_role(role)], hashed_password=hashed, commit=False)
            assert user, username
            users.append(user)
        db.session.flush()
        db.session.add_all(StaffProfile(user_id=user.id, display_name=f"测试{user.username}")
                           for user in users)
        db.session.commit()
        return [_Ref(app, user.id, user.username) for user in users]


@pytest.fixture(scope="module")
def people(app):
    """A front desk, an officer, the case's partner (away) and sixteen deciders."""
    front, front2, officer, partner, *deciders = add_staff(
        app, ("FrontDesk", "front"), ("FrontDesk", "front2"), ("ComplaintOfficer", "officer"),
        ("Partner", "partner"),
        *((("Partner" if number % 2 else "Director"), f"decider{number}")
          for number in range(THREADS)))
    with app.app_context():
        department = Department(code="PROP", name="物业管理部")
        db.session.add(department)
        db.session.commit()
        department_id = department.id
    return dict(front=front, front2=front2, officer=officer, partner=partner,
                deciders=deciders, department_id=department_id)


def complaint_data(people, number=0):
    return {
        "kind": "complaint", "channel": "phone", "complainant_name": f"李先生{number}",
        "complainant_phone": f"1391234{number:04d}", "subject": f"电梯维修不及时 {number}",
        "description": "3号楼电梯停运两天无人处理。", "severity": "general",
        "respondent_department_id": people["department_id"],
        "officer_id": people["officer"].id, "partner_id": people["partner"].id,
    }


def test_x_01_sixteen_deciders_at_once_exactly_one_wins(app, people):
    """The partner is away: every partner and director may decide for them (CMP-06)."""
    with app.app_context():
        with acting_as(people["front"].get()) as front:
            complaint_id = service.register_complaint(front, complaint_data(people)).id
        with acting_as(people["officer"].get()) as officer:
            version = db.session.get(Complaint, complaint_id).version
            service.take(complaint_id, "write_opinion", officer, version,
                         opinion="建议向投诉人致歉并限期维修。")
        now = utcnow()
        db.session.add(Absence(
            user_id=people["partner"].id, status=AbsenceStatus.APPROVED, reason="出差",
            starts_at=now - datetime.timedelta(days=1), ends_at=now + datetime.timedelta(days=2),
            created_by_id=people["partner"].id))
        db.session.commit()
        version = db.session.get(Complaint, complaint_id).version
        entries_before = db.session.scalar(select(func.count(AuditLog.id)))

    def setup_for(decider):
        def setup():
            return {"user": decider.get(), "version": version}
        return setup

    def decide(prepared):
        record = service.take(complaint_id, "decide", prepared["user"], prepared["version"],
                              decision=f"同意，由{prepared['user'].username}签署。",
                              outcome="upheld")
        return prepared["user"].id, record.version

    results = race(app, [setup_for(decider) for decider in people["deciders"]], decide)

    winners = [value for kind, value in results if kind == "ok"]
    refusals = [value for kind, value in results if kind == "error"]
    unexpected = [error for error in refusals
                  if not isinstance(error, (StaleVersion, TransitionRefused))]
    assert not unexpected, f"refused with something else than a domain error: {unexpected!r}"
    assert len(winners) == 1, results
    assert len(refusals) == THREADS - 1
    assert all(str(error.message) for error in refusals)  # each loser is told why
    (winner_id, new_version), = winners
    assert new_version > version
    print(f"\napproval race: {THREADS} threads, 1 winner, "
          f"{Counter(type(error).__name__ for error in refusals)}")

    with app.app_context():
        complaint = db.session.get(Complaint, complaint_id)
        assert complaint.status == ComplaintStatus.DECIDED
        assert complaint.version == new_version
        assert "decider" in complaint.decision
        decisions = db.session.scalars(select(WorkflowTransition).filter_by(
            workflow="complaint", record_id=complaint_id, action="decide")).all()
        assert [(step.actor_id, step.acting_for_id) for step in decisions] == \
            [(winner_id, people["partner"].id)]
        # The trail: one decision row, one status change to "decided", nothing of the losers.
        new_entries = db.session.scalars(
            select(AuditLog).order_by(AuditLog.id)
            .offset(entries_before)).all()
        transition_entries = [entry for entry in new_entries
                              if entry.table_name == "workflow_transition"
                              and entry.action == "insert"]
        assert [entry.row_id for entry in transition_entries] == [str(decisions[0].id)]
        status_changes = [entry for entry in new_entries
                          if entry.table_name == "complaint" and entry.row_id == str(complaint_id)
                          and '"decided"' in (entry.changes or "")]
        assert len(status_changes) == 1
        assert {entry.actor_id for entry in new_entries} == {winner_id}
        total, verified, links = chain_report()
        assert verified.ok, verified.message
        assert verified.count == total == links  # one chain: no entry shares a predecessor


def test_cmp_03_sixteen_registrations_at_once_get_consecutive_numbers(app, people):
    desks = [people["front"], people["front2"]]
    with app.app_context():
        entries_before = db.session.scalar(select(func.count(AuditLog.id)))
        counter = db.session.scalars(select(NumberSequence)).one_or_none()
        taken_before = counter.last_number if counter is not None else 0
        complaints_before = set(db.session.scalars(select(Complaint.number)))

    def setup_for(number):
        def setup():
            return {"user": desks[number % len(desks)].get(), "number": number}
        return setup

    def register(prepared):
        complaint = service.register_complaint(prepared["user"],
                                               complaint_data(people, prepared["number"]))
        return complaint.id, complaint.sequence, complaint.number

    results = race(app, [setup_for(number) for number in range(THREADS)], register)

    errors = [value for kind, value in results if kind == "error"]
    assert not errors, errors
    registered = [value for _kind, value in results]
    sequences = sorted(sequence for _id, sequence, _number in registered)
    year = registered[0][2].split("-")[1]
    # Unique and gap-free, right after the numbers already taken.
    assert sequences == list(range(taken_before + 1, taken_before + THREADS + 1))
    assert sorted(number for _id, _sequence, number in registered) == \
        [f"TS-{year}-{sequence:05d}" for sequence in sequences]
    print(f"\nregistration race: {THREADS} threads, numbers "
          f"{sequences[0]}..{sequences[-1]}, no gap, no repeat")

    with app.app_context():
        stored = set(db.session.scalars(select(Complaint.number))) - complaints_before
        assert stored == {number for _id, _sequence, number in registered}
        counter = db.session.scalars(select(NumberSequence)).one()
        assert counter.last_number == taken_before + THREADS
        new_entries = db.session.scalars(
            select(AuditLog).order_by(AuditLog.id).offset(entries_before)).all()
        inserts = Counter(entry.row_id for entry in new_entries
                          if entry.table_name == "complaint" and entry.action == "insert")
        assert inserts == Counter({str(complaint_id): 1 for complaint_id, _s, _n in registered})
        # The counter's own trail shows the numbers taken one after another: 0→1, 1→2, ...
        steps = sorted(tuple(_json(entry.changes)["last_number"]) for entry in new_entries
                       if entry.table_name == "number_sequence" and entry.action == "update")
        assert steps == [(number - 1, number)
                         for number in range(taken_before + 1, taken_before + THREADS + 1)]
        # The year's counter row is created by the first registration of the year only.
        created = sum(1 for entry in new_entries
                      if entry.table_name == "number_sequence" and entry.action == "insert")
        per_registration = len(new_entries) - created
        total_before_one_more = len(new_entries) + entries_before

    # One more registration alone writes the same number of entries as each racing one.
    with app.app_context():
        with acting_as(people["front"].get()) as front:
            service.register_complaint(front, complaint_data(people, THREADS))
        total, verified, links = chain_report()
        assert verified.ok, verified.message
        assert verified.count == total == links
        assert (total - total_before_one_more) * THREADS == per_registration


def _json(text):
    import json

    return json.loads(text)

