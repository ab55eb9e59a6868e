"""HTML to PDF with WeasyPrint: the print templates become PDFs without a second layout.

Nothing is fetched from outside while rendering: only ``data:`` URIs load, so a
template that names a remote stylesheet or image prints without it instead of
reaching the internet. Chinese needs a CJK font known to fontconfig (Debian's
``fonts-noto-cjk``, see ``scripts/ensure-fonts.sh``); without one the PDF is
still produced, and a warning is logged once.
"""
import functools
import logging
import shutil
import subprocess
from urllib.parse import quote

from flask import Response, current_app, has_request_context, render_template

log = logging.getLogger(__name__)

# The families the print CSS names, in order of preference (forms/_base.html).
CJK_FAMILIES = ("Noto Serif CJK SC", "Noto Sans CJK SC", "Source Han Serif SC",
                "Source Han Sans SC", "SimSun", "Songti SC", "WenQuanYi Micro Hei",
                "AR PL UMing CN")


@functools.lru_cache(maxsize=1)
def installed_cjk_families():
    """The font families installed here that cover Chinese (empty when none or unknown)."""
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return ()
    try:
        output = subprocess.run([fc_list, ":lang=zh", "family"], capture_output=True,
                                text=True, timeout=10, check=False).stdout
    except (OSError, subprocess.SubprocessError):
        return ()
    families = set()
    for line in output.splitlines():
        families.update(name.strip() for name in line.split(",") if name.strip())
    return tuple(sorted(families))


def cjk_font_available():
    """Whether a font with Chinese glyphs is installed (PDFs otherwise show empty boxes)."""
    return bool(installed_cjk_families())


@functools.lru_cache(maxsize=1)
def _warn_once_without_cjk_font():
    if not cjk_font_available():
        log.warning("No font with Chinese glyphs is installed: PDF forms will show boxes "
                    "instead of Chinese. Install one (Debian: fonts-noto-cjk, see "
                    "scripts/ensure-fonts.sh).")
    return True


def _local_only_fetcher():
    from weasyprint.urls import URLFetcher

    return URLFetcher(allowed_protocols={"data"}, timeout=1)


def html_to_pdf(html):
    """PDF bytes of an HTML document (a string), rendered for print media."""
    from weasyprint import HTML

    _warn_once_without_cjk_font()
    return HTML(string=html, base_url=None, url_fetcher=_local_only_fetcher(),
                media_type="print").write_pdf()


def render_pdf(template_name, **context):
    """Render a Jinja template of the app and return the PDF as ``bytes``.

    ``template_name`` is a template path (``"reports/monthly_print.html"``) or the
    name of a registered official form (``"complaint"``, see ``app.printing.FORMS``),
    whose template is then used. ``context`` is passed to the template as for
    ``flask.render_template``; the template should extend ``forms/_base.html``
    (A4, margins, organisation header, page numbers, CJK fonts) and should not
    link outside assets (they are not fetched). ``pdf=True`` is added to the
    context so a template can leave out screen-only parts.

    Works inside a request, and outside one (a CLI command, a scheduled job):
    then a request context on ``PUBLIC_BASE_URL`` (or ``http://localhost/``) is
    set up so ``url_for`` works. Needs an application context.
    """
    from . import forms  # noqa: F401  (declares the official forms)
    from .registry import FORMS

    if template_name in FORMS:
        template_name = FORMS[template_name].template
    context.setdefault("pdf", True)
    if has_request_context():
        html = render_template(template_name, **context)
    else:
        base_url = current_app.config.get("PUBLIC_BASE_URL") or "http://localhost/"
        with current_app.test_request_context("/", base_url=base_url):
            html = render_template(template_name, **context)
    return html_to_pdf(html)


def pdf_response(template_name, filename, **context):
    """A ``flask.Response`` with the PDF of ``template_name`` rendered with ``context``.

    ``filename`` is what the browser saves it as (``.pdf`` is appended when
    missing; Chinese is fine: it is sent RFC 5987-encoded). The PDF opens in the
    browser's viewer (``inline``); see :func:`render_pdf` for the template rules.
    """
    body = render_pdf(template_name, **context)
    return pdf_bytes_response(body, filename)


def pdf_bytes_response(body, filename):
    """Wrap already rendered PDF bytes in a response named ``filename``."""
    if not filename.lower().endswith(".pdf"):
        filename += ".pdf"
    # Old clients read the plain ``filename``: the ASCII part (the number), never empty.
    ascii_name = filename.encode("ascii", "ignore").decode().replace('"', "").lstrip("-_ ")
    if not ascii_name or ascii_name.startswith("."):
        ascii_name = "document" + (ascii_name if ascii_name.startswith(".") else ".pdf")
    response = Response(body, mimetype="application/pdf")
    response.headers["Content-Disposition"] = (
        f"inline; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}")
    response.headers["Cache-Control"] = "private, no-store"
    return response
