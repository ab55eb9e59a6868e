"""Return visits in the browser (Chinese interface): the visitor records an on-site visit and the
customer signs on the screen, with the mouse on a desktop and with a finger on a tablet; the
supervisor then reviews and signs the record, which prints with the signature."""
import datetime
from urllib.parse import urlparse

from app.audit.context import acting_as
from app.extensions import db
from app.models.base import utcnow
from app.models.org import StaffProfile
from app.models.visits import ReturnVisit
from app.services import visits as service
from tests.conftest import PASSWORD
from tests.e2e.conftest import screenshot


def _log_in(page, username):
    page.goto(page.base_url + "/logout/")
    page.goto(page.base_url + "/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("form:not([role=search]) button[type=submit], form:not([role=search]) input[type=submit]")
    page.wait_for_load_state("networkidle")


def _job_visit(app, supervisor, assistant, title, customer):
    """A maintenance job completed an hour ago; returns the id of the visit it planned (VIS-03)."""
    with app.app_context():
        actor = supervisor.get()
        with acting_as(actor):
            job = service.create_maintenance_job(actor, {
                "title": title, "area": "A1", "assistant_id": assistant.id,
                "customer_name": customer, "customer_phone": "13900001111",
                "address": "阳光花园3栋502", "completed_at": utcnow() - datetime.timedelta(hours=1)})
        return db.session.query(ReturnVisit).filter_by(maintenance_job_id=job.id).one().id


def _visit(app, visit_id):
    with app.app_context():
        visit = db.session.get(ReturnVisit, visit_id)
        return visit.status, service.signature_of(visit), visit.review_opinion


def _fill_visit_form(page):
    page.click("label:has(#satisfaction-satisfied)")
    page.fill("#summary", "维修及时，水压恢复正常，客户满意。")
    page.click("#issue-add")
    page.fill("textarea[name='issues-0-description']", "希望楼道灯也检修一下")
    page.check("input[name='issues-0-answered_on_spot']")
    page.fill("input[name='issues-0-answer']", "已登记，明天安排电工")


def _ink_pixels(page):
    """How many dark pixels the pad holds (0 for an empty pad)."""
    return page.evaluate("""() => {
        const canvas = document.getElementById('signature-canvas');
        const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
        let dark = 0;
        for (let i = 0; i < data.length; i += 4) { if (data[i] < 100) dark++; }
        return dark;
    }""")


def test_visitor_records_with_a_drawn_signature_and_supervisor_reviews(browser_page, app,
                                                                      make_user):
    page = browser_page
    supervisor = make_user("ServiceSupervisor", username="zhouqiang", display_name="周强")
    assistant = make_user("PropertyAssistant", username="chenli", display_name="陈丽")
    with app.app_context():
        db.session.query(StaffProfile).filter_by(user_id=assistant.id).one().area = "A1"
        db.session.commit()
    desk_visit = _job_visit(app, supervisor, assistant, "3号楼水管更换", "李建国")
    tablet_visit = _job_visit(app, supervisor, assistant, "5号楼屋面防水", "王秀英")

    # 1. The visitor finds the visit in the plan and opens the form.
    _log_in(page, "chenli")
    page.goto(page.base_url + "/returnvisitview/list/")
    screenshot(page, "visits-01-plan-list")
    page.goto(page.base_url + f"/returnvisitview/show/{desk_visit}")
    page.click("#record-link")
    page.wait_for_load_state("networkidle")
    assert page.locator("#signature-canvas").is_visible()
    _fill_visit_form(page)

    # 2. Saving without a signature is refused next to the pad; nothing typed is lost.
    page.click("#visit-submit")
    page.wait_for_load_state("networkidle")
    assert page.locator(".field-error[data-field=signature]").is_visible()
    assert page.input_value("#summary") == "维修及时，水压恢复正常，客户满意。"
    assert page.input_value("textarea[name='issues-0-description']") == "希望楼道灯也检修一下"
    screenshot(page, "visits-02-refused-without-signature")

    # 3. The customer signs with the mouse; "clear" empties the pad, a second stroke signs.
    page.locator("#signature-canvas").scroll_into_view_if_needed()
    box = page.locator("#signature-canvas").bounding_box()
    left, top = box["x"], box["y"]

    def stroke(points):
        page.mouse.move(left + points[0][0], top + points[0][1])
        page.mouse.down()
        for x, y in points[1:]:
            page.mouse.move(left + x, top + y, steps=4)
        page.mouse.up()

    stroke([(30, 120), (80, 60), (130, 140), (180, 70), (230, 130)])
    assert _ink_pixels(page) > 50
    page.click("#signature-clear")
    assert _ink_pixels(page) == 0 and page.input_value("#signature_data") == ""
    stroke([(40, 110), (90, 50), (140, 150), (200, 60), (260, 140), (320, 80)])
    stroke([(60, 170), (300, 165)])
    assert page.input_value("#signature_data").startswith("data:image/png;base64,")
    screenshot(page, "visits-03-signed-with-mouse")
    assert _ink_pixels(page) > 50  # a full-page screenshot resizes the window: still drawn
    page.click("#visit-submit")
    page.wait_for_load_state("networkidle")
    status, signature, _opinion = _visit(app, desk_visit)
    assert status == "recorded" and signature is not None and signature.content_type == "image/png"
    assert page.locator("#signature-image").is_visible()
    assert page.evaluate("document.getElementById('signature-image').naturalWidth") > 0
    screenshot(page, "visits-04-recorded")

    # 4. The same form on a tablet (1024x768, touch): the customer signs with a finger.
    tablet = page.context.browser.new_context(
        viewport={"width": 1024, "height": 768}, has_touch=True, is_mobile=True,
        device_scale_factor=2)
    outside = []
    tablet_page = tablet.new_page()
    tablet_page.on("request", lambda request: outside.append(request.url)
                   if urlparse(request.url).hostname not in ("127.0.0.1", None) else None)
    tablet_page.base_url = page.base_url
    _log_in(tablet_page, "chenli")
    tablet_page.goto(page.base_url + f"/returnvisitview/record/{tablet_visit}")
    tablet_page.wait_for_load_state("networkidle")
    _fill_visit_form(tablet_page)
    tablet_page.locator("#signature-canvas").scroll_into_view_if_needed()
    box = tablet_page.locator("#signature-canvas").bounding_box()
    touch = tablet.new_cdp_session(tablet_page)
    points = [(50, 120), (100, 60), (150, 150), (210, 70), (270, 140), (330, 90)]
    touch.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [
        {"x": box["x"] + points[0][0], "y": box["y"] + points[0][1]}]})
    for x, y in points[1:]:
        touch.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [
            {"x": box["x"] + x, "y": box["y"] + y}]})
    touch.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    assert _ink_pixels(tablet_page) > 50
    assert tablet_page.input_value("#signature_data").startswith("data:image/png;base64,")
    # The page does not scroll sideways on the tablet.
    assert tablet_page.evaluate("document.documentElement.scrollWidth") <= 1024
    screenshot(tablet_page, "visits-05-tablet-signed-with-finger")
    # A refusal for another field gives the drawing back on the pad, not only the text.
    tablet_page.fill("#summary", "")
    tablet_page.click("#visit-submit")
    tablet_page.wait_for_load_state("networkidle")
    assert tablet_page.locator(".field-error[data-field=summary]").is_visible()
    tablet_page.wait_for_function("document.getElementById('signature-pad').classList"
                                  ".contains('signature-signed')")
    assert _ink_pixels(tablet_page) > 50
    tablet_page.fill("#summary", "屋面不再渗水，客户满意。")
    tablet_page.click("#visit-submit")
    tablet_page.wait_for_load_state("networkidle")
    screenshot(tablet_page, "visits-06-tablet-recorded")
    tablet.close()
    assert not outside, f"requests to hosts other than the app: {outside}"
    status, signature, _opinion = _visit(app, tablet_visit)
    assert status == "recorded" and signature is not None

    # 5. The supervisor finds it pending review, signs the opinion once, and prints the record.
    _log_in(page, "zhouqiang")
    page.goto(page.base_url + "/visits-pending-review/list/")
    assert page.locator("text=" + "李建国").count() >= 1
    screenshot(page, "visits-07-pending-review")
    page.goto(page.base_url + f"/returnvisitview/show/{desk_visit}")
    page.fill("#review-opinion", "记录完整，客户签名清楚，同意。")
    page.click("#review-submit")
    page.wait_for_load_state("networkidle")
    status, _signature, opinion = _visit(app, desk_visit)
    assert status == "reviewed" and opinion == "记录完整，客户签名清楚，同意。"
    assert page.locator("#review-form").count() == 0
    screenshot(page, "visits-08-reviewed")
    page.goto(page.base_url + f"/returnvisitview/print/{desk_visit}")
    assert "回访记录表" in page.content()
    assert page.evaluate("document.querySelector('.signature-img').naturalWidth") > 0
    screenshot(page, "visits-09-print")
    today = datetime.date.today()
    page.goto(page.base_url + f"/visit-statistics/?month={today:%Y-%m}")
    screenshot(page, "visits-10-statistics")
