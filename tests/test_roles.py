"""Roles as data: sync-roles makes the database match roles.py, and every door obeys it."""
import pytest
from flask import url_for

from app.extensions import db
from app.security.roles import ADMIN, ROLES, ROLES_BY_NAME
from app.security.sync import sync_roles
from app.setup import DEMO_USERS
from app.views.base import AppModelApi, AppModelView
from tests.conftest import api_token, login


def _role_pairs(sm, name):
    role = sm.find_role(name)
    return {(pv.permission.name, pv.view_menu.name) for pv in role.permissions}


def test_every_regulation_role_exists_with_exactly_its_permissions(ctx):
    sm = ctx.appbuilder.sm
    for spec in ROLES:
        assert sm.find_role(spec.name) is not None, spec.name
        assert _role_pairs(sm, spec.name) == set(spec.permissions), spec.name


def test_sync_roles_is_idempotent_and_repairs_drift(ctx):
    sm = ctx.appbuilder.sm
    assert all(change == (0, 0) for change in sync_roles(sm).values())
    front_desk = sm.find_role("FrontDesk")
    removed = front_desk.permissions[0]
    front_desk.permissions = front_desk.permissions[1:]
    extra = sm.add_permission_view_menu("can_edit", "DepartmentView")
    front_desk.permissions.append(extra)
    db.session.commit()
    report = sync_roles(sm)
    assert report["FrontDesk"] == (1, 1)
    pairs = _role_pairs(sm, "FrontDesk")
    assert (removed.permission.name, removed.view_menu.name) in pairs
    assert ("can_edit", "DepartmentView") not in pairs


def test_sync_roles_command(app):
    result = app.test_cli_runner().invoke(args=["sync-roles"])
    assert result.exit_code == 0
    assert "FrontDesk: +0 -0" in result.output


def test_demo_users_cover_every_role():
    assert {row[3] for row in DEMO_USERS} == set(ROLES_BY_NAME)
    assert len({row[0] for row in DEMO_USERS}) == len(DEMO_USERS)


def _list_doors(app):
    """(kind, permission view name, url) for every business list view and REST resource."""
    doors = []
    with app.test_request_context():
        for view in app.appbuilder.baseviews:
            if isinstance(view, AppModelView):
                doors.append(("html", view.class_permission_name,
                              url_for(f"{view.__class__.__name__}.list")))
            elif isinstance(view, AppModelApi):
                doors.append(("api", view.class_permission_name,
                              f"/api/v1/{view.resource_name}/"))
    return doors


@pytest.mark.parametrize("role_name", [spec.name for spec in ROLES] + [ADMIN])
def test_every_role_gets_exactly_the_list_doors_roles_py_gives_it(app, make_user, role_name):
    """The authorisation matrix for lists: allowed means 200, otherwise 403."""
    user = make_user(role_name)
    client = app.test_client()
    login(client, user)
    token = api_token(app.test_client(), user)
    permissions = set(ROLES_BY_NAME[role_name].permissions) if role_name != ADMIN else None
    doors = _list_doors(app)
    assert doors, "no business views registered"
    for kind, view_name, url in doors:
        if kind == "html":
            allowed = permissions is None or ("can_list", view_name) in permissions
            status = client.get(url).status_code
        else:
            allowed = permissions is None or ("can_get", view_name) in permissions
            status = client.get(url, headers={"Authorization": f"Bearer {token}"}).status_code
        assert status == (200 if allowed else 403), (role_name, url, status)
