"""The hash chain of the audit trail: canonical text, appending, verifying.

Each entry's ``entry_hash`` is the SHA-256 hex digest of its canonical text,
which ends with ``prev_hash``, the hash of the entry before it (64 zeros for
the first). Editing an entry changes its hash; removing one breaks the link
of the next. Only the end of the trail cannot prove itself: removing the
newest entries leaves a valid, shorter chain, which is why ``verify`` prints
the count and the last hash, to be compared with a copy kept elsewhere.

Canonical text, easy to rebuild in any language: the fields of
:data:`HASHED_FIELDS` in that order, one per line (joined by ``\\n``), each
written as ``-`` when NULL, otherwise as ``<length>:<text>`` where length
counts the characters (code points) of the text. Integers are written in
decimal, ``occurred_at`` as ``YYYY-MM-DD HH:MM:SS.ffffff`` (UTC). The text is
encoded in UTF-8 before hashing.
"""
import datetime
import hashlib
import multiprocessing
import os
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import create_engine, func, insert, select, text
from sqlalchemy.pool import NullPool

from ..models.audit import AuditLog

GENESIS_HASH = "0" * 64

# The key of the PostgreSQL advisory lock serialising appends ("AUDITLOG" in ASCII).
CHAIN_LOCK_KEY = 0x41554449544C4F47

HASHED_FIELDS = (
    "occurred_at", "actor_id", "actor_name", "acting_for_id", "acting_for_name",
    "remote_addr", "action", "table_name", "row_id", "changes", "prev_hash",
)

_table = AuditLog.__table__
_sha256 = hashlib.sha256
# Built once: appending runs on every audited flush.
_LOCK = text("SELECT pg_advisory_xact_lock(:key)")
# A write that writes nothing: it takes SQLite's single write lock (or fails
# at once if this transaction's snapshot is stale, rather than chain onto an
# old tail).
_SQLITE_WRITE_LOCK = text("INSERT INTO audit_log SELECT * FROM audit_log WHERE 0")
_TAIL = select(_table.c.entry_hash).order_by(_table.c.id.desc()).limit(1)
_INSERT = insert(_table)


def format_timestamp(value):
    """The canonical form of ``occurred_at``; SQLite stores exactly this text."""
    if isinstance(value, datetime.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(datetime.timezone.utc).replace(tzinfo=None)
        return value.isoformat(sep=" ", timespec="microseconds")
    return value


def _field(value):
    if value is None:
        return "-"
    value = str(value)
    return f"{len(value)}:{value}"


def canonical_text(occurred_at, actor_id, actor_name, acting_for_id, acting_for_name,
                   remote_addr, action, table_name, row_id, changes, prev_hash):
    """The text an entry's hash is computed over (fields in HASHED_FIELDS order)."""
    # Written out by hand rather than looped: verify calls this for every entry.
    f = _field
    return (f"{f(format_timestamp(occurred_at))}\n{f(actor_id)}\n{f(actor_name)}\n"
            f"{f(acting_for_id)}\n{f(acting_for_name)}\n{f(remote_addr)}\n{f(action)}\n"
            f"{f(table_name)}\n{f(row_id)}\n{f(changes)}\n{f(prev_hash)}")


def compute_hash(*fields):
    """SHA-256 hex of the canonical text of ``fields`` (HASHED_FIELDS order)."""
    return _sha256(canonical_text(*fields).encode("utf-8")).hexdigest()


# ---------------------------------------------------------------------------
# Appending
# ---------------------------------------------------------------------------

def lock_chain(connection):
    """Serialise appends until the end of ``connection``'s transaction.

    Taken before the last entry is read, so two writers can never chain onto
    the same entry. PostgreSQL: a transaction-scoped advisory lock. SQLite:
    the database's single write lock (already held after a flush has
    written; taken by an empty write otherwise). The UNIQUE constraint on
    ``prev_hash`` would refuse a fork even without the lock.
    """
    dialect = connection.dialect.name
    if dialect == "postgresql":
        connection.execute(_LOCK, {"key": CHAIN_LOCK_KEY})
    elif dialect == "sqlite":
        connection.execute(_SQLITE_WRITE_LOCK)


def last_hash(connection):
    """The hash of the newest entry, or the genesis hash on an empty trail."""
    return connection.execute(_TAIL).scalar() or GENESIS_HASH


def append_entries(connection, entries, prev_hash=None):
    """Chain and insert ``entries`` (dicts of HASHED_FIELDS minus prev_hash), in order.

    ``prev_hash`` is the tail already known in this transaction (the caller
    then holds the lock); when None the chain is locked and its tail read.
    Returns the hash of the last entry written, the new tail.
    """
    if not entries:
        return prev_hash
    if prev_hash is None:
        lock_chain(connection)
        prev_hash = last_hash(connection)
    rows = []
    for entry in entries:
        row = {name: entry.get(name) for name in HASHED_FIELDS}
        row["prev_hash"] = prev_hash
        prev_hash = row["entry_hash"] = compute_hash(*(row[name] for name in HASHED_FIELDS))
        rows.append(row)
    connection.execute(_INSERT, rows[0] if len(rows) == 1 else rows)
    return prev_hash


# ---------------------------------------------------------------------------
# Verifying
# ---------------------------------------------------------------------------

@dataclass
class VerifyResult:
    """Outcome of :func:`verify_chain`.

    ``count`` entries were checked; when the chain is broken, ``broken_id``
    names the first bad entry and ``problem`` says what is wrong with it:
    ``"prev_hash"`` (an entry before it was removed, inserted or reordered)
    or ``"entry_hash"`` (the entry itself was altered).
    """

    ok: bool
    count: int
    last_hash: str = GENESIS_HASH
    broken_id: int = None
    problem: str = None
    seconds: float = 0.0

    @property
    def message(self):
        if self.ok:
            return _l("%(count)s entries, chain intact (last hash %(last_hash)s).",
                      count=self.count, last_hash=self.last_hash)
        if self.problem == "prev_hash":
            return _l("Entry %(id)s: its link to the previous entry is broken "
                      "(an entry before it was removed, inserted or reordered).",
                      id=self.broken_id)
        return _l("Entry %(id)s: its content does not match its hash (the entry was altered).",
                  id=self.broken_id)


@dataclass
class _Segment:
    """What one pass over an id range found; its first link is checked by the caller."""

    count: int = 0
    first_id: int = None
    first_prev: str = None
    last_hash: str = None
    broken_id: int = None
    problem: str = None


# Below this many ids one process is faster than starting others.
PARALLEL_THRESHOLD = 100_000


def verify_chain(connection, batch_size=20000, workers=None):
    """Recompute every hash and link in id order; stop at the first broken entry.

    Each id range is read in one streamed statement (server-side cursor on
    PostgreSQL). Large trails are split into ``workers`` id ranges checked
    by forked processes (default: one per CPU, at most 4), then the links
    between ranges are checked here. Entries appended meanwhile are beyond
    the last id seen at the start and are left for the next run.
    """
    started = time.perf_counter()
    first_id, last_id = connection.execute(
        select(func.min(_table.c.id), func.max(_table.c.id))
    ).one()
    if first_id is None:
        return VerifyResult(True, 0, seconds=time.perf_counter() - started)
    workers = _worker_count(connection, workers, last_id - first_id + 1)
    if workers > 1:
        segments = _verify_in_processes(connection, first_id, last_id, workers, batch_size)
    else:
        segments = [_verify_segment(connection, first_id, last_id, batch_size)]

    expected, count = GENESIS_HASH, 0
    for segment in segments:
        if not segment.count:
            continue
        if segment.first_prev != expected:
            return VerifyResult(False, count + 1, expected, segment.first_id, "prev_hash",
                                time.perf_counter() - started)
        if segment.broken_id is not None:
            return VerifyResult(False, count + segment.count, expected, segment.broken_id,
                                segment.problem, time.perf_counter() - started)
        count += segment.count
        expected = segment.last_hash
    return VerifyResult(True, count, expected, seconds=time.perf_counter() - started)


def _worker_count(connection, workers, span):
    if workers is None:
        workers = min(os.cpu_count() or 1, 4) if span >= PARALLEL_THRESHOLD else 1
    database = connection.engine.url.database
    if connection.dialect.name == "sqlite" and (not database or database == ":memory:"):
        return 1  # another process cannot open an in-memory database
    if "fork" not in multiprocessing.get_all_start_methods():
        return 1
    return max(1, workers)


def _verify_in_processes(connection, first_id, last_id, workers, batch_size):
    url = connection.engine.url.render_as_string(hide_password=False)
    step = (last_id - first_id) // workers + 1
    bounds = [(low, min(low + step - 1, last_id)) for low in range(first_id, last_id + 1, step)]
    # Forked children start at once; each opens its own connection and exits
    # with os._exit, never touching the connections inherited from this process.
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=len(bounds), mp_context=context) as pool:
        return list(pool.map(_verify_segment_at, [(url, low, high, batch_size)
                                                 for low, high in bounds]))


def _verify_segment_at(arguments):
    url, low, high, batch_size = arguments
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            return _verify_segment(connection, low, high, batch_size)
    finally:
        engine.dispose()


def _verify_segment(connection, low, high, batch_size):
    """Check the hashes of the entries with low <= id <= high and the links between them."""
    segment = _Segment()
    expected = None
    count = 0
    sha = _sha256
    batches = _segment_rows(connection, low, high, batch_size)
    try:
        for rows in batches:
            for (entry_id, occurred_at, actor_id, actor_name, acting_for_id, acting_for_name,
                 remote_addr, action, table_name, row_id, changes, prev_hash, entry_hash) in rows:
                count += 1
                if expected is None:
                    segment.first_id, segment.first_prev = entry_id, prev_hash
                elif prev_hash != expected:
                    segment.broken_id, segment.problem = entry_id, "prev_hash"
                    break
                # canonical_text, unrolled: this loop runs once per entry of the trail.
                if not isinstance(occurred_at, str):
                    occurred_at = format_timestamp(occurred_at)
                actor_id = "-" if actor_id is None else f"{len(v := str(actor_id))}:{v}"
                acting_for_id = "-" if acting_for_id is None \
                    else f"{len(v := str(acting_for_id))}:{v}"
                acting_for_name = "-" if acting_for_name is None \
                    else f"{len(acting_for_name)}:{acting_for_name}"
                canonical = (
                    f"{len(occurred_at)}:{occurred_at}\n{actor_id}\n"
                    f"{'-' if actor_name is None else f'{len(actor_name)}:{actor_name}'}\n"
                    f"{acting_for_id}\n"
                    f"{acting_for_name}\n"
                    f"{'-' if remote_addr is None else f'{len(remote_addr)}:{remote_addr}'}\n"
                    f"{'-' if action is None else f'{len(action)}:{action}'}\n"
                    f"{'-' if table_name is None else f'{len(table_name)}:{table_name}'}\n"
                    f"{'-' if row_id is None else f'{len(row_id)}:{row_id}'}\n"
                    f"{'-' if changes is None else f'{len(changes)}:{changes}'}\n"
                    f"{'-' if prev_hash is None else f'{len(prev_hash)}:{prev_hash}'}"
                )
                if sha(canonical.encode("utf-8")).hexdigest() != entry_hash:
                    segment.broken_id, segment.problem = entry_id, "entry_hash"
                    break
                expected = entry_hash
            else:
                continue
            break
    finally:
        batches.close()  # the cursor, also when stopping at a broken entry
    segment.count = count
    segment.last_hash = expected
    return segment


def _segment_rows(connection, low, high, batch_size):
    """Yield batches of plain tuples (id, HASHED_FIELDS..., entry_hash) with low <= id <= high.

    SQLite and PostgreSQL are read through the driver's own cursor: plain
    tuples, no result-row objects (this runs once per entry of the trail).
    """
    dialect = connection.dialect.name
    names = ", ".join(HASHED_FIELDS[1:])
    if dialect == "sqlite":
        # SQLite keeps the timestamp as the canonical text already.
        sql = (f"SELECT id, occurred_at, {names}, entry_hash FROM audit_log "
               "WHERE id BETWEEN ? AND ? ORDER BY id")
        cursor = connection.connection.dbapi_connection.cursor()
    elif dialect == "postgresql":
        # The server writes the canonical timestamp faster than Python parses
        # and formats it; a named (server-side) cursor streams the range.
        sql = ("SELECT id, to_char(occurred_at, 'YYYY-MM-DD HH24:MI:SS.US'), "
               f"{names}, entry_hash FROM audit_log "
               "WHERE id BETWEEN %s AND %s ORDER BY id")
        cursor = connection.connection.dbapi_connection.cursor(name="audit_verify")
    else:
        columns = [_table.c.id] + [_table.c[name] for name in HASHED_FIELDS] + [
            _table.c.entry_hash]
        statement = select(*columns).where(_table.c.id.between(low, high)).order_by(_table.c.id)
        result = connection.execution_options(yield_per=batch_size).execute(statement)
        try:
            for partition in result.partitions():
                yield [tuple(row) for row in partition]
        finally:
            result.close()
        return
    try:
        cursor.execute(sql, (low, high))
        while True:
            rows = cursor.fetchmany(batch_size)
            if not rows:
                break
            yield rows
    finally:
        cursor.close()
