"""Customer information and archives (客户信息与档案, CUS-01 to CUS-11): demo records for `flask init --demo`.

Creates, idempotently, with the demo users of ``app/setup.py`` (among them
the second and third sales managers 李强 ``liqiang`` and 王蕊 ``wangrui`` for
ownership conflicts), three months of registration
forms (some late) with calls, visits, self-developed and referred customers,
an ownership conflict, archives with tracking logs and month-end filings
(one missed), reception visits, a read permission, loans in every state and
an archive closed eleven years ago whose destruction waits for the general
manager's approval.
"""
import datetime

from ..extensions import db

MARKER = "【演示】"


def create_demo_data(echo=print):
    """Create this module's demo records (idempotent)."""
    from ..models.customers import DailyRegistration

    sm = _sm()
    users = {name: sm.find_user(username=name) for name in
             ("majie", "huangyan", "yanghui", "zhangwei", "tangning", "wangfang")}
    if any(user is None for user in users.values()):
        echo("Customers: demo users missing, skipped.")
        return
    _add_sales_managers(sm, users)
    if db.session.query(DailyRegistration).filter(
            DailyRegistration.note.like(MARKER + "%")).first() is not None:
        echo("Customers: demo data already present.")
        return
    _create_records(users, echo)


def _sm():
    from flask import current_app

    return current_app.appbuilder.sm


def _add_sales_managers(sm, users):
    """The two more sales managers ``flask init --demo`` creates (CUS-03 conflicts need them)."""
    for username in ("liqiang", "wangrui"):
        users[username] = sm.find_user(username=username)


def _at(day, hour, minute=0, second=0):
    """A local wall-clock time on ``day`` as naive UTC."""
    from ..timeutil import to_utc_naive

    return to_utc_naive(datetime.datetime.combine(day, datetime.time(hour, minute, second)))


def _create_records(users, echo):
    from ..audit.context import acting_as
    from ..deadlines import local_today
    from ..models.customers import (
        ArchiveFile, ArchiveStatus, Channel, CustomerKind, GrantScope, Intention,
    )
    from ..models.org import DutyAssignment, DutyKind
    from ..services import customers as service
    from ..workflows.customers import (
        ARCHIVE_WORKFLOW, DESTRUCTION_WORKFLOW, LOAN_WORKFLOW, REGISTRATION_WORKFLOW,
    )

    today = local_today()
    majie, liqiang, wangrui = users["majie"], users["liqiang"], users["wangrui"]
    head, custodian, gm = users["huangyan"], users["yanghui"], users["zhangwei"]

    lines = {
        majie: [
            (Channel.CALL, "赵建国", CustomerKind.PERSON, None, "13891234567", Intention.BUY,
             None, None, "咨询二期住宅，90平米三室，预算120万"),
            (Channel.VISIT, "西安博远科技有限公司", CustomerKind.COMPANY, "西安博远科技有限公司",
             "029-88231234", Intention.LEASE, "链家高新店 刘经理", None, "租写字楼约300平米，用作研发中心"),
            (Channel.SELF_DEVELOPED, "孙悦", CustomerKind.PERSON, None, "13709181122",
             Intention.NONE, None, None, "展会上交换名片，暂无明确需求"),
        ],
        liqiang: [
            (Channel.VISIT, "赵建国", CustomerKind.PERSON, None, "138 9123 4567", Intention.BUY,
             None, None, "再次来访看样板间"),
            (Channel.REFERRAL, "钱丽华", CustomerKind.PERSON, None, "15829334455",
             Intention.BOTH, None, "赵建国", "老客户赵建国介绍，想买或租临街商铺"),
            (Channel.CALL, "陕西秦川物流股份有限公司", CustomerKind.COMPANY,
             "陕西秦川物流股份有限公司", "029-86541230", Intention.LEASE, None, None,
             "租仓储用房2000平米"),
        ],
        wangrui: [
            (Channel.VISIT, "周海燕", CustomerKind.PERSON, None, "18691827364", Intention.BUY,
             "我爱我家曲江店 陈女士", None, "改善型住房，看140平米四室"),
            (Channel.CALL, "秦川物流", CustomerKind.COMPANY, "陕西秦川物流有限公司",
             "029-86541299", Intention.LEASE, None, None, "询问仓库租金"),
        ],
    }

    def form(manager, day, entries, submit_at, note=""):
        with acting_as(manager):
            registration = service.create_registration(manager, day, MARKER + note)
            for offset, (channel, name, kind, company, phone, intention, intermediary,
                         referrer, requirement) in enumerate(entries):
                entry = service.add_entry(
                    registration.id, manager, channel=channel, customer_name=name, kind=kind,
                    company_name=company, phone=phone, intention=intention,
                    has_intermediary=bool(intermediary), intermediary=intermediary,
                    referrer=referrer, requirement=requirement,
                )
                entry.registered_at = _at(day, 9 + offset, 15 * (offset % 4))
                db.session.commit()
            if submit_at is not None:
                _take_at(REGISTRATION_WORKFLOW, registration, "submit", manager, submit_at)
        return registration

    first_month = (today.replace(day=1) - datetime.timedelta(days=62)).replace(day=1)
    day_a = first_month + datetime.timedelta(days=4)
    # Two months ago: majie first, on time; liqiang registers 赵建国 again two days later (conflict, kept).
    form(majie, day_a, lines[majie], _at(day_a, 18, 30), "首月登记")
    day_b = day_a + datetime.timedelta(days=2)
    form(liqiang, day_b, lines[liqiang], _at(day_b + datetime.timedelta(days=1), 10, 0, 1),
         "次日10:00:01提交，逾期")
    # wangrui registered 秦川物流 the same morning as liqiang but earlier, submitted later:
    # the earlier registration time wins and ownership moves to her.
    form(wangrui, day_b, [(channel, name, kind, company, phone, intention, intermediary, referrer,
                           requirement)
                          for channel, name, kind, company, phone, intention, intermediary,
                          referrer, requirement in lines[wangrui]],
         _at(day_b + datetime.timedelta(days=1), 9, 50), "次日上午补交")
    # Last month: a late form and an unsubmitted draft.
    last_month = (today.replace(day=1) - datetime.timedelta(days=1)).replace(day=1)
    day_c = last_month + datetime.timedelta(days=9)
    form(majie, day_c, [(Channel.CALL, "吴志刚", CustomerKind.PERSON, None, "13572001234",
                         Intention.LEASE, None, None, "租小户型公寓")],
         _at(day_c + datetime.timedelta(days=1), 11, 20), "外出看房，次日补交（逾期）")
    form(liqiang, day_c + datetime.timedelta(days=1), [], None, "草稿未提交")
    # Today: majie's form in progress.
    form(majie, today, [(Channel.VISIT, "郑晓东", CustomerKind.PERSON, None, "13991110000",
                         Intention.BUY, None, None, "看现房")], None, "当日登记中")

    # Archives: file, track, close.
    archives = db.session.query(ArchiveFile).order_by(ArchiveFile.id).all()
    for archive in archives:
        with acting_as(archive.manager):
            service.add_tracking(archive.id, archive.manager, tracked_on=day_b, manner="电话回访",
                                 content="客户对价格有顾虑，约下周再看房", next_step="发送优惠方案")
            if archive.customer.name != "吴志刚":
                _take_at(ARCHIVE_WORKFLOW, archive, "file", archive.manager,
                         _at(first_month + datetime.timedelta(days=40), 17, 0))
    closed = next((a for a in archives if a.customer.name == "赵建国"), None)
    if closed is not None:
        with acting_as(closed.manager):
            db.session.refresh(closed)
            closed.address = "西安市雁塔区科技路48号"
            db.session.commit()
            _take_at(ARCHIVE_WORKFLOW, closed, "close_deal", closed.manager,
                     _at(last_month + datetime.timedelta(days=20), 16, 0), "已签约购买9号楼1单元1802室")

    # An old archive closed eleven years ago, ready for destruction approval.
    with acting_as(majie):
        form(majie, first_month + datetime.timedelta(days=1), [
            (Channel.CALL, "刘德明", CustomerKind.PERSON, None, "13309190001", Intention.BUY,
             None, None, "2015年咨询住宅（历史档案）")], _at(first_month + datetime.timedelta(days=1), 17, 0),
            "历史档案补录")
    old_archive = db.session.query(ArchiveFile).join(ArchiveFile.customer).filter_by(
        name="刘德明").one_or_none()
    if old_archive is not None:
        with acting_as(custodian):
            db.session.refresh(old_archive)
            old_archive.status = ArchiveStatus.CLOSED
            old_archive.opened_on = today.replace(year=today.year - 12)
            old_archive.closed_on = today.replace(year=today.year - 11)
            db.session.commit()
            destruction = service.apply_destruction(custodian, old_archive,
                                                    "保管期满10年，客户未成交，申请销毁")
        _take(DESTRUCTION_WORKFLOW, destruction, "review", head, "同意销毁，报总经理审批")

    # Reception visits (CUS-04).
    if db.session.query(DutyAssignment).filter_by(duty_date=today,
                                                   duty_kind=DutyKind.SALES_RECEPTION).first() is None:
        with acting_as(head):
            db.session.add(DutyAssignment(duty_date=today, duty_kind=DutyKind.SALES_RECEPTION,
                                          user=majie))
            db.session.commit()
    with acting_as(users["wangfang"]):
        service.route_visitor(users["wangfang"], "钱丽华", "15829334455", named_manager=liqiang,
                              note="找李经理看商铺")
        service.route_visitor(users["wangfang"], "冯立新", "13700001111", note="说不出之前联系的经理")
        service.route_visitor(users["wangfang"], "韩梅", "13800002222", is_referral=True,
                              referrer="周海燕", named_manager=wangrui)

    # A read permission for the sales head (CUS-06).
    some_archive = next((a for a in archives if a.manager_id == liqiang.id), None)
    if some_archive is not None:
        from ..models.base import utcnow

        with acting_as(gm):
            service.grant_access(gm, head, utcnow() + datetime.timedelta(days=7),
                                 "核查客户冲撞情况", scope=GrantScope.ARCHIVE, archive=some_archive)

    # Loans in several states (CUS-09).
    lendable = [a for a in db.session.query(ArchiveFile).filter(
        ArchiveFile.status != ArchiveStatus.DESTROYED).order_by(ArchiveFile.id)]
    if len(lendable) >= 3:
        due = today + datetime.timedelta(days=7)
        with acting_as(wangrui):
            service.apply_loan(wangrui, [lendable[0]], "核对客户冲撞登记时间", due)
        with acting_as(majie):
            reviewed = service.apply_loan(majie, [lendable[1]], "准备签约资料", due)
            issued = service.apply_loan(majie, [lendable[2]], "客户续租谈判参考", due)
        _take(LOAN_WORKFLOW, reviewed, "review", head, "同意")
        for action, actor in (("review", head), ("approve", gm), ("issue", custodian)):
            _take(LOAN_WORKFLOW, issued, action, actor, None)
        with acting_as(liqiang):
            returned = service.apply_loan(liqiang, [lendable[0], lendable[1]], "季度客户分析", due)
        for action, actor in (("review", head), ("approve", gm), ("issue", custodian),
                              ("return", custodian)):
            _take(LOAN_WORKFLOW, returned, action, actor, None)
    echo("Customers: demo registration forms, archives, conflicts, loans and a destruction created.")


def _take(workflow, record, action, actor, comment):
    from ..audit.context import acting_as
    from ..services.workflow import take_step

    db.session.refresh(record)
    with acting_as(actor):
        return take_step(workflow, record.id, action, actor, record.version, comment=comment)


def _take_at(workflow, record, action, actor, at, comment=None):
    """Take a step, then date it ``at`` (demo history in the past)."""
    from ..models.customers import ArchiveFile, DailyRegistration
    from ..models.workflow import WorkflowTransition
    from ..services import customers as service

    if isinstance(record, ArchiveFile) and action == "file":
        from ..audit.context import acting_as

        with acting_as(actor):
            db.session.refresh(record)
            service.file_archive(record, actor, at)
            db.session.commit()
        return record
    record = _take(workflow, record, action, actor, comment)
    from ..audit.context import acting_as

    with acting_as(actor):
        step = (db.session.query(WorkflowTransition)
                .filter_by(workflow=workflow.name, record_id=record.id, action=action)
                .order_by(WorkflowTransition.id.desc()).first())
        if step is not None:
            step.occurred_at = at
        if isinstance(record, DailyRegistration):
            record.submitted_at = at
            record.late = service.is_late_submission(record.form_date, at)
        if isinstance(record, ArchiveFile) and record.closed_on is not None:
            from ..deadlines import local_date

            record.closed_on = local_date(at)
        db.session.commit()
    return record
