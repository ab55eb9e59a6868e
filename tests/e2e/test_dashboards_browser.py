"""The general manager's morning: home page, search, every chart in both languages, a report.

Fails on any request to a host other than the app (see conftest): the chart
code is served from the app's own static files.
"""
import datetime

from app.audit.context import acting_as
from app.extensions import db
from app.models.complaints import Complaint
from app.timeutil import to_utc_naive
from tests.conftest import PASSWORD
from tests.e2e.conftest import screenshot
from tests.test_complaints_rules import org, register, step, to_state  # noqa: F401 (fixture)

CHARTS = ("complaints", "visits", "projects", "customers", "archives")


def _log_in(page, username):
    page.context.clear_cookies()
    page.goto(page.base_url + "/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("form:not([role=search]) button[type=submit], form:not([role=search]) input[type=submit]")
    page.wait_for_load_state("networkidle")


def _spread_over_months(app, org, complaint_ids):
    """Move the complaints back over the last months so the charts have a shape."""
    with app.app_context():
        now = datetime.datetime.now()
        with acting_as(org["admin"].get()):
            for index, complaint_id in enumerate(complaint_ids):
                complaint = db.session.get(Complaint, complaint_id)
                received = now - datetime.timedelta(days=31 * (index % 5) + 2)
                complaint.received_at = to_utc_naive(received)
                if complaint.closed_at is not None:
                    complaint.closed_at = complaint.received_at + datetime.timedelta(days=3 + index)
            db.session.commit()


def _projects(app, make_user, org):
    """Three applications; one's supply plan reviewed and waiting for the general manager."""
    from app.models.projects import PowerApplication
    from app.services import projects
    from app.services.workflow import take_step
    from app.workflows.projects import PLAN_WORKFLOW, PROJECT_WORKFLOW

    window = make_user("ServiceWindow", username="heping_d", display_name="何平")
    marketing = make_user("Marketing", username="lujun_d", display_name="陆军")
    with app.app_context():
        clerk = window.get()
        with acting_as(clerk):
            created = [projects.register_application(
                clerk, kind="new", customer_name=f"杭州明达{index}号有限公司",
                address="杭州市余杭区文一西路88号", voltage_level="10kV",
                requested_capacity=800, capacity_unit="kVA", load_class="3",
                load_nature="industrial", contact_phone=f"1390000111{index}")
                for index in range(3)]
            take_step(PROJECT_WORKFLOW, created[0].id, "forward", clerk, created[0].version)
            application_id = created[0].id
    for ref, action in ((marketing, "submit"), (org["supervisor"], "head_review")):
        with app.app_context():
            actor = ref.get()
            plan = db.session.get(PowerApplication, application_id).plan
            with acting_as(actor):
                take_step(PLAN_WORKFLOW, plan.id, action, actor, plan.version)


def test_general_manager_dashboards_in_both_languages(browser_page, app, org, make_user):
    page = browser_page
    _projects(app, make_user, org)
    ids = []
    for index, (channel, severity) in enumerate([
        ("phone", "general"), ("visit", "important"), ("online", "general"),
        ("email", "general"), ("phone", "important"), ("visit", "general"),
        ("phone", "major"), ("online", "general"),
    ]):
        ids.append(register(app, org, channel=channel, severity=severity,
                            complainant_name=f"客户{index}", complainant_phone=f"1391234560{index}",
                            subject=f"投诉事项{index}"))
    to_state(app, org, ids[0], "closed")
    to_state(app, org, ids[1], "closed")
    _spread_over_months(app, org, ids)
    step(app, org["officer"], ids[2], "write_opinion", opinion="建议致歉。")

    # The partner in charge finds the decision waiting on the home page.
    _log_in(page, org["partner"].username)
    assert page.locator("#home-pending .home-pending-item").count() >= 1
    screenshot(page, "dashboards-01-home-partner-zh")

    _log_in(page, org["gm"].username)
    # The general manager sees at once the supply plan that needs their signature.
    assert page.locator("#home-pending .home-pending-item[data-workflow=supply_plan]").count() == 1
    screenshot(page, "dashboards-02-home-gm-zh")
    page.fill("#navbar-search input[name=q]", "13912345603")
    page.press("#navbar-search input[name=q]", "Enter")
    page.wait_for_load_state("networkidle")
    assert page.locator(".search-hit").count() == 1
    screenshot(page, "dashboards-03-search-zh")

    for locale in ("zh", "en"):
        page.goto(page.base_url + f"/lang/{locale}")
        page.wait_for_load_state("networkidle")
        for key in CHARTS:
            page.goto(page.base_url + f"/dashboards/{key}/")
            page.wait_for_selector("#dashboard-chart[data-rendered='1'] canvas")
            assert page.locator("table.dashboard-table tbody tr").count() >= 1
            screenshot(page, f"dashboards-chart-{key}-{locale}")
        page.goto(page.base_url + "/monthlyreports/")
        assert page.locator("tr.monthly-report").count() == 3
        screenshot(page, f"dashboards-reports-{locale}")
    page.goto(page.base_url + "/monthlyreports/complaints/")
    screenshot(page, "dashboards-report-complaints-en")
    with page.expect_download() as download:
        page.click("a.export-csv")
    assert download.value.suggested_filename.endswith(".csv")
