"""`flask audit ...` commands."""
import click


@click.group("audit")
def audit_group():
    """The audit trail."""
