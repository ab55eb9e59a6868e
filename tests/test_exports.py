"""X-04: every list exports to CSV (and XLSX) that Excel opens with Chinese text,
with exactly the rows the user sees in the list, respecting visibility."""
import csv
import datetime
import html
import io
import json
import re
from urllib.parse import unquote

import openpyxl
import prison
import pytest
from flask_babel import force_locale
from sqlalchemy import event

from app.exports import views as export_views
from app.exports.columns import present
from app.exports.csv import csv_chunks
from app.exports.xlsx import write_xlsx
from app.extensions import db
from app.models.org import Absence, AbsenceStatus, Department
from app.security import visibility
from app.timeutil import local_zone
from tests.conftest import api_token

BOM = b"\xef\xbb\xbf"
DEPARTMENT_EXPORT = "/departmentview/export.csv"


# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------

def add_departments(app, *rows):
    """Insert departments given as (code, name) or (code, name, active)."""
    with app.app_context():
        for code, name, *rest in rows:
            db.session.add(Department(code=code, name=name, active=rest[0] if rest else True))
        db.session.commit()


def read_csv(response):
    """The rows of a CSV download, after checking it is Excel-ready (BOM, CRLF)."""
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    data = response.get_data()
    assert data.startswith(BOM)
    text = data.decode("utf-8-sig")
    # Every record ends with CRLF, and no bare LF is used as a line end.
    assert text.endswith("\r\n")
    assert text.count("\n") == text.count("\r\n")
    return list(csv.reader(io.StringIO(text, newline="")))


def read_xlsx(response):
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.headers["Content-Type"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    workbook = openpyxl.load_workbook(io.BytesIO(response.get_data()))
    return workbook.active


def view_instance(app, view_class_name):
    return next(view for view in app.appbuilder.baseviews
                if view.__class__.__name__ == view_class_name)


def name_filter_arg(app, operation="ct"):
    """``_flt_<n>_name`` for the given filter operation on DepartmentView's name column."""
    filters = view_instance(app, "DepartmentView")._filters._all_filters["name"]
    index = next(i for i, flt in enumerate(filters) if flt.arg_name == operation)
    return f"_flt_{index}_name"


def today():
    return datetime.datetime.now(local_zone()).date().isoformat()


@pytest.fixture
def front_desk(make_user, login_as):
    user = make_user("FrontDesk")
    login_as(user)
    return user


@pytest.fixture
def departments(app):
    add_departments(
        app,
        ("D01", "客服一部"), ("D02", "客服二部"), ("D03", "工程部", False),
        ("D04", "客服三部"), ("D05", "财务部"),
    )


# ---------------------------------------------------------------------------
# Format: Excel-ready CSV, headers in the user's language, file name
# ---------------------------------------------------------------------------

def list_labels(app, view_class_name, locale):
    """The list's column labels as the catalogue renders them in ``locale``."""
    view = view_instance(app, view_class_name)
    with app.test_request_context(), force_locale(locale):
        return [str(view.label_columns[name]) for name in view.list_columns]


def has_chinese(texts):
    return any("\u4e00" <= char <= "\u9fff" for text in texts for char in text)


def test_x_04_csv_has_bom_crlf_and_headers_in_chinese_then_english(app, client, front_desk,
                                                                   departments):
    chinese = list_labels(app, "DepartmentView", "zh")
    english = list_labels(app, "DepartmentView", "en")
    assert has_chinese(chinese) and english[:2] == ["Code", "Name"]

    rows = read_csv(client.get(DEPARTMENT_EXPORT))
    assert rows[0] == chinese  # Chinese by default
    assert len(rows) == 1 + 5

    client.get("/lang/en")
    rows = read_csv(client.get(DEPARTMENT_EXPORT))
    assert rows[0] == english


def test_x_04_file_name_is_the_view_title_and_date_with_an_ascii_fallback(
        client, front_desk, departments, monkeypatch):
    from app.views.org import DepartmentView

    monkeypatch.setattr(DepartmentView, "list_title", "部门/名单")
    response = client.get(DEPARTMENT_EXPORT)
    disposition = response.headers["Content-Disposition"]
    response.close()
    assert disposition.startswith("attachment;")
    assert f'filename="DepartmentView_{today()}.csv"' in disposition
    encoded = re.search(r"filename\*=UTF-8''(\S+)", disposition).group(1)
    # A path separator in the title must not reach the file name.
    assert unquote(encoded) == f"部门_名单_{today()}.csv"
    assert response.headers["Cache-Control"] == "no-store"


# ---------------------------------------------------------------------------
# Rows: exactly the list's rows, filters and order, every page
# ---------------------------------------------------------------------------

def test_x_04_export_has_the_filtered_and_ordered_rows_of_the_list(app, client, front_desk,
                                                                    departments):
    query = (f"?{name_filter_arg(app)}=客服&_oc_DepartmentView=code&_od_DepartmentView=desc"
             "&psize_DepartmentView=2")
    listed = client.get("/departmentview/list/" + query).get_data(as_text=True)
    rows = read_csv(client.get(DEPARTMENT_EXPORT + query))

    assert [row[0] for row in rows[1:]] == ["D04", "D02", "D01"]
    # The list's own page shows the same order (its first page of two) and hides the rest.
    assert listed.index("客服三部") < listed.index("客服二部")
    assert "工程部" not in listed and "财务部" not in listed
    assert [row[1] for row in rows[1:]] == ["客服三部", "客服二部", "客服一部"]


def test_x_04_export_without_arguments_follows_the_base_order(client, front_desk, app):
    add_departments(app, ("B2", "乙"), ("A1", "甲"), ("C3", "丙"))
    rows = read_csv(client.get(DEPARTMENT_EXPORT))
    assert [row[0] for row in rows[1:]] == ["A1", "B2", "C3"]


def test_x_04_list_page_export_buttons_carry_the_query_string(app, client, front_desk,
                                                               departments):
    query = f"{name_filter_arg(app)}=客服&_oc_DepartmentView=code&_od_DepartmentView=desc"
    page = client.get("/departmentview/list/", query_string=query).get_data(as_text=True)
    links = {html.unescape(href)
             for href in re.findall(r'href="([^"]*/export\.[a-z]+[^"]*)"', page)}
    csv_link = next(link for link in links if "/export.csv" in link)
    assert any("/export.xlsx?" in link for link in links)
    assert "_oc_DepartmentView=code" in csv_link and "_od_DepartmentView=desc" in csv_link

    rows = read_csv(client.get(csv_link))
    assert [row[0] for row in rows[1:]] == ["D04", "D02", "D01"]


# ---------------------------------------------------------------------------
# Cells: choices, booleans, local time, relations, formula injection
# ---------------------------------------------------------------------------

def test_x_04_cells_show_choice_labels_yes_no_and_local_time(app, client, make_user, login_as):
    user = make_user("FrontDesk")
    with app.app_context():
        db.session.add(Absence(
            user_id=user.id, status=AbsenceStatus.APPROVED,
            starts_at=datetime.datetime(2026, 1, 5, 1, 30),  # UTC
            ends_at=datetime.datetime(2026, 1, 5, 17, 0),   # UTC: 01:00 the next day in Shanghai
        ))
        parent = Department(code="P", name="总部")
        db.session.add_all([parent, Department(code="C", name="客服部", parent=parent, active=False)])
        db.session.commit()
        user_label = str(user.get())
    login_as(user)
    client.get("/lang/en")

    absences = read_csv(client.get("/absenceview/export.csv"))
    assert absences[0] == ["Absent person", "From", "Until", "Delegate (acts for them)", "Status"]
    assert absences[1] == [user_label, "2026-01-05 09:30", "2026-01-06 01:00", "", "Approved"]

    departments = read_csv(client.get(DEPARTMENT_EXPORT))
    assert departments[1:] == [["C", "客服部", "总部", "", "No"], ["P", "总部", "", "", "Yes"]]

    sheet = read_xlsx(client.get("/absenceview/export.xlsx"))
    values = [cell.value for cell in sheet[2]]
    assert values == [user_label, datetime.datetime(2026, 1, 5, 9, 30),
                      datetime.datetime(2026, 1, 6, 1, 0), None, "Approved"]


FORMULAS = ["=1+1", "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A2)", "\t=1", "\r=1"]


def test_x_04_formula_cells_are_neutralised_in_csv_and_xlsx(app, client, front_desk):
    add_departments(app, *[(f"F{i}", text) for i, text in enumerate(FORMULAS)],
                    ("G", "普通-名称"))
    expected = ["'" + text for text in FORMULAS] + ["普通-名称"]

    rows = read_csv(client.get(DEPARTMENT_EXPORT))
    assert [row[1] for row in rows[1:]] == expected

    sheet = read_xlsx(client.get(DEPARTMENT_EXPORT.replace(".csv", ".xlsx")))
    cells = [row[1] for row in sheet.iter_rows(min_row=2)]
    # XML readers turn a carriage return into a line feed; the quote still comes first.
    # openpyxl may read a stored carriage return back as a line feed; either way it is text.
    assert [cell.value.replace("\r", "\n") for cell in cells] == [
        text.replace("\r", "\n") for text in expected]
    assert {cell.data_type for cell in cells} == {"s"}


def test_x_04_only_text_is_prefixed_numbers_stay_numbers():
    assert present(-5) == -5
    assert present("-5") == "'-5"
    body = b"".join(csv_chunks(["n", "t"], [[present(-5), present("-5")]], 10))
    assert body.decode("utf-8-sig").splitlines()[1] == "-5,'-5"

    output, count = write_xlsx(["n", "t", "e"], [[present(-5), present("=A1"), present("#N/A")]],
                               "t")
    with output:
        sheet = openpyxl.load_workbook(output).active
    assert count == 1
    assert sheet["A2"].value == -5 and sheet["A2"].data_type == "n"
    assert sheet["B2"].value == "'=A1" and sheet["B2"].data_type == "s"
    # Text that looks like an Excel error value stays text too.
    assert sheet["C2"].value == "#N/A" and sheet["C2"].data_type == "s"


# ---------------------------------------------------------------------------
# Permissions and visibility
# ---------------------------------------------------------------------------

def test_x_04_export_needs_the_list_permission(app, client, make_user, login_as, departments):
    with app.app_context():
        app.appbuilder.sm.add_role("NoLists")
    outsider = make_user("NoLists")

    assert client.get(DEPARTMENT_EXPORT).status_code == 302  # anonymous: to the login page
    login_as(outsider)
    assert client.get(DEPARTMENT_EXPORT).status_code == 403
    assert client.get("/departmentview/export.xlsx").status_code == 403

    token = api_token(client, outsider)
    response = client.get("/api/v1/department/export.csv",
                          headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 403
    assert client.get("/api/v1/department/export.csv").status_code == 401


def test_x_04_export_has_only_the_rows_the_user_may_see(app, client, front_desk, departments,
                                                         monkeypatch):
    # A private copy of the registry, restored by monkeypatch after the test.
    monkeypatch.setattr(visibility, "_RULES", dict(visibility._RULES))
    visibility.register_visibility(
        Department,
        lambda query, user: query.filter(Department.code.in_(["D02", "D05"])),
        lambda record, user: record.code in ("D02", "D05"),
    )

    rows = read_csv(client.get(DEPARTMENT_EXPORT))
    assert [row[0] for row in rows[1:]] == ["D02", "D05"]
    sheet = read_xlsx(client.get("/departmentview/export.xlsx"))
    assert [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)] == ["D02", "D05"]

    token = api_token(client, front_desk)
    response = client.get("/api/v1/department/export.csv",
                          headers={"Authorization": f"Bearer {token}"})
    assert [row[1] for row in read_csv(response)[1:]] == ["D02", "D05"]


# ---------------------------------------------------------------------------
# REST resource
# ---------------------------------------------------------------------------

def test_x_04_api_export_accepts_the_list_rison_filter_and_order(app, client, front_desk,
                                                                  departments):
    with app.app_context():
        parent = db.session.query(Department).filter_by(code="D01").one()
        db.session.add(Department(code="D06", name="客服四部", parent=parent))
        db.session.commit()
    headers = {"Authorization": f"Bearer {api_token(client, front_desk)}"}
    q = prison.dumps({
        "filters": [{"col": "name", "opr": "ct", "value": "客服"}],
        "order_column": "code", "order_direction": "desc",
    })
    listed = client.get("/api/v1/department/", query_string={"q": q}, headers=headers).get_json()
    rows = read_csv(client.get("/api/v1/department/export.csv", query_string={"q": q},
                               headers=headers))

    assert rows[0][:5] == ["Id", "Code", "Name", "Parent Id", "Parent Name"]
    assert [int(row[0]) for row in rows[1:]] == listed["ids"]
    assert [row[1] for row in rows[1:]] == ["D06", "D04", "D02", "D01"]
    # Dotted relation columns, as the list endpoint returns them.
    assert rows[1][3:5] == [str(listed["result"][0]["parent"]["id"]), "客服一部"]

    sheet = read_xlsx(client.get("/api/v1/department/export.xlsx",
                                 query_string={"q": q}, headers=headers))
    assert [row[1] for row in sheet.iter_rows(min_row=2, values_only=True)] == [
        "D06", "D04", "D02", "D01"]

    bad = prison.dumps({"filters": [{"col": "nope", "opr": "ct", "value": "x"}]})
    assert client.get("/api/v1/department/export.csv", query_string={"q": bad},
                      headers=headers).status_code == 400


# ---------------------------------------------------------------------------
# Streaming and audit
# ---------------------------------------------------------------------------

def test_x_04_csv_is_streamed_while_rows_are_read_in_batches(app, client, front_desk,
                                                            monkeypatch):
    total, batch = 10, 3
    app.config["EXPORT_BATCH_SIZE"] = batch
    add_departments(app, *[(f"S{i:02d}", f"部门{i}") for i in range(total)])
    loaded = []

    def count_load(_target, _context):
        loaded.append(1)

    # Plain lists are read as tuples, not records: count the rows of each batch read.
    plain_reader = export_views.fast_rows

    def counting_reader(*args):
        read = plain_reader(*args)

        def batches(session):
            for rows in read(session):
                loaded.extend([1] * len(rows))
                yield rows
        return read and batches

    monkeypatch.setattr(export_views, "fast_rows", counting_reader)

    event.listen(Department, "load", count_load)
    try:
        response = client.get(DEPARTMENT_EXPORT)
        assert response.status_code == 200 and response.is_streamed
        loaded_when_sent = []
        chunks = []
        for chunk in response.response:
            chunks.append(chunk)
            loaded_when_sent.append(len(loaded))
        response.close()
    finally:
        event.remove(Department, "load", count_load)

    body = b"".join(chunks).decode("utf-8-sig")
    assert len(body.splitlines()) == 1 + total
    # The header goes out alone, then one chunk per batch of rows ...
    assert len(chunks) == 1 + -(-total // batch)
    assert loaded_when_sent[0] == 0
    # ... and each chunk left before the next batch was read from the database.
    assert loaded_when_sent[1] <= batch < total
    assert loaded_when_sent[-1] == total
    # Streaming outlives the request's own session: nothing may keep a connection.
    with app.app_context():
        assert db.engine.pool.checkedout() == 0


def test_x_04_confidential_list_exports_are_audited(app, client, front_desk, departments,
                                                    monkeypatch):
    from app.views.org import DepartmentView

    events = []
    monkeypatch.setattr(export_views.audit_events, "record_event",
                        lambda *args: events.append(args))

    read_csv(client.get(DEPARTMENT_EXPORT))
    assert events == []  # not a confidential list

    monkeypatch.setattr(DepartmentView, "audit_exports", True)
    read_csv(client.get(f"{DEPARTMENT_EXPORT}?{name_filter_arg(app)}=客服"))
    read_xlsx(client.get("/departmentview/export.xlsx"))
    assert events == [
        ("export", "department", None, {"view": "DepartmentView", "format": "csv", "rows": 3}),
        ("export", "department", None, {"view": "DepartmentView", "format": "xlsx", "rows": 5}),
    ]

    # A download cut short is recorded too, with the rows sent before the cut.
    events.clear()
    app.config["EXPORT_BATCH_SIZE"] = 2
    response = client.get(DEPARTMENT_EXPORT)
    chunks = iter(response.response)
    next(chunks), next(chunks)  # the header, then the first two rows
    response.close()
    assert events == [("export", "department", None,
                       {"view": "DepartmentView", "format": "csv", "rows": 2, "complete": False})]


def test_x_04_confidential_export_lands_in_the_audit_trail(app, client, front_desk, departments,
                                                           monkeypatch):
    from app.models.audit import AuditLog
    from app.views.org import DepartmentApi

    monkeypatch.setattr(DepartmentApi, "audit_exports", True)
    headers = {"Authorization": f"Bearer {api_token(client, front_desk)}"}
    read_csv(client.get("/api/v1/department/export.csv", headers=headers))

    with app.app_context():
        entries = db.session.query(AuditLog).filter_by(action="export").all()
        assert [(entry.table_name, entry.row_id, entry.actor_id) for entry in entries] == [
            ("department", None, front_desk.id)]
        assert json.loads(entries[0].changes) == {
            "view": "DepartmentApi", "format": "csv", "rows": 5}
