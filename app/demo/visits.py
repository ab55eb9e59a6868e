"""Return visits (回访, VIS-01 to VIS-13): demo records for `flask init --demo`.

Runs after the complaints demo, whose closed cases already proposed their
visits. This module dates those visits after each case's resolution, has the
demo visitors (吴霞 property assistant of 一区, 郑涛 department supervisor,
张伟 general manager, 冯蕾 culture clerk) record most of them, 周强 review
many, and leaves some planned and overdue. It adds maintenance jobs and
community events of the last four months with their visits, a holiday and a
move-in visit, and an open letter, so that the lists, deadlines and the
monthly statistics show something. Idempotent: nothing is added once a
maintenance job exists.
"""
import datetime
import random
import struct
import zlib

from ..audit.context import acting_as
from ..extensions import db
from ..models.base import utcnow
from ..models.complaints import Complaint
from ..models.deadlines import Deadline, DeadlineStatus
from ..models.visits import MaintenanceJob, ReturnVisit, VisitStatus
from ..models.workflow import WorkflowTransition

S = VisitStatus

JOBS = [
    ("3栋电梯钢丝绳更换", "一区", "李建国", "13901234567", "阳光花园3栋2单元1102"),
    ("5栋屋面防水修补", "一区", "王秀英", "13812345678", "阳光花园5栋101"),
    ("地下车库B2照明改造", "一区", "刘美兰", "13655558888", "阳光花园2栋1503"),
    ("2号垃圾站排污管疏通", "一区", "杨丽华", "13344445555", "阳光花园7栋602"),
    ("北门门禁系统维修", "一区", "黄佳怡", "18900001111", "阳光花园1栋302"),
    ("7栋外墙瓷砖脱落修复", "一区", "吴桂芳", "18533334444", "阳光花园4栋903"),
    ("中心花园喷灌管道更换", "一区", "徐立新", "18255556666", "阳光花园6栋1201"),
    ("4栋消防栓漏水维修", "一区", "孙海燕", "15977778888", "阳光花园4栋301"),
    ("6栋楼道声控灯更换", "一区", "赵文斌", "13166667777", "阳光花园6栋802"),
    ("1栋二次供水水箱清洗", "一区", "陈晓东", "13522223333", "阳光花园1栋1001"),
]

EVENTS = [
    ("夏日亲子游园会", "中心广场", 48),
    ("重阳节敬老茶话会", "社区活动中心", 26),
    ("社区乒乓球友谊赛", "文体活动室", 34),
    ("冬至包饺子邻里活动", "社区食堂", 40),
]

SUMMARIES = [
    "客户对处理结果表示满意，感谢物业及时跟进。",
    "客户认可整改措施，希望今后加强日常巡查。",
    "客户表示问题已解决，对服务态度较为满意。",
    "客户反映整改基本到位，但希望缩短响应时间。",
]
ISSUES = [
    ("楼道杂物堆放影响通行", True, "已当场联系保洁当日清理。"),
    ("希望公示维修费用明细", False, None),
    ("小区夜间巡逻不够", False, None),
    ("快递柜数量不足", True, "已纳入年度改造计划，下季度增设。"),
]


def create_demo_data(echo=print):
    """Create this module's demo records (idempotent)."""
    if db.session.query(MaintenanceJob.id).first() is not None:
        return
    from flask import current_app

    sm = current_app.appbuilder.sm
    users = {name: sm.find_user(username=name) for name in (
        "zhouqiang", "wuxia", "zhengtao", "zhangwei", "fenglei", "admin")}
    if any(user is None for user in users.values()):
        echo("Visits demo skipped: the demo users are missing.")
        return
    rng = random.Random(4)
    now = utcnow()
    complaint_visits = _complaint_visits(users, rng, now)
    jobs = _jobs(users, rng, now)
    events = _events(users, rng, now)
    _manual_plans(users, now)
    _open_letter(users)
    db.session.commit()
    echo(f"Visits demo: {complaint_visits} complaint visits dated, {jobs} maintenance jobs, "
         f"{events} community events, an open letter.")


# ---------------------------------------------------------------------------
# A drawn signature
# ---------------------------------------------------------------------------

def signature_png(seed=0, width=160, height=48):
    """A small PNG with a pen stroke, standing in for a signature drawn on a tablet."""
    rng = random.Random(seed)
    rows = [bytearray(b"\xff" * width) for _ in range(height)]
    y = height / 2
    for x in range(10, width - 10):
        y = max(4, min(height - 5, y + rng.uniform(-2.5, 2.5)))
        for dy in (-1, 0, 1):
            rows[int(y) + dy][x] = 0x20
    raw = b"".join(b"\x00" + bytes(row) for row in rows)

    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    return (b"\x89PNG\r\n\x1a\n"
            + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------

def _set_due(visit, due_at):
    visit.due_at = due_at
    for deadline in db.session.query(Deadline).filter_by(
            record_table="return_visit", record_id=visit.id, state=S.PLANNED,
            status=DeadlineStatus.OPEN):
        deadline.due_at = due_at
        deadline.opened_at = min(deadline.opened_at, due_at - datetime.timedelta(days=1))
    db.session.commit()


def _record(visit, rng, visited_at, mode="on_site", satisfaction=None, issues=True, **extra):
    """Record ``visit`` as its visitor at ``visited_at``, then date its steps."""
    from ..services.visits import record_visit

    visitor = visit.visitor
    satisfaction = satisfaction or rng.choice(["satisfied", "satisfied", "satisfied",
                                               "basically_satisfied"])
    data = {"mode": mode, "visited_at": visited_at, "satisfaction": satisfaction,
            "summary": rng.choice(SUMMARIES),
            "signer_name": (visit.customer_name or "业主") if mode == "on_site" else None}
    data.update(extra)
    raised = []
    if issues and rng.random() < 0.4:
        description, on_spot, answer = rng.choice(ISSUES)
        raised.append({"description": description, "answered_on_spot": on_spot,
                       "answer": answer,
                       "agreed_reply_at": None if on_spot else min(
                           visited_at + datetime.timedelta(days=3), utcnow()
                           + datetime.timedelta(days=3))})
    with acting_as(visitor):
        record_visit(visit.id, visitor, visit.version, data, issues=raised,
                     signature_png=signature_png(visit.id) if mode == "on_site" else None)
    _date_step(visit, "record", visited_at)
    return visit


def _date_step(visit, action, at):
    """Place a step at its demo time, and its deadline's closing with it."""
    for transition in db.session.query(WorkflowTransition).filter_by(
            workflow="return_visit", record_id=visit.id, action=action):
        transition.occurred_at = at
    state = S.PLANNED if action == "record" else S.RECORDED
    for deadline in db.session.query(Deadline).filter_by(
            record_table="return_visit", record_id=visit.id, state=state).filter(
            Deadline.closed_at.is_not(None)):
        deadline.closed_at = at
        deadline.status = DeadlineStatus.LATE if at > deadline.due_at else DeadlineStatus.MET
    if action == "record":
        for deadline in db.session.query(Deadline).filter_by(
                record_table="return_visit", record_id=visit.id, state=S.RECORDED,
                status=DeadlineStatus.OPEN):
            from ..deadlines import add_working_days

            deadline.opened_at = at
            deadline.due_at = max(add_working_days(at, 3), utcnow() - datetime.timedelta(days=1))
    db.session.commit()


def _review(visit, users, at):
    from ..services.visits import review_visit

    supervisor = users["zhouqiang"]
    with acting_as(supervisor):
        review_visit(visit.id, supervisor, visit.version,
                     "回访记录完整，客户意见已登记，同意。")
    visit.reviewed_at = at
    db.session.commit()
    _date_step(visit, "review", at)


def _assign_if_missing(visit, users):
    """The supervisor gives an unassigned visit to the visitor the rules name, when one may."""
    from ..services.errors import DomainError
    from ..services.visits import reschedule_visit, visitor_roles

    if visit.visitor_id is not None:
        return
    role = visitor_roles(visit.trigger, visit.complaint)[0]
    candidate = {"PropertyAssistant": users["wuxia"], "DepartmentSupervisor": users["zhengtao"],
                 "GeneralManager": users["zhangwei"], "CultureClerk": users["fenglei"]}.get(role)
    supervisor = users["zhouqiang"]
    try:
        with acting_as(supervisor):
            reschedule_visit(visit.id, supervisor, visit.version, None, visitor_id=candidate.id)
    except DomainError:
        db.session.rollback()  # the only candidate is the respondent: stays for the supervisor


# ---------------------------------------------------------------------------
# The record sets
# ---------------------------------------------------------------------------

def _complaint_visits(users, rng, now):
    from ..services.visits import due_after

    visits = (db.session.query(ReturnVisit)
              .join(Complaint, ReturnVisit.complaint_id == Complaint.id)
              .filter(ReturnVisit.sequence == 1, ReturnVisit.status == S.PLANNED)
              .order_by(Complaint.closed_at).all())
    dissatisfied_done = False
    for visit in visits:
        closed_at = visit.complaint.closed_at
        _set_due(visit, due_after("complaint", closed_at))
        _assign_if_missing(visit, users)
        if visit.visitor_id is None:
            continue
        age = (now - closed_at).days
        if age < 3 or rng.random() < 0.2:
            continue  # still to be visited; the older ones show as overdue
        delay = datetime.timedelta(days=rng.choice([0.6, 1.2, 2.1, 2.5, 5.5]))
        visited_at = min(closed_at + delay, now - datetime.timedelta(hours=2))
        if not dissatisfied_done and age > 10:
            dissatisfied_done = True
            _record(visit, rng, visited_at, satisfaction="dissatisfied",
                    next_visit_at=(now + datetime.timedelta(days=4)).date().isoformat(),
                    rectification={"assignee_id": users["wuxia"].id,
                                   "description": "联系维保单位复查并彻底整改",
                                   "due_at": (now + datetime.timedelta(days=2)).date().isoformat()})
            continue
        _record(visit, rng, visited_at)
        if rng.random() < 0.65:
            _review(visit, users, min(visited_at + datetime.timedelta(days=1), now))
    return len(visits)


def _jobs(users, rng, now):
    from ..services.visits import create_maintenance_job

    supervisor = users["zhouqiang"]
    created = 0
    for index, (title, area, name, phone, address) in enumerate(JOBS):
        completed_at = now - datetime.timedelta(days=110 - index * 11 + rng.uniform(0, 3))
        with acting_as(supervisor):
            job = create_maintenance_job(supervisor, {
                "title": title, "area": area, "assistant_id": users["wuxia"].id,
                "customer_name": name, "customer_phone": phone, "address": address,
                "description": "报修后由工程部安排维修，已验收。",
                "completed_at": completed_at if index < len(JOBS) - 1 else None})
        created += 1
        job.created_at = completed_at - datetime.timedelta(days=3)
        db.session.commit()
        visit = db.session.query(ReturnVisit).filter_by(maintenance_job_id=job.id).one_or_none()
        if visit is None or (now - completed_at).days < 5 or index % 3 == 2:
            continue
        visited_at = min(completed_at + datetime.timedelta(days=rng.choice([3, 12, 25, 38])),
                         now - datetime.timedelta(hours=3))
        _record(visit, rng, visited_at, mode=rng.choice(["phone", "on_site"]))
        if index % 2 == 0:
            _review(visit, users, min(visited_at + datetime.timedelta(days=2), now))
    return created


def _events(users, rng, now):
    from ..services.visits import create_community_event

    clerk = users["fenglei"]
    for index, (title, location, participants) in enumerate(EVENTS):
        ended_at = now - datetime.timedelta(days=100 - index * 28)
        with acting_as(clerk):
            event = create_community_event(clerk, {
                "title": title, "location": location, "ended_at": ended_at,
                "participants_count": participants, "clerk_id": clerk.id,
                "description": "由社区文化文员组织，业主踊跃参加。"})
        visits = db.session.query(ReturnVisit).filter_by(community_event_id=event.id).order_by(
            ReturnVisit.id).all()
        done = len(visits) - 1 if index % 2 == 0 else len(visits)
        for number, visit in enumerate(visits[:done]):
            visited_at = min(ended_at + datetime.timedelta(days=4 + number * 3),
                             now - datetime.timedelta(hours=4))
            _record(visit, rng, visited_at, mode="phone", issues=False,
                    customer_name=rng.choice(["刘阿姨", "陈先生", "周女士", "郭大爷"]),
                    customer_phone="139" + f"{rng.randrange(10**8):08d}")
            if number % 2 == 0:
                _review(visit, users, min(visited_at + datetime.timedelta(days=1), now))
    return len(EVENTS)


def _manual_plans(users, now):
    from ..services.visits import plan_visit

    manager = users["zhangwei"]
    with acting_as(manager):
        plan_visit(manager, {"trigger": "holiday", "customer_name": "陈老先生（独居老人）",
                             "address": "阳光花园1栋101", "visitor_id": users["zhengtao"].id,
                             "due_at": (now + datetime.timedelta(days=10)).date().isoformat(),
                             "plan_note": "春节前走访慰问，带慰问品。"})
        plan_visit(manager, {"trigger": "move_in", "customer_name": "新业主林女士",
                             "address": "阳光花园8栋1502", "visitor_id": users["wuxia"].id,
                             "due_at": (now + datetime.timedelta(days=5)).date().isoformat(),
                             "plan_note": "入伙一个月回访，了解装修及入住情况。"})


def _open_letter(users):
    from ..services.visits import issue_open_letter

    supervisor = users["zhouqiang"]
    complaints = db.session.query(Complaint).filter(
        Complaint.subject.in_(["电梯多次困人无人及时处理", "垃圾清运不及时异味严重"]),
        Complaint.master_id.is_(None)).order_by(Complaint.id).limit(4).all()
    if not complaints:
        return
    with acting_as(supervisor):
        issue_open_letter(supervisor, {
            "subject": "致阳光花园全体业主的公开信：关于电梯与垃圾清运问题的整改",
            "body": ("尊敬的业主：近期多位业主反映电梯困人及垃圾清运不及时的问题。公司已与电梯维保单位"
                     "签订加强维保协议，并将垃圾清运调整为每日两次。感谢各位业主的监督与支持。")},
            [complaint.id for complaint in complaints])
