"""Customer electrical projects: every ENG rule at the service level, with its refusals."""
import datetime
import io
from types import SimpleNamespace

import pytest
from werkzeug.datastructures import FileStorage

from app.audit.context import acting_as
from app.extensions import db
from app.models.deadlines import Deadline, DeadlineStatus
from app.models.projects import (
    CheckResult, DESIGN_DOCUMENTS, Manufacturer, PowerApplication, ReviewRoute, Stage,
    SupplyMode,
)
from app.services import projects as svc
from app.services.errors import InvalidInput, PermissionRefused, RecordNotVisible, StaleVersion
from app.services.errors import TransitionRefused
from app.services.workflow import take_step
from app.workflows.projects import (
    CHANGE_WORKFLOW, INSPECTION_WORKFLOW, ORDER_WORKFLOW, PLAN_CHANGE_WORKFLOW, PLAN_WORKFLOW,
    PROJECT_WORKFLOW, REVIEW_WORKFLOW,
)

TODAY = datetime.date.today()


@pytest.fixture
def app_overrides():
    """Messages are asserted in English (the source language)."""
    return {"BABEL_DEFAULT_LOCALE": "en"}


# ---------------------------------------------------------------------------
# Helpers shared with the view and browser tests
# ---------------------------------------------------------------------------

@pytest.fixture
def people(make_user):
    return SimpleNamespace(
        window=make_user("ServiceWindow", username="heping_t", display_name="何平"),
        marketing=make_user("Marketing", username="lujun_t", display_name="陆军"),
        marketing2=make_user("Marketing", username="wanghong_t", display_name="王红"),
        station=make_user("SupplyStation", username="xuming_t", display_name="徐明"),
        city=make_user("CityCompany", username="gaofeng_t", display_name="高峰"),
        inspector=make_user("Inspector", username="linbo_t", display_name="林波"),
        head=make_user("DepartmentSupervisor", username="zhengtao_t", display_name="郑涛"),
        gm=make_user("GeneralManager", username="zhangwei_t", display_name="张伟"),
    )


def register(people, **overrides):
    fields = dict(kind="new", customer_name="杭州明达机械有限公司", address="杭州市余杭区文一西路88号",
                  voltage_level="10kV", requested_capacity=800, capacity_unit="kVA",
                  load_class="3", load_nature="industrial", contact_person="李明",
                  contact_phone="13900001111")
    fields.update(overrides)
    with acting_as(people.window.get()):
        return svc.register_application(people.window.get(), **fields)


def step(workflow, record, action, user, comment=None):
    record = db.session.get(workflow.model, record.id)
    db.session.refresh(record)
    with acting_as(user.get()):
        return take_step(workflow, record.id, action, user.get(), record.version, comment=comment)


def reload(record):
    fresh = db.session.get(type(record), record.id)
    db.session.refresh(fresh)
    return fresh


def reply_sender(people, plan):
    return people.marketing if plan.reply_unit == "branch" else people.city


def to_planning(people, **overrides):
    application = register(people, **overrides)
    step(PROJECT_WORKFLOW, application, "forward", people.window)
    return reload(application)


def send_plan(people, application):
    plan = reload(application).plan
    step(PLAN_WORKFLOW, plan, "submit", people.marketing)
    step(PLAN_WORKFLOW, plan, "head_review", people.head)
    step(PLAN_WORKFLOW, plan, "sign", people.gm)
    step(PLAN_WORKFLOW, plan, "send", reply_sender(people, reload(plan)))
    return reload(application)


def upload_documents(people, review, kinds=None):
    with acting_as(people.window.get()):
        for kind in kinds if kinds is not None else [kind for kind, _label in DESIGN_DOCUMENTS]:
            svc_add = __import__("app.services.attachments", fromlist=["add_attachment"])
            svc_add.add_attachment(review, FileStorage(io.BytesIO(b"%PDF-1.4 design"),
                                                       filename=f"{kind}.pdf"),
                                   kind, people.window.get())
        db.session.commit()


def reviewer(people, route):
    return {"station": people.station, "branch": people.marketing, "city": people.city}[route]


def pass_review(people, application):
    application = reload(application)
    review = application.review
    if application.is_high_voltage:
        upload_documents(people, review)
    step(REVIEW_WORKFLOW, review, "pass_review", reviewer(people, review.route),
         comment="设计符合供电方案及规程要求，同意施工。")
    return reload(application)


def start_works(people, application, start=None):
    record = reload(application).construction
    start = start or TODAY
    with acting_as(people.marketing.get()):
        svc.update_construction(
            record.id, people.marketing.get(), record.version, designer="浙江华电设计院",
            builder="杭州恒安电力安装有限公司", supplier="正泰电气", customer_chose_firms=True,
            qualified_list_shown=True, qualification_cert_no="D233012345",
            qualification_valid_until=start + datetime.timedelta(days=365),
            business_licence_no="91330100MA2B123456",
            licence_valid_until=start + datetime.timedelta(days=700), start_date=start,
            expected_completion=start + datetime.timedelta(days=60),
            schedule="第1-2周土建；第3-6周设备安装；第7-8周调试")
    return reload(application)


def pass_inspection(people, application):
    with acting_as(people.marketing.get()):
        inspection = svc.request_inspection(application.id, people.marketing.get(), 70)
    inspection = reload(inspection)
    with acting_as(people.inspector.get()):
        svc.record_inspection_results(
            inspection.id, people.inspector.get(), inspection.version,
            **{field: CheckResult.OK for field, _label in svc.CHECK_AREAS},
            findings="设备安装符合设计。")
    step(INSPECTION_WORKFLOW, inspection, "pass_inspection", people.inspector)
    return reload(inspection)


def to_construction(people, **overrides):
    application = to_planning(people, **overrides)
    application = send_plan(people, application)
    return pass_review(people, application)


def to_accepted(people, **overrides):
    application = to_construction(people, **overrides)
    application = start_works(people, application)
    if application.is_high_voltage:
        pass_inspection(people, application)
    step(PROJECT_WORKFLOW, application, "request_acceptance", people.window)
    step(PROJECT_WORKFLOW, application, "accept", people.inspector)
    return reload(application)


def sign(people, application, when=None):
    application = reload(application)
    with acting_as(people.marketing.get()):
        svc.sign_contract(application.id, people.marketing.get(), application.version,
                          "GY-2026-0001", when or TODAY)
    return reload(application)


def open_deadlines(application, kind=None):
    query = db.session.query(Deadline).filter(
        Deadline.record_table == "power_application", Deadline.record_id == application.id,
        Deadline.status == DeadlineStatus.OPEN)
    if kind:
        query = query.filter(Deadline.kind == kind)
    return query.all()


# ---------------------------------------------------------------------------
# ENG-01: every new connection or increase starts with an application
# ---------------------------------------------------------------------------

def test_eng_01_application_registered_numbered_and_forwarded(ctx, people):
    first = register(people)
    second = register(people, kind="increase", existing_capacity=400, customer_name="富阳纸业")
    year = first.received_at.year
    assert first.number == f"YK-{year}-00001" and second.number == f"YK-{year}-00002"
    assert first.stage == Stage.RECEIVED and first.responsible_unit == "ServiceWindow"
    assert first.capacity_unit == "kVA" and first.review_route == ReviewRoute.BRANCH
    # Only the service window registers and forwards.
    with pytest.raises(PermissionRefused):
        svc.register_application(people.marketing.get(), kind="new", customer_name="x",
                                 address="y", voltage_level="10kV", requested_capacity=1,
                                 capacity_unit="kVA", load_class="3", load_nature="industrial")
    with pytest.raises(TransitionRefused):
        step(PROJECT_WORKFLOW, first, "forward", people.marketing)
    step(PROJECT_WORKFLOW, first, "forward", people.window)
    first = reload(first)
    assert first.stage == Stage.PLANNING and first.plan is not None
    # A second forward is out of order.
    with pytest.raises(TransitionRefused):
        step(PROJECT_WORKFLOW, first, "forward", people.window)


def test_eng_01_bad_input_refused_with_field_messages(ctx, people):
    with pytest.raises(InvalidInput) as error:
        register(people, requested_capacity=0, capacity_unit="MW")
    assert "requested_capacity" in error.value.errors and "capacity_unit" in error.value.errors
    with pytest.raises(InvalidInput) as error:
        register(people, kind="increase")
    assert "existing_capacity" in error.value.errors
    with pytest.raises(InvalidInput) as error:
        register(people, residential_lighting=True, voltage_level="10kV")
    assert "residential_lighting" in error.value.errors


# ---------------------------------------------------------------------------
# ENG-02: supply plan; 3000 kVA or more is a dedicated line; backup by load class
# ---------------------------------------------------------------------------

def test_eng_02_dedicated_line_from_3000_kva(ctx, people):
    application = to_planning(people, requested_capacity=2999)
    plan = application.plan
    # 2999 kVA by a dedicated transformer is allowed ...
    with acting_as(people.marketing.get()):
        svc.update_plan(plan.id, people.marketing.get(), plan.version,
                        supply_mode=SupplyMode.DEDICATED_TRANSFORMER)
    plan = reload(plan)
    # ... 3000 kVA by the same mode is refused, and nothing is written.
    with pytest.raises(InvalidInput) as error:
        with acting_as(people.marketing.get()):
            svc.update_plan(plan.id, people.marketing.get(), plan.version,
                            approved_capacity_kva=3000)
    assert "supply_mode" in error.value.errors
    assert reload(plan).approved_capacity_kva == 2999
    with acting_as(people.marketing.get()):
        svc.update_plan(plan.id, people.marketing.get(), plan.version,
                        approved_capacity_kva=3000, supply_mode=SupplyMode.DEDICATED_LINE)
    assert reload(plan).supply_mode == SupplyMode.DEDICATED_LINE


def test_eng_02_kw_converted_to_kva_for_the_3000_threshold(ctx, people):
    # 2700 kW at the default power factor 0.9 is 3000 kVA: the draft says dedicated line.
    application = to_planning(people, requested_capacity=2700, capacity_unit="kW")
    assert application.plan.approved_capacity_kva == pytest.approx(3000)
    assert application.plan.supply_mode == SupplyMode.DEDICATED_LINE
    plan = application.plan
    with pytest.raises(InvalidInput):
        with acting_as(people.marketing.get()):
            svc.update_plan(plan.id, people.marketing.get(), plan.version,
                            supply_mode=SupplyMode.DEDICATED_TRANSFORMER)
    # The guard on submit re-checks whatever is stored.
    step(PLAN_WORKFLOW, plan, "submit", people.marketing)


def test_eng_02_backup_power_by_load_class(ctx, people):
    application = to_planning(people, backup_power=True, load_class="1")
    plan = application.plan
    assert plan.backup_scheme == "dual_source" and plan.dual_supply
    with pytest.raises(InvalidInput) as error:
        with acting_as(people.marketing.get()):
            svc.update_plan(plan.id, people.marketing.get(), plan.version,
                            backup_scheme="dual_circuit")
    assert "backup_scheme" in error.value.errors
    second = to_planning(people, backup_power=True, load_class="2")
    plan2 = second.plan
    with pytest.raises(InvalidInput):
        with acting_as(people.marketing.get()):
            svc.update_plan(plan2.id, people.marketing.get(), plan2.version,
                            backup_scheme="none", dual_supply=False)
    # Dual supply takes the longer reply limit (30 working days) and the city route.
    assert open_deadlines(second, "eng_plan_reply")[0].days == 30
    assert reload(second).review_route == ReviewRoute.CITY


def test_eng_02_only_a_draft_plan_is_edited(ctx, people):
    application = to_planning(people)
    plan = application.plan
    step(PLAN_WORKFLOW, plan, "submit", people.marketing)
    plan = reload(plan)
    with pytest.raises(PermissionRefused):
        with acting_as(people.marketing.get()):
            svc.update_plan(plan.id, people.marketing.get(), plan.version, economics="x")
    with pytest.raises(PermissionRefused):
        with acting_as(people.station.get()):
            svc.update_plan(plan.id, people.window.get(), plan.version, economics="x")


# ---------------------------------------------------------------------------
# ENG-03: written reply: head review, GM sign-off, sent by the answering unit
# ---------------------------------------------------------------------------

def test_eng_03_reply_chain_and_who_answers(ctx, people, make_user):
    application = to_planning(people, requested_capacity=800)
    plan = application.plan
    assert plan.reply_unit == "branch"  # under 1000 kVA, dedicated transformer
    # Out of order: the GM cannot sign before the department head reviewed.
    step(PLAN_WORKFLOW, plan, "submit", people.marketing)
    from app.models.notifications import Notification

    told = db.session.query(Notification).filter_by(user_id=people.head.id).all()
    assert len(told) == 1 and application.number in told[0].subject
    with pytest.raises(TransitionRefused):
        step(PLAN_WORKFLOW, plan, "sign", people.gm)
    with pytest.raises(TransitionRefused):  # wrong role
        step(PLAN_WORKFLOW, plan, "head_review", people.marketing2)
    step(PLAN_WORKFLOW, plan, "head_review", people.head)
    with pytest.raises(TransitionRefused):  # a second decision on the same step
        step(PLAN_WORKFLOW, plan, "head_review", people.head)
    step(PLAN_WORKFLOW, plan, "sign", people.gm)
    # The city company may not send a reply the branch answers.
    with pytest.raises(TransitionRefused) as error:
        step(PLAN_WORKFLOW, plan, "send", people.city)
    assert "Branch marketing" in str(error.value.message)
    step(PLAN_WORKFLOW, plan, "send", people.marketing)
    plan, application = reload(plan), reload(application)
    assert plan.status == "sent" and plan.reply_no and plan.sent_at
    assert application.stage == Stage.DESIGN
    reply = db.session.query(Deadline).filter_by(record_id=application.id,
                                                 kind="eng_plan_reply").one()
    assert reply.status == DeadlineStatus.MET and reply.days == 15

    # 1000 kVA: the company answers.
    big = to_planning(people, requested_capacity=1000)
    assert big.plan.reply_unit == "company"
    # A household on a public transformer: the branch by default, the company when the
    # administrator chooses the literal reading.
    household = dict(voltage_level="0.22kV", requested_capacity=8, capacity_unit="kW",
                     residential_lighting=True, load_nature="residential")
    assert to_planning(people, **household).plan.reply_unit == "branch"
    from app.services.settings import set_setting

    with acting_as(people.gm.get()):
        set_setting("ENG_LOW_VOLTAGE_REPLY_BY_BRANCH", "no")
    assert to_planning(people, **household).plan.reply_unit == "company"


def test_eng_03_no_self_approval_of_the_reply(ctx, people, make_user):
    both = make_user("Marketing", "DepartmentSupervisor", "GeneralManager", username="both_roles")
    application = to_planning(people)
    plan = application.plan
    step(PLAN_WORKFLOW, plan, "submit", both)
    with pytest.raises(TransitionRefused) as error:
        step(PLAN_WORKFLOW, plan, "head_review", both)
    assert "earlier step" in str(error.value.message) or "own" in str(error.value.message)
    step(PLAN_WORKFLOW, plan, "head_review", people.head)
    with pytest.raises(TransitionRefused):
        step(PLAN_WORKFLOW, plan, "sign", both)
    # The head who reviewed cannot sign either, even holding the GM role.
    head_gm = make_user("DepartmentSupervisor", "GeneralManager", username="head_gm")
    other = to_planning(people)
    step(PLAN_WORKFLOW, other.plan, "submit", people.marketing)
    step(PLAN_WORKFLOW, other.plan, "head_review", head_gm)
    with pytest.raises(TransitionRefused):
        step(PLAN_WORKFLOW, other.plan, "sign", head_gm)


def test_eng_03_stale_version_refused(ctx, people):
    application = to_planning(people)
    plan = application.plan
    old_version = plan.version
    step(PLAN_WORKFLOW, plan, "submit", people.marketing)
    with pytest.raises(StaleVersion):
        with acting_as(people.head.get()):
            take_step(PLAN_WORKFLOW, plan.id, "head_review", people.head.get(), old_version)
    assert reload(plan).status == "submitted"


# ---------------------------------------------------------------------------
# ENG-04: changing an agreed plan needs the approving department's consent
# ---------------------------------------------------------------------------

def test_eng_04_plan_change_needs_the_approving_department(ctx, people):
    application = send_plan(people, to_planning(people, requested_capacity=800))
    plan = reload(application).plan
    # An agreed plan is no longer edited directly.
    with pytest.raises(PermissionRefused):
        with acting_as(people.marketing.get()):
            svc.update_plan(plan.id, people.marketing.get(), plan.version, economics="x")
    with acting_as(people.marketing2.get()):
        change = svc.request_plan_change(application.id, people.marketing2.get(),
                                         "客户增加一条生产线", new_capacity_kva=1250)
    assert change.approving_unit == "branch"
    with pytest.raises(TransitionRefused):  # the city company did not approve this plan
        step(PLAN_CHANGE_WORKFLOW, change, "consent", people.city)
    with pytest.raises(TransitionRefused):  # nobody consents to their own request
        step(PLAN_CHANGE_WORKFLOW, change, "consent", people.marketing2)
    step(PLAN_CHANGE_WORKFLOW, change, "consent", people.marketing)
    application = reload(application)
    assert application.plan.approved_capacity_kva == 1250
    assert application.review_route == ReviewRoute.CITY  # 1000 kVA or more now
    # The open review deadline moves to the city company with the review (ENG-17).
    review_deadline = db.session.query(Deadline).filter_by(
        record_id=application.id, kind="eng_design_review", status=DeadlineStatus.OPEN).one()
    assert review_deadline.assignee_role == "CityCompany"
    # A change that would break ENG-02 is refused at once.
    with pytest.raises(InvalidInput):
        with acting_as(people.marketing2.get()):
            svc.request_plan_change(application.id, people.marketing2.get(), "扩建",
                                    new_capacity_kva=3200)
    # A draft plan is not "changed by request".
    draft = to_planning(people)
    with pytest.raises(PermissionRefused):
        with acting_as(people.marketing2.get()):
            svc.request_plan_change(draft.id, people.marketing2.get(), "x", new_capacity_kva=10)


# ---------------------------------------------------------------------------
# ENG-05: design review routed by size; only the routed unit decides
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("voltage, capacity, unit, backup, expected", [
    ("0.22kV", 10, "kW", False, "station"),      # low voltage up to 10 kW
    ("0.38kV", 10.01, "kW", False, "branch"),    # above 10 kW
    ("0.22kV", 10, "kVA", False, "station"),     # 10 kVA = 9 kW at PF 0.9
    ("0.38kV", 11.2, "kVA", False, "branch"),    # 11.2 kVA = 10.08 kW
    ("10kV", 10, "kVA", False, "branch"),        # high voltage 10-1000 kVA
    ("10kV", 999, "kVA", False, "branch"),
    ("10kV", 1000, "kVA", False, "city"),        # 1000 kVA or more
    ("10kV", 899, "kW", False, "branch"),        # 899 kW = 998.9 kVA
    ("10kV", 900, "kW", False, "city"),          # 900 kW = 1000 kVA
    ("10kV", 200, "kVA", True, "city"),          # dual supply
])
def test_eng_05_route_by_size_units_and_supply(ctx, people, voltage, capacity, unit, backup,
                                               expected):
    application = register(people, voltage_level=voltage, requested_capacity=capacity,
                           capacity_unit=unit, backup_power=backup,
                           load_class="2" if backup else "3")
    assert svc.review_route(application) == expected
    assert application.review_route == expected


def test_eng_05_power_factor_is_configurable(ctx, people):
    from app.services.settings import set_setting

    application = register(people, voltage_level="0.22kV", requested_capacity=11,
                           capacity_unit="kVA")
    assert svc.review_route(application) == "station"  # 9.9 kW
    set_setting("ENG_POWER_FACTOR", "0.95")
    assert svc.review_route(reload(application)) == "branch"  # 10.45 kW


def test_eng_05_dedicated_line_goes_to_city(ctx, people):
    application = to_planning(people, requested_capacity=3000)
    assert reload(application).review_route == ReviewRoute.CITY
    assert application.plan.supply_mode == SupplyMode.DEDICATED_LINE


def test_eng_05_only_the_routed_unit_passes_the_review(ctx, people):
    application = send_plan(people, to_planning(people, requested_capacity=500))
    review = reload(application).review
    assert review.route == "branch" and application.responsible_unit == "Marketing"
    upload_documents(people, review)
    with pytest.raises(TransitionRefused):
        step(REVIEW_WORKFLOW, review, "pass_review", people.inspector, comment="同意")
    with pytest.raises(TransitionRefused) as error:
        step(REVIEW_WORKFLOW, review, "pass_review", people.city, comment="同意")
    assert "routed to the Branch marketing department" in str(error.value.message)
    with pytest.raises(RecordNotVisible):  # the station does not even see a branch project
        step(REVIEW_WORKFLOW, review, "pass_review", people.station, comment="同意")
    with pytest.raises(InvalidInput):  # the opinion is required
        step(REVIEW_WORKFLOW, review, "pass_review", people.marketing)
    step(REVIEW_WORKFLOW, review, "return_review", people.marketing, comment="接地设计需补充")
    step(REVIEW_WORKFLOW, review, "resubmit", people.window)
    step(REVIEW_WORKFLOW, review, "pass_review", people.marketing, comment="同意施工")
    review, application = reload(review), reload(application)
    assert review.status == "passed" and review.opinion == "同意施工" and review.opinion_no
    assert application.stage == Stage.CONSTRUCTION and application.construction is not None
    deadline = db.session.query(Deadline).filter_by(record_id=application.id,
                                                    kind="eng_design_review").one()
    assert deadline.status == DeadlineStatus.MET and deadline.assignee_role == "Marketing"


def test_eng_05_low_voltage_review_by_the_supply_station(ctx, people):
    application = send_plan(people, to_planning(
        people, voltage_level="0.22kV", requested_capacity=8, capacity_unit="kW",
        residential_lighting=True, load_nature="residential"))
    review = reload(application).review
    assert review.route == "station"
    with pytest.raises(TransitionRefused):
        step(REVIEW_WORKFLOW, review, "pass_review", people.marketing, comment="同意")
    # No documents needed for low voltage.
    step(REVIEW_WORKFLOW, review, "pass_review", people.station, comment="同意")
    assert reload(application).stage == Stage.CONSTRUCTION


# ---------------------------------------------------------------------------
# ENG-06: the 12 design documents of a high-voltage customer
# ---------------------------------------------------------------------------

def test_eng_06_review_cannot_pass_with_a_document_missing(ctx, people):
    application = send_plan(people, to_planning(people, requested_capacity=630))
    review = reload(application).review
    kinds = [kind for kind, _label in DESIGN_DOCUMENTS]
    assert len(kinds) == 12
    upload_documents(people, review, kinds[:-1])
    assert [kind for kind, _l in svc.missing_documents(review)] == ["doc_own_source"]
    with pytest.raises(TransitionRefused) as error:
        step(REVIEW_WORKFLOW, review, "pass_review", people.marketing, comment="同意")
    assert "1" in str(error.value.message)
    # A paper original counts as submitted.
    from app.services.attachments import record_paper_original

    record_paper_original(reload(review), "doc_own_source", "营销部档案柜A-3", people.window.get())
    step(REVIEW_WORKFLOW, review, "pass_review", people.marketing, comment="同意")
    assert reload(review).status == "passed"


# ---------------------------------------------------------------------------
# ENG-07 / ENG-08 / ENG-10: firms chosen by the customer, contractor papers, start report
# ---------------------------------------------------------------------------

def _construction_record(people):
    application = to_construction(people, requested_capacity=500)
    return application, reload(application).construction


def test_eng_07_customer_chose_the_firms(ctx, people):
    application, record = _construction_record(people)
    with pytest.raises(InvalidInput) as error:
        with acting_as(people.marketing.get()):
            svc.update_construction(record.id, people.marketing.get(), record.version,
                                    designer="浙江华电设计院", builder="恒安电力")
    assert "customer_chose_firms" in error.value.errors
    with acting_as(people.marketing.get()):
        svc.update_construction(record.id, people.marketing.get(), record.version,
                                designer="浙江华电设计院", builder="恒安电力",
                                customer_chose_firms=True, qualified_list_shown=True)
    assert reload(record).customer_chose_firms
    # Without the record, no completion report.
    problems = svc.construction_problems(reload(application))
    assert any("ENG-10" in problem for problem in problems)


def test_eng_08_contractor_papers_valid_on_the_start_date(ctx, people):
    application, record = _construction_record(people)
    start = TODAY + datetime.timedelta(days=10)
    base = dict(designer="华电设计院", builder="恒安电力", supplier="正泰", customer_chose_firms=True,
                qualification_cert_no="D2330", business_licence_no="9133",
                qualification_valid_until=start + datetime.timedelta(days=100),
                licence_valid_until=start - datetime.timedelta(days=1),  # expired licence
                start_date=start, expected_completion=start + datetime.timedelta(days=30),
                schedule="安装30天")
    with pytest.raises(InvalidInput) as error:
        with acting_as(people.marketing.get()):
            svc.update_construction(record.id, people.marketing.get(), record.version, **base)
    assert list(error.value.errors) == ["licence_valid_until"]
    assert reload(record).start_reported_at is None
    base.update(licence_valid_until=start, qualification_valid_until=start - datetime.timedelta(days=3))
    with pytest.raises(InvalidInput) as error:
        with acting_as(people.marketing.get()):
            svc.update_construction(record.id, people.marketing.get(), record.version, **base)
    assert "qualification_valid_until" in error.value.errors
    base.update(qualification_cert_no=None, qualification_valid_until=None)
    with pytest.raises(InvalidInput) as error:
        with acting_as(people.marketing.get()):
            svc.update_construction(record.id, people.marketing.get(), record.version, **base)
    assert "qualification_cert_no" in error.value.errors
    base.update(qualification_cert_no="D2330", qualification_valid_until=start)  # valid on the day
    with acting_as(people.marketing.get()):
        svc.update_construction(record.id, people.marketing.get(), record.version, **base)
    assert reload(record).start_reported_at is not None


def test_eng_10_start_report_dates_and_schedule(ctx, people):
    application, record = _construction_record(people)
    papers = dict(builder="恒安电力", customer_chose_firms=True, qualification_cert_no="D1",
                  qualification_valid_until=TODAY + datetime.timedelta(days=400),
                  business_licence_no="L1", licence_valid_until=TODAY + datetime.timedelta(days=400))
    with pytest.raises(InvalidInput) as error:
        with acting_as(people.marketing.get()):
            svc.update_construction(record.id, people.marketing.get(), record.version,
                                    start_date=TODAY, **papers)
    assert {"expected_completion", "schedule"} <= set(error.value.errors)
    with pytest.raises(InvalidInput) as error:
        with acting_as(people.marketing.get()):
            svc.update_construction(record.id, people.marketing.get(), record.version,
                                    start_date=TODAY, schedule="x",
                                    expected_completion=TODAY - datetime.timedelta(days=1),
                                    **papers)
    assert "expected_completion" in error.value.errors
    with pytest.raises(PermissionRefused):  # inspectors do not file start reports
        svc.update_construction(record.id, people.inspector.get(), record.version, schedule="x")
    start_works(people, application)
    assert reload(record).start_reported_at is not None


# ---------------------------------------------------------------------------
# ENG-09: catalogue, approval before ordering, delivery reported
# ---------------------------------------------------------------------------

def _catalogue():
    good = Manufacturer(name="正泰电气股份有限公司", products="变压器,开关柜,电能表",
                        approved_until=TODAY + datetime.timedelta(days=300), active=True)
    removed = Manufacturer(name="某某开关厂", products="开关柜", active=False)
    db.session.add_all([good, removed])
    db.session.commit()
    return good, removed


def test_eng_09_equipment_from_the_catalogue_approved_before_ordering(ctx, people):
    application = start_works(people, to_construction(people, requested_capacity=500))
    good, removed = _catalogue()
    with pytest.raises(InvalidInput) as error:  # manufacturer outside the catalogue
        with acting_as(people.window.get()):
            svc.request_equipment_order(application.id, people.window.get(), removed.id,
                                        "开关柜", "KYN28-12", 4)
    assert "catalogue" in str(error.value.message)
    with pytest.raises(InvalidInput):  # a product the maker is not approved for
        with acting_as(people.window.get()):
            svc.request_equipment_order(application.id, people.window.get(), good.id,
                                        "电缆", "YJV22", 1)
    with acting_as(people.window.get()):
        order = svc.request_equipment_order(application.id, people.window.get(), good.id,
                                            "变压器", "SCB13-500/10", 1)
    # Not ordered before marketing approves; the requester does not approve.
    with pytest.raises(TransitionRefused):
        step(ORDER_WORKFLOW, order, "place", people.window)
    with pytest.raises(TransitionRefused):
        step(ORDER_WORKFLOW, order, "approve", people.window)
    assert any("ENG-09" in p for p in svc.construction_problems(reload(application)))
    step(ORDER_WORKFLOW, order, "approve", people.marketing)
    step(ORDER_WORKFLOW, order, "place", people.window)
    with pytest.raises(InvalidInput):  # delivery details required
        step(ORDER_WORKFLOW, order, "report_delivery", people.window)
    step(ORDER_WORKFLOW, order, "report_delivery", people.window,
         comment="正泰电气，2026年11月20日到货")
    order = reload(order)
    assert order.status == "delivered" and "到货" in order.delivery_details
    assert not any("ENG-09" in p for p in svc.construction_problems(reload(application)))


def test_eng_09_manufacturer_removed_after_request_cannot_be_approved(ctx, people):
    application = start_works(people, to_construction(people, requested_capacity=500))
    good, _removed = _catalogue()
    with acting_as(people.window.get()):
        order = svc.request_equipment_order(application.id, people.window.get(), good.id,
                                            "开关柜", "KYN28", 2)
    good = reload(good)
    good.active = False
    db.session.commit()
    with pytest.raises(TransitionRefused):
        step(ORDER_WORKFLOW, order, "approve", people.marketing)


# ---------------------------------------------------------------------------
# ENG-11: construction changes approved in writing before they are carried out
# ---------------------------------------------------------------------------

def test_eng_11_change_approved_before_carried_out(ctx, people):
    application = start_works(people, to_construction(people, requested_capacity=500))
    with acting_as(people.window.get()):
        change = svc.request_construction_change(application.id, people.window.get(),
                                                 "drawings", "电缆沟走向调整")
    with pytest.raises(TransitionRefused):
        step(CHANGE_WORKFLOW, change, "carry_out", people.window)
    assert any("ENG-11" in p for p in svc.construction_problems(reload(application)))
    with pytest.raises(TransitionRefused):  # no self-approval
        with acting_as(people.marketing.get()):
            c2 = svc.request_construction_change(application.id, people.marketing.get(),
                                                 "design", "x")
        step(CHANGE_WORKFLOW, c2, "approve", people.marketing)
    step(CHANGE_WORKFLOW, change, "approve", people.marketing2)
    step(CHANGE_WORKFLOW, change, "carry_out", people.window)
    change = reload(change)
    assert change.status == "done" and change.approval_no and change.carried_out_on


# ---------------------------------------------------------------------------
# ENG-12: mid-construction inspections
# ---------------------------------------------------------------------------

def test_eng_12_inspection_rounds_areas_and_rectification(ctx, people):
    application = to_construction(people, requested_capacity=500)
    with pytest.raises(PermissionRefused):  # no start report yet
        svc.request_inspection(application.id, people.marketing.get(), 70)
    application = start_works(people, application)
    with pytest.raises(InvalidInput):  # before about 2/3 is installed
        svc.request_inspection(application.id, people.marketing.get(), 50)
    with acting_as(people.marketing.get()):
        first = svc.request_inspection(application.id, people.marketing.get(), 70)
    assert first.round_no == 1
    deadline = db.session.query(Deadline).filter_by(record_table="mid_inspection",
                                                    record_id=first.id).one()
    assert deadline.days == 5 and deadline.assignee_role == "Inspector"
    with pytest.raises(PermissionRefused):  # one open round at a time
        svc.request_inspection(application.id, people.marketing.get(), 80)
    with pytest.raises(TransitionRefused):  # areas not recorded
        step(INSPECTION_WORKFLOW, first, "pass_inspection", people.inspector)
    with acting_as(people.inspector.get()):
        svc.record_inspection_results(first.id, people.inspector.get(), reload(first).version,
                                      check_equipment="ok", check_transformer="ok",
                                      check_relay="ok", check_lightning="ok",
                                      check_earthing="defect",
                                      rectification_items="接地电阻4.6Ω超标，需增设接地极")
    with pytest.raises(TransitionRefused):  # a defect: cannot pass
        step(INSPECTION_WORKFLOW, first, "pass_inspection", people.inspector)
    with pytest.raises(TransitionRefused):  # wrong role
        step(INSPECTION_WORKFLOW, first, "require_rectification", people.marketing)
    step(INSPECTION_WORKFLOW, first, "require_rectification", people.inspector)
    assert db.session.get(Deadline, deadline.id).status == DeadlineStatus.MET
    with pytest.raises(PermissionRefused):  # a decided round is not edited
        svc.record_inspection_results(first.id, people.inspector.get(), reload(first).version,
                                      findings="x")
    # High voltage: completion needs a passed round.
    assert any("ENG-12" in p for p in svc.construction_problems(reload(application)))
    second = pass_inspection(people, application)
    assert second.round_no == 2 and second.status == "passed"
    assert not any("ENG-12" in p for p in svc.construction_problems(reload(application)))
    with pytest.raises(PermissionRefused):  # passed: no further round
        svc.request_inspection(application.id, people.marketing.get(), 90)


def test_eng_12_at_most_four_rounds(ctx, people):
    application = start_works(people, to_construction(people, requested_capacity=500))
    for _round in range(4):
        with acting_as(people.marketing.get()):
            inspection = svc.request_inspection(application.id, people.marketing.get(), 80)
        with acting_as(people.inspector.get()):
            svc.record_inspection_results(inspection.id, people.inspector.get(),
                                          reload(inspection).version, check_earthing="defect",
                                          rectification_items="整改")
        step(INSPECTION_WORKFLOW, inspection, "require_rectification", people.inspector)
    with pytest.raises(PermissionRefused) as error:
        svc.request_inspection(application.id, people.marketing.get(), 95)
    assert "4" in str(error.value.message)


# ---------------------------------------------------------------------------
# ENG-13: completion report and acceptance request
# ---------------------------------------------------------------------------

def test_eng_13_completion_report_and_contractor_three_days(ctx, people):
    application = to_construction(people, requested_capacity=500, built_by_company=True)
    with pytest.raises(TransitionRefused):  # no start report, no passed inspection
        step(PROJECT_WORKFLOW, application, "request_acceptance", people.window)
    application = start_works(people, application)
    pass_inspection(people, application)
    application = reload(application)
    finished = TODAY - datetime.timedelta(days=5)
    with acting_as(people.marketing.get()):
        svc.record_works_completed(application.id, people.marketing.get(), application.version,
                                   finished)
    report = open_deadlines(application, "eng_completion_report")[0]
    assert report.days == 3 and not report.working_days
    step(PROJECT_WORKFLOW, application, "request_acceptance", people.window)
    application = reload(application)
    assert application.stage == Stage.ACCEPTANCE and application.completion_reported_at
    assert db.session.get(Deadline, report.id).status == DeadlineStatus.LATE  # 5 days > 3
    acceptance = open_deadlines(application, "eng_acceptance")[0]
    assert acceptance.days == 5 and acceptance.assignee_role == "Inspector"
    # Whoever filed the report does not accept the works.
    both = people.window  # ServiceWindow may not accept at all
    with pytest.raises(TransitionRefused):
        step(PROJECT_WORKFLOW, application, "accept", both)
    step(PROJECT_WORKFLOW, application, "fail_acceptance", people.inspector, comment="接地未整改")
    assert reload(application).stage == Stage.CONSTRUCTION


# ---------------------------------------------------------------------------
# ENG-14: contract signed before metering and power-on
# ---------------------------------------------------------------------------

def test_eng_14_power_on_refused_without_a_contract(ctx, people):
    application = to_accepted(people, requested_capacity=500)
    with pytest.raises(TransitionRefused) as error:
        step(PROJECT_WORKFLOW, application, "power_on", people.marketing)
    assert "contract" in str(error.value.message)
    with pytest.raises(InvalidInput):
        with acting_as(people.marketing.get()):
            svc.sign_contract(application.id, people.marketing.get(), application.version,
                              "", TODAY)
    with pytest.raises(PermissionRefused):
        svc.sign_contract(application.id, people.window.get(), application.version, "GY-1", TODAY)
    power = open_deadlines(application, "eng_power_on")[0]
    assert power.days == 5 and power.working_days  # high voltage: 5 working days
    application = sign(people, application)
    step(PROJECT_WORKFLOW, application, "power_on", people.marketing)
    application = reload(application)
    assert application.stage == Stage.POWERED and application.power_on_at
    assert db.session.get(Deadline, power.id).status == DeadlineStatus.MET


def test_eng_14_contract_only_after_acceptance(ctx, people):
    application = start_works(people, to_construction(people, requested_capacity=500))
    with pytest.raises(PermissionRefused):
        svc.sign_contract(application.id, people.marketing.get(), application.version, "GY-1",
                          TODAY)
    pass_inspection(people, application)
    step(PROJECT_WORKFLOW, application, "request_acceptance", people.window)
    application = reload(application)
    assert application.stage == Stage.ACCEPTANCE  # requested, not yet accepted
    with pytest.raises(PermissionRefused):
        svc.sign_contract(application.id, people.marketing.get(), application.version, "GY-1",
                          TODAY)


# ---------------------------------------------------------------------------
# ENG-15: residential lighting: meter notice within 1 day, power within 2
# ---------------------------------------------------------------------------

RESIDENTIAL = dict(voltage_level="0.22kV", requested_capacity=8, capacity_unit="kW",
                   residential_lighting=True, load_nature="residential",
                   customer_name="张秀英", address="杭州市西湖区文三路12号3幢2单元501室")


def test_eng_15_residential_meter_notice_then_power(ctx, people):
    application = to_accepted(people, **RESIDENTIAL)
    notice = open_deadlines(application, "eng_meter_notice")[0]
    power = open_deadlines(application, "eng_power_on")[0]
    assert (notice.days, notice.working_days) == (1, False)
    assert (power.days, power.working_days) == (2, False)
    application = sign(people, application)
    with pytest.raises(TransitionRefused) as error:
        step(PROJECT_WORKFLOW, application, "power_on", people.marketing)
    assert "meter-install" in str(error.value.message)
    with acting_as(people.marketing.get()):
        svc.issue_meter_notice(application.id, people.marketing.get(), application.version)
    assert db.session.get(Deadline, notice.id).status == DeadlineStatus.MET
    application = reload(application)
    with pytest.raises(PermissionRefused):  # only once
        svc.issue_meter_notice(application.id, people.marketing.get(), application.version)
    step(PROJECT_WORKFLOW, application, "power_on", people.marketing)
    assert db.session.get(Deadline, power.id).status == DeadlineStatus.MET


# ---------------------------------------------------------------------------
# ENG-16: on-site check within a month of power-on
# ---------------------------------------------------------------------------

def test_eng_16_site_check_within_a_month(ctx, people):
    application = sign(people, to_accepted(people, requested_capacity=500))
    step(PROJECT_WORKFLOW, application, "power_on", people.marketing)
    check = open_deadlines(reload(application), "eng_site_check")[0]
    assert (check.days, check.working_days, check.assignee_role) == (30, False, "Inspector")
    with pytest.raises(TransitionRefused):
        step(PROJECT_WORKFLOW, application, "site_check", people.marketing, comment="x")
    with pytest.raises(InvalidInput):
        step(PROJECT_WORKFLOW, application, "site_check", people.inspector)
    step(PROJECT_WORKFLOW, application, "site_check", people.inspector,
         comment="计量装置运行正常，用电情况与合同一致")
    application = reload(application)
    assert application.stage == Stage.COMPLETED and application.checked_at
    assert "计量" in application.check_findings
    assert db.session.get(Deadline, check.id).status == DeadlineStatus.MET


# ---------------------------------------------------------------------------
# ENG-17: time limits tracked; overdue shown; working days across a holiday
# ---------------------------------------------------------------------------

def test_eng_17_deadline_across_national_day(ctx):
    from app.deadlines import add_working_days, seed_calendar
    from app.timeutil import to_local

    seed_calendar()
    # Application passed on Wednesday 2026-09-30: National Day runs 10-01..10-07 and
    # Saturday 10-10 is a make-up working day (调休).
    start = datetime.datetime(2026, 9, 30, 2, 0)  # 10:00 Beijing time
    due = to_local(add_working_days(start, 15))
    # Working days after 09-30: 10-08, 10-09, 10-10 (make-up), 10-12..16, 10-19..23,
    # 10-26, 10-27: the 15th is 10-27 (a plain weekday count would give 10-21).
    assert due.date() == datetime.date(2026, 10, 27)
    assert to_local(add_working_days(start, 5)).date() == datetime.date(2026, 10, 13)
    assert to_local(add_working_days(start, 1)).date() == datetime.date(2026, 10, 8)


def test_eng_17_timeline_and_overdue(ctx, people):
    application = to_planning(people)
    reply = open_deadlines(application, "eng_plan_reply")[0]
    timeline = svc.project_timeline(application)
    assert [row["status"] for row in timeline][:3] == ["done", "current", "pending"]
    planning = timeline[1]
    assert planning["deadlines"][0]["who"] and not planning["deadlines"][0]["overdue"]
    ids = set(db.session.scalars(svc.overdue_application_ids()))
    assert application.id not in ids
    later = reply.due_at + datetime.timedelta(minutes=1)
    assert application.id in set(db.session.scalars(svc.overdue_application_ids(later)))
    assert svc.project_timeline(application, now=later)[1]["deadlines"][0]["overdue"]
    figures = svc.deadline_figures(people.gm.get(), now=later)
    assert figures["eng_plan_reply"]["open"] == 1 and figures["eng_plan_reply"]["overdue"] == 1
    assert svc.deadline_figures(people.station.get())["eng_plan_reply"]["open"] == 0
    assert dict((stage, count) for stage, _label, count in
                svc.stage_counts(people.gm.get()))[Stage.PLANNING] == 1
    # Withdrawing cancels what was open.
    step(PROJECT_WORKFLOW, application, "withdraw", people.window, comment="客户取消")
    assert db.session.get(Deadline, reply.id).status == DeadlineStatus.CANCELLED
    assert reload(application).responsible_unit == "none"


def test_eng_17_station_staff_see_only_station_projects(ctx, people):
    from app.security.visibility import can_see, visible_query

    small = register(people, **RESIDENTIAL)
    large = register(people)
    station = people.station.get()
    assert can_see(station, small) and not can_see(station, large)
    rows = visible_query(db.session.query(PowerApplication), PowerApplication, station).all()
    assert [row.id for row in rows] == [small.id]
    with pytest.raises(RecordNotVisible):
        svc.request_plan_change(large.id, station, "x")


def test_eng_05_route_command_explains_the_conversion(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["projects", "route", "0.22kV", "10", "kVA"])
    assert result.exit_code == 0, result.output
    assert "9 kW" in result.output and "SupplyStation" in result.output
    result = runner.invoke(args=["projects", "route", "10kV", "900", "kW"])
    assert "1000 kVA" in result.output and "CityCompany" in result.output


def test_eng_17_overdue_command(ctx, people):
    application = to_planning(people, customer_name="逾期客户")
    deadline = open_deadlines(application, "eng_plan_reply")[0]
    deadline.due_at = datetime.datetime(2020, 1, 1)
    db.session.commit()
    result = ctx.test_cli_runner().invoke(args=["projects", "overdue"])
    assert result.exit_code == 0, result.output
    assert application.number in result.output and "1 project(s) overdue." in result.output
