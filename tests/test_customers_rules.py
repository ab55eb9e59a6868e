"""Customer information and archives (CUS-01 to CUS-11): the services and workflows.

Refusals are covered as carefully as the happy path: wrong role, wrong state,
self-approval, a second decision, stale versions, bad input, invisible
records, expired permissions, destruction before the retention period ends.
"""
import datetime
import os

import pytest

from app.audit.context import acting_as
from app.extensions import db
from app.models.base import utcnow
from app.models.customers import (
    ArchiveCategory, ArchiveFile, ArchiveFiling, ArchiveLoan, ArchiveStatus, Channel, Customer,
    DailyRegistration, DestructionStatus, GrantScope, Intention, LoanStatus, OwnershipConflict,
    RegistrationEntry, RouteReason,
)
from app.models.notifications import Notification
from app.models.org import DutyAssignment, DutyKind
from app.services import customers as service
from app.services.errors import (
    InvalidInput, PermissionRefused, RecordNotVisible, StaleVersion, TransitionRefused,
)
from app.services.settings import set_setting
from app.services.workflow import take_step
from app.timeutil import to_utc_naive
from app.workflows.customers import (
    ARCHIVE_WORKFLOW, DESTRUCTION_WORKFLOW, LOAN_WORKFLOW, REGISTRATION_WORKFLOW,
)


# ---------------------------------------------------------------------------
# Fixtures and helpers (also used by test_customers_views.py)
# ---------------------------------------------------------------------------

@pytest.fixture
def people(make_user):
    gm = make_user("GeneralManager", username="gm", display_name="张伟")
    head = make_user("SalesHead", username="head", supervisor=gm, display_name="黄燕")
    return {
        "gm": gm,
        "head": head,
        "majie": make_user("SalesManager", username="majie", supervisor=head, display_name="马杰"),
        "liqiang": make_user("SalesManager", username="liqiang", supervisor=head, display_name="李强"),
        "custodian": make_user("ArchiveCustodian", username="custodian", display_name="杨慧"),
        "auditor": make_user("Auditor", username="auditor", display_name="唐宁"),
        "desk": make_user("FrontDesk", username="desk", display_name="王芳"),
    }


def local(day, hour, minute=0, second=0):
    return to_utc_naive(datetime.datetime.combine(day, datetime.time(hour, minute, second)))


def today():
    from app.deadlines import local_today

    return local_today()


def user(ref):
    return ref.get()


def make_form(ref, day=None, lines=(), submit=True):
    """A registration form of ``ref`` with ``lines`` (dicts), optionally submitted now."""
    actor = user(ref)
    with acting_as(actor):
        form = service.create_registration(actor, day or today())
        for fields in lines:
            registered_at = fields.pop("registered_at", None)
            entry = service.add_entry(form.id, actor, **{
                "channel": Channel.CALL, "intention": Intention.NONE, **fields})
            if registered_at is not None:
                entry.registered_at = registered_at
                db.session.commit()
        if submit:
            step(REGISTRATION_WORKFLOW, form, "submit", ref)
    return db.session.get(DailyRegistration, form.id)


def step(workflow, record, action, ref, comment=None, version=None, **payload):
    actor = user(ref)
    db.session.refresh(record)
    with acting_as(actor):
        return take_step(workflow, record.id, action, actor,
                         record.version if version is None else version,
                         comment=comment, payload=payload)


def archive_of(name):
    return (db.session.query(ArchiveFile).join(ArchiveFile.customer)
            .filter(Customer.name == name).one())


def intended_line(name="赵建国", phone="13891234567", **extra):
    return {"customer_name": name, "phone": phone, "intention": Intention.BUY, **extra}


def closed_archive(people, years_ago, name="刘德明", phone="13309190001", days_back=1):
    """A closed archive of majie's, closed ``years_ago`` years before today."""
    make_form(people["majie"], today() - datetime.timedelta(days=days_back),
              lines=[intended_line(name, phone)])
    archive = archive_of(name)
    with acting_as(user(people["custodian"])):
        archive.status = ArchiveStatus.CLOSED
        archive.closed_on = today().replace(year=today().year - years_ago) - datetime.timedelta(days=1)
        db.session.commit()
    return archive


def notifications_of(ref):
    return db.session.query(Notification).filter_by(user_id=ref.id).all()


# ---------------------------------------------------------------------------
# CUS-01: daily registration form, due 10:00 the next morning
# ---------------------------------------------------------------------------

def test_cus_01_ten_oclock_next_morning_is_on_time_one_second_later_is_late(ctx, people):
    day = datetime.date(2026, 3, 10)
    assert service.registration_due_at(day) == local(datetime.date(2026, 3, 11), 10)
    assert not service.is_late_submission(day, local(datetime.date(2026, 3, 10), 23, 59, 59))
    assert not service.is_late_submission(day, local(datetime.date(2026, 3, 11), 10, 0, 0))
    assert service.is_late_submission(day, local(datetime.date(2026, 3, 11), 10, 0, 1))
    # 10:00 local is 02:00 UTC in Asia/Shanghai.
    assert service.registration_due_at(day) == datetime.datetime(2026, 3, 11, 2, 0, 0)


def test_cus_01_cutoff_hour_is_configurable(ctx, people):
    day = datetime.date(2026, 3, 10)
    with acting_as(user(people["gm"])):
        set_setting("CUS_REGISTRATION_CUTOFF_HOUR", 12)
    assert not service.is_late_submission(day, local(datetime.date(2026, 3, 11), 11, 30))
    assert service.is_late_submission(day, local(datetime.date(2026, 3, 11), 12, 0, 1))


def test_cus_01_submission_marks_late_forms(ctx, people):
    on_time = make_form(people["majie"], today(), [intended_line()])
    assert on_time.status == "submitted" and on_time.late is False
    assert on_time.submitted_at is not None
    old = make_form(people["majie"], today() - datetime.timedelta(days=2), [])
    assert old.late is True


def test_cus_01_refusals(ctx, people):
    majie, liqiang = user(people["majie"]), user(people["liqiang"])
    with acting_as(majie):
        with pytest.raises(InvalidInput):
            service.create_registration(majie, today() + datetime.timedelta(days=1))
        form = service.create_registration(majie, today())
        with pytest.raises(InvalidInput) as duplicate:
            service.create_registration(majie, today())
        assert "form_date" in duplicate.value.errors
    with acting_as(user(people["custodian"])), pytest.raises(PermissionRefused):
        service.create_registration(user(people["custodian"]), today())
    # Only the form's manager submits it; the other manager cannot even see it.
    with pytest.raises(RecordNotVisible):
        step(REGISTRATION_WORKFLOW, form, "submit", people["liqiang"])
    with pytest.raises(TransitionRefused):
        step(REGISTRATION_WORKFLOW, form, "submit", people["custodian"])
    with pytest.raises(StaleVersion):
        step(REGISTRATION_WORKFLOW, form, "submit", people["majie"], version=form.version + 1)
    step(REGISTRATION_WORKFLOW, form, "submit", people["majie"])
    # Submitted: no second submission, no new lines.
    with pytest.raises(TransitionRefused):
        step(REGISTRATION_WORKFLOW, form, "submit", people["majie"])
    with acting_as(majie), pytest.raises(PermissionRefused):
        service.add_entry(form.id, majie, channel=Channel.CALL, customer_name="新客户")
    with acting_as(liqiang), pytest.raises(RecordNotVisible):
        service.add_entry(form.id, liqiang, channel=Channel.CALL, customer_name="新客户")


# ---------------------------------------------------------------------------
# CUS-02: intended = contact + buying/leasing intention
# ---------------------------------------------------------------------------

def test_cus_02_intended_needs_contact_and_intention(ctx, people):
    majie = user(people["majie"])
    with acting_as(majie):
        form = service.create_registration(majie, today())
        with pytest.raises(InvalidInput) as no_phone:
            service.add_entry(form.id, majie, channel=Channel.VISIT, customer_name="无电话",
                              intention=Intention.BUY, intended=True)
        assert "intended" in no_phone.value.errors
        with pytest.raises(InvalidInput) as no_intention:
            service.add_entry(form.id, majie, channel=Channel.VISIT, customer_name="无意向",
                              phone="13800001111", intention=Intention.NONE, intended=True)
        assert "intended" in no_intention.value.errors
        with pytest.raises(InvalidInput):
            service.add_entry(form.id, majie, channel=Channel.CALL, customer_name="坏号码",
                              phone="12")
        entry = service.add_entry(form.id, majie, channel=Channel.CALL, customer_name="租客",
                                  phone="13800001111", intention=Intention.LEASE)
        assert entry.intended is True
        plain = service.add_entry(form.id, majie, channel=Channel.CALL, customer_name="路人",
                                  phone="13800002222")
        assert plain.intended is False


# ---------------------------------------------------------------------------
# CUS-03: ownership conflicts
# ---------------------------------------------------------------------------

def test_cus_03_same_phone_goes_to_the_earlier_registration(ctx, people):
    day = today()
    make_form(people["majie"], day, [intended_line(registered_at=local(day, 9))])
    make_form(people["liqiang"], day, [intended_line(phone="+86 138-9123-4567",
                                                     registered_at=local(day, 11))])
    customers = db.session.query(Customer).all()
    assert len(customers) == 1
    assert customers[0].owner_id == people["majie"].id
    conflict = db.session.query(OwnershipConflict).one()
    assert conflict.matched_on == "phone"
    assert conflict.outcome == "kept"
    assert conflict.owner_id == people["majie"].id and conflict.claimant_id == people["liqiang"].id
    assert "马杰" in conflict.resolution
    # The other manager is told.
    assert any("赵建国" in n.subject for n in notifications_of(people["liqiang"]))
    assert not notifications_of(people["majie"]) or all(
        "赵建国" not in n.subject for n in notifications_of(people["majie"]))


def test_cus_03_earlier_registration_submitted_later_takes_the_customer(ctx, people):
    day = today()
    make_form(people["liqiang"], day, [intended_line("秦川物流", "02986541230",
                                                     company_name="陕西秦川物流股份有限公司",
                                                     kind="company",
                                                     registered_at=local(day, 11))])
    # majie registered it at 08:30 but submits afterwards; matched on the company name.
    make_form(people["majie"], day, [intended_line("秦川物流公司", "02986541299",
                                                   company_name="陕西秦川物流有限公司",
                                                   kind="company",
                                                   registered_at=local(day, 8, 30))])
    customer = db.session.query(Customer).one()
    assert customer.owner_id == people["majie"].id
    assert customer.owned_since == local(day, 8, 30)
    conflict = db.session.query(OwnershipConflict).one()
    assert conflict.matched_on == "company" and conflict.outcome == "transferred"
    # The archive follows its owner; the previous owner is told.
    assert archive_of("秦川物流").manager_id == people["majie"].id
    assert any("秦川物流" in n.subject for n in notifications_of(people["liqiang"]))


def test_cus_03_id_number_match_and_normalisation(ctx, people):
    assert service.normalise_phone("+86 138-9123-4567") == "13891234567"
    assert service.normalise_phone("0086 13891234567") == "13891234567"
    assert service.normalise_phone("029-8823 1234") == "02988231234"
    assert service.normalise_phone("123") is None
    assert service.normalise_id(" 610102 19800101 123x ") == "61010219800101123X"
    assert service.normalise_company("西安博远科技有限公司") == service.normalise_company(
        "西安博远科技（有限公司）".replace("（", "").replace("）", "")) == "西安博远科技"
    day = today()
    make_form(people["majie"], day, [{"customer_name": "甲", "id_number": "61010219800101123x",
                                      "registered_at": local(day, 9)}])
    make_form(people["liqiang"], day, [{"customer_name": "甲先生", "id_number": "61010219800101123X",
                                        "registered_at": local(day, 10)}])
    assert db.session.query(Customer).count() == 1
    assert db.session.query(OwnershipConflict).one().matched_on == "id_number"


def test_cus_03_own_repeat_registration_is_no_conflict(ctx, people):
    day = today()
    make_form(people["majie"], day - datetime.timedelta(days=1), [intended_line()])
    make_form(people["majie"], day, [intended_line()])
    assert db.session.query(Customer).count() == 1
    assert db.session.query(OwnershipConflict).count() == 0


# ---------------------------------------------------------------------------
# CUS-04: reception routing
# ---------------------------------------------------------------------------

def test_cus_04_reception_routes_named_duty_and_referral(ctx, people):
    desk = user(people["desk"])
    with acting_as(user(people["head"])):
        db.session.add(DutyAssignment(duty_date=today(), duty_kind=DutyKind.SALES_RECEPTION,
                                      user_id=people["liqiang"].id))
        db.session.commit()
    with acting_as(desk):
        named = service.route_visitor(desk, "钱丽华", named_manager=user(people["majie"]))
        new = service.route_visitor(desk, "冯立新")
        referral = service.route_visitor(desk, "韩梅", is_referral=True, referrer="周海燕",
                                         named_manager=user(people["majie"]))
        unnamed_referral = service.route_visitor(desk, "韩雪", is_referral=True, referrer="周海燕")
    assert (named.routed_to_id, named.reason) == (people["majie"].id, RouteReason.NAMED)
    assert (new.routed_to_id, new.reason) == (people["liqiang"].id, RouteReason.ON_DUTY)
    assert (referral.routed_to_id, referral.reason) == (people["majie"].id, RouteReason.REFERRAL_NAMED)
    assert unnamed_referral.routed_to_id == people["liqiang"].id
    assert any("冯立新" in n.subject for n in notifications_of(people["liqiang"]))


def test_cus_04_refusals_and_nobody_on_duty(ctx, people):
    desk = user(people["desk"])
    with acting_as(desk):
        with pytest.raises(InvalidInput):
            service.route_visitor(desk, "某人", named_manager=user(people["custodian"]))
        with pytest.raises(InvalidInput):
            service.route_visitor(desk, "介绍来的", is_referral=True)
        with pytest.raises(InvalidInput):
            service.route_visitor(desk, "  ")
        visit = service.route_visitor(desk, "无人值班")
    assert visit.routed_to_id is None and visit.reason == RouteReason.NOBODY_ON_DUTY
    assert any("无人值班" in n.subject for n in notifications_of(people["head"]))


# ---------------------------------------------------------------------------
# CUS-05: intermediary and referrer
# ---------------------------------------------------------------------------

def test_cus_05_intermediary_and_referrer_recorded(ctx, people):
    majie = user(people["majie"])
    with acting_as(majie):
        form = service.create_registration(majie, today())
        with pytest.raises(InvalidInput) as missing:
            service.add_entry(form.id, majie, channel=Channel.VISIT, customer_name="甲",
                              has_intermediary=True)
        assert "intermediary" in missing.value.errors
        with pytest.raises(InvalidInput) as no_referrer:
            service.add_entry(form.id, majie, channel=Channel.REFERRAL, customer_name="乙")
        assert "referrer" in no_referrer.value.errors
        entry = service.add_entry(form.id, majie, channel=Channel.VISIT, customer_name="丙",
                                  intermediary="链家高新店 刘经理")
        assert entry.has_intermediary is True
        referred = service.add_entry(form.id, majie, channel=Channel.REFERRAL,
                                     customer_name="丁", referrer="赵建国")
        assert referred.referrer == "赵建国"


# ---------------------------------------------------------------------------
# CUS-06: confidentiality with time-limited permission
# ---------------------------------------------------------------------------

def test_cus_06_managers_see_only_their_own_customers(ctx, people):
    from app.security.visibility import can_see, ensure_visible

    form = make_form(people["majie"], lines=[intended_line()])
    archive = archive_of("赵建国")
    customer = archive.customer
    for record in (form, archive, customer, form.entries[0]):
        assert can_see(user(people["majie"]), record)
        assert can_see(user(people["custodian"]), record)
        assert can_see(user(people["gm"]), record)
        assert not can_see(user(people["liqiang"]), record)
        assert not can_see(user(people["head"]), record)
        assert not can_see(user(people["auditor"]), record)
    with pytest.raises(RecordNotVisible):
        ensure_visible(user(people["liqiang"]), archive)
    query = db.session.query(ArchiveFile)
    from app.security.visibility import visible_query

    assert visible_query(query, ArchiveFile, user(people["liqiang"])).count() == 0
    assert visible_query(query, ArchiveFile, user(people["custodian"])).count() == 1


def test_cus_06_grant_is_time_limited_and_only_from_the_general_manager(ctx, people):
    from app.security.visibility import can_see

    make_form(people["majie"], lines=[intended_line()])
    archive = archive_of("赵建国")
    head, gm = user(people["head"]), user(people["gm"])
    now = utcnow()
    with acting_as(user(people["custodian"])), pytest.raises(PermissionRefused):
        service.grant_access(user(people["custodian"]), head, now + datetime.timedelta(days=1),
                             "核查", archive=archive)
    with acting_as(gm):
        with pytest.raises(InvalidInput):
            service.grant_access(gm, head, now + datetime.timedelta(days=400), "太长",
                                 archive=archive)
        with pytest.raises(InvalidInput):
            service.grant_access(gm, head, now - datetime.timedelta(days=1), "过去", archive=archive)
        with pytest.raises(InvalidInput):
            service.grant_access(gm, head, now + datetime.timedelta(days=1), "", archive=archive)
        grant = service.grant_access(gm, head, now + datetime.timedelta(days=1), "核查客户冲撞",
                                     scope=GrantScope.ARCHIVE, archive=archive)
    assert can_see(user(people["head"]), archive_of("赵建国"))
    # Another archive stays closed to the grantee.
    make_form(people["liqiang"], lines=[intended_line("钱丽华", "15829334455")])
    assert not can_see(user(people["head"]), archive_of("钱丽华"))
    # Expired: no longer visible.
    with acting_as(gm):
        grant.valid_until = utcnow() - datetime.timedelta(seconds=1)
        db.session.commit()
    assert not can_see(user(people["head"]), archive_of("赵建国"))
    # Revoked: no longer visible either, and only once.
    with acting_as(gm):
        again = service.grant_access(gm, head, utcnow() + datetime.timedelta(hours=2), "再次核查",
                                     scope=GrantScope.ALL)
    assert can_see(user(people["head"]), archive_of("钱丽华"))
    with acting_as(user(people["head"])), pytest.raises((PermissionRefused, RecordNotVisible)):
        service.revoke_grant(again.id, user(people["head"]), again.version)
    with acting_as(gm):
        with pytest.raises(StaleVersion):
            service.revoke_grant(again.id, gm, again.version + 5)
        service.revoke_grant(again.id, gm, again.version)
    assert not can_see(user(people["head"]), archive_of("钱丽华"))


def test_cus_06_every_read_is_recorded(ctx, people):
    from app.models.audit import AuditLog

    form = make_form(people["majie"], lines=[intended_line()])
    with acting_as(user(people["custodian"])):
        service.record_read(form, "page")
    entry = db.session.query(AuditLog).filter_by(action="read",
                                                 table_name="cus_daily_registration").one()
    assert entry.actor_id == people["custodian"].id and entry.row_id == str(form.id)


# ---------------------------------------------------------------------------
# CUS-07: archive, tracking log, credentials, month-end filing
# ---------------------------------------------------------------------------

def test_cus_07_intended_customer_gets_an_archive_filed_each_month(ctx, people):
    make_form(people["majie"], lines=[intended_line(), {"customer_name": "路人", "phone": "13800002222"}])
    archives = db.session.query(ArchiveFile).all()
    assert [a.customer.name for a in archives] == ["赵建国"]
    archive = archives[0]
    assert archive.manager_id == people["majie"].id and archive.status == ArchiveStatus.ACTIVE
    with acting_as(user(people["majie"])):
        service.add_tracking(archive.id, user(people["majie"]), manner="电话",
                             content="约周六看房", next_step="带看样板间")
    step(ARCHIVE_WORKFLOW, archive, "file", people["majie"])
    filing = db.session.query(ArchiveFiling).one()
    assert filing.period == service.period_of(today()) and filing.late is False
    assert "约周六看房" in filing.snapshot
    assert archive_of("赵建国").status == ArchiveStatus.ACTIVE


def test_cus_07_missed_month_end_filing_is_late(ctx, people):
    make_form(people["majie"], lines=[intended_line()])
    archive = archive_of("赵建国")
    with acting_as(user(people["majie"])):
        archive.opened_on = today().replace(day=1) - datetime.timedelta(days=20)
        db.session.commit()
    step(ARCHIVE_WORKFLOW, archive, "file", people["majie"])
    filing = db.session.query(ArchiveFiling).one()
    assert filing.period == service.previous_period(service.period_of(today()))
    assert filing.late is True


def test_cus_07_refusals(ctx, people):
    from app.services.attachments import add_attachment
    from werkzeug.datastructures import FileStorage
    import io

    make_form(people["majie"], lines=[intended_line()])
    archive = archive_of("赵建国")
    liqiang = user(people["liqiang"])
    with acting_as(liqiang):
        with pytest.raises(RecordNotVisible):
            service.add_tracking(archive.id, liqiang, content="偷看")
        with pytest.raises(RecordNotVisible):
            add_attachment(archive, FileStorage(io.BytesIO(b"%PDF-1.4 x"), "licence.pdf"),
                           "business_licence", liqiang)
    with pytest.raises(TransitionRefused):
        step(ARCHIVE_WORKFLOW, archive, "file", people["custodian"])
    with acting_as(user(people["majie"])), pytest.raises(InvalidInput):
        service.add_tracking(archive.id, user(people["majie"]), content=" ")
    with acting_as(user(people["majie"])), pytest.raises(InvalidInput):
        add_attachment(archive, FileStorage(io.BytesIO(b"%PDF-1.4 x"), "x.pdf"), "photo",
                       user(people["majie"]))


# ---------------------------------------------------------------------------
# CUS-08: closed-deal and not-closed archives kept apart
# ---------------------------------------------------------------------------

def test_cus_08_closing_sorts_into_closed_deal_or_not_closed(ctx, people):
    make_form(people["majie"], lines=[intended_line(), intended_line("钱丽华", "15829334455")])
    won, lost = archive_of("赵建国"), archive_of("钱丽华")
    step(ARCHIVE_WORKFLOW, won, "close_deal", people["majie"], comment="签约")
    with pytest.raises(InvalidInput):
        step(ARCHIVE_WORKFLOW, lost, "close_not_closed", people["majie"])
    step(ARCHIVE_WORKFLOW, lost, "close_not_closed", people["majie"], comment="客户放弃")
    won, lost = archive_of("赵建国"), archive_of("钱丽华")
    assert (won.category, won.status, won.closed_on) == (ArchiveCategory.CLOSED_DEAL,
                                                         ArchiveStatus.CLOSED, today())
    assert (lost.category, lost.status) == (ArchiveCategory.NOT_CLOSED, ArchiveStatus.CLOSED)
    # Closing files a final snapshot; a closed archive is not edited any more.
    assert db.session.query(ArchiveFiling).count() == 2
    with pytest.raises(TransitionRefused):
        step(ARCHIVE_WORKFLOW, won, "file", people["majie"])
    with acting_as(user(people["majie"])), pytest.raises(PermissionRefused):
        service.add_tracking(won.id, user(people["majie"]), content="签约后回访")


# ---------------------------------------------------------------------------
# CUS-09: lending
# ---------------------------------------------------------------------------

def _loan(people, borrower="liqiang", days=5):
    make_form(people["majie"], lines=[intended_line()])
    archive = archive_of("赵建国")
    actor = user(people[borrower])
    with acting_as(actor):
        return service.apply_loan(actor, [archive], "核对登记时间",
                                  today() + datetime.timedelta(days=days))


def test_cus_09_loan_from_application_to_return(ctx, people):
    from app.security.visibility import can_see

    loan = _loan(people)
    assert any("review" in (n.subject or "").lower() or "审核" in (n.subject or "")
               for n in notifications_of(people["head"]))
    assert not can_see(user(people["liqiang"]), archive_of("赵建国"))
    step(LOAN_WORKFLOW, loan, "review", people["head"])
    step(LOAN_WORKFLOW, loan, "approve", people["gm"])
    step(LOAN_WORKFLOW, loan, "issue", people["custodian"])
    loan = db.session.get(ArchiveLoan, loan.id)
    assert loan.status == LoanStatus.ISSUED and loan.register_no.startswith("JY")
    assert loan.due_on == today() + datetime.timedelta(days=5)
    # While issued, the borrower may read the archive lent.
    assert can_see(user(people["liqiang"]), archive_of("赵建国"))
    step(LOAN_WORKFLOW, loan, "return", people["custodian"])
    loan = db.session.get(ArchiveLoan, loan.id)
    assert loan.status == LoanStatus.RETURNED and loan.returned_at is not None
    assert not can_see(user(people["liqiang"]), archive_of("赵建国"))
    assert [s.action for s in LOAN_WORKFLOW.history(loan)] == ["review", "approve", "issue", "return"]


def test_cus_09_no_skipping_no_self_approval_no_second_decision(ctx, people, make_user):
    loan = _loan(people)
    # GM before the department head.
    with pytest.raises(TransitionRefused):
        step(LOAN_WORKFLOW, loan, "approve", people["gm"])
    # Custodian cannot issue before approval; wrong role cannot review.
    with pytest.raises(TransitionRefused):
        step(LOAN_WORKFLOW, loan, "issue", people["custodian"])
    with pytest.raises(TransitionRefused):
        step(LOAN_WORKFLOW, loan, "review", people["custodian"])
    with pytest.raises(StaleVersion):
        step(LOAN_WORKFLOW, loan, "review", people["head"], version=loan.version + 1)
    step(LOAN_WORKFLOW, loan, "review", people["head"])
    # A second review of the same step.
    with pytest.raises(TransitionRefused):
        step(LOAN_WORKFLOW, loan, "review", people["head"])
    # Someone holding both roles cannot approve what they reviewed.
    both = make_user("SalesHead", "GeneralManager", username="both")
    loan2 = _loan_for(people, "majie")
    step(LOAN_WORKFLOW, loan2, "review", both)
    with pytest.raises(TransitionRefused):
        step(LOAN_WORKFLOW, loan2, "approve", both)
    # The applicant cannot approve their own loan.
    own = _loan_for(people, "head")
    with pytest.raises(TransitionRefused) as refused:
        step(LOAN_WORKFLOW, own, "review", people["head"])
    assert "own" in str(refused.value.message).lower() or "自己" in str(refused.value.message)


def _loan_for(people, borrower):
    archive = db.session.query(ArchiveFile).first()
    actor = user(people[borrower])
    with acting_as(actor):
        return service.apply_loan(actor, [archive], "复核", today() + datetime.timedelta(days=3))


def test_cus_09_bad_applications_refused(ctx, people):
    make_form(people["majie"], lines=[intended_line()])
    archive = archive_of("赵建国")
    actor = user(people["liqiang"])
    with acting_as(actor):
        with pytest.raises(InvalidInput):
            service.apply_loan(actor, [], "无档案", today())
        with pytest.raises(InvalidInput):
            service.apply_loan(actor, [archive], "", today())
        with pytest.raises(InvalidInput):
            service.apply_loan(actor, [archive], "过期", today() - datetime.timedelta(days=1))
        with pytest.raises(InvalidInput):
            service.apply_loan(actor, [archive], "太久", today() + datetime.timedelta(days=90))


def test_cus_09_overdue_loan_reminds_borrower_and_custodian(ctx, people):
    from app import deadlines

    loan = _loan(people, days=0)
    for action, who in (("review", "head"), ("approve", "gm"), ("issue", "custodian")):
        step(LOAN_WORKFLOW, loan, action, people[who])
    deadlines.scan(now=utcnow() + datetime.timedelta(days=2))
    for who in ("liqiang", "custodian"):
        assert any("JY" in (n.body or "") or "JY" in n.subject for n in notifications_of(people[who])), who
    # Returned: the deadlines close.
    step(LOAN_WORKFLOW, loan, "return", people["custodian"])
    assert not deadlines.deadline_query(record_table="cus_archive_loan", record_id=loan.id,
                                        status="open").all()


# ---------------------------------------------------------------------------
# CUS-10: destruction after the retention period, with its record
# ---------------------------------------------------------------------------

def test_cus_10_destruction_refused_before_ten_years(ctx, people):
    archive = closed_archive(people, 9)
    custodian = user(people["custodian"])
    with acting_as(custodian), pytest.raises(PermissionRefused) as refused:
        service.apply_destruction(custodian, archive, "到期销毁")
    assert "kept until" in str(refused.value.message) or "保管" in str(refused.value.message)
    # An archive still followed up cannot be destroyed either.
    make_form(people["majie"], lines=[intended_line()])
    with acting_as(custodian), pytest.raises(PermissionRefused):
        service.apply_destruction(custodian, archive_of("赵建国"), "到期销毁")
    # Only the custodian applies.
    old = closed_archive(people, 11, name="老客户", phone="13309190002", days_back=2)
    with acting_as(user(people["majie"])), pytest.raises(PermissionRefused):
        service.apply_destruction(user(people["majie"]), old, "到期销毁")


def test_cus_10_destruction_chain_purges_content_and_keeps_the_record(ctx, people, app):
    from app.services.attachments import add_attachment
    from werkzeug.datastructures import FileStorage
    import io

    archive = closed_archive(people, 11)
    custodian = user(people["custodian"])
    with acting_as(custodian):
        db.session.refresh(archive)
        archive.address = "西安市雁塔区科技路48号"
        db.session.commit()
        attachment = add_attachment(archive, FileStorage(io.BytesIO(b"%PDF-1.4 id copy"),
                                                         "身份证复印件.pdf"), "id_card", custodian)
        from app.services.attachments import storage_path

        stored = storage_path(attachment.storage_key)
        assert os.path.exists(stored)
        item = service.apply_destruction(custodian, archive, "保管期满")
        with pytest.raises(InvalidInput):
            service.apply_destruction(custodian, archive, "重复申请")
    # GM before the department head; applicant cannot review own application.
    with pytest.raises(TransitionRefused):
        step(DESTRUCTION_WORKFLOW, item, "approve", people["gm"])
    with pytest.raises(TransitionRefused):
        step(DESTRUCTION_WORKFLOW, item, "review", people["custodian"])
    step(DESTRUCTION_WORKFLOW, item, "review", people["head"])
    with pytest.raises(TransitionRefused):
        step(DESTRUCTION_WORKFLOW, item, "review", people["head"])
    with pytest.raises(TransitionRefused):
        step(DESTRUCTION_WORKFLOW, item, "destroy", people["custodian"], method="粉碎")
    step(DESTRUCTION_WORKFLOW, item, "approve", people["gm"])
    with pytest.raises(InvalidInput) as incomplete:
        step(DESTRUCTION_WORKFLOW, item, "destroy", people["custodian"], method="粉碎")
    assert {"executor", "witness"} <= set(incomplete.value.errors)
    with pytest.raises(InvalidInput):
        step(DESTRUCTION_WORKFLOW, item, "destroy", people["custodian"], method="粉碎",
             executor="杨慧", witness="杨慧")
    step(DESTRUCTION_WORKFLOW, item, "destroy", people["custodian"], method="碎纸机粉碎",
         executor="杨慧", witness="唐宁", destroyed_on=today().isoformat())
    db.session.expire_all()
    item = db.session.get(type(item), item.id)
    archive = db.session.get(ArchiveFile, archive.id)
    assert item.status == DestructionStatus.DESTROYED
    assert (item.method, item.executor, item.witness, item.destroyed_on) == (
        "碎纸机粉碎", "杨慧", "唐宁", today())
    # Content purged, metadata kept.
    assert archive.status == ArchiveStatus.DESTROYED and archive.address is None
    assert archive.archive_no and archive.closed_on and archive.manager_id == people["majie"].id
    assert archive.customer.name == service.PURGED and archive.customer.phone is None
    assert all(line.phone is None for line in db.session.query(RegistrationEntry))
    assert archive.tracking == []
    assert not os.path.exists(stored)
    from app.models.attachments import Attachment

    kept = db.session.get(Attachment, attachment.id)
    assert kept is not None and kept.storage_key is None and kept.kind == "id_card"
    # Nothing more can be done with it.
    with pytest.raises(TransitionRefused):
        step(ARCHIVE_WORKFLOW, archive, "file", people["majie"])


def test_cus_10_retention_is_rechecked_and_configurable(ctx, people):
    archive = closed_archive(people, 11)
    custodian = user(people["custodian"])
    with acting_as(custodian):
        item = service.apply_destruction(custodian, archive, "保管期满")
    step(DESTRUCTION_WORKFLOW, item, "review", people["head"])
    with acting_as(user(people["gm"])):
        set_setting("CUS_RETENTION_YEARS", 15)
    with pytest.raises(TransitionRefused):
        step(DESTRUCTION_WORKFLOW, item, "approve", people["gm"])


def test_cus_10_x03_no_hard_delete_outside_destruction(ctx, people):
    from app.audit.listener import HardDeleteRefused

    make_form(people["majie"], lines=[intended_line()])
    archive = archive_of("赵建国")
    with acting_as(user(people["custodian"])):
        db.session.delete(archive)
        with pytest.raises(HardDeleteRefused):
            db.session.flush()
        db.session.rollback()
    assert db.session.query(ArchiveFile).count() == 1


# ---------------------------------------------------------------------------
# CUS-11: monthly assessment
# ---------------------------------------------------------------------------

def test_cus_11_late_forms_and_filings_cost_points(ctx, people):
    first_of_month = today().replace(day=1)
    last_month_day = first_of_month - datetime.timedelta(days=10)
    period = service.period_of(last_month_day)
    make_form(people["majie"], last_month_day, [intended_line()])  # submitted now: late
    make_form(people["liqiang"], last_month_day, [], submit=False)  # never submitted: late
    archive = archive_of("赵建国")
    with acting_as(user(people["majie"])):
        archive.opened_on = last_month_day
        db.session.commit()
    rows = {row["manager_name"]: row for row in service.assessment_rows(period)}
    assert rows["马杰"]["late_forms"] == 1 and rows["马杰"]["missed_filings"] == 1
    assert rows["马杰"]["points"] == 4
    assert rows["李强"]["late_forms"] == 1 and rows["李强"]["points"] == 2
    with acting_as(user(people["gm"])):
        set_setting("CUS_POINTS_LATE_FORM", 5)
    step(ARCHIVE_WORKFLOW, archive, "file", people["majie"])  # late filing for last month
    rows = {row["manager_name"]: row for row in service.assessment_rows(period)}
    assert rows["马杰"]["late_filings"] == 1 and rows["马杰"]["missed_filings"] == 0
    assert rows["马杰"]["points"] == 5 + 2
    # A sales manager sees only their own row.
    own = service.assessment_rows(period, user(people["liqiang"]))
    assert [row["manager_name"] for row in own] == ["李强"]


def test_cus_07_month_filing_deadlines_open_once_and_skip_filed_archives(ctx, people):
    from app import deadlines

    make_form(people["majie"], lines=[intended_line(), intended_line("钱丽华", "15829334455")])
    filed = archive_of("赵建国")
    step(ARCHIVE_WORKFLOW, filed, "file", people["majie"])
    period = service.period_of(today())
    for _ in range(2):
        service.open_month_filing_deadlines()
    open_now = deadlines.deadline_query(record_table="cus_archive_file", state=f"filing:{period}",
                                        status="open").all()
    assert [d.record_id for d in open_now] == [archive_of("钱丽华").id]
    assert open_now[0].assignee_id == people["majie"].id
    assert open_now[0].due_at == service.filing_due_at(period)


def test_cus_09_rejection_needs_a_comment_and_the_applicant_may_withdraw(ctx, people):
    loan = _loan(people)
    with pytest.raises(InvalidInput):
        step(LOAN_WORKFLOW, loan, "reject_review", people["head"])
    # Only the borrower withdraws.
    with pytest.raises(TransitionRefused):
        step(LOAN_WORKFLOW, loan, "withdraw", people["head"])
    step(LOAN_WORKFLOW, loan, "review", people["head"])
    with pytest.raises(TransitionRefused):
        step(LOAN_WORKFLOW, loan, "reject_review", people["head"], comment="不同意")
    step(LOAN_WORKFLOW, loan, "reject_approval", people["gm"], comment="用途不明确")
    assert db.session.get(ArchiveLoan, loan.id).status == LoanStatus.REJECTED
    with pytest.raises(TransitionRefused):
        step(LOAN_WORKFLOW, loan, "approve", people["gm"])
    other = _loan_for(people, "liqiang")
    step(LOAN_WORKFLOW, other, "withdraw", people["liqiang"])
    assert db.session.get(ArchiveLoan, other.id).status == LoanStatus.WITHDRAWN


def test_cus_09_two_heads_at_once_exactly_one_review_wins(ctx, people, make_user):
    loan = _loan(people)
    second_head = make_user("SalesHead", username="head2")
    version = loan.version
    step(LOAN_WORKFLOW, loan, "review", people["head"], version=version)
    # The second head still holds the page with the old version: told it changed.
    with pytest.raises(StaleVersion):
        step(LOAN_WORKFLOW, loan, "review", second_head, version=version)
    assert [s.action for s in LOAN_WORKFLOW.history(loan)] == ["review"]
