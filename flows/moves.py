"""The allowed moves of a case, as data, checked in one place.

`ALLOWED` says in which statuses each command may be given; `EDGES` lists every status change the
process knows. `flows.decide` checks the first; a test replays scenarios and checks every change
of status is one of `EDGES`, and that `mermaid()` matches the diagram below (and the README's).

```mermaid
stateDiagram-v2
    [*] --> received
    received --> awaiting_consent
    received --> naming_contact
    received --> closed
    awaiting_consent --> agreeing_lead
    awaiting_consent --> naming_contact
    awaiting_consent --> closed
    agreeing_lead --> awaiting_consent
    agreeing_lead --> naming_contact
    agreeing_lead --> responded
    agreeing_lead --> closed
    naming_contact --> planning
    naming_contact --> responded
    naming_contact --> closed
    planning --> investigating
    planning --> responded
    planning --> closed
    investigating --> planning
    investigating --> drafting
    investigating --> responded
    investigating --> closed
    drafting --> responded
    drafting --> closed
    responded --> drafting
    responded --> closed
    closed --> [*]
```
"""

from __future__ import annotations

from flows import commands as c
from flows.errors import NotAllowedNow
from flows.model import OPEN_STATUSES, Status

S = Status
_BEFORE_RESPONSE = OPEN_STATUSES - {S.RESPONDED}
_CONSENT_STAGES = _BEFORE_RESPONSE - {S.RECEIVED}
_LEAD_AGREED = frozenset({S.NAMING_CONTACT, S.PLANNING, S.INVESTIGATING, S.DRAFTING})
_DISPUTABLE = frozenset({S.AGREEING_LEAD}) | _LEAD_AGREED

ALLOWED: dict[type[c.Command], frozenset[Status]] = {
    c.IdentifyOrganisations: frozenset({S.RECEIVED, S.AWAITING_CONSENT, S.AGREEING_LEAD}) | _LEAD_AGREED,
    c.RequestConsent: _CONSENT_STAGES,
    c.RecordConsent: _CONSENT_STAGES,
    c.RecordConsentRefused: _CONSENT_STAGES,
    c.RecordRepresentative: OPEN_STATUSES,
    c.WithdrawConsent: OPEN_STATUSES - {S.RECEIVED},
    c.PassOn: frozenset({S.AWAITING_CONSENT, S.AGREEING_LEAD}),
    c.Signpost: _CONSENT_STAGES,
    c.ProposeLead: frozenset({S.AGREEING_LEAD}),
    c.RespondToLead: frozenset({S.AGREEING_LEAD}),
    c.RecordComplainantView: frozenset({S.AWAITING_CONSENT, S.AGREEING_LEAD}),
    c.SetNamedContact: _LEAD_AGREED,
    c.SetResponsePeriod: _BEFORE_RESPONSE,
    c.AgreeLongerPeriod: _BEFORE_RESPONSE,
    c.SetUpdateFrequency: _BEFORE_RESPONSE,
    c.AddStrand: frozenset({S.PLANNING, S.INVESTIGATING}),
    c.ChangeTargetDate: frozenset({S.PLANNING, S.INVESTIGATING}),
    c.ProposeTargetDate: frozenset({S.PLANNING, S.INVESTIGATING}),
    c.RefuseTargetDate: frozenset({S.PLANNING, S.INVESTIGATING}),
    c.ReportOnTrack: frozenset({S.PLANNING, S.INVESTIGATING}),
    c.Snooze: frozenset({S.PLANNING, S.INVESTIGATING, S.DRAFTING, S.RESPONDED}),
    c.SendReminders: OPEN_STATUSES,
    c.SendProgressUpdate: _CONSENT_STAGES | {S.RESPONDED},
    c.AskContributor: frozenset({S.PLANNING, S.INVESTIGATING, S.DRAFTING}),
    c.ScheduleMeeting: _DISPUTABLE,
    c.RecordMeeting: _DISPUTABLE,
    c.SignOffDraft: frozenset({S.DRAFTING}),
    c.AnswerImpasse: _DISPUTABLE,
    c.RecordOutcome: frozenset({S.RESPONDED}),
    c.CodeCase: frozenset({S.RESPONDED, S.CLOSED}),
    c.DestroyRecord: frozenset({S.CLOSED}),
    c.RecordOmbudsmanReferral: frozenset({S.RESPONDED, S.CLOSED}),
    c.AgreePlan: frozenset({S.PLANNING}),
    c.RecordPlanDiscussed: frozenset({S.PLANNING, S.INVESTIGATING}),
    c.RecordSharedUnderstanding: _LEAD_AGREED,
    c.RecordContribution: frozenset({S.INVESTIGATING, S.RESPONDED}),  # late: after a partial response
    c.RecordDraft: frozenset({S.INVESTIGATING, S.DRAFTING, S.RESPONDED}),  # the full response after it
    c.KeepDraft: frozenset({S.DRAFTING}),
    c.OpenCommentRound: frozenset({S.DRAFTING}),
    c.RecordComment: frozenset({S.DRAFTING}),
    c.ShareDraftWithComplainant: frozenset({S.DRAFTING}),
    c.SendFinalResponse: frozenset({S.DRAFTING}),
    c.AddAction: frozenset({S.INVESTIGATING, S.DRAFTING, S.RESPONDED}),  # asked with the draft
    c.RecordNoActionNeeded: frozenset({S.INVESTIGATING, S.DRAFTING}),
    c.CompleteAction: frozenset({S.RESPONDED}),
    c.RecordLearning: frozenset({S.DRAFTING, S.RESPONDED}),
    c.RaiseImpasse: _DISPUTABLE,
    c.ResolveImpasse: _DISPUTABLE,
    c.SendPartialResponse: _DISPUTABLE,
    c.SignpostOmbudsman: frozenset({S.RESPONDED}),
    c.DecideOutOfTime: _BEFORE_RESPONSE,
    c.SendDelayLetter: _BEFORE_RESPONSE,
    c.RecordAcknowledgement: OPEN_STATUSES,
    c.ResolveInformally: frozenset({S.RECEIVED}),
    c.CloseCase: frozenset({S.RESPONDED}),
    c.WithdrawComplaint: OPEN_STATUSES,
    c.RecordLetterSent: frozenset(Status),
    c.RecordLetterFailed: frozenset(Status),
    c.RecordLetterInDoubt: frozenset(Status),  # a letter in doubt is settled whatever the case's state
    c.ResendLetter: frozenset(Status),
    c.ConfirmLetterSent: frozenset(Status),
    c.RecordLetterRead: frozenset(Status),
    c.ReceiveMessage: frozenset(Status),
    c.MarkMessageRead: frozenset(Status),
    c.RecordContributionByEmail: frozenset({S.INVESTIGATING, S.RESPONDED}),  # late, as by chat
    c.ProposeTargetDateByEmail: frozenset({S.PLANNING, S.INVESTIGATING}),
    c.ChangeTargetDateByEmail: frozenset({S.PLANNING, S.INVESTIGATING}),
    c.RespondToLeadByEmail: frozenset({S.AGREEING_LEAD}),
    c.MergeInto: frozenset({S.RECEIVED, S.AWAITING_CONSENT}),
    c.DismissRelated: OPEN_STATUSES,
}

EDGES: frozenset[tuple[Status, Status]] = frozenset(
    {
        (S.RECEIVED, S.AWAITING_CONSENT),
        (S.RECEIVED, S.NAMING_CONTACT),
        (S.AWAITING_CONSENT, S.AGREEING_LEAD),
        (S.AWAITING_CONSENT, S.NAMING_CONTACT),
        (S.AGREEING_LEAD, S.AWAITING_CONSENT),
        (S.AGREEING_LEAD, S.NAMING_CONTACT),
        (S.AGREEING_LEAD, S.RESPONDED),
        (S.NAMING_CONTACT, S.PLANNING),
        (S.NAMING_CONTACT, S.RESPONDED),
        (S.INVESTIGATING, S.PLANNING),
        (S.PLANNING, S.INVESTIGATING),
        (S.PLANNING, S.RESPONDED),
        (S.INVESTIGATING, S.DRAFTING),
        (S.INVESTIGATING, S.RESPONDED),
        (S.DRAFTING, S.RESPONDED),
        (S.RESPONDED, S.DRAFTING),  # the full response drafted after a partial one (impasse step 2)
    }
    | {(s, S.CLOSED) for s in OPEN_STATUSES}
)


def check_allowed(command: c.Command, status: Status | None) -> None:
    """Raise `NotAllowedNow` unless `command` fits `status` (None: the case does not exist yet)."""
    if isinstance(command, c.ReceiveComplaint):
        if status is not None:
            raise NotAllowedNow("this complaint has already been received", status=status)
        return
    if status is None:
        raise NotAllowedNow("there is no such case yet", command=type(command).__name__)
    if status not in ALLOWED[type(command)]:
        raise NotAllowedNow(
            f"cannot {_words(type(command).__name__)} while the case is {status.value.replace('_', ' ')}",
            command=type(command).__name__,
            status=status,
        )


def _words(name: str) -> str:
    return "".join(" " + ch.lower() if ch.isupper() else ch for ch in name).strip()


def mermaid() -> str:
    """The state diagram rendered from `EDGES`, in the order of the process."""
    order = list(Status)
    lines = ["stateDiagram-v2", f"    [*] --> {S.RECEIVED.value}"]
    for a, b in sorted(EDGES, key=lambda e: (order.index(e[0]), order.index(e[1]))):
        lines.append(f"    {a.value} --> {b.value}")
    lines.append(f"    {S.CLOSED.value} --> [*]")
    return "\n".join(lines)
