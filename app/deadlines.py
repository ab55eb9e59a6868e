"""Time limits, the working-day calendar, overdue queries, reminders (ENG-17 and every "within n days").

Calendar
    ``calendar_day`` holds the exceptions to the Monday-to-Friday week:
    official holidays and make-up working days (调休上班), seeded from the
    ``chinese_calendar`` package for every year it covers and editable by an
    administrator (their rows are never overwritten by a reseed). A year the
    package does not cover falls back to plain weekends, and the
    administrators are told once, in their inbox, to enter its holidays.

Due times
    Counting happens on local dates (``TIMEZONE``); storage is naive UTC.
    A deadline of *n* days falls due at the **end** (23:59:59 local) of the
    n-th day after the day it started: the start day itself never counts,
    whatever its time, so "1 working day" from Friday 17:50 is the end of
    Monday, and a limit started on a holiday counts from the first working
    day after it. Keeping the start's time of day instead would make a
    request that arrives at 17:50 due at 17:50, after office hours, and
    would make the due time depend on when the clerk got round to typing it
    in; the regulations count in days.

Deadlines
    The workflow engine opens a deadline when a record enters a state with
    a ``DeadlineRule`` and closes it when the record leaves that state
    (:func:`open_deadline`, :func:`close_deadlines`, in the caller's
    transaction). Closing after the due time marks it ``late`` for good.

Reminders
    ``flask deadlines scan`` (run it from cron, e.g. every 15 minutes) sends
    one reminder when a deadline comes within ``DEADLINE_REMIND_BEFORE_HOURS``
    and one overdue notice once it has passed, each exactly once even when
    run twice or by several workers at the same time.
"""
import datetime
import logging

import click
from flask import current_app, has_request_context, url_for
from flask.cli import with_appcontext
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import and_, or_
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.routing import BuildError

from .extensions import db
from .models.base import utcnow
from .models.deadlines import CalendarDay, CalendarSource, Deadline, DeadlineStatus
from .security.visibility import register_visibility
from .timeutil import format_local, to_local, to_utc_naive

log = logging.getLogger(__name__)

END_OF_DAY = datetime.time(23, 59, 59)
# Safety stop for a calendar an administrator filled with holidays only.
MAX_SEARCH_DAYS = 3660
REMINDER = "reminder"
OVERDUE = "overdue"


# ---------------------------------------------------------------------------
# The calendar
# ---------------------------------------------------------------------------

def local_date(value):
    """The local calendar date of a naive-UTC datetime; a date passes through."""
    if isinstance(value, datetime.datetime):
        return to_local(value).date()
    return value


def local_today():
    return local_date(utcnow())


def end_of_local_day(day):
    """23:59:59 local time on ``day``, as naive UTC."""
    return to_utc_naive(datetime.datetime.combine(day, END_OF_DAY))


def _plain_week(day):
    return day.weekday() < 5


def is_workday(day):
    """True when ``day`` (a date, or a naive-UTC datetime taken as local) is a working day."""
    day = local_date(day)
    stored = db.session.query(CalendarDay.is_workday).filter(CalendarDay.day == day).scalar()
    return _plain_week(day) if stored is None else bool(stored)


def _days_after(day, block=62):
    """``(date, is_workday)`` for each day after ``day``, reading the calendar a block at a time."""
    for _block_start in range(0, MAX_SEARCH_DAYS, block):
        last = day + datetime.timedelta(days=block)
        exceptions = dict(
            db.session.query(CalendarDay.day, CalendarDay.is_workday)
            .filter(CalendarDay.day > day, CalendarDay.day <= last)
        )
        for offset in range(1, block + 1):
            current = day + datetime.timedelta(days=offset)
            yield current, bool(exceptions.get(current, _plain_week(current)))
        day = last
    raise RuntimeError(f"no working day within {MAX_SEARCH_DAYS} days: check the calendar")


def add_working_days(start, n):
    """Due time of ``n`` working days from ``start``: end of the n-th working day after it.

    ``start`` is a naive-UTC datetime (or a local date). Counting starts on
    the next working day after the start's local date; ``n == 0`` means the
    end of the start day if it is a working day, else of the next one.
    Returns naive UTC.
    """
    if n < 0:
        raise ValueError("n must not be negative")
    day = local_date(start)
    if n == 0:
        if is_workday(day):
            return end_of_local_day(day)
        n = 1
    counted = 0
    for current, workday in _days_after(day):
        if workday:
            counted += 1
            if counted == n:
                return end_of_local_day(current)


def add_calendar_days(start, n):
    """Due time of ``n`` calendar days from ``start``: end of the n-th local day after it (naive UTC)."""
    if n < 0:
        raise ValueError("n must not be negative")
    return end_of_local_day(local_date(start) + datetime.timedelta(days=n))


def library_covers(year):
    """True when the chinese_calendar package has the official calendar of ``year``."""
    try:
        import chinese_calendar
    except ImportError:
        return False
    try:
        chinese_calendar.is_workday(datetime.date(year, 6, 1))
    except NotImplementedError:
        return False
    return True


def library_calendar_days():
    """``[(day, is_workday, name, note)]``: the holidays and make-up days the package knows."""
    from chinese_calendar import constants

    def chinese(english):
        try:
            return constants.Holiday(english).chinese
        except ValueError:
            return english

    rows = [
        (day, False, chinese(english), "调休" if day in constants.in_lieu_days else None)
        for day, english in constants.holidays.items()
    ]
    rows += [
        (day, True, chinese(english) + "调休上班", None)
        for day, english in constants.workdays.items()
    ]
    return sorted(rows)


def seed_calendar(today=None):
    """Load the package's holidays and make-up days; check this year and next. Returns messages.

    Idempotent: adds missing days, corrects days it seeded earlier, never
    touches a day an administrator entered or edited. For this year or
    next without official data, notifies the administrators once. Commits.
    """
    import chinese_calendar

    rows = library_calendar_days()
    existing = {row.day: row for row in db.session.query(CalendarDay)}
    added = updated = kept = 0
    for day, workday, name, note in rows:
        row = existing.get(day)
        if row is None:
            db.session.add(CalendarDay(day=day, is_workday=workday, name=name, note=note,
                                       source=CalendarSource.LIBRARY))
            added += 1
        elif row.source != CalendarSource.LIBRARY:
            kept += 1
        elif (row.is_workday, row.name, row.note) != (workday, name, note):
            row.is_workday, row.name, row.note = workday, name, note
            updated += 1
    messages = [_(
        "Working calendar %(first)s–%(last)s from chinese_calendar %(version)s: "
        "%(added)s days added, %(updated)s updated, %(kept)s kept as an administrator entered them.",
        first=rows[0][0].year, last=rows[-1][0].year, version=chinese_calendar.__version__,
        added=added, updated=updated, kept=kept,
    )]
    messages += check_calendar_coverage(today)
    db.session.commit()
    return messages


def check_calendar_coverage(today=None):
    """Messages about this year and next; tells the administrators once about a year with no data.

    Adds the notices in the caller's transaction.
    """
    from .security.roles import ADMIN
    from .services.notifications import notify_role

    today = today or local_today()
    messages = []
    for year in (today.year, today.year + 1):
        if library_covers(year):
            continue
        entered = db.session.query(CalendarDay).filter(
            CalendarDay.day.between(datetime.date(year, 1, 1), datetime.date(year, 12, 31)),
            CalendarDay.source == CalendarSource.ADMIN,
        ).count()
        if entered:
            messages.append(_(
                "%(year)s: not in chinese_calendar; using the %(count)s days administrators entered.",
                year=year, count=entered,
            ))
            continue
        messages.append(_(
            "%(year)s: no official holidays known; only weekends count as days off "
            "until an administrator enters them.", year=year,
        ))
        with force_locale(current_app.config.get("BABEL_DEFAULT_LOCALE", "zh")):
            notify_role(
                ADMIN,
                _("Enter the official holidays of %(year)s", year=year),
                _(
                    "The working calendar has no official holidays for %(year)s. Until they "
                    "are entered (holidays and make-up working days, 调休), deadlines in "
                    "%(year)s count only Saturdays and Sundays as days off. Enter them under "
                    "Settings › Working calendar once the State Council publishes them.",
                    year=year,
                ),
                link=_path("CalendarDayView.list"),
                dedupe_key=f"calendar:missing:{year}",
            )
    return messages


# ---------------------------------------------------------------------------
# Opening and closing
# ---------------------------------------------------------------------------

def open_deadline(record_table, record_id, state, kind, start, days, working_days=True,
                  assignee=None, assignee_role=None, label=None):
    """Open a deadline for a record entering ``state``; the caller commits.

    ``start`` is naive UTC (None: now); ``assignee`` a user or user id. A
    plain-text ``label`` describes this one deadline and is stored; a
    translatable (lazy) one is not, since it is the kind's label, which
    screens look up in the reader's language (:func:`kind_label`). A second
    call for the same open record, state and kind returns the deadline
    already open.
    """
    start = start or utcnow()
    existing = deadline_query(record_table=record_table, record_id=record_id, state=state,
                              kind=kind, status=DeadlineStatus.OPEN).first()
    if existing is not None:
        return existing
    due_at = add_working_days(start, days) if working_days else add_calendar_days(start, days)
    deadline = Deadline(
        record_table=record_table, record_id=record_id, state=state, kind=kind,
        label=label[:200] if isinstance(label, str) else None, days=days,
        working_days=working_days, due_at=due_at,
        assignee_id=getattr(assignee, "id", assignee), assignee_role=assignee_role,
        status=DeadlineStatus.OPEN, opened_at=start,
    )
    db.session.add(deadline)
    return deadline


def close_deadlines(record_table, record_id, state, at):
    """Close the open deadlines of a record leaving ``state``: met, or late if past due.

    Returns the deadlines closed; the caller commits.
    """
    at = at or utcnow()
    closed = deadline_query(record_table=record_table, record_id=record_id, state=state,
                            status=DeadlineStatus.OPEN).all()
    for deadline in closed:
        deadline.closed_at = at
        deadline.status = DeadlineStatus.LATE if at > deadline.due_at else DeadlineStatus.MET
    return closed


def cancel_deadlines(record_table, record_id, at=None, state=None):
    """Cancel the open deadlines of a record withdrawn or closed without the step being due.

    A cancelled deadline that had already passed keeps that fact in
    ``closed_at > due_at`` (:attr:`Deadline.was_late`). The caller commits.
    """
    at = at or utcnow()
    cancelled = deadline_query(record_table=record_table, record_id=record_id, state=state,
                               status=DeadlineStatus.OPEN).all()
    for deadline in cancelled:
        deadline.closed_at = at
        deadline.status = DeadlineStatus.CANCELLED
    return cancelled


# ---------------------------------------------------------------------------
# Queries
# ---------------------------------------------------------------------------

def _role_names(user):
    return sorted({role.name for role in getattr(user, "roles", None) or []})


def assigned_to(user):
    """SQL condition: deadlines ``user`` must act on.

    Assigned to them, or to nobody in particular and to a role they hold;
    a named assignee wins over the role.
    """
    condition = Deadline.assignee_id == getattr(user, "id", None)
    roles = _role_names(user)
    if roles:
        condition = or_(condition, and_(Deadline.assignee_id.is_(None),
                                        Deadline.assignee_role.in_(roles)))
    return condition


def is_assigned_to(deadline, user):
    if deadline.assignee_id is not None:
        return deadline.assignee_id == getattr(user, "id", None)
    return deadline.assignee_role is not None and deadline.assignee_role in _role_names(user)


def deadline_query(record_table=None, record_id=None, state=None, kind=None, status=None,
                   user=None, overdue_at=None, closed_from=None, closed_until=None):
    """Deadlines matching every given criterion, soonest due first.

    ``status`` is one value or several; ``user`` keeps those assigned to
    them; ``overdue_at`` keeps those open and past due at that time;
    ``closed_from``/``closed_until`` bound ``closed_at`` (monthly figures).
    """
    query = db.session.query(Deadline)
    for column, value in ((Deadline.record_table, record_table), (Deadline.record_id, record_id),
                          (Deadline.state, state), (Deadline.kind, kind)):
        if value is not None:
            query = query.filter(column == value)
    if status is not None:
        statuses = [status] if isinstance(status, str) else list(status)
        query = query.filter(Deadline.status.in_(statuses))
    if user is not None:
        query = query.filter(assigned_to(user))
    if overdue_at is not None:
        query = query.filter(Deadline.status == DeadlineStatus.OPEN, Deadline.due_at < overdue_at)
    if closed_from is not None:
        query = query.filter(Deadline.closed_at >= closed_from)
    if closed_until is not None:
        query = query.filter(Deadline.closed_at < closed_until)
    return query.order_by(Deadline.due_at, Deadline.id)


def deadlines_of(record_table, record_id):
    """Every deadline of one record, open or closed, in due order."""
    return deadline_query(record_table=record_table, record_id=record_id).all()


def due_and_overdue_for(user, now=None, within=None):
    """Open deadlines ``user`` must act on, overdue ones first (soonest due first).

    ``within`` (a timedelta) keeps only those due before ``now + within``.
    """
    query = deadline_query(user=user, status=DeadlineStatus.OPEN)
    if within is not None:
        query = query.filter(Deadline.due_at <= (now or utcnow()) + within)
    return query.all()


def overdue(now=None, user=None):
    """Open deadlines past due (of ``user`` when given)."""
    return deadline_query(user=user, overdue_at=now or utcnow()).all()


# ---------------------------------------------------------------------------
# Labels and links
# ---------------------------------------------------------------------------

_KIND_LABELS = {}


def register_deadline_kind(kind, label):
    """Name a deadline kind opened outside a workflow (workflow kinds are found by themselves)."""
    _KIND_LABELS[kind] = label


def kind_label(kind):
    if kind in _KIND_LABELS:
        return _KIND_LABELS[kind]
    from .workflows import all_workflows

    for workflow in all_workflows().values():
        for state in workflow.states.values():
            if state.deadline is not None and state.deadline.kind == kind:
                return state.deadline.label
    return kind


def deadline_label(deadline):
    return deadline.label or kind_label(deadline.kind)


def _path(endpoint, **values):
    """A URL path for ``endpoint``, also outside a request (CLI); None if there is none."""
    try:
        if has_request_context():
            return url_for(endpoint, **values)
        adapter = current_app.url_map.bind(
            "localhost", script_name=current_app.config.get("APPLICATION_ROOT") or "/"
        )
        return adapter.build(endpoint, values)
    except BuildError:
        return None


def _record_view(record_table):
    """The first registered ModelView of the table's model: it shows the record."""
    from flask_appbuilder import ModelView

    for view in current_app.appbuilder.baseviews:
        model = getattr(getattr(view, "datamodel", None), "obj", None)
        if isinstance(view, ModelView) and getattr(model, "__tablename__", None) == record_table:
            return view
    return None


def record_path(record_table, record_id):
    view = _record_view(record_table)
    return _path(f"{view.endpoint}.show", pk=record_id) if view is not None else None


def record_title(record_table, record_id):
    """How a message names the record: the view's title for one record, and its id."""
    view = _record_view(record_table)
    title = str(view.show_title) if view is not None else record_table
    return f"{title} #{record_id}"


def deadline_link(deadline):
    return (record_path(deadline.record_table, deadline.record_id)
            or _path("DeadlineView.show", pk=deadline.id))


# ---------------------------------------------------------------------------
# Reminders and overdue notices
# ---------------------------------------------------------------------------

def deadline_recipients(deadline, at=None):
    """Who is told about ``deadline``: the assignee and whoever acts for them, else the role.

    With nobody to tell, the administrators are, so that a deadline never
    passes unseen.
    """
    from flask_appbuilder.security.sqla.models import User

    from .security.roles import ADMIN
    from .services.org import acting_delegate_ids, users_with_role

    users = []
    if deadline.assignee is not None:
        users.append(deadline.assignee)
        delegate_ids = acting_delegate_ids(deadline.assignee, at or utcnow())
        if delegate_ids:
            users += db.session.query(User).filter(User.id.in_(delegate_ids)).order_by(User.id).all()
    elif deadline.assignee_role:
        users = users_with_role(deadline.assignee_role)
    return users or users_with_role(ADMIN)


def _message(deadline, notice):
    values = dict(what=deadline_label(deadline),
                  record=record_title(deadline.record_table, deadline.record_id),
                  due=format_local(deadline.due_at))
    if notice == REMINDER:
        return (_("Due soon: %(what)s (%(record)s)", **values),
                _("%(what)s for %(record)s is due by %(due)s.", **values))
    return (_("Overdue: %(what)s (%(record)s)", **values),
            _("%(what)s for %(record)s was due by %(due)s and is overdue.", **values))


def _scan_candidates(notice, now):
    window = datetime.timedelta(hours=float(current_app.config.get("DEADLINE_REMIND_BEFORE_HOURS", 24)))
    query = db.session.query(Deadline.id).filter(Deadline.status == DeadlineStatus.OPEN)
    if notice == REMINDER:
        query = query.filter(Deadline.reminded_at.is_(None), Deadline.overdue_notified_at.is_(None),
                             Deadline.due_at >= now, Deadline.due_at <= now + window)
    else:
        query = query.filter(Deadline.overdue_notified_at.is_(None), Deadline.due_at < now)
    return [row[0] for row in query.order_by(Deadline.due_at, Deadline.id)]


def _is_postgres():
    return db.session.get_bind().dialect.name == "postgresql"


def send_deadline_notice(deadline_id, notice, now=None):
    """Send one reminder or overdue notice in a transaction of its own; returns a line or None.

    The deadline is re-read under a row lock (PostgreSQL: a worker already
    busy with it is skipped) and re-checked; the notifications carry the
    dedupe key ``deadline:<id>:<notice>``, so a worker that got past the
    check at the same moment inserts nothing. A failure rolls back this
    deadline only.
    """
    now = now or utcnow()
    marker = Deadline.reminded_at if notice == REMINDER else Deadline.overdue_notified_at
    try:
        query = db.session.query(Deadline).filter(
            Deadline.id == deadline_id, Deadline.status == DeadlineStatus.OPEN, marker.is_(None)
        )
        if notice == REMINDER:
            query = query.filter(Deadline.overdue_notified_at.is_(None), Deadline.due_at >= now)
        else:
            query = query.filter(Deadline.due_at < now)
        if _is_postgres():
            query = query.with_for_update(skip_locked=True, of=Deadline)
        deadline = query.one_or_none()
        if deadline is None:
            db.session.rollback()
            return None
        from .services.notifications import notify

        with force_locale(current_app.config.get("BABEL_DEFAULT_LOCALE", "zh")):
            subject, body = _message(deadline, notice)
        added = notify(deadline_recipients(deadline, now), subject, body,
                       link=deadline_link(deadline), dedupe_key=f"deadline:{deadline.id}:{notice}")
        setattr(deadline, marker.key, now)
        names = ", ".join(notification.user.username for notification in added)
        db.session.commit()
    except SQLAlchemyError:
        db.session.rollback()
        log.exception("Deadline %s: the %s was not sent", deadline_id, notice)
        return None
    if not added:
        return None
    return f"{notice} deadline={deadline_id} {subject} -> {names}"


def scan(now=None):
    """Send every reminder and overdue notice now due; returns one line per deadline notified.

    Safe to run twice and from several workers at once: each notice goes
    out once (see :func:`send_deadline_notice`). Also reminds the
    administrators once of a coming year with no official holidays.
    """
    now = now or utcnow()
    check_calendar_coverage(local_date(now))
    db.session.commit()
    lines = []
    for notice in (REMINDER, OVERDUE):
        candidates = _scan_candidates(notice, now)
        db.session.commit()
        for deadline_id in candidates:
            line = send_deadline_notice(deadline_id, notice, now)
            if line:
                lines.append(line)
    return lines


# ---------------------------------------------------------------------------
# Visibility: a deadline is shown to whoever must act on it.
# ---------------------------------------------------------------------------

register_visibility(
    Deadline,
    lambda query, user: query.filter(assigned_to(user)),
    lambda deadline, user: is_assigned_to(deadline, user),
)


# ---------------------------------------------------------------------------
# Commands
# ---------------------------------------------------------------------------

@click.group("deadlines")
def deadlines_group():
    """Time limits and reminders."""


@deadlines_group.command("scan")
@with_appcontext
def scan_command():
    """Send due reminders and overdue notices (each once; run it from cron)."""
    lines = scan()
    for line in lines:
        click.echo(line)
    click.echo(f"{len(lines)} deadline notice(s) sent.")
    # From the month's first working day on: last month's reports to leadership (once).
    from .services.reports import deliver_if_due

    reports = deliver_if_due()
    if reports:
        click.echo(f"{len(reports)} monthly report notification(s) sent.")


@deadlines_group.command("seed-calendar")
@with_appcontext
def seed_calendar_command():
    """Load the official holidays and make-up working days (idempotent)."""
    for message in seed_calendar():
        click.echo(message)


@deadlines_group.command("overdue")
@with_appcontext
def overdue_command():
    """List the open deadlines past due."""
    rows = overdue()
    for deadline in rows:
        assignee = deadline.assignee.username if deadline.assignee else deadline.assignee_role or "-"
        click.echo(f"{deadline.id}\t{format_local(deadline.due_at)}\t{deadline.kind}\t"
                   f"{deadline.record_table}#{deadline.record_id}\t{assignee}")
    click.echo(f"{len(rows)} overdue.")
