"""Roles and their permissions, as data.

Each role the regulations name is one :class:`RoleSpec`: a stable FAB role
name, its Chinese and English labels, and the ``(permission, view)`` pairs it
holds. ``flask sync-roles`` makes the database match this file (adding and
removing pairs), the README's role table is generated from it, and the
authorisation tests walk it, so the three cannot drift apart.

Row-level rules (who may see which record) live in ``visibility.py``; who may
take which workflow step lives in each workflow's transition table.
"""
from dataclasses import dataclass, field

ADMIN = "Admin"


@dataclass(frozen=True)
class RoleSpec:
    name: str
    label_zh: str
    label_en: str
    permissions: frozenset = field(default_factory=frozenset)
    # Part of the organisation's management: sees the records of its area of
    # responsibility, and is reported major cases.
    manager: bool = False


# ---------------------------------------------------------------------------
# Permission bundles
# ---------------------------------------------------------------------------

def read(view):
    """List (with CSV/XLSX export) and show pages of a ModelView."""
    return {("can_list", view), ("can_show", view)}


def write(view):
    """Read plus add and edit; business rows are never hard-deleted (X-03)."""
    return read(view) | {("can_add", view), ("can_edit", view)}


def api_read(api):
    return {("can_get", api), ("can_info", api)}


def api_write(api):
    return api_read(api) | {("can_post", api), ("can_put", api)}


def transitions(view, api=None):
    """May ask for workflow steps; the workflow table decides which ones."""
    pairs = {("can_transition", view)}
    if api:
        pairs |= {("can_transition", api)}
    return pairs


def menu(*names):
    return {("menu_access", name) for name in names}


# Every member of staff: own account, inbox, the organisation directory,
# absences (request one's own; approval is a workflow step).
STAFF_BASE = (
    {
        ("can_userinfo", "UserDBModelView"),
        ("resetmypassword", "UserDBModelView"),
        ("can_this_form_get", "ResetMyPasswordView"),
        ("can_this_form_post", "ResetMyPasswordView"),
    }
    | read("NotificationView") | {("can_mark_read", "NotificationView")}
    | api_read("NotificationApi") | {("can_mark_read", "NotificationApi")}
    | read("DeadlineView")
    | read("DepartmentView") | read("StaffProfileView") | read("DutyAssignmentView")
    | write("AbsenceView") | transitions("AbsenceView", "AbsenceApi")
    | api_read("AbsenceApi") | {("can_post", "AbsenceApi")}
    | api_read("DepartmentApi")
    | {("can_download", "AttachmentView"), ("can_upload", "AttachmentView")}
    | menu("Inbox", "My deadlines", "Organisation", "Departments", "Staff", "Absences",
           "Duty roster")
)

# Managers additionally approve absences in their department and keep the roster.
MANAGER_BASE = STAFF_BASE | write("DutyAssignmentView")


def _role(name, label_zh, label_en, *bundles, manager=False):
    from .grants import domain_grants

    permissions = set(domain_grants().get(name, ()))
    for bundle in bundles:
        permissions |= set(bundle)
    return RoleSpec(name, label_zh, label_en, frozenset(permissions), manager)


ROLES = [
    # Complaints and feedback
    _role("FrontDesk", "总台", "Front desk", STAFF_BASE),
    _role("AdminDesk", "行政总台", "Administration desk", STAFF_BASE),
    _role("ComplaintOfficer", "专门负责人", "Designated complaint officer", STAFF_BASE),
    _role("Partner", "合伙人", "Partner", MANAGER_BASE, manager=True),
    _role("Director", "主任", "Director", MANAGER_BASE, manager=True),
    # Return visits
    _role("ServiceSupervisor", "客服部主管", "Customer-service supervisor", MANAGER_BASE,
          manager=True),
    _role("PropertyAssistant", "物业助理", "Property assistant", STAFF_BASE),
    _role("DepartmentSupervisor", "部门主管", "Department supervisor", MANAGER_BASE,
          manager=True),
    _role("GeneralManager", "公司经理/总经理", "General manager", MANAGER_BASE, manager=True),
    _role("CultureClerk", "社区文化文员", "Community culture clerk", STAFF_BASE),
    # Customer electrical projects
    _role("ServiceWindow", "营业窗口", "Service window clerk", STAFF_BASE),
    _role("Marketing", "营销部", "Marketing department", STAFF_BASE),
    _role("SupplyStation", "供电所", "Supply station", STAFF_BASE),
    _role("CityCompany", "市公司", "City company reviewer", STAFF_BASE),
    _role("Inspector", "用电检查人员", "Inspector", STAFF_BASE),
    # Customer information and archives
    _role("SalesManager", "招商经理", "Sales manager", STAFF_BASE),
    _role("SalesHead", "招商部负责人", "Sales department head", MANAGER_BASE, manager=True),
    _role("ArchiveCustodian", "综合服务部档案管理员", "Archive custodian", STAFF_BASE),
    # Across the product
    _role("Auditor", "审计员", "Auditor", STAFF_BASE, read("AuditLogView"),
          api_read("AuditLogApi"), menu("Audit", "Audit trail")),
]

ROLES_BY_NAME = {role.name: role for role in ROLES}
MANAGER_ROLES = frozenset(role.name for role in ROLES if role.manager)


def role_label(name, locale="zh"):
    """The label users know a role by, in ``locale``."""
    if name == ADMIN:
        return "系统管理员" if locale == "zh" else "Administrator"
    spec = ROLES_BY_NAME.get(name)
    if spec is None:
        return name
    return spec.label_zh if locale == "zh" else spec.label_en
