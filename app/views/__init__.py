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
