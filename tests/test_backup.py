"""Backup and restore: `flask backup` then `flask restore` into a fresh database.

The source holds complaints made through the service, an attachment and
their audit trail; the backup runs while another connection holds an
uncommitted write. The restored database must have the same row count in
every table, an intact audit chain ending at the same hash, the attachment
file, and working accounts; a database that already holds accounts is refused
without --force, and a manifest that does not match what was restored fails.
"""
import io
import json
import os
import re
import tarfile

import pytest
from sqlalchemy import create_engine, insert, select
from sqlalchemy.pool import NullPool
from werkzeug.datastructures import FileStorage

from app import create_app
from app.audit.chain import verify_chain
from app.audit.context import acting_as
from app.backup import audit_head, table_counts
from app.extensions import db
from app.models.complaints import Complaint
from app.models.org import Department
from app.services import attachments as attachment_service
from app.services import complaints as complaint_service
from tests.conftest import BASE_OVERRIDES, login, logged_in

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n"


def _counts_and_head(app):
    with app.app_context(), db.engine.connect() as connection:
        return table_counts(connection), audit_head(connection)


def _make_data(app, make_user):
    """Three complaints (one a step further), an attachment: through the services."""
    front = make_user("FrontDesk")
    officer = make_user("ComplaintOfficer")
    partner = make_user("Partner")
    with app.app_context():
        department = Department(code="PROP", name="物业管理部")
        db.session.add(department)
        db.session.commit()
        department_id = department.id
    respondent = make_user("PropertyAssistant")
    subjects = ["电梯维修不及时", "停车收费有误", "绿化养护意见"]
    with app.app_context():
        with acting_as(front.get()) as user:
            ids = [complaint_service.register_complaint(user, {
                "kind": "complaint", "channel": "phone", "complainant_name": "李先生",
                "complainant_phone": "13912345678", "subject": subject,
                "description": "备份测试。", "severity": "general",
                "respondent_user_id": respondent.id, "respondent_department_id": department_id,
                "officer_id": officer.id, "partner_id": partner.id,
            }).id for subject in subjects]
            owner = db.session.get(Department, department_id)
            attachment = attachment_service.add_attachment(
                owner, FileStorage(stream=io.BytesIO(PDF), filename="原件.pdf"), "original", user)
            storage_key = attachment.storage_key
    with app.app_context():
        with acting_as(officer.get()) as user:
            record = db.session.get(Complaint, ids[0])
            complaint_service.take(ids[0], "write_opinion", user, record.version,
                                   opinion="建议限期维修。")
    return subjects, storage_key, front


@pytest.fixture
def target(database_factory, tmp_path):
    """A second app on a fresh database (from migrations-equivalent schema, no accounts)."""
    url = database_factory.new_url()
    application = create_app({
        **BASE_OVERRIDES, "SQLALCHEMY_DATABASE_URI": url, "FAB_UPDATE_PERMS": False,
        "INSTANCE_PATH": str(tmp_path / "target-instance"),
        "ATTACHMENT_FOLDER": str(tmp_path / "target-files"),
    })
    yield application
    with application.app_context():
        db.session.remove()
        db.engine.dispose()
    database_factory.drop(url)


def test_backup_then_restore_into_a_fresh_database(app, make_user, target, tmp_path):
    subjects, storage_key, front = _make_data(app, make_user)
    counts, head = _counts_and_head(app)
    assert counts["complaint"] == 3 and counts["attachment"] == 1 and head["count"] > 10

    # Another connection is in the middle of a write: the backup neither waits nor sees it.
    writer = create_engine(app.config["SQLALCHEMY_DATABASE_URI"], poolclass=NullPool)
    archive = tmp_path / "nightly.tar.gz"
    with writer.connect() as connection:
        transaction = connection.begin()
        connection.execute(insert(Department.__table__).values(code="UNCOMMITTED", name="未提交"))
        result = app.test_cli_runner().invoke(args=["backup", str(archive)])
        transaction.rollback()
    writer.dispose()
    assert result.exit_code == 0, result.output
    assert str(archive) in result.output
    assert f"last hash {head['last_hash']}" in result.output
    assert re.search(r"^\s+complaint\s+3$", result.output, re.MULTILINE)
    assert os.stat(archive).st_mode & 0o077 == 0  # password hashes inside: owner only
    with tarfile.open(archive) as tar:
        manifest = json.load(tar.extractfile("manifest.json"))
        names = tar.getnames()
    assert manifest["counts"] == counts
    assert manifest["audit"] == head
    assert f"attachments/{storage_key}" in names

    restored = target.test_cli_runner().invoke(args=["restore", str(archive)])
    assert restored.exit_code == 0, restored.output
    assert "Audit trail verified" in restored.output
    assert _counts_and_head(target) == (counts, head)
    with target.app_context():
        with db.engine.connect() as connection:
            check = verify_chain(connection)
        assert check.ok and check.last_hash == head["last_hash"] and check.count == head["count"]
        assert sorted(db.session.execute(select(Complaint.subject)).scalars()) == sorted(subjects)
        assert not db.session.execute(
            select(Department).where(Department.code == "UNCOMMITTED")).first()
    stored = os.path.join(target.config["ATTACHMENT_FOLDER"], *storage_key.split("/"))
    with open(stored, "rb") as restored_file:
        assert restored_file.read() == PDF
    assert logged_in(login(target.test_client(), front))  # accounts and passwords came along

    # The target now holds accounts: a second restore must be asked for.
    refused = target.test_cli_runner().invoke(args=["restore", str(archive)])
    assert refused.exit_code != 0
    assert "already holds user accounts" in refused.output

    # A manifest that does not match what is restored is reported, with exit status 1.
    doctored = tmp_path / "doctored.tar.gz"
    manifest["audit"]["last_hash"] = "f" * 64
    manifest["counts"]["complaint"] = 4
    with tarfile.open(archive) as source, tarfile.open(doctored, "w:gz") as copy:
        for member in source.getmembers():
            if member.name == "manifest.json":
                data = json.dumps(manifest).encode()
                member.size = len(data)
                copy.addfile(member, io.BytesIO(data))
            else:
                copy.addfile(member, source.extractfile(member))
    forced = target.test_cli_runner().invoke(args=["restore", "--force", str(doctored)])
    assert forced.exit_code == 1, forced.output
    assert "row counts differ from the backup in: complaint" in forced.output
    assert "f" * 64 in forced.output
    assert _counts_and_head(target) == (counts, head)  # --force did replace the database


def test_restore_refuses_what_is_not_a_backup(target, tmp_path):
    bogus = tmp_path / "bogus.tar.gz"
    with tarfile.open(bogus, "w:gz") as tar:
        data = b"hello"
        info = tarfile.TarInfo("readme.txt")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    result = target.test_cli_runner().invoke(args=["restore", str(bogus)])
    assert result.exit_code != 0
    assert "not a backup archive" in result.output
    missing = target.test_cli_runner().invoke(args=["restore", str(tmp_path / "none.tar.gz")])
    assert missing.exit_code != 0 and "no such file" in missing.output
