"""Home page, search, charts and monthly reports over HTTP, in both languages."""
import io

import pytest

from app.extensions import db
from app.models.complaints import Complaint
from tests.conftest import login as _login
from tests.test_complaints_rules import org, register, step  # noqa: F401 (fixture)

CHARTS = ("complaints", "visits", "projects", "customers", "archives")
REPORTS = ("complaints", "visits", "assessment")


def login(client, user):
    client.get("/logout/")
    return _login(client, user)


def _number(app, complaint_id):
    with app.app_context():
        return db.session.get(Complaint, complaint_id).number


def test_static_chart_code_is_served_by_the_app(client):
    echarts = client.get("/static/vendor/echarts/echarts.min.js")
    assert echarts.status_code == 200 and b"echarts" in echarts.data[:2000]
    assert client.get("/static/vendor/echarts/LICENSE").status_code == 200
    # FAB's own static files are still there.
    assert client.get("/static/appbuilder/css/ab.css").status_code == 200


def test_home_page_lists_my_pending_steps_with_links(app, client, org):
    complaint_id = register(app, org)
    login(client, org["officer"])
    page = client.get("/").get_data(as_text=True)
    assert 'id="home-pending"' in page
    assert f'data-record="{complaint_id}"' in page
    assert f"/complaintview/show/{complaint_id}" in page
    assert _number(app, complaint_id) in page
    login(client, org["respondent"])
    page = client.get("/").get_data(as_text=True)
    assert _number(app, complaint_id) not in page


def test_navbar_search_box_and_results(app, client, org):
    complaint_id = register(app, org, complainant_name="李建华", complainant_phone="13912345678")
    number = _number(app, complaint_id)
    login(client, org["gm"])
    home = client.get("/").get_data(as_text=True)
    assert 'id="navbar-search"' in home and 'action="/search/"' in home
    page = client.get("/search/", query_string={"q": "13912345678"}).get_data(as_text=True)
    assert number in page and f"/complaintview/show/{complaint_id}" in page
    login(client, org["respondent"])
    page = client.get("/search/", query_string={"q": "李建华"}).get_data(as_text=True)
    assert number not in page and 'id="search-nothing"' in page


@pytest.mark.parametrize("locale", ["zh", "en"])
def test_every_chart_page_renders_with_table_and_csv(app, client, org, locale):
    register(app, org)
    login(client, org["gm"])
    client.get(f"/lang/{locale}")
    index = client.get("/dashboards/")
    assert index.status_code == 200
    for key in CHARTS:
        response = client.get(f"/dashboards/{key}/")
        assert response.status_code == 200, key
        page = response.get_data(as_text=True)
        assert "/static/vendor/echarts/echarts.min.js" in page
        assert 'dashboard-table' in page
        assert "http://" not in page.split("<body", 1)[-1].replace("http://www.w3.org", "")
        csv = client.get(f"/dashboards/{key}/export.csv", query_string={"from": "2026-01",
                                                                        "to": "2026-03"})
        assert csv.status_code == 200 and csv.data.startswith("\ufeff".encode())
    if locale == "zh":
        assert "月份" in client.get("/dashboards/complaints/export.csv").data.decode("utf-8-sig") \
            or "Month" in client.get("/dashboards/complaints/export.csv").data.decode("utf-8-sig")
    else:
        assert client.get("/dashboards/complaints/export.csv").data.decode(
            "utf-8-sig").startswith("Month,Received")


def test_chart_filters_are_validated(app, client, org):
    login(client, org["gm"])
    assert client.get("/dashboards/complaints/", query_string={"from": "2026-13"}).status_code == 400
    assert client.get("/dashboards/complaints/", query_string={"department": "x"}).status_code == 400
    assert client.get("/dashboards/nothing/").status_code == 404
    page = client.get("/dashboards/complaints/", query_string={
        "from": "2026-01", "to": "2026-03", "department": str(org["department_id"])})
    assert page.status_code == 200
    assert 'value="2026-01"' in page.get_data(as_text=True)


def test_chart_counts_only_what_the_viewer_sees(app, client, org):
    register(app, org)
    from app.deadlines import local_today

    today = local_today()
    month = f"{today.year}-{today.month:02d}"
    login(client, org["gm"])
    rows = client.get("/dashboards/complaints/export.csv",
                      query_string={"from": month, "to": month}).data.decode("utf-8-sig")
    assert rows.splitlines()[1].split(",")[1] == "1"
    login(client, org["respondent"])
    rows = client.get("/dashboards/complaints/export.csv",
                      query_string={"from": month, "to": month}).data.decode("utf-8-sig")
    assert rows.splitlines()[1].split(",")[1] == "0"


def test_monthly_reports_page_csv_xlsx_and_pdf(app, client, org):
    from openpyxl import load_workbook

    register(app, org)
    login(client, org["gm"])
    index = client.get("/monthlyreports/", query_string={"month": "2026-03"})
    assert index.status_code == 200
    page = index.get_data(as_text=True)
    # Each report links to its module's own detailed page.
    for detail in ("/complaintsummary/", "/visit-statistics/", "/customer-assessment/"):
        assert detail in page
    for key in REPORTS:
        assert f'data-report="{key}"' in page
        assert client.get(f"/monthlyreports/{key}/", query_string={"month": "2026-03"}).status_code == 200
        csv = client.get(f"/monthlyreports/{key}/export.csv", query_string={"month": "2026-03"})
        assert csv.status_code == 200 and "2026-03" in csv.data.decode("utf-8-sig").splitlines()[0]
        xlsx = client.get(f"/monthlyreports/{key}/export.xlsx", query_string={"month": "2026-03"})
        assert xlsx.status_code == 200
        sheet = load_workbook(io.BytesIO(xlsx.data)).active
        assert "2026-03" in str(sheet.cell(1, 1).value)
    pdf = client.get("/monthlyreports/complaints/print.pdf", query_string={"month": "2026-03"})
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    assert client.get("/monthlyreports/complaints/", query_string={"month": "bad"}).status_code == 400


def test_monthly_report_pdf_contains_the_figures(app, client, org):
    pypdf = pytest.importorskip("pypdf")
    from app.printing import cjk_font_available

    register(app, org)
    login(client, org["gm"])
    client.get("/lang/zh")
    from app.deadlines import local_today

    today = local_today()
    month = f"{today.year}-{today.month:02d}"
    pdf = client.get("/monthlyreports/complaints/print.pdf", query_string={"month": month})
    text = "".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf.data)).pages)
    assert month in text
    if cjk_font_available():
        assert "电话" in text  # the channel, in Chinese


def test_monthly_reports_follow_each_report_s_permission(app, client, org):
    login(client, org["front"])  # a desk reads no monthly report
    assert client.get("/monthlyreports/complaints/").status_code in (302, 403)
    assert client.get("/monthlyreports/complaints/export.csv").status_code in (302, 403)
    assert client.get("/dashboards/complaints/").status_code == 200  # charts: everyone
    login(client, org["officer"])  # reads the complaint summary, not the assessment
    assert client.get("/monthlyreports/complaints/").status_code == 200
    assert client.get("/monthlyreports/assessment/").status_code in (302, 403)
    page = client.get("/monthlyreports/").get_data(as_text=True)
    assert 'data-report="complaints"' in page and 'data-report="assessment"' not in page
