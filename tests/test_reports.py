"""Charts, monthly reports, search and the home page's worklist: the service layer.

Figures are checked against hand-computed data; every figure is computed over
what its viewer may see, and linked duplicate complaints are counted once.
"""
import datetime

import pytest

from app.audit.context import acting_as
from app.extensions import db
from app.models.complaints import Complaint
from app.models.notifications import Notification
from app.services import reports
from app.services.search import search
from app.timeutil import to_utc_naive
from app.views.home import pending_steps
from tests.test_complaints_rules import org, register, step, to_state  # noqa: F401 (fixture)

MARCH = [(2026, 3)]


@pytest.fixture
def app_overrides():
    """Labels are asserted in English (the source language)."""
    return {"BABEL_DEFAULT_LOCALE": "en"}


def local(year, month, day, hour=10):
    return to_utc_naive(datetime.datetime(year, month, day, hour))


def set_times(app, org, complaint_id, received, closed=None):
    with app.app_context():
        complaint = db.session.get(Complaint, complaint_id)
        with acting_as(org["admin"].get()):
            complaint.received_at = received
            if closed is not None:
                complaint.closed_at = closed
            db.session.commit()


def chart_as(app, ref, function, months, **kwargs):
    with app.app_context():
        user = ref.get()
        with acting_as(user):
            return function(user, months, **kwargs)


@pytest.fixture
def march_complaints(app, org):
    """Two complaints in March 2026 plus a linked duplicate; one closed after exactly 4 days."""
    phone = register(app, org, channel="phone", severity="general")
    visit = register(app, org, channel="visit", severity="important",
                     complainant_phone="13600000000", subject="绿化带无人修剪")
    duplicate = register(app, org, channel="phone", master=phone)
    no_department = register(app, org, channel="online", respondent_department_id=None,
                             subject="网站无法登录", complainant_phone="13700000000")
    to_state(app, org, phone, "closed")
    set_times(app, org, phone, local(2026, 3, 10), local(2026, 3, 14))
    set_times(app, org, visit, local(2026, 3, 20))
    set_times(app, org, duplicate, local(2026, 3, 11))
    set_times(app, org, no_department, local(2026, 3, 25))
    with app.app_context():
        assert db.session.get(Complaint, duplicate).status == "merged"
    return dict(phone=phone, visit=visit, duplicate=duplicate, no_department=no_department)


def test_cmp_18_complaint_chart_counts_duplicates_once(app, org, march_complaints):
    chart = chart_as(app, org["gm"], reports.complaint_chart, MARCH)
    columns = [str(column) for column in chart.columns]
    row = dict(zip(columns, chart.rows[0]))
    assert row["Month"] == "2026-03"
    assert row["Received"] == 3  # the duplicate is not counted again
    assert row["Phone"] == 1 and row["Visit in person"] == 1 and row["Online"] == 1
    assert row["General"] == 2 and row["Important"] == 1 and row["Major"] == 0
    assert row["Closed"] == 1 and row["Average days to close"] == 4.0
    # The option draws the same numbers as the table.
    series = {item["name"]: item["data"] for item in chart.option["series"]}
    assert series["Phone"] == [1] and series["Average days to close"] == [4.0]


def test_cmp_18_complaint_chart_filters_by_department(app, org, march_complaints):
    chart = chart_as(app, org["gm"], reports.complaint_chart, MARCH,
                     department_id=org["department_id"])
    assert chart.rows[0][1] == 2


def test_cmp_18_reports_show_only_what_the_viewer_may_see(app, org, march_complaints):
    # The respondent (named in every complaint here) counts nothing; a desk that
    # registered them counts them; another desk counts nothing.
    assert chart_as(app, org["respondent"], reports.complaint_chart, MARCH).rows[0][1] == 0
    assert chart_as(app, org["front2"], reports.complaint_chart, MARCH).rows[0][1] == 0
    assert chart_as(app, org["front"], reports.complaint_chart, MARCH).rows[0][1] == 3
    with app.app_context():
        for ref, expected in ((org["gm"], 3), (org["respondent"], 0)):
            report = reports.complaint_report(ref.get(), 2026, 3)
            totals = dict(report.sections[0][2])
            assert list(totals.values())[0] == expected
            assert list(totals.values())[1] == (1 if expected else 0)


def test_cmp_18_monthly_report_flattens_to_csv_rows(app, org, march_complaints):
    with app.app_context():
        report = reports.build_report("complaints", org["gm"].get(), 2026, 3)
        rows = list(report.flat_rows())
    assert rows[0] == ["Total"]
    assert any(row[:2] == ["Average days to close", 4.0] for row in rows)


def test_vis_13_visit_chart_shows_rates_against_targets(app, org, monkeypatch):
    from app.services import visits

    calls = []

    def fake_rates(year, month, viewer=None, department_id=None):
        calls.append((year, month, viewer))
        return [{"trigger": "complaint", "trigger_label": "Complaint", "eligible": 4,
                 "visited": 2, "visited_in_time": 1, "rate": 0.25, "target": 0.5, "met": False,
                 "window_label": "3 days"}]

    monkeypatch.setattr(visits, "visit_rates", fake_rates, raising=False)
    chart = chart_as(app, org["gm"], reports.visit_chart, [(2026, 2), (2026, 3)])
    assert [call[:2] for call in calls] == [(2026, 2), (2026, 3)]
    assert calls[0][2] is not None  # the viewer is passed on: their visibility applies
    assert chart.rows[1] == ["2026-03", "Complaint", 4, 2, 1, 25.0, 50.0, "No"]
    series = {item["name"]: item["data"] for item in chart.option["series"]}
    assert series["Complaint"] == [25.0, 25.0]
    assert series["Target · Complaint"] == [50.0, 50.0]


def test_vis_13_visit_chart_filters_by_department(app, org, make_user):
    """Maintenance jobs count by their assistant's department: 2 in one, 1 in the other."""
    from app.models.org import Department
    from app.models.visits import ReturnVisit
    from app.services import visits

    with app.app_context():
        department = Department(code="ENG", name="工程部")
        db.session.add(department)
        db.session.commit()
        other_id = department.id
        department = db.session.get(Department, other_id)
    other_assistant = make_user("PropertyAssistant", username="yangfan", department=department)
    jobs = []
    with app.app_context():
        supervisor = org["service_sup"].get()
        with acting_as(supervisor):
            for assistant in (org["respondent"], org["respondent"], other_assistant):
                jobs.append(visits.create_maintenance_job(supervisor, {
                    "title": "更换水泵", "area": "一区", "assistant_id": assistant.id,
                    "completed_at": local(2026, 3, 5)}).id)
            db.session.commit()
    with app.app_context():
        visitor = org["respondent"].get()
        with acting_as(visitor):
            visit = db.session.query(ReturnVisit).filter_by(maintenance_job_id=jobs[0]).one()
            visits.record_visit(visit.id, visitor, visit.version, {
                "mode": "phone", "satisfaction": "satisfied", "summary": "满意。",
                "visited_at": "2026-03-10 10:00"})

    def maintenance_row(department_id):
        chart = chart_as(app, org["gm"], reports.visit_chart, MARCH,
                         department_id=department_id)
        return next(row[2:6] for row in chart.rows if row[1] == "Completed maintenance job")

    # Eligible, visited, visited in time, rate (%).
    assert maintenance_row(org["department_id"]) == [2, 1, 1, 50.0]
    assert maintenance_row(other_id) == [1, 0, 0, 0.0]
    assert maintenance_row(None) == [3, 1, 1, 33.3]
    chart = chart_as(app, org["gm"], reports.visit_chart, MARCH, department_id=other_id)
    assert not any("department" in str(note) for note in chart.notes)


def test_vis_13_visit_report_from_monthly_statistics(app, org, monkeypatch):
    from app.services import visits

    def fake_statistics(year, month, viewer=None):
        return {"rates": [{"trigger": "maintenance", "trigger_label": "Maintenance",
                           "eligible": 10, "visited": 3, "visited_in_time": 3, "rate": 0.3,
                           "target": 0.3, "met": True, "window_label": "1 month"}],
                "satisfaction": {"satisfied": 2, "dissatisfied": 1}, "visits_recorded": 3,
                "overdue": 1, "issues_total": 4, "issues_with_outcome": 3,
                "handling_rate": 0.75, "pending_review": 2}

    monkeypatch.setattr(visits, "monthly_statistics", fake_statistics, raising=False)
    with app.app_context():
        report = reports.visit_report(org["gm"].get(), 2026, 3)
    rates, satisfaction, totals = report.sections
    assert rates[2] == [["Maintenance", "1 month", 10, 3, 3, 30.0, 30.0, "Yes"]]
    assert sum(count for _label, count in satisfaction[2]) == 3
    assert dict((str(k), v) for k, v in totals[2])["Issue handling rate (%)"] == 75.0


def test_vis_13_real_visit_statistics_of_an_empty_month(app, org):
    """Against the return-visit service itself: an empty month has no visits and no rate."""
    with app.app_context():
        report = reports.visit_report(org["gm"].get(), 2026, 3)
    assert report.sections, report.notes
    totals = dict((str(k), v) for k, v in report.sections[2][2])
    assert totals["Visits recorded"] == 0


# ---------------------------------------------------------------------------
# Customers, archives, projects
# ---------------------------------------------------------------------------

@pytest.fixture
def sales(make_user):
    gm = make_user("GeneralManager", username="gm_s", display_name="张伟")
    head = make_user("SalesHead", username="head_s", supervisor=gm, display_name="黄燕")
    return {
        "gm": gm, "head": head,
        "majie": make_user("SalesManager", username="majie_s", supervisor=head, display_name="马杰"),
        "liqiang": make_user("SalesManager", username="liqiang_s", supervisor=head,
                             display_name="李强"),
        "custodian": make_user("ArchiveCustodian", username="custodian_s", display_name="杨慧"),
        "desk": make_user("FrontDesk", username="desk_s", display_name="王芳"),
    }


def this_month():
    from app.deadlines import local_today

    today = local_today()
    return [(today.year, today.month)]


def test_cus_11_customer_chart_counts_lines_conflicts_and_late_forms(ctx, sales):
    from tests.test_customers_rules import intended_line, make_form, today

    day = today()
    make_form(sales["majie"], day, lines=[intended_line("赵建国", "13891234567"),
                                          {"customer_name": "路人甲"}])
    # Same phone, registered later by another manager: one ownership conflict.
    make_form(sales["liqiang"], day, lines=[intended_line("赵先生", "138-9123-4567")])
    manager = sales["majie"].get()
    with acting_as(manager):
        from app.models.customers import DailyRegistration

        form = db.session.query(DailyRegistration).filter_by(manager_id=manager.id).one()
        form.late = True
        db.session.commit()
    keeper = reports.customer_chart(sales["custodian"].get(), this_month())
    assert keeper.rows[0][1:] == [3, 2, 1, 1]
    # A manager sees only their own form and lines, and the conflicts they are part of.
    own = reports.customer_chart(sales["majie"].get(), this_month())
    assert own.rows[0][1] == 2 and own.rows[0][4] == 1
    # Someone with no permission counts nothing (CUS-06).
    assert reports.customer_chart(sales["desk"].get(), this_month()).rows[0][1:] == [0, 0, 0, 0]


def test_cus_09_archive_chart_loans_out_and_overdue(ctx, sales):
    from app.models.customers import ArchiveLoan
    from app.services import customers as customer_service
    from app.services.workflow import take_step
    from app.workflows.customers import LOAN_WORKFLOW
    from tests.test_customers_rules import archive_of, intended_line, make_form, today

    make_form(sales["majie"], lines=[intended_line()])
    borrower = sales["liqiang"].get()
    with acting_as(borrower):
        loan = customer_service.apply_loan(borrower, [archive_of("赵建国")], "核对",
                                           today() + datetime.timedelta(days=5))
    for action, ref in (("review", "head"), ("approve", "gm"), ("issue", "custodian")):
        actor = sales[ref].get()
        db.session.refresh(loan)
        with acting_as(actor):
            take_step(LOAN_WORKFLOW, loan.id, action, actor, loan.version)
    chart = reports.archive_chart(sales["custodian"].get(), this_month())
    assert chart.rows[0][1:4] == [1, 1, 0]
    loan = db.session.get(ArchiveLoan, loan.id)
    with acting_as(sales["custodian"].get()):
        loan.due_on = today() - datetime.timedelta(days=1)
        db.session.commit()
    chart = reports.archive_chart(sales["custodian"].get(), this_month())
    assert chart.rows[0][1:4] == [1, 1, 1]
    # The front desk sees no loan.
    assert reports.archive_chart(sales["desk"].get(), this_month()).rows[0][1:4] == [0, 0, 0]


def test_cus_10_archive_chart_counts_archives_due_for_destruction(ctx, sales):
    from app.models.customers import ArchiveStatus
    from tests.test_customers_rules import archive_of, intended_line, make_form, today

    make_form(sales["majie"], lines=[intended_line("刘德明", "13309190001")])
    archive = archive_of("刘德明")
    with acting_as(sales["custodian"].get()):
        archive.status = ArchiveStatus.CLOSED
        archive.closed_on = today().replace(year=today().year - 11)
        db.session.commit()
    assert reports.archive_chart(sales["custodian"].get(), this_month()).rows[0][4] == 1
    assert reports.archive_chart(sales["liqiang"].get(), this_month()).rows[0][4] == 0


def test_cus_11_assessment_report_matches_the_assessment(ctx, sales):
    from app.services.customers import assessment_rows

    today = this_month()[0]
    period = reports.month_key(*today)
    report = reports.assessment_report(sales["gm"].get(), *today)
    expected = assessment_rows(period, sales["gm"].get())
    assert len(report.sections[0][2]) == len(expected) == 2
    assert [row[0] for row in report.sections[0][2]] == [row["manager_name"] for row in expected]
    # A sales manager's report has only their own row.
    own = reports.assessment_report(sales["majie"].get(), *today)
    assert [row[0] for row in own.sections[0][2]] == ["马杰"]


@pytest.fixture
def project_people(make_user):
    from types import SimpleNamespace

    return SimpleNamespace(
        window=make_user("ServiceWindow", username="heping_r", display_name="何平"),
        marketing=make_user("Marketing", username="lujun_r", display_name="陆军"),
        station=make_user("SupplyStation", username="xuming_r", display_name="徐明"),
        city=make_user("CityCompany", username="gaofeng_r", display_name="高峰"),
        head=make_user("DepartmentSupervisor", username="zhengtao_r", display_name="郑涛"),
        gm=make_user("GeneralManager", username="zhangwei_r", display_name="张伟"),
    )


def test_eng_17_project_chart_per_stage_and_time_in_stage(ctx, project_people):
    from app.models.projects import PowerApplication
    from app.models.workflow import WorkflowTransition
    from tests.test_projects_rules import register, step

    from app.workflows.projects import PROJECT_WORKFLOW

    people = project_people
    first = register(people)
    second = register(people, customer_name="张秀英", voltage_level="0.22kV",
                      requested_capacity=8, capacity_unit="kW", load_nature="residential",
                      residential_lighting=True)
    step(PROJECT_WORKFLOW, first, "forward", people.window)
    # Make the time in "received" exactly 2 days for the forwarded project.
    application = db.session.get(PowerApplication, first.id)
    transition = db.session.query(WorkflowTransition).filter_by(
        workflow="power_application", record_id=first.id, action="forward").one()
    with acting_as(people.gm.get()):
        application.received_at = transition.occurred_at - datetime.timedelta(days=2)
        db.session.commit()
    chart = reports.project_chart(people.gm.get(), this_month())
    rows = {row[0]: row for row in chart.rows}
    assert rows["Application received"][1] == 1 and rows["Supply plan"][1] == 1
    assert rows["Application received"][3] == 2.0
    # A supply-station clerk sees only projects routed to a supply station (the 8 kW one).
    station = reports.project_chart(people.station.get(), this_month())
    assert sum(row[1] for row in station.rows) == 1
    assert second.id


def test_eng_17_project_chart_counts_overdue_now(ctx, project_people):
    from app.models.deadlines import Deadline, DeadlineStatus
    from tests.test_projects_rules import register, step

    from app.workflows.projects import PROJECT_WORKFLOW

    application = register(project_people)
    step(PROJECT_WORKFLOW, application, "forward", project_people.window)
    deadline = db.session.query(Deadline).filter_by(
        record_table="power_application", record_id=application.id,
        status=DeadlineStatus.OPEN).first()
    assert deadline is not None
    later = deadline.due_at + datetime.timedelta(hours=1)
    chart = reports.project_chart(project_people.gm.get(), this_month(), now=later)
    assert {row[0]: row[2] for row in chart.rows}["Supply plan"] == 1


# ---------------------------------------------------------------------------
# Delivery to leadership
# ---------------------------------------------------------------------------

def test_cmp_18_monthly_reports_delivered_once_to_leadership(app, org, make_user):
    other_gm = make_user("GeneralManager", username="gm2")
    with app.app_context():
        first = reports.deliver_monthly_reports(2026, 3)
        second = reports.deliver_monthly_reports(2026, 3)
        assert len(first) == 3 * 3 and second == []  # 3 reports × (2 GMs + the director)
        notes = db.session.query(Notification).filter(
            Notification.dedupe_key.like("monthly-report:%")).all()
        assert {note.user_id for note in notes} == {org["gm"].id, other_gm.id,
                                                     org["director"].id}
        assert {note.link for note in notes} == {
            "/monthlyreports/complaints/?month=2026-03",
            "/monthlyreports/visits/?month=2026-03",
            "/monthlyreports/assessment/?month=2026-03"}


def test_cmp_18_report_recipients_are_a_setting(app, org):
    from app.services.settings import set_setting

    with app.app_context():
        set_setting("REPORT_RECIPIENT_ROLES", "Partner")
        reports.deliver_monthly_reports(2026, 4)
        users = {note.user_id for note in db.session.query(Notification).filter(
            Notification.dedupe_key.like("monthly-report:%"))}
    assert users == {org["partner"].id, org["partner2"].id}


def test_cmp_18_deadline_scan_delivers_from_the_first_working_day(app, org):
    with app.app_context():
        # 2026-11-01 is a Sunday: the first working day is Monday the 2nd.
        assert reports.first_working_day(2026, 11) == datetime.date(2026, 11, 2)
        assert reports.deliver_if_due(datetime.date(2026, 11, 1)) == []
        lines = reports.deliver_if_due(datetime.date(2026, 11, 2))
        assert lines and all("2026-10" in line for line in lines)
        assert reports.deliver_if_due(datetime.date(2026, 11, 3)) == []


def test_cmp_18_monthly_command_delivers_once(app, org):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["reports", "monthly", "--month", "2026-02"])
    assert result.exit_code == 0, result.output
    assert "6 report notification(s) sent for 2026-02" in result.output
    result = runner.invoke(args=["reports", "monthly", "--month", "2026-02"])
    assert "0 report notification(s)" in result.output
    result = runner.invoke(args=["reports", "monthly", "--month", "2026-13"])
    assert result.exit_code != 0


# ---------------------------------------------------------------------------
# Search
# ---------------------------------------------------------------------------

def _search(app, ref, text):
    with app.app_context():
        user = ref.get()
        with acting_as(user):
            return {group.key: [hit.title for hit in group.hits] for group in search(user, text)}


def test_search_finds_complaints_by_number_name_and_phone(app, org):
    complaint_id = register(app, org, complainant_name="李建华", complainant_phone="139-1234-5678")
    with app.app_context():
        number = db.session.get(Complaint, complaint_id).number
    for text in (number, "李建华", "13912345678", "1234-5678"):
        found = _search(app, org["gm"], text)
        assert any(title.startswith(number) for title in found.get("complaints", [])), text
    assert _search(app, org["gm"], "无此人") == {}
    assert _search(app, org["gm"], "李") == {}  # too short


def test_search_never_returns_invisible_complaints(app, org):
    register(app, org, complainant_name="李建华")
    assert _search(app, org["respondent"], "李建华") == {}  # the respondent (CMP-05)
    assert _search(app, org["front2"], "李建华") == {}  # a desk not involved (CMP-12)
    assert "complaints" in _search(app, org["front"], "李建华")


def test_search_confidential_archives_only_with_a_grant(ctx, sales):
    from app.services import customers as customer_service
    from tests.test_customers_rules import archive_of, intended_line, make_form, today

    make_form(sales["majie"], lines=[intended_line("赵建国", "13891234567")])
    archive_no = archive_of("赵建国").archive_no

    def found(ref, text):
        user = ref.get()
        with acting_as(user):
            return {group.key: [hit.title for hit in group.hits] for group in search(user, text)}

    assert set(found(sales["majie"], "赵建国")) == {"customers", "archives"}
    assert found(sales["custodian"], archive_no)["archives"][0].startswith(archive_no)
    assert found(sales["majie"], "138 9123 4567")["customers"] == ["赵建国"]
    assert found(sales["liqiang"], "赵建国") == {}
    assert found(sales["head"], "赵建国") == {}  # the sales head too needs a permission
    gm = sales["gm"].get()
    with acting_as(gm):
        customer_service.grant_access(gm, sales["liqiang"].get(),
                                      datetime.datetime.combine(today(), datetime.time())
                                      + datetime.timedelta(days=3),
                                      "核对", archive=archive_of("赵建国"))
    assert "archives" in found(sales["liqiang"], "赵建国")


def test_search_is_logged_for_confidential_records(ctx, sales):
    from app.models.audit import AuditLog
    from tests.test_customers_rules import intended_line, make_form

    make_form(sales["majie"], lines=[intended_line("赵建国", "13891234567")])
    user = sales["majie"].get()
    with acting_as(user):
        search(user, "赵建国")
    reads = db.session.query(AuditLog).filter(AuditLog.action == "read",
                                              AuditLog.table_name == "cus_customer").all()
    assert any("search" in (entry.changes or "") for entry in reads)


# ---------------------------------------------------------------------------
# Home page: what waits for me
# ---------------------------------------------------------------------------

def _pending(app, ref):
    with app.app_context():
        user = ref.get()
        with acting_as(user):
            return {panel["workflow"]: panel for panel in pending_steps(user)}


def test_home_lists_the_steps_waiting_for_each_person(app, org):
    complaint_id = register(app, org)
    officer = _pending(app, org["officer"])
    assert [item["record_id"] for item in officer["complaint"]["items"]] == [complaint_id]
    assert officer["complaint"]["items"][0]["link"].endswith(f"/{complaint_id}")
    assert "complaint" not in _pending(app, org["officer2"])  # assigned to the other officer
    assert "complaint" not in _pending(app, org["partner"])  # nothing to decide yet
    assert "complaint" not in _pending(app, org["respondent"])
    step(app, org["officer"], complaint_id, "write_opinion", opinion="建议致歉。")
    assert _pending(app, org["partner"])["complaint"]["count"] == 1
    assert "complaint" not in _pending(app, org["officer"])


def test_home_general_manager_sees_what_needs_their_signature(ctx, project_people):
    from app.workflows.projects import PLAN_WORKFLOW, PROJECT_WORKFLOW
    from tests.test_projects_rules import register, reload, step

    people = project_people
    application = register(people)
    step(PROJECT_WORKFLOW, application, "forward", people.window)
    plan = reload(application).plan
    step(PLAN_WORKFLOW, plan, "submit", people.marketing)
    gm = people.gm.get()
    assert "supply_plan" not in {panel["workflow"] for panel in pending_steps(gm)}
    step(PLAN_WORKFLOW, plan, "head_review", people.head)
    panels = {panel["workflow"]: panel for panel in pending_steps(gm)}
    assert panels["supply_plan"]["items"][0]["record_id"] == plan.id
    assert panels["supply_plan"]["items"][0]["actions"]


def test_home_panels_are_bounded(app, org):
    for _index in range(3):
        register(app, org)
    with app.app_context():
        user = org["officer"].get()
        panels = {panel["workflow"]: panel for panel in pending_steps(user, per_panel=2)}
    assert panels["complaint"]["count"] == 3 and len(panels["complaint"]["items"]) == 2


def test_home_meeting_waits_only_for_a_major_complaint(app, org):
    general = register(app, org)
    major = register(app, org, severity="major", subject="重大安全隐患")
    for complaint_id in (general, major):
        step(app, org["officer"], complaint_id, "write_opinion", opinion="建议致歉。")
    officer = _pending(app, org["officer"])
    assert [item["record_id"] for item in officer["complaint"]["items"]] == [major]
    partner = _pending(app, org["partner"])
    assert [item["record_id"] for item in partner["complaint"]["items"]] == [general, major]
