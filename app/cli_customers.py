"""Customer information and archives (客户信息与档案, CUS-01 to CUS-11): flask commands.

``flask customers open-filing-deadlines`` (run it from cron on the first of
each month, or daily: it is idempotent) opens the month-end filing deadline of
every archive still followed up, so that ``flask deadlines scan`` reminds the
managers before the last day of the month and reports missed filings.
``flask customers assessment --month YYYY-MM`` prints the monthly assessment.
"""
import click
from flask.cli import with_appcontext


@click.group("customers")
def customers_group():
    """Customer information and archives."""


@customers_group.command("open-filing-deadlines")
@with_appcontext
def open_filing_deadlines_command():
    """Open this month's filing deadline of every archive being followed up (idempotent)."""
    from .services.customers import open_month_filing_deadlines

    count = open_month_filing_deadlines()
    click.echo(f"{count} archive filing deadline(s) open for this month.")


@customers_group.command("assessment")
@click.option("--month", help="YYYY-MM (default: this month)")
@with_appcontext
def assessment_command(month):
    """Print the monthly assessment: late forms, late and missed filings, points per manager."""
    from .deadlines import local_today
    from .services.customers import assessment_rows, period_of

    period = month or period_of(local_today())
    for row in assessment_rows(period):
        click.echo(f"{period}\t{row['manager_name']}\t{row['late_forms']}\t{row['late_filings']}\t"
                   f"{row['missed_filings']}\t{row['points']}")


COMMANDS = [customers_group]
