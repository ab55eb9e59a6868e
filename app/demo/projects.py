"""Customer electrical projects (客户工程/业扩报装, ENG-01 to ENG-17): demo records for `flask init --demo`.

About twenty projects of every size and stage, residential and industrial,
created through the services with the demo users of ``app/setup.py``:
heping (营业窗口), lujun (营销部), xuming (供电所), gaofeng (市公司),
linbo (用电检查), zhengtao (部门主管), zhangwei (总经理).
"""
import datetime

from ..audit.context import acting_as
from ..extensions import db
from ..models.base import utcnow
from ..models.deadlines import Deadline, DeadlineStatus
from ..models.projects import (
    CHECK_AREAS, DESIGN_DOCUMENTS, Manufacturer, PowerApplication, Stage,
)

ORDER = [Stage.RECEIVED, Stage.PLANNING, "plan_submitted", "plan_reviewed", Stage.DESIGN,
         Stage.CONSTRUCTION, "started", Stage.ACCEPTANCE, Stage.ACCEPTED, Stage.POWERED,
         Stage.COMPLETED]

CATALOGUE = [
    ("正泰电气股份有限公司", "变压器,开关柜,电能表,低压配电箱", "ZJ-2024-0031"),
    ("许继电气股份有限公司", "继电保护装置,开关柜", "HN-2023-0112"),
    ("特变电工衡阳变压器有限公司", "变压器", "HN-2024-0077"),
    ("宁波三星医疗电气股份有限公司", "电能表,计量箱", "ZJ-2023-0208"),
    ("杭州鸿雁电器有限公司", "低压配电箱,电缆分支箱", "ZJ-2022-0415"),
]

R = dict(voltage_level="0.22kV", capacity_unit="kW", residential_lighting=True,
         load_nature="residential", load_class="3")

# (fields, target stage, months ago, extras)
PROJECTS = [
    (dict(customer_name="张秀英", address="杭州市西湖区文三路12号3幢2单元501室", requested_capacity=8,
          contact_phone="13805710021", **R), Stage.COMPLETED, 5, {}),
    (dict(customer_name="李建国", address="杭州市上城区望江东路88号望江家园6幢1102室",
          requested_capacity=6, contact_phone="13905712345", **R), Stage.POWERED, 2, {}),
    (dict(customer_name="王芳芳", address="杭州市拱墅区湖墅南路256号2单元303室",
          requested_capacity=10, contact_phone="13600571234", **R), Stage.ACCEPTED, 1,
     {"overdue": True}),
    (dict(customer_name="陈志强", address="杭州市滨江区长河路475号春波小区11幢402室",
          requested_capacity=4, contact_phone="13757100045", **R), Stage.RECEIVED, 0, {}),
    (dict(customer_name="刘海燕", address="杭州市余杭区良渚街道古墩路1888号良渚文化村玉鸟苑3幢",
          requested_capacity=8, contact_phone="13588800512", **R), Stage.PLANNING, 0, {}),
    (dict(customer_name="周建华", address="杭州市临平区南苑街道藕花洲大街西88号", requested_capacity=9,
          capacity_unit="kVA", voltage_level="0.22kV", residential_lighting=True,
          load_nature="residential", load_class="3"), Stage.DESIGN, 1, {}),
    (dict(customer_name="赵丽", address="杭州市拱墅区大关苑东三苑9幢1单元601室", requested_capacity=6,
          capacity_unit="kVA", voltage_level="0.22kV", residential_lighting=True,
          load_nature="residential", load_class="3"), "started", 1, {}),
    (dict(customer_name="杭州顺丰食品有限公司", address="杭州市钱塘区下沙街道6号大街452号",
          voltage_level="10kV", requested_capacity=630, capacity_unit="kVA",
          load_nature="industrial", contact_person="孙立新", contact_phone="0571-86912345"),
     "started", 3, {"orders": True, "rectify": True}),
    (dict(customer_name="浙江华策纺织有限公司", address="绍兴市柯桥区柯北工业园区纺织路18号",
          voltage_level="10kV", requested_capacity=1250, capacity_unit="kVA", load_class="2",
          backup_power=True, load_nature="industrial", contact_person="钱伟"),
     Stage.DESIGN, 2, {"documents": 9}),
    (dict(customer_name="宁波北仑港务集团有限公司", address="宁波市北仑区新碶街道明州路1号",
          voltage_level="35kV", requested_capacity=3150, capacity_unit="kVA",
          load_nature="industrial", contact_person="郑国栋"), "plan_submitted", 1, {}),
    (dict(customer_name="杭州西溪印象城购物中心", address="杭州市余杭区五常大道1号",
          voltage_level="10kV", requested_capacity=2000, capacity_unit="kVA",
          load_nature="commercial", built_by_company=True, contact_person="冯雪"),
     Stage.ACCEPTANCE, 4, {}),
    (dict(customer_name="杭州市余杭区第一人民医院", address="杭州市临平区迎宾路369号",
          voltage_level="10kV", requested_capacity=800, capacity_unit="kVA", load_class="1",
          backup_power=True, load_nature="public", contact_person="韩主任"),
     Stage.CONSTRUCTION, 3, {"change": True}),
    (dict(customer_name="萧山宏达化纤有限公司", address="杭州市萧山区衙前镇衙前路1008号",
          kind="increase", existing_capacity=250, voltage_level="10kV", requested_capacity=400,
          capacity_unit="kVA", load_nature="industrial"), Stage.COMPLETED, 6, {}),
    (dict(customer_name="临平街道社区服务中心", address="杭州市临平区临平街道北大街52号",
          voltage_level="0.38kV", requested_capacity=30, capacity_unit="kW",
          load_nature="public"), Stage.DESIGN, 1, {}),
    (dict(customer_name="富阳永安纸业有限公司", address="杭州市富阳区东洲街道江滨东大道99号",
          voltage_level="10kV", requested_capacity=315, capacity_unit="kVA",
          load_nature="industrial"), Stage.POWERED, 3, {}),
    (dict(customer_name="桐庐县分水镇农业灌溉站", address="杭州市桐庐县分水镇后岩村",
          voltage_level="0.38kV", requested_capacity=15, capacity_unit="kW",
          load_nature="agricultural"), Stage.ACCEPTED, 2, {}),
    (dict(customer_name="建德新安江水泥有限公司", address="杭州市建德市新安江街道白沙路200号",
          voltage_level="10kV", requested_capacity=1440, capacity_unit="kW",
          load_nature="industrial"), Stage.WITHDRAWN, 4, {}),
    (dict(customer_name="杭州未来科技城数据中心", address="杭州市余杭区文一西路1818号",
          voltage_level="110kV", requested_capacity=8000, capacity_unit="kVA", load_class="1",
          backup_power=True, load_nature="industrial", contact_person="蒋工"),
     "plan_reviewed", 1, {"overdue": True}),
    (dict(customer_name="淳安千岛湖开元度假酒店", address="杭州市淳安县千岛湖镇新安南路1号",
          voltage_level="10kV", requested_capacity=1000, capacity_unit="kVA",
          load_nature="commercial"), "started", 2, {"change": True}),
    (dict(customer_name="钱塘区学林街小学", address="杭州市钱塘区学林街与文渊路交叉口",
          voltage_level="10kV", requested_capacity=500, capacity_unit="kVA",
          load_nature="public"), Stage.DESIGN, 0, {"documents": 12}),
]


def create_demo_data(echo=print):
    """Create this module's demo records (idempotent)."""
    from flask import current_app

    if db.session.query(PowerApplication).count():
        echo("Projects: demo data already present.")
        return
    sm = current_app.appbuilder.sm
    users = {name: sm.find_user(username=name) for name in
             ("heping", "lujun", "xuming", "gaofeng", "linbo", "zhengtao", "zhangwei")}
    if any(user is None for user in users.values()):
        echo("Projects: demo users missing; no demo projects created.")
        return
    with acting_as(users["lujun"]):
        for name, products, certificate in CATALOGUE:
            db.session.add(Manufacturer(
                name=name, products=products, certificate_no=certificate, active=True,
                approved_until=utcnow().date() + datetime.timedelta(days=540)))
        db.session.add(Manufacturer(name="温州某某开关厂", products="开关柜", certificate_no="ZJ-2019-0999",
                                    active=False, approved_until=datetime.date(2024, 12, 31)))
        db.session.commit()
    for fields, target, months_ago, extras in PROJECTS:
        _create(users, dict(fields), target, months_ago, extras)
    echo(f"Projects: {len(PROJECTS)} demo projects created.")


def _step(users, workflow, record, action, username, comment=None):
    from ..services.workflow import take_step

    db.session.refresh(record)
    with acting_as(users[username]):
        take_step(workflow, record.id, action, users[username], record.version, comment=comment)
    db.session.refresh(record)


def _create(users, fields, target, months_ago, extras):
    from ..services import projects as svc
    from ..services.attachments import record_paper_original
    from ..workflows.projects import (
        INSPECTION_WORKFLOW, ORDER_WORKFLOW, PLAN_WORKFLOW, PROJECT_WORKFLOW,
        REVIEW_WORKFLOW,
    )

    fields.setdefault("kind", "new")
    fields.setdefault("load_class", "3")
    withdrawn = target == Stage.WITHDRAWN
    reach = ORDER.index(Stage.PLANNING if withdrawn else target)
    with acting_as(users["heping"]):
        application = svc.register_application(users["heping"], **fields)
        application.received_at = utcnow() - datetime.timedelta(days=30 * months_ago + 2)
        db.session.commit()
    reached = lambda stage: reach >= ORDER.index(stage)  # noqa: E731

    if reached(Stage.PLANNING):
        _step(users, PROJECT_WORKFLOW, application, "forward", "heping")
        plan = application.plan
        plan.economics = "高可靠性供电费按规定标准收取；受电工程由客户投资建设。" if \
            application.is_high_voltage else "居民生活用电，免收业务费。"
        db.session.commit()
    if withdrawn:
        _step(users, PROJECT_WORKFLOW, application, "withdraw", "heping", comment="客户项目缓建，撤回申请")
        return
    if reached("plan_submitted"):
        _step(users, PLAN_WORKFLOW, application.plan, "submit", "lujun")
    if reached("plan_reviewed"):
        _step(users, PLAN_WORKFLOW, application.plan, "head_review", "zhengtao",
              comment="方案合理，同意上报")
    if reached(Stage.DESIGN):
        _step(users, PLAN_WORKFLOW, application.plan, "sign", "zhangwei", comment="同意")
        sender = "lujun" if application.plan.reply_unit == "branch" else "gaofeng"
        _step(users, PLAN_WORKFLOW, application.plan, "send", sender)
    review = application.review
    if review is not None and application.is_high_voltage:
        count = extras.get("documents", 12 if reached(Stage.CONSTRUCTION) else 0)
        for kind, _label in DESIGN_DOCUMENTS[:count]:
            record_paper_original(review, kind, "营销部资料室 客户工程档案柜", users["heping"])
    if reached(Stage.CONSTRUCTION):
        reviewer = {"station": "xuming", "branch": "lujun", "city": "gaofeng"}[review.route]
        _step(users, REVIEW_WORKFLOW, review, "pass_review", reviewer,
              comment="设计符合供电方案及相关技术规程，同意按图施工。")
    if reached("started"):
        record = application.construction
        today = utcnow().date()
        start = today - datetime.timedelta(days=20 * max(months_ago, 1))
        with acting_as(users["lujun"]):
            svc.update_construction(
                record.id, users["lujun"], record.version,
                designer="浙江省电力设计院有限公司" if application.is_high_voltage else "客户自行设计（典型设计）",
                builder="杭州恒安电力安装工程有限公司" if application.is_high_voltage else "杭州城西水电安装队",
                supplier="正泰电气股份有限公司", customer_chose_firms=True, qualified_list_shown=True,
                qualification_cert_no="D233018765", qualification_valid_until=today + datetime.timedelta(days=400),
                business_licence_no="91330106MA27X1234K", licence_valid_until=today + datetime.timedelta(days=900),
                start_date=start, expected_completion=start + datetime.timedelta(days=45),
                schedule="第1周：基础及电缆沟；第2-4周：设备安装；第5周：调试及资料整理")
        if extras.get("orders"):
            catalogue = {m.name: m for m in db.session.query(Manufacturer)}
            with acting_as(users["heping"]):
                order = svc.request_equipment_order(application.id, users["heping"],
                                                    catalogue["正泰电气股份有限公司"].id, "变压器",
                                                    "SCB13-630/10 干式变压器", 1)
                svc.request_equipment_order(application.id, users["heping"],
                                            catalogue["许继电气股份有限公司"].id, "开关柜",
                                            "KYN28A-12 中置柜", 5)
            _step(users, ORDER_WORKFLOW, order, "approve", "lujun")
            _step(users, ORDER_WORKFLOW, order, "place", "heping")
            _step(users, ORDER_WORKFLOW, order, "report_delivery", "heping",
                  comment="正泰电气，变压器已于本周到货，合格证齐全")
        if extras.get("rectify"):
            with acting_as(users["heping"]):
                inspection = svc.request_inspection(application.id, users["heping"], 70)
            with acting_as(users["linbo"]):
                svc.record_inspection_results(
                    inspection.id, users["linbo"], inspection.version, check_equipment="ok",
                    check_transformer="ok", check_relay="ok", check_lightning="defect",
                    check_earthing="defect", findings="避雷器未安装；接地电阻实测6.2Ω。",
                    rectification_items="1. 安装10kV避雷器；2. 增设垂直接地极，接地电阻不大于4Ω。")
            _step(users, INSPECTION_WORKFLOW, inspection, "require_rectification", "linbo")
    if extras.get("change") and reached("started"):
        with acting_as(users["heping"]):
            svc.request_construction_change(application.id, users["heping"], "drawings",
                                            "因地下管线冲突，电缆沟走向向东平移3米，需变更施工图。")
    if reached(Stage.ACCEPTANCE):
        if application.is_high_voltage:
            with acting_as(users["heping"]):
                inspection = svc.request_inspection(application.id, users["heping"], 75)
            with acting_as(users["linbo"]):
                svc.record_inspection_results(
                    inspection.id, users["linbo"], inspection.version,
                    findings="设备安装符合设计及规程要求。",
                    **{field: "ok" for field, _label in CHECK_AREAS})
            _step(users, INSPECTION_WORKFLOW, inspection, "pass_inspection", "linbo")
        if application.built_by_company:
            with acting_as(users["lujun"]):
                svc.record_works_completed(application.id, users["lujun"], application.version,
                                           utcnow().date() - datetime.timedelta(days=1))
            db.session.refresh(application)
        _step(users, PROJECT_WORKFLOW, application, "request_acceptance", "heping")
    if reached(Stage.ACCEPTED):
        _step(users, PROJECT_WORKFLOW, application, "accept", "linbo", comment="验收合格")
    if reached(Stage.POWERED):
        with acting_as(users["lujun"]):
            svc.sign_contract(application.id, users["lujun"], application.version,
                              f"GY-{application.number[3:]}", utcnow().date())
            db.session.refresh(application)
            if application.residential_lighting:
                svc.issue_meter_notice(application.id, users["lujun"], application.version)
        _step(users, PROJECT_WORKFLOW, application, "power_on", "lujun")
    if reached(Stage.COMPLETED):
        _step(users, PROJECT_WORKFLOW, application, "site_check", "linbo",
              comment="计量装置运行正常，封印完好，用电性质与合同一致。")
    if extras.get("overdue"):
        # Pretend the stage began long ago so that its time limits show as overdue.
        with acting_as(users["lujun"]):
            for deadline in db.session.query(Deadline).filter_by(
                    record_table="power_application", record_id=application.id,
                    status=DeadlineStatus.OPEN):
                deadline.opened_at = deadline.opened_at - datetime.timedelta(days=45)
                deadline.due_at = deadline.due_at - datetime.timedelta(days=45)
            db.session.commit()
