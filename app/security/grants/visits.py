"""Return visits (回访, VIS-01 to VIS-13): what each role may do, as ``{role name: {(permission, view), ...}}``.

These grants only open the doors. Which visit a person sees (the visitor
their own, never the complaint's respondent), who records which visit
(the role the rule names for the trigger, VIS-02 to VIS-04), who plans
which trigger (VIS-01, VIS-05) and the one-time review (VIS-07) are decided
in ``app/services/visits.py`` and the workflow table.

Leadership, who receives the monthly statistics (VIS-13), is the general
manager and the director; the customer-service supervisor compiles them.
"""
from ..roles import api_read, menu, read

CATEGORY = "Return visits"
VISIT, VISIT_API = "ReturnVisitView", "ReturnVisitApi"
JOB, JOB_API = "MaintenanceJobView", "MaintenanceJobApi"
EVENT, EVENT_API = "CommunityEventView", "CommunityEventApi"
LETTER, LETTER_API = "OpenLetterView", "OpenLetterApi"

# Reading the visits one may see, and recording one's own (the visit form, issue outcomes,
# rectifications assigned to oneself).
_VISITOR = (
    read(VISIT) | api_read(VISIT_API) | {("can_record", VISIT), ("can_record", VISIT_API)}
    | read(LETTER) | api_read(LETTER_API)
    | menu(CATEGORY, "Visit plan", "Visit records", "Open letters")
)
_STATISTICS = {("can_statistics", "VisitStatisticsView")} | menu(CATEGORY, "Visit statistics")
# Planning by hand: the supervisor any trigger (VIS-01), the manager VIS-05 visits.
_PLAN = ({("can_plan", VISIT), ("can_plan", VISIT_API), ("can_post", VISIT_API)}
         | menu(CATEGORY, "Plan a visit"))
_JOBS_READ = read(JOB) | api_read(JOB_API) | menu(CATEGORY, "Maintenance jobs")
_JOBS_WRITE = (_JOBS_READ | {("can_add", JOB), ("can_complete", JOB), ("can_post", JOB_API),
                             ("can_complete", JOB_API)})
_LETTERS_WRITE = {("can_add", LETTER), ("can_post", LETTER_API)}
_EVENTS_READ = read(EVENT) | api_read(EVENT_API) | menu(CATEGORY, "Community events")
_EVENTS_WRITE = _EVENTS_READ | {("can_add", EVENT), ("can_post", EVENT_API)}

GRANTS = {
    # 客服部主管: owns the plan, proposes visits, reviews and signs every record, files open
    # letters, keeps the trigger records and compiles the statistics.
    "ServiceSupervisor": (
        _VISITOR | _PLAN | _STATISTICS | _JOBS_WRITE | _EVENTS_WRITE
        | _LETTERS_WRITE
        | {("can_review", VISIT), ("can_transition", VISIT_API), ("can_propose", VISIT),
           ("can_propose", VISIT_API)}
        | menu(CATEGORY, "Pending review")
    ),
    # 物业助理: general complaints and the maintenance jobs of their area.
    "PropertyAssistant": _VISITOR | _JOBS_WRITE,
    # 部门主管: important complaints; oversees the repairs of the department.
    "DepartmentSupervisor": _VISITOR | _JOBS_WRITE,
    # 公司经理: major complaints, holiday / move-in / emergency visits (VIS-05: plans, moves
    # and cancels them), open letters; leadership.
    "GeneralManager": (
        _VISITOR | _PLAN | _STATISTICS | _JOBS_READ | _EVENTS_READ | _LETTERS_WRITE
        | {("can_transition", VISIT_API)}
    ),
    # 社区文化文员: community events and their visits.
    "CultureClerk": _VISITOR | _EVENTS_WRITE,
    # 主任: leadership receives the monthly statistics (VIS-13).
    "Director": _STATISTICS,
}
