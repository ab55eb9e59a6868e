"""Flask commands: init and demo data, sync-roles, workflow diagrams.

Shared modules add their own groups (``audit``, ``deadlines``) in
:func:`register_cli`.
"""
import click
from flask import current_app
from flask.cli import with_appcontext


@click.command("sync-roles")
@with_appcontext
def sync_roles_command():
    """Create or update every role from app/security/roles.py (idempotent)."""
    from .security.sync import sync_roles

    report = sync_roles(current_app.appbuilder.sm)
    for name, (added, removed) in report.items():
        click.echo(f"{name}: +{added} -{removed}")


@click.group("roles")
def roles_group():
    """Roles as data."""


@roles_group.command("table")
def roles_table():
    """Print the role table of the README (generated from app/security/roles.py)."""
    from .security.roles import ROLES

    click.echo(roles_markdown(ROLES))


def roles_markdown(roles):
    lines = [
        "| Role | 中文 | English | Manager | Permissions |",
        "| --- | --- | --- | --- | --- |",
    ]
    for spec in roles:
        lines.append(
            f"| `{spec.name}` | {spec.label_zh} | {spec.label_en} | "
            f"{'yes' if spec.manager else ''} | {len(spec.permissions)} |"
        )
    return "\n".join(lines)


@click.command("docs")
@click.option("--readme", default="README.md", show_default=True)
@with_appcontext
def docs_command(readme):
    """Regenerate the README's role table and workflow diagrams."""
    from .docs import fill_readme, generated_sections

    with open(readme, encoding="utf-8") as readme_file:
        text = readme_file.read()
    with open(readme, "w", encoding="utf-8") as readme_file:
        readme_file.write(fill_readme(text, generated_sections()))
    click.echo(f"{readme} updated")


@click.group("workflows")
def workflows_group():
    """Approval chains."""


@workflows_group.command("diagram")
@click.argument("name", required=False)
@with_appcontext
def workflow_diagram(name):
    """Print the Mermaid diagram of workflow NAME (all when omitted)."""
    from .workflows import all_workflows

    workflows = all_workflows()
    if name and name not in workflows:
        raise click.UsageError(f"unknown workflow {name!r}; known: {', '.join(workflows)}")
    for workflow_name in [name] if name else list(workflows):
        click.echo(workflows[workflow_name].mermaid())


@click.command("init")
@click.option("--demo/--no-demo", default=False, help="Also create demo users and data.")
@with_appcontext
def init_command(demo):
    """Prepare a database after `flask db upgrade`: roles, calendar, admin, demo data."""
    from .setup import initialise

    initialise(demo=demo, echo=click.echo)


def register_cli(app):
    app.cli.add_command(sync_roles_command)
    app.cli.add_command(roles_group)
    app.cli.add_command(docs_command)
    app.cli.add_command(workflows_group)
    app.cli.add_command(init_command)
    for group in _module_groups():
        app.cli.add_command(group)


def _module_groups():
    from . import cli_complaints, cli_customers, cli_projects, cli_reports, cli_visits
    from .audit.cli import audit_group
    from .backup import COMMANDS as backup_commands
    from .deadlines import deadlines_group
    from .security.sessions import COMMANDS as session_commands

    return [audit_group, deadlines_group, *backup_commands, *session_commands,
            *cli_complaints.COMMANDS, *cli_projects.COMMANDS,
            *cli_customers.COMMANDS, *cli_visits.COMMANDS, *cli_reports.COMMANDS]
