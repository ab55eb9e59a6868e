"""Every view, API and menu entry of the product, registered in one place.

The menu reads as data: category, entry name (also the menu permission's
name, see ``security/roles.py``), label and icon.
"""
from flask_babel import lazy_gettext as _l

from .template_globals import install_template_globals


def register_views(appbuilder):
    from .org import (
        AbsenceApi, AbsenceView, DepartmentApi, DepartmentView, DutyAssignmentView, StaffProfileView,
    )

    install_template_globals()
    refuse_unknown_actions()

    # -- Organisation --------------------------------------------------------
    organisation = dict(category="Organisation", category_label=_l("Organisation"),
                        category_icon="fa-sitemap")
    appbuilder.add_view(DepartmentView, "Departments", label=_l("Departments"),
                        icon="fa-building", **organisation)
    appbuilder.add_view(StaffProfileView, "Staff", label=_l("Staff"), icon="fa-id-badge",
                        **organisation)
    appbuilder.add_view(AbsenceView, "Absences", label=_l("Absences"),
                        icon="fa-plane", **organisation)
    appbuilder.add_view(DutyAssignmentView, "Duty roster", label=_l("Duty roster"),
                        icon="fa-calendar", **organisation)
    appbuilder.add_api(DepartmentApi)
    appbuilder.add_api(AbsenceApi)

    for register in _module_registrations():
        register(appbuilder)


def refuse_unknown_actions():
    """Answer 404 to an action name a view does not declare, on every ModelView.

    FAB looks the action up before any permission check and fails on a name it
    does not know, so ``POST <view>/action_post`` with any name was a server error.
    """
    from flask import abort
    from flask_appbuilder import ModelView

    original = ModelView.get_action_permission_name
    if getattr(original, "refuses_unknown", False):
        return

    def get_action_permission_name(self, name):
        if name not in (self.actions or {}):
            abort(404)
        return original(self, name)

    get_action_permission_name.refuses_unknown = True
    ModelView.get_action_permission_name = get_action_permission_name


def _module_registrations():
    """Registration functions of the business modules and the shared ones."""
    from .attachments import register_attachment_views
    from .audit import register_audit_views
    from .complaints import register_complaints_views
    from .customers import register_customers_views
    from .dashboards import register_dashboard_views
    from .forms import register_form_views
    from .notifications import register_notification_views
    from .projects import register_projects_views
    from .settings import register_settings_views
    from .visits import register_visits_views

    return [register_complaints_views, register_visits_views, register_projects_views,
            register_customers_views, register_notification_views, register_audit_views,
            register_attachment_views, register_settings_views, register_dashboard_views,
            register_form_views]
