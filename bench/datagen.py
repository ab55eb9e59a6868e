"""Realistic bulk data for the benchmark: staff, departments, complaints, audit trail.

Runs on a database already prepared by the app (schema, then ``flask init``).
Complaints go in with PostgreSQL COPY or SQLite ``executemany`` in large
transactions, past the ORM and so past the audit listener; the audit trail is
chained exactly as ``app/audit/chain.py`` does (same canonical text, same
hashes), onto the entries ``flask init`` wrote, so ``flask audit verify``
accepts it.
"""
import datetime
import json
import random
import time

from sqlalchemy import insert, select, text

from app.audit.chain import HASHED_FIELDS, compute_hash, format_timestamp, last_hash

FAMILY = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍鹏辉玲燕红建林飞波斌宇浩凯亮俊帆琳晨欣怡佳雪梅婷倩楠瑶轩博文"
DEPARTMENTS = [
    "总经理办公室", "行政部", "业务部（合伙人）", "客服部", "物业管理部", "营销部", "城东供电所",
    "城西供电所", "城南供电所", "城北供电所", "市公司营销部", "用电检查班", "招商部", "综合服务部",
    "审计室", "财务部", "工程部", "安保部", "保洁部", "绿化部", "维修班", "电梯维保班", "收费中心",
    "客户服务热线", "法律事务部", "档案室", "信息中心", "人力资源部", "一区服务中心", "二区服务中心",
]
PLACES = ["幸福小区", "阳光花园", "锦绣华庭", "滨江苑", "翠湖湾", "金色家园", "东湖公寓",
          "和平里", "紫荆园", "世纪新城", "丽景湾", "南山名居", "书香门第", "枫林晚苑"]
ISSUES = [
    ("物业服务", "小区电梯多次故障停运，维修人员迟迟不到场"),
    ("物业服务", "楼道照明长期损坏，夜间出行存在安全隐患"),
    ("物业服务", "地下车库积水严重，车辆被泡"),
    ("物业服务", "保洁不到位，垃圾清运不及时，气味难闻"),
    ("物业服务", "物业费收费标准不透明，要求公示明细"),
    ("供电服务", "频繁停电且未提前通知，影响正常生产经营"),
    ("供电服务", "电表计量异常，电费较往月明显偏高"),
    ("供电服务", "新装用电申请超过承诺时限仍未办结"),
    ("供电服务", "抢修人员服务态度生硬，未说明故障原因"),
    ("律师服务", "承办律师长期不回复案件进展，联系不上"),
    ("律师服务", "律师费用与委托合同约定不一致"),
    ("律师服务", "开庭前未与当事人充分沟通证据材料"),
    ("窗口服务", "营业窗口排队时间过长，叫号系统混乱"),
    ("窗口服务", "工作人员推诿，要求多次往返补交材料"),
    ("收费问题", "重复扣缴费用，申请退款无人处理"),
    ("工程质量", "维修后墙面仍然渗水，要求重新施工"),
    ("噪音扰民", "夜间施工噪音大，影响居民休息"),
    ("安全隐患", "消防通道被车辆长期占用，无人管理"),
    ("意见建议", "建议增加便民服务点并延长周末营业时间"),
    ("意见建议", "建议在小区内增设充电桩"),
]
DEMANDS = ["要求尽快处理并给予书面答复", "要求赔偿相关损失", "要求相关人员赔礼道歉",
           "希望公司加强管理，杜绝类似情况", "要求退还多收费用", "要求限期整改",
           "希望领导重视并回访", "要求更换承办人员"]
OPINIONS = ["经调查核实，反映情况基本属实，建议责成相关部门限期整改。",
            "经核实，相关人员已按规定办理，投诉事项不成立，建议向投诉人做好解释。",
            "情况部分属实，建议对责任人进行批评教育并完善工作流程。"]
DECISIONS = ["同意专门负责人意见，责成责任部门五个工作日内整改并回复。",
             "投诉不成立，由专门负责人向投诉人书面说明。",
             "部分成立，对责任人通报批评，赔偿投诉人直接损失。"]

CHANNELS = (["phone"] * 40 + ["visit"] * 15 + ["written"] * 10 + ["justice_referral"] * 3
            + ["superior_referral"] * 4 + ["online"] * 20 + ["email"] * 8)
SEVERITIES = ["general"] * 80 + ["important"] * 15 + ["major"] * 5
OUTCOMES = ["upheld", "partly_upheld", "not_upheld", "adopted", "noted"]
OPEN = ("registered", "opinion_written", "meeting_held", "decided", "implemented", "follow_up")
# (status, weight) by age of the case: old cases are mostly closed and archived.
OLD_STATUSES = [("archived", 68), ("closed", 20), ("replied", 5), ("follow_up", 2),
                ("implemented", 1), ("decided", 1), ("merged", 3)]
RECENT_STATUSES = [("registered", 30), ("opinion_written", 18), ("meeting_held", 5),
                   ("decided", 14), ("implemented", 10), ("replied", 10), ("closed", 8),
                   ("follow_up", 2), ("merged", 3)]

COMPLAINT_COLUMNS = (
    "id", "number", "year", "sequence", "kind", "channel", "received_at", "register_number",
    "anonymous", "complainant_name", "complainant_phone", "complainant_address",
    "respondent_user_id", "respondent_department_id", "subject", "description", "severity",
    "principle_issue", "reply_letter_only", "paper_location", "officer_id", "partner_id",
    "opinion", "decision", "outcome", "decided_at", "implementation", "promised_reply_date",
    "replied_at", "closed_at", "archived_at", "status", "version", "created_at", "updated_at",
    "created_by_id", "updated_by_id",
)
AUDIT_COLUMNS = HASHED_FIELDS + ("entry_hash",)


def _weighted(pairs):
    population, weights = zip(*pairs)
    return population, weights


def _name(rng):
    return rng.choice(FAMILY) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))


# ---------------------------------------------------------------------------
# Staff and organisation
# ---------------------------------------------------------------------------

def create_staff(engine, users=300, password_hash=None, seed=7):
    """Departments and ``users`` staff accounts with roles; returns ids by role."""
    from flask_appbuilder.security.sqla.models import Role, User, assoc_user_role

    from app.models.org import Department

    rng = random.Random(seed)
    mix = (["ComplaintOfficer"] * 12 + ["Partner"] * 5 + ["Director"] * 1 + ["FrontDesk"] * 10
           + ["AdminDesk"] * 4 + ["ServiceSupervisor"] * 3 + ["DepartmentSupervisor"] * 8
           + ["PropertyAssistant"] * 20 + ["ServiceWindow"] * 15 + ["Marketing"] * 10
           + ["SalesManager"] * 8 + ["Inspector"] * 4)
    now = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
    by_role = {}
    with engine.begin() as connection:
        roles = dict(connection.execute(select(Role.__table__.c.name, Role.__table__.c.id)).all())
        department_ids = []
        for number, name in enumerate(DEPARTMENTS):
            department_ids.append(connection.execute(
                insert(Department.__table__).returning(Department.__table__.c.id),
                {"code": f"B{number:03d}", "name": name, "active": True,
                 "created_at": now, "updated_at": now}).scalar_one())
        for number in range(users):
            role = mix[number % len(mix)]
            name = _name(rng)
            user_id = connection.execute(
                insert(User.__table__).returning(User.__table__.c.id),
                {"first_name": name[1:], "last_name": name[0], "username": f"staff{number:04d}",
                 "password": password_hash, "active": True,
                 "email": f"staff{number:04d}@bench.example.com", "login_count": 0,
                 "fail_login_count": 0, "created_on": now, "changed_on": now}).scalar_one()
            connection.execute(insert(assoc_user_role), {"user_id": user_id,
                                                         "role_id": roles[role]})
            by_role.setdefault(role, []).append(user_id)
    by_role["departments"] = department_ids
    return by_role


def create_user(engine, username, role, password_hash):
    """One named account with one role (the harness logs in with it)."""
    from flask_appbuilder.security.sqla.models import Role, User, assoc_user_role

    now = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
    with engine.begin() as connection:
        role_id = connection.execute(select(Role.__table__.c.id).where(
            Role.__table__.c.name == role)).scalar_one()
        user_id = connection.execute(
            insert(User.__table__).returning(User.__table__.c.id),
            {"first_name": "测试", "last_name": username, "username": username,
             "password": password_hash, "active": True, "email": f"{username}@bench.example.com",
             "login_count": 0, "fail_login_count": 0, "created_on": now,
             "changed_on": now}).scalar_one()
        connection.execute(insert(assoc_user_role), {"user_id": user_id, "role_id": role_id})
    return user_id


# ---------------------------------------------------------------------------
# Complaints
# ---------------------------------------------------------------------------

def complaint_rows(count, staff, decider_id, decision_cases, seed=11, years=7):
    """Yield ``count`` complaint tuples (COMPLAINT_COLUMNS order), oldest first.

    The last rows' ids in ``decision_cases`` are ready for a decision by
    ``decider_id``: opinion written, general, no principle issue.
    """
    rng = random.Random(seed)
    now = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
    start = now - datetime.timedelta(days=365 * years)
    span = (now - start).total_seconds()
    offsets = sorted(rng.random() * span for _ in range(count))
    officers = staff["ComplaintOfficer"]
    partners = staff["Partner"]
    desks = staff["FrontDesk"] + staff["AdminDesk"]
    everyone = [uid for role, ids in staff.items() if role != "departments" for uid in ids]
    departments = staff["departments"]
    old_statuses, old_weights = _weighted(OLD_STATUSES)
    new_statuses, new_weights = _weighted(RECENT_STATUSES)
    recent_cut = now - datetime.timedelta(days=60)
    today = now.date()
    sequences = {}
    for index, offset in enumerate(offsets):
        row_id = index + 1
        received = start + datetime.timedelta(seconds=offset)
        received = received.replace(microsecond=0)
        year = received.year
        sequence = sequences[year] = sequences.get(year, 0) + 1
        channel = rng.choice(CHANNELS)
        severity = rng.choice(SEVERITIES)
        category, issue = rng.choice(ISSUES)
        place = rng.choice(PLACES)
        anonymous = rng.random() < 0.05
        complainant = None if anonymous else _name(rng)
        if row_id in decision_cases:
            status, severity = "opinion_written", "general"
        elif received < recent_cut:
            status = rng.choices(old_statuses, old_weights)[0]
        else:
            status = rng.choices(new_statuses, new_weights)[0]
        principle = severity == "major" and rng.random() < 0.3 and row_id not in decision_cases
        decided = status not in ("registered", "opinion_written", "meeting_held", "merged")
        decided_at = received + datetime.timedelta(days=rng.randint(2, 20)) if decided else None
        replied = status in ("replied", "closed", "archived", "follow_up")
        replied_at = decided_at + datetime.timedelta(days=rng.randint(1, 10)) if replied else None
        closed_at = (replied_at + datetime.timedelta(days=rng.randint(1, 15))
                     if status in ("closed", "archived") else None)
        archived_at = (closed_at + datetime.timedelta(days=rng.randint(10, 90))
                       if status == "archived" else None)
        promised = None
        if (severity == "major" and rng.random() < 0.5) or rng.random() < 0.03:
            promised = (received + datetime.timedelta(days=rng.randint(10, 30))).date()
            if status in OPEN and promised >= today and rng.random() < 0.5:
                promised = today - datetime.timedelta(days=rng.randint(1, 20))
        updated = archived_at or closed_at or replied_at or decided_at or received
        creator = rng.choice(desks)
        yield (
            row_id, f"TS-{year}-{sequence:05d}", year, sequence,
            "feedback" if category == "意见建议" else "complaint", channel, received,
            f"收文{year}-{sequence:04d}" if channel == "written" else None,
            anonymous, complainant,
            None if anonymous else f"1{rng.choice('3589')}{rng.randrange(10**9):09d}",
            None if anonymous else f"{place}{rng.randint(1, 30)}栋{rng.randint(1, 28)}0{rng.randint(1, 4)}室",
            rng.choice(everyone) if rng.random() < 0.1 else None,
            rng.choice(departments),
            f"{category}：{place}{issue[:18]}",
            f"投诉人于{received:%Y年%m月%d日}通过{channel_label(channel)}反映：{place}{issue}。"
            f"{rng.choice(DEMANDS)}。",
            severity, principle, False,
            "行政部档案柜" if channel == "written" else None,
            rng.choice(officers),
            decider_id if row_id in decision_cases else rng.choice(partners),
            rng.choice(OPINIONS) if status != "registered" else None,
            rng.choice(DECISIONS) if decided else None,
            rng.choice(OUTCOMES) if decided else None,
            decided_at,
            "已按处理决定落实整改。" if decided and status != "decided" else None,
            promised, replied_at, closed_at, archived_at, status, 1, received, updated,
            creator, creator,
        )


_CHANNEL_LABELS = {"phone": "电话", "visit": "上门", "written": "书面来信", "justice_referral":
                   "司法行政机关转办", "superior_referral": "上级部门转办", "online": "网上留言",
                   "email": "电子邮件"}


def channel_label(channel):
    return _CHANNEL_LABELS[channel]


def plain_indexes(engine, table):
    """(name, DDL) of the table's indexes that back no constraint."""
    with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            rows = connection.execute(text(
                "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.tablename = :table "
                "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)"),
                {"table": table}).all()
        else:
            rows = connection.execute(text(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = :table "
                "AND sql IS NOT NULL"), {"table": table}).all()
    return [(name, ddl) for name, ddl in rows]


def without_indexes(engine, table, load):
    """Run ``load`` with the table's plain indexes dropped, then build them again (faster)."""
    indexes = plain_indexes(engine, table)
    with engine.begin() as connection:
        for name, _ddl in indexes:
            connection.execute(text(f'DROP INDEX "{name}"'))
    try:
        load()
    finally:
        with engine.begin() as connection:
            for _name, ddl in indexes:
                connection.execute(text(ddl))


def load_complaints(engine, rows, batch=50_000):
    """Insert complaint tuples fast: COPY on PostgreSQL, executemany on SQLite."""
    without_indexes(engine, "complaint", lambda: _load_complaints(engine, rows, batch))


def _load_complaints(engine, rows, batch):
    columns = ", ".join(COMPLAINT_COLUMNS)
    if engine.dialect.name == "postgresql":
        raw = engine.raw_connection()
        try:
            with raw.driver_connection.cursor() as cursor:
                with cursor.copy(f"COPY complaint ({columns}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
            raw.commit()
            with raw.driver_connection.cursor() as cursor:
                cursor.execute("SELECT setval(pg_get_serial_sequence('complaint', 'id'), "
                               "(SELECT max(id) FROM complaint))")
            raw.commit()
        finally:
            raw.close()
        return
    placeholders = ", ".join("?" * len(COMPLAINT_COLUMNS))
    statement = f"INSERT INTO complaint ({columns}) VALUES ({placeholders})"
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        # The generator's ids are consistent; checking each key would double the load time.
        cursor.execute("PRAGMA foreign_keys=OFF")
        chunk = []
        for row in rows:
            chunk.append(_sqlite_row(row))
            if len(chunk) >= batch:
                cursor.executemany(statement, chunk)
                raw.commit()
                chunk = []
        if chunk:
            cursor.executemany(statement, chunk)
        raw.commit()
    finally:
        raw.close()


def _sqlite_row(row):
    # SQLAlchemy's SQLite types store datetimes and dates as ISO text.
    return tuple(
        value.isoformat(sep=" ", timespec="microseconds") if isinstance(value, datetime.datetime)
        else value.isoformat() if isinstance(value, datetime.date) else value
        for value in row
    )


# ---------------------------------------------------------------------------
# Audit trail
# ---------------------------------------------------------------------------

def audit_entries(count, staff, complaints, seed=13):
    """``count`` plausible entries (HASHED_FIELDS minus the hashes), oldest first."""
    rng = random.Random(seed)
    users = [uid for role, ids in staff.items() if role != "departments" for uid in ids]
    moment = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None, microsecond=0)
    moment -= datetime.timedelta(seconds=count * 2)
    steps = [("registered", "opinion_written"), ("opinion_written", "decided"),
             ("decided", "implemented"), ("implemented", "replied"), ("replied", "closed")]
    dump = lambda value: json.dumps(value, ensure_ascii=False, sort_keys=True,  # noqa: E731
                                    separators=(",", ":"))
    # A pool of event shapes (what changed), drawn from for each entry: building
    # each one afresh would make generation, not the database, the slow part.
    shapes = []
    for number in range(4000):
        kind = rng.random()
        row = rng.randint(1, max(complaints, 1))
        if kind < 0.55:
            before, after = rng.choice(steps)
            shapes.append(("update", "complaint", str(row), dump(
                {"status": [before, after], "version": [1, 2]})))
        elif kind < 0.75:
            shapes.append(("insert", "workflow_transition", str(number), dump(
                {"workflow": [None, "complaint"], "record_id": [None, row],
                 "action": [None, "decide"]})))
        elif kind < 0.9:
            shapes.append(("insert", "complaint_contact", str(number), dump(
                {"complaint_id": [None, row], "mode": [None, "phone"],
                 "summary": [None, "电话联系投诉人，告知处理进展。"]})))
        elif kind < 0.97:
            shapes.append(("read", "complaint", str(row), dump({"view": "ComplaintView"})))
        else:
            shapes.append(("login", "ab_user", None, None))
    addresses = [f"10.{rng.randint(0, 3)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
                 for _ in range(500)]
    step = datetime.timedelta(milliseconds=1)
    for _number in range(count):
        moment += step * rng.randint(1, 4000)
        actor = rng.choice(users)
        action, table, row, changes = rng.choice(shapes)
        yield {
            "occurred_at": moment, "actor_id": actor, "actor_name": f"staff{actor:04d}",
            "acting_for_id": None, "acting_for_name": None,
            "remote_addr": rng.choice(addresses), "action": action, "table_name": table,
            "row_id": row if row is not None else str(actor), "changes": changes,
        }


def load_audit(engine, entries, batch=50_000):
    """Chain ``entries`` onto the trail's tail and insert them; returns the count."""
    written = []
    without_indexes(engine, "audit_log",
                    lambda: written.append(_load_audit(engine, entries, batch)))
    return written[0]


def _load_audit(engine, entries, batch):
    written = 0
    raw = engine.raw_connection()
    try:
        driver = raw.driver_connection
        postgres = engine.dialect.name == "postgresql"
        with engine.connect() as connection:
            tail = last_hash(connection)
        columns = ", ".join(AUDIT_COLUMNS)

        def chained():
            nonlocal tail, written
            for entry in entries:
                row = [entry[name] for name in HASHED_FIELDS[:-1]] + [tail]
                tail = compute_hash(*row)
                written += 1
                yield row + [tail]

        if postgres:
            with driver.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", (0x41554449544C4F47,))
                with cursor.copy(f"COPY audit_log ({columns}) FROM STDIN") as copy:
                    for row in chained():
                        copy.write_row(row)
            raw.commit()
        else:
            placeholders = ", ".join("?" * len(AUDIT_COLUMNS))
            statement = f"INSERT INTO audit_log ({columns}) VALUES ({placeholders})"
            cursor = raw.cursor()
            chunk = []
            for row in chained():
                row[0] = format_timestamp(row[0])
                chunk.append(row)
                if len(chunk) >= batch:
                    cursor.executemany(statement, chunk)
                    raw.commit()
                    chunk = []
            if chunk:
                cursor.executemany(statement, chunk)
            raw.commit()
    finally:
        raw.close()
    return written


def analyse(engine):
    """Fresh planner statistics, as autovacuum (PostgreSQL) or PRAGMA optimize would give."""
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE"))
    else:
        with engine.begin() as connection:
            connection.execute(text("ANALYZE"))


def populate(engine, rows, audit_count, password_hash, decider_id, decision_count, echo=print):
    """Everything the benchmark reads; returns what the harness needs to know."""
    timings = {}
    started = time.perf_counter()
    staff = create_staff(engine, password_hash=password_hash)
    timings["staff_s"] = time.perf_counter() - started
    decision_cases = set(range(rows - decision_count * 40, rows, 40)) if rows > decision_count * 40 \
        else set(range(1, decision_count + 1))
    started = time.perf_counter()
    load_complaints(engine, complaint_rows(rows, staff, decider_id, decision_cases))
    timings["complaints_s"] = time.perf_counter() - started
    echo(f"    {rows} complaints in {timings['complaints_s']:.1f} s")
    started = time.perf_counter()
    load_audit(engine, audit_entries(audit_count, staff, rows))
    timings["audit_s"] = time.perf_counter() - started
    echo(f"    {audit_count} audit entries in {timings['audit_s']:.1f} s")
    started = time.perf_counter()
    analyse(engine)
    timings["analyse_s"] = time.perf_counter() - started
    with engine.connect() as connection:
        complaints = connection.execute(text("SELECT count(*) FROM complaint")).scalar()
        audit = connection.execute(text("SELECT count(*) FROM audit_log")).scalar()
    return {"staff": {k: len(v) for k, v in staff.items()}, "complaints": complaints,
            "audit_entries": audit, "decision_cases": sorted(decision_cases), "timings": timings}
