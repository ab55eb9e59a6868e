"""Charts and monthly reports: figures over the records the viewer may see.

Every aggregate starts from the domain's visible query (``visible_query``), so
a chart or report never counts a record its viewer could not open; linked
duplicate complaints (status ``merged``) are counted once, through their
master. A chart is a table (``columns`` and ``rows``, the same cells as its
CSV) plus an Apache ECharts option built from that table, with translated
labels, so the picture and the table cannot disagree.

The monthly reports (CMP-18, VIS-13, CUS-11) reuse the domain services that
compute them; :func:`deliver_monthly_reports` tells company leadership once
per month (``REPORT_RECIPIENT_ROLES``), and ``flask deadlines scan`` calls it
from the first working day of the month on.
"""
import datetime
import logging

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..extensions import db
from ..models.base import utcnow
from ..security.visibility import visible_query
from ..timeutil import to_local, to_utc_naive
from .settings import get_setting, register_setting

log = logging.getLogger(__name__)

register_setting("REPORT_RECIPIENT_ROLES", "GeneralManager,Director",
                 _l("Monthly reports: roles that receive them (comma-separated role names)"),
                 kind=str, rule="CMP-18")

MAX_MONTHS = 36
DEFAULT_MONTHS = 12


# ---------------------------------------------------------------------------
# Periods
# ---------------------------------------------------------------------------

def parse_month(text):
    """``"YYYY-MM"`` as ``(year, month)``; ValueError when it is not one."""
    year, month = (int(part) for part in str(text).strip().split("-"))
    if not (2000 <= year <= 2100 and 1 <= month <= 12):
        raise ValueError(text)
    return year, month


def month_key(year, month):
    return f"{year}-{month:02d}"


def shift_month(year, month, delta):
    index = year * 12 + (month - 1) + delta
    return index // 12, index % 12 + 1


def months_between(start, end):
    """Every ``(year, month)`` from ``start`` to ``end`` inclusive (at most MAX_MONTHS)."""
    if (end[0] * 12 + end[1]) < (start[0] * 12 + start[1]):
        start, end = end, start
    months, current = [], start
    while (current[0] * 12 + current[1]) <= (end[0] * 12 + end[1]) and len(months) < MAX_MONTHS:
        months.append(current)
        current = shift_month(*current, 1)
    return months


def default_period(today=None):
    """The last DEFAULT_MONTHS months up to the current local month."""
    from ..deadlines import local_today

    today = today or local_today()
    end = (today.year, today.month)
    return shift_month(*end, -(DEFAULT_MONTHS - 1)), end


def month_start_utc(year, month):
    return to_utc_naive(datetime.datetime(year, month, 1))


def period_bounds(months):
    """Naive-UTC ``[start, end)`` of a list of local months."""
    first, last = months[0], months[-1]
    return month_start_utc(*first), month_start_utc(*shift_month(*last, 1))


def local_month(value):
    """The ``(year, month)`` of a stored UTC datetime (or a date) in the local zone."""
    if isinstance(value, datetime.datetime):
        value = to_local(value)
    return value.year, value.month


def _last_day(year, month):
    following = shift_month(year, month, 1)
    return datetime.date(*following, 1) - datetime.timedelta(days=1)


def _rate(part, whole):
    return round(part / whole, 4) if whole else None


def _percent(value):
    return round(value * 100, 1) if value is not None else None


def _avg(values):
    return round(sum(values) / len(values), 1) if values else None


def _staff_of(department_id):
    """Select of the user ids working in ``department_id``."""
    from ..models.org import StaffProfile

    return select(StaffProfile.user_id).where(StaffProfile.department_id == department_id)


def department_choices():
    from ..models.org import Department

    return [(department.id, department.name) for department in
            db.session.query(Department).filter(Department.active.is_(True))
            .order_by(Department.name)]


# ---------------------------------------------------------------------------
# Charts
# ---------------------------------------------------------------------------

class Chart:
    """One chart's table and its ECharts option."""

    def __init__(self, key, title, columns, rows, option, notes=()):
        self.key = key
        self.title = title
        self.columns = columns
        self.rows = rows
        self.option = option
        self.notes = list(notes)

    def as_dict(self):
        return {"key": self.key, "title": str(self.title),
                "columns": [str(column) for column in self.columns],
                "rows": self.rows, "option": self.option, "notes": [str(n) for n in self.notes]}


def _bar(name, data, stack=None, axis=0):
    series = {"name": str(name), "type": "bar", "data": data, "yAxisIndex": axis}
    if stack:
        series["stack"] = stack
    return series


def _line(name, data, axis=0, dashed=False):
    series = {"name": str(name), "type": "line", "data": data, "yAxisIndex": axis,
              "connectNulls": True}
    if dashed:
        series["lineStyle"] = {"type": "dashed"}
    return series


def _option(categories, series, left_name, right_name=None, rotate=0):
    y_axes = [{"type": "value", "name": str(left_name), "minInterval": 1}]
    if right_name:
        y_axes.append({"type": "value", "name": str(right_name), "splitLine": {"show": False}})
    return {
        "tooltip": {"trigger": "axis"},
        "legend": {"type": "scroll", "top": 0},
        "grid": {"left": 50, "right": 50 if right_name else 20, "top": 60, "bottom": 60,
                 "containLabel": True},
        "xAxis": {"type": "category", "data": categories, "axisLabel": {"rotate": rotate}},
        "yAxis": y_axes,
        "series": series,
    }


# Channels in blues and greens, severities from grey to red: two stacks side by side.
CHANNEL_COLOURS = ["#5470c6", "#73c0de", "#3ba272", "#91cc75", "#9a60b4", "#2f4554", "#4b8bbe"]
SEVERITY_COLOURS = ["#b0b0b0", "#f0a030", "#d9534f"]


def complaint_chart(viewer, months, department_id=None):
    """Complaints received per month by channel and severity, with days to close (CMP-18).

    Linked duplicates are not counted again; closing time is averaged over
    the complaints of that month already closed.
    """
    from ..models.complaints import Complaint, ComplaintChannel, ComplaintSeverity, ComplaintStatus

    start, end = period_bounds(months)
    query = visible_query(
        db.session.query(Complaint.received_at, Complaint.channel, Complaint.severity,
                         Complaint.closed_at), Complaint, viewer
    ).filter(Complaint.received_at >= start, Complaint.received_at < end,
             Complaint.status != ComplaintStatus.MERGED)
    if department_id:
        query = query.filter(Complaint.respondent_department_id == department_id)
    per_month = {month: {"total": 0, "channel": {}, "severity": {}, "closed_days": []}
                 for month in months}
    for received_at, channel, severity, closed_at in query:
        bucket = per_month.get(local_month(received_at))
        if bucket is None:
            continue
        bucket["total"] += 1
        bucket["channel"][channel] = bucket["channel"].get(channel, 0) + 1
        bucket["severity"][severity] = bucket["severity"].get(severity, 0) + 1
        if closed_at is not None:
            bucket["closed_days"].append((closed_at - received_at).total_seconds() / 86400)
    channels = ComplaintChannel.CHOICES
    severities = ComplaintSeverity.CHOICES
    columns = ([_l("Month"), _l("Received")] + [label for _v, label, _c in channels]
               + [label for _v, label, _c in severities]
               + [_l("Closed"), _l("Average days to close")])
    rows = []
    for month in months:
        bucket = per_month[month]
        rows.append([month_key(*month), bucket["total"]]
                    + [bucket["channel"].get(value, 0) for value, _l2, _c in channels]
                    + [bucket["severity"].get(value, 0) for value, _l2, _c in severities]
                    + [len(bucket["closed_days"]), _avg(bucket["closed_days"])])
    categories = [row[0] for row in rows]
    series = []
    offset = 2
    for index, (_value, label, _c) in enumerate(channels):
        bar = _bar(label, [row[offset + index] for row in rows], stack="channel")
        bar["itemStyle"] = {"color": CHANNEL_COLOURS[index % len(CHANNEL_COLOURS)]}
        series.append(bar)
    offset += len(channels)
    for index, (_value, label, _c) in enumerate(severities):
        bar = _bar(label, [row[offset + index] for row in rows], stack="severity")
        bar["itemStyle"] = {"color": SEVERITY_COLOURS[index % len(SEVERITY_COLOURS)]}
        series.append(bar)
    series.append(_line(_l("Average days to close"), [row[-1] for row in rows], axis=1))
    option = _option(categories, series, _l("Complaints"), _l("Days"))
    return Chart("complaints", _l("Complaints per month by channel and severity"), columns, rows,
                 option, notes=[_l("Left bar of each month: by channel; right bar: by severity. "
                                   "Linked duplicates are counted once.")])


def visit_rates_for(year, month, viewer, department_id=None):
    """``services.visits.visit_rates`` for one month."""
    from . import visits

    return list(visits.visit_rates(year, month, viewer=viewer, department_id=department_id))


def visit_chart(viewer, months, department_id=None):
    """Return-visit rates per trigger and month against their targets (VIS-13).

    A department keeps the triggers that belong to it (see
    ``services.visits.visit_rates``).
    """
    columns = [_l("Month"), _l("Trigger"), _l("Eligible"), _l("Visited"), _l("Visited in time"),
               _l("Rate (%)"), _l("Target (%)"), _l("Target met")]
    rows, by_trigger, labels, targets = [], {}, {}, {}
    yes, no = str(_l("Yes")), str(_l("No"))
    for month in months:
        for entry in visit_rates_for(*month, viewer, department_id):
            trigger = entry.get("trigger")
            labels[trigger] = str(entry.get("trigger_label") or trigger)
            rate = _percent(entry.get("rate"))
            target = _percent(entry.get("target"))
            by_trigger.setdefault(trigger, {})[month] = rate
            targets.setdefault(trigger, {})[month] = target
            met = entry.get("met")
            rows.append([month_key(*month), labels[trigger], entry.get("eligible", 0),
                         entry.get("visited", 0), entry.get("visited_in_time", 0), rate, target,
                         "" if met is None else (yes if met else no)])
    categories = [month_key(*month) for month in months]
    series = []
    for trigger, values in by_trigger.items():
        series.append(_bar(labels[trigger], [values.get(month) for month in months]))
        if any(value is not None for value in targets[trigger].values()):
            series.append(_line(str(_l("Target")) + " · " + labels[trigger],
                                [targets[trigger].get(month) for month in months], dashed=True))
    option = _option(categories, series, _l("Rate (%)"))
    option["yAxis"][0]["max"] = 100
    notes = []
    if not rows:
        notes.append(_l("No return-visit figures are available for this period."))
    return Chart("visits", _l("Return-visit rates against their targets"), columns, rows, option,
                 notes)


def _time_in_stage(application_ids):
    """Average days the given projects spent in each stage they have left."""
    from ..models.projects import PowerApplication
    from ..models.workflow import WorkflowTransition

    if not application_ids:
        return {}
    received = dict(db.session.query(PowerApplication.id, PowerApplication.received_at)
                    .filter(PowerApplication.id.in_(application_ids)))
    transitions = (db.session.query(WorkflowTransition.record_id, WorkflowTransition.from_state,
                                    WorkflowTransition.to_state, WorkflowTransition.occurred_at)
                   .filter(WorkflowTransition.workflow == "power_application",
                           WorkflowTransition.record_id.in_(application_ids))
                   .order_by(WorkflowTransition.record_id, WorkflowTransition.occurred_at,
                             WorkflowTransition.id))
    entered, durations = {}, {}
    for record_id, from_state, to_state, occurred_at in transitions:
        since = entered.get(record_id, received.get(record_id))
        if since is not None and from_state != to_state:
            durations.setdefault(from_state, []).append(
                (occurred_at - since).total_seconds() / 86400)
        if from_state != to_state:
            entered[record_id] = occurred_at
    return {stage: _avg(values) for stage, values in durations.items()}


def project_chart(viewer, months, department_id=None, now=None):
    """Projects received in the period per stage, overdue now, and days per stage (ENG-17)."""
    from ..models.deadlines import Deadline, DeadlineStatus
    from ..models.projects import PowerApplication, Stage

    now = now or utcnow()
    start, end = period_bounds(months)
    query = visible_query(db.session.query(PowerApplication.id, PowerApplication.stage),
                          PowerApplication, viewer).filter(
        PowerApplication.received_at >= start, PowerApplication.received_at < end)
    if department_id:
        query = query.filter(PowerApplication.received_by_id.in_(_staff_of(department_id)))
    stage_of = dict(query.all())
    ids = list(stage_of)
    overdue = {}
    if ids:
        late = (db.session.query(Deadline.record_id).distinct()
                .filter(Deadline.record_table == PowerApplication.__tablename__,
                        Deadline.record_id.in_(ids), Deadline.status == DeadlineStatus.OPEN,
                        Deadline.due_at < now))
        for (record_id,) in late:
            overdue[stage_of[record_id]] = overdue.get(stage_of[record_id], 0) + 1
    counts = {}
    for stage in stage_of.values():
        counts[stage] = counts.get(stage, 0) + 1
    days = _time_in_stage(ids)
    columns = [_l("Stage"), _l("Projects"), _l("Overdue now"), _l("Average days in stage")]
    rows = [[str(label), counts.get(value, 0), overdue.get(value, 0), days.get(value)]
            for value, label, _c in Stage.CHOICES]
    categories = [row[0] for row in rows]
    series = [_bar(_l("Projects"), [row[1] for row in rows]),
              _bar(_l("Overdue now"), [row[2] for row in rows]),
              _line(_l("Average days in stage"), [row[3] for row in rows], axis=1)]
    option = _option(categories, series, _l("Projects"), _l("Days"), rotate=30)
    option["color"] = ["#5470c6", "#ee6666", "#91cc75"]
    return Chart("projects", _l("Projects per stage, overdue, and time per stage"), columns, rows,
                 option, notes=[_l("Projects received in the period, by their current stage.")])


def customer_chart(viewer, months, department_id=None, now=None):
    """Registration lines, ownership conflicts and late registration forms per month (CUS-01..03)."""
    from ..models.customers import (
        DailyRegistration, OwnershipConflict, RegistrationEntry, RegistrationStatus,
    )

    now = now or utcnow()
    start, end = period_bounds(months)
    first_day, last_day = datetime.date(*months[0], 1), _last_day(*months[-1])
    entries = visible_query(db.session.query(RegistrationEntry.registered_at,
                                             RegistrationEntry.intended),
                            RegistrationEntry, viewer).filter(
        RegistrationEntry.registered_at >= start, RegistrationEntry.registered_at < end)
    conflicts = visible_query(db.session.query(OwnershipConflict.detected_at), OwnershipConflict,
                              viewer).filter(OwnershipConflict.detected_at >= start,
                                             OwnershipConflict.detected_at < end)
    forms = visible_query(db.session.query(DailyRegistration.form_date, DailyRegistration.late,
                                           DailyRegistration.status, DailyRegistration.due_at),
                          DailyRegistration, viewer).filter(
        DailyRegistration.form_date >= first_day, DailyRegistration.form_date <= last_day)
    if department_id:
        staff = _staff_of(department_id)
        entries = entries.join(DailyRegistration,
                               DailyRegistration.id == RegistrationEntry.registration_id).filter(
            DailyRegistration.manager_id.in_(staff))
        conflicts = conflicts.filter(OwnershipConflict.claimant_id.in_(staff))
        forms = forms.filter(DailyRegistration.manager_id.in_(staff))
    figures = {month: [0, 0, 0, 0] for month in months}
    for registered_at, intended in entries:
        bucket = figures.get(local_month(registered_at))
        if bucket is not None:
            bucket[0] += 1
            bucket[1] += 1 if intended else 0
    for (detected_at,) in conflicts:
        bucket = figures.get(local_month(detected_at))
        if bucket is not None:
            bucket[2] += 1
    for form_date, late, status, due_at in forms:
        bucket = figures.get((form_date.year, form_date.month))
        if bucket is not None and (late or (status == RegistrationStatus.DRAFT and due_at < now)):
            bucket[3] += 1
    columns = [_l("Month"), _l("Registrations"), _l("Intended customers"),
               _l("Ownership conflicts"), _l("Late registration forms")]
    rows = [[month_key(*month)] + figures[month] for month in months]
    categories = [row[0] for row in rows]
    series = [_bar(columns[index], [row[index] for row in rows]) for index in range(1, 5)]
    option = _option(categories, series, _l("Count"))
    return Chart("customers", _l("Customer registrations, conflicts and late forms"), columns,
                 rows, option)


def archive_chart(viewer, months, department_id=None):
    """At each month's end: loans out, loans overdue, archives due for destruction (CUS-09, CUS-10)."""
    from ..models.customers import ArchiveFile, ArchiveLoan, ArchiveStatus
    from .customers import retention_ends

    loans = visible_query(db.session.query(ArchiveLoan.issued_at, ArchiveLoan.returned_at,
                                           ArchiveLoan.due_on),
                          ArchiveLoan, viewer).filter(ArchiveLoan.issued_at.is_not(None))
    archives = visible_query(db.session.query(ArchiveFile), ArchiveFile, viewer).filter(
        ArchiveFile.status == ArchiveStatus.CLOSED, ArchiveFile.closed_on.is_not(None))
    if department_id:
        staff = _staff_of(department_id)
        loans = loans.filter(ArchiveLoan.borrower_id.in_(staff))
        archives = archives.filter(ArchiveFile.manager_id.in_(staff))
    loan_rows = loans.all()
    retention = [retention_ends(archive) for archive in archives]
    today = _today()
    rows = []
    for month in months:
        end_day = min(_last_day(*month), today)
        end_at = to_utc_naive(datetime.datetime.combine(end_day + datetime.timedelta(days=1),
                                                        datetime.time()))
        start_at = month_start_utc(*month)
        issued = sum(1 for issued_at, _r, _d in loan_rows if start_at <= issued_at < end_at)
        out = [(due_on) for issued_at, returned_at, due_on in loan_rows
               if issued_at < end_at and (returned_at is None or returned_at >= end_at)]
        overdue = sum(1 for due_on in out if due_on is not None and due_on < end_day)
        due = sum(1 for ends in retention if ends is not None and ends <= end_day)
        rows.append([month_key(*month), issued, len(out), overdue, due])
    columns = [_l("Month"), _l("Loans issued"), _l("Loans out at month end"),
               _l("Loans overdue at month end"), _l("Archives due for destruction")]
    categories = [row[0] for row in rows]
    series = [_bar(columns[1], [row[1] for row in rows]),
              _line(columns[2], [row[2] for row in rows]),
              _line(columns[3], [row[3] for row in rows]),
              _line(columns[4], [row[4] for row in rows], dashed=True)]
    option = _option(categories, series, _l("Count"))
    option["color"] = ["#5470c6", "#91cc75", "#ee6666", "#fac858"]
    return Chart("archives", _l("Archive loans out and overdue, archives due for destruction"),
                 columns, rows, option,
                 notes=[_l("The current month is counted up to today.")])


def _today():
    from ..deadlines import local_today

    return local_today()


CHARTS = {
    "complaints": (complaint_chart, _l("Complaints")),
    "visits": (visit_chart, _l("Return visits")),
    "projects": (project_chart, _l("Customer projects")),
    "customers": (customer_chart, _l("Customer registrations")),
    "archives": (archive_chart, _l("Archive loans and destruction")),
}


def build_chart(key, viewer, months, department_id=None):
    function, _label = CHARTS[key]
    return function(viewer, months, department_id)


# ---------------------------------------------------------------------------
# Monthly reports (CMP-18, VIS-13, CUS-11)
# ---------------------------------------------------------------------------

class Report:
    """A monthly report as titled sections, each a header and rows (page, CSV, XLSX, PDF)."""

    def __init__(self, key, title, year, month, sections, notes=()):
        self.key = key
        self.title = title
        self.year = year
        self.month = month
        self.sections = sections  # [(title, header, rows)]
        self.notes = list(notes)

    @property
    def period(self):
        return month_key(self.year, self.month)

    def flat_rows(self):
        """One table for CSV/XLSX: each section's title row, header and rows, then a blank line."""
        for title, header, rows in self.sections:
            yield [str(title)]
            yield [str(cell) for cell in header]
            for row in rows:
                yield list(row)
            yield []


def complaint_report(viewer, year, month):
    from . import complaints

    summary = complaints.monthly_summary(viewer, year, month)
    header = [_("Section"), _("Item"), _("Count")]
    rows = [list(row) for row in complaints.summary_rows(summary)]
    sections, current = [], None
    for section, item, value in rows:
        if current is None or current[0] != section:
            current = (section, header[1:], [])
            sections.append(current)
        current[2].append([item, value if value is not None else ""])
    return Report("complaints", _l("Monthly summary of complaints"), year, month, sections,
                  notes=[_l("Linked duplicates are counted once.")])


def visit_report(viewer, year, month):
    from . import visits

    notes = []
    stats = visits.monthly_statistics(year, month, viewer=viewer)
    yes, no = _("Yes"), _("No")
    rate_rows = []
    for entry in stats.get("rates") or []:
        met = entry.get("met")
        rate_rows.append([str(entry.get("trigger_label") or entry.get("trigger")),
                          str(entry.get("window_label") or ""), entry.get("eligible", 0),
                          entry.get("visited", 0), entry.get("visited_in_time", 0),
                          _percent(entry.get("rate")), _percent(entry.get("target")),
                          "" if met is None else (yes if met else no)])
    satisfaction_rows = [[str(_satisfaction_label(value)), count]
                         for value, count in (stats.get("satisfaction") or {}).items()]
    handling = stats.get("handling_rate")
    totals = [
        [_("Visits recorded"), stats.get("visits_recorded", 0)],
        [_("Overdue visits"), stats.get("overdue", 0)],
        [_("Awaiting review"), stats.get("pending_review", 0)],
        [_("Issues raised"), stats.get("issues_total", 0)],
        [_("Issues with an outcome"), stats.get("issues_with_outcome", 0)],
        [_("Issue handling rate (%)"), _percent(handling) if handling is not None else ""],
    ]
    sections = [
        (_("Visit rates per trigger"),
         [_("Trigger"), _("Time window"), _("Eligible"), _("Visited"), _("Visited in time"),
          _("Rate (%)"), _("Target (%)"), _("Target met")], rate_rows),
        (_("Satisfaction"), [_("Answer"), _("Visits")], satisfaction_rows),
        (_("Totals"), [_("Item"), _("Count")], totals),
    ]
    notes.append(_l("Duplicates are counted once; exempt complaints are excluded."))
    return Report("visits", _l("Monthly return-visit statistics"), year, month, sections, notes)


def _satisfaction_label(value):
    try:
        from ..models.visits import VisitSatisfaction
    except ImportError:  # pragma: no cover
        return value
    return VisitSatisfaction.label(value)


def assessment_report(viewer, year, month):
    from . import customers

    period = month_key(year, month)
    rows = customers.assessment_rows(period, viewer)
    body = [[row["manager_name"], row["late_forms"], row["late_filings"], row["missed_filings"],
             row["points"]] for row in rows]
    header = [_("Sales manager"), _("Late registration forms"), _("Late filings"),
              _("Missed filings"), _("Points deducted")]
    return Report("assessment", _l("Monthly assessment of registrations and filings"), year,
                  month, [(_("Performance points"), header, body)])


REPORTS = {
    "complaints": (complaint_report, _l("Monthly summary of complaints"), "CMP-18"),
    "visits": (visit_report, _l("Monthly return-visit statistics"), "VIS-13"),
    "assessment": (assessment_report, _l("Monthly assessment of registrations and filings"),
                   "CUS-11"),
}


def build_report(key, viewer, year, month):
    function, _label, _rule = REPORTS[key]
    return function(viewer, year, month)


def recipient_roles():
    raw = get_setting("REPORT_RECIPIENT_ROLES") or ""
    return [name.strip() for name in str(raw).replace("，", ",").split(",") if name.strip()]


def report_recipients():
    from .org import users_with_role

    users, seen = [], set()
    for role in recipient_roles():
        for user in users_with_role(role):
            if user.id not in seen:
                seen.add(user.id)
                users.append(user)
    return users


def report_link(key, year, month):
    return f"/monthlyreports/{key}/?month={month_key(year, month)}"


def deliver_monthly_reports(year, month):
    """Notify leadership of the month's three reports, once each (dedupe key per report and month).

    Returns one line per notification added; a second run adds nothing.
    """
    from .notifications import notify

    from flask import current_app
    from flask_babel import force_locale

    recipients = report_recipients()
    lines = []
    for key, (_function, label, rule) in REPORTS.items():
        with force_locale(current_app.config.get("BABEL_DEFAULT_LOCALE", "zh")):
            subject = f"{label} {month_key(year, month)}"
            body = _("%(report)s for %(period)s (%(rule)s) is ready: page, CSV/Excel and a "
                     "printable document.", report=label, period=month_key(year, month),
                     rule=rule)
        added = notify(recipients, subject, body, link=report_link(key, year, month),
                       dedupe_key=f"monthly-report:{key}:{month_key(year, month)}")
        lines += [f"{key} {month_key(year, month)} -> {note.user.username}" for note in added]
    db.session.commit()
    return lines


def first_working_day(year, month):
    from ..deadlines import is_workday

    day = datetime.date(year, month, 1)
    while not is_workday(day):
        day += datetime.timedelta(days=1)
    return day


def deliver_if_due(today=None):
    """From the month's first working day on, deliver last month's reports (once; see above)."""
    today = today or _today()
    if today < first_working_day(today.year, today.month):
        return []
    return deliver_monthly_reports(*shift_month(today.year, today.month, -1))
