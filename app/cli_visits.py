"""Return visits (回访, VIS-01 to VIS-13): flask commands.

``flask visits propose [--as USER]`` plans the visits the triggers call for
(resolved complaints, completed maintenance jobs, ended community events)
and not planned yet; idempotent, run it from cron (e.g. hourly).

``flask visits stats [--month YYYY-MM] [--as USER]`` prints the monthly
visit statistics (客户回访记录, VIS-13) as CSV.
"""
import csv
import re
import sys

import click
from flask.cli import with_appcontext


@click.group("visits", help="Return visits.")
def visits_group():
    pass


def _user(username):
    from flask import current_app

    user = current_app.appbuilder.sm.find_user(username=username)
    if user is None:
        raise click.ClickException(f"no user {username!r}")
    return user


@visits_group.command("propose")
@click.option("--as", "username", default="admin", show_default=True,
              help="The user the plans are recorded as made by.")
@with_appcontext
def propose_command(username):
    """Plan the visits due from resolved complaints, completed jobs and ended events."""
    from .audit.context import acting_as
    from .services.visits import propose_visits

    user = _user(username)
    with acting_as(user):
        count = propose_visits(user)
    click.echo(f"{count} visit(s) planned.")


@visits_group.command("stats")
@click.option("--month", "month_text", default=None,
              help="The month as YYYY-MM (default: this month).")
@click.option("--as", "username", default="admin", show_default=True,
              help="Count what this user may see.")
@with_appcontext
def stats_command(month_text, username):
    """Print the monthly visit statistics as CSV (VIS-13)."""
    from .audit.context import acting_as
    from .deadlines import local_today
    from .services.visits import monthly_statistics, statistics_rows

    if month_text:
        match = re.fullmatch(r"(\d{4})-(\d{1,2})", month_text.strip())
        if not match or not 1 <= int(match.group(2)) <= 12:
            raise click.BadParameter("use YYYY-MM, e.g. 2026-03", param_hint="--month")
        year, month = int(match.group(1)), int(match.group(2))
    else:
        today = local_today()
        year, month = today.year, today.month
    user = _user(username)
    with acting_as(user):
        statistics = monthly_statistics(year, month, viewer=user)
    writer = csv.writer(sys.stdout)
    writer.writerow(["section", "item", "value"])
    for row in statistics_rows(statistics):
        writer.writerow(row)


COMMANDS = [visits_group]
