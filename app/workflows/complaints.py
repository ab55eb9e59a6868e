"""Complaints and feedback (投诉及意见反馈, CMP-01 to CMP-18): approval chains.

The processing order of the regulations (二、投诉和意见反响的处理工作), as a table:

    registered --write_opinion--> opinion_written        专门负责人出具书面意见 (CMP-06)
    opinion_written --record_meeting--> meeting_held      所务会议/合伙人会议 (CMP-07)
    opinion_written|meeting_held --decide--> decided      业务分管合伙人处理; absent: 主任或其他合伙人
    decided --implement--> implemented                    专门负责人组织实施 (CMP-10)
    implemented|follow_up --reply--> replied              原则上书面回复 (CMP-11)
    replied --close--> closed                             处理完结
    closed --archive--> archived                          行政人员归档, 年度案宗 (CMP-13)
    replied|closed --reopen--> follow_up                  不满意: 后续工作 (CMP-14)
    registered|opinion_written --link_duplicate--> merged 同一问题多次投诉作一次记录 (CMP-17)

Every step refuses the respondent and conflicted persons (CMP-05); the
decision refuses whoever wrote the opinion and, for a major or principle
case, waits for the meeting (CMP-06/07).
"""
from flask_babel import lazy_gettext as _l

from ..models.complaints import Complaint, ComplaintStatus
from .engine import Guard, State, Transition, Workflow, not_actor_of

S = ComplaintStatus

OFFICER = "ComplaintOfficer"
DECIDERS = ("Partner", "Director")
DESKS = ("FrontDesk", "AdminDesk")
SURVEYORS = ("ComplaintOfficer", "FrontDesk", "AdminDesk", "ServiceSupervisor")


def _officer(complaint):
    return complaint.officer


def _partner(complaint):
    return complaint.partner


def _not_conflicted(ctx):
    # CMP-05: the respondent and anyone marked as conflicted never act on the case.
    from ..services.complaints import is_conflicted

    if is_conflicted(ctx.actor, ctx.record):
        return _l("You are the respondent or recused from this complaint and cannot act on it.")
    return None


def _meeting_if_major(ctx):
    # CMP-07: a major or principle case is decided only after a meeting discussed it.
    from ..services.complaints import has_meeting

    if ctx.record.is_major and not has_meeting(ctx.record):
        return _l("A major or principle complaint must first be discussed at an office or "
                  "partners' meeting; record the meeting before the decision.")
    return None


def _dissatisfied_survey(ctx):
    # CMP-14: the case goes back for follow-up when a survey found dissatisfaction.
    from ..services.complaints import has_open_dissatisfaction

    if not has_open_dissatisfaction(ctx.record):
        return _l("A case is reopened only after a survey found the complainant or the "
                  "respondent dissatisfied.")
    return None


def _has_reply(ctx):
    # CMP-06 order: no close before a reply.
    from ..services.complaints import has_reply

    if not has_reply(ctx.record):
        return _l("The complainant has not been replied to yet.")
    return None


def _reply_letter_if_exempt(ctx):
    # VIS-11: an anonymous or letter-only complaint gets no visit, so its reply letter must
    # be attached before the case is closed.
    from ..services.complaints import has_reply_letter

    if (ctx.record.anonymous or ctx.record.reply_letter_only) and not has_reply_letter(ctx.record):
        return _l("This complaint is anonymous or a superior body asked only for a reply letter: "
                  "attach the reply letter before closing the case.")
    return None


not_conflicted = Guard("not_conflicted", _not_conflicted)
reply_letter_if_exempt = Guard("reply_letter_if_exempt", _reply_letter_if_exempt)
meeting_if_major = Guard("meeting_if_major", _meeting_if_major)
dissatisfied_survey = Guard("dissatisfied_survey", _dissatisfied_survey)
has_reply = Guard("has_reply", _has_reply)


def _effect(name):
    def run(ctx):
        from ..services import complaints as service

        getattr(service, name)(ctx)

    run.__name__ = name
    return run


COMPLAINT_WORKFLOW = Workflow(
    name="complaint",
    model=Complaint,
    label=_l("Complaint handling"),
    states=[
        State(S.REGISTERED, _l("Registered"), "info"),
        State(S.OPINION_WRITTEN, _l("Opinion written"), "primary"),
        State(S.MEETING_HELD, _l("Discussed at a meeting"), "primary"),
        State(S.DECIDED, _l("Decided"), "primary"),
        State(S.IMPLEMENTED, _l("Implemented"), "primary"),
        State(S.REPLIED, _l("Replied"), "success"),
        State(S.FOLLOW_UP, _l("Follow-up"), "warning"),
        State(S.CLOSED, _l("Closed"), "success"),
        State(S.ARCHIVED, _l("Archived"), "default", final=True),
        State(S.MERGED, _l("Duplicate (follows its master)"), "default", final=True),
    ],
    transitions=[
        Transition("write_opinion", _l("Write the opinion"), (S.REGISTERED,), S.OPINION_WRITTEN,
                   (OFFICER,), guards=(not_conflicted,), assignee=_officer,
                   substitute_roles=(OFFICER,), effect=_effect("effect_write_opinion")),
        Transition("record_meeting", _l("Record the meeting"), (S.OPINION_WRITTEN,),
                   S.MEETING_HELD, (OFFICER,) + DECIDERS, guards=(not_conflicted,),
                   effect=_effect("effect_record_meeting")),
        Transition("decide", _l("Decide"), (S.OPINION_WRITTEN, S.MEETING_HELD), S.DECIDED,
                   DECIDERS,
                   guards=(not_conflicted, not_actor_of("write_opinion"), meeting_if_major),
                   assignee=_partner, substitute_roles=DECIDERS,
                   effect=_effect("effect_decide"), style="success"),
        Transition("implement", _l("Record the implementation"), (S.DECIDED,), S.IMPLEMENTED,
                   (OFFICER,), guards=(not_conflicted,), assignee=_officer,
                   substitute_roles=(OFFICER,), effect=_effect("effect_implement")),
        Transition("reply", _l("Record the reply"), (S.IMPLEMENTED, S.FOLLOW_UP), S.REPLIED,
                   (OFFICER,) + DESKS, guards=(not_conflicted,),
                   effect=_effect("effect_reply"), style="success"),
        Transition("close", _l("Close the case"), (S.REPLIED,), S.CLOSED, (OFFICER,),
                   guards=(not_conflicted, has_reply, reply_letter_if_exempt), effect=_effect("effect_close"),
                   style="success"),
        Transition("archive", _l("Archive into the yearly case file"), (S.CLOSED,), S.ARCHIVED,
                   ("AdminDesk",), guards=(not_conflicted,), effect=_effect("effect_archive"),
                   style="default"),
        Transition("reopen", _l("Reopen for follow-up"), (S.REPLIED, S.CLOSED), S.FOLLOW_UP,
                   SURVEYORS, guards=(not_conflicted, dissatisfied_survey),
                   comment_required=True, effect=_effect("effect_reopen"), style="warning"),
        Transition("link_duplicate", _l("Link as duplicate"), (S.REGISTERED, S.OPINION_WRITTEN),
                   S.MERGED, (OFFICER,) + DESKS, guards=(not_conflicted,),
                   effect=_effect("effect_link_duplicate"), style="default"),
    ],
)

WORKFLOWS = [COMPLAINT_WORKFLOW]
