"""A person's first minutes: log in, switch language, open a list, download its CSV."""
import codecs

from tests.conftest import PASSWORD
from tests.e2e.conftest import screenshot


def _log_in(page, username):
    page.goto(page.base_url + "/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("form:not([role=search]) button[type=submit], form:not([role=search]) input[type=submit]")
    page.wait_for_load_state("networkidle")


def test_login_language_switch_list_and_csv_download(browser_page, make_user, app):
    page = browser_page
    from app.extensions import db
    from app.models.org import Department

    make_user("FrontDesk", username="wangfang", display_name="王芳")
    with app.app_context():
        db.session.add(Department(code="CS", name="客服部"))
        db.session.commit()
    _log_in(page, "wangfang")
    screenshot(page, "01-home-zh")
    assert "王芳" in page.content()
    assert "客户服务管理系统" in page.title() or "客户服务管理系统" in page.content()

    page.goto(page.base_url + "/departmentview/list/")
    screenshot(page, "02-departments-zh")
    assert "部门" in page.content()

    page.click("#language-menu a.dropdown-toggle")
    page.click("a.language-switch[data-locale=en]")
    page.wait_for_load_state("networkidle")
    page.goto(page.base_url + "/departmentview/list/")
    screenshot(page, "03-departments-en")
    assert "Departments" in page.content()

    with page.expect_download() as download_info:
        page.click("a.export-csv")
    download = download_info.value
    path = download.path()
    with open(path, "rb") as csv_file:
        content = csv_file.read()
    assert content.startswith(codecs.BOM_UTF8)
    lines = content.decode("utf-8-sig").splitlines()
    assert "Code" in lines[0]
    assert any("客服部" in line for line in lines[1:])
