"""Placeholder: time limits, working-day calendar, overdue queries."""


def open_deadline(record_table, record_id, state, kind, start, days, working_days=True,
                  assignee=None, assignee_role=None):
    """Open a deadline for a record entering ``state``."""


def close_deadlines(record_table, record_id, state, at):
    """Close the open deadlines of a record leaving ``state``."""


def seed_calendar():
    """Seed the working-day calendar; returns messages for the admin."""
    return []


import click  # noqa: E402


@click.group("deadlines")
def deadlines_group():
    """Time limits and reminders."""
