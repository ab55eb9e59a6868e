"""Gap-free yearly numbers (TS-2026-00017, YK-2026-00003, ...), taken in the caller's transaction."""
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..models.numbering import NumberSequence


def take_number(series, year):
    """The next number of ``series`` in ``year``, 1, 2, 3, ... with no gap and no repeat.

    The year's row is locked (``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite
    serialises writers) until the caller commits, so two registrations at
    the same moment get consecutive numbers, and one that rolls back gives
    its number back.
    """
    from .notifications import savepoint

    connection = db.session.connection()
    if connection.dialect.name == "sqlite":
        # The sqlite3 driver begins a transaction only before its first write, so a
        # counter read earlier could be stale by the time it is written: take the
        # write lock first (waiting up to the busy timeout for another writer).
        if not connection.connection.dbapi_connection.in_transaction:
            connection.exec_driver_sql("BEGIN IMMEDIATE")

    def locked():
        return (db.session.query(NumberSequence).filter_by(series=series, year=year)
                .with_for_update().one_or_none())

    sequence = locked()
    if sequence is None:
        try:
            with savepoint():
                db.session.add(NumberSequence(series=series, year=year, last_number=0))
                db.session.flush()
        except IntegrityError:
            pass  # another registration created this year's row first
        sequence = locked()
    sequence.last_number += 1
    db.session.flush()
    return sequence.last_number
