"""Complaints and feedback (投诉及意见反馈, CMP-01 to CMP-18): demo records for `flask init --demo`.

About sixty cases of the last six months in every state, registered and
moved along through the services by the demo users of ``app/setup.py``
(王芳 front desk, 赵敏 administration desk, 孙丽 designated officer, 陈静
partner, 刘洋 director, 周强 customer-service supervisor). Timestamps are
then spread over the months so that lists, the timeline and the monthly
summary look like a living system. Idempotent: nothing is added once any
complaint exists.
"""
import datetime
import random

from ..audit.context import acting_as
from ..extensions import db
from ..models.base import utcnow
from ..models.complaints import (
    Complaint, ComplaintContact, ComplaintMeeting, ComplaintReply, ComplaintStatus,
    ComplaintSurvey,
)
from ..models.deadlines import Deadline
from ..models.org import Department
from ..models.workflow import WorkflowTransition

S = ComplaintStatus

# (subject, description, respondent department code, respondent username or None, kind)
CASES = [
    ("电梯多次困人无人及时处理", "3栋2单元电梯本月第三次困人，按下紧急按钮后二十分钟才有人应答，业主情绪激动。", "PROP", "wuxia", "complaint"),
    ("物业费收据迟迟未开具", "业主6月缴纳全年物业费后至今未收到正式收据，多次到前台询问均答复“过几天”。", "PROP", None, "complaint"),
    ("地下车库照明长期损坏", "B2层车库东侧灯管损坏一月有余，夜间停车存在安全隐患。", "PROP", "wuxia", "complaint"),
    ("营业窗口办理增容手续态度生硬", "客户反映窗口工作人员不耐烦，未一次性告知所需材料，来回跑了三次。", "MKT", "heping", "complaint"),
    ("停电未提前通知", "小区计划检修停电未张贴通知，业主家中冰箱食物变质，要求说明情况。", "MKT", None, "complaint"),
    ("社区活动噪音扰民", "周末广场舞活动音响过大，持续到晚上九点半，影响老人和孩子休息。", "CS", "fenglei", "complaint"),
    ("招商人员承诺的优惠未兑现", "商户签约时招商经理口头承诺免三个月租金，签约后不予认可。", "SALES", "majie", "complaint"),
    ("绿化修剪不及时遮挡采光", "5栋南侧树木过高遮挡一楼住户采光，申请修剪两个月未处理。", "PROP", None, "complaint"),
    ("垃圾清运不及时异味严重", "2号垃圾站周末无人清运，夏季异味严重，蚊蝇滋生。", "PROP", "wuxia", "complaint"),
    ("维修人员上门未穿工装未出示证件", "维修人员上门时未穿工装、未出示工作证，业主担心安全问题。", "PROP", None, "complaint"),
    ("电费账单与实际用电不符", "客户反映8月电费比往月高出一倍，怀疑电表计量有误，要求校验。", "MKT", None, "complaint"),
    ("档案查阅手续繁琐", "客户为办理贷款需查阅购房档案，被要求提供多项证明，流程不清。", "GSD", None, "complaint"),
    ("建议增加快递柜", "业主建议在北门增设智能快递柜，方便上班族收取快递。", "PROP", None, "feedback"),
    ("建议延长客服热线服务时间", "客户建议将客服热线服务时间延长至晚上九点。", "CS", None, "feedback"),
    ("表扬维修师傅服务热情", "业主来电表扬维修师傅周末加班更换水管，希望公司予以表彰。", "PROP", None, "feedback"),
    ("建议在网上公开维修进度", "客户建议在微信公众号公开报修处理进度，减少电话询问。", "CS", None, "feedback"),
    ("小区门禁卡补办收费不合理", "补办门禁卡收费50元，业主认为收费标准未公示，要求退还。", "ADM", None, "complaint"),
    ("装修噪音投诉处理不公", "邻居违规在午休时间装修，投诉后物业仅口头劝说，未采取措施。", "PROP", "wuxia", "complaint"),
    ("供电方案答复超期", "企业客户提交增容申请后一个多月未收到供电方案答复，影响投产。", "MKT", "heping", "complaint"),
    ("前台接待人员推诿", "业主到前台反映漏水问题，前台称不归其管理，让业主自行联系维修。", "ADM", None, "complaint"),
]

COMPLAINANTS = [
    ("李建国", "13901234567", "阳光花园3栋2单元1102"), ("王秀英", "13812345678", "阳光花园5栋101"),
    ("张志强", "13798765432", "城东工业园B区8号"), ("刘美兰", "13655558888", "阳光花园2栋1503"),
    ("陈晓东", "13522223333", "滨江路18号商铺"), ("杨丽华", "13344445555", "阳光花园7栋602"),
    ("赵文斌", "13166667777", "锦绣商业街21号"), ("黄佳怡", "18900001111", "阳光花园1栋302"),
    ("周明", "18611112222", "城东新区宏达电子有限公司"), ("吴桂芳", "18533334444", "阳光花园4栋903"),
    ("徐立新", "18255556666", "阳光花园6栋1201"), ("孙海燕", "15977778888", "明珠大厦1608"),
]

# Target state of each of the 60 cases (in order of registration, oldest first).
PLAN = (
    [S.ARCHIVED] * 9 + [S.CLOSED] * 9 + [S.FOLLOW_UP] * 3 + [S.REPLIED] * 6
    + [S.IMPLEMENTED] * 5 + [S.DECIDED] * 6 + [S.MEETING_HELD] * 4 + [S.MERGED] * 3
    + [S.OPINION_WRITTEN] * 7 + [S.REGISTERED] * 8
)

ORDER = [S.REGISTERED, S.OPINION_WRITTEN, S.MEETING_HELD, S.DECIDED, S.IMPLEMENTED, S.REPLIED,
         S.CLOSED, S.ARCHIVED]


def create_demo_data(echo=print):
    """Create this module's demo records (idempotent)."""
    if db.session.query(Complaint.id).first() is not None:
        return
    sm = _security()
    users = {name: sm.find_user(username=name) for name in (
        "wangfang", "zhaomin", "sunli", "chenjing", "liuyang", "zhouqiang", "zhengtao",
        "wuxia", "heping", "fenglei", "majie")}
    if any(user is None for user in users.values()):
        echo("Complaints demo skipped: the demo users are missing.")
        return
    departments = {d.code: d for d in db.session.query(Department)}
    rng = random.Random(2026)
    now = utcnow()
    # Oldest first, so that numbers follow the order of receipt.
    ages = sorted((rng.uniform(0.3, 170) for _ in PLAN), reverse=True)
    # The furthest states go to the oldest cases.
    targets = sorted(PLAN, key=lambda s: -_rank(s))
    created = []
    for index, (target, age) in enumerate(zip(targets, ages)):
        received_at = now - datetime.timedelta(days=age)
        created.append(_one_case(index, target, received_at, users, departments, rng, created))
    _escalations(created, users, rng)
    _conflict(created, users)
    db.session.commit()
    echo(f"Complaints demo: {len(created)} cases in every state.")


def _security():
    from flask import current_app

    return current_app.appbuilder.sm


def _rank(state):
    if state == S.MERGED:
        return 1
    if state == S.FOLLOW_UP:
        return ORDER.index(S.CLOSED)
    return ORDER.index(state)


def _one_case(index, target, received_at, users, departments, rng, created):
    from ..services import complaints as service

    subject, description, dept_code, respondent, kind = CASES[index % len(CASES)]
    name, phone, address = COMPLAINANTS[index % len(COMPLAINANTS)]
    channel = rng.choice(["phone", "phone", "phone", "visit", "written", "online", "email",
                          "justice_referral", "superior_referral"])
    if kind == "feedback":
        channel = rng.choice(["phone", "online", "email", "visit"])
    severity = "general"
    if kind == "complaint":
        severity = rng.choice(["general", "general", "general", "important", "important", "major"])
    principle = kind == "complaint" and severity != "major" and rng.random() < 0.08
    anonymous = kind == "complaint" and rng.random() < 0.1
    receiver = {"written": "zhaomin", "justice_referral": "sunli",
                "superior_referral": "sunli"}.get(channel, "wangfang")
    data = {
        "kind": kind, "channel": channel, "received_at": received_at, "severity": severity,
        "principle_issue": principle, "anonymous": anonymous,
        "complainant_name": name, "complainant_phone": "" if anonymous else phone,
        "complainant_address": address,
        "reply_letter_only": channel == "superior_referral" and rng.random() < 0.5,
        "subject": subject, "description": description,
        "respondent_department_id": departments[dept_code].id if dept_code in departments else None,
        "respondent_user_id": users[respondent].id if respondent else None,
        "officer_id": users["sunli"].id, "partner_id": users["chenjing"].id,
        "paper_location": "行政部档案柜2号第3层" if channel == "written" else None,
    }
    if channel == "written":
        data["register_number"] = f"SW-{received_at:%Y}-{index + 101:03d}"
    master = None
    if target == S.MERGED:
        # The same issue rung in again; the front desk links it to the case it registered.
        channel, receiver = "phone", "wangfang"
        data.update(channel=channel, register_number=None, paper_location=None)
        earlier = [c for c in created if c.status != S.MERGED
                   and c.created_by_id == users["wangfang"].id]
        if earlier:
            master = rng.choice(earlier[-12:])
            data.update(subject=master.subject, kind=master.kind, severity=master.severity,
                        principle_issue=master.principle_issue, description="同一问题再次来电反映：" + master.description,
                        complainant_phone=master.complainant_phone or phone,
                        respondent_department_id=master.respondent_department_id,
                        respondent_user_id=master.respondent_user_id, anonymous=False)
    with acting_as(users[receiver]):
        complaint = service.register_complaint(users[receiver], data,
                                               master=master.number if master else None)
    complaint.created_at = received_at
    if target in (S.REGISTERED, S.MERGED):
        _spread(complaint, received_at)
        return complaint
    _walk(complaint, target, users, rng)
    _spread(complaint, received_at)
    return complaint


def _do(user, complaint, action, comment=None, **payload):
    from ..services import complaints as service

    with acting_as(user):
        return service.take(complaint.id, action, user, complaint.version, comment=comment,
                            **payload)


OPINIONS = [
    "经核实情况属实，建议向投诉人书面致歉，并责成责任部门三日内整改到位。",
    "投诉反映的问题部分属实，建议加强相关人员培训，并将整改结果回复投诉人。",
    "经调查，相关工作人员已按规定办理，建议向投诉人做好解释说明工作。",
]
DECISIONS = [
    ("同意专门负责人意见，责成责任部门限期整改并书面回复。", "upheld"),
    ("部分成立：对服务态度问题予以批评教育，对收费问题向客户解释。", "partly_upheld"),
    ("投诉不成立，由专门负责人向投诉人解释相关规定。", "not_upheld"),
]


def _walk(complaint, target, users, rng):
    from ..services import complaints as service

    officer, partner, director = users["sunli"], users["chenjing"], users["liuyang"]
    with acting_as(officer):
        service.add_contact(complaint.id, officer, "电话联系投诉人，告知已受理并说明处理流程，未作任何承诺。",
                            mode="phone")
    _do(officer, complaint, "write_opinion", opinion=rng.choice(OPINIONS))
    if target == S.OPINION_WRITTEN:
        return
    with acting_as(officer):
        service.add_finding(complaint.id, officer, "调取值班记录及现场照片，核实投诉事项基本属实。",
                            materials="值班记录、现场照片、维保单", verified=True)
    if complaint.is_major or target == S.MEETING_HELD:
        notify = complaint.severity == "major" and rng.random() < 0.5
        _do(director, complaint, "record_meeting", meeting_kind=rng.choice(["office", "partners"]),
            attendees="刘洋、陈静、孙丽", meeting_decision="经讨论，同意专门负责人意见，限期整改。",
            minutes="会议听取了专门负责人的调查情况汇报，讨论了处理方案。",
            notify_regulator="y" if notify else "",
            regulator_name="市司法局律师工作管理处" if notify else "",
            regulator_notification="书面通报投诉处理情况及整改措施。" if notify else "")
    if target == S.MEETING_HELD:
        return
    decision, outcome = rng.choice(DECISIONS)
    if complaint.kind == "feedback":
        decision, outcome = "意见合理，予以采纳并安排落实。", "adopted"
    # The partner is away this week; the director decides the newest cases, acting for her.
    decider = director if rng.random() < 0.35 else partner
    _do(decider, complaint, "decide", decision=decision, outcome=outcome)
    if target == S.DECIDED:
        return
    _do(officer, complaint, "implement", implementation="已组织责任部门落实处理意见，整改完成并拍照留存。")
    if target == S.IMPLEMENTED:
        return
    with acting_as(officer):
        service.add_contact(complaint.id, officer, "向投诉人通报处理结果，承诺后续跟进回访。",
                            mode="phone", is_commitment=True)
    written = complaint.channel == "written" or rng.random() < 0.7
    _do(officer, complaint, "reply", mode="written" if written else "phone",
        reason=None if written else "投诉人要求电话答复",
        content="已将处理结果书面函告投诉人。" if written else "已电话告知处理结果，投诉人表示理解。")
    if target == S.REPLIED:
        return
    if target == S.FOLLOW_UP:
        with acting_as(users["zhouqiang"]):
            service.record_survey(complaint.id, users["zhouqiang"], "complainant", "dissatisfied",
                                  comment="认为整改不彻底，问题仍反复出现。")
        return
    with acting_as(users["zhouqiang"]):
        service.record_survey(complaint.id, users["zhouqiang"], "complainant",
                              rng.choice(["satisfied", "satisfied", "basically_satisfied"]),
                              comment="对处理结果表示认可。")
        service.record_survey(complaint.id, users["zhouqiang"], "respondent", "satisfied")
    if complaint.anonymous or complaint.reply_letter_only:
        _attach_reply_letter(complaint, officer)  # VIS-11: no visit, so the letter is filed
    _do(officer, complaint, "close", comment="处理完毕")
    if target == S.CLOSED:
        return
    _do(users["zhaomin"], complaint, "archive", location="行政部年度案宗柜")


def _attach_reply_letter(complaint, officer):
    import io

    from werkzeug.datastructures import FileStorage

    from ..services.attachments import add_attachment

    letter = (b"%PDF-1.4\n% reply letter " + complaint.number.encode("ascii") + b"\n%%EOF\n")
    with acting_as(officer):
        add_attachment(complaint, FileStorage(io.BytesIO(letter), f"复函-{complaint.number}.pdf"),
                       "reply_letter", officer)


def _spread(complaint, received_at):
    """Place the case's steps and children over the days after its receipt."""
    now = utcnow()
    span = max(min((now - received_at).total_seconds() / 86400 * 0.8, 25), 0.05)
    steps = db.session.query(WorkflowTransition).filter_by(
        workflow="complaint", record_id=complaint.id).order_by(WorkflowTransition.id).all()
    count = max(len(steps), 1)

    def at(fraction):
        return received_at + datetime.timedelta(days=span * fraction)

    for number, transition in enumerate(steps, start=1):
        transition.occurred_at = at(number / count)
        if transition.action == "decide":
            complaint.decided_at = transition.occurred_at
        elif transition.action == "reply":
            complaint.replied_at = transition.occurred_at
        elif transition.action == "close":
            complaint.closed_at = transition.occurred_at
        elif transition.action == "archive":
            complaint.archived_at = transition.occurred_at
    for contact in db.session.query(ComplaintContact).filter_by(complaint_id=complaint.id):
        contact.contacted_at = at(0.1 if not contact.is_commitment else 0.85)
    for meeting in db.session.query(ComplaintMeeting).filter_by(complaint_id=complaint.id):
        meeting.held_at = at(0.4)
        if meeting.notify_regulator:
            meeting.regulator_notified_at = at(0.45)
    for reply in db.session.query(ComplaintReply).filter_by(complaint_id=complaint.id):
        reply.replied_at = complaint.replied_at or at(0.8)
    for survey in db.session.query(ComplaintSurvey).filter_by(complaint_id=complaint.id):
        survey.surveyed_at = at(0.9)
    db.session.commit()


def _escalations(created, users, rng):
    """CMP-16: two major open cases escalated with promised dates, one of them overdue."""
    from ..services import complaints as service

    candidates = [c for c in created if c.severity == "major" and c.status in S.OPEN
                  and c.respondent_department is not None][:2]
    for number, complaint in enumerate(candidates):
        promised = (utcnow() + datetime.timedelta(days=7)).date()
        with acting_as(users["sunli"]):
            service.escalate(complaint.id, users["sunli"], complaint.version,
                             "涉及多个部门，超出部门处理权限，移交部门主管协调处理。", promised.isoformat(),
                             escalated_to_id=users["zhengtao"].id)
        if number == 1:
            # An overdue promise, so that the overdue filter and the deadline list show it.
            complaint.promised_reply_date = (utcnow() - datetime.timedelta(days=2)).date()
            deadline = db.session.query(Deadline).filter_by(
                record_table="complaint", record_id=complaint.id, state="promised_reply").one()
            deadline.due_at = utcnow() - datetime.timedelta(days=2)
            db.session.commit()


def _conflict(created, users):
    """CMP-05: the respondent's supervisor is recused from one case."""
    from ..services import complaints as service

    admin = _security().find_user(username="admin")
    for complaint in created:
        if (complaint.respondent_user_id == users["wuxia"].id and complaint.status in S.OPEN
                and complaint.escalated_at is None):
            with acting_as(admin):
                service.mark_conflicted(complaint.id, admin, users["zhengtao"].id,
                                        reason="被投诉人的直接主管，申请回避")
            return
