"""Customer electrical projects (客户工程/业扩报装, ENG-01 to ENG-17): what each role may do, as ``{role name: {(permission, view), ...}}``.

Who may take which workflow step is decided by the transition tables in
``app/workflows/projects.py``; these pairs only open the doors.
"""
from ..roles import api_read, api_write, menu, read, transitions, write

VIEWS = ["PowerApplicationView", "SupplyPlanView", "PlanChangeView", "DesignReviewView",
         "ConstructionRecordView", "EquipmentOrderView", "ConstructionChangeView",
         "MidInspectionView", "ManufacturerView"]
APIS = ["PowerApplicationApi", "SupplyPlanApi", "PlanChangeApi", "DesignReviewApi",
        "ConstructionRecordApi", "EquipmentOrderApi", "ConstructionChangeApi",
        "MidInspectionApi", "ManufacturerApi"]
MENU = menu("Projects", "Power applications", "Overdue projects", "Project dashboard", "Supply plans",
            "Plan changes", "Design reviews", "Construction records", "Equipment orders",
            "Construction changes", "Mid inspections", "Approved manufacturers")


def _read_all():
    pairs = set(MENU)
    for view in VIEWS:
        pairs |= read(view)
    for api in APIS:
        pairs |= api_read(api)
    return pairs


def _steps(*names):
    pairs = set()
    for name in names:
        pairs |= transitions(name + "View", name + "Api")
    return pairs


CONTRACT = {("can_contract", "PowerApplicationView"), ("can_contract", "PowerApplicationApi")}

GRANTS = {
    # 营业窗口: registers applications, passes them on, files construction paperwork.
    "ServiceWindow": _read_all()
    | {("can_add", "PowerApplicationView"), ("can_edit", "PowerApplicationView"),
       ("can_post", "PowerApplicationApi")}
    | read("ConstructionRecordView")
    | {("can_edit", "ConstructionRecordView"), ("can_put", "ConstructionRecordApi")}
    | {("can_add", "EquipmentOrderView"), ("can_post", "EquipmentOrderApi")}
    | {("can_add", "ConstructionChangeView"), ("can_post", "ConstructionChangeApi")}
    | {("can_add", "MidInspectionView"), ("can_post", "MidInspectionApi")}
    | {("can_add", "PlanChangeView"), ("can_post", "PlanChangeApi")}
    | _steps("PowerApplication", "DesignReview", "EquipmentOrder", "ConstructionChange"),
    # 营销部: plans, approvals, contract and power-on, the manufacturer catalogue.
    "Marketing": _read_all()
    | {("can_edit", "PowerApplicationView")}
    | read("SupplyPlanView") | {("can_edit", "SupplyPlanView"), ("can_put", "SupplyPlanApi")}
    | {("can_add", "PlanChangeView"), ("can_post", "PlanChangeApi")}
    | read("ConstructionRecordView")
    | {("can_edit", "ConstructionRecordView"), ("can_put", "ConstructionRecordApi")}
    | {("can_add", "EquipmentOrderView"), ("can_post", "EquipmentOrderApi")}
    | {("can_add", "ConstructionChangeView"), ("can_post", "ConstructionChangeApi")}
    | {("can_add", "MidInspectionView"), ("can_post", "MidInspectionApi")}
    | write("ManufacturerView") | api_write("ManufacturerApi")
    | CONTRACT
    | _steps("PowerApplication", "SupplyPlan", "PlanChange", "DesignReview", "EquipmentOrder",
             "ConstructionChange"),
    # 供电所: reviews low-voltage designs up to 10 kW (sees those projects only).
    "SupplyStation": _read_all() | _steps("DesignReview"),
    # 市公司: answers plans it approves, consents to their changes, reviews large designs.
    "CityCompany": _read_all() | _steps("SupplyPlan", "PlanChange", "DesignReview",
                                        "PowerApplication"),
    # 用电检查人员: mid-construction inspections, acceptance, the on-site check.
    "Inspector": _read_all()
    | {("can_edit", "MidInspectionView"), ("can_put", "MidInspectionApi")}
    | _steps("MidInspection", "PowerApplication"),
    # 部门主管: department-head review of the supply-plan reply.
    "DepartmentSupervisor": _read_all() | _steps("SupplyPlan"),
    # 总经理: signs the reply; sees every project, its stage and time limits.
    "GeneralManager": _read_all() | _steps("SupplyPlan"),
}
