"""Time limits (ENG-17): the working-day calendar, due times, deadlines, reminders.

Due-time convention under test: the n-th working (or calendar) day after
the start's local date, at 23:59:59 local time; the start day never counts.
2026 official calendar (chinese_calendar 1.11.0): Spring Festival off
Feb 15–23 with make-up working days Sat Feb 14 and Sat Feb 28; National Day
off Oct 1–7 with make-up working days Sun Sep 20 and Sat Oct 10. 2027 is not
in the package: weekends only until an administrator enters it.
"""
import datetime
import threading
import time

import pytest
from sqlalchemy import text

from app import deadlines
from app.deadlines import (
    add_calendar_days, add_working_days, close_deadlines, due_and_overdue_for, is_workday,
    open_deadline, overdue, scan, seed_calendar,
)
from app.extensions import db
from app.models.base import utcnow
from app.models.deadlines import CalendarDay, CalendarSource, Deadline, DeadlineStatus
from app.models.notifications import Notification
from app.models.org import Absence, AbsenceStatus, Department, StaffProfile
from app.services.workflow import take_step
from app.timeutil import to_utc_naive
from app.workflows.absences import ABSENCE_WORKFLOW
from app.workflows.engine import DeadlineRule, State, Transition, Workflow
from tests.conftest import is_postgres

D = datetime.date


def local(year, month, day, hour=10, minute=0):
    """Naive UTC for a local (Asia/Shanghai) wall-clock time."""
    return to_utc_naive(datetime.datetime(year, month, day, hour, minute))


def end_of(year, month, day):
    """The due time the module promises: 23:59:59 local on that day, as naive UTC."""
    return to_utc_naive(datetime.datetime(year, month, day, 23, 59, 59))


@pytest.fixture
def seeded(ctx):
    seed_calendar(today=D(2026, 5, 1))
    return ctx


def _notifications(user_id=None, key=None):
    query = db.session.query(Notification)
    if user_id is not None:
        query = query.filter_by(user_id=user_id)
    if key is not None:
        query = query.filter_by(dedupe_key=key)
    return query.all()


# ---------------------------------------------------------------------------
# The calendar
# ---------------------------------------------------------------------------

def test_calendar_seed_loads_holidays_and_makeup_days_with_chinese_names(seeded):
    national_day = db.session.query(CalendarDay).filter_by(day=D(2026, 10, 1)).one()
    assert (national_day.is_workday, national_day.name, national_day.source) == (
        False, "国庆节", CalendarSource.LIBRARY)
    makeup = db.session.query(CalendarDay).filter_by(day=D(2026, 10, 10)).one()
    assert (makeup.is_workday, makeup.name) == (True, "国庆节调休上班")
    assert db.session.query(CalendarDay).filter_by(day=D(2026, 2, 17)).one().name == "春节"
    # Ordinary weekdays and weekends need no row.
    assert db.session.query(CalendarDay).filter_by(day=D(2026, 10, 12)).first() is None
    assert db.session.query(CalendarDay).filter_by(day=D(2026, 11, 28)).first() is None
    # Every year the package covers is loaded.
    assert db.session.query(CalendarDay).filter_by(day=D(2004, 10, 1)).one().is_workday is False


def test_calendar_is_workday_follows_the_plain_week_and_the_exceptions(seeded):
    assert is_workday(D(2026, 11, 27))          # Friday
    assert not is_workday(D(2026, 11, 28))      # Saturday
    assert not is_workday(D(2026, 10, 5))       # Monday of National Day
    assert is_workday(D(2026, 9, 20))           # Sunday, make-up working day
    assert is_workday(D(2026, 2, 14))           # Saturday, make-up working day
    assert not is_workday(D(2026, 2, 23))       # Monday, last day of Spring Festival
    # A datetime is read as UTC and judged on its local date: Friday 17:00 UTC is Saturday in Beijing.
    assert not is_workday(datetime.datetime(2026, 11, 27, 17, 0))


def test_calendar_seed_is_idempotent_and_never_overwrites_an_admins_day(seeded):
    count = db.session.query(CalendarDay).count()
    # An administrator declares National Day a working day here; a library row drifts.
    admin_row = db.session.query(CalendarDay).filter_by(day=D(2026, 10, 1)).one()
    admin_row.is_workday, admin_row.name, admin_row.source = True, "本单位值班", CalendarSource.ADMIN
    drifted = db.session.query(CalendarDay).filter_by(day=D(2026, 10, 2)).one()
    drifted.name = "wrong"
    db.session.commit()

    messages = seed_calendar(today=D(2026, 5, 1))

    assert db.session.query(CalendarDay).count() == count
    admin_row = db.session.query(CalendarDay).filter_by(day=D(2026, 10, 1)).one()
    assert (admin_row.is_workday, admin_row.name, admin_row.source) == (
        True, "本单位值班", CalendarSource.ADMIN)
    assert db.session.query(CalendarDay).filter_by(day=D(2026, 10, 2)).one().name == "国庆节"
    assert messages and "0" in messages[0]


# ---------------------------------------------------------------------------
# Due times
# ---------------------------------------------------------------------------

def test_eng_17_working_days_skip_the_2026_national_day_holiday(seeded):
    start = local(2026, 9, 30, 10)                              # Wednesday before the holiday
    assert add_working_days(start, 1) == end_of(2026, 10, 8)    # Oct 1–7 are off
    assert add_working_days(start, 2) == end_of(2026, 10, 9)
    assert add_working_days(start, 3) == end_of(2026, 10, 10)   # Saturday, make-up working day
    assert add_working_days(start, 4) == end_of(2026, 10, 12)   # Sunday Oct 11 is off
    # The make-up Sunday before the holiday counts too.
    assert add_working_days(local(2026, 9, 19), 1) == end_of(2026, 9, 20)
    # Started during the holiday: counting begins on the first working day after it.
    assert add_working_days(local(2026, 10, 3), 1) == end_of(2026, 10, 8)


def test_eng_17_working_days_skip_the_2026_spring_festival(seeded):
    start = local(2026, 2, 13, 9)                               # Friday
    assert add_working_days(start, 1) == end_of(2026, 2, 14)    # Saturday, make-up working day
    assert add_working_days(start, 2) == end_of(2026, 2, 24)    # Feb 15–23 are off
    assert add_working_days(local(2026, 2, 16), 1) == end_of(2026, 2, 24)
    assert add_working_days(local(2026, 2, 27), 1) == end_of(2026, 2, 28)   # make-up Saturday


def test_due_times_count_local_dates_not_utc_dates(seeded):
    # Thursday 23:00 in Beijing (15:00 UTC) and Friday 01:00 in Beijing (17:00 UTC the same UTC day).
    thursday_night = datetime.datetime(2026, 11, 26, 15, 0)
    friday_early = datetime.datetime(2026, 11, 26, 17, 0)
    assert add_working_days(thursday_night, 1) == end_of(2026, 11, 27)
    assert add_working_days(friday_early, 1) == end_of(2026, 11, 30)
    # The due time is the end of the local day whatever the start time.
    assert add_working_days(local(2026, 11, 26, 17, 50), 1) == end_of(2026, 11, 27)
    assert end_of(2026, 11, 27) == datetime.datetime(2026, 11, 27, 15, 59, 59)


def test_calendar_days_do_not_skip_holidays_and_zero_days_means_today(seeded):
    start = local(2026, 9, 30, 10)
    assert add_calendar_days(start, 3) == end_of(2026, 10, 3)
    assert add_calendar_days(start, 0) == end_of(2026, 9, 30)
    assert add_working_days(start, 0) == end_of(2026, 9, 30)
    assert add_working_days(local(2026, 10, 2), 0) == end_of(2026, 10, 8)
    with pytest.raises(ValueError):
        add_working_days(start, -1)


def test_fallback_year_2027_counts_weekends_only_until_an_admin_enters_holidays(seeded):
    assert db.session.query(CalendarDay).filter(CalendarDay.day >= D(2027, 1, 1)).count() == 0
    start = local(2026, 12, 31, 10)                              # Thursday
    assert add_working_days(start, 1) == end_of(2027, 1, 1)      # New Year's Day unknown: a Friday
    assert add_working_days(start, 2) == end_of(2027, 1, 4)      # the weekend is skipped
    db.session.add(CalendarDay(day=D(2027, 1, 1), is_workday=False, name="元旦",
                               source=CalendarSource.ADMIN))
    db.session.commit()
    assert add_working_days(start, 1) == end_of(2027, 1, 4)


def test_fallback_year_notifies_the_administrators_once(app, make_user):
    admin = make_user("Admin")
    clerk = make_user("FrontDesk")
    with app.app_context():
        messages = seed_calendar(today=D(2026, 11, 27))
        assert any("2027" in message for message in messages)
        seed_calendar(today=D(2026, 11, 27))
        scan(now=local(2026, 11, 27))
        notices = _notifications(admin.id)
        assert [notice.dedupe_key for notice in notices] == ["calendar:missing:2027"]
        assert "2027" in notices[0].subject
        assert notices[0].link == "/calendardayview/list/"
        assert _notifications(clerk.id) == []


def test_fallback_notice_not_sent_for_covered_years_or_once_an_admin_entered_the_year(app, make_user):
    admin = make_user("Admin")
    with app.app_context():
        seed_calendar(today=D(2025, 6, 1))                       # 2025 and 2026 are covered
        assert _notifications(admin.id) == []
        db.session.add(CalendarDay(day=D(2027, 2, 6), is_workday=False, name="春节",
                                   source=CalendarSource.ADMIN))
        db.session.commit()
        messages = seed_calendar(today=D(2026, 11, 27))
        assert _notifications(admin.id) == []
        assert any("2027" in message for message in messages)


# ---------------------------------------------------------------------------
# Opening and closing
# ---------------------------------------------------------------------------

def test_open_deadline_computes_the_due_time_and_leaves_the_commit_to_the_caller(app, make_user):
    clerk = make_user("FrontDesk")
    with app.app_context():
        seed_calendar(today=D(2026, 5, 1))
        deadline = open_deadline("absence", 7, "requested", "absence_approval",
                                 local(2026, 9, 30), 1, assignee=clerk.get())
        db.session.flush()
        assert deadline.due_at == end_of(2026, 10, 8)
        assert (deadline.status, deadline.assignee_id, deadline.days, deadline.working_days) == (
            DeadlineStatus.OPEN, clerk.id, 1, True)
        calendar = open_deadline("absence", 7, "approved", "visit", local(2026, 9, 30), 3,
                                 working_days=False, assignee_role="ServiceSupervisor",
                                 label="回访张先生")
        assert calendar.due_at == end_of(2026, 10, 3)
        assert deadlines.deadline_label(calendar) == "回访张先生"
        # A workflow's translatable label is not frozen into the row.
        rule = ABSENCE_WORKFLOW.states[AbsenceStatus.REQUESTED].deadline
        assert deadline.label is None
        translated = open_deadline("absence", 8, "requested", rule.kind, local(2026, 9, 30), 1,
                                   label=rule.label)
        assert translated.label is None and deadlines.deadline_label(translated) == rule.label
        # Opening the same deadline again adds nothing.
        assert open_deadline("absence", 7, "requested", "absence_approval",
                             local(2026, 9, 30), 1, assignee=clerk.id) is deadline
        db.session.rollback()
    with app.app_context():
        assert db.session.query(Deadline).count() == 0


def test_close_deadlines_marks_met_on_time_and_late_after_due(ctx):
    on_time = open_deadline("absence", 1, "requested", "absence_approval", local(2026, 11, 23), 1)
    late = open_deadline("absence", 2, "requested", "absence_approval", local(2026, 11, 23), 1)
    other_state = open_deadline("absence", 2, "approved", "follow_up", local(2026, 11, 23), 1)
    db.session.commit()
    due = on_time.due_at

    closed = close_deadlines("absence", 1, "requested", due - datetime.timedelta(minutes=1))
    assert [d.id for d in closed] == [on_time.id]
    closed = close_deadlines("absence", 2, "requested", due + datetime.timedelta(seconds=1))
    assert [d.id for d in closed] == [late.id]
    db.session.commit()

    assert (on_time.status, on_time.was_late) == (DeadlineStatus.MET, False)
    assert (late.status, late.was_late) == (DeadlineStatus.LATE, True)
    assert late.closed_at == due + datetime.timedelta(seconds=1)
    assert other_state.status == DeadlineStatus.OPEN
    # Closing again changes nothing: the late closing stays on record.
    assert close_deadlines("absence", 2, "requested", due + datetime.timedelta(days=5)) == []
    assert deadlines.deadline_query(status=DeadlineStatus.LATE).all() == [late]


def test_cancel_deadlines_keeps_the_fact_that_it_had_passed(ctx):
    deadline = open_deadline("absence", 3, "requested", "absence_approval", local(2026, 11, 23), 1)
    db.session.commit()
    deadlines.cancel_deadlines("absence", 3, at=deadline.due_at + datetime.timedelta(days=1))
    db.session.commit()
    assert deadline.status == DeadlineStatus.CANCELLED
    assert deadline.was_late


def test_eng_17_due_and_overdue_lists_per_user_by_assignee_and_role(app, make_user):
    me = make_user("FrontDesk", "AdminDesk")
    colleague = make_user("FrontDesk")
    someone = make_user("Inspector")
    now = local(2026, 11, 27, 12)
    with app.app_context():
        mine = open_deadline("absence", 1, "requested", "k", local(2026, 11, 20), 1, assignee=me.id)
        my_role = open_deadline("absence", 2, "requested", "k", local(2026, 11, 26), 1,
                                assignee_role="AdminDesk")
        named = open_deadline("absence", 3, "requested", "k", local(2026, 11, 26), 1,
                              assignee=colleague.id, assignee_role="FrontDesk")
        not_mine = open_deadline("absence", 4, "requested", "k", local(2026, 11, 20), 1,
                                 assignee=someone.id)
        closed = open_deadline("absence", 5, "requested", "k", local(2026, 11, 20), 1,
                               assignee=me.id)
        db.session.commit()
        close_deadlines("absence", 5, "requested", now)
        db.session.commit()
        user = me.get()

        assert due_and_overdue_for(user, now=now) == [mine, my_role]   # soonest due first
        assert due_and_overdue_for(user, now=now, within=datetime.timedelta(hours=1)) == [mine]
        assert overdue(now=now, user=user) == [mine]
        assert overdue(now=now) == [mine, not_mine]
        # A named assignee wins over the role.
        assert named not in due_and_overdue_for(user, now=now)
        assert due_and_overdue_for(colleague.get(), now=now) == [named]
        assert closed not in due_and_overdue_for(user, now=now)


# ---------------------------------------------------------------------------
# The workflow engine opens and closes deadlines
# ---------------------------------------------------------------------------

@pytest.fixture
def department(app, make_user):
    head = make_user("DepartmentSupervisor", username="head")
    with app.app_context():
        unit = Department(code="PROP", name="物业管理部", head_id=head.id)
        db.session.add(unit)
        db.session.commit()
        db.session.query(StaffProfile).filter_by(user_id=head.id).one().department_id = unit.id
        db.session.commit()
        unit = db.session.get(Department, unit.id)
    clerk = make_user("PropertyAssistant", username="clerk", department=unit, supervisor=head)
    return head, clerk


def _absence(app, clerk):
    with app.app_context():
        absence = Absence(user_id=clerk.id, status=AbsenceStatus.REQUESTED, reason="年假",
                          starts_at=utcnow() + datetime.timedelta(days=2),
                          ends_at=utcnow() + datetime.timedelta(days=3), created_by_id=clerk.id)
        db.session.add(absence)
        db.session.commit()
        return absence.id


def test_absence_approval_deadline_is_one_working_day_and_approval_closes_it(app, department):
    head, clerk = department
    rule = ABSENCE_WORKFLOW.states[AbsenceStatus.REQUESTED].deadline
    assert (rule.kind, rule.days, rule.working_days) == ("absence_approval", 1, True)
    absence_id = _absence(app, clerk)
    with app.app_context():
        # What request_absence does not do yet (see the report): open the rule's deadline.
        absence = db.session.get(Absence, absence_id)
        opened = open_deadline("absence", absence_id, AbsenceStatus.REQUESTED, rule.kind,
                               utcnow(), rule.days, assignee=rule.assignee(absence))
        db.session.commit()
        assert opened.assignee_id == head.id
        assert deadlines.kind_label("absence_approval") == rule.label
        take_step(ABSENCE_WORKFLOW, absence_id, "approve", head.get(), absence.version, "同意")
    with app.app_context():
        (deadline,) = deadlines.deadlines_of("absence", absence_id)
        assert deadline.status == DeadlineStatus.MET
        assert deadline.closed_at is not None


def test_workflow_engine_opens_the_deadline_of_the_state_entered(app, department):
    head, clerk = department
    workflow = Workflow(
        name="absence_followup", model=Absence, label="test",
        states=[
            State(AbsenceStatus.REQUESTED, "requested"),
            State(AbsenceStatus.APPROVED, "approved",
                  deadline=DeadlineRule("followup", "follow up", 3, working_days=False,
                                        assignee_role="DepartmentSupervisor")),
            State(AbsenceStatus.CANCELLED, "cancelled", final=True),
        ],
        transitions=[
            Transition("approve", "approve", (AbsenceStatus.REQUESTED,), AbsenceStatus.APPROVED,
                       ("DepartmentSupervisor",)),
            Transition("cancel", "cancel", (AbsenceStatus.APPROVED,), AbsenceStatus.CANCELLED,
                       ("DepartmentSupervisor",)),
        ],
    )
    absence_id = _absence(app, clerk)
    with app.app_context():
        absence = take_step(workflow, absence_id, "approve", head.get(), 1)
        (deadline,) = deadlines.deadlines_of("absence", absence_id)
        assert (deadline.state, deadline.kind, deadline.status) == (
            AbsenceStatus.APPROVED, "followup", DeadlineStatus.OPEN)
        assert deadline.assignee_role == "DepartmentSupervisor" and deadline.assignee_id is None
        assert deadline.due_at == add_calendar_days(deadline.opened_at, 3)
        take_step(workflow, absence_id, "cancel", head.get(), absence.version)
        db.session.refresh(deadline)
        assert deadline.status == DeadlineStatus.MET


# ---------------------------------------------------------------------------
# Reminders and overdue notices
# ---------------------------------------------------------------------------

@pytest.fixture
def due_set(app, make_user):
    """Around now: due in 2 h (alice), 1 h overdue (bob), due in 5 days (alice), a role's in 3 h.

    Deadline ``name`` belongs to record ``absence #records[name]``.
    """
    alice = make_user("FrontDesk", username="alice")
    bob = make_user("FrontDesk", username="bob")
    supervisor = make_user("ServiceSupervisor", username="supervisor")
    now = utcnow().replace(microsecond=0)
    ids, records = {}, {}
    with app.app_context():
        for number, (name, assignee, role, due) in enumerate([
            ("soon", alice.id, None, now + datetime.timedelta(hours=2)),
            ("late", bob.id, None, now - datetime.timedelta(hours=1)),
            ("far", alice.id, None, now + datetime.timedelta(days=5)),
            ("role", None, "ServiceSupervisor", now + datetime.timedelta(hours=3)),
        ], start=1):
            deadline = Deadline(record_table="absence", record_id=number, state="requested",
                                kind="absence_approval", days=1, due_at=due, assignee_id=assignee,
                                assignee_role=role, opened_at=now - datetime.timedelta(days=1))
            db.session.add(deadline)
            db.session.flush()
            ids[name], records[name] = deadline.id, number
        db.session.commit()
    return {"now": now, "ids": ids, "records": records, "alice": alice, "bob": bob,
            "supervisor": supervisor}


def test_eng_17_scan_sends_one_reminder_and_one_overdue_notice(app, due_set):
    ids, now = due_set["ids"], due_set["now"]
    with app.app_context():
        lines = scan(now=now)
        assert len(lines) == 3
        keys = sorted(n.dedupe_key for n in _notifications())
        assert keys == sorted([f"deadline:{ids['soon']}:reminder", f"deadline:{ids['late']}:overdue",
                               f"deadline:{ids['role']}:reminder"])
        (reminder,) = _notifications(due_set["alice"].id)
        assert reminder.dedupe_key == f"deadline:{ids['soon']}:reminder"
        assert reminder.link == f"/absenceview/show/{due_set['records']['soon']}"
        (notice,) = _notifications(due_set["bob"].id)
        assert notice.dedupe_key == f"deadline:{ids['late']}:overdue"
        assert len(_notifications(due_set["supervisor"].id)) == 1
        soon = db.session.get(Deadline, ids["soon"])
        assert soon.reminded_at == now and soon.overdue_notified_at is None
        assert db.session.get(Deadline, ids["far"]).reminded_at is None


def test_eng_17_scan_twice_sends_nothing_new(app, due_set):
    now = due_set["now"]
    with app.app_context():
        assert scan(now=now)
        count = db.session.query(Notification).count()
        assert scan(now=now) == []
        assert scan(now=now + datetime.timedelta(minutes=5)) == []
        assert db.session.query(Notification).count() == count
        # Once the reminded deadline passes, its overdue notice goes out, once.
        later = now + datetime.timedelta(hours=2, minutes=1)
        lines = scan(now=later)
        assert any(f"deadline={due_set['ids']['soon']}" in line for line in lines)
        assert scan(now=later) == []
        assert db.session.query(Notification).count() == count + len(lines)


def test_eng_17_closed_deadline_gets_no_reminder(app, due_set):
    with app.app_context():
        close_deadlines("absence", due_set["records"]["soon"], "requested", due_set["now"])
        db.session.commit()
        scan(now=due_set["now"])
        assert _notifications(due_set["alice"].id) == []


def test_eng_17_scan_interleaved_in_two_sessions_sends_no_duplicates(app, due_set):
    now, soon = due_set["now"], due_set["ids"]["soon"]
    with app.app_context():
        first = deadlines._scan_candidates(deadlines.REMINDER, now)
        db.session.commit()
        with app.app_context():                       # a second worker, its own session
            second = deadlines._scan_candidates(deadlines.REMINDER, now)
            db.session.commit()
        assert soon in first and soon in second
        assert deadlines.send_deadline_notice(soon, deadlines.REMINDER, now)
        with app.app_context():
            assert deadlines.send_deadline_notice(soon, deadlines.REMINDER, now) is None
    with app.app_context():
        assert len(_notifications(key=f"deadline:{soon}:reminder")) == 1


def test_eng_17_scan_by_two_workers_at_once_sends_each_notice_once(app, due_set):
    now = due_set["now"]
    barrier = threading.Barrier(2)
    results, errors = [], []

    def worker():
        try:
            with app.app_context():
                barrier.wait(timeout=10)
                results.append(scan(now=now))
                db.session.remove()
        except Exception as error:  # noqa: BLE001  (reported by the assertion below)
            errors.append(error)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    assert sum(len(lines) for lines in results) == 3
    with app.app_context():
        keys = [n.dedupe_key for n in _notifications()]
        assert len(keys) == len(set(keys)) == 3


@pytest.mark.skipif(not is_postgres(), reason="row locks: PostgreSQL only")
def test_eng_17_scan_skips_a_deadline_another_worker_holds(app, due_set):
    now, soon = due_set["now"], due_set["ids"]["soon"]
    with app.app_context():
        db.session.query(Deadline).filter_by(id=soon).with_for_update().one()   # worker A holds it
        with app.app_context():
            # Waiting for A would be the bug; make a wait fail in seconds instead of hanging.
            db.session.execute(text("SET lock_timeout = '5s'"))
            started = time.monotonic()
            assert deadlines.send_deadline_notice(soon, deadlines.REMINDER, now) is None
            assert time.monotonic() - started < 3
            assert _notifications(key=f"deadline:{soon}:reminder") == []
        db.session.rollback()


def test_unassigned_deadline_is_reported_to_the_administrators(app, make_user):
    admin = make_user("Admin")
    with app.app_context():
        now = local(2026, 11, 27, 12)
        db.session.add(Deadline(record_table="absence", record_id=9, state="requested",
                                kind="absence_approval", days=1, opened_at=now,
                                due_at=now - datetime.timedelta(hours=1)))
        db.session.commit()
        scan(now=now)
        assert [n.dedupe_key.split(":")[-1] for n in _notifications(admin.id)
                if n.dedupe_key.startswith("deadline:")] == ["overdue"]


def test_cli_deadlines_scan_prints_what_was_sent(app, due_set):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["deadlines", "scan"])
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert any(f"deadline={due_set['ids']['soon']}" in line and "alice" in line for line in lines)
    assert any(f"deadline={due_set['ids']['late']}" in line and "bob" in line for line in lines)
    assert lines[-1] == "3 deadline notice(s) sent."
    again = runner.invoke(args=["deadlines", "scan"])
    assert again.output.strip().splitlines() == ["0 deadline notice(s) sent."]


def test_cli_seed_calendar_and_overdue(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["deadlines", "seed-calendar"])
    assert result.exit_code == 0 and "chinese_calendar" in result.output
    result = runner.invoke(args=["deadlines", "overdue"])
    assert result.exit_code == 0 and "0 overdue." in result.output


# ---------------------------------------------------------------------------
# Screens
# ---------------------------------------------------------------------------

def test_eng_17_my_deadlines_shows_only_mine_with_status_switch(app, client, login_as, due_set):
    ids, records = due_set["ids"], due_set["records"]

    def link(name):
        return f'href="/absenceview/show/{records[name]}"'

    login_as(due_set["alice"])
    page = client.get("/deadlineview/list/").get_data(as_text=True)
    assert link("soon") in page and link("far") in page
    assert link("late") not in page                              # bob's
    assert client.get(f"/deadlineview/show/{ids['late']}").status_code == 404
    assert client.get(f"/deadlineview/show/{ids['soon']}").status_code == 200
    assert link("soon") not in client.get("/deadlineview/list/?show=overdue").get_data(as_text=True)
    assert client.get("/deadlineview/add").status_code == 404
    client.get("/logout/")

    login_as(due_set["bob"])
    assert link("late") in client.get("/deadlineview/list/?show=overdue").get_data(as_text=True)
    with app.app_context():
        close_deadlines("absence", records["late"], "requested", utcnow())
        db.session.commit()
    assert link("late") not in client.get("/deadlineview/list/").get_data(as_text=True)
    assert link("late") in client.get("/deadlineview/list/?show=late").get_data(as_text=True)
    # A closed deadline still opens from a link.
    assert client.get(f"/deadlineview/show/{ids['late']}").status_code == 200


def test_calendar_admin_screen_is_for_administrators_and_marks_rows_as_admin(
        app, client, login_as, make_user):
    admin = make_user("Admin")
    clerk = make_user("FrontDesk")
    with app.app_context():
        seed_calendar(today=D(2025, 6, 1))
        row_id = db.session.query(CalendarDay.id).filter_by(day=D(2026, 10, 7)).scalar()
    login_as(clerk)
    assert client.get("/calendardayview/list/").status_code == 403
    client.get("/logout/")
    login_as(admin)
    assert client.get("/calendardayview/list/").status_code == 200
    response = client.post("/calendardayview/add", data={
        "day": "2027-01-01", "is_workday": "", "name": "元旦", "note": "国务院办公厅通知"})
    assert response.status_code == 302
    response = client.post(f"/calendardayview/edit/{row_id}", data={
        "day": "2026-10-07", "is_workday": "", "name": "国庆节（本单位延长）", "note": ""})
    assert response.status_code == 302
    with app.app_context():
        added = db.session.query(CalendarDay).filter_by(day=D(2027, 1, 1)).one()
        assert (added.is_workday, added.source) == (False, CalendarSource.ADMIN)
        edited = db.session.get(CalendarDay, row_id)
        assert (edited.is_workday, edited.source) == (False, CalendarSource.ADMIN)
        seed_calendar(today=D(2025, 6, 1))
        assert db.session.get(CalendarDay, row_id).name == "国庆节（本单位延长）"
