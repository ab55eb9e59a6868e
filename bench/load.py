"""A bounded load run: users of several roles at once against 4 gunicorn workers on PostgreSQL.

    .venv/bin/python bench/load.py                      # make load: 60 s, 12 users
    .venv/bin/python bench/load.py --seconds 30 --users 8 --rows 20000

A scratch PostgreSQL database ``cs_bench_<random>`` gets the schema, ``flask
init --demo`` (the demo users of every role and their records) and bulk rows
(bench/datagen.py: staff accounts, complaints, a hash-chained audit trail).
The app runs under gunicorn with 4 sync workers on 127.0.0.1; ``--users``
threads, each with its own session logged in through the login form, repeat
a weighted mix of what their role does: home page, lists with filters,
record pages, search, a filtered CSV export, registering a complaint (front
desk), workflow steps on their own cases (designated officers write the
opinion, a partner decides), recording a return visit (property assistant),
charts. The run stops after ``--seconds`` or ``--max-requests``, whichever
comes first.

Any answer that is neither 2xx nor 3xx, and any redirect to the login page,
counts as an error (the first few are printed); a step the app refuses with
its own message (a flash after a redirect, a form shown again) is counted
as refused, not as an error. Afterwards ``flask audit verify`` must pass.
The report (p50/p95 per action and overall, requests per second) goes to
bench/results/load-<timestamp>.md and .json. Every process is stopped and
the database dropped at the end, also on Ctrl-C.
"""
import argparse
import collections
import datetime
import html.parser
import json
import os
import random
import re
import secrets
import shutil
import signal
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import run as harness  # noqa: E402  (bench/run.py: database, gunicorn, login, stats)

import datagen  # noqa: E402

log = harness.log
WORKERS = 4
# The numbers of the bulk complaints start here, above any the demo data or the run take.
SEQUENCE_OFFSET = 50_000


# ---------------------------------------------------------------------------
# Preparation
# ---------------------------------------------------------------------------

# The register's counters continue after the bulk numbers (what a migration of old data does).
SEQUENCE_SCRIPT = """
from sqlalchemy import func
from app import create_app
from app.extensions import db
from app.models.complaints import Complaint
from app.models.numbering import NumberSequence
from app.services.complaints import NUMBER_PREFIX
app = create_app()
with app.app_context():
    for year, last in db.session.query(Complaint.year, func.max(Complaint.sequence)).group_by(
            Complaint.year):
        row = db.session.get(NumberSequence, (NUMBER_PREFIX, year))
        if row is None:
            db.session.add(NumberSequence(series=NUMBER_PREFIX, year=year, last_number=last))
        elif row.last_number < last:
            row.last_number = last
    db.session.commit()
"""


def shifted(rows, id_offset):
    """The generator's complaints moved past the demo's ids and numbers."""
    for row in rows:
        row = list(row)
        row[0] += id_offset
        row[3] += SEQUENCE_OFFSET
        row[1] = f"TS-{row[2]}-{row[3]:05d}"
        yield tuple(row)


def prepare(database, workdir, args):
    """Schema, demo data, bulk rows; returns the app's environment and the accounts."""
    from sqlalchemy import create_engine, text
    from werkzeug.security import generate_password_hash

    env = harness._app_env(database.url, workdir, "Load" + secrets.token_hex(8) + "#9")
    started = time.perf_counter()
    harness._run([sys.executable, "-c", harness.SCHEMA_SCRIPT], env)
    harness._run([os.path.join(harness.BIN, "flask"), "--app", "run", "init", "--demo"], env)
    accounts = {}
    with open(os.path.join(env["INSTANCE_PATH"], "demo-accounts.txt"), encoding="utf-8") as handle:
        for line in list(handle)[1:]:
            username, _name, _role, password = line.rstrip("\n").split("\t")
            accounts[username] = password
    log(f"  schema and demo data in {time.perf_counter() - started:.1f} s")

    started = time.perf_counter()
    staff_password = "Load" + secrets.token_hex(8) + "#8"
    password_hash = generate_password_hash(staff_password)
    engine = create_engine(database.url)
    try:
        staff = datagen.create_staff(engine, password_hash=password_hash)
        partner_id = datagen.create_user(engine, "loadpartner", "Partner", password_hash)
        with engine.connect() as connection:
            id_offset = connection.execute(
                text("SELECT coalesce(max(id), 0) + 1000 FROM complaint")).scalar()
        rows = args.rows
        cases = set(range(max(1, rows - args.decisions * 40), rows, 40))
        datagen.load_complaints(engine, shifted(
            datagen.complaint_rows(rows, staff, partner_id, cases), id_offset))
        datagen.load_audit(engine, datagen.audit_entries(args.audit_entries, staff, rows))
        datagen.analyse(engine)
        with engine.connect() as connection:
            officers = connection.execute(text(
                "SELECT u.username, array_agg(c.id ORDER BY c.id DESC) FROM complaint c "
                "JOIN ab_user u ON u.id = c.officer_id WHERE c.status = 'registered' "
                "AND u.username LIKE 'staff%' GROUP BY u.username "
                "ORDER BY count(*) DESC LIMIT 4")).all()
            visits = connection.execute(text(
                "SELECT v.id FROM return_visit v JOIN ab_user u ON u.id = v.visitor_id "
                "WHERE u.username = 'wuxia' AND v.status = 'planned' ORDER BY v.id")
            ).scalars().all()
    finally:
        engine.dispose()
    harness._run([sys.executable, "-c", SEQUENCE_SCRIPT], env)
    for username, _ids in officers:
        accounts[username] = staff_password
    accounts["loadpartner"] = staff_password
    work = {
        "decide": [case + id_offset for case in sorted(cases)],
        "write_opinion": {username: list(ids) for username, ids in officers},
        "record_visit": list(visits),
    }
    log(f"  {rows:,} complaints, {args.audit_entries:,} audit entries, staff in "
        f"{time.perf_counter() - started:.1f} s; {len(work['decide'])} cases to decide, "
        f"{sum(map(len, work['write_opinion'].values()))} opinions to write, "
        f"{len(visits)} visits to record")
    return env, accounts, work


# ---------------------------------------------------------------------------
# Forms
# ---------------------------------------------------------------------------

class FormParser(html.parser.HTMLParser):
    """The fields of the first form whose action contains ``action`` (or whose id is it)."""

    def __init__(self, action):
        super().__init__()
        self.action = action
        self.inside = self.done = False
        self.fields = {}
        self.required = set()
        self._select = self._textarea = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and not self.done and (
                self.action in (attrs.get("action") or "") or attrs.get("id") == self.action):
            self.inside = True
            return
        if not self.inside:
            return
        name = attrs.get("name")
        if "required" in attrs and name:
            self.required.add(name)
        if tag == "input" and name:
            kind = (attrs.get("type") or "text").lower()
            if kind in ("checkbox", "radio"):
                if "checked" in attrs:
                    self.fields[name] = attrs.get("value") or "y"
                elif kind == "radio":
                    self.fields.setdefault(name, attrs.get("value") or "")
            elif kind not in ("submit", "button", "file", "image", "reset"):
                self.fields[name] = attrs.get("value") or ""
        elif tag == "select" and name:
            self._select = name
            self.fields.setdefault(name, "")
        elif tag == "option" and self._select:
            value = attrs.get("value") or ""
            if "selected" in attrs or (not self.fields[self._select] and value
                                       and value != "__None"):
                self.fields[self._select] = value
        elif tag == "textarea" and name:
            self._textarea = name
            self.fields[name] = ""

    def handle_data(self, data):
        if self._textarea:
            self.fields[self._textarea] += data

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None
        elif tag == "form" and self.inside:
            self.inside, self.done = False, True


def form_fields(page, action):
    parser = FormParser(action)
    parser.feed(page)
    if not parser.done and not parser.fields:
        return None, set()
    return parser.fields, parser.required


# ---------------------------------------------------------------------------
# Simulated users
# ---------------------------------------------------------------------------

class Refused(Exception):
    """The app answered, but declined the step with its own message."""


class Failed(Exception):
    def __init__(self, status, method, path, detail=""):
        super().__init__(f"HTTP {status} on {method} {path} {detail}".strip())
        self.status = status


SHOW_LINK = re.compile(r"/complaintview/show/(\d+)")
MESSAGE = re.compile(r'class="[^"]*(?:help-block|alert-danger|invalid-feedback|text-danger)[^"]*"'
                     r'[^>]*>(.*?)</(?:div|span|p|li)', re.S)
TAG = re.compile(r"<[^>]+>")


def reasons(page):
    """The error messages a page shows (why a step was refused), shortened."""
    found = [" ".join(html.unescape(TAG.sub(" ", text)).replace("×", " ").split())
             for text in MESSAGE.findall(page)]
    return "; ".join(dict.fromkeys(text for text in found if text))[:300]


def _signature_png():
    """A small drawn-signature PNG, as the visit form's pad sends it."""
    import base64
    import struct
    import zlib

    width, height = 60, 20
    rows = b"".join(b"\0" + bytes(255 if (x + 2 * y) % 7 else 0 for x in range(width))
                    for y in range(height))

    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows))
           + chunk(b"IEND", b""))
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


SIGNATURE = _signature_png()
TEXT = "负载测试：已电话联系投诉人，核实情况属实，建议责任部门三个工作日内整改并回复。"


class User:
    """One logged-in session doing its role's mix; records each request's time."""

    def __init__(self, run, role, username, password, seed):
        self.run, self.role, self.username = run, role, username
        self.base = run.base
        self.rng = random.Random(seed)
        self.session = harness.login(self.base, username, password)
        self.seen = []  # complaint ids this user's lists showed (so visible to it)

    # -- HTTP -----------------------------------------------------------------

    def request(self, action, method, path, **kwargs):
        kwargs.setdefault("allow_redirects", False)
        started = time.perf_counter()
        response = self.session.request(method, self.base + path, timeout=120, **kwargs)
        body = response.content
        elapsed = time.perf_counter() - started
        self.run.record(action, elapsed)
        location = response.headers.get("Location", "")
        if response.status_code >= 400 or (300 <= response.status_code < 400
                                           and "/login" in location):
            raise Failed(response.status_code, method, path, location)
        return response, body.decode("utf-8", "replace")

    def get(self, action, path):
        return self.request(action, "GET", path)

    def post(self, action, path, data):
        return self.request(action, "POST", path, data=data)

    # -- actions --------------------------------------------------------------

    def home(self):
        self.get("home", "/")

    def complaint_list(self):
        query = self.rng.choice([
            "", "?_flt_0_status=registered", "?_flt_0_severity=major",
            "?_flt_0_status=opinion_written&_oc_ComplaintView=number&_od_ComplaintView=desc",
            f"?page_ComplaintView={self.rng.randint(1, 40)}"])
        _response, page = self.get("list", "/complaintview/list/" + query)
        found = SHOW_LINK.findall(page)
        if found:
            self.seen = (self.seen + [int(pk) for pk in found])[-200:]

    def show(self):
        if not self.seen:
            return self.complaint_list()
        self.get("show", f"/complaintview/show/{self.rng.choice(self.seen)}")

    def search(self):
        term = self.rng.choice(["电梯", "物业费", "停电", "TS-2026", "噪音", "收据"])
        self.get("search", f"/search/?q={term}")

    def export(self):
        status = self.rng.choice(["registered", "decided", "opinion_written"])
        self.get("export_csv", f"/complaintview/export.csv?_flt_0_status={status}")

    def charts(self):
        _response, page = self.get("charts", "/dashboards/")
        keys = sorted(set(re.findall(r'href="/dashboards/([a-z_]+)/"', page)))
        if keys:
            self.get("charts", f"/dashboards/{self.rng.choice(keys)}/")

    def visits_list(self):
        self.get("list", "/returnvisitview/list/")

    def register(self):
        _response, page = self.get("register: form", "/complaintview/add")
        fields, _required = form_fields(page, "model_form")  # FAB's add form
        if fields is None:
            raise Refused("no registration form")
        number = self.rng.randrange(10**8)
        if self.role == "admin_desk":  # CMP-02: the administration desk registers letters
            fields.update(channel="written", register_number=f"收文-{number}")
        fields.update(
            subject=f"负载测试：{self.rng.choice(['电梯故障', '路灯不亮', '收费疑问'])} {number}",
            description="客户来电反映问题，要求尽快处理并回复。",
            complainant_name="测试客户", complainant_phone=f"139{number:08d}",
            complainant_address="阳光花园1栋101", duplicate_of="")
        response, page = self.post("register: post", "/complaintview/add", fields)
        if "/complaintview/show/" not in response.headers.get("Location", ""):
            raise Refused(reasons(page) or "registration not accepted")

    def step(self, action, pk, payload):
        _response, page = self.get("show", f"/complaintview/show/{pk}")
        fields, _required = form_fields(page, f"/transition/{pk}/{action}")
        if fields is None:
            raise Refused(f"no {action} button")
        fields.update(payload)
        self.post(f"{action}: post", f"/complaintview/transition/{pk}/{action}", fields)
        _response, page = self.get("show", f"/complaintview/show/{pk}")
        if f"/transition/{pk}/{action}" in page:
            raise Refused(reasons(page) or f"{action} not taken")

    def write_opinion(self):
        pk = self.run.take("write_opinion", self.username)
        if pk is None:  # nothing left to do: read instead (counted as such)
            self.show()
            return "show"
        self.step("write_opinion", pk, {"opinion": TEXT, "comment": ""})

    def decide(self):
        pk = self.run.take("decide")
        if pk is None:
            self.show()
            return "show"
        self.step("decide", pk, {"outcome": "partly_upheld", "decision": TEXT, "comment": ""})

    def record_visit(self):
        pk = self.run.take("record_visit")
        if pk is None:
            self.visits_list()
            return "visits_list"
        path = f"/returnvisitview/record/{pk}"
        _response, page = self.get("record_visit: form", path)
        fields, required = form_fields(page, path)
        if fields is None:
            raise Refused("no visit form")
        for name in required:
            if not fields.get(name):
                fields[name] = "负载测试回访记录"
        fields.update(satisfaction="satisfied", summary="回访客户，对处理结果表示满意。",
                      signer_name="测试客户", signature_data=SIGNATURE)
        response, page = self.post("record_visit: post", path, fields)
        if response.status_code not in (301, 302, 303):
            raise Refused(reasons(page) or "visit form shown again")


# What each role does, and how often (weights).
MIXES = {
    "front_desk": {"home": 2, "complaint_list": 4, "show": 4, "search": 2, "register": 3},
    "admin_desk": {"home": 2, "complaint_list": 4, "show": 4, "search": 2, "register": 3},
    "officer": {"home": 1, "complaint_list": 3, "show": 3, "write_opinion": 4},
    "partner": {"home": 1, "complaint_list": 2, "show": 3, "decide": 4},
    "supervisor": {"home": 1, "complaint_list": 3, "show": 2, "search": 2, "export": 2,
                   "charts": 3},
    "visitor": {"home": 1, "visits_list": 2, "record_visit": 3},
}
# The demo account (or bulk staff account) of each role; several users may share one.
ROSTER = [("front_desk", "wangfang"), ("officer", None), ("partner", "loadpartner"),
          ("supervisor", "zhouqiang"), ("visitor", "wuxia"), ("officer", None),
          ("admin_desk", "zhaomin"), ("supervisor", "zhangwei"), ("partner", "loadpartner"),
          ("officer", None), ("supervisor", "liuyang"), ("front_desk", "wangfang")]


class LoadRun:
    """Shared state of the simulated users: samples, errors, the work queues."""

    def __init__(self, base, work, max_requests):
        self.base = base
        self.work = work
        self.max_requests = max_requests
        self.lock = threading.Lock()
        self.samples = collections.defaultdict(list)
        self.outcomes = collections.defaultdict(collections.Counter)
        self.errors = []
        self.refusals = {}
        self.requests = 0
        self.stop = threading.Event()

    def record(self, action, elapsed):
        with self.lock:
            self.samples[action].append(elapsed)
            self.requests += 1
            if self.requests >= self.max_requests:
                self.stop.set()

    def take(self, queue, key=None):
        with self.lock:
            items = self.work[queue] if key is None else self.work[queue].get(key, [])
            return items.pop() if items else None

    def outcome(self, action, result):
        with self.lock:
            self.outcomes[action][result] += 1

    def refusal(self, action, refusal):
        with self.lock:
            reasons = self.refusals.setdefault(action, collections.Counter())
            if len(reasons) < 5 or str(refusal) in reasons:
                reasons[str(refusal)] += 1

    def error(self, user, action, error):
        with self.lock:
            self.errors.append({"user": user.username, "role": user.role, "action": action,
                                "error": str(error)[:500]})

    def loop(self, user, think):
        mix = MIXES[user.role]
        actions, weights = list(mix), list(mix.values())
        while not self.stop.is_set():
            action = user.rng.choices(actions, weights)[0]
            try:
                self.outcome(getattr(user, action)() or action, "done")
            except Refused as refusal:
                self.outcome(action, "refused")
                self.refusal(action, refusal)
            except Failed as error:
                self.outcome(action, "error")
                self.error(user, action, error)
            except Exception as error:  # noqa: BLE001  (a dropped connection is an error too)
                self.outcome(action, "error")
                self.error(user, action, f"{type(error).__name__}: {error}")
            if think:
                self.stop.wait(user.rng.uniform(0, 2 * think))


def make_users(run, accounts, work, count):
    officers = list(work["write_opinion"]) or ["sunli"]
    users = []
    for index in range(count):
        role, username = ROSTER[index % len(ROSTER)]
        if username is None:  # each officer user its own account, with its own cases
            username = officers[sum(1 for user in users if user.role == "officer")
                                % len(officers)]
        users.append(User(run, role, username, accounts[username], seed=index))
    return users


# ---------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------

def summarise(run, wall, args, verify, data):
    everything = [value for values in run.samples.values() for value in values]
    return {
        "started": data["started"], "seconds": args.seconds, "wall_s": wall,
        "users": args.users, "think_s": args.think, "workers": WORKERS,
        "rows": args.rows, "audit_entries": args.audit_entries, "machine": data["machine"],
        "load_average": data["load_average"], "requests": len(everything),
        "rps": len(everything) / wall if wall else 0.0, "overall": harness.stats(everything),
        "by_request": {label: harness.stats(values)
                       for label, values in sorted(run.samples.items())},
        "steps": {action: dict(outcomes) for action, outcomes in sorted(run.outcomes.items())},
        "refusals": {action: dict(reasons) for action, reasons in run.refusals.items()},
        "errors": len(run.errors), "first_errors": run.errors[:10],
        "roles": data["roles"], "verify": verify,
    }


def markdown(report):
    overall = report["overall"]
    verify = report["verify"]
    lines = [
        f"# Load run {report['started']}", "",
        f"{report['users']} simulated users ({', '.join(report['roles'])}), "
        f"{report['seconds']:.0f} s, pause between steps up to {2 * report['think_s']:.1f} s; "
        f"gunicorn, {report['workers']} sync workers on 127.0.0.1, PostgreSQL; "
        f"{report['rows']:,} bulk complaints plus the demo data; {report['machine']}, "
        f"load average {report['load_average']} before the run.", "",
        f"**{report['requests']:,} requests in {report['wall_s']:.1f} s "
        f"({report['rps']:.1f} req/s), {report['errors']} errors.** Overall p50 "
        f"{overall.get('p50_ms', 0):.0f} ms, p95 {overall.get('p95_ms', 0):.0f} ms. "
        f"`flask audit verify`: {'passed' if verify.get('ok') else '**failed**'} "
        f"({verify.get('entries', 0):,} entries).", "",
        "| Request | n | p50 | p95 | max |", "| --- | ---: | ---: | ---: | ---: |",
    ]
    for label, entry in report["by_request"].items():
        lines.append(f"| {label} | {entry['n']} | {entry.get('p50_ms', 0):.0f} ms | "
                     f"{entry.get('p95_ms', 0):.0f} ms | {entry.get('max_ms', 0):.0f} ms |")
    lines += ["", "| Step of the mix | done | refused by the app | errors |",
              "| --- | ---: | ---: | ---: |"]
    for action, outcomes in report["steps"].items():
        lines.append(f"| {action} | {outcomes.get('done', 0)} | {outcomes.get('refused', 0)} | "
                     f"{outcomes.get('error', 0)} |")
    lines += ["", "A step may take several requests: a workflow step reads the record page, "
              "posts the form and reads the page again. Times are wall-clock times seen by "
              "the clients, on the same machine as the servers and the database."]
    if report["refusals"]:
        lines += ["", "Refusals (the app's own messages):", ""]
        lines += [f"- {action}: {reason} ({count}x)"
                  for action, reasons in report["refusals"].items()
                  for reason, count in reasons.items()]
    if report["first_errors"]:
        lines += ["", "First errors:", ""]
        lines += [f"- {item['role']} {item['user']}, {item['action']}: {item['error']}"
                  for item in report["first_errors"]]
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------

def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--users", type=int, default=12)
    parser.add_argument("--think", type=float, default=0.1,
                        help="mean pause between two steps of a user, in seconds")
    parser.add_argument("--max-requests", type=int, default=50_000,
                        help="stop earlier once this many requests were made")
    parser.add_argument("--rows", type=int, default=20_000, help="bulk complaints")
    parser.add_argument("--audit-entries", type=int, default=50_000)
    parser.add_argument("--decisions", type=int, default=200,
                        help="bulk cases prepared for the partner to decide")
    parser.add_argument("--postgres", default=os.environ.get(
        "BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"),
        help="an administrator connection; a scratch database is created and dropped")
    args = parser.parse_args(argv)

    # Ctrl-C also when started from a shell that ignores SIGINT in background jobs.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, harness._on_signal)
    signal.signal(signal.SIGHUP, harness._on_signal)
    started = datetime.datetime.now(datetime.timezone.utc)
    workdir = tempfile.mkdtemp(prefix="cs-load-")
    try:
        with harness.Database("postgresql", workdir, args.postgres) as database:
            log(f"[load] preparing {database.name}")
            env, accounts, work = prepare(database, workdir, args)
            with harness.Gunicorn("app", "run:app", env, workdir, harness.ROOT,
                                  workers=WORKERS) as server:
                run = LoadRun(server.base, work, args.max_requests)
                users = make_users(run, accounts, work, args.users)
                log(f"[load] {len(users)} users logged in; running {args.seconds:.0f} s")
                load_average = os.getloadavg()
                threads = [threading.Thread(target=run.loop, args=(user, args.think),
                                            daemon=True) for user in users]
                begun = time.perf_counter()
                for thread in threads:
                    thread.start()
                deadline = begun + args.seconds
                while time.perf_counter() < deadline and not run.stop.is_set():
                    time.sleep(0.2)
                run.stop.set()
                for thread in threads:
                    thread.join(timeout=150)
                wall = time.perf_counter() - begun
            log("[load] flask audit verify")
            try:
                verify = harness.measure_verify(env)
            except RuntimeError as error:  # non-zero exit: the chain is broken
                verify = {"ok": False, "error": str(error)[-1000:]}
            data = {"started": started.strftime("%Y-%m-%d %H:%M UTC"),
                    "machine": f"{os.cpu_count()} CPUs",
                    "load_average": " ".join(f"{value:.1f}" for value in load_average),
                    "roles": sorted({f"{user.role} {user.username}" for user in users})}
            report = summarise(run, wall, args, verify, data)
    except (KeyboardInterrupt, harness.Interrupted):
        log("interrupted: server stopped, database dropped")
        return 130
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    os.makedirs(harness.RESULTS, exist_ok=True)
    base = os.path.join(harness.RESULTS, f"load-{started.strftime('%Y%m%d-%H%M%S')}")
    with open(base + ".json", "w", encoding="utf-8") as handle:
        json.dump(report, handle, ensure_ascii=False, indent=2, default=str)
    with open(base + ".md", "w", encoding="utf-8") as handle:
        handle.write(markdown(report))
    log("")
    log(markdown(report))
    log(f"Report: {base}.md and {base}.json")
    return 0 if report["errors"] == 0 and verify.get("ok") else 1


if __name__ == "__main__":
    sys.exit(main())
