"""What the audit trail costs: audited vs unaudited writes, and verify speed.

    .venv/bin/python bench/audit_write.py [--rows 2000] [--entries 200000]
    BENCH_POSTGRES_URL=postgresql://postgres@127.0.0.1:5432/postgres \
        .venv/bin/python bench/audit_write.py

Writes: ``--rows`` Department inserts, each committed alone, then one update
of each, committed alone (as web requests do), on a fresh SQLite file with
the audit listeners removed and then installed; the best of ``--repeat``
runs is kept. Verify: ``--entries`` synthetic entries, then
``verify_chain`` over them in one process and with ``--workers`` processes
(default: its own choice); ``--verify-only`` skips the writes. With
BENCH_POSTGRES_URL (an admin connection), the same runs on a scratch
PostgreSQL database, dropped afterwards.
"""
import argparse
import os
import sys
import tempfile
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from flask_appbuilder import Model  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

import app.models  # noqa: E402,F401  (all tables; the SQLite pragmas of the app)
from app.audit.chain import GENESIS_HASH, append_entries, verify_chain  # noqa: E402
from app.audit.listener import (  # noqa: E402
    build_entry, install_audit_listeners, uninstall_audit_listeners,
)
from app.models.org import Department  # noqa: E402


def write_rows(engine, rows):
    started = time.perf_counter()
    with Session(engine, expire_on_commit=False) as session:
        departments = []
        for number in range(rows):
            department = Department(code=f"D{number}", name=f"部门 {number}")
            session.add(department)
            session.commit()
            departments.append(department)
        for department in departments:
            department.name += " 改"
            session.commit()
    return time.perf_counter() - started


def fill_entries(engine, count, batch=5000):
    tail = GENESIS_HASH
    with engine.begin() as connection:
        for start in range(0, count, batch):
            entries = [
                build_entry("update", "department", number % 5000,
                            {"name": [f"部门 {number}", f"部门 {number} 改"], "active": [True, False]})
                for number in range(start, min(start + batch, count))
            ]
            for entry in entries:
                entry.update(actor_id=7, actor_name="wangfang", remote_addr="10.0.0.1")
            tail = append_entries(connection, entries, prev_hash=tail)


def fresh_sqlite(directory):
    path = os.path.join(directory, f"bench-{uuid.uuid4().hex[:8]}.db")
    engine = create_engine("sqlite:///" + path)
    Model.metadata.create_all(engine)
    return engine


class ScratchPostgres:
    def __init__(self, admin_url):
        self.admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        self.name = f"bench_audit_{uuid.uuid4().hex[:8]}"
        self.url = make_url(admin_url).set(database=self.name)

    def __enter__(self):
        with self.admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{self.name}"'))
        self.engine = create_engine(self.url)
        Model.metadata.create_all(self.engine)
        return self.engine

    def __exit__(self, *_exc):
        self.engine.dispose()
        with self.admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
        self.admin.dispose()


def bench_writes(make_engine, rows, repeat):
    timings = {"unaudited": [], "audited": []}
    # One short untimed round each way first: the first writes of a process
    # pay for compiling statements, which belongs to neither side.
    for label in ("unaudited", "audited"):
        (install_audit_listeners if label == "audited" else uninstall_audit_listeners)()
        with make_engine() as engine:
            write_rows(engine, min(rows, 50))
    for _round in range(repeat):
        for label in ("unaudited", "audited"):
            (install_audit_listeners if label == "audited" else uninstall_audit_listeners)()
            with make_engine() as engine:
                timings[label].append(write_rows(engine, rows))
    plain, audited = min(timings["unaudited"]), min(timings["audited"])
    print(f"  {rows} inserts + {rows} updates, one commit each (best of {repeat}):")
    print(f"    without audit: {plain:7.3f} s  ({2 * rows / plain:8.0f} writes/s)")
    print(f"    with audit:    {audited:7.3f} s  ({2 * rows / audited:8.0f} writes/s)")
    print(f"    ratio:         {audited / plain:7.2f}x")
    return {"rows": rows, "repeat": repeat, "unaudited_s": plain, "audited_s": audited,
            "ratio": audited / plain}


def bench_verify(make_engine, count, workers=None):
    """Fill ``count`` entries, then time ``verify_chain`` with ``workers`` (None: its default).

    Also prints the rate per CPU-second of this process (one worker), which
    depends less on what else the machine is doing than the wall-clock rate.
    """
    with make_engine() as engine:
        started = time.perf_counter()
        fill_entries(engine, count)
        filled = time.perf_counter() - started
        with engine.connect() as connection:
            single_cpu = time.process_time()
            single = verify_chain(connection, workers=1)
            single_cpu = time.process_time() - single_cpu
            result = verify_chain(connection, workers=workers)
    assert result.ok and result.count == count, result
    assert single.ok and single.count == count, single
    load = " ".join(f"{value:.1f}" for value in os.getloadavg())
    print(f"  {count} entries appended in {filled:.2f} s ({count / filled:.0f}/s)")
    print(f"  verified in {result.seconds:.2f} s ({count / result.seconds:.0f} entries/s; "
          f"load average {load})")
    print(f"  one process: {count / single.seconds:.0f} entries/s wall, "
          f"{count / single_cpu:.0f} per CPU-second of the verifier")
    return {"entries": count, "seconds": result.seconds,
            "entries_per_s": count / result.seconds,
            "single_process_per_s": count / single.seconds,
            "single_process_per_cpu_s": count / single_cpu, "load_average": load}


class _Disposing:
    def __init__(self, engine):
        self.engine = engine

    def __enter__(self):
        return self.engine

    def __exit__(self, *_exc):
        self.engine.dispose()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--entries", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workers", type=int, default=None,
                        help="verify processes (default: verify_chain's own choice)")
    parser.add_argument("--verify-only", action="store_true")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as directory:
        print("SQLite (WAL, synchronous=NORMAL)")
        sqlite = lambda: _Disposing(fresh_sqlite(directory))  # noqa: E731
        if not args.verify_only:
            bench_writes(sqlite, args.rows, args.repeat)
        bench_verify(sqlite, args.entries, args.workers)

    admin_url = os.environ.get("BENCH_POSTGRES_URL")
    if admin_url:
        print("PostgreSQL")
        if not args.verify_only:
            bench_writes(lambda: ScratchPostgres(admin_url), args.rows, args.repeat)
        bench_verify(lambda: ScratchPostgres(admin_url), args.entries, args.workers)


if __name__ == "__main__":
    main()
