"""Database guards that keep ``audit_log`` append-only (X-02).

The same two functions serve ``Model.metadata.create_all`` (through the
table's ``after_create`` event, see ``app/models/audit.py``) and the Alembic
migration::

    from app.audit.ddl import install_append_only_guards
    install_append_only_guards(op.get_bind())

A database owner can still drop the triggers; the hash chain is what proves
that nothing was changed even then.
"""
from sqlalchemy import text

TABLE = "audit_log"
MESSAGE = "audit_log is append-only"

_SQLITE_INSTALL = [
    f"""CREATE TRIGGER IF NOT EXISTS audit_log_no_update BEFORE UPDATE ON {TABLE}
        BEGIN SELECT RAISE(ABORT, '{MESSAGE}: UPDATE refused'); END""",
    f"""CREATE TRIGGER IF NOT EXISTS audit_log_no_delete BEFORE DELETE ON {TABLE}
        BEGIN SELECT RAISE(ABORT, '{MESSAGE}: DELETE refused'); END""",
]
_SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS audit_log_no_update",
    "DROP TRIGGER IF EXISTS audit_log_no_delete",
]

_POSTGRES_INSTALL = [
    f"""CREATE OR REPLACE FUNCTION audit_log_refuse_change() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION '{MESSAGE}: % refused', TG_OP
                USING ERRCODE = 'insufficient_privilege';
        END
        $$""",
    f"DROP TRIGGER IF EXISTS audit_log_no_change ON {TABLE}",
    f"""CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON {TABLE}
        FOR EACH ROW EXECUTE FUNCTION audit_log_refuse_change()""",
    f"DROP TRIGGER IF EXISTS audit_log_no_truncate ON {TABLE}",
    f"""CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON {TABLE}
        FOR EACH STATEMENT EXECUTE FUNCTION audit_log_refuse_change()""",
]
_POSTGRES_DROP = [
    f"DROP TRIGGER IF EXISTS audit_log_no_change ON {TABLE}",
    f"DROP TRIGGER IF EXISTS audit_log_no_truncate ON {TABLE}",
    "DROP FUNCTION IF EXISTS audit_log_refuse_change()",
]


def _statements(connection, sqlite, postgresql):
    name = connection.dialect.name
    if name == "sqlite":
        return sqlite
    if name == "postgresql":
        return postgresql
    raise NotImplementedError(f"no append-only guards for the {name} dialect")


def install_append_only_guards(connection):
    """Create the triggers refusing UPDATE, DELETE (and TRUNCATE) on audit_log; idempotent."""
    for statement in _statements(connection, _SQLITE_INSTALL, _POSTGRES_INSTALL):
        connection.execute(text(statement))


def drop_append_only_guards(connection):
    """Remove the triggers (migration downgrade; tests that simulate tampering)."""
    for statement in _statements(connection, _SQLITE_DROP, _POSTGRES_DROP):
        connection.execute(text(statement))


def after_create(target, connection, **_kw):
    """``after_create`` DDL event handler of the audit_log table."""
    install_append_only_guards(connection)
