"""The README's generated sections match the code they describe."""
import os

from app.docs import fill_readme, generated_sections

README = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "README.md")


def test_readme_role_table_and_workflow_diagrams_are_current(ctx):
    with open(README, encoding="utf-8") as readme_file:
        text = readme_file.read()
    sections = generated_sections()
    for marker in sections:
        assert f"<!-- {marker}:begin -->" in text, f"README lacks the {marker} section"
    assert fill_readme(text, sections) == text, "run `flask --app run docs` and commit README.md"


def test_readme_opens_with_the_two_commands():
    with open(README, encoding="utf-8") as readme_file:
        head = readme_file.read(600)
    assert "make run" in head and "make test" in head
