"""The README's generated sections: the role table and the workflow diagrams."""
import re

from .cli import roles_markdown
from .security.roles import ROLES


def generated_sections():
    """``{marker: markdown}`` for every generated section of the README."""
    from .workflows import all_workflows

    sections = {"roles": roles_markdown(ROLES)}
    for name, workflow in all_workflows().items():
        sections[f"workflow:{name}"] = "```mermaid\n" + workflow.mermaid() + "\n```"
    return sections


def fill_readme(text, sections):
    """Return ``text`` with each ``<!-- marker:begin -->...<!-- marker:end -->`` refilled."""
    for marker, body in sections.items():
        pattern = re.compile(
            rf"(<!-- {re.escape(marker)}:begin -->\n).*?(<!-- {re.escape(marker)}:end -->)", re.S
        )
        text = pattern.sub(lambda match: match.group(1) + body + "\n" + match.group(2), text)
    return text
