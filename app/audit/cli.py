"""`flask audit ...` commands."""
import click
from flask.cli import with_appcontext
from flask_babel import gettext as _


@click.group("audit")
def audit_group():
    """The audit trail."""


@audit_group.command("verify")
@with_appcontext
def verify_command():
    """Recompute the hash chain of the whole trail; exit 1 at the first broken entry."""
    from ..extensions import db
    from .chain import verify_chain

    with db.engine.connect() as connection:
        result = verify_chain(connection)
    if result.ok:
        click.echo(_("OK: %(message)s (%(seconds).1f s)", message=result.message,
                     seconds=result.seconds))
        return
    click.echo(_("BROKEN: %(message)s", message=result.message), err=True)
    click.echo(_("%(count)s entries checked before the break.", count=result.count - 1), err=True)
    raise click.exceptions.Exit(1)
