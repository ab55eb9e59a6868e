"""Monthly reports: flask commands.

``flask reports monthly [--month YYYY-MM]`` tells company leadership (the
roles of the setting ``REPORT_RECIPIENT_ROLES``) that the month's complaint
summary (CMP-18), return-visit statistics (VIS-13) and performance points
(CUS-11) are ready, with a link to each; the default month is the last one.
Each report reaches each person once, however often the command runs.
``flask deadlines scan`` does the same by itself from the first working day
of the month.
"""
import click
from flask.cli import with_appcontext


@click.group("reports", help="Charts and monthly reports.")
def reports_group():
    pass


@reports_group.command("monthly")
@click.option("--month", "period", default=None, metavar="YYYY-MM",
              help="Month of the reports (default: last month).")
@with_appcontext
def monthly_command(period):
    """Deliver the monthly reports to company leadership (once per report and person)."""
    from .deadlines import local_today
    from .services import reports

    if period:
        try:
            year, month = reports.parse_month(period)
        except ValueError:
            raise click.BadParameter("expected YYYY-MM", param_hint="--month") from None
    else:
        today = local_today()
        year, month = reports.shift_month(today.year, today.month, -1)
    if not reports.report_recipients():
        click.echo(f"Nobody holds the roles {', '.join(reports.recipient_roles())}.", err=True)
    lines = reports.deliver_monthly_reports(year, month)
    for line in lines:
        click.echo(line)
    click.echo(f"{len(lines)} report notification(s) sent for {reports.month_key(year, month)}.")


COMMANDS = [reports_group]
