"""The audit trail (X-02) and the no-hard-delete guard (X-03)."""
import json
import threading

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from app.audit.chain import GENESIS_HASH, verify_chain
from app.audit.context import acting_as, acting_for
from app.audit.ddl import drop_append_only_guards, install_append_only_guards
from app.audit.events import record_event
from app.audit.listener import HardDeleteRefused, allow_destruction
from app.extensions import db
from app.models.audit import AuditLog
from app.models.org import Department
from tests.conftest import PASSWORD, api_token, is_postgres, login


def entries(table_name=None, row_id=None, action=None):
    statement = select(AuditLog).order_by(AuditLog.id)
    if table_name:
        statement = statement.where(AuditLog.table_name == table_name)
    if row_id is not None:
        statement = statement.where(AuditLog.row_id == str(row_id))
    if action:
        statement = statement.where(AuditLog.action == action)
    return list(db.session.scalars(statement))


def changes(entry):
    return json.loads(entry.changes) if entry.changes else {}


def verify():
    with db.engine.connect() as connection:
        return verify_chain(connection)


def new_department(code="CS", name="客服部", **values):
    department = Department(code=code, name=name, **values)
    db.session.add(department)
    db.session.commit()
    return department


def run_sql(statement, **params):
    with db.engine.begin() as connection:
        return connection.execute(text(statement), params)


# ---------------------------------------------------------------------------
# Row changes
# ---------------------------------------------------------------------------

def test_x_02_insert_update_delete_are_recorded_with_values_and_actor(ctx, make_user):
    clerk = make_user("FrontDesk")
    with acting_as(clerk.get()):
        department = new_department()
        department_id = department.id
        assert department.created_by_id == clerk.id
        department.name = "客户服务部"
        department.active = False
        db.session.commit()
        with allow_destruction():
            db.session.delete(department)
            db.session.commit()

    inserted, updated, deleted = entries("department", department_id)
    assert (inserted.action, updated.action, deleted.action) == ("insert", "update", "delete")
    for entry in (inserted, updated, deleted):
        assert (entry.actor_id, entry.actor_name) == (clerk.id, clerk.username)
        assert entry.acting_for_id is None
        assert entry.occurred_at is not None
    assert changes(inserted)["code"] == [None, "CS"]
    assert changes(inserted)["name"] == [None, "客服部"]
    assert changes(inserted)["created_by_id"] == [None, clerk.id]
    assert changes(updated) == {"name": ["客服部", "客户服务部"], "active": [True, False]}
    assert changes(deleted)["name"] == ["客户服务部", None]
    assert changes(deleted)["code"] == ["CS", None]


def test_x_02_old_values_not_loaded_by_the_session_are_fetched(ctx):
    department_id = new_department().id
    db.session.expire_all()
    department = db.session.get(Department, department_id)
    db.session.expire(department)
    department.name = "改名"  # assigned while expired: the session never saw the old name
    db.session.commit()
    db.session.expire(department)
    with allow_destruction():
        db.session.delete(department)
        db.session.commit()

    _inserted, updated, deleted = entries("department", department_id)
    assert changes(updated)["name"] == ["客服部", "改名"]
    assert changes(deleted)["name"] == ["改名", None]


def test_x_02_timestamps_are_recorded_in_utc_canonical_text(ctx):
    department = new_department()
    (inserted,) = entries("department", department.id)
    recorded = changes(inserted)["created_at"][1]
    assert recorded == department.created_at.isoformat(sep=" ", timespec="microseconds")


def test_x_02_role_changes_of_a_user_are_recorded(ctx, make_user):
    user = make_user("FrontDesk")
    sm = ctx.appbuilder.sm
    account = user.get()
    account.roles = [sm.find_role("Auditor")]
    db.session.commit()
    (entry,) = entries("ab_user", user.id, "update")
    assert changes(entry) == {"roles": [["FrontDesk"], ["Auditor"]]}


def test_x_02_passwords_never_reach_the_trail(ctx, make_user, client):
    user = make_user("FrontDesk")
    sm = ctx.appbuilder.sm
    sm.reset_password(user.id, "An0ther#Secret99")
    stored_hash = user.get().password
    with ctx.test_request_context():
        sm.auth_user_db(user.username, PASSWORD)  # a failed attempt, with the old password
    trail = [(entry.changes or "") + (entry.actor_name or "") for entry in entries()]
    assert trail, "the trail is empty: nothing was tested"
    assert [text_ for text_ in trail if user.username in text_], "the user's rows are missing"
    for text_ in trail:
        assert '"password"' not in text_
        assert PASSWORD not in text_ and "An0ther#Secret99" not in text_
        assert stored_hash not in text_


def test_x_02_acting_for_is_recorded(ctx, make_user):
    delegate = make_user("FrontDesk")
    principal = make_user("Director")
    with acting_as(delegate.get()), acting_for(principal.get()):
        department = new_department()
    (entry,) = entries("department", department.id)
    assert (entry.actor_id, entry.acting_for_id) == (delegate.id, principal.id)
    assert entry.acting_for_name == principal.username


def test_x_02_remote_address_is_recorded_on_a_web_request(app, client, make_user, login_as):
    admin = make_user("Admin")
    login_as(admin)
    form = {"code": "WEB", "name": "网上部", "active": "y"}
    response = client.post("/departmentview/add", data=form,
                           environ_base={"REMOTE_ADDR": "10.9.8.7"})
    assert response.status_code == 302, response.get_data(as_text=True)[-2000:]
    with app.app_context():
        department = db.session.scalar(select(Department).where(Department.code == "WEB"))
        (entry,) = entries("department", department.id)
        assert entry.remote_addr == "10.9.8.7"
        assert entry.actor_id == admin.id


# ---------------------------------------------------------------------------
# Logins and other events
# ---------------------------------------------------------------------------

def test_x_02_login_failed_login_and_logout_are_recorded(app, client, make_user):
    user = make_user("FrontDesk")
    assert login(client, user, password="Wrong#Pass12word").status_code == 302
    assert login(client, type(user)(app, None, "nobody-such"), password="x").status_code == 302
    response = login(client, user)
    assert "/login" not in response.headers["Location"]
    assert client.get("/").status_code == 200  # FAB's session survived our entry
    client.get("/logout/")

    with app.app_context():
        events = [e for e in entries("ab_user") if e.action in ("login", "login_failed", "logout")]
        failed_existing, failed_unknown, logged_in, logged_out = events
        assert (failed_existing.action, failed_existing.row_id) == ("login_failed", str(user.id))
        assert failed_existing.actor_id is None
        assert changes(failed_existing) == {"username": user.username}
        assert (failed_unknown.action, failed_unknown.row_id) == ("login_failed", None)
        assert changes(failed_unknown) == {"username": "nobody-such"}
        assert (logged_in.action, logged_in.actor_id, logged_in.row_id) == (
            "login", user.id, str(user.id))
        assert logged_in.remote_addr == "127.0.0.1"
        assert (logged_out.action, logged_out.actor_id) == ("logout", user.id)
        # Login statistics are no separate change entries.
        assert not entries("ab_user", user.id, "update")


def test_x_02_api_login_is_recorded(app, client, make_user):
    user = make_user("FrontDesk")
    api_token(client, user)
    with app.app_context():
        assert [e.actor_id for e in entries("ab_user", user.id, "login")] == [user.id]


def test_x_02_an_event_outside_a_write_commits_at_once(ctx, make_user):
    reader = make_user("FrontDesk")
    department = new_department()
    with acting_as(reader.get()):
        record_event("read", "department", department.id, {"why": "test"})
    db.session.rollback()  # the session had written nothing: the entry is already committed
    (entry,) = entries("department", department.id, "read")
    assert (entry.actor_id, changes(entry)) == (reader.id, {"why": "test"})


def test_x_02_an_event_inside_a_write_shares_its_transaction(ctx):
    department = Department(code="TMP", name="临时")
    db.session.add(department)
    db.session.flush()
    record_event("read", "department", department.id)
    db.session.rollback()
    assert entries("department", action="read") == []
    assert verify().ok


# ---------------------------------------------------------------------------
# The chain
# ---------------------------------------------------------------------------

def test_x_02_chain_verifies(ctx):
    for number in range(3):
        department = new_department(code=f"D{number}", name=f"部门{number}")
        department.name += "改"
        db.session.commit()
    result = verify()
    assert result.ok, result.message
    assert result.count == len(entries())
    first, last = entries()[0], entries()[-1]
    assert first.prev_hash == GENESIS_HASH
    assert result.last_hash == last.entry_hash


def test_x_02_entries_of_one_transaction_chain_across_flushes_and_savepoints(ctx):
    db.session.add(Department(code="A", name="甲"))
    db.session.flush()
    savepoint = db.session.begin_nested()
    db.session.add(Department(code="B", name="乙"))
    db.session.flush()
    savepoint.rollback()
    db.session.add(Department(code="C", name="丙"))
    db.session.flush()
    db.session.add(Department(code="D", name="丁"))
    db.session.commit()
    codes = [changes(e)["code"][1] for e in entries("department")]
    assert codes == ["A", "C", "D"]
    assert verify().ok


def test_x_02_concurrent_writers_keep_one_chain(app):
    errors = []

    def writer(prefix):
        try:
            with app.app_context():
                for number in range(10):
                    new_department(code=f"{prefix}{number}", name=prefix)
                db.session.remove()
        except Exception as error:  # reported below, in the test's thread
            errors.append(error)

    threads = [threading.Thread(target=writer, args=(prefix,)) for prefix in "XYZ"]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    with app.app_context():
        assert len(entries("department")) == 30
        assert verify().ok


def test_x_02_unusual_values_hash_the_same_when_written_and_verified(ctx):
    from app.audit.chain import append_entries
    from app.audit.listener import build_entry

    odd = build_entry("read", "department", None, {"note": "两行\n文本", "n": 1.5})
    odd.update(actor_id=0, actor_name="a\nb:c", acting_for_name="名字", remote_addr="::1")
    plain = build_entry("export", "ab_user")
    with db.engine.begin() as connection:
        append_entries(connection, [odd, plain])
    for workers in (1, 2):
        with db.engine.connect() as connection:
            assert verify_chain(connection, workers=workers).ok


def test_x_02_tampering_is_detected_and_verify_exits_non_zero(app, make_user):
    user = make_user("FrontDesk")
    runner = app.test_cli_runner()
    with app.app_context():
        with acting_as(user.get()):
            department = new_department()
            department.name = "第二版"
            db.session.commit()
        target_id = entries("department", department.id)[0].id
        last_hash = entries()[-1].entry_hash
    ok = runner.invoke(args=["audit", "verify"])
    assert ok.exit_code == 0, ok.output
    assert last_hash in ok.output

    with app.app_context():
        with db.engine.begin() as connection:
            drop_append_only_guards(connection)
            connection.execute(text("UPDATE audit_log SET changes = :changes WHERE id = :id"),
                               {"changes": '{"name":[null,"伪造"]}', "id": target_id})
        result = verify()
    assert not result.ok
    assert (result.broken_id, result.problem) == (target_id, "entry_hash")

    broken = runner.invoke(args=["audit", "verify"])
    assert broken.exit_code == 1
    assert str(target_id) in broken.output


def test_x_02_a_removed_entry_breaks_the_link_of_the_next(ctx):
    for code in ("A", "B", "C"):
        new_department(code=code, name=code)
    _first, second_id, third_id = [entry.id for entry in entries("department")]
    db.session.rollback()  # end the session's read: DDL on PostgreSQL waits for it
    with db.engine.begin() as connection:
        drop_append_only_guards(connection)
        connection.execute(text("DELETE FROM audit_log WHERE id = :id"), {"id": second_id})
    result = verify()
    assert (result.ok, result.broken_id, result.problem) == (False, third_id, "prev_hash")


def test_x_02_verify_in_parallel_ranges_finds_the_same_break(ctx):
    for number in range(12):
        new_department(code=f"P{number}", name=f"并行{number}")
    with db.engine.connect() as connection:
        whole = verify_chain(connection, workers=1)
        split = verify_chain(connection, workers=3)
    assert whole.ok and split.ok
    assert (whole.count, whole.last_hash) == (split.count, split.last_hash)

    ids = [entry.id for entry in entries("department")]
    db.session.rollback()
    with db.engine.begin() as connection:
        drop_append_only_guards(connection)
        connection.execute(text("DELETE FROM audit_log WHERE id = :id"), {"id": ids[8]})
        connection.execute(text("UPDATE audit_log SET actor_name = 'mallory' WHERE id = :id"),
                           {"id": ids[10]})
    with db.engine.connect() as connection:
        for workers in (1, 2, 3):
            result = verify_chain(connection, workers=workers)
            assert (result.ok, result.broken_id, result.problem) == (False, ids[9], "prev_hash")


@pytest.mark.parametrize("statement", [
    "UPDATE audit_log SET action = 'insert'",
    "DELETE FROM audit_log",
])
def test_x_02_the_database_refuses_to_change_the_trail(ctx, statement):
    new_department()
    before = len(entries())
    with pytest.raises(DBAPIError, match="append-only"):
        run_sql(statement)
    assert len(entries()) == before


@pytest.mark.skipif(not is_postgres(), reason="TRUNCATE exists on PostgreSQL only")
def test_x_02_postgres_refuses_truncate(ctx):
    new_department()
    with pytest.raises(DBAPIError, match="append-only"):
        run_sql("TRUNCATE audit_log")


def test_x_02_guards_can_be_reinstalled(ctx):
    db.session.rollback()
    with db.engine.begin() as connection:
        drop_append_only_guards(connection)
        install_append_only_guards(connection)
        install_append_only_guards(connection)  # idempotent
    new_department()
    with pytest.raises(DBAPIError, match="append-only"):
        run_sql("DELETE FROM audit_log")


# ---------------------------------------------------------------------------
# no hard delete
# ---------------------------------------------------------------------------

def test_x_03_hard_delete_of_a_business_row_is_refused(ctx):
    department = new_department()
    db.session.delete(department)
    with pytest.raises(HardDeleteRefused) as refused:
        db.session.commit()
    assert refused.value.status == 403
    db.session.rollback()
    assert db.session.get(Department, department.id) is not None
    assert not entries("department", department.id, "delete")


def test_x_03_destruction_path_may_delete_and_is_audited(ctx):
    department = new_department()
    with allow_destruction():
        db.session.delete(department)
        db.session.commit()
    assert db.session.get(Department, department.id) is None
    assert entries("department", department.id, "delete")
    # The permission ends with the block.
    other = new_department(code="B", name="乙")
    db.session.delete(other)
    with pytest.raises(HardDeleteRefused):
        db.session.flush()
    db.session.rollback()


def test_x_03_security_rows_stay_deletable_by_the_admin(ctx):
    sm = ctx.appbuilder.sm
    role = sm.add_role("Temporary")
    role_id = role.id
    db.session.delete(role)
    db.session.commit()
    assert sm.find_role("Temporary") is None
    assert entries("ab_role", role_id, "delete")


# ---------------------------------------------------------------------------
# Screens
# ---------------------------------------------------------------------------

def test_x_02_the_auditor_reads_the_trail_others_may_not(app, client, make_user, login_as):
    auditor = make_user("Auditor")
    clerk = make_user("FrontDesk")
    with app.app_context(), acting_as(clerk.get()):
        department = new_department(code="SEEN", name="看得见的部门")
        department.name = "<b>改名</b>"
        db.session.commit()
        entry_id = entries("department", department.id, "update")[0].id

    login_as(auditor)
    page = client.get("/auditlogview/list/")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert "name: 看得见的部门 → &lt;b&gt;改名&lt;/b&gt;" in body  # readable, and escaped
    assert clerk.username in body
    shown = client.get(f"/auditlogview/show/{entry_id}")
    assert shown.status_code == 200
    assert "name: 看得见的部门 → &lt;b&gt;改名&lt;/b&gt;" in shown.get_data(as_text=True)
    assert client.get("/auditlogview/add").status_code == 404
    assert client.get("/auditlogview/edit/1").status_code == 404
    assert client.get("/auditlogview/delete/1").status_code == 404
    client.get("/logout/")

    login_as(clerk)
    assert client.get("/auditlogview/list/").status_code == 403


def test_x_02_the_audit_api_is_read_only(app, client, make_user):
    token = api_token(client, make_user("Auditor"))
    headers = {"Authorization": f"Bearer {token}"}
    listed = client.get("/api/v1/audit_log/", headers=headers)
    assert listed.status_code == 200
    ids = [row["id"] for row in listed.get_json()["result"]]
    assert ids and ids == sorted(ids, reverse=True)
    posted = client.post("/api/v1/audit_log/", json={"action": "x"}, headers=headers)
    assert posted.status_code == 405
    assert client.put(f"/api/v1/audit_log/{ids[0]}", json={}, headers=headers).status_code == 405
    assert client.delete(f"/api/v1/audit_log/{ids[0]}", headers=headers).status_code == 405

    clerk_token = api_token(client, make_user("FrontDesk"))
    refused = client.get("/api/v1/audit_log/", headers={"Authorization": f"Bearer {clerk_token}"})
    assert refused.status_code == 403


def test_x_02_a_record_page_shows_its_history(app, client, make_user, login_as):
    editor = make_user("Director")
    with app.app_context(), acting_as(editor.get()):
        department = new_department(code="HIS", name="旧名称")
        department.name = "新名称"
        db.session.commit()
        department_id = department.id

    login_as(make_user("FrontDesk"))
    page = client.get(f"/departmentview/show/{department_id}")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert "record-history" in body
    assert "旧名称 → 新名称" in body
    assert "测试" + editor.username in body  # the editor's display name (staff profile)
    assert "updated_by_id" not in body  # fields the page does not show stay hidden
