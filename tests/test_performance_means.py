"""The shared means that keep lists, permissions and exports fast on large tables.

Behaviour only (no timings): capped record count with the exact count on
demand, paging past the cap, page-size caps, cached permission answers that
still follow role changes, plain-tuple CSV export in batches, and the audit
chain check still finding tampering.
"""
import csv
import io

import pytest
from sqlalchemy import event, text

from app.extensions import db
from app.models.org import Department

BOM = b"\xef\xbb\xbf"


def add_departments(app, count, prefix="P"):
    with app.app_context():
        for number in range(count):
            db.session.add(Department(code=f"{prefix}{number:02d}", name=f"部门{number:02d}"))
        db.session.commit()


@pytest.fixture
def front_desk(make_user, login_as):
    user = make_user("FrontDesk")
    login_as(user)
    return user


# ---------------------------------------------------------------------------
# Record count capped, exact on demand; paging past the cap
# ---------------------------------------------------------------------------

def test_list_count_is_capped_and_exact_on_demand(app, client, front_desk):
    app.config["LIST_COUNT_CAP"] = 3
    add_departments(app, 5)

    page = client.get("/departmentview/list/").get_data(as_text=True)
    assert "record-count-capped" in page and "3+" in page
    assert "exact_count_DepartmentView=1" in page

    exact = client.get("/departmentview/list/?exact_count_DepartmentView=1").get_data(as_text=True)
    assert "record-count-capped" not in exact
    assert "</strong> 5" in " ".join(exact.split()) or ">5<" in exact.replace(" ", "")


def test_below_the_cap_the_count_is_exact(app, client, front_desk):
    app.config["LIST_COUNT_CAP"] = 10
    add_departments(app, 4)
    page = client.get("/departmentview/list/").get_data(as_text=True)
    assert "record-count-capped" not in page
    assert "P03" in page


def test_paging_goes_on_past_a_capped_count(app, client, front_desk):
    app.config["LIST_COUNT_CAP"] = 2
    add_departments(app, 5)
    args = "psize_DepartmentView=2&_oc_DepartmentView=code&_od_DepartmentView=asc"

    first = client.get(f"/departmentview/list/?{args}").get_data(as_text=True)
    assert "P00" in first and "P02" not in first
    # "next" is offered although the count stopped at the cap ...
    assert "page-next" in first

    last = client.get(f"/departmentview/list/?{args}&page_DepartmentView=2").get_data(as_text=True)
    assert "P04" in last and "P03" not in last
    # ... and not on the last page, found without counting.
    assert "page-next" not in last


def test_filters_on_choice_columns_offer_equality_first(app):
    from flask_appbuilder.models.sqla.filters import FilterEqual

    with app.test_request_context():
        view = next(v for v in app.appbuilder.baseviews
                    if v.__class__.__name__ == "ComplaintView")
        assert isinstance(view._filters.get_search_filters()["status"][0], FilterEqual)
        assert isinstance(view._filters._all_filters["status"][0], FilterEqual)


# ---------------------------------------------------------------------------
# Page size capped
# ---------------------------------------------------------------------------

def test_html_list_page_size_is_capped(app, client, front_desk):
    app.config["PAGE_SIZE_MAX"] = 2
    add_departments(app, 5)
    page = client.get("/departmentview/list/?psize_DepartmentView=1000"
                      "&_oc_DepartmentView=code&_od_DepartmentView=asc").get_data(as_text=True)
    assert "P01" in page and "P02" not in page


def test_rest_api_page_size_is_capped(app, client, front_desk):
    from tests.conftest import api_token

    app.config["FAB_API_MAX_PAGE_SIZE"] = 2
    add_departments(app, 5)
    headers = {"Authorization": f"Bearer {api_token(client, front_desk)}"}
    response = client.get("/api/v1/department/?q=(page_size:1000)", headers=headers)
    assert response.status_code == 200
    assert len(response.get_json()["result"]) == 2


# ---------------------------------------------------------------------------
# Permission answers cached, and role changes still take effect
# ---------------------------------------------------------------------------

def _list_permission(app):
    sm = app.appbuilder.sm
    return sm.find_role("FrontDesk"), sm.find_permission_view_menu("can_list", "DepartmentView")


def test_role_change_through_the_orm_takes_effect_at_once(app, client, front_desk):
    assert client.get("/departmentview/list/").status_code == 200
    with app.app_context():
        role, permission = _list_permission(app)
        app.appbuilder.sm.del_permission_role(role, permission)
    assert client.get("/departmentview/list/").status_code == 403
    with app.app_context():
        role, permission = _list_permission(app)
        app.appbuilder.sm.add_permission_role(role, permission)
    assert client.get("/departmentview/list/").status_code == 200


def test_role_change_made_elsewhere_is_seen_through_the_fingerprint(app, client, front_desk):
    """Another worker (or plain SQL) changed the role: no event reached this process."""
    assert client.get("/departmentview/list/").status_code == 200
    with app.app_context():
        role, permission = _list_permission(app)
        role_id, permission_id = role.id, permission.id
        db.session.remove()
        with db.engine.begin() as connection:
            connection.execute(text(
                "DELETE FROM ab_permission_view_role WHERE role_id = :role "
                "AND permission_view_id = :pv"), {"role": role_id, "pv": permission_id})
    assert client.get("/departmentview/list/").status_code == 403


def test_permission_queries_are_not_repeated_per_menu_entry(app, client, front_desk):
    client.get("/departmentview/list/")  # fills the per-role cache
    statements = []
    with app.app_context():
        engine = db.engine

    def record(_conn, _cursor, statement, *_args):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        assert client.get("/departmentview/list/").status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", record)
    permission_reads = [s for s in statements if "ab_permission_view" in s]
    # Only the fingerprint check of this request.
    assert len(permission_reads) == 1, permission_reads


# ---------------------------------------------------------------------------
# Export: all rows, in batches, through the plain-tuple reader
# ---------------------------------------------------------------------------

def test_export_streams_every_row_in_batches_with_safe_text(app, client, front_desk):
    app.config["EXPORT_BATCH_SIZE"] = 2
    add_departments(app, 4)
    with app.app_context():
        parent = db.session.query(Department).filter_by(code="P00").one()
        db.session.add(Department(code="P99", name="=SUM(A1)", parent_id=parent.id))
        db.session.commit()

    response = client.get("/departmentview/export.csv")
    assert response.status_code == 200 and response.is_streamed
    chunks = list(response.response)
    response.close()
    assert chunks[0].startswith(BOM)
    # The header, then one chunk per batch of two rows.
    assert len(chunks) == 1 + 3
    rows = list(csv.reader(io.StringIO(b"".join(chunks).decode("utf-8-sig"), newline="")))
    assert len(rows) == 1 + 5
    by_code = {row[0]: row for row in rows[1:]}
    assert by_code["P99"][1] == "'=SUM(A1)"  # formula neutralised
    assert by_code["P99"][2] == "部门00"  # the related record's text
    with app.app_context():
        assert db.engine.pool.checkedout() == 0


# ---------------------------------------------------------------------------
# Audit chain verification still finds tampering
# ---------------------------------------------------------------------------

def test_verify_still_detects_an_altered_entry(app):
    from app.audit.chain import append_entries, verify_chain
    from app.audit.ddl import drop_append_only_guards
    from app.audit.listener import build_entry

    with app.app_context():
        with db.engine.begin() as connection:
            append_entries(connection, [
                {**build_entry("update", "department", number, {"name": ["a", "b"]}),
                 "actor_id": 1, "actor_name": "tester"}
                for number in range(50)])
        with db.engine.connect() as connection:
            assert verify_chain(connection).ok
        with db.engine.begin() as connection:
            drop_append_only_guards(connection)
            row_id = connection.execute(text("SELECT id FROM audit_log ORDER BY id")).scalars().all()[20]
            connection.execute(text("UPDATE audit_log SET actor_name = 'someone' WHERE id = :id"),
                               {"id": row_id})
        with db.engine.connect() as connection:
            result = verify_chain(connection)
        assert not result.ok and result.broken_id == row_id and result.problem == "entry_hash"
