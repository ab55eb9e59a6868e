"""Every approval chain of the product, by name."""


def all_workflows():
    """``{name: Workflow}`` for the CLI diagram command, docs and tests."""
    from . import complaints, customers, projects, visits
    from .absences import ABSENCE_WORKFLOW

    workflows = [ABSENCE_WORKFLOW, *complaints.WORKFLOWS, *projects.WORKFLOWS, *customers.WORKFLOWS,
                 *visits.WORKFLOWS]
    return {workflow.name: workflow for workflow in workflows}
