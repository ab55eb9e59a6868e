"""Customer electrical projects (客户工程/业扩报装, ENG-01 to ENG-17): flask commands."""
import click
from flask.cli import with_appcontext


@click.group("projects")
def projects_group():
    """Customer electrical projects."""


@projects_group.command("overdue")
@with_appcontext
def overdue_command():
    """List the projects with a time limit past due (ENG-17): number, stage, what, due, who."""
    from .extensions import db
    from .models.base import utcnow
    from .models.projects import PowerApplication, Stage
    from .services import projects as svc
    from .timeutil import format_local

    now = utcnow()
    ids = db.session.scalars(svc.overdue_application_ids(now)).all()
    rows = db.session.query(PowerApplication).filter(PowerApplication.id.in_(ids)).order_by(
        PowerApplication.number).all()
    for application in rows:
        for deadline in svc.project_deadlines(application):
            item = svc.describe_deadline(deadline, now)
            if item["overdue"]:
                click.echo(f"{application.number}\t{application.customer_name}\t"
                           f"{Stage.label(application.stage)}\t{item['label']}\t"
                           f"{format_local(deadline.due_at)}\t{item['who']}")
    click.echo(f"{len(rows)} project(s) overdue.")


@projects_group.command("route")
@click.argument("voltage")
@click.argument("capacity", type=float)
@click.argument("unit", type=click.Choice(["kW", "kVA"]))
@click.option("--dual", is_flag=True, help="Backup or security power (dual supply) wanted.")
@with_appcontext
def route_command(voltage, capacity, unit, dual):
    """Show who reviews a design of this size (ENG-05), e.g. `flask projects route 0.22kV 10 kW`."""
    from .models.projects import PowerApplication, ReviewRoute, VoltageLevel
    from .services import projects as svc

    if voltage not in VoltageLevel.values():
        raise click.BadParameter(f"one of {', '.join(VoltageLevel.values())}", param_hint="voltage")
    probe = PowerApplication(voltage_level=voltage, requested_capacity=capacity,
                             capacity_unit=unit, backup_power=dual)
    route = svc.review_route(probe)
    click.echo(f"{capacity:g} {unit} at {voltage}: {svc.to_kw(capacity, unit):g} kW / "
               f"{svc.to_kva(capacity, unit):g} kVA (power factor {svc.power_factor():g}) -> "
               f"{ReviewRoute.label(route)} ({ReviewRoute.ROLES[route]})")


COMMANDS = [projects_group]
