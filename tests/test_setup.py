"""`flask init --demo`: roles, admin, one demo user per role, printed once created, idempotent."""
from flask_appbuilder.security.sqla.models import User

from app.extensions import db
from app.models.org import Absence, Department, StaffProfile
from app.security.roles import ROLES
from app.setup import DEMO_USERS


def test_init_demo_creates_accounts_and_is_idempotent(app):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["init", "--demo"])
    assert first.exit_code == 0, first.output
    for username, family, given, *_rest in DEMO_USERS:
        assert username in first.output
    assert "admin" in first.output
    with app.app_context():
        users = db.session.query(User).count()
        assert users == len(DEMO_USERS) + 1
        for username, _f, _g, role_name, *_rest in DEMO_USERS:
            user = db.session.query(User).filter_by(username=username).one()
            assert [role.name for role in user.roles] == [role_name]
        assert db.session.query(StaffProfile).count() == len(DEMO_USERS)
        assert db.session.query(Department).filter(Department.head_id.isnot(None)).count() > 5
        absences = db.session.query(Absence).count()
    second = runner.invoke(args=["init", "--demo"])
    assert second.exit_code == 0, second.output
    # The accounts are printed again from the instance file, nothing is created twice.
    assert "zhangwei" in second.output
    with app.app_context():
        assert db.session.query(User).count() == users
        assert db.session.query(Absence).count() == absences
    assert {row[3] for row in DEMO_USERS} == {spec.name for spec in ROLES}


def test_demo_passwords_meet_the_complexity_rule(app):
    from flask_appbuilder.validators import default_password_complexity

    from app.setup import generate_password

    for _ in range(50):
        default_password_complexity(generate_password())
