"""Properties of the services under generated input (hypothesis).

Register numbers, complaint registration with arbitrary text, working-day
deadlines, visit rates and the CSV formula guard, each checked against many
generated cases on one app per module. Examples are few and derandomised so
that CI runs the same cases every time.
"""
import datetime

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from app import create_app
from app.extensions import db
from tests.conftest import BASE_OVERRIDES, PASSWORD

SETTINGS = settings(max_examples=40, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow])
# Text as people paste it: any printable Unicode, including emoji and CJK.
TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=300)


@pytest.fixture(scope="module")
def papp(database_factory, tmp_path_factory):
    """One app for the module: an administrator and a front-desk clerk, the calendar seeded."""
    from app.audit.context import acting_as
    from app.deadlines import seed_calendar

    tmp = tmp_path_factory.mktemp("properties")
    url = database_factory.new_url()
    app = create_app({**BASE_OVERRIDES, "SQLALCHEMY_DATABASE_URI": url,
                      "FAB_UPDATE_PERMS": False, "INSTANCE_PATH": str(tmp / "instance"),
                      "ATTACHMENT_FOLDER": str(tmp / "attachments")})
    with app.app_context():
        sm = app.appbuilder.sm
        admin = sm.add_user("admin", "管理员", "系统", "admin@example.com", sm.find_role("Admin"),
                            password=PASSWORD)
        for username, role in (("desk", "FrontDesk"), ("officer", "ComplaintOfficer"),
                               ("partner", "Partner")):
            sm.add_user(username, username, "测", f"{username}@example.com", sm.find_role(role),
                        password=PASSWORD)
        with acting_as(admin):
            list(seed_calendar())
        db.session.commit()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    database_factory.drop(url)


# ---------------------------------------------------------------------------
# CSV formula guard
# ---------------------------------------------------------------------------

@SETTINGS
@given(text=TEXT)
def test_x_04_neutralise_quotes_exactly_the_formula_starts(text):
    from app.exports.columns import FORMULA_TRIGGERS, neutralise

    result = neutralise(text)
    if text[:1] in FORMULA_TRIGGERS and text:
        assert result == "'" + text
    else:
        assert result == text
    assert not result.startswith(FORMULA_TRIGGERS)


@SETTINGS
@given(text=st.text(st.characters(codec="utf-8", exclude_categories=("Cs",),
                                  exclude_characters="\x00"), max_size=40)
       | st.sampled_from(["=1+1", "+1", "-1", "@SUM(A1)", "\t=1", "\r=1", "'=1", "＝1"]))
def test_x_04_the_database_neutralises_as_python_does(papp, text):
    """The streaming export computes the guard in SQL: it must agree with Python's."""
    from sqlalchemy import literal, select

    from app.exports.columns import neutralise
    from app.exports.views import _neutralised

    with papp.app_context():
        assert db.session.execute(select(_neutralised(literal(text)))).scalar() == \
            neutralise(text)


# ---------------------------------------------------------------------------
# Register numbers
# ---------------------------------------------------------------------------

@SETTINGS
@given(steps=st.lists(st.tuples(st.sampled_from(["TS", "YK"]), st.sampled_from([2026, 2027]),
                                st.booleans()), min_size=1, max_size=12))
def test_numbers_are_unique_and_gap_free_per_series_and_year(papp, steps):
    """Committed numbers run 1, 2, 3 ... per series and year; a rolled-back one is given back."""
    from app.models.numbering import NumberSequence
    from app.services.numbering import take_number

    with papp.app_context():
        start = {(series, year): (db.session.query(NumberSequence.last_number)
                                  .filter_by(series=series, year=year).scalar() or 0)
                 for series in ("TS", "YK") for year in (2026, 2027)}
        db.session.rollback()
        kept = {key: [] for key in start}
        for series, year, commit in steps:
            number = take_number(series, year)
            if commit:
                db.session.commit()
                kept[(series, year)].append(number)
            else:
                db.session.rollback()
        for key, numbers in kept.items():
            assert numbers == list(range(start[key] + 1, start[key] + 1 + len(numbers)))
        db.session.remove()


# ---------------------------------------------------------------------------
# Complaint registration with arbitrary text
# ---------------------------------------------------------------------------

PHONE = st.one_of(st.from_regex(r"\A1[3-9][0-9]{9}\Z"), st.from_regex(r"\A0[0-9]{2,3}-[0-9]{7,8}\Z"),
                  TEXT)


@SETTINGS
@given(subject=TEXT, description=TEXT, name=TEXT, phone=PHONE)
@example(subject="投" * 201, description="d", name="n", phone="13800000000")
@example(subject="s", description="d", name="名" * 101, phone="13800000000")
@example(subject="s", description="d", name="n", phone="1" * 41)
@example(subject="s\x00", description="d", name="n", phone="13800000000")
@example(subject=" 🙂 <b>&amp; ", description="\u200b\n多行\r\n", name="O'Brien",
         phone="+86 (10) 1234-5678")
def test_registration_stores_valid_text_exactly_and_refuses_the_rest(papp, subject, description,
                                                                    name, phone):
    from app.audit.context import acting_as
    from app.models.complaints import Complaint
    from app.services.complaints import register_complaint
    from app.services.errors import DomainError

    invalid = (any(not value.strip() for value in (subject, description, name, phone))
               or len(subject.strip()) > 200 or len(name.strip()) > 100
               or len(phone.strip()) > 40 or "\x00" in subject + description + name + phone)
    with papp.app_context():
        sm = papp.appbuilder.sm
        desk = sm.find_user(username="desk")
        data = {"kind": "complaint", "channel": "phone", "severity": "general",
                "subject": subject, "description": description, "complainant_name": name,
                "complainant_phone": phone, "officer_id": sm.find_user(username="officer").id,
                "partner_id": sm.find_user(username="partner").id}
        with acting_as(desk):
            try:
                complaint = register_complaint(desk, data)
            except DomainError as error:
                db.session.rollback()
                assert str(error.message)  # a reason the user can read
                assert invalid, f"valid input refused: {error.message} {error.errors}"
                return
            complaint_id = complaint.id
        assert not invalid, "invalid input stored"
        db.session.remove()
        stored = db.session.get(Complaint, complaint_id)
        assert (stored.subject, stored.description, stored.complainant_name,
                stored.complainant_phone) == (subject.strip(), description.strip(), name.strip(),
                                              phone.strip() or None)
        db.session.remove()


# ---------------------------------------------------------------------------
# Working days and visit rates
# ---------------------------------------------------------------------------

DAYS = st.dates(min_value=datetime.date(2024, 1, 1), max_value=datetime.date(2027, 12, 31))


@SETTINGS
@given(start=DAYS, hour=st.integers(0, 23), n=st.integers(0, 30))
def test_working_day_deadlines_land_on_working_days_and_grow_with_n(papp, start, hour, n):
    from app.deadlines import add_working_days, is_workday, local_date

    start_at = datetime.datetime.combine(start, datetime.time(hour))
    with papp.app_context():
        due = add_working_days(start_at, n)
        later = add_working_days(start_at, n + 1)
        assert is_workday(local_date(due)) and is_workday(local_date(later))
        assert start_at < due <= later
        if n:
            # Exactly one working day lies after ``due`` up to and including ``later``.
            day, between = local_date(due), 0
            while day < local_date(later):
                day += datetime.timedelta(days=1)
                between += is_workday(day)
            assert between == 1
        else:
            # Zero days: the start day itself when it is a working day, else the next one.
            assert due == later or is_workday(start_at.date()) or is_workday(local_date(start_at))
        db.session.remove()


@SETTINGS
@given(eligible=st.integers(0, 10_000), data=st.data())
def test_visit_rates_lie_between_zero_and_one(papp, eligible, data):
    from app.services.visits import WINDOW_SETTINGS, _rate_row

    visited = data.draw(st.integers(0, eligible))
    in_time = data.draw(st.integers(0, visited))
    with papp.test_request_context():
        row = _rate_row(data.draw(st.sampled_from(sorted(WINDOW_SETTINGS))), eligible, visited,
                        in_time)
    if eligible:
        assert 0 <= row["rate"] <= 1 and row["met"] == (row["rate"] >= row["target"] - 1e-9)
    else:
        assert row["rate"] is None and row["met"] is None
