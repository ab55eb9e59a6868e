"""Official printable forms: one mechanism, HTML and PDF, behind each record's own permission.

The forms print demo records (the complaints, projects and customers demo data,
built once for this module). Each PDF's text is extracted with pypdf: the
record's number and the form's Chinese title must come back out, which only
happens when a CJK font was embedded with its Unicode map.
"""
import datetime
import io
import re

import pytest
from pypdf import PdfReader

from app import create_app
from app.extensions import db
from tests.conftest import BASE_OVERRIDES, IN_CI, PASSWORD, login

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture(scope="module")
def demo(database_factory, tmp_path_factory):
    """An app holding the demo users and the complaints, projects and customers demo data."""
    from app.audit.context import acting_as
    from app.demo import complaints, customers, projects
    from app.setup import _create_demo_organisation, _create_demo_users

    tmp = tmp_path_factory.mktemp("forms")
    url = database_factory.new_url()
    app = create_app({**BASE_OVERRIDES, "SQLALCHEMY_DATABASE_URI": url,
                      "FAB_UPDATE_PERMS": False, "INSTANCE_PATH": str(tmp / "instance"),
                      "ATTACHMENT_FOLDER": str(tmp / "attachments"),
                      "BABEL_DEFAULT_LOCALE": "zh"})
    with app.app_context():
        sm = app.appbuilder.sm
        admin = sm.add_user("admin", "管理员", "系统", "admin@example.com", sm.find_role("Admin"),
                            password=PASSWORD)
        with acting_as(admin):
            _create_demo_users(sm)
            _create_demo_organisation(sm)
        app.demo_failures = {}
        for name, module in (("complaints", complaints), ("projects", projects),
                             ("customers", customers)):
            try:
                with acting_as(db.session.get(type(admin), admin.id)):
                    module.create_demo_data(lambda *args: None)
            except Exception as error:  # reported by the tests of that module's forms
                db.session.rollback()
                app.demo_failures[name] = repr(error)
        for user in sm.get_all_users():
            sm.reset_password(user.id, PASSWORD)
        db.session.commit()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    database_factory.drop(url)


class Demo:
    """A demo user, as the login helper wants it."""

    def __init__(self, username):
        self.username = username


def client_of(app, username):
    client = app.test_client()
    response = login(client, Demo(username))
    assert response.status_code == 302 and "/login" not in response.headers["Location"]
    return client


def first_id(app, model_name, module, **filters):
    import importlib

    models = importlib.import_module(f"app.models.{module}")
    model = getattr(models, model_name)
    with app.app_context():
        query = db.session.query(model)
        for column, condition in filters.items():
            query = query.filter(condition(getattr(model, column)))
        return query.order_by(model.id).first().id


def pdf_text(body):
    """The text of every page, and the same without white space (letter-spaced titles)."""
    pages = [page.extract_text() or "" for page in PdfReader(io.BytesIO(body)).pages]
    return pages, re.sub(r"\s+", "", "".join(pages))


def embedded_fonts(body):
    names = set()
    for page in PdfReader(io.BytesIO(body)).pages:
        for font in (page["/Resources"].get("/Font") or {}).values():
            names.add(str(font.get_object()["/BaseFont"]))
    return names


def require_cjk_font():
    """Chinese text only survives with a CJK font: fail in CI without one, skip elsewhere."""
    from app.printing import cjk_font_available

    if not cjk_font_available():
        message = "No CJK font installed (Debian: fonts-noto-cjk, scripts/ensure-fonts.sh)."
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)


def not_null(column):
    return column.isnot(None)


# Each form: who prints it, which demo record, and the Chinese that must come back out.
FORMS = {
    "complaint": ("sunli", ("Complaint", "complaints", {"number": not_null}), "投诉处理登记表",
                  lambda record: (record.number, record.subject)),
    "supply_plan": ("lujun", ("SupplyPlan", "projects", {"reply_no": not_null}), "供电方案通知书",
                    lambda plan: (plan.reply_no, plan.application.customer_name)),
    "design_review": ("zhangwei", ("DesignReview", "projects", {"opinion_no": not_null}),
                      "设计审查意见书",
                      lambda review: (review.opinion_no, review.application.customer_name)),
    "mid_inspection": ("linbo", ("MidInspection", "projects", {}), "中间检查意见书",
                       lambda inspection: (inspection.application.number,
                                           inspection.application.customer_name)),
    "registration": ("yanghui", ("DailyRegistration", "customers", {"submitted_at": not_null}),
                     "客户信息登记表",
                     lambda form: (form.form_date.isoformat(), form.entries[0].customer_name)),
    "archive": ("yanghui", ("ArchiveFile", "customers", {}), "客户档案表",
                lambda archive: (archive.archive_no, archive.customer.name)),
    "destruction": ("yanghui", ("ArchiveDestruction", "customers", {}), "客户档案销毁记录",
                    lambda item: (item.archive.archive_no, item.reason)),
}


def _record(app, form):
    model_name, module, filters = FORMS[form][1]
    if module in app.demo_failures:
        pytest.fail(f"the {module} demo data could not be built: {app.demo_failures[module]}")
    return first_id(app, model_name, module, **filters)


def _expected(app, form, record_id):
    import importlib

    model_name, module, _filters = FORMS[form][1]
    model = getattr(importlib.import_module(f"app.models.{module}"), model_name)
    with app.app_context():
        return FORMS[form][3](db.session.get(model, record_id))


@pytest.mark.parametrize("form", sorted(FORMS))
def test_each_form_prints_as_pdf_with_its_number_and_chinese(demo, form):
    require_cjk_font()
    username, _record_spec, paper_title, _fields = FORMS[form]
    record_id = _record(demo, form)
    number, chinese_value = _expected(demo, form, record_id)
    client = client_of(demo, username)
    response = client.get(f"/forms/{form}/{record_id}.pdf")
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.mimetype == "application/pdf"
    assert "filename*=UTF-8''" in response.headers["Content-Disposition"]
    body = response.get_data()
    assert body.startswith(b"%PDF-") and len(body) > 10_000
    _pages, text = pdf_text(body)
    assert re.sub(r"\s+", "", number) in text
    assert paper_title in text
    assert re.sub(r"\s+", "", chinese_value)[:12] in text
    assert any("CJK" in name for name in embedded_fonts(body)), embedded_fonts(body)


def test_lending_register_prints_the_loans_the_user_may_see(demo):
    require_cjk_font()
    from app.models.customers import ArchiveLoan

    _record(demo, "archive")
    with demo.app_context():
        registered = db.session.query(ArchiveLoan).filter(ArchiveLoan.register_no.isnot(None))
        loans = {loan.register_no: loan.borrower.username for loan in registered}
    assert len(set(loans.values())) >= 2
    body = client_of(demo, "yanghui").get("/forms/lending_register.pdf").get_data()
    _pages, text = pdf_text(body)
    assert "档案借阅登记簿" in text and all(number in text for number in loans)
    # A sales manager's register lists their own loans only.
    borrower = sorted(loans.values())[0]
    _pages, text = pdf_text(client_of(demo, borrower).get("/forms/lending_register.pdf").get_data())
    assert {number for number in loans if number in text} == {
        number for number, who in loans.items() if who == borrower}


def test_eng_12_mid_inspection_pdf_has_three_marked_copies(demo):
    require_cjk_font()
    record_id = _record(demo, "mid_inspection")
    body = client_of(demo, "linbo").get(f"/forms/mid_inspection/{record_id}.pdf").get_data()
    pages, _text = pdf_text(body)
    assert len(pages) == 3
    for page, mark in zip(pages, ("客户联", "施工单位联", "存档联")):
        flat = re.sub(r"\s+", "", page)
        assert mark in flat and "中间检查意见书" in flat
    assert "施工单位联" not in re.sub(r"\s+", "", pages[0])


def test_html_print_pages_share_the_layout_and_offer_the_pdf(demo):
    client = client_of(demo, "sunli")
    record_id = _record(demo, "complaint")
    for url in (f"/forms/complaint/{record_id}", f"/complaintview/print/{record_id}"):
        page = client.get(url)
        assert page.status_code == 200
        text = page.get_data(as_text=True)
        assert "投诉处理登记表" in text and "size: A4" in text and "@media print" in text
        assert f"/forms/complaint/{record_id}.pdf" in text
        assert "Noto Serif CJK SC" in text
        assert "http://" not in text.replace("http://localhost", "") and "https://" not in text
    show = client.get(f"/complaintview/show/{record_id}").get_data(as_text=True)
    assert f"/forms/complaint/{record_id}.pdf" in show
    custodian = client_of(demo, "yanghui")
    archive_id = _record(demo, "archive")
    assert "客户档案表" in custodian.get(f"/archivefileview/print/{archive_id}").get_data(as_text=True)
    assert f"/forms/archive/{archive_id}.pdf" in custodian.get(
        f"/archivefileview/show/{archive_id}").get_data(as_text=True)
    assert "/forms/lending_register.pdf" in custodian.get("/lending-register/list/").get_data(
        as_text=True)
    inspector = client_of(demo, "linbo")
    inspection_id = _record(demo, "mid_inspection")
    page = inspector.get(f"/forms/mid_inspection/{inspection_id}").get_data(as_text=True)
    assert page.count('class="copy-mark"') == 3
    assert f"/forms/mid_inspection/{inspection_id}.pdf" in inspector.get(
        f"/midinspectionview/show/{inspection_id}").get_data(as_text=True)


def test_forms_need_the_show_permission_of_their_record(demo):
    front_desk = client_of(demo, "wangfang")
    plan_id, archive_id = _record(demo, "supply_plan"), _record(demo, "archive")
    assert front_desk.get(f"/forms/supply_plan/{plan_id}.pdf").status_code == 403
    assert front_desk.get(f"/forms/supply_plan/{plan_id}").status_code == 403
    assert front_desk.get(f"/forms/archive/{archive_id}.pdf").status_code == 403
    assert front_desk.get("/forms/lending_register.pdf").status_code == 403
    inspector = client_of(demo, "linbo")
    assert inspector.get(f"/forms/complaint/{_record(demo, 'complaint')}.pdf").status_code == 403
    anonymous = demo.test_client().get(f"/forms/supply_plan/{plan_id}.pdf")
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
    client = client_of(demo, "sunli")
    assert client.get("/forms/no_such_form/1.pdf").status_code == 404
    assert client.get("/forms/complaint/999999.pdf").status_code == 404
    assert client.get("/forms/complaint.pdf").status_code == 404  # a record form needs its id


def test_cmp_12_respondent_cannot_print_the_complaint(demo):
    """The administration desk sees every archived complaint, except one it is the respondent of."""
    from app.audit.context import acting_as
    from app.models.complaints import Complaint, ComplaintConflict, ComplaintStatus

    complaint_id = _record(demo, "complaint")
    with demo.app_context():
        sm = demo.appbuilder.sm
        archived = db.session.query(Complaint).filter_by(status=ComplaintStatus.ARCHIVED).order_by(
            Complaint.id).all()
        seen, respondent_of = archived[0].id, archived[1].id
    desk = client_of(demo, "zhaomin")
    assert desk.get(f"/forms/complaint/{seen}.pdf").status_code == 200
    with demo.app_context():
        complaint = db.session.get(Complaint, respondent_of)
        with acting_as(sm.find_user(username="admin")):
            complaint.respondent_user_id = sm.find_user(username="zhaomin").id
            db.session.commit()
    assert desk.get(f"/forms/complaint/{respondent_of}.pdf").status_code == 404
    assert desk.get(f"/forms/complaint/{respondent_of}").status_code == 404
    assert desk.get(f"/complaintview/print/{respondent_of}").status_code == 404
    # A person marked as recused (the respondent's supervisor in the demo) is refused the same way.
    with demo.app_context():
        conflict = db.session.query(ComplaintConflict).filter_by(active=True).order_by(
            ComplaintConflict.id).first()
        recused, conflicted_id = conflict.user.username, conflict.complaint_id
    assert client_of(demo, recused).get(f"/forms/complaint/{conflicted_id}.pdf").status_code == 404
    assert complaint_id


def test_cus_06_confidential_archive_prints_only_with_a_grant(demo):
    from flask_appbuilder.security.sqla.models import User

    from app.audit.context import acting_as
    from app.models.audit import AuditLog
    from app.models.base import utcnow
    from app.models.customers import ArchiveFile
    from app.services import customers as service

    _record(demo, "archive")
    with demo.app_context():
        archive = db.session.query(ArchiveFile).join(User, ArchiveFile.manager_id == User.id) \
            .filter(User.username == "majie").order_by(ArchiveFile.id).first()
        archive_id = archive.id
    head, other_manager = client_of(demo, "huangyan"), client_of(demo, "liqiang")
    assert other_manager.get(f"/forms/archive/{archive_id}.pdf").status_code == 404
    assert head.get(f"/forms/archive/{archive_id}.pdf").status_code == 404
    assert head.get(f"/forms/archive/{archive_id}").status_code == 404
    with demo.app_context():
        sm = demo.appbuilder.sm
        gm, grantee = sm.find_user(username="zhangwei"), sm.find_user(username="huangyan")
        with acting_as(gm):
            service.grant_access(gm, grantee, utcnow() + datetime.timedelta(days=1), "核对档案",
                                 archive=db.session.get(ArchiveFile, archive_id))
        reads_before = db.session.query(AuditLog).count()
    response = head.get(f"/forms/archive/{archive_id}.pdf")
    assert response.status_code == 200 and response.get_data().startswith(b"%PDF-")
    with demo.app_context():
        assert db.session.query(AuditLog).count() > reads_before  # the printed read is logged


def test_render_pdf_works_outside_a_request_for_reports(demo):
    """Monthly reports are rendered by commands too: no request, no user."""
    from app.printing import pdf_response, render_pdf

    with demo.app_context():
        body = render_pdf("forms/_base.html", form_title="月度报表", form_number="2026-10")
        assert body.startswith(b"%PDF-")
        with demo.test_request_context("/"):
            response = pdf_response("forms/_base.html", "投诉月报 2026-10", form_title="投诉月报")
        assert response.mimetype == "application/pdf"
        assert response.headers["Content-Disposition"].startswith('inline; filename="')
        assert ".pdf" in response.headers["Content-Disposition"]


def test_pdf_without_a_cjk_font_still_renders_and_warns(demo, monkeypatch, caplog):
    from app.printing import pdf

    monkeypatch.setattr(pdf, "installed_cjk_families", lambda: ())
    pdf._warn_once_without_cjk_font.cache_clear()
    with demo.app_context(), caplog.at_level("WARNING", logger="app.printing.pdf"):
        body = pdf.render_pdf("forms/_base.html", form_title="无字体")
    pdf._warn_once_without_cjk_font.cache_clear()
    assert body.startswith(b"%PDF-")
    assert "No font with Chinese glyphs" in caplog.text


def test_forms_cover_every_official_form():
    from app.printing import get_form
    from app.printing.registry import FORMS as REGISTRY

    get_form("complaint")
    expected = {"complaint", "supply_plan", "design_review", "mid_inspection", "registration",
                "archive", "lending_register", "destruction"}
    assert expected <= set(REGISTRY)


def _recorded_visit(demo):
    """A holiday visit planned by the supervisor and recorded by phone by the assistant."""
    from app.audit.context import acting_as
    from app.models.base import utcnow
    from app.services import visits as service

    with demo.app_context():
        sm = demo.appbuilder.sm
        supervisor, assistant = sm.find_user(username="zhouqiang"), sm.find_user(username="wuxia")
        with acting_as(supervisor):
            visit = service.plan_visit(supervisor, {
                "trigger": "holiday", "customer_name": "王秀英", "address": "阳光花园5栋101",
                "customer_phone": "13812345678", "visitor_id": str(assistant.id),
                "due_at": (utcnow() + datetime.timedelta(days=3)).strftime("%Y-%m-%d")})
            visit_id, version = visit.id, visit.version
        with acting_as(assistant):
            visit = service.record_visit(visit_id, assistant, version, {
                "mode": "phone", "visited_at": utcnow() - datetime.timedelta(hours=1),
                "satisfaction": "satisfied", "summary": "春节慰问，业主对物业服务表示满意。"})
        return visit_id, visit.number


def test_vis_06_return_visit_record_prints_as_pdf(demo):
    require_cjk_font()
    visit_id, number = _recorded_visit(demo)
    supervisor = client_of(demo, "zhouqiang")
    response = supervisor.get(f"/forms/return_visit/{visit_id}.pdf")
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    _pages, text = pdf_text(response.get_data())
    assert number in text and "回访记录表" in text and "电话回访" in text
    assert "春节慰问" in text
    assert supervisor.get(f"/forms/return_visit/{visit_id}").status_code == 200
    # Another clerk who may open visits but had no part in this one: not found.
    assert client_of(demo, "fenglei").get(f"/forms/return_visit/{visit_id}.pdf").status_code == 404
    # A role without the visit pages: refused.
    assert client_of(demo, "lujun").get(f"/forms/return_visit/{visit_id}.pdf").status_code == 403
