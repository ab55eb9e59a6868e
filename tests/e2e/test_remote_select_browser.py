"""A relation filter searched as one types: pick an officer by one character, the list filters."""
from playwright.sync_api import expect

from app.extensions import db
from app.models.complaints import Complaint
from tests.conftest import PASSWORD
from tests.e2e.conftest import screenshot


def test_officer_filter_searches_as_one_types(browser_page, make_user, app):
    page = browser_page
    manager = make_user("GeneralManager", username="zhouqiang", display_name="周强")
    sun = make_user("ComplaintOfficer", username="sunli", display_name="孙丽")
    qian = make_user("ComplaintOfficer", username="qianwei", display_name="钱伟")
    with app.app_context():
        common = dict(year=2000, kind="complaint", channel="phone", description="描述")
        db.session.add_all([
            Complaint(number="RS-0001", sequence=1, subject="电梯故障", officer_id=sun.id, **common),
            Complaint(number="RS-0002", sequence=2, subject="停车收费", officer_id=qian.id, **common),
        ])
        db.session.commit()

    page.goto(page.base_url + "/login/")
    page.fill("input[name=username]", manager.username)
    page.fill("input[name=password]", PASSWORD)
    page.click("form:not([role=search]) button[type=submit], "
               "form:not([role=search]) input[type=submit]")
    page.wait_for_load_state("networkidle")

    page.goto(page.base_url + "/complaintview/list/")
    assert "RS-0001" in page.content() and "RS-0002" in page.content()
    page.click("a.accordion-toggle[href='#accordion1_href']")  # the search panel
    page.click("#filter_form button.dropdown-toggle")
    page.click("#filter_form a.filter[name=officer]")
    page.click("#filter_form select.remote-select + .select2 .select2-selection")
    page.fill(".select2-container--open .select2-search__field", "孙")
    # One character found her, and only her (the other staff were offered before typing).
    expect(page.locator(".select2-results__option")).to_have_count(1)
    hit = page.locator(".select2-results__option", has_text="孙丽")
    screenshot(page, "remote-select-01-typed")
    page.screenshot(path="/tmp/remote_typed.png", full_page=True)
    hit.click()
    page.click("#filter_form button[type=submit]")
    page.wait_for_load_state("networkidle")

    assert f"_flt_0_officer={sun.id}" in page.url
    content = page.content()
    assert "RS-0001" in content and "RS-0002" not in content
    # The reloaded filter shows the officer's name, not her id.
    page.click("a.accordion-toggle[href='#accordion1_href']")
    chosen = page.locator(
        "#filter_form select.remote-select + .select2 .select2-selection__rendered")
    expect(chosen).to_be_visible()
    expect(chosen).to_contain_text("孙丽")
    page.wait_for_timeout(500)  # the panel's opening animation
    screenshot(page, "remote-select-02-filtered")
    page.screenshot(path="/tmp/remote_filtered.png", full_page=True)
