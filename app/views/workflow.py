"""Workflow doors: the buttons on a record's page and the REST action endpoints.

Both call :func:`app.services.workflow.take_step`; the engine decides. The
web door flashes the refusal; the API door answers 403 with the reason,
409 on a stale version, 422 on bad input.
"""
from flask import flash, redirect, request, url_for
from flask_appbuilder import expose
from flask_appbuilder.api import safe
from flask_appbuilder.security.decorators import has_access, permission_name, protect
from flask_babel import gettext as _

from ..audit.context import current_actor
from ..extensions import db
from ..services.errors import DomainError, RecordNotVisible
from ..services.workflow import allowed_steps, take_step
from .base import domain_error_response


def _describe(workflow, record, actor):
    return {
        "workflow": workflow.name,
        "state": workflow.state_of(record),
        "state_label": str(workflow.state_label(workflow.state_of(record))),
        "version": record.version,
        "actions": [
            {
                "name": transition.name,
                "label": str(transition.label),
                "target": transition.target,
                "comment_required": transition.comment_required,
            }
            for transition in allowed_steps(workflow, record, actor)
        ],
    }


class WorkflowViewMixin:
    """Adds ``POST /<view>/transition/<pk>/<action>`` for the show page's buttons."""

    workflow = None

    @expose("/transition/<int:pk>/<string:action>", methods=["POST"])
    @has_access
    @permission_name("transition")
    def transition(self, pk, action):
        try:
            record = take_step(
                self.workflow, pk, action, current_actor(),
                version=request.form.get("version"),
                comment=request.form.get("comment"),
                payload=request.form.to_dict(),
            )
        except RecordNotVisible as error:
            flash(str(error.message), "danger")
            return redirect(url_for(".list"))
        except DomainError as error:
            flash(str(error.message), "danger")
            for field_message in getattr(error, "errors", {}).values():
                flash(str(field_message), "danger")
        else:
            flash(
                _("Step taken. The record is now “%(state)s”.",
                  state=self.workflow.state_label(self.workflow.state_of(record))),
                "success",
            )
        return redirect(url_for(".show", pk=pk))


class WorkflowApiMixin:
    """``GET /api/v1/<resource>/<pk>/actions`` and ``POST .../actions/<action>``."""

    workflow = None

    @expose("/<int:pk>/actions", methods=["GET"])
    @protect()
    @safe
    @permission_name("get")
    def list_actions(self, pk):
        """Steps the caller may take on a record
        ---
        get:
          parameters:
          - in: path
            schema:
              type: integer
            name: pk
          responses:
            200:
              description: The record's state and the caller's allowed actions
            404:
              $ref: '#/components/responses/404'
        """
        record = db.session.get(self.workflow.model, pk)
        from ..security.visibility import can_see

        actor = current_actor()
        if record is None or not can_see(actor, record):
            return self.response_404()
        return self.response(200, **_describe(self.workflow, record, actor))

    @expose("/<int:pk>/actions/<string:action>", methods=["POST"])
    @protect()
    @safe
    @permission_name("transition")
    def perform_action(self, pk, action):
        """Take one workflow step
        ---
        post:
          parameters:
          - in: path
            schema:
              type: integer
            name: pk
          - in: path
            schema:
              type: string
            name: action
          requestBody:
            required: true
            content:
              application/json:
                schema:
                  type: object
                  properties:
                    version:
                      type: integer
                    comment:
                      type: string
                  required: [version]
          responses:
            200:
              description: The step was taken; the new state
            403:
              description: The step was refused; the reason
            404:
              $ref: '#/components/responses/404'
            409:
              description: The record changed since the given version
            422:
              description: Bad input
        """
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            return self.response(422, message=_("A JSON object is expected."))
        payload = {key: value for key, value in body.items() if key not in ("version", "comment")}
        actor = current_actor()
        try:
            record = take_step(
                self.workflow, pk, action, actor,
                version=body.get("version"), comment=body.get("comment"), payload=payload,
            )
        except DomainError as error:
            return domain_error_response(self, error)
        return self.response(200, **_describe(self.workflow, record, actor))
