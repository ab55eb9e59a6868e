"""A residential lighting customer from application to power-on, each step by its role (ENG-01..15)."""
import datetime
import re

from tests.conftest import PASSWORD
from tests.e2e.conftest import screenshot


def _log_in(page, username):
    page.context.clear_cookies()
    page.goto(page.base_url + "/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("form:not([role=search]) button[type=submit], form:not([role=search]) input[type=submit]")
    page.wait_for_load_state("networkidle")


def _date(page, name, value):
    """Set a date field directly (the date-picker widget would pop up over the form)."""
    page.eval_on_selector(f"input[name={name}]", "(element, value) => { element.value = value; }",
                          value)


def _step(page, path, action, comment=None):
    """Click the workflow button for ``action`` on the record page at ``path``."""
    page.goto(page.base_url + path)
    form = page.locator(f"form.workflow-action[action$='/{action}']")
    assert form.count() == 1, f"no button for {action} on {path}"
    if comment:
        form.locator("input[name=comment]").fill(comment)
    form.locator("button[type=submit]").click()
    page.wait_for_load_state("networkidle")
    assert "alert-danger" not in page.content(), page.locator(".alert-danger").all_inner_texts()


def test_residential_customer_from_application_to_power_on(browser_page, make_user, app):
    page = browser_page
    for username, role, name in [
        ("heping", "ServiceWindow", "何平"), ("lujun", "Marketing", "陆军"),
        ("zhengtao", "DepartmentSupervisor", "郑涛"), ("zhangwei", "GeneralManager", "张伟"),
        ("gaofeng", "CityCompany", "高峰"), ("xuming", "SupplyStation", "徐明"),
        ("linbo", "Inspector", "林波"),
    ]:
        make_user(role, username=username, display_name=name)

    # 1. Service window registers the application (ENG-01) and passes it on.
    _log_in(page, "heping")
    page.goto(page.base_url + "/powerapplicationview/add")
    page.select_option("select[name=kind]", "new")
    page.fill("input[name=customer_name]", "张秀英")
    page.fill("input[name=contact_phone]", "13805710021")
    page.fill("input[name=address]", "杭州市西湖区文三路12号3幢2单元501室")
    page.select_option("select[name=voltage_level]", "0.22kV")
    page.fill("input[name=requested_capacity]", "8")
    page.select_option("select[name=capacity_unit]", "kW")
    page.select_option("select[name=load_nature]", "residential")
    page.check("input[name=residential_lighting]")
    screenshot(page, "projects-01-application-form")
    page.click("form:not([role=search]) button[type=submit], form:not([role=search]) input[type=submit]")
    page.wait_for_load_state("networkidle")
    page.goto(page.base_url + "/powerapplicationview/list/")
    screenshot(page, "projects-02-project-list")
    assert "张秀英" in page.content()
    from app.extensions import db
    from app.models.projects import PowerApplication

    with app.app_context():
        application = db.session.query(PowerApplication).one()
        pk, number = application.id, application.number
        assert application.review_route == "station"
    project = f"/powerapplicationview/show/{pk}"
    _step(page, project, "forward")
    screenshot(page, "projects-03-forwarded")

    # 2. Marketing submits the drafted supply plan; head reviews; GM signs; company sends.
    with app.app_context():
        plan_id = db.session.get(PowerApplication, pk).plan.id
        reply_unit = db.session.get(PowerApplication, pk).plan.reply_unit
    plan = f"/supplyplanview/show/{plan_id}"
    _log_in(page, "lujun")
    _step(page, plan, "submit")
    _log_in(page, "zhengtao")
    _step(page, plan, "head_review", "方案可行")
    _log_in(page, "zhangwei")
    _step(page, plan, "sign", "同意")
    _log_in(page, "gaofeng" if reply_unit == "company" else "lujun")
    _step(page, plan, "send")
    page.goto(page.base_url + f"/supplyplanview/print/{plan_id}")
    screenshot(page, "projects-04-supply-plan-notice")
    assert number in page.content()

    # 3. The supply station reviews the design (ENG-05: routed to it).
    with app.app_context():
        review_id = db.session.get(PowerApplication, pk).review.id
    _log_in(page, "xuming")
    _step(page, f"/designreviewview/show/{review_id}", "pass_review", "设计符合要求，同意施工")
    page.goto(page.base_url + f"/designreviewview/print/{review_id}")
    screenshot(page, "projects-05-design-review-opinion")

    # 4. Marketing records the firms the customer chose and the start report (ENG-07/08/10).
    with app.app_context():
        record_id = db.session.get(PowerApplication, pk).construction.id
    _log_in(page, "lujun")
    page.goto(page.base_url + f"/constructionrecordview/edit/{record_id}")
    today = datetime.date.today()
    page.fill("input[name=builder]", "杭州城西水电安装队")
    page.check("input[name=customer_chose_firms]")
    page.check("input[name=qualified_list_shown]")
    page.fill("input[name=qualification_cert_no]", "D233018765")
    _date(page, "qualification_valid_until", (today + datetime.timedelta(days=300)).isoformat())
    page.fill("input[name=business_licence_no]", "91330106MA27X1234K")
    _date(page, "licence_valid_until", (today + datetime.timedelta(days=300)).isoformat())
    _date(page, "start_date", today.isoformat())
    _date(page, "expected_completion", (today + datetime.timedelta(days=7)).isoformat())
    page.fill("textarea[name=schedule]", "第1-2天布线；第3-5天安装计量箱；第6-7天调试")
    screenshot(page, "projects-06-start-report")
    page.click("form:not([role=search]) button[type=submit], form:not([role=search]) input[type=submit]")
    page.wait_for_load_state("networkidle")
    assert not page.locator(".alert-danger").count(), page.locator(".alert-danger").all_inner_texts()
    with app.app_context():
        assert db.session.get(PowerApplication, pk).construction.start_reported_at is not None

    # 5. The window files the completion report; the inspector accepts (ENG-13).
    _log_in(page, "heping")
    _step(page, project, "request_acceptance")
    _log_in(page, "linbo")
    _step(page, project, "accept", "验收合格")

    # 6. Marketing: power-on is refused without a contract (ENG-14); contract, meter notice, power.
    _log_in(page, "lujun")
    page.goto(page.base_url + project)
    assert page.locator(".power-on-problem").count() == 2
    page.fill("#contract-form input[name=contract_no]", "GY-2026-0001")
    page.fill("#contract-form input[name=signed_on]", today.isoformat())
    page.click("#contract-form button[type=submit]")
    page.wait_for_load_state("networkidle")
    page.click("#meter-notice-form button[type=submit]")
    page.wait_for_load_state("networkidle")
    _step(page, project, "power_on")
    page.goto(page.base_url + project)
    screenshot(page, "projects-07-powered-on-timeline")
    with app.app_context():
        application = db.session.get(PowerApplication, pk)
        assert application.stage == "powered" and application.contract_no == "GY-2026-0001"
    timeline = page.locator("#project-timeline").inner_text()
    assert re.search(r"GY-2026-0001|张秀英", page.content())
    assert "project-deadline" in page.content() and timeline


def test_manager_dashboard_and_documents_with_demo_data(browser_page, make_user, app):
    """The general manager looks over the demo projects: dashboard, overdue list, a high-voltage
    review's document checklist and a triplicate inspection opinion."""
    page = browser_page
    from app.audit.context import acting_as
    from app.demo.projects import create_demo_data
    from app.extensions import db
    from app.models.projects import DesignReview, MidInspection
    from app.setup import _create_demo_organisation, _create_demo_users

    with app.app_context():
        sm = app.appbuilder.sm
        admin = sm.add_user("admin", "管理员", "系统", "admin@example.com", sm.find_role("Admin"),
                            password=PASSWORD)
        with acting_as(admin):
            _create_demo_users(sm)
            _create_demo_organisation(sm)
            create_demo_data(lambda line: None)
            viewer = sm.find_user(username="zhangwei")
            viewer.password = sm.find_user(username="admin").password  # the test password
            db.session.commit()
        review_id = db.session.query(DesignReview.id).filter(DesignReview.status == "submitted",
                                                             DesignReview.route == "city").first()[0]
        inspection_id = db.session.query(MidInspection.id).filter(
            MidInspection.status == "rectify").first()[0]
    _log_in(page, "zhangwei")
    page.goto(page.base_url + "/powerapplicationview/dashboard")
    screenshot(page, "projects-10-dashboard")
    assert page.locator(".project-stage-counts tr").count() == 9
    page.goto(page.base_url + "/overdueprojects/list/")
    screenshot(page, "projects-11-overdue")
    assert "王芳芳" in page.content()
    page.goto(page.base_url + f"/designreviewview/show/{review_id}")
    screenshot(page, "projects-12-design-documents")
    assert page.locator(".design-documents li").count() == 12
    page.goto(page.base_url + f"/midinspectionview/print/{inspection_id}")
    screenshot(page, "projects-13-inspection-opinion-triplicate")
    assert page.locator(".copy").count() == 3
