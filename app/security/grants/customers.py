"""Customer information and archives (客户信息与档案, CUS-01 to CUS-11): what each role may do, as ``{role name: {(permission, view), ...}}``.

Row-level confidentiality (CUS-06: the custodian keeps everything, a sales
manager sees their own customers, anyone else needs the general manager's
time-limited permission) is in ``app/services/customers.py``; these grants
only open the doors.
"""
from ..roles import api_read, menu, read, transitions, write

CATEGORY = "Customers"


_ARCHIVE_READ = (
    read("DailyRegistrationView") | read("RegistrationEntryView") | read("CustomerView")
    | read("OwnershipConflictView") | read("ArchiveFileView") | read("ArchiveTrackingView")
    | read("ArchiveFilingView") | read("ArchiveAccessGrantView")
    | api_read("CustomerApi") | api_read("DailyRegistrationApi") | api_read("RegistrationEntryApi")
    | api_read("ArchiveFileApi")
    | menu(CATEGORY, "Registration forms", "Customers", "Ownership conflicts",
           "Customer archives", "Month-end filings", "Read permissions")
)

_LOANS = (
    read("ArchiveLoanView") | {("can_add", "ArchiveLoanView")} | transitions("ArchiveLoanView", "ArchiveLoanApi")
    | api_read("ArchiveLoanApi") | {("can_post", "ArchiveLoanApi")}
    | menu(CATEGORY, "Archive loans", "Lending register")
)

_ASSESSMENT = {("can_list", "CustomerAssessmentView")} | menu(CATEGORY, "Customer assessment")

_RECEPTION = (
    read("ReceptionVisitView") | {("can_add", "ReceptionVisitView")}
    | menu(CATEGORY, "Reception visits")
)

_SALES = (
    _ARCHIVE_READ | _LOANS | _ASSESSMENT | _RECEPTION
    | write("DailyRegistrationView") | transitions("DailyRegistrationView", "DailyRegistrationApi")
    | write("RegistrationEntryView")
    | write("ArchiveFileView") | transitions("ArchiveFileView", "ArchiveFileApi")
    | write("ArchiveTrackingView")
    | {("can_post", "DailyRegistrationApi"), ("can_post", "RegistrationEntryApi"),
       ("can_post", "ArchiveFileApi")}
)

_DESTRUCTION_READ = (
    read("ArchiveDestructionView") | api_read("ArchiveDestructionApi")
    | menu(CATEGORY, "Archive destructions")
)

GRANTS = {
    "SalesManager": _SALES,
    "SalesHead": (
        _SALES | _DESTRUCTION_READ | transitions("ArchiveDestructionView", "ArchiveDestructionApi")
        | menu(CATEGORY, "Overdue loans")
    ),
    "ArchiveCustodian": (
        _ARCHIVE_READ | _LOANS | _ASSESSMENT | _DESTRUCTION_READ
        | {("can_edit", "ArchiveFileView")} | write("ArchiveTrackingView")
        | {("can_add", "ArchiveDestructionView"), ("can_post", "ArchiveDestructionApi")}
        | transitions("ArchiveDestructionView", "ArchiveDestructionApi")
        | menu(CATEGORY, "Overdue loans", "Due for destruction")
    ),
    "GeneralManager": (
        _ARCHIVE_READ | _LOANS | _ASSESSMENT | _DESTRUCTION_READ
        | {("can_add", "ArchiveAccessGrantView"), ("can_revoke", "ArchiveAccessGrantView")}
        | transitions("ArchiveDestructionView", "ArchiveDestructionApi")
        | menu(CATEGORY, "Overdue loans", "Due for destruction")
    ),
    "Auditor": _ASSESSMENT,
    "FrontDesk": _RECEPTION,
}
