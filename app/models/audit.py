"""The audit trail (X-02): one append-only, hash-chained table.

Each entry's ``entry_hash`` is SHA-256 over a canonical text of the entry and
the previous entry's hash, so removing or editing any entry breaks the chain
from there on; database triggers refuse UPDATE and DELETE on the table.
Entries are written with Core inserts by ``app.audit`` only (see
``app/audit/chain.py`` for the canonical text); this model serves the
read-only views.
"""
from flask_babel import lazy_gettext as _l
from sqlalchemy import Column, DateTime, Index, Integer, String, Text, event

from ..audit.ddl import after_create as _install_guards
from .base import BigId, ChoiceSet, Model, utcnow


class AuditAction(ChoiceSet):
    """What an audit entry records."""

    CHOICES = [
        ("insert", _l("Created"), "success"),
        ("update", _l("Changed"), "info"),
        ("delete", _l("Deleted"), "danger"),
        ("login", _l("Logged in"), "default"),
        ("login_failed", _l("Failed login"), "warning"),
        ("logout", _l("Logged out"), "default"),
        ("login_refused", _l("Login refused (account locked)"), "warning"),
        ("account_locked", _l("Account locked"), "danger"),
        ("account_unlocked", _l("Account unlocked"), "info"),
        ("read", _l("Read"), "default"),
        ("export", _l("Exported"), "default"),
    ]


class AuditLog(Model):
    """One audited event: a row inserted, changed or deleted, a login, a read."""

    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_record", "table_name", "row_id"),
        Index("ix_audit_log_occurred_at", "occurred_at"),
        Index("ix_audit_log_actor_id", "actor_id"),
    )

    id = Column(BigId, primary_key=True, autoincrement=True)
    occurred_at = Column(DateTime, nullable=False, default=utcnow)
    # Plain ids and names, no foreign keys: the trail outlives the users it names.
    actor_id = Column(Integer, nullable=True)
    actor_name = Column(String(100), nullable=True)
    acting_for_id = Column(Integer, nullable=True)
    acting_for_name = Column(String(100), nullable=True)
    remote_addr = Column(String(64), nullable=True)
    action = Column(String(20), nullable=False, info={"choices": AuditAction})
    table_name = Column(String(64), nullable=False)
    row_id = Column(String(64), nullable=True)
    # Canonical JSON: {"field": [old, new], ...} for changes, or event details.
    changes = Column(Text, nullable=True)
    # Unique: two entries chained onto the same predecessor (a fork) cannot both exist.
    prev_hash = Column(String(64), nullable=False, unique=True)
    entry_hash = Column(String(64), nullable=False, unique=True)

    def __repr__(self):
        return f"<AuditLog {self.id} {self.action} {self.table_name}:{self.row_id}>"


# create_all (tests, first run) installs the append-only triggers with the table.
event.listen(AuditLog.__table__, "after_create", _install_guards)
