"""Two languages (X-05): Chinese by default, English on request, nothing untranslated."""
import os

from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.pofile import read_po

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CATALOGUE = os.path.join(ROOT, "translations", "zh", "LC_MESSAGES", "messages.po")


def _catalogue():
    with open(CATALOGUE, "rb") as po_file:
        return read_po(po_file, locale="zh")


def _source_msgids():
    method_map = [("app/**.py", "python"), ("app/templates/**.html", "jinja2")]
    found = set()
    keywords = {**DEFAULT_KEYWORDS, "lazy_gettext": None, "_l": None}
    for _filename, _lineno, message, _comments, _context in extract_from_dir(
        ROOT, method_map=method_map, keywords=keywords,
        options_map={"app/templates/**.html": {"extensions": "jinja2.ext.do"}},
    ):
        found.add(message if isinstance(message, str) else message[0])
    return found


def test_x_05_every_catalogue_entry_is_translated_into_chinese():
    untranslated = [
        message.id for message in _catalogue()
        if message.id and (not message.string or message.fuzzy
                           or (isinstance(message.string, tuple) and not all(message.string)))
    ]
    assert not untranslated, f"untranslated or fuzzy in zh: {untranslated}"


def test_x_05_every_string_in_the_code_is_in_the_catalogue():
    catalogue_ids = {
        message.id if isinstance(message.id, str) else message.id[0]
        for message in _catalogue() if message.id
    }
    missing = sorted(_source_msgids() - catalogue_ids)
    assert not missing, f"run `make translations` and translate: {missing}"


def test_x_05_chinese_is_the_default_and_english_is_one_click_away(client, make_user, login_as):
    login_as(make_user("FrontDesk"))
    chinese = client.get("/departmentview/list/").get_data(as_text=True)
    assert "部门" in chinese
    assert client.get("/lang/en", follow_redirects=False).status_code == 302
    english = client.get("/departmentview/list/").get_data(as_text=True)
    assert "Departments" in english
    client.get("/lang/zh")
    assert "部门" in client.get("/departmentview/list/").get_data(as_text=True)


def test_x_05_fab_gaps_are_covered_in_chinese(client, make_user, login_as):
    """FAB's own catalogue lacks some words (list titles, Add/Edit/Show)."""
    login_as(make_user("GeneralManager"))
    page = client.get("/dutyassignmentview/list/").get_data(as_text=True)
    assert "值班表" in page
    add = client.get("/dutyassignmentview/add").get_data(as_text=True)
    assert "新增值班" in add
