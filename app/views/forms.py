"""Official printable forms, as HTML and PDF: one mechanism for every form.

``/forms/<form>/<id>`` is the print page, ``/forms/<form>/<id>.pdf`` the same
page as a PDF; a register (printed from many records) has no id:
``/forms/<form>`` and ``/forms/<form>.pdf``. Each answers with the permission
of the record's show page (403 without it) and only for a record the user may
see (404 otherwise, as on the show page). The forms are declared in
``app/printing/forms.py``.
"""
from flask import abort, current_app, redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_login import current_user

from ..audit.context import current_actor
from ..printing import (
    filename_for, form_context, get_form, load_record, pdf_response, render_html,
)
from ..services.errors import RecordNotVisible


def _spec_or_404(form):
    try:
        return get_form(form)
    except KeyError:
        abort(404)


def _pdf_url(spec, pk):
    if spec.register:
        return url_for("FormsView.register_pdf", form=spec.name)
    return url_for("FormsView.record_pdf", form=spec.name, pk=pk)


def _load_or_404(spec, pk):
    try:
        return load_record(spec, pk, current_actor())
    except RecordNotVisible:
        abort(404)


def form_page(form, pk=None):
    """The print page of ``form`` for record ``pk``; the caller has checked the permission.

    The older per-domain print URLs (``/complaintview/print/<id>`` ...) answer with this.
    """
    spec = _spec_or_404(form)
    record = _load_or_404(spec, pk)
    return render_html(spec, record, form_pdf_url=_pdf_url(spec, pk))


def form_pdf(form, pk=None):
    """The PDF of ``form`` for record ``pk``; the caller has checked the permission."""
    spec = _spec_or_404(form)
    record = _load_or_404(spec, pk)
    return pdf_response(spec.template, filename_for(spec, record), **form_context(spec, record))


class FormsView(BaseView):
    """Print pages and PDFs of the official forms, behind each record's own permission."""

    route_base = "/forms"

    def _permitted(self, spec):
        """None when the user holds the record's show permission, else the refusal."""
        if not current_user.is_authenticated:
            return redirect(url_for(self.appbuilder.sm.auth_view.__class__.__name__ + ".login",
                                    next=request.url))
        if not self.appbuilder.sm.has_access(spec.permission, spec.view_name):
            abort(403)
        return None

    def _serve(self, form, pk, pdf):
        spec = _spec_or_404(form)
        if spec.register != (pk is None):
            abort(404)
        refusal = self._permitted(spec)
        if refusal is not None:
            return refusal
        return form_pdf(form, pk) if pdf else form_page(form, pk)

    @expose("/<string:form>/<int:pk>")
    def record_html(self, form, pk):
        return self._serve(form, pk, pdf=False)

    @expose("/<string:form>/<int:pk>.pdf")
    def record_pdf(self, form, pk):
        return self._serve(form, pk, pdf=True)

    @expose("/<string:form>.pdf")
    def register_pdf(self, form):
        return self._serve(form, None, pdf=True)

    @expose("/<string:form>")
    def register_html(self, form):
        return self._serve(form, None, pdf=False)


def register_form_views(appbuilder):
    """Add the form print and PDF routes."""
    from ..printing.registry import organisation_name, page_counter_css, print_in_chinese

    current_app.jinja_env.globals.update(print_in_chinese=print_in_chinese,
                                         print_organisation_name=organisation_name,
                                         print_page_counter=page_counter_css)
    appbuilder.add_view_no_menu(FormsView)
