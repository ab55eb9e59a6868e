"""The projects demo data: every stage present, created through the services, idempotent."""
from app.audit.context import acting_as
from app.extensions import db
from app.models.projects import PowerApplication, Stage


def test_demo_projects_cover_the_stages_and_are_idempotent(ctx):
    from app.demo.projects import PROJECTS, create_demo_data
    from app.services import projects as svc
    from app.setup import _create_demo_organisation, _create_demo_users

    sm = ctx.appbuilder.sm
    admin = sm.add_user("admin", "管理员", "系统", "admin@example.com", sm.find_role("Admin"),
                        password="Adm1n#Pass123")
    with acting_as(admin):
        _create_demo_users(sm)
        _create_demo_organisation(sm)
        lines = []
        create_demo_data(lines.append)
        create_demo_data(lines.append)
    assert "already present" in lines[-1]
    projects = db.session.query(PowerApplication).all()
    assert len(projects) == len(PROJECTS) >= 20
    stages = {project.stage for project in projects}
    assert set(Stage.PATH) | {Stage.WITHDRAWN} == stages
    assert {project.review_route for project in projects} == {"station", "branch", "city"}
    assert any(project.residential_lighting for project in projects)
    assert db.session.scalars(svc.overdue_application_ids()).all()
