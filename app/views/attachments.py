"""Attachment doors: upload, replace, record a paper original, download.

The routes are generic (``/attachmentview/upload/<owner_table>/<owner_id>``)
so every module's record page uses the same ones through the panel
``record/_attachments.html``, shown when a view sets ``show_attachments``.
Each route checks the role permission (``can_upload`` / ``can_download`` on
AttachmentView) and, through the service, that the user may see the owning
record; a record the user may not see answers 404, never its data.
"""
from urllib.parse import urlsplit

from flask import (
    abort, current_app, flash, g, jsonify, redirect, render_template, request, send_file, url_for,
)
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access, permission_name
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import inspect
from werkzeug.routing import BuildError

from ..extensions import db
from ..models.attachments import Attachment
from ..security.visibility import can_see, ensure_visible
from ..services.attachments import (
    StoredFileMissing, add_attachment, attachment_history, attachment_kinds, format_megabytes,
    load_owner, may_change_attachments, open_for_download, record_paper_original, replace_attachment,
)
from ..services.errors import DomainError, RecordNotVisible


def _flash_refusal(error):
    messages = [str(error.message)]
    messages += [str(text) for text in (getattr(error, "errors", None) or {}).values()]
    for message in dict.fromkeys(messages):
        flash(message, "danger")


def _safe_next(value):
    """A same-site path from the form, or None (no open redirect)."""
    if not value:
        return None
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or not value.startswith("/") or value.startswith("//"):
        return None
    if "\\" in value:
        return None
    return value


def owner_page_url(owner):
    """The show page of the first registered view of the owner's model, else the home page."""
    appbuilder = current_app.appbuilder
    owner_id = inspect(owner).identity[0]
    for view in appbuilder.baseviews:
        datamodel = getattr(view, "datamodel", None)
        if getattr(datamodel, "obj", None) is type(owner) and hasattr(view, "show"):
            try:
                return url_for(f"{view.endpoint}.show", pk=owner_id)
            except BuildError:
                continue
    return appbuilder.get_url_for_index


def human_size(size):
    """A byte count as people read it: 532 B, 14.2 KB, 3.1 MB."""
    if size is None:
        return ""
    for unit in ("B", "KB", "MB"):
        if size < 1024 or unit == "MB":
            return f"{size} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return ""


class AttachmentView(BaseView):
    """Web doors of the attachment service; pages redirect back to the owner's record."""

    route_base = "/attachmentview"

    def _owner_or_404(self, owner_table, owner_id):
        try:
            return ensure_visible(g.user, load_owner(owner_table, owner_id))
        except RecordNotVisible:
            abort(404)

    def _back(self, owner):
        return _safe_next(request.form.get("next")) or owner_page_url(owner)

    def _call(self, service, *args, **kwargs):
        """Run a service; flash its refusal. Returns the result, or None when refused."""
        try:
            return service(*args, **kwargs)
        except RecordNotVisible:
            abort(404)
        except DomainError as error:
            _flash_refusal(error)
            return None

    @expose("/upload/<string:owner_table>/<int:owner_id>", methods=["POST"])
    @has_access
    @permission_name("upload")
    def upload(self, owner_table, owner_id):
        owner = self._owner_or_404(owner_table, owner_id)
        back = self._back(owner)
        attachment = self._call(
            add_attachment, owner, request.files.get("file"), request.form.get("kind"), g.user,
            note=request.form.get("note"), paper_location=request.form.get("paper_location"),
        )
        if attachment is not None:
            flash(_("“%(filename)s” was attached.", filename=attachment.original_filename),
                  "success")
        return redirect(back)

    @expose("/replace/<int:attachment_id>", methods=["POST"])
    @has_access
    @permission_name("upload")
    def replace(self, attachment_id):
        attachment = db.session.get(Attachment, attachment_id)
        if attachment is None:
            abort(404)
        owner = self._owner_or_404(attachment.owner_table, attachment.owner_id)
        back = self._back(owner)
        new = self._call(replace_attachment, attachment_id, request.files.get("file"), g.user,
                         note=request.form.get("note"))
        if new is not None:
            flash(_("“%(filename)s” is now version %(version)s; the earlier versions are kept.",
                    filename=new.original_filename, version=new.version), "success")
        return redirect(back)

    @expose("/paper/<string:owner_table>/<int:owner_id>", methods=["POST"])
    @has_access
    @permission_name("upload")
    def paper(self, owner_table, owner_id):
        owner = self._owner_or_404(owner_table, owner_id)
        back = self._back(owner)
        record = self._call(
            record_paper_original, owner, request.form.get("kind"),
            request.form.get("paper_location"), g.user, note=request.form.get("note"),
        )
        if record is not None:
            flash(_("The location of the paper original was recorded: %(location)s.",
                    location=record.paper_location), "success")
        return redirect(back)

    @expose("/download/<int:attachment_id>", methods=["GET"])
    @has_access
    @permission_name("download")
    def download(self, attachment_id):
        try:
            path, filename, content_type = open_for_download(attachment_id, g.user)
        except RecordNotVisible:
            abort(404)
        except StoredFileMissing as error:
            abort(503, description=str(error.message))
        # send_file writes both filename= (ASCII fallback) and filename*=UTF-8''… (RFC 5987),
        # so Chinese names survive in every browser.
        response = send_file(path, mimetype=content_type, as_attachment=True,
                             download_name=filename, conditional=True)
        response.headers["X-Content-Type-Options"] = "nosniff"
        # Never render an uploaded file as a page of this site.
        response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
        response.cache_control.private = True
        response.cache_control.no_store = True
        response.cache_control.public = False
        return response


# ---------------------------------------------------------------------------
# The record page's panel and the 413 page
# ---------------------------------------------------------------------------

def attachment_panel(view, pk):
    """What ``record/_attachments.html`` shows, or None when the view has no panel."""
    if view is None or not getattr(view, "show_attachments", False):
        return None
    model = view.datamodel.obj
    owner = db.session.get(model, pk)
    if owner is None or not can_see(current_user, owner):
        return None
    security = current_app.appbuilder.sm
    kinds = attachment_kinds(model)
    labels = {value: label for value, label in kinds}
    return {
        "owner_table": model.__tablename__,
        "owner_id": owner.id,
        "groups": attachment_history(owner),
        "kinds": kinds,
        "kind_label": lambda kind: labels.get(kind, kind),
        "human_size": human_size,
        # The service refuses anyway; hiding the forms saves a refused upload.
        "can_upload": security.has_access("can_upload", "AttachmentView")
        and may_change_attachments(owner, current_user),
        "can_download": security.has_access("can_download", "AttachmentView"),
    }


def _request_too_large(_error):
    """413: the request exceeded MAX_CONTENT_LENGTH before any view could look at it."""
    limit = current_app.config.get("MAX_CONTENT_LENGTH")
    if limit:
        message = _("The upload is too large: at most %(limit)s MB can be sent at once.",
                    limit=format_megabytes(limit))
    else:
        message = _("The upload is too large.")
    if request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json":
        return jsonify(message=message), 413
    referrer = request.referrer
    appbuilder = current_app.appbuilder
    same_site = referrer and urlsplit(referrer).netloc == request.host
    back = referrer if same_site else appbuilder.get_url_for_index
    return render_template(
        "attachments/too_large.html", base_template=appbuilder.base_template,
        appbuilder=appbuilder, message=message, back=back,
    ), 413


def register_attachment_views(appbuilder):
    """Register the attachment routes, the panel's template global and the 413 page."""
    appbuilder.add_view_no_menu(AttachmentView())
    # Runs inside create_app's app context.
    app = current_app._get_current_object()
    app.jinja_env.globals["attachment_panel"] = attachment_panel
    app.register_error_handler(413, _request_too_large)
