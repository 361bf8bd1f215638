"""Rules from the plan to closure: clocks agreed with the person, strands, contributions, actions
and learning, the out-of-time decision and closure. The joint response's own rules (the draft, its
comments and the final response) are in `flows.rules_draft`, and come in with `RESPONSE_RULES`.

DOMAIN.md section 2, steps 7 to 13.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from flows import commands as c
from flows import events as ev
from flows.calendar import (
    add_working_days,
    is_working_day,
    longer_period_counts,
    six_month_point,
    working_days_between,
)
from flows.drafting import contributors
from flows.errors import InvalidCommand
from flows.model import Case, ClosureReason, milestone_day
from flows.rules import (
    Out,
    Rule,
    correspondent,
    letterhead,
    long_date,
    organisation,
    require_coordinator,
    require_for_org,
    require_involved,
    require_not_past,
    require_target,
    require_text,
    strand_of,
    today,
)
from flows.rules_draft import DRAFT_RULES, listed_actions, require_response_outstanding


def response_period(case: Case, cmd: c.SetResponsePeriod, now: datetime) -> Out:
    require_coordinator(case, cmd.actor)
    require_not_past(cmd.due, now, "the response date")
    out = Out(case, cmd.actor.id, now).event(
        ev.ResponsePeriodSet, due=cmd.due, agreed_with_complainant=cmd.agreed_with_complainant
    )
    if not cmd.agreed_with_complainant:
        out.letter(
            "response_period",
            correspondent(case),
            response_due=long_date(cmd.due),
            **letterhead(case),
        )
    return out


def longer_period(case: Case, cmd: c.AgreeLongerPeriod, now: datetime) -> Out:
    require_coordinator(case, cmd.actor)
    received = case.received_on
    point = six_month_point(received)
    if cmd.agreed_on > today(now):
        raise InvalidCommand("the agreement cannot be dated in the future")
    if not longer_period_counts(received, cmd.agreed_on):
        raise InvalidCommand(
            "a longer period counts only if agreed with the person before the six-month point "
            f"({long_date(point)})"
        )
    if cmd.until <= point:
        raise InvalidCommand(f"a longer period must end after the six-month point ({long_date(point)})")
    return Out(case, cmd.actor.id, now).event(ev.LongerPeriodAgreed, until=cmd.until, agreed_on=cmd.agreed_on)


def update_frequency(case: Case, cmd: c.SetUpdateFrequency, now: datetime) -> Out:
    require_coordinator(case, cmd.actor)
    if not 1 <= cmd.working_days <= 60:
        raise InvalidCommand("choose an update frequency between 1 and 60 working days")
    return Out(case, cmd.actor.id, now).event(ev.UpdateFrequencySet, working_days=cmd.working_days)


def add_strand(case: Case, cmd: c.AddStrand, now: datetime) -> Out:
    require_coordinator(case, cmd.actor)
    require_involved(case, (cmd.org_id,))
    require_text(cmd.matters, "the matters this organisation looks into")
    require_target(cmd.target, now)
    for milestone in cmd.milestones:
        day = milestone_day(milestone)
        if day is not None and (day > cmd.target or not is_working_day(day) or day < today(now)):
            raise InvalidCommand(
                f"a milestone's date must be a working day from today to the target: {milestone}",
                field="milestones",
            )
    strand_id = f"S{len(case.strands) + 1}"
    out = Out(case, cmd.actor.id, now).event(
        ev.StrandAdded,
        strand_id=strand_id,
        org_id=cmd.org_id,
        matters=cmd.matters,
        target=cmd.target,
        milestones=cmd.milestones,
    )
    if cmd.org_id != case.coordinator:  # the contributor learns what is asked of it, and by when
        out.letter(
            "contributor_request",
            organisation(case, cmd.org_id),
            to_org_name=case.orgs[cmd.org_id].name,
            strand=strand_id,
            matters=cmd.matters,
            target=long_date(cmd.target),
            plan_agreed=set(case.involved) <= case.plan_agreed_by,  # by every organisation involved
            understanding=case.shared_understanding,
            outcomes_wanted=case.outcomes_wanted,
            reply_hint=f"reply to this email: your reply is filed on strand {strand_id} automatically",
            **letterhead(case),
        )
    return out


def change_target(case: Case, cmd: c.ChangeTargetDate, now: datetime) -> Out:
    require_coordinator(case, cmd.actor)
    strand = strand_of(case, cmd.strand_id)
    require_text(cmd.reason, "the reason for the new date")
    require_target(cmd.target, now)
    out = Out(case, cmd.actor.id, now).event(
        ev.TargetDateChanged,
        strand_id=strand.id,
        target=cmd.target,
        previous=strand.target,
        reason=cmd.reason,
    )
    period = case.response_period
    latest = max(s.target for s in case.strands.values())  # the plan ends with its latest strand
    moved = max([cmd.target, *(s.target for s in case.strands.values() if s.id != strand.id)])
    if period is None or moved <= latest:
        return out
    # the person's expected date moves by as much as the plan's end did, and they are told why
    due = add_working_days(period.due, working_days_between(latest, moved))
    return out.event(ev.ResponsePeriodSet, due=due, agreed_with_complainant=False).letter(
        "timescale_changed",
        correspondent(case),
        reason=cmd.reason,
        response_due=long_date(due),
        previously=long_date(period.due),
        **letterhead(case),
    )


def propose_target(case: Case, cmd: c.ProposeTargetDate, now: datetime) -> Out:
    strand = strand_of(case, cmd.strand_id)
    require_for_org(case, cmd.actor, strand.org_id)
    require_text(cmd.reason, "why the date cannot be met")
    require_target(cmd.target, now)
    if strand.contribution is not None:
        raise InvalidCommand(f"the response on {strand.id} is already in")
    return (
        Out(case, cmd.actor.id, now)
        .event(ev.TargetDateProposed, strand_id=strand.id, target=cmd.target, reason=cmd.reason)
        .notify("date_proposed", strand=strand.id, target=long_date(cmd.target))
    )


def refuse_target(case: Case, cmd: c.RefuseTargetDate, now: datetime) -> Out:
    require_coordinator(case, cmd.actor)
    strand = strand_of(case, cmd.strand_id)
    if strand.proposed is None:
        raise InvalidCommand(f"no new date is proposed for {strand.id}")
    return Out(case, cmd.actor.id, now).event(ev.TargetDateRefused, strand_id=strand.id, reason=cmd.reason)


def agree_plan(case: Case, cmd: c.AgreePlan, now: datetime) -> Out:
    require_for_org(case, cmd.actor, cmd.org_id)
    if not case.strands:
        raise InvalidCommand("the plan has no strands yet")
    return Out(case, cmd.actor.id, now).event(ev.PlanAgreed, org_id=cmd.org_id)


def plan_discussed(case: Case, cmd: c.RecordPlanDiscussed, now: datetime) -> Out:
    require_coordinator(case, cmd.actor)
    return Out(case, cmd.actor.id, now).event(ev.PlanDiscussed, note=cmd.note)


def contribution(case: Case, cmd: c.RecordContribution, now: datetime) -> Out:
    strand = strand_of(case, cmd.strand_id)
    require_for_org(case, cmd.actor, strand.org_id)
    require_response_outstanding(case)
    require_text(cmd.summary, "the contribution")
    out = Out(case, cmd.actor.id, now).event(
        ev.ContributionReceived,
        strand_id=strand.id,
        summary=cmd.summary,
        attachments=cmd.attachments,
    )
    return out.notify("contribution_received", strand=strand.id)


def add_action(case: Case, cmd: c.AddAction, now: datetime) -> Out:
    require_coordinator(case, cmd.actor)
    require_involved(case, (cmd.owner_org,))
    require_text(cmd.description, "the action")
    require_not_past(cmd.due, now, "the due date")
    return Out(case, cmd.actor.id, now).event(
        ev.ActionAdded,
        action_id=f"A{len(case.actions) + 1}",
        owner_org=cmd.owner_org,
        description=cmd.description,
        due=cmd.due,
    )


def complete_action(case: Case, cmd: c.CompleteAction, now: datetime) -> Out:
    action = case.actions.get(cmd.action_id)
    if action is None:
        raise InvalidCommand(f"no action {cmd.action_id} on this case")
    require_for_org(case, cmd.actor, action.owner_org)
    require_text(cmd.evidence, "the evidence the action was done")
    if action.completed_at is not None:
        raise InvalidCommand(f"action {action.id} is already done")
    out = Out(case, cmd.actor.id, now).event(ev.ActionCompleted, action_id=action.id, evidence=cmd.evidence)
    if any(a.completed_at is None for a in case.actions.values() if a.id != action.id):
        return out
    done = [replace(a, evidence=cmd.evidence) if a.id == action.id else a for a in case.actions.values()]
    return out.letter(  # the last one: the person hears that what was promised is done
        "actions_complete", correspondent(case), actions=listed_actions(case, done), **letterhead(case)
    )


def no_action_needed(case: Case, cmd: c.RecordNoActionNeeded, now: datetime) -> Out:
    require_coordinator(case, cmd.actor)
    require_text(cmd.reason, "why no action is needed")
    if case.actions:
        raise InvalidCommand("actions are already recorded: the response lists them", field="reason")
    return Out(case, cmd.actor.id, now).event(ev.NoActionNeededRecorded, reason=cmd.reason.strip())


def learning(case: Case, cmd: c.RecordLearning, now: datetime) -> Out:
    """The learning is recorded and shared with each other organisation involved whose consent is
    active: in chat with its contacts, or by letter to its complaints inbox when it has none."""
    require_coordinator(case, cmd.actor)
    require_text(cmd.text, "the learning")
    out = Out(case, cmd.actor.id, now).event(ev.LearningRecorded, text=cmd.text)
    shared = []
    for org_id in contributors(case):
        org = case.orgs[org_id]
        if not case.consent_active(org_id) or not (org.has_contacts or org.email):
            continue  # consent withdrawn, or nowhere to send it
        if org.has_contacts:
            audience = f"contacts:{org_id}"
            out.notify("learning_shared", audience=audience, discloses_to=org_id, learning=cmd.text)
        else:
            out.letter(
                "learning_shared",
                organisation(case, org_id),
                to_org_name=org.name,
                org_name=case.orgs[case.coordinator].name,
                learning=cmd.text,
            )
        shared.append(org_id)
    return out.event(ev.LearningShared, org_ids=tuple(shared)) if shared else out


def out_of_time(case: Case, cmd: c.DecideOutOfTime, now: datetime) -> Out:
    require_coordinator(case, cmd.actor)
    require_text(cmd.reasons, "the reasons for the decision")
    return Out(case, cmd.actor.id, now).event(ev.OutOfTimeDecided, accept=cmd.accept, reasons=cmd.reasons)


def delay_letter(case: Case, cmd: c.SendDelayLetter, now: datetime) -> Out:
    require_coordinator(case, cmd.actor)
    require_text(cmd.reasons, "the reasons for the delay")
    require_not_past(cmd.expected_by, now, "the expected date")
    return (
        Out(case, cmd.actor.id, now)
        .event(ev.DelayLetterSent, reasons=cmd.reasons, expected_by=cmd.expected_by)
        .letter(
            "delay",
            correspondent(case),
            reasons=cmd.reasons,
            expected_by=long_date(cmd.expected_by),
            **letterhead(case),
        )
    )


def close(case: Case, cmd: c.CloseCase, now: datetime) -> Out:
    require_coordinator(case, cmd.actor)
    open_actions = [a.id for a in case.actions.values() if a.completed_at is None]
    if open_actions:
        raise InvalidCommand(f"actions still open: {', '.join(open_actions)}", actions=open_actions)
    no_outcome = [o for o in case.involved if o not in case.outcomes]
    if no_outcome:
        raise InvalidCommand(
            "record whether the complaint was upheld for each organisation first: "
            + ", ".join(case.orgs[o].name for o in no_outcome),
            org_ids=no_outcome,
        )
    if case.coding is None:
        raise InvalidCommand("record how the complaint is coded (KO41a) first", field="coding")
    return Out(case, cmd.actor.id, now).event(
        ev.CaseClosed, reason=ClosureReason.RESPONDED, outcome=cmd.outcome
    )


def withdraw(case: Case, cmd: c.WithdrawComplaint, now: datetime) -> Out:
    require_coordinator(case, cmd.actor)
    return Out(case, cmd.actor.id, now).event(ev.CaseClosed, reason=ClosureReason.WITHDRAWN, note=cmd.note)


RESPONSE_RULES: dict[type[c.Command], Rule] = {
    c.SetResponsePeriod: response_period,
    c.AgreeLongerPeriod: longer_period,
    c.SetUpdateFrequency: update_frequency,
    c.AddStrand: add_strand,
    c.ChangeTargetDate: change_target,
    c.ProposeTargetDate: propose_target,
    c.RefuseTargetDate: refuse_target,
    c.AgreePlan: agree_plan,
    c.RecordPlanDiscussed: plan_discussed,
    c.RecordContribution: contribution,
    c.AddAction: add_action,
    c.CompleteAction: complete_action,
    c.RecordNoActionNeeded: no_action_needed,
    c.RecordLearning: learning,
    c.DecideOutOfTime: out_of_time,
    c.SendDelayLetter: delay_letter,
    c.CloseCase: close,
    c.WithdrawComplaint: withdraw,
    **DRAFT_RULES,
}
