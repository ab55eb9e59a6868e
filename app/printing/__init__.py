"""Official printable forms and PDF documents: one print mechanism for all of them.

A form is a template plus the record, nothing else. ``FORMS`` (see
``registry.py`` and the declarations in ``forms.py``) names each official form
with its template, the record it prints, the show-page permission it needs and
how the record is loaded for a user who may see it. The same template serves
the HTML print page and, through WeasyPrint, the PDF.

For any other printable document (monthly reports...)::

    from app.printing import pdf_response, render_pdf

    pdf_bytes = render_pdf("reports/complaints_print.html", rows=rows, period="2026-10")
    return pdf_response("reports/complaints_print.html", "投诉月报-2026-10.pdf", rows=rows)

Templates extend ``forms/_base.html`` (A4, margins, organisation header, page
numbers, Chinese fonts named explicitly).
"""
from .pdf import cjk_font_available, html_to_pdf, pdf_bytes_response, pdf_response, render_pdf
from .registry import (
    FORMS, FormSpec, filename_for, form_context, get_form, load_record, organisation_name,
    print_in_chinese, register_form, render_html,
)

__all__ = [
    "FORMS", "FormSpec", "cjk_font_available", "filename_for", "form_context", "get_form",
    "html_to_pdf", "load_record", "organisation_name", "pdf_bytes_response", "pdf_response",
    "print_in_chinese", "register_form", "render_html", "render_pdf",
]
