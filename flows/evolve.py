"""`evolve(case, event)`: the one way a case changes. Pure; never refuses (events are facts)."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from types import MappingProxyType
from typing import Any, TypeVar

from flows import events as ev
from flows.model import (
    Action,
    Case,
    Consent,
    ConsentState,
    Contribution,
    DateProposal,
    Draft,
    Impasse,
    ImpasseAnswer,
    LeadProposal,
    LeadResponse,
    Letter,
    Meeting,
    Message,
    NamedContact,
    Question,
    ResponsePeriod,
    Strand,
)

K = TypeVar("K")
V = TypeVar("V")


def _with(mapping: Mapping[K, V], key: K, value: V) -> Mapping[K, V]:
    return MappingProxyType({**mapping, key: value})


def fold(case: Case, events: Iterable[ev.Event]) -> Case:
    for event in events:
        case = evolve(case, event)
    return case


def evolve(case: Case, event: ev.Event) -> Case:
    apply = _APPLY.get(type(event))
    changed = apply(case, event) if apply else case
    return _numbered(changed, case.version + 1)


def _numbered(case: Case, version: int) -> Case:
    """`replace(case, version=version)` at a sixth of the cost, paid once per event: `replace` passes
    Case's sixty fields through `__init__` one by one. A copy skips only that `__init__`, which for
    a frozen dataclass with no `__post_init__` does nothing more than set the fields."""
    numbered = copy.copy(case)
    object.__setattr__(numbered, "version", version)
    return numbered


def _received(case: Case, e: ev.ComplaintReceived) -> Case:
    return replace(
        case,
        home_org=e.home_org.id,
        channel=e.channel,
        received_at=e.received_at,
        complainant=e.complainant,
        subject=e.subject,
        text=e.text,
        message_id=e.message_id,
        related=e.related,
        attachments=e.attachments,
        happened_on=e.happened_on,
        aware_on=e.aware_on,
        suggested_orgs=e.suggested_orgs,
        orgs=MappingProxyType({e.home_org.id: e.home_org}),
    )


def _identified(case: Case, e: ev.OrganisationsIdentified) -> Case:
    orgs = {**case.orgs, **{o.id: o for o in e.orgs}}
    return replace(case, orgs=MappingProxyType(orgs), identified=tuple(o.id for o in e.orgs))


def _consent(state: ConsentState) -> Callable[[Case, Any], Case]:
    def apply(case: Case, e: Any) -> Case:
        consents = dict(case.consents)
        for org_id in e.org_ids:
            consents[org_id] = Consent(
                org_id=org_id,
                state=state,
                at=e.at,
                by=e.by,
                method=getattr(e, "method", None),
                given_on=getattr(e, "given_on", None),
                capacity_confirmed=getattr(e, "capacity_confirmed", False),
                representative=getattr(e, "representative", None),
                joint=getattr(e, "joint", False),
                includes_learning=getattr(e, "includes_learning", False),
                note=getattr(e, "note", ""),
            )
        return replace(case, consents=MappingProxyType(consents))

    return apply


def _signposted(case: Case, e: ev.OrganisationsSignposted) -> Case:
    return replace(case, signposted_orgs=case.signposted_orgs | set(e.org_ids))


def _proposed(case: Case, e: ev.LeadProposed) -> Case:
    proposal = LeadProposal(org_id=e.org_id, criteria=e.criteria, reason=e.reason, by=e.by, at=e.at)
    return replace(case, proposal=proposal)


def _responded(case: Case, e: ev.LeadResponded) -> Case:
    assert case.proposal is not None
    response = LeadResponse(org_id=e.org_id, agrees=e.agrees, by=e.by, at=e.at, reason=e.reason)
    responses = _with(case.proposal.responses, e.org_id, response)
    return replace(case, proposal=replace(case.proposal, responses=responses))


def _strand(case: Case, e: ev.StrandAdded) -> Case:
    strand = Strand(
        id=e.strand_id, org_id=e.org_id, matters=e.matters, target=e.target, milestones=e.milestones
    )
    return replace(case, strands=_with(case.strands, e.strand_id, strand))


def _retarget(case: Case, e: ev.TargetDateChanged) -> Case:
    strand = replace(case.strands[e.strand_id], target=e.target, proposed=None)
    return replace(case, strands=_with(case.strands, e.strand_id, strand))


def _date_proposed(case: Case, e: ev.TargetDateProposed) -> Case:
    proposal = DateProposal(target=e.target, reason=e.reason, by=e.by, at=e.at)
    strand = replace(case.strands[e.strand_id], proposed=proposal)
    return replace(case, strands=_with(case.strands, e.strand_id, strand))


def _on_track(case: Case, e: ev.OnTrackReported) -> Case:
    strand = replace(case.strands[e.strand_id], on_track_at=e.at)
    return replace(case, strands=_with(case.strands, e.strand_id, strand))


def _snoozed(case: Case, e: ev.Snoozed) -> Case:
    if e.subject in case.strands:
        strand = replace(case.strands[e.subject], snoozed_until=e.until)
        return replace(case, strands=_with(case.strands, e.subject, strand))
    action = replace(case.actions[e.subject], snoozed_until=e.until)
    return replace(case, actions=_with(case.actions, e.subject, action))


def _meeting(case: Case, e: ev.MeetingScheduled) -> Case:
    meeting = Meeting(id=e.meeting_id, on=e.on, purpose=e.purpose)
    return replace(case, meetings=_with(case.meetings, e.meeting_id, meeting))


def _meeting_recorded(case: Case, e: ev.MeetingRecorded) -> Case:
    meeting = replace(
        case.meetings[e.meeting_id],
        represented=e.represented,
        attendees=e.attendees,
        notes=e.notes,
        recorded_at=e.at,
    )
    return replace(case, meetings=_with(case.meetings, e.meeting_id, meeting))


def _impasse_answered(case: Case, e: ev.ImpasseAnswered) -> Case:
    impasse = _impasse_of(case)
    answer = ImpasseAnswer(
        org_id=e.org_id, resolved=e.resolved, outcome=e.outcome, by=e.by, at=e.at, how=e.how
    )
    return replace(case, impasse=replace(impasse, answers=_with(impasse.answers, e.org_id, answer)))


def _date_refused(case: Case, e: ev.TargetDateRefused) -> Case:
    strand = replace(case.strands[e.strand_id], proposed=None)
    return replace(case, strands=_with(case.strands, e.strand_id, strand))


def _contribution(case: Case, e: ev.ContributionReceived) -> Case:
    contribution = Contribution(summary=e.summary, by=e.by, at=e.at, attachments=e.attachments)
    strand = replace(case.strands[e.strand_id], contribution=contribution)
    return replace(case, strands=_with(case.strands, e.strand_id, strand))


def _draft(case: Case) -> Draft:
    assert case.draft is not None, "a draft event needs a draft"
    return case.draft


def _impasse_of(case: Case) -> Impasse:
    assert case.impasse is not None, "an impasse event needs an impasse"
    return case.impasse


def _draft_recorded(case: Case, e: ev.DraftRecorded) -> Case:
    after_partial = case.partial_response_at is not None
    return replace(case, draft=Draft(text=e.text, at=e.at, version=e.version, follows_partial=after_partial))


def _comment(case: Case, e: ev.CommentReceived) -> Case:
    draft = _draft(case)
    return replace(case, draft=replace(draft, comments=_with(draft.comments, e.org_id, e.comment)))


def _action(case: Case, e: ev.ActionAdded) -> Case:
    action = Action(id=e.action_id, owner_org=e.owner_org, description=e.description, due=e.due)
    return replace(case, actions=_with(case.actions, e.action_id, action))


def _action_done(case: Case, e: ev.ActionCompleted) -> Case:
    action = replace(case.actions[e.action_id], completed_at=e.at, evidence=e.evidence)
    return replace(case, actions=_with(case.actions, e.action_id, action))


def _impasse(case: Case, e: ev.ImpasseRaised) -> Case:
    impasse = Impasse(matter=e.matter, reason=e.reason, raised_at=e.at, resolve_by=e.resolve_by)
    return replace(case, impasse=impasse)


def _impasse_step(step: int) -> Callable[[Case, Any], Case]:
    def apply(case: Case, e: Any) -> Case:
        impasse = replace(case.impasse, step=step) if case.impasse else None
        if step == 2:
            return replace(case, impasse=impasse, partial_response_at=e.at)
        ombudsmen = e.ombudsmen
        return replace(case, impasse=impasse, ombudsmen_signposted=ombudsmen)

    return apply


def _letter_queued(case: Case, e: ev.LetterQueued) -> Case:
    letter = Letter(key=e.key, template=e.template, to=e.to, queued_at=e.at)
    return replace(case, letters=_with(case.letters, e.key, letter))


def _letter_sent(case: Case, e: ev.LetterSent) -> Case:
    """A letter a handler records as sent after it was in doubt went when sending it began; one that
    could not be sent went another way (post, by hand) when the handler says so."""
    was = case.letters[e.key]
    letter = replace(was, sent_at=was.in_doubt or e.at, message_id=e.message_id, in_doubt=None, failed="")
    case = replace(case, letters=_with(case.letters, e.key, letter))
    if letter.template in ("acknowledgement", "written_record") and not case.acknowledged_at:
        case = replace(case, acknowledged_at=letter.sent_at)
    return case


def _letter_changed(**changes: Callable[[Any], Any]) -> Callable[[Case, Any], Case]:
    """An event that changes one letter (`e.key`): each field set from the event."""

    def apply(case: Case, e: Any) -> Case:
        letter = replace(case.letters[e.key], **{name: get(e) for name, get in changes.items()})
        return replace(case, letters=_with(case.letters, e.key, letter))

    return apply


def _message(case: Case, e: ev.MessageReceived) -> Case:
    message = Message(
        message_id=e.message_id,
        sender=e.sender,
        from_address=e.from_address,
        received_at=e.received_at,
        subject=e.subject,
        text=e.text,
        org_id=e.org_id,
        strand_id=e.strand_id,
        attachments=e.attachments,
    )
    return replace(case, messages=(*case.messages, message))


def _message_read(case: Case, e: ev.MessageRead) -> Case:
    messages = tuple(replace(m, read=True) if m.message_id == e.message_id else m for m in case.messages)
    return replace(case, messages=messages)


_APPLY: dict[type, Callable[[Case, Any], Case]] = {
    ev.ComplaintReceived: _received,
    ev.OrganisationsIdentified: _identified,
    ev.ConsentRequested: _consent(ConsentState.REQUESTED),
    ev.ConsentGiven: _consent(ConsentState.GIVEN),
    ev.ConsentRefused: _consent(ConsentState.REFUSED),
    ev.ConsentWithdrawn: _consent(ConsentState.WITHDRAWN),
    ev.RepresentativeRecorded: lambda c, e: replace(c, representative=e.representative),
    ev.OrganisationsSignposted: _signposted,
    ev.LeadProposed: _proposed,
    ev.LeadResponded: _responded,
    ev.ComplainantViewRecorded: lambda c, e: replace(c, complainant_lead_view=e.view),
    ev.LeadAgreed: lambda c, e: replace(c, lead=e.org_id, lead_criteria=e.criteria),
    ev.NamedContactSet: lambda c, e: replace(
        c, named_contact=NamedContact(name=e.name, email=e.email, phone=e.phone, set_at=e.at)
    ),
    ev.ResponsePeriodSet: lambda c, e: replace(
        c, response_period=ResponsePeriod(e.due, e.agreed_with_complainant, e.at)
    ),
    ev.LongerPeriodAgreed: lambda c, e: replace(
        c, longer_period_until=e.until, longer_period_agreed_on=e.agreed_on
    ),
    ev.UpdateFrequencySet: lambda c, e: replace(c, update_every=e.working_days),
    ev.StrandAdded: _strand,
    ev.TargetDateChanged: _retarget,
    ev.TargetDateProposed: _date_proposed,
    ev.TargetDateRefused: _date_refused,
    ev.OnTrackReported: _on_track,
    ev.Snoozed: _snoozed,
    ev.ReminderSent: lambda c, e: replace(
        c,
        reminded=_with(
            c.reminded,
            e.reminder.schedule,
            max(e.reminder.on, c.reminded.get(e.reminder.schedule, e.reminder.on)),
        ),
    ),
    ev.ProgressUpdateSent: lambda c, e: replace(c, updates_sent=(*c.updates_sent, e.at)),
    ev.ContributorAsked: lambda c, e: replace(
        c, questions=(*c.questions, Question(e.question_id, e.strand_id, e.question, e.by, e.at))
    ),
    ev.MeetingScheduled: _meeting,
    ev.MeetingRecorded: _meeting_recorded,
    ev.DraftSignedOff: lambda c, e: replace(
        c, draft=replace(_draft(c), signed_off=_draft(c).signed_off | {e.org_id})
    ),
    ev.ImpasseAnswered: _impasse_answered,
    ev.OutcomeRecorded: lambda c, e: replace(c, outcomes=_with(c.outcomes, e.org_id, e.outcome)),
    ev.CaseCoded: lambda c, e: replace(c, coding=e.coding),
    ev.CaseDestroyed: lambda c, e: replace(c, closed_at=e.closed_at, destroyed_at=e.at),
    ev.OmbudsmanReferralRecorded: lambda c, e: replace(
        c,
        referrals=_with(
            c.referrals, e.org_id, tuple(dict.fromkeys((*c.referrals.get(e.org_id, ()), e.ombudsman)))
        ),
    ),
    ev.PlanAgreed: lambda c, e: replace(c, plan_agreed_by=c.plan_agreed_by | {e.org_id}),
    ev.PlanDiscussed: lambda c, e: replace(c, plan_discussed_at=e.at),
    ev.SharedUnderstandingRecorded: lambda c, e: replace(
        c, shared_understanding=e.understanding, outcomes_wanted=e.outcomes
    ),
    ev.ContributionReceived: _contribution,
    ev.DraftRecorded: _draft_recorded,
    ev.DraftKept: lambda c, e: replace(c, draft=replace(_draft(c), kept=True)),
    ev.CommentRoundOpened: lambda c, e: replace(c, draft=replace(_draft(c), comment_by=e.comment_by)),
    ev.CommentReceived: _comment,
    ev.DraftShared: lambda c, e: replace(c, draft=replace(_draft(c), shared_with_complainant_at=e.at)),
    ev.FinalResponseSent: lambda c, e: replace(c, final_response_at=e.at, signed_by=e.signed_by),
    ev.ActionAdded: _action,
    ev.ActionCompleted: _action_done,
    ev.LearningRecorded: lambda c, e: replace(c, learning=(*c.learning, e.text)),
    ev.NoActionNeededRecorded: lambda c, e: replace(c, no_action_reason=e.reason),
    ev.ImpasseRaised: _impasse,
    ev.ImpasseResolved: lambda c, e: replace(
        c, impasse=replace(_impasse_of(c), resolved_at=e.at, resolution=e.resolution)
    ),
    ev.PartialResponseSent: _impasse_step(2),
    ev.OmbudsmanSignposted: _impasse_step(3),
    ev.OutOfTimeDecided: lambda c, e: replace(c, out_of_time="accepted" if e.accept else "declined"),
    ev.DelayLetterSent: lambda c, e: replace(c, delay_letter_at=e.at, delay_expected_by=e.expected_by),
    ev.Acknowledged: lambda c, e: replace(c, acknowledged_at=e.at),
    ev.PassedOn: lambda c, e: replace(c, passed_on=c.passed_on | {e.org_id}),
    ev.CaseClosed: lambda c, e: replace(c, closed_at=e.at, closure=e.reason, outcome=e.outcome),
    ev.LetterQueued: _letter_queued,
    ev.LetterSent: _letter_sent,
    ev.LetterInDoubt: _letter_changed(in_doubt=lambda e: e.since, message_id=lambda e: e.message_id),
    ev.LetterRequeued: _letter_changed(in_doubt=lambda e: None, failed=lambda e: ""),
    ev.LetterFailed: _letter_changed(failed=lambda e: e.reason),
    ev.LetterRead: _letter_changed(read_at=lambda e: e.at),
    ev.MessageReceived: _message,
    ev.MessageRead: _message_read,
    ev.RelatedDismissed: lambda c, e: replace(c, related=()),
}
