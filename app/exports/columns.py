"""What an export contains: its columns, their headers, and each cell's value (X-04).

The columns are the list's own (``list_columns``, dotted relation columns
included), so an export shows what the screen shows. Values come out typed
(numbers, dates, text) so that the XLSX writer can keep numbers as numbers;
every piece of text has already been neutralised against formula injection.
"""
import datetime
import decimal
import re
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import joinedload

# Spreadsheet programs run a cell that starts with one of these as a formula
# (tab and carriage return hide such a start from a quick look).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class ExportColumn:
    """One exported column: its dotted name, label and optional ChoiceSet."""

    name: str
    label: object  # a lazy string (rendered in the request's locale) or a str
    choices: type = None

    @property
    def header(self):
        return str(self.label)


def prettify(name):
    """FAB's own fallback label: ``parent.name`` -> ``Parent Name``."""
    return re.sub("[._]", " ", name).title()


def export_columns(model, column_names, label_columns):
    """The ExportColumns for ``column_names`` of ``model``, labelled from ``label_columns``."""
    return [
        ExportColumn(name, label_columns.get(name) or prettify(name), column_choices(model, name))
        for name in column_names
    ]


def column_choices(model, name):
    """The ChoiceSet declared with ``info={"choices": ...}`` on the (dotted) column, if any."""
    mapper = sa_inspect(model)
    *relations, leaf = name.split(".")
    for relation in relations:
        prop = mapper.relationships.get(relation)
        if prop is None:
            return None
        mapper = prop.mapper
    prop = mapper.column_attrs.get(leaf)
    if prop is None:
        return None
    return prop.columns[0].info.get("choices")


def eager_load_options(model, column_names):
    """Join the many-to-one relations the columns show, instead of one query per row.

    Collections are left to lazy loading: joining them would multiply rows and
    does not mix with ``yield_per``.
    """
    options = {}
    for name in column_names:
        current, option, path = model, None, []
        for part in name.split("."):
            prop = sa_inspect(current).relationships.get(part)
            if prop is None or prop.uselist:
                break
            attribute = getattr(current, part)
            option = joinedload(attribute) if option is None else option.joinedload(attribute)
            path.append(part)
            current = prop.mapper.class_
        if option is not None:
            options[".".join(path)] = option
    # A longer path already loads its prefixes.
    return [
        option for path, option in options.items()
        if not any(other.startswith(path + ".") for other in options)
    ]


def neutralise(text):
    """Prefix a quote to text a spreadsheet would run as a formula (CSV/formula injection)."""
    if text.startswith(FORMULA_TRIGGERS):
        return "'" + text
    return text


def present(value, choices=None, booleans=None):
    """A raw attribute value as an export cell: None, a number, a date(time) or safe text.

    ``booleans`` maps True/False to their already translated labels. Datetimes
    stay naive UTC here; each writer shows them in local time.
    """
    if value is None:
        return None
    if choices is not None:
        return neutralise(str(choices.label(value)))
    if isinstance(value, bool):
        if booleans is None:
            booleans = boolean_labels()
        return booleans[value]
    if isinstance(value, (int, float, decimal.Decimal, datetime.date, datetime.time)):
        return value
    if isinstance(value, (list, tuple, set, frozenset)):
        # A to-many relation, shown like the list shows it.
        return neutralise(", ".join(str(element) for element in value))
    return neutralise(str(value))


def boolean_labels():
    return {True: _("Yes"), False: _("No")}


class RowFormatter:
    """Turns records into rows of export cells, in the request's language.

    Translated labels (yes/no, choices) are looked up once per export rather
    than once per cell: on a large export the lookups cost more than the rest.
    """

    def __init__(self, datamodel, columns):
        self.datamodel = datamodel
        self.columns = columns
        self.booleans = boolean_labels()
        self.choice_labels = {}

    def row(self, item):
        return [self.cell(column, self.datamodel._get_attr_value(item, column.name))
                for column in self.columns]

    def cell(self, column, value):
        if column.choices is None or value is None:
            return present(value, booleans=self.booleans)
        key = (column.choices, value)
        if key not in self.choice_labels:
            self.choice_labels[key] = present(value, column.choices)
        return self.choice_labels[key]
