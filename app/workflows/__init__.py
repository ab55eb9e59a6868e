"""Every approval chain of the product, by name."""


def all_workflows():
    """``{name: Workflow}`` for the CLI diagram command, docs and tests."""
    from .absences import ABSENCE_WORKFLOW

    workflows = [ABSENCE_WORKFLOW]
    return {workflow.name: workflow for workflow in workflows}
