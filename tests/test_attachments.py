"""Attachments: storage, limits, versions (CMP-04), paper originals, permissions, visibility."""
import hashlib
import io
import os
import re
import zipfile
from urllib.parse import quote

import pytest
from flask_babel import gettext
from werkzeug.datastructures import FileStorage

from app.extensions import db
from app.models.attachments import Attachment
from app.models.org import Department
from app.security import visibility
from app.services import attachments as service
from app.services.errors import InvalidInput, RecordNotVisible, StaleVersion
from tests.conftest import PASSWORD

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n"
PDF_V2 = b"%PDF-1.7\n% second version, signed\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 17
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 48 + b"This program"


def docx_bytes(folder="word/"):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as package:
        package.writestr("[Content_Types].xml", "<Types/>")
        package.writestr(folder + "document.xml", "<document/>")
    return buffer.getvalue()


def upload_file(data, filename):
    return FileStorage(stream=io.BytesIO(data), filename=filename)


@pytest.fixture
def department(app):
    with app.app_context():
        record = Department(code="KF", name="客服部")
        db.session.add(record)
        db.session.commit()
        return record.id


def stored_files(app):
    folder = app.config["ATTACHMENT_FOLDER"]
    found = []
    for root, _dirs, files in os.walk(folder):
        found += [os.path.relpath(os.path.join(root, name), folder) for name in files]
    return sorted(found)


def attachment_rows(app):
    with app.app_context():
        rows = db.session.query(Attachment).order_by(Attachment.id).all()
        return [
            {column.name: getattr(row, column.name) for column in Attachment.__table__.columns}
            for row in rows
        ]


def post_upload(client, department_id, data, filename, kind="original", **fields):
    return client.post(
        f"/attachmentview/upload/department/{department_id}",
        data={"file": (io.BytesIO(data), filename), "kind": kind, **fields},
        content_type="multipart/form-data",
    )


def flashes(client):
    with client.session_transaction() as session:
        return [message for _category, message in session.get("_flashes", [])]


# ---------------------------------------------------------------------------
# Upload and download through the web
# ---------------------------------------------------------------------------

def test_upload_and_download_round_trip(app, client, make_user, login_as, department):
    login_as(make_user("FrontDesk"))
    response = post_upload(client, department, PDF, "投诉原件 2026.pdf", note="来信原件",
                           next=f"/departmentview/show/{department}")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/departmentview/show/{department}")

    [row] = attachment_rows(app)
    assert row["sha256"] == hashlib.sha256(PDF).hexdigest()
    assert row["size_bytes"] == len(PDF)
    assert row["content_type"] == "application/pdf"
    assert row["original_filename"] == "投诉原件 2026.pdf"
    assert (row["owner_table"], row["owner_id"], row["kind"]) == ("department", department, "original")
    assert (row["version"], row["is_current"], row["note"]) == (1, True, "来信原件")
    sha = row["sha256"]
    assert row["storage_key"] == f"{sha[:2]}/{sha[2:]}"
    assert stored_files(app) == [os.path.join(sha[:2], sha[2:])]

    download = client.get(f"/attachmentview/download/{row['id']}")
    assert download.status_code == 200
    assert download.data == PDF
    assert download.mimetype == "application/pdf"
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    disposition = download.headers["Content-Disposition"]
    assert disposition.startswith("attachment")
    assert "filename*=UTF-8''" + quote("投诉原件 2026.pdf") in disposition
    assert "no-store" in download.headers["Cache-Control"]


def test_upload_redirects_to_owner_page_without_a_next_field(app, client, make_user, login_as,
                                                             department):
    login_as(make_user("FrontDesk"))
    response = post_upload(client, department, PDF, "a.pdf", next="https://evil.example/")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/departmentview/show/{department}")


def test_same_content_is_stored_once_and_path_is_stripped_from_the_name(app, ctx, make_user,
                                                                         department):
    actor = make_user("FrontDesk").get()
    owner = db.session.get(Department, department)
    first = service.add_attachment(owner, upload_file(PNG, "C:\\fakepath\\现场照片.png"), "photo", actor)
    second = service.add_attachment(owner, upload_file(PNG, "again.png"), "photo", actor)
    assert first.original_filename == "现场照片.png"
    assert first.content_type == "image/png"
    assert first.storage_key == second.storage_key
    assert first.series_id != second.series_id
    assert len(stored_files(app)) == 1
    assert first.created_by_id == actor.id


# ---------------------------------------------------------------------------
# CMP-04: replacing keeps the old version
# ---------------------------------------------------------------------------

def test_cmp_04_replace_keeps_the_old_version_retrievable(app, client, make_user, login_as,
                                                          department):
    login_as(make_user("FrontDesk"))
    post_upload(client, department, PDF, "回复函.pdf", kind="reply_letter")
    [first] = attachment_rows(app)
    response = client.post(
        f"/attachmentview/replace/{first['id']}",
        data={"file": (io.BytesIO(PDF_V2), "回复函（签字版）.pdf")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    old, new = attachment_rows(app)
    assert old["id"] == first["id"]
    assert (old["is_current"], old["replaced_by_id"], old["sha256"]) == (
        False, new["id"], hashlib.sha256(PDF).hexdigest())
    assert (new["is_current"], new["version"], new["replaces_id"]) == (True, 2, old["id"])
    assert (new["series_id"], new["kind"]) == (old["series_id"], "reply_letter")
    assert new["original_filename"] == "回复函（签字版）.pdf"

    # Both versions download with their own bytes; both files remain stored.
    assert client.get(f"/attachmentview/download/{old['id']}").data == PDF
    assert client.get(f"/attachmentview/download/{new['id']}").data == PDF_V2
    assert len(stored_files(app)) == 2

    with app.app_context():
        owner = db.session.get(Department, department)
        assert [item.id for item in service.current_attachments(owner)] == [new["id"]]
        versions = service.attachment_versions(db.session.get(Attachment, old["id"]))
        assert [item.version for item in versions] == [2, 1]
        [(current, older)] = service.attachment_history(owner)
        assert current.id == new["id"] and [item.id for item in older] == [old["id"]]


def test_cmp_04_an_old_version_cannot_be_replaced_again(app, ctx, make_user, department):
    actor = make_user("FrontDesk").get()
    owner = db.session.get(Department, department)
    first = service.add_attachment(owner, upload_file(PDF, "a.pdf"), "original", actor)
    first_id = first.id
    service.replace_attachment(first_id, upload_file(PDF_V2, "b.pdf"), actor)
    with pytest.raises(StaleVersion) as refused:
        service.replace_attachment(first_id, upload_file(b"%PDF-1.5 third", "c.pdf"), actor)
    assert refused.value.message == gettext(
        "This attachment has already been replaced by a newer version. "
        "Reload the page and replace the current version.")
    assert db.session.query(Attachment).count() == 2
    assert [item.version for item in service.current_attachments(owner)] == [2]


def test_cmp_04_one_current_version_per_series_is_enforced_by_the_database(app, ctx, make_user,
                                                                           department):
    from sqlalchemy.exc import IntegrityError

    actor = make_user("FrontDesk").get()
    owner = db.session.get(Department, department)
    first = service.add_attachment(owner, upload_file(PDF, "a.pdf"), "original", actor)
    for clash in ({"version": 2, "is_current": True}, {"version": 1, "is_current": False}):
        db.session.add(Attachment(owner_table="department", owner_id=department, kind="original",
                                  series_id=first.series_id, **clash))
        with pytest.raises(IntegrityError):
            db.session.flush()
        db.session.rollback()


def test_cmp_04_paper_original_location_is_recorded(app, client, make_user, login_as, department):
    login_as(make_user("AdminDesk"))
    response = client.post(f"/attachmentview/paper/department/{department}",
                           data={"kind": "original", "paper_location": "档案室 3 号柜第 2 层"})
    assert response.status_code == 302
    [row] = attachment_rows(app)
    assert row["paper_location"] == "档案室 3 号柜第 2 层"
    assert row["storage_key"] is None and row["sha256"] is None
    assert row["is_current"] is True
    # A paper-only record has nothing to download.
    assert client.get(f"/attachmentview/download/{row['id']}").status_code == 404

    # A scan can name where its paper original is kept; the location survives a new scan.
    post_upload(client, department, PDF, "扫描件.pdf", paper_location="档案室 1 号柜")
    scan = attachment_rows(app)[1]
    assert scan["paper_location"] == "档案室 1 号柜"
    client.post(f"/attachmentview/replace/{scan['id']}",
                data={"file": (io.BytesIO(PDF_V2), "扫描件2.pdf")},
                content_type="multipart/form-data")
    assert attachment_rows(app)[2]["paper_location"] == "档案室 1 号柜"


def test_paper_original_needs_a_location(app, ctx, make_user, department):
    actor = make_user("AdminDesk").get()
    owner = db.session.get(Department, department)
    with pytest.raises(InvalidInput) as refused:
        service.record_paper_original(owner, "original", "  ", actor)
    assert "paper_location" in refused.value.errors
    assert db.session.query(Attachment).count() == 0


# ---------------------------------------------------------------------------
# Limits
# ---------------------------------------------------------------------------

def test_file_over_the_size_limit_is_refused_naming_the_limit(app, ctx, make_user, department):
    app.config["ATTACHMENT_MAX_BYTES"] = 1024 * 1024
    actor = make_user("FrontDesk").get()
    owner = db.session.get(Department, department)
    too_big = PDF + b"0" * (1024 * 1024)
    with pytest.raises(InvalidInput) as refused:
        service.add_attachment(owner, upload_file(too_big, "big.pdf"), "original", actor)
    assert "1 MB" in str(refused.value.errors["file"])
    assert db.session.query(Attachment).count() == 0
    assert stored_files(app) == []  # the partial temporary file is gone too
    # Exactly at the limit is accepted.
    exact = PDF + b"0" * (1024 * 1024 - len(PDF))
    service.add_attachment(owner, upload_file(exact, "exact.pdf"), "original", actor)
    assert db.session.query(Attachment).count() == 1


@pytest.mark.parametrize("filename", ["setup.exe", "script.js", "no_extension", "page.html"])
def test_extension_not_allowed_is_refused(app, ctx, make_user, department, filename):
    actor = make_user("FrontDesk").get()
    owner = db.session.get(Department, department)
    with pytest.raises(InvalidInput) as refused:
        service.add_attachment(owner, upload_file(b"hello", filename), "original", actor)
    assert "file" in refused.value.errors
    assert "pdf" in str(refused.value.errors["file"])  # names the accepted types
    assert stored_files(app) == []


@pytest.mark.parametrize("data, filename", [
    (EXE, "report.pdf"),           # an executable renamed .pdf
    (PDF, "photo.png"),            # a PDF pretending to be an image
    (PNG, "scan.jpg"),
    (EXE, "minutes.doc"),
    (docx_bytes("payload/"), "letter.docx"),  # a zip that is no Word document
    (docx_bytes("word/"), "sheet.xlsx"),
    (EXE, "notes.txt"),
    (PDF, "ledger.csv"),
])
def test_content_contradicting_the_extension_is_refused(app, ctx, make_user, department, data,
                                                        filename):
    actor = make_user("FrontDesk").get()
    owner = db.session.get(Department, department)
    with pytest.raises(InvalidInput) as refused:
        service.add_attachment(owner, upload_file(data, filename), "original", actor)
    assert filename in str(refused.value.errors["file"])
    assert db.session.query(Attachment).count() == 0
    assert stored_files(app) == []


@pytest.mark.parametrize("data, filename, content_type", [
    (docx_bytes("word/"), "意见书.docx",
     "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    (docx_bytes("xl/"), "台帐.xlsx",
     "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64, "old.xls", "application/vnd.ms-excel"),
    (b"\xff\xd8\xff\xe0\x00\x10JFIF", "photo.JPG", "image/jpeg"),
    (b"GIF89a\x01\x00", "icon.gif", "image/gif"),
    ("编号,姓名\n1,张三\n".encode(), "list.csv", "text/csv"),
    ("\ufeff说明".encode("utf-16"), "readme.txt", "text/plain"),
])
def test_genuine_files_of_each_type_are_accepted(app, ctx, make_user, department, data,
                                                 filename, content_type):
    actor = make_user("FrontDesk").get()
    owner = db.session.get(Department, department)
    attachment = service.add_attachment(owner, upload_file(data, filename), "original", actor)
    assert attachment.content_type == content_type
    assert attachment.size_bytes == len(data)


def test_empty_file_is_refused(app, ctx, make_user, department):
    actor = make_user("FrontDesk").get()
    owner = db.session.get(Department, department)
    for filename in ("empty.pdf", "empty.txt"):
        with pytest.raises(InvalidInput) as refused:
            service.add_attachment(owner, upload_file(b"", filename), "original", actor)
        expected = gettext("The file “%(filename)s” is empty.", filename=filename)
        assert refused.value.errors["file"] == expected
    with pytest.raises(InvalidInput):
        service.add_attachment(owner, None, "original", actor)
    assert db.session.query(Attachment).count() == 0
    assert stored_files(app) == []


def test_refusal_is_flashed_on_the_web(app, client, make_user, login_as, department):
    login_as(make_user("FrontDesk"))
    response = post_upload(client, department, EXE, "合同.pdf")
    assert response.status_code == 302
    assert any("合同.pdf" in str(message) for message in flashes(client))
    assert attachment_rows(app) == []


def test_bad_kind_is_refused(app, ctx, make_user, department):
    actor = make_user("FrontDesk").get()
    owner = db.session.get(Department, department)
    with pytest.raises(InvalidInput) as refused:
        service.add_attachment(owner, upload_file(PDF, "a.pdf"), "Bad Kind!", actor)
    assert "kind" in refused.value.errors


def test_declared_kinds_are_enforced(app, ctx, make_user, department, monkeypatch):
    monkeypatch.setattr(service, "_KINDS", {})
    service.register_attachment_kinds(Department, [("licence", "营业执照")])
    actor = make_user("FrontDesk").get()
    owner = db.session.get(Department, department)
    with pytest.raises(InvalidInput):
        service.add_attachment(owner, upload_file(PDF, "a.pdf"), "original", actor)
    assert service.add_attachment(owner, upload_file(PDF, "a.pdf"), "licence", actor).kind == "licence"


def test_request_over_max_content_length_gets_a_413_page(app, client, make_user, login_as,
                                                         department):
    app.config["MAX_CONTENT_LENGTH"] = 1024 * 1024
    login_as(make_user("FrontDesk"))
    response = post_upload(client, department, PDF + b"0" * (2 * 1024 * 1024), "huge.pdf")
    assert response.status_code == 413
    page = response.get_data(as_text=True)
    assert "1 MB" in page
    assert "<html" in page.lower()
    assert attachment_rows(app) == []
    assert stored_files(app) == []


# ---------------------------------------------------------------------------
# Permissions and visibility
# ---------------------------------------------------------------------------

def test_user_without_the_permissions_is_refused(app, client, make_user, login_as, department):
    uploader = make_user("FrontDesk")
    login_as(uploader)
    post_upload(client, department, PDF, "a.pdf")
    [row] = attachment_rows(app)
    client.get("/logout/")

    login_as(make_user())  # no role at all: neither can_upload nor can_download
    assert post_upload(client, department, PDF_V2, "b.pdf").status_code == 403
    download = client.get(f"/attachmentview/download/{row['id']}")
    assert download.status_code == 403
    assert PDF not in download.data
    replace = client.post(f"/attachmentview/replace/{row['id']}",
                          data={"file": (io.BytesIO(PDF_V2), "b.pdf")},
                          content_type="multipart/form-data")
    assert replace.status_code == 403
    assert len(attachment_rows(app)) == 1


def test_anonymous_visitor_is_sent_to_login(app, client, make_user, login_as, department):
    login_as(make_user("FrontDesk"))
    post_upload(client, department, PDF, "a.pdf")
    [row] = attachment_rows(app)
    client.get("/logout/")
    response = client.get(f"/attachmentview/download/{row['id']}")
    assert response.status_code == 302 and "/login/" in response.headers["Location"]
    assert PDF not in response.data


@pytest.fixture
def hide_departments_from(monkeypatch):
    """Register a visibility rule hiding departments from one user; restored afterwards."""
    monkeypatch.setattr(visibility, "_RULES", dict(visibility._RULES))

    def _hide(user_id):
        visibility.register_visibility(
            Department,
            lambda query, user: query.filter(Department.id.is_(None)) if user.id == user_id else query,
            lambda record, user: user.id != user_id,
        )

    return _hide


def test_owner_not_visible_answers_404_without_the_data(app, client, make_user, login_as,
                                                        department, hide_departments_from):
    login_as(make_user("FrontDesk"))
    post_upload(client, department, PDF, "机密.pdf")
    [row] = attachment_rows(app)
    client.get("/logout/")

    outsider = make_user("FrontDesk")
    hide_departments_from(outsider.id)
    login_as(outsider)
    download = client.get(f"/attachmentview/download/{row['id']}")
    assert download.status_code == 404
    assert PDF not in download.data and "机密" not in download.get_data(as_text=True)
    assert post_upload(client, department, PDF_V2, "b.pdf").status_code == 404
    replace = client.post(f"/attachmentview/replace/{row['id']}",
                          data={"file": (io.BytesIO(PDF_V2), "b.pdf")},
                          content_type="multipart/form-data")
    assert replace.status_code == 404
    paper = client.post(f"/attachmentview/paper/department/{department}",
                        data={"kind": "original", "paper_location": "x"})
    assert paper.status_code == 404
    assert len(attachment_rows(app)) == 1

    with app.app_context():
        with pytest.raises(RecordNotVisible):
            service.open_for_download(row["id"], outsider.get())


def test_only_business_records_own_attachments(app, client, make_user, login_as):
    user = make_user("FrontDesk")
    login_as(user)
    for table in ("ab_user", "audit_log", "attachment", "no_such_table"):
        response = client.post(
            f"/attachmentview/upload/{table}/{user.id}",
            data={"file": (io.BytesIO(PDF), "a.pdf"), "kind": "original"},
            content_type="multipart/form-data",
        )
        assert response.status_code == 404, table
    assert client.get("/attachmentview/download/999999").status_code == 404
    assert attachment_rows(app) == []


def test_a_guard_can_make_a_record_read_only(app, ctx, make_user, department, monkeypatch):
    from app.services.errors import PermissionRefused

    monkeypatch.setattr(service, "_GUARDS", {})

    def archived(owner, actor):
        raise PermissionRefused("archived")

    service.register_attachment_guard(Department, archived)
    actor = make_user("FrontDesk").get()
    owner = db.session.get(Department, department)
    with pytest.raises(PermissionRefused):
        service.add_attachment(owner, upload_file(PDF, "a.pdf"), "original", actor)
    assert db.session.query(Attachment).count() == 0


class TestCsrf:
    @pytest.fixture
    def app_overrides(self):
        return {"WTF_CSRF_ENABLED": True}

    def test_upload_needs_the_csrf_token(self, app, client, make_user, department):
        user = make_user("FrontDesk")
        login_page = client.get("/login/").get_data(as_text=True)
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', login_page).group(1)
        client.post("/login/", data={"username": user.username, "password": PASSWORD,
                                     "csrf_token": token})
        # The login renews the session, and with it the CSRF token.
        form_page = client.get("/resetmypassword/form").get_data(as_text=True)
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form_page).group(1)
        assert post_upload(client, department, PDF, "a.pdf").status_code == 400
        assert attachment_rows(app) == []
        accepted = post_upload(client, department, PDF, "a.pdf", csrf_token=token)
        assert accepted.status_code == 302
        assert len(attachment_rows(app)) == 1


# ---------------------------------------------------------------------------
# The record page's panel
# ---------------------------------------------------------------------------

def test_panel_lists_versions_only_on_views_that_ask_for_it(app, client, make_user, login_as,
                                                            department, monkeypatch):
    from app.views.org import DepartmentView

    login_as(make_user("FrontDesk"))
    post_upload(client, department, PDF, "第一版.pdf")
    [first] = attachment_rows(app)
    client.post(f"/attachmentview/replace/{first['id']}",
                data={"file": (io.BytesIO(PDF_V2), "第二版.pdf")},
                content_type="multipart/form-data")

    page = client.get(f"/departmentview/show/{department}").get_data(as_text=True)
    assert "attachments-panel" not in page
    assert f"/attachmentview/download/{first['id']}" not in page

    monkeypatch.setattr(DepartmentView, "show_attachments", True, raising=False)
    page = client.get(f"/departmentview/show/{department}").get_data(as_text=True)
    assert "attachments-panel" in page
    assert "第一版.pdf" in page and "第二版.pdf" in page
    assert f"/attachmentview/download/{first['id']}" in page
    assert f"/attachmentview/upload/department/{department}" in page
    assert 'enctype="multipart/form-data"' in page
