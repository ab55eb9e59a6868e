"""First-run preparation: roles, calendar, administrator, demo users and data.

Everything here is idempotent: ``flask init --demo`` on a prepared database
changes nothing and prints the demo accounts again.
"""
import datetime
import os
import secrets
import string

from flask import current_app

from .audit.context import acting_as
from .extensions import db
from .models.base import utcnow
from .models.org import Absence, AbsenceStatus, Department, DutyAssignment, DutyKind, StaffProfile
from .security.roles import ADMIN, role_label

# (code, name, parent code)
DEMO_DEPARTMENTS = [
    ("GM", "总经理办公室", None),
    ("ADM", "行政部", "GM"),
    ("LAW", "业务部（合伙人）", "GM"),
    ("CS", "客服部", "GM"),
    ("PROP", "物业管理部", "CS"),
    ("MKT", "营销部", "GM"),
    ("STN", "城东供电所", "MKT"),
    ("CITY", "市公司营销部", None),
    ("INSP", "用电检查班", "MKT"),
    ("SALES", "招商部", "GM"),
    ("GSD", "综合服务部", "GM"),
    ("AUD", "审计室", "GM"),
]

# (username, family name, given name, role, department, position, supervisor, heads department)
DEMO_USERS = [
    ("zhangwei", "张", "伟", "GeneralManager", "GM", "总经理", None, True),
    ("liuyang", "刘", "洋", "Director", "LAW", "主任", "zhangwei", True),
    ("chenjing", "陈", "静", "Partner", "LAW", "业务分管合伙人", "liuyang", False),
    ("wangfang", "王", "芳", "FrontDesk", "ADM", "总台接待", "zhaomin", False),
    ("zhaomin", "赵", "敏", "AdminDesk", "ADM", "行政总台", "zhangwei", True),
    ("sunli", "孙", "丽", "ComplaintOfficer", "LAW", "投诉专门负责人", "chenjing", False),
    ("zhouqiang", "周", "强", "ServiceSupervisor", "CS", "客服部主管", "zhangwei", True),
    ("wuxia", "吴", "霞", "PropertyAssistant", "PROP", "物业助理（一区）", "zhengtao", False),
    ("zhengtao", "郑", "涛", "DepartmentSupervisor", "PROP", "物业管理部主管", "zhouqiang", True),
    ("fenglei", "冯", "蕾", "CultureClerk", "CS", "社区文化文员", "zhouqiang", False),
    ("heping", "何", "平", "ServiceWindow", "MKT", "营业窗口受理员", "lujun", False),
    ("lujun", "陆", "军", "Marketing", "MKT", "营销部专责", "zhangwei", True),
    ("xuming", "徐", "明", "SupplyStation", "STN", "供电所技术员", "lujun", True),
    ("gaofeng", "高", "峰", "CityCompany", "CITY", "市公司审查专责", None, True),
    ("linbo", "林", "波", "Inspector", "INSP", "用电检查员", "lujun", True),
    ("majie", "马", "杰", "SalesManager", "SALES", "招商经理", "huangyan", False),
    # Two more sales managers: customer ownership conflicts need more than one (CUS-03).
    ("liqiang", "李", "强", "SalesManager", "SALES", "招商经理", "huangyan", False),
    ("wangrui", "王", "蕊", "SalesManager", "SALES", "招商经理", "huangyan", False),
    ("huangyan", "黄", "燕", "SalesHead", "SALES", "招商部负责人", "zhangwei", True),
    ("yanghui", "杨", "慧", "ArchiveCustodian", "GSD", "档案管理员", "zhangwei", True),
    ("tangning", "唐", "宁", "Auditor", "AUD", "审计员", "zhangwei", True),
]

ACCOUNTS_FILE = "demo-accounts.txt"


def generate_password(length=14):
    """A random password that meets FAB's complexity rule."""
    alphabet = string.ascii_letters + string.digits
    required = (
        [secrets.choice(string.ascii_uppercase) for _ in range(2)]
        + [secrets.choice(string.ascii_lowercase) for _ in range(3)]
        + [secrets.choice(string.digits) for _ in range(2)]
        + [secrets.choice("#%+=@!")]
    )
    rest = [secrets.choice(alphabet) for _ in range(length - len(required))]
    chars = required + rest
    secrets.SystemRandom().shuffle(chars)
    return "".join(chars)


def initialise(demo=False, echo=print):
    """Sync roles, seed the calendar, create the administrator and (optionally) demo data."""
    from .deadlines import seed_calendar
    from .security.sync import ensure_builtin_roles, sync_roles

    sm = current_app.appbuilder.sm
    ensure_builtin_roles(current_app.appbuilder)
    sync_roles(sm)
    echo("Roles synchronised.")
    accounts = []
    admin = sm.find_user(username="admin")
    if admin is None:
        password = os.environ.get("ADMIN_PASSWORD") or generate_password()
        admin = sm.add_user("admin", "管理员", "系统", "admin@example.com",
                            sm.find_role(ADMIN), password=password)
        accounts.append(("admin", "系统管理员", role_label(ADMIN), password))
    # After the admin exists, so that a year missing from the calendar is reported to them.
    with acting_as(admin):
        for message in seed_calendar():
            echo(message)
    if demo:
        with acting_as(admin):
            accounts += _create_demo_users(sm)
            _create_demo_organisation(sm)
            from .demo import create_demo_data

            create_demo_data(echo)
    _print_accounts(accounts, echo)


def _accounts_path():
    return os.path.join(current_app.instance_path, ACCOUNTS_FILE)


def _print_accounts(new_accounts, echo):
    path = _accounts_path()
    if new_accounts:
        exists = os.path.exists(path)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        with os.fdopen(fd, "a", encoding="utf-8") as accounts_file:
            if not exists:
                accounts_file.write("username\tname\trole\tpassword\n")
            for row in new_accounts:
                accounts_file.write("\t".join(row) + "\n")
    if not os.path.exists(path):
        return
    echo("")
    echo("Demo accounts (also in %s):" % path)
    with open(path, encoding="utf-8") as accounts_file:
        rows = [line.rstrip("\n").split("\t") for line in accounts_file]
    for username, name, role, password in rows[1:]:
        echo(f"  {username:<12} {password:<16} {name:<6} {role}")
    echo("")


def _create_demo_users(sm):
    created = []
    for username, family, given, role_name, _dept, _position, _sup, _head in DEMO_USERS:
        if sm.find_user(username=username) is not None:
            continue
        password = generate_password()
        sm.add_user(username, given, family, f"{username}@example.com",
                    sm.find_role(role_name), password=password)
        created.append((username, family + given, role_label(role_name), password))
    return created


def _create_demo_organisation(sm):
    if db.session.query(Department).count():
        return
    departments = {}
    for code, name, parent in DEMO_DEPARTMENTS:
        departments[code] = Department(code=code, name=name, parent=departments.get(parent))
        db.session.add(departments[code])
    db.session.flush()
    users = {row[0]: sm.find_user(username=row[0]) for row in DEMO_USERS}
    for number, (username, family, given, _role, dept, position, supervisor, head) in enumerate(
        DEMO_USERS, start=1
    ):
        user = users[username]
        db.session.add(StaffProfile(
            user=user, display_name=family + given, employee_no=f"E{number:03d}",
            department=departments[dept], position=position,
            supervisor=users.get(supervisor), phone=f"1380000{number:04d}",
            area="一区" if username == "wuxia" else None,
        ))
        if head:
            departments[dept].head = user
    today = utcnow().date()
    for offset in range(-3, 14):
        day = today + datetime.timedelta(days=offset)
        db.session.add(DutyAssignment(duty_date=day, duty_kind=DutyKind.SALES_RECEPTION,
                                      user=users["majie"]))
        db.session.add(DutyAssignment(duty_date=day, duty_kind=DutyKind.FRONT_DESK,
                                      user=users["wangfang"]))
    now = utcnow()
    # The partner is away this week; the director acts for her.
    db.session.add(Absence(
        user=users["chenjing"], delegate=users["liuyang"], status=AbsenceStatus.APPROVED,
        starts_at=now - datetime.timedelta(days=1), ends_at=now + datetime.timedelta(days=5),
        reason="外出参加行业培训",
    ))
    db.session.commit()
    # A request waiting for the property department supervisor.
    from .services.org import request_absence

    request_absence(users["wuxia"], now + datetime.timedelta(days=7),
                    now + datetime.timedelta(days=8), reason="年假")
