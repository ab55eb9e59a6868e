"""One phone complaint from registration to archive, each step by the role that owns it (zh, then en)."""
from app.extensions import db
from app.models.complaints import Complaint
from app.models.org import Department
from tests.conftest import PASSWORD
from tests.e2e.conftest import screenshot


def _log_in(page, username):
    page.goto(page.base_url + "/logout/")
    page.goto(page.base_url + "/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("form:not([role=search]) button[type=submit], form:not([role=search]) input[type=submit]")
    page.wait_for_load_state("networkidle")


def _take(page, action, **fields):
    form = f"#step-{action}"
    for name, value in fields.items():
        page.fill(f"{form} [name={name}]", value)
    page.click(f"{form} button[type=submit]")
    page.wait_for_load_state("networkidle")


def _status(app, complaint_id):
    with app.app_context():
        return db.session.get(Complaint, complaint_id).status


def test_phone_complaint_from_registration_to_archive(browser_page, make_user, app):
    page = browser_page
    with app.app_context():
        department = Department(code="PROP", name="物业管理部")
        db.session.add(department)
        db.session.commit()
        department = db.session.get(Department, department.id)
    make_user("FrontDesk", username="wangfang", display_name="王芳")
    make_user("ComplaintOfficer", username="sunli", display_name="孙丽")
    make_user("Partner", username="chenjing", display_name="陈静")
    make_user("AdminDesk", username="zhaomin", display_name="赵敏")
    respondent = make_user("PropertyAssistant", username="wuxia", display_name="吴霞",
                           department=department)

    # 1. The front desk registers the phone call (总台接待).
    _log_in(page, "wangfang")
    page.goto(page.base_url + "/complaintview/add")
    page.fill("input[name=complainant_name]", "李建国")
    page.fill("input[name=complainant_phone]", "13901234567")
    page.fill("input[name=complainant_address]", "阳光花园3栋2单元1102")
    page.fill("input[name=subject]", "电梯多次困人无人及时处理")
    page.fill("textarea[name=description]", "3栋2单元电梯本月第三次困人，二十分钟才有人应答。")
    # Select2 hides the native selects; set the respondent on the underlying one (a remote
    # search field holds only its chosen option, so the option is added).
    page.eval_on_selector("select[name=respondent_user]",
                          "(el, v) => { el.add(new Option(v, v, true, true)); }",
                          str(respondent.id))
    screenshot(page, "complaints-01-register-form")
    page.click("form:not([role=search]) button[type=submit], form:not([role=search]) input[type=submit]")
    page.wait_for_load_state("networkidle")
    with app.app_context():
        complaint = db.session.query(Complaint).one()
        complaint_id, number = complaint.id, complaint.number
    assert number in page.content()
    screenshot(page, "complaints-02-registered")

    # 2. The designated officer logs the first contact and writes the opinion (专门负责人).
    _log_in(page, "sunli")
    page.goto(page.base_url + f"/complaintview/show/{complaint_id}")
    page.fill("#contact-form input[name=summary]", "电话联系投诉人，告知已受理及处理流程。")
    page.click("#contact-form button[type=submit]")
    page.wait_for_load_state("networkidle")
    _take(page, "write_opinion", opinion="情况属实，建议责成物业管理部三日内完成电梯检修并致歉。")
    assert _status(app, complaint_id) == "opinion_written"
    screenshot(page, "complaints-03-opinion-written")

    # 3. The partner in charge decides (业务分管合伙人).
    _log_in(page, "chenjing")
    page.goto(page.base_url + f"/complaintview/show/{complaint_id}")
    page.select_option("#step-decide select[name=outcome]", "upheld")
    _take(page, "decide", decision="同意专门负责人意见，限期整改并书面回复。")
    assert _status(app, complaint_id) == "decided"
    screenshot(page, "complaints-04-decided")

    # 4. The officer implements, replies in writing and closes.
    _log_in(page, "sunli")
    page.goto(page.base_url + f"/complaintview/show/{complaint_id}")
    _take(page, "implement", implementation="已更换电梯控制板，维保单位签署整改确认。")
    _take(page, "reply", content="已书面函告投诉人处理结果。")
    assert _status(app, complaint_id) == "replied"
    screenshot(page, "complaints-05-replied")
    _take(page, "close", comment="处理完毕")
    assert _status(app, complaint_id) == "closed"

    # 5. The administration desk archives it into the yearly case file (行政人员归档).
    _log_in(page, "zhaomin")
    page.goto(page.base_url + f"/complaintview/show/{complaint_id}")
    _take(page, "archive", location="行政部年度案宗柜")
    assert _status(app, complaint_id) == "archived"
    content = page.content()
    assert "AZ-" in content
    screenshot(page, "complaints-06-archived")
    page.goto(page.base_url + f"/complaintview/print/{complaint_id}")
    assert number in page.content()
    screenshot(page, "complaints-07-print")

    # The same record in English, and the ledger.
    page.goto(page.base_url + "/lang/en")
    page.goto(page.base_url + f"/complaintview/show/{complaint_id}")
    assert "Timeline" in page.content()
    screenshot(page, "complaints-08-archived-en")
    page.goto(page.base_url + "/complaintview/list/")
    assert number in page.content()
    screenshot(page, "complaints-09-list-en")

    # The respondent sees only the number and status.
    _log_in(page, "wuxia")
    page.goto(page.base_url + "/complaintstatus/")
    assert number in page.content() and "电梯多次困人" not in page.content()
    screenshot(page, "complaints-10-respondent")
