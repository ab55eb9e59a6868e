"""Complaints and feedback (投诉及意见反馈, CMP-01 to CMP-18): what each role may do, as ``{role name: {(permission, view), ...}}``.

Row-level rules (who sees which complaint: CMP-05, CMP-12) live in
``app/services/complaints.py``; who takes which step, in the workflow table.
"""
from ..roles import api_read, api_write, menu, read, transitions, write

VIEW, API = "ComplaintView", "ComplaintApi"
RECORD = {("can_record", VIEW)}
SUMMARY = {("can_summary", "ComplaintSummaryView")} | menu("Monthly summary")
MINE = {("can_mine", "ComplaintStatusView")} | menu("Complaints", "Complaints about me")
LIST_MENU = menu("Complaints", "Complaint list")

# Receiving staff register (CMP-02) and work the cases they are involved in.
_DESK = (write(VIEW) | api_write(API) | transitions(VIEW, API) | RECORD | MINE | LIST_MENU
         | menu("Register complaint"))
# Deciders: read, take their steps, log contacts and findings, see the summary.
_DECIDER = read(VIEW) | api_read(API) | transitions(VIEW, API) | RECORD | MINE | LIST_MENU | SUMMARY
# Managers told of major complaints (CMP-15) and reading the summary (CMP-18).
_MANAGER = read(VIEW) | api_read(API) | MINE | LIST_MENU | SUMMARY

# Everyone else may only see the number and status of the complaints about them (CMP-05).
_OTHERS = ("PropertyAssistant", "CultureClerk", "ServiceWindow", "Marketing", "SupplyStation",
           "CityCompany", "Inspector", "SalesManager", "SalesHead", "ArchiveCustodian", "Auditor")

GRANTS = {
    "FrontDesk": _DESK,
    "AdminDesk": _DESK,
    "ComplaintOfficer": _DESK | SUMMARY,
    "Partner": _DECIDER,
    "Director": _DECIDER | {("can_edit", VIEW), ("can_put", API)},
    "GeneralManager": _MANAGER,
    "DepartmentSupervisor": _MANAGER,
    # Surveys after the reply (CMP-14); plans the return visits of resolved cases.
    "ServiceSupervisor": _MANAGER | transitions(VIEW, API) | RECORD,
    **{role: MINE for role in _OTHERS},
}
