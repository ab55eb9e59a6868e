"""Customer archives in the browser (Chinese interface): a loan from application to return,
and a destruction from review to its record, each step by the role that owns it."""
import datetime

from playwright.sync_api import expect

from app.extensions import db
from tests.conftest import PASSWORD
from tests.e2e.conftest import screenshot
from tests.test_customers_rules import (  # noqa: F401  (fixture)
    archive_of, closed_archive, intended_line, make_form, people, today,
)


def _log_in(page, username):
    page.goto(page.base_url + "/logout/")
    page.goto(page.base_url + "/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("form:not([role=search]) button[type=submit], form:not([role=search]) input[type=submit]")
    page.wait_for_load_state("networkidle")


def _choose(page, field, typed, label):
    """Pick a row in a search-as-you-type field: type, wait for the hit, click it."""
    page.click(f"select#{field} + .select2 .select2-selection")
    page.fill(".select2-container--open .select2-search__field", typed)
    hit = page.locator(".select2-results__option", has_text=label)
    expect(hit).to_have_count(1)
    hit.click()


def test_loan_from_application_to_return(browser_page, app, people):
    page = browser_page
    with app.app_context():
        make_form(people["majie"], lines=[intended_line()])
        archive = archive_of("赵建国")
        archive_id, archive_no = archive.id, archive.archive_no

    # 1. The borrower (another sales manager) applies.
    _log_in(page, "liqiang")
    page.goto(page.base_url + "/archiveloanview/add")
    _choose(page, "files", archive_no[-4:], archive_no)
    page.fill("textarea#purpose, input#purpose", "核对客户冲撞登记时间")
    # The date picker widget reformats typed text on blur; set the value as a pick would.
    page.evaluate("([id, value]) => { document.getElementById(id).value = value; }",
                  ["expected_return", (today() + datetime.timedelta(days=5)).isoformat()])
    screenshot(page, "customers-01-loan-application")
    page.click("form:not([role=search]) button[type=submit], form:not([role=search]) input[type=submit]")
    page.wait_for_load_state("networkidle")
    screenshot(page, "customers-01b-after-apply")
    from app.models.customers import ArchiveLoan

    with app.app_context():
        loan = db.session.query(ArchiveLoan).one()
        loan_id = loan.id
    page.goto(page.base_url + f"/archiveloanview/show/{loan_id}")
    assert "申请" in page.content() or "Applied" in page.content()
    # The borrower may not review their own application: no button for it.
    assert page.locator("form.workflow-action button[value=review]").count() == 0
    screenshot(page, "customers-02-loan-applied")

    # 2. The sales head reviews.
    _log_in(page, "head")
    page.goto(page.base_url + f"/archiveloanview/show/{loan_id}")
    page.locator("form.workflow-action button[value=review]").click()
    page.wait_for_load_state("networkidle")
    screenshot(page, "customers-03-loan-reviewed")

    # 3. The general manager approves.
    _log_in(page, "gm")
    page.goto(page.base_url + f"/archiveloanview/show/{loan_id}")
    page.locator("form.workflow-action button[value=approve]").click()
    page.wait_for_load_state("networkidle")
    screenshot(page, "customers-04-loan-approved")

    # 4. The custodian issues it (lending register entry) ...
    _log_in(page, "custodian")
    page.goto(page.base_url + f"/archiveloanview/show/{loan_id}")
    page.locator("form.workflow-action button[value=issue]").click()
    page.wait_for_load_state("networkidle")
    with app.app_context():
        register_no = db.session.get(ArchiveLoan, loan_id).register_no
    assert register_no and register_no in page.content()
    screenshot(page, "customers-05-loan-issued")

    # ... the borrower can read the archive while it is lent ...
    _log_in(page, "liqiang")
    page.goto(page.base_url + f"/archivefileview/show/{archive_id}")
    assert archive_no in page.content()
    screenshot(page, "customers-06-borrower-reads-archive")

    # 5. ... and records its return.
    _log_in(page, "custodian")
    page.goto(page.base_url + f"/archiveloanview/show/{loan_id}")
    page.locator("form.workflow-action button[value=return]").click()
    page.wait_for_load_state("networkidle")
    screenshot(page, "customers-07-loan-returned")
    with app.app_context():
        assert db.session.get(ArchiveLoan, loan_id).status == "returned"
    page.goto(page.base_url + "/archiveloanview/register")
    assert "借阅登记簿" in page.content() and register_no in page.content()
    screenshot(page, "customers-08-lending-register-print")

    # After the return the borrower no longer sees the archive.
    _log_in(page, "liqiang")
    response = page.goto(page.base_url + f"/archivefileview/show/{archive_id}")
    assert response.status == 404


def test_destruction_review_approval_and_record(browser_page, app, people):
    page = browser_page
    with app.app_context():
        archive = closed_archive(people, 11)
        archive_id, archive_no = archive.id, archive.archive_no
    _log_in(page, "custodian")
    page.goto(page.base_url + "/archives-due-for-destruction/list/")
    screenshot(page, "customers-10-due-for-destruction")
    page.goto(page.base_url + "/archivedestructionview/add")
    _choose(page, "archive", archive_no[-4:], archive_no)
    page.fill("textarea#reason, input#reason", "保管期满10年，申请销毁")
    page.click("form:not([role=search]) button[type=submit], form:not([role=search]) input[type=submit]")
    page.wait_for_load_state("networkidle")
    from app.models.customers import ArchiveDestruction

    with app.app_context():
        item_id = db.session.query(ArchiveDestruction).one().id
    for username, action in (("head", "review"), ("gm", "approve")):
        _log_in(page, username)
        page.goto(page.base_url + f"/archivedestructionview/show/{item_id}")
        page.locator(f"form.workflow-action button[value={action}]").click()
        page.wait_for_load_state("networkidle")
    screenshot(page, "customers-11-destruction-approved")
    _log_in(page, "custodian")
    page.goto(page.base_url + f"/archivedestructionview/show/{item_id}")
    form = page.locator(".destruction-execute form")
    form.locator("input[name=method]").fill("碎纸机粉碎")
    form.locator("input[name=executor]").fill("杨慧")
    form.locator("input[name=witness]").fill("唐宁")
    form.locator("input[name=destroyed_on]").fill(today().isoformat())
    form.locator("button").click()
    page.wait_for_load_state("networkidle")
    screenshot(page, "customers-12-destroyed")
    page.goto(page.base_url + f"/archivedestructionview/print/{item_id}")
    assert "销毁记录" in page.content() and "唐宁" in page.content()
    screenshot(page, "customers-13-destruction-record-print")
    with app.app_context():
        assert db.session.get(ArchiveDestruction, item_id).status == "destroyed"


def test_registration_form_filled_submitted_and_printed(browser_page, app, people):
    page = browser_page
    _log_in(page, "majie")
    page.goto(page.base_url + "/dailyregistrationview/add")
    page.evaluate("([id, value]) => { document.getElementById(id).value = value; }",
                  ["form_date", today().isoformat()])
    page.fill("textarea#note, input#note", "当日来电来访登记")
    page.click("form:not([role=search]) button[type=submit], form:not([role=search]) input[type=submit]")
    page.wait_for_load_state("networkidle")
    from app.models.customers import DailyRegistration

    with app.app_context():
        form_id = db.session.query(DailyRegistration).one().id
    page.goto(page.base_url + f"/dailyregistrationview/show/{form_id}")
    page.click("a[href*='registrationentryview/add']")
    page.wait_for_load_state("networkidle")
    page.select_option("select#channel", "visit")
    page.fill("input#customer_name", "周海燕")
    page.fill("input#phone", "18691827364")
    page.select_option("select#intention", "buy")
    page.check("input#has_intermediary")
    page.fill("input#intermediary", "我爱我家曲江店 陈女士")
    page.fill("textarea#requirement, input#requirement", "改善型住房，看140平米四室")
    screenshot(page, "customers-20-registration-line")
    page.click("form:not([role=search]) button[type=submit], form:not([role=search]) input[type=submit]")
    page.wait_for_load_state("networkidle")
    page.goto(page.base_url + f"/dailyregistrationview/show/{form_id}")
    page.locator("form.workflow-action button[value=submit]").click()
    page.wait_for_load_state("networkidle")
    screenshot(page, "customers-21-registration-submitted")
    with app.app_context():
        form = db.session.get(DailyRegistration, form_id)
        assert form.status == "submitted" and len(form.entries) == 1 and form.entries[0].intended
    page.goto(page.base_url + f"/dailyregistrationview/print/{form_id}")
    assert "客户信息登记表" in page.content() and "周海燕" in page.content()
    screenshot(page, "customers-22-registration-print")
    page.goto(page.base_url + "/archivefileview/list/")
    assert "周海燕" in page.content()
    screenshot(page, "customers-23-archive-list")
    page.goto(page.base_url + "/customer-assessment/")
    assert "马杰" in page.content()
    screenshot(page, "customers-24-assessment")
