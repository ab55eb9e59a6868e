"""The migrations build the schema the models describe, on SQLite and PostgreSQL."""
import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_appbuilder import Model
from flask_migrate import upgrade
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DatabaseError

from app import MIGRATIONS_DIR, create_app
from app.extensions import db
from tests.conftest import BASE_OVERRIDES, TEST_DATABASE_URL, _pg_admin_connection, is_postgres


@pytest.fixture
def empty_database_url(tmp_path):
    if not is_postgres():
        yield "sqlite:///" + str(tmp_path / "empty.db")
        return
    name = "cs_mig_" + uuid.uuid4().hex[:8]
    with _pg_admin_connection(TEST_DATABASE_URL) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    yield make_url(TEST_DATABASE_URL).set(database=name).render_as_string(hide_password=False)
    with _pg_admin_connection(TEST_DATABASE_URL) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _ignorable(diff):
    # Partial-index predicates are not compared reliably by Alembic.
    return diff[0] in ("add_index", "remove_index") and diff[1].name == "uq_attachment_current_series"


def test_upgrade_builds_the_models_schema_with_audit_guards(empty_database_url, tmp_path):
    app = create_app({**BASE_OVERRIDES, "SQLALCHEMY_DATABASE_URI": empty_database_url,
                      "INSTANCE_PATH": str(tmp_path)})
    with app.app_context():
        upgrade(directory=MIGRATIONS_DIR)
        with db.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": False})
            diffs = [d for d in compare_metadata(context, Model.metadata)
                     if not (isinstance(d, tuple) and _ignorable(d))]
        assert diffs == [], diffs
        with db.engine.connect() as connection:
            connection.execute(text(
                "INSERT INTO audit_log (occurred_at, action, table_name, prev_hash, entry_hash) "
                "VALUES ('2026-01-01', 'insert', 't', 'a', 'b')"))
            with pytest.raises(DatabaseError):
                connection.execute(text("UPDATE audit_log SET action = 'x'"))
        upgrade(directory=MIGRATIONS_DIR)  # a second upgrade changes nothing
        db.engine.dispose()
    # The first start after upgrade registers permissions; init creates the rest.
    app = create_app({**BASE_OVERRIDES, "SQLALCHEMY_DATABASE_URI": empty_database_url,
                      "INSTANCE_PATH": str(tmp_path)})
    result = app.test_cli_runner().invoke(args=["init"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert app.appbuilder.sm.find_role("Admin").permissions
        assert app.appbuilder.sm.find_user(username="admin") is not None
        db.engine.dispose()
