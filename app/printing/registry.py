"""The registry of official forms: each is a template plus the record it prints."""
from dataclasses import dataclass, field
from typing import Callable, Optional

from flask import render_template
from flask_babel import lazy_gettext as _l

from ..models.base import utcnow
from ..services.settings import get_setting, register_setting

register_setting("ORGANISATION_NAME", "",
                 _l("Organisation name printed at the top of official forms"), kind=str)


@dataclass(frozen=True)
class FormSpec:
    """One official form.

    ``load(pk, actor)`` returns the record ``actor`` may see (raising
    ``RecordNotVisible`` otherwise, which the routes answer with 404) and
    records the read where the domain logs reads; ``pk`` is ``None`` for a
    register (a form printed from many records, e.g. the lending register).
    ``context(record)`` adds what the template needs besides the record, which
    it receives as ``record_name``. ``number(record)`` is the number printed
    in the header and used in the PDF's file name. The permission is the one
    of the record's show page: ``(permission, view_name)``.
    """

    name: str
    template: str
    title: object  # lazy_gettext string
    paper_title: str  # the name printed on the paper form, always shown (e.g. 投诉处理登记表)
    record_name: str
    view_name: str
    load: Callable
    number: Callable
    context: Callable = field(default=lambda record: {})
    permission: str = "can_show"
    model: Optional[type] = None
    register: bool = False  # printed from a list of records, without an id
    copies: tuple = ()  # lazy labels of the copies printed, in order (e.g. 客户联, 施工单位联, 存档联)


FORMS = {}


def register_form(spec):
    """Declare an official form (idempotent; called at import time)."""
    FORMS[spec.name] = spec
    return spec


def get_form(name):
    """The FormSpec called ``name``; KeyError when there is none."""
    from . import forms  # noqa: F401  (declares the forms on first use)

    return FORMS[name]


def print_in_chinese():
    """Whether the page is printed in Chinese (the paper form's own title is then the heading)."""
    from flask_babel import get_locale

    locale = get_locale()
    return locale is None or str(locale).startswith("zh")


def page_counter_css():
    """The CSS ``content`` of the page footer: "Page 3 of 5" in the page's language."""
    from flask_babel import gettext
    from markupsafe import Markup

    text = str(gettext("Page %(page)s of %(pages)s", page="\x01", pages="\x02"))
    text = text.replace("\\", "").replace('"', "").replace("\n", " ").replace("<", "")
    text = text.replace("\x01", '" counter(page) "').replace("\x02", '" counter(pages) "')
    return Markup(f'"{text}"')


def organisation_name():
    """The organisation printed in the forms' header: the setting, else the app's name."""
    from flask import current_app

    configured = (get_setting("ORGANISATION_NAME") or "").strip()
    return configured or current_app.config.get("APP_NAME", "")


def load_record(form, pk, actor):
    """The record (or list, for a register) the form prints, as ``actor`` may see it."""
    spec = form if isinstance(form, FormSpec) else get_form(form)
    return spec.load(pk, actor)


def form_context(form, record):
    """Everything the form's template receives: the record under its name, the
    form's own extras, and the shared header values."""
    spec = form if isinstance(form, FormSpec) else get_form(form)
    return {
        spec.record_name: record,
        **spec.context(record),
        "form_name": spec.name,
        "form_title": spec.title,
        "paper_title": spec.paper_title,
        "form_number": spec.number(record),
        "form_copies": [str(label) for label in spec.copies],
        "organisation_name": organisation_name(),
        "printed_at": utcnow(),
    }


def render_html(form, record, **extra):
    """The form's printable HTML page for ``record`` (already loaded and checked)."""
    spec = form if isinstance(form, FormSpec) else get_form(form)
    return render_template(spec.template, **{**form_context(spec, record), **extra})


def filename_for(form, record):
    """The PDF's file name: the form's title and the record's number."""
    spec = form if isinstance(form, FormSpec) else get_form(form)
    title = spec.paper_title if print_in_chinese() else str(spec.title)
    number = spec.number(record) or ""
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in str(number)).strip("-")
    return f"{title}-{safe}.pdf" if safe else f"{title}.pdf"
