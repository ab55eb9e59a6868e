"""The benchmark harness: the app next to a plain Flask-AppBuilder list, side by side.

    .venv/bin/python bench/run.py                       # make bench: 100,000 rows
    .venv/bin/python bench/run.py --rows 1000000 --audit-entries 1000000   # make bench-full

For each engine (SQLite in a temporary folder, PostgreSQL in a scratch
database ``cs_bench_<random>``): build the schema, prepare roles and the
administrator with ``flask init``, load the data (bench/datagen.py), start the
app and the baseline (bench/baseline_app.py) under gunicorn on 127.0.0.1 with
two sync workers each, log in through the login forms and measure. Every
process is stopped and every database dropped at the end, also on Ctrl-C or
an error. The report goes to bench/results/report-<timestamp>.md and .json.
"""
import argparse
import datetime
import json
import os
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "bench"))

import requests  # noqa: E402

BIN = os.path.dirname(sys.executable)
RESULTS = os.path.join(ROOT, "bench", "results")
ISSUE_BASELINE = {  # plain FAB 5.3 figures of the issue (1M rows, this machine)
    "export_s": 13.6,
}
# The screens measured. FAB's list arguments: _flt_<index>_<column>, where
# <index> is the filter's position in the column's list of filters as the
# list page's search form offers them (read from each page, in English, so
# that the harness follows whatever filters a view declares), page_<View>,
# _oc_<View>/_od_<View> for the order.
OPEN_EXCLUDED = ("replied", "closed", "archived", "merged")


def discover_filters(session, base, list_path):
    """{column: [filter label, ...]} as the list page's search form offers them."""
    session.get(base + "/lang/en", timeout=30)
    page = session.get(base + list_path, timeout=300).text
    match = re.search(r"new AdminFilters\((.*?)\);", page, re.S)
    if not match:
        raise RuntimeError(f"no search form on {list_path}")
    arguments = [line.strip().rstrip(",") for line in match.group(1).strip().splitlines()]
    return json.loads(arguments[3])


def filter_arg(filters, column, *labels, exact=False):
    """``_flt_<index>_<column>`` of the first filter whose label is (or contains) a label."""
    for index, name in enumerate(filters.get(column, [])):
        name = name.strip().lower()
        if any(name == label if exact else label in name for label in labels):
            return f"_flt_{index}_{column}"
    return None


def scenarios(today, filters, view):
    """(key, label, query string) of every list screen measured, for one view."""
    start = (today - datetime.timedelta(days=400)).isoformat()
    end = (today - datetime.timedelta(days=310)).isoformat()
    status = filter_arg(filters, "status", "equal to", exact=True)
    severity = filter_arg(filters, "severity", "equal to", exact=True)
    after = filter_arg(filters, "received_at", "greater")
    before = filter_arg(filters, "received_at", "smaller")
    overdue = filter_arg(filters, "promised_reply_date", "overdue")
    if overdue:
        overdue_query = f"?{overdue}=y"
    else:  # plain FAB: promised date before today and not in a resolved state
        promised = filter_arg(filters, "promised_reply_date", "smaller")
        not_in = filter_arg(filters, "status", "not in")
        overdue_query = f"?{promised}={today.isoformat()}" + "".join(
            f"&{not_in}={state}" for state in OPEN_EXCLUDED)
    return [
        ("first", "First list page", ""),
        ("status", "Filtered by status (registered)", f"?{status}=registered"),
        ("severity", "Filtered by severity (major)", f"?{severity}=major"),
        ("date_range", "Filtered by received date (90 days)",
         f"?{after}={start}+00:00:00&{before}={end}+00:00:00"),
        ("overdue", "Overdue (promised reply date passed, open)", overdue_query),
        ("sorted_number", "Sorted by number (ascending)",
         f"?_oc_{view}=number&_od_{view}=asc"),
        ("sorted_status", "Sorted by status", f"?_oc_{view}=status&_od_{view}=asc"),
        ("deep_page", "Deep page (page 2000, rows 50,001-50,025)", f"?page_{view}=2000"),
    ]


APPS = {
    "app": {"module": "run:app", "list": "/complaintview/list/", "view": "ComplaintView"},
    "baseline": {"module": "baseline_app:app", "list": "/plaincomplaintview/list/",
                 "view": "PlainComplaintView"},
}
NUMBER = re.compile(r"TS-\d{4}-\d{5,}")


class Interrupted(Exception):
    pass


def _on_signal(signum, _frame):
    raise Interrupted(f"signal {signum}")


def log(message):
    print(message, flush=True)


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def stats(samples):
    if not samples:
        return {"n": 0}
    ordered = sorted(samples)
    rank = max(0, min(len(ordered) - 1, int(round(0.95 * len(ordered) + 0.5)) - 1))
    return {"n": len(ordered), "p50_ms": statistics.median(ordered) * 1000,
            "p95_ms": ordered[rank] * 1000, "mean_ms": statistics.fmean(ordered) * 1000,
            "min_ms": ordered[0] * 1000, "max_ms": ordered[-1] * 1000}


# ---------------------------------------------------------------------------
# Databases
# ---------------------------------------------------------------------------

class Database:
    """A scratch database for one engine; dropped (or deleted) on exit."""

    def __init__(self, kind, workdir, pg_admin_url):
        self.kind = kind
        self.workdir = workdir
        self.pg_admin_url = pg_admin_url
        self.name = None

    def __enter__(self):
        if self.kind == "sqlite":
            self.url = "sqlite:///" + os.path.join(self.workdir, "bench.db")
            return self
        import psycopg

        self.name = f"cs_bench_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(self.pg_admin_url, autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{self.name}"')
        from sqlalchemy.engine import make_url

        self.url = make_url(self.pg_admin_url).set(
            drivername="postgresql+psycopg", database=self.name).render_as_string(
            hide_password=False)
        return self

    def __exit__(self, *_exc):
        if self.kind == "postgresql" and self.name:
            import psycopg

            with psycopg.connect(self.pg_admin_url, autocommit=True) as connection:
                connection.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
            log(f"  dropped database {self.name}")


# ---------------------------------------------------------------------------
# Servers
# ---------------------------------------------------------------------------

class Gunicorn:
    """One gunicorn master (own process group) with ``workers`` sync workers on loopback."""

    def __init__(self, name, module, env, workdir, chdir, workers=2):
        self.name, self.module, self.env = name, module, env
        self.workers = workers
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.logfile = os.path.join(workdir, f"{name}.log")
        self.chdir = chdir
        self.process = None

    def __enter__(self):
        log_handle = open(self.logfile, "ab")
        self.process = subprocess.Popen(
            [os.path.join(BIN, "gunicorn"), "--workers", str(self.workers),
             "--worker-class", "sync",
             "--bind", f"127.0.0.1:{self.port}", "--chdir", self.chdir,
             # Long enough for a full export on a sync worker (the default 30 s
             # would kill the worker serving a slow export).
             "--timeout", "600", "--graceful-timeout", "5", "--log-level", "warning",
             self.module],
            env=self.env, stdout=log_handle, stderr=subprocess.STDOUT,
            start_new_session=True)
        log_handle.close()
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited at start; see {self._tail()}")
            try:
                if requests.get(self.base + "/login/", timeout=5).status_code == 200:
                    if len(self.worker_pids()) >= self.workers:
                        return self
            except requests.RequestException:
                pass
            time.sleep(0.3)
        raise RuntimeError(f"{self.name} did not answer within 90 s; {self._tail()}")

    def _tail(self):
        try:
            with open(self.logfile, encoding="utf-8", errors="replace") as handle:
                return handle.read()[-3000:]
        except OSError:
            return ""

    def worker_pids(self):
        pids = []
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as handle:
                    fields = handle.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == self.process.pid:
                pids.append(int(entry))
        return sorted(pids)

    def __exit__(self, *_exc):
        if self.process is None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.process.wait(timeout=10)


def rss_kb(pid):
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


# ---------------------------------------------------------------------------
# HTTP
# ---------------------------------------------------------------------------

TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


def csrf_token(html):
    match = TOKEN.search(html)
    if not match:
        raise RuntimeError("no CSRF token on the page")
    return match.group(1) or match.group(2)


def login(base, username, password):
    """A session logged in through the real login form (CSRF token from the page)."""
    session = requests.Session()
    page = session.get(base + "/login/", timeout=30)
    answer = session.post(base + "/login/", data={
        "username": username, "password": password, "csrf_token": csrf_token(page.text)},
        allow_redirects=False, timeout=30)
    if answer.status_code not in (302, 303) or "/login" in answer.headers.get("Location", ""):
        raise RuntimeError(f"login of {username} at {base} failed ({answer.status_code})")
    return session


def clone(session):
    other = requests.Session()
    other.cookies.update(session.cookies)
    return other


def timed_get(session, url):
    started = time.perf_counter()
    response = session.get(url, allow_redirects=False, timeout=600)
    body = response.content
    elapsed = time.perf_counter() - started
    return elapsed, response, body


def measure_page(session, url, warmup, samples):
    times, errors, last = [], 0, None
    for index in range(warmup + samples):
        elapsed, response, body = timed_get(session, url)
        ok = response.status_code == 200 and b'name="password"' not in body
        if index >= warmup:
            if ok:
                times.append(elapsed)
            else:
                errors += 1
        last = (response.status_code, body)
    result = stats(times)
    result["errors"] = errors
    result["status"] = last[0]
    result["bytes"] = len(last[1])
    result["rows_on_page"] = len(set(NUMBER.findall(last[1].decode("utf-8", "replace"))))
    return result


def measure_concurrent(session, url, clients, per_client):
    sessions = [clone(session) for _ in range(clients)]
    for each in sessions:  # warm connections and workers
        timed_get(each, url)
    barrier = threading.Barrier(clients + 1)
    times, errors = [], []
    lock = threading.Lock()

    def client(each):
        barrier.wait()
        mine, failed = [], 0
        for _ in range(per_client):
            elapsed, response, _body = timed_get(each, url)
            if response.status_code == 200:
                mine.append(elapsed)
            else:
                failed += 1
        with lock:
            times.extend(mine)
            errors.append(failed)

    threads = [threading.Thread(target=client, args=(each,), daemon=True) for each in sessions]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    result = stats(times)
    result.update(clients=clients, requests=len(times), errors=sum(errors), wall_s=wall,
                  rps=len(times) / wall if wall else 0.0)
    return result


def measure_export(server, session, url, warm_url):
    """Download the whole CSV; peak RSS growth of the worker that served it.

    A few empty exports first, so that both workers have loaded the export
    code and the growth measured is that of the rows, not of first imports.
    """
    for _ in range(4):
        session.get(warm_url, timeout=60).content
    workers = server.worker_pids()
    before = {pid: rss_kb(pid) or 0 for pid in workers}
    peak = dict(before)
    done = threading.Event()

    def watch():
        while not done.is_set():
            for pid in workers:
                value = rss_kb(pid)
                if value and value > peak[pid]:
                    peak[pid] = value
            time.sleep(0.02)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    started = time.perf_counter()
    size = lines = 0
    first_byte = None
    status = None
    try:
        with session.get(url, stream=True, timeout=900) as response:
            status = response.status_code
            for chunk in response.iter_content(chunk_size=1 << 16):
                if first_byte is None:
                    first_byte = time.perf_counter() - started
                size += len(chunk)
                lines += chunk.count(b"\n")
    finally:
        elapsed = time.perf_counter() - started
        done.set()
        watcher.join()
    growth = {pid: (peak[pid] - before[pid]) / 1024 for pid in workers}
    serving = max(growth, key=growth.get) if growth else None
    return {"status": status, "seconds": elapsed, "first_byte_s": first_byte, "bytes": size,
            "lines": lines, "rss_before_mb": before.get(serving, 0) / 1024 if serving else None,
            "rss_growth_mb": growth.get(serving) if serving else None, "worker_pid": serving}


def measure_decisions(base, session, engine_url, cases, warmup):
    """POST the decision form of the app's workflow endpoint on prepared complaints."""
    from sqlalchemy import create_engine, text

    page = session.get(f"{base}/complaintview/show/{cases[0]}", timeout=60)
    token = csrf_token(page.text)
    times, statuses = [], {}
    for index, pk in enumerate(cases):
        started = time.perf_counter()
        response = session.post(f"{base}/complaintview/transition/{pk}/decide", data={
            "csrf_token": token, "version": "1", "outcome": "partly_upheld",
            "decision": "同意专门负责人意见，责成责任部门五个工作日内整改并书面回复投诉人。",
            "comment": ""}, allow_redirects=False, timeout=60)
        elapsed = time.perf_counter() - started
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
        if index >= warmup:
            times.append(elapsed)
    engine = create_engine(engine_url)
    try:
        with engine.connect() as connection:
            decided = connection.execute(text(
                "SELECT count(*) FROM complaint WHERE status = 'decided' AND id IN (%s)"
                % ",".join(str(int(pk)) for pk in cases))).scalar()
    finally:
        engine.dispose()
    result = stats(times)
    result.update(attempted=len(cases), decided=decided, http_statuses=statuses)
    return result


# ---------------------------------------------------------------------------
# One engine
# ---------------------------------------------------------------------------

def run_engine(kind, args, pg_admin_url):
    """Prepare, load, serve and measure on one engine; returns its results."""
    from sqlalchemy import create_engine
    from werkzeug.security import generate_password_hash

    import datagen

    result = {"engine": kind, "rows": args.rows}

    def attempt(key, measure, describe):
        """One figure; a failure is recorded in its place and the others still run."""
        try:
            result[key] = measure()
            log(f"[{kind}] " + describe(result[key]))
        except (KeyboardInterrupt, Interrupted):
            raise
        except Exception as error:  # noqa: BLE001
            result[key] = {"error": f"{type(error).__name__}: {error}"[:1000]}
            log(f"[{kind}] {key} failed: {result[key]['error']}")
    workdir = tempfile.mkdtemp(prefix=f"cs-bench-{kind}-")
    try:
        with Database(kind, workdir, pg_admin_url) as database:
            admin_password = "Bench" + secrets.token_hex(8) + "#9"
            partner_password = "Bench" + secrets.token_hex(8) + "#8"
            env = _app_env(database.url, workdir, admin_password)
            log(f"[{kind}] schema, roles and administrator")
            started = time.perf_counter()
            _run([sys.executable, "-c", SCHEMA_SCRIPT], env)
            _run([os.path.join(BIN, "flask"), "--app", "run", "init"], env)
            result["prepare_s"] = time.perf_counter() - started

            log(f"[{kind}] data: {args.rows} complaints, {args.audit_entries} audit entries")
            engine = create_engine(database.url)
            try:
                password_hash = generate_password_hash(partner_password)
                partner_id = datagen.create_user(engine, "benchpartner", "Partner",
                                                 password_hash)
                data = datagen.populate(engine, args.rows, args.audit_entries, password_hash,
                                        partner_id, args.decisions + 3, echo=log)
            finally:
                engine.dispose()
            result["data"] = data
            # The baseline registers its view's permissions once, before its workers start.
            baseline_env = dict(env, BASELINE_UPDATE_PERMS="1")
            _run([sys.executable, "-c", "import baseline_app"], baseline_env,
                 cwd=os.path.join(ROOT, "bench"))

            today = datetime.date.today()
            with Gunicorn("app", APPS["app"]["module"], env, workdir, ROOT) as app_server, \
                    Gunicorn("baseline", APPS["baseline"]["module"], env, workdir,
                             os.path.join(ROOT, "bench")) as base_server:
                servers = {"app": app_server, "baseline": base_server}
                sessions = {name: login(server.base, "admin", admin_password)
                            for name, server in servers.items()}
                plans = {}
                for name, server in servers.items():
                    probe = login(server.base, "admin", admin_password)
                    filters = discover_filters(probe, server.base, APPS[name]["list"])
                    plans[name] = scenarios(today, filters, APPS[name]["view"])
                result["pages"] = {}
                for number, (key, label, _query) in enumerate(plans["app"]):
                    entry = {"label": label}
                    for name in ("app", "baseline"):
                        query = plans[name][number][2]
                        url = servers[name].base + APPS[name]["list"] + query
                        entry[name] = measure_page(sessions[name], url, args.warmup,
                                                   args.samples)
                        entry[name]["path"] = APPS[name]["list"] + query
                    result["pages"][key] = entry
                    log(f"[{kind}] {label:<45} app p50 {entry['app'].get('p50_ms', 0):8.1f} ms"
                        f"   baseline p50 {entry['baseline'].get('p50_ms', 0):8.1f} ms")

                def concurrent():
                    return {name: measure_concurrent(
                        sessions[name], servers[name].base + APPS[name]["list"], args.clients,
                        args.per_client) for name in ("app", "baseline")}

                attempt("concurrent", concurrent, lambda r: (
                    f"{args.clients} clients: app {r['app']['rps']:.1f} req/s, "
                    f"baseline {r['baseline']['rps']:.1f} req/s"))

                def export():
                    probe = login(app_server.base, "admin", admin_password)
                    number_filter = filter_arg(discover_filters(
                        probe, app_server.base, APPS["app"]["list"]), "number", "equal to",
                        exact=True)
                    return measure_export(
                        app_server, sessions["app"],
                        app_server.base + "/complaintview/export.csv",
                        app_server.base + f"/complaintview/export.csv?{number_filter}=TS-0000-00000")

                log(f"[{kind}] CSV export of all rows")
                attempt("export", export, lambda r: (
                    f"export: {r['seconds']:.2f} s, {r['lines']} lines, worker RSS "
                    f"+{r['rss_growth_mb'] or 0:.1f} MB"))

                def decisions():
                    partner = login(app_server.base, "benchpartner", partner_password)
                    return measure_decisions(app_server.base, partner, database.url,
                                             data["decision_cases"], 3)

                attempt("decision", decisions, lambda r: (
                    f"decision p95 {r.get('p95_ms', 0):.1f} ms, "
                    f"{r['decided']}/{r['attempted']} decided"))

            log(f"[{kind}] flask audit verify")
            attempt("verify", lambda: measure_verify(env), lambda r: (
                f"verify: {r['entries']} entries, {r['entries_per_s']:.0f}/s"))
            log(f"[{kind}] audited vs unaudited writes")
            attempt("audit_write", lambda: measure_audit_writes(
                kind, args, pg_admin_url, workdir), lambda r: (
                f"audited/unaudited = {r['ratio']:.2f}"))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return result


SCHEMA_SCRIPT = """
from flask_appbuilder import Model
from app import create_app
from app.extensions import db
app = create_app()
with app.app_context():
    Model.metadata.create_all(db.engine)
"""

VERIFY_SCRIPT = """
import json
from app import create_app
from app.extensions import db
from app.audit.chain import verify_chain
app = create_app()
with app.app_context():
    with db.engine.connect() as connection:
        result = verify_chain(connection)
print(json.dumps({"ok": result.ok, "count": result.count, "seconds": result.seconds}))
"""


def _app_env(url, workdir, admin_password):
    env = {key: value for key, value in os.environ.items()
           if key not in ("REDIS_URL", "MAIL_SERVER", "SECRET_KEY", "FLASK_APP")}
    instance = os.path.join(workdir, "instance")
    os.makedirs(instance, exist_ok=True)
    env.update(
        DATABASE_URL=url, INSTANCE_PATH=instance, ADMIN_PASSWORD=admin_password,
        SECRET_KEY=secrets.token_hex(32), FLASK_ENV="production",
        # Plain HTTP on loopback: the cookie must travel without TLS.
        SESSION_COOKIE_SECURE="false",
        # One login per client; the limit protects against guessing, not measured here.
        AUTH_RATE_LIMITED="false", PYTHONPATH=ROOT, PYTHONDONTWRITEBYTECODE="1",
    )
    return env


def _run(command, env, cwd=ROOT):
    completed = subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True,
                               start_new_session=True)
    if completed.returncode != 0:
        raise RuntimeError(f"{' '.join(command[:3])} failed:\n{completed.stdout[-2000:]}\n"
                           f"{completed.stderr[-3000:]}")
    return completed


def measure_verify(env):
    env = dict(env, BABEL_DEFAULT_LOCALE="en")
    started = time.perf_counter()
    command = _run([os.path.join(BIN, "flask"), "--app", "run", "audit", "verify"], env)
    wall = time.perf_counter() - started
    precise = json.loads(_run([sys.executable, "-c", VERIFY_SCRIPT], env).stdout.strip()
                         .splitlines()[-1])
    return {"ok": precise["ok"], "entries": precise["count"], "seconds": precise["seconds"],
            "entries_per_s": precise["count"] / precise["seconds"] if precise["seconds"] else 0,
            "command_wall_s": wall, "command_output": command.stdout.strip()[-300:]}


def measure_audit_writes(kind, args, pg_admin_url, workdir):
    import audit_write

    if kind == "sqlite":
        make = lambda: audit_write._Disposing(audit_write.fresh_sqlite(workdir))  # noqa: E731
    else:
        make = lambda: audit_write.ScratchPostgres(pg_admin_url)  # noqa: E731
    try:
        return audit_write.bench_writes(make, args.write_rows, args.write_repeat)
    finally:
        audit_write.install_audit_listeners()


# ---------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------

def evaluate(results):
    """One row per target of the issue and engine: figure, threshold, met or missed."""
    checks = []

    def check(engine, target, figure, threshold, met, note=""):
        checks.append({"engine": engine, "target": target, "figure": figure,
                       "threshold": threshold, "met": met, "note": note})

    def guarded(engine, target, threshold, section, body):
        if not isinstance(section, dict) or "error" in section:
            error = section.get("error", "not measured") if isinstance(section, dict) \
                else "not measured"
            check(engine, target, "error", threshold, False, error[:200])
            return
        try:
            body(section)
        except (KeyError, TypeError, ZeroDivisionError) as error:
            check(engine, target, "error", threshold, False, f"{type(error).__name__}: {error}")

    for kind, result in results.items():
        if "pages" not in result:
            check(kind, "run", "error", "", False, result.get("error", "")[:300])
            continue
        pages = result["pages"]

        def first_page(first, kind=kind):
            p50 = first["app"]["p50_ms"]
            check(kind, "First list page p50", f"{p50:.1f} ms", "≤ 20 ms", p50 <= 20)
            if kind == "postgresql":
                ratio = first["baseline"]["p50_ms"] / p50
                check(kind, "First page vs plain FAB (p50)", f"{ratio:.1f}×", "≥ 5×",
                      ratio >= 5)

        guarded(kind, "First list page p50", "≤ 20 ms", pages.get("first"), first_page)
        for key, entry in pages.items():
            if key == "first":
                continue

            def listed(entry, kind=kind):
                app = entry["app"]
                if app.get("p50_ms") is None:
                    check(kind, f"{entry['label']} p50", "error", "≤ 40 ms", False,
                          f"HTTP {app.get('status')} on {app.get('path')}")
                    return
                fine = app["p50_ms"] <= 40 and app["errors"] == 0
                check(kind, f"{entry['label']} p50", f"{app['p50_ms']:.1f} ms", "≤ 40 ms", fine)

            guarded(kind, f"{entry['label']} p50", "≤ 40 ms", entry, listed)

        def concurrent(section, kind=kind):
            app, base = section["app"], section["baseline"]
            ratio = app["rps"] / base["rps"]
            check(kind, f"{app['clients']} concurrent clients vs plain FAB",
                  f"{app['rps']:.1f} vs {base['rps']:.1f} req/s ({ratio:.1f}×)", "≥ 10×",
                  ratio >= 10, "" if kind == "postgresql" else
                  "the issue sets this target on PostgreSQL")

        guarded(kind, "Concurrent clients vs plain FAB", "≥ 10×", result.get("concurrent"),
                concurrent)
        rows = result["data"]["complaints"]
        note = "" if rows >= 1_000_000 else f"at {rows:,} rows; the target is for 1,000,000"

        def export(section, kind=kind):
            complete = section["status"] == 200 and section["lines"] >= rows
            check(kind, "CSV export of all rows", f"{section['seconds']:.2f} s", "≤ 5 s",
                  complete and section["seconds"] <= 5,
                  note if complete else f"incomplete: HTTP {section['status']}, "
                  f"{section['lines']} lines")
            growth = section["rss_growth_mb"]
            check(kind, "Export: worker memory growth", f"{growth:.1f} MB", "≤ 20 MB",
                  growth is not None and growth <= 20, note)

        guarded(kind, "CSV export of all rows", "≤ 5 s", result.get("export"), export)

        def decision(section, kind=kind):
            p95 = section["p95_ms"]
            taken = section["decided"] == section["attempted"]
            check(kind, "Workflow action (decision) p95", f"{p95:.1f} ms", "≤ 50 ms",
                  p95 <= 50 and taken, "" if taken else
                  f"only {section['decided']} of {section['attempted']} decisions taken")

        guarded(kind, "Workflow action (decision) p95", "≤ 50 ms", result.get("decision"),
                decision)
        guarded(kind, "Audited write vs unaudited", "≤ 2×", result.get("audit_write"),
                lambda section, kind=kind: check(
                    kind, "Audited write vs unaudited", f"{section['ratio']:.2f}×", "≤ 2×",
                    section["ratio"] <= 2))
        guarded(kind, "flask audit verify", "≥ 200,000/s", result.get("verify"),
                lambda section, kind=kind: check(
                    kind, "flask audit verify", f"{section['entries_per_s']:,.0f} entries/s",
                    "≥ 200,000/s", section["ok"] and section["entries_per_s"] >= 200_000,
                    "" if section["ok"] else "chain reported broken"))
    return checks


def markdown(report):
    lines = [f"# Benchmark report {report['started']}", "",
             f"{report['rows']:,} complaint rows, {report['audit_entries']:,} generated audit "
             f"entries; gunicorn, 2 sync workers each, on 127.0.0.1; {report['machine']}.",
             f"Each list figure: {report['samples']} sequential requests after "
             f"{report['warmup']} warm-up requests, logged in as the administrator. "
             "Ratio = plain FAB ÷ app (above 1: the app is faster).", ""]
    lines += ["## Targets", "", "| Engine | Target | Figure | Threshold | Result | Note |",
              "| --- | --- | --- | --- | --- | --- |"]
    for item in report["checks"]:
        lines.append(f"| {item['engine']} | {item['target']} | {item['figure']} | "
                     f"{item['threshold']} | {'met' if item['met'] else '**missed**'} | "
                     f"{_cell(item['note'])} |")
    for kind, result in report["engines"].items():
        lines += ["", f"## {kind}", ""]
        if "pages" not in result:
            lines += ["```", result.get("error", "not measured"), "```"]
            continue
        data = result["data"]
        lines += [f"Data: {data['complaints']:,} complaints, {data['audit_entries']:,} audit "
                  f"entries, loaded in {data['timings']['complaints_s']:.1f} s + "
                  f"{data['timings']['audit_s']:.1f} s.", "",
                  "| Screen | App p50 | App p95 | Plain FAB p50 | Plain FAB p95 | Ratio (p50) |",
                  "| --- | ---: | ---: | ---: | ---: | ---: |"]
        for entry in result["pages"].values():
            app, base = entry["app"], entry["baseline"]
            ratio = (base["p50_ms"] / app["p50_ms"]) if app.get("p50_ms") and base.get(
                "p50_ms") else None
            lines.append(
                f"| {entry['label']} | {_ms(app, 'p50_ms')} | {_ms(app, 'p95_ms')} | "
                f"{_ms(base, 'p50_ms')} | {_ms(base, 'p95_ms')} | "
                f"{f'{ratio:.1f}×' if ratio else 'n/a'} |")
        for label, key, row in (
                ("First page, concurrent clients", "concurrent", _concurrent_row),
                ("CSV export of all rows", "export", _export_row),
                ("Workflow decision (POST)", "decision", _decision_row),
                ("Audited vs unaudited writes", "audit_write", _writes_row),
                ("flask audit verify", "verify", _verify_row)):
            section = result.get(key)
            if not isinstance(section, dict) or "error" in section:
                error = section.get("error", "") if isinstance(section, dict) else ""
                lines.append(f"| {label} | error: {_cell(error)[:200]} | | | | |")
            else:
                lines.append(row(section))
        lines += ["", "Paths measured:", ""]
        for key, entry in result["pages"].items():
            lines.append(f"- {key}: app `{entry['app']['path']}` "
                         f"({entry['app']['rows_on_page']} rows shown), baseline "
                         f"`{entry['baseline']['path']}` ({entry['baseline']['rows_on_page']} rows)")
    return "\n".join(lines) + "\n"


def _cell(text):
    return str(text).replace("|", "\\|").replace("\n", " ")


def _concurrent_row(section):
    app, base = section["app"], section["baseline"]
    return (f"| First page, {app['clients']} concurrent clients | {app['rps']:.1f} req/s | "
            f"p95 {app.get('p95_ms', 0):.0f} ms | {base['rps']:.1f} req/s | "
            f"p95 {base.get('p95_ms', 0):.0f} ms | {app['rps'] / base['rps']:.1f}× |")


def _export_row(section):
    return (f"| CSV export of all rows | {section['seconds']:.2f} s, "
            f"+{section['rss_growth_mb'] or 0:.1f} MB worker RSS | {max(section['lines'] - 1, 0):,} rows, "
            f"first byte {section['first_byte_s'] or 0:.2f} s | n/a (no export; issue: "
            f"{ISSUE_BASELINE['export_s']} s at 1M) | | |")


def _decision_row(section):
    return (f"| Workflow decision (POST), {section['decided']}/{section['attempted']} taken | "
            f"{_ms(section, 'p50_ms')} | {_ms(section, 'p95_ms')} | n/a | n/a | |")


def _writes_row(section):
    return (f"| {section['rows']} inserts + {section['rows']} updates, one commit each | "
            f"audited {section['audited_s']:.2f} s | unaudited {section['unaudited_s']:.2f} s "
            f"| | | audited ÷ unaudited {section['ratio']:.2f}× |")


def _verify_row(section):
    return (f"| flask audit verify | {section['entries_per_s']:,.0f} entries/s | "
            f"{section['entries']:,} in {section['seconds']:.2f} s (command "
            f"{section['command_wall_s']:.1f} s with start-up) | | | |")


def _ms(result, key):
    value = result.get(key)
    if value is None:
        return "error" if result.get("errors") else "n/a"
    return f"{value:.1f} ms"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--audit-entries", type=int, default=200_000)
    parser.add_argument("--engines", default="sqlite,postgresql")
    parser.add_argument("--postgres", default=os.environ.get(
        "BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"),
        help="an administrator connection; scratch databases are created and dropped")
    parser.add_argument("--samples", type=int, default=15,
                        help="timed requests per list screen and app")
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--per-client", type=int, default=5)
    parser.add_argument("--decisions", type=int, default=20)
    parser.add_argument("--write-rows", type=int, default=500)
    parser.add_argument("--write-repeat", type=int, default=3)
    args = parser.parse_args(argv)

    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGHUP, _on_signal)
    started = datetime.datetime.now(datetime.timezone.utc)
    report = {"started": started.strftime("%Y-%m-%d %H:%M UTC"), "rows": args.rows,
              "audit_entries": args.audit_entries, "samples": args.samples,
              "warmup": args.warmup, "machine": f"{os.cpu_count()} CPUs",
              "settings": vars(args) | {"postgres": "(admin connection)"}, "engines": {}}
    try:
        for kind in args.engines.split(","):
            try:
                report["engines"][kind] = run_engine(kind.strip(), args, args.postgres)
            except (KeyboardInterrupt, Interrupted):
                raise
            except Exception as error:  # noqa: BLE001  (reported, the other engine still runs)
                import traceback

                log(traceback.format_exc())
                report["engines"][kind] = {"error": f"{type(error).__name__}: {error}"}
    except (KeyboardInterrupt, Interrupted):
        log("interrupted: servers stopped, databases dropped")
        return 130
    report["checks"] = evaluate(report["engines"])
    report["finished"] = datetime.datetime.now(datetime.timezone.utc).strftime(
        "%Y-%m-%d %H:%M UTC")
    os.makedirs(RESULTS, exist_ok=True)
    stamp = started.strftime("%Y%m%d-%H%M%S")
    base = os.path.join(RESULTS, f"report-{stamp}")
    with open(base + ".json", "w", encoding="utf-8") as handle:
        json.dump(report, handle, ensure_ascii=False, indent=2, default=str)
    with open(base + ".md", "w", encoding="utf-8") as handle:
        handle.write(markdown(report))
    log("")
    log(markdown(report))
    log(f"Report: {base}.md and {base}.json")
    return 1 if any("error" in result for result in report["engines"].values()) else 0


if __name__ == "__main__":
    sys.exit(main())
