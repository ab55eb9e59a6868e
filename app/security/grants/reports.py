"""Home page, search, charts and monthly reports: what each role may do.

Everyone on the staff searches and opens the charts: every figure and every
hit is computed over the records the viewer may see, so the same page is
safe for all. A monthly report's downloads (CSV, Excel, printable document)
go to the roles that read that report's page in its own module, so the two
doors cannot disagree; leadership (the roles of the setting
``REPORT_RECIPIENT_ROLES``, by default the general manager and the director)
holds all three.
"""
from ..roles import menu

VIEW = "MonthlyReportView"
CATEGORY = "Reports"

EVERYONE = (
    {("can_search", "SearchView"), ("can_charts", "DashboardView")}
    | menu(CATEGORY, "Charts")
)
REPORTS_MENU = menu(CATEGORY, "Monthly reports")

_ALL_ROLES = ("FrontDesk", "AdminDesk", "ComplaintOfficer", "Partner", "Director",
              "ServiceSupervisor", "PropertyAssistant", "DepartmentSupervisor", "GeneralManager",
              "CultureClerk", "ServiceWindow", "Marketing", "SupplyStation", "CityCompany",
              "Inspector", "SalesManager", "SalesHead", "ArchiveCustodian", "Auditor")
LEADERSHIP = ("GeneralManager", "Director")


def _holders(grants, pair):
    return {role for role, pairs in grants.items() if pair in pairs}


def _report_roles():
    """``{report key: roles}`` from the grants of the module that owns each report's page."""
    from . import complaints, customers, visits

    complaint_roles = _holders(complaints.GRANTS, ("can_summary", "ComplaintSummaryView"))
    assessment_roles = _holders(customers.GRANTS, ("can_list", "CustomerAssessmentView"))
    visit_roles = {role for role, pairs in visits.GRANTS.items()
                   if any("statistic" in view.lower() for _perm, view in pairs)}
    visit_roles |= {"ServiceSupervisor"}
    return {"complaints": complaint_roles | set(LEADERSHIP),
            "visits": visit_roles | set(LEADERSHIP),
            "assessment": assessment_roles | set(LEADERSHIP)}


def _grants():
    grants = {role: set(EVERYONE) for role in _ALL_ROLES}
    for report, roles in _report_roles().items():
        for role in roles:
            grants.setdefault(role, set(EVERYONE)).update(
                {(f"can_{report}", VIEW), ("can_index", VIEW)} | REPORTS_MENU)
    return grants


GRANTS = _grants()
