"""Complaints and feedback (投诉及意见反馈, CMP-01 to CMP-18): flask commands.

``flask complaints summary [--year Y] [--month M] [--as USER]`` prints the
monthly summary (每月汇总, CMP-18) as CSV, counting what USER may see (an
administrator sees everything; the default is ``admin``).
"""
import csv
import sys

import click
from flask.cli import with_appcontext


@click.group("complaints", help="Complaints and feedback.")
def complaints_group():
    pass


@complaints_group.command("summary")
@click.option("--year", type=int, default=None, help="Year (default: this year).")
@click.option("--month", type=click.IntRange(1, 12), default=None,
              help="Month (default: this month).")
@click.option("--as", "username", default="admin", show_default=True,
              help="Count the complaints this user may see.")
@with_appcontext
def summary_command(year, month, username):
    """Print the monthly summary of complaints as CSV (CMP-18)."""
    from flask import current_app

    from .audit.context import acting_as
    from .deadlines import local_today
    from .services.complaints import monthly_summary, summary_rows

    user = current_app.appbuilder.sm.find_user(username=username)
    if user is None:
        raise click.ClickException(f"no user {username!r}")
    today = local_today()
    with acting_as(user):
        data = monthly_summary(user, year or today.year, month or today.month)
    writer = csv.writer(sys.stdout)
    writer.writerow(["section", "item", "value"])
    for row in summary_rows(data):
        writer.writerow(row)


COMMANDS = [complaints_group]
