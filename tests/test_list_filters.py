"""Every filter a list's search form offers answers by the index the form gives it.

The form numbers a column's filters ``_flt_<index>_<column>`` in the order it
shows them (FAB's own, then a view's custom ones such as "Overdue"); a bad
index or value is ignored or refused, never a server error.
"""
import json
import re

import pytest
from flask import url_for

from app.views.base import AppModelView
from tests.conftest import login

# Values a user might type into any filter box: a number, a check box, a date,
# a month, nonsense.
PROBE_VALUES = ("1", "y", "2020-01-01", "2020-01", "not-a-value")


def form_filters(page):
    """The search form's ``{column: [filter name, ...]}``, as the browser receives it."""
    match = re.search(r"new AdminFilters\(\s*'#filter_form',", page)
    assert match, "no search form on the page"
    decoder, rest, values = json.JSONDecoder(), page[match.end():], []
    for _ in range(4):  # labels, form fields, search filters, active filters
        rest = rest.lstrip()
        value, end = decoder.raw_decode(rest)
        values.append(value)
        rest = rest[end:].lstrip().lstrip(",")
    return values[2]


def list_views(app):
    """``(view name, list URL)`` of every business list of the app."""
    views = []
    for view in app.appbuilder.baseviews:
        endpoint = f"{view.endpoint}.list"
        if isinstance(view, AppModelView) and endpoint in app.view_functions:
            with app.test_request_context():
                views.append((view.__class__.__name__, url_for(endpoint)))
    return views


def status(client, url, args):
    """The answer's status; an exception the app let through counts as a 500."""
    try:
        return client.get(url, query_string=args).status_code
    except Exception as error:  # noqa: BLE001 - reported below with the filter that raised
        return f"500 ({type(error).__name__}: {error})"


@pytest.fixture
def admin_client(client, make_user):
    login(client, make_user("Admin"))
    return client


def merged(requests):
    return {key: value for args in requests for key, value in args.items()}


def test_every_offered_filter_answers_by_its_form_index(app, admin_client):
    views = list_views(app)
    assert len(views) > 10
    failures = []
    for name, url in views:
        page = admin_client.get(url)
        assert page.status_code == 200, f"{name}: {page.status_code}"
        requests = {}
        for column, names in form_filters(page.get_data(as_text=True)).items():
            # FAB reads a single digit: a filter past the tenth could not be chosen.
            assert len(names) <= 10, f"{name}.{column}: filter {names[10]} unreachable"
            # Each filter with every probe value (applied one by one, as several
            # rows of the form), and one index more than offered (a stale link).
            requests[column] = {
                (index, names[index] if index < len(names) else "(no such filter)"):
                    {f"_flt_{index}_{column}": list(PROBE_VALUES)}
                for index in range(len(names) + 1)}
        # The whole list at once, then column by column, then filter by filter:
        # a refused value (400, or FAB's redirect) stops the filters after it.
        if status(admin_client, url, merged(
                args for filters in requests.values() for args in filters.values())) == 200:
            continue
        for column, filters in requests.items():
            if status(admin_client, url, merged(filters.values())) == 200:
                continue
            for (index, label), args in filters.items():
                answer = status(admin_client, url, args)
                if not isinstance(answer, int) or answer >= 500:
                    failures.append(f"{name} {column} #{index} {label!r}: {answer}")
    assert not failures, "\n".join(failures)


def test_a_yes_no_filter_reads_yes_or_no_and_refuses_other_text(app, admin_client):
    from app.extensions import db
    from app.models.org import Department

    with app.app_context():
        db.session.add_all([Department(code="ON1", name="在用部门", active=True),
                            Department(code="OFF1", name="停用部门", active=False)])
        db.session.commit()
    active = admin_client.get("/departmentview/list/?_flt_0_active=y").get_data(as_text=True)
    assert "ON1" in active and "OFF1" not in active
    inactive = admin_client.get("/departmentview/list/?_flt_1_active=y").get_data(as_text=True)
    assert "OFF1" in inactive and "ON1" not in inactive
    assert admin_client.get("/departmentview/list/?_flt_0_active=maybe").status_code == 400
