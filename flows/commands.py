"""Commands: what someone asks the case to do. Imperative names; `flows.decide` judges them.

Every command names its actor. Values arriving from outside (button values, email tokens) are
never trusted: `decide` re-checks the case's status and the actor's role and organisation.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from flows.model import (
    Actor,
    AnswerChannel,
    Attachment,
    Channel,
    ConsentMethod,
    LeadCriterion,
    Ombudsman,
    OrgRef,
    Outcome,
    Person,
    Reminder,
    Representative,
    RepresentativeBasis,
    Sender,
)


@dataclass(frozen=True, kw_only=True)
class Command:
    actor: Actor


@dataclass(frozen=True, kw_only=True)
class ReceiveComplaint(Command):
    channel: Channel
    received_at: datetime
    complainant: Person
    home_org: OrgRef
    subject: str = ""
    text: str = ""
    message_id: str = ""
    suggested_orgs: tuple[str, ...] = ()
    happened_on: date | None = None
    aware_on: date | None = None
    related: tuple[str, ...] = ()
    attachments: tuple[Attachment, ...] = ()
    acknowledge: bool = True


@dataclass(frozen=True, kw_only=True)
class IdentifyOrganisations(Command):
    orgs: tuple[OrgRef, ...]


@dataclass(frozen=True, kw_only=True)
class RequestConsent(Command):
    org_ids: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class RecordConsent(Command):
    """The person's answer, organisation by organisation: given for `org_ids`, refused for `refused`."""

    org_ids: tuple[str, ...]
    refused: tuple[str, ...] = ()
    method: ConsentMethod
    given_on: date
    capacity_confirmed: bool
    representative: Representative | None = None
    joint: bool = True
    includes_learning: bool = True


@dataclass(frozen=True, kw_only=True)
class RecordRepresentative(Command):
    name: str
    relationship: str
    basis: RepresentativeBasis
    acts_for: str
    evidence: str = ""
    email: str = ""
    capacity_note: str = ""


@dataclass(frozen=True, kw_only=True)
class RecordConsentRefused(Command):
    org_ids: tuple[str, ...]
    note: str = ""


@dataclass(frozen=True, kw_only=True)
class WithdrawConsent(Command):
    org_ids: tuple[str, ...]
    note: str = ""


@dataclass(frozen=True, kw_only=True)
class PassOn(Command):
    org_id: str


@dataclass(frozen=True, kw_only=True)
class Signpost(Command):
    org_ids: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class ProposeLead(Command):
    org_id: str
    criteria: tuple[LeadCriterion, ...]
    reason: str = ""


@dataclass(frozen=True, kw_only=True)
class RespondToLead(Command):
    org_id: str
    agrees: bool
    reason: str = ""


@dataclass(frozen=True, kw_only=True)
class RecordComplainantView(Command):
    view: str


@dataclass(frozen=True, kw_only=True)
class SetNamedContact(Command):
    name: str
    email: str
    phone: str = ""


@dataclass(frozen=True, kw_only=True)
class SetResponsePeriod(Command):
    due: date
    agreed_with_complainant: bool


@dataclass(frozen=True, kw_only=True)
class AgreeLongerPeriod(Command):
    until: date
    agreed_on: date


@dataclass(frozen=True, kw_only=True)
class SetUpdateFrequency(Command):
    working_days: int


@dataclass(frozen=True, kw_only=True)
class AddStrand(Command):
    org_id: str
    matters: str
    target: date
    milestones: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class ChangeTargetDate(Command):
    strand_id: str
    target: date
    reason: str


@dataclass(frozen=True, kw_only=True)
class ProposeTargetDate(Command):
    """A contributor cannot make its target date: it proposes another, which the lead accepts
    (`ChangeTargetDate`) or refuses (`RefuseTargetDate`)."""

    strand_id: str
    target: date
    reason: str


@dataclass(frozen=True, kw_only=True)
class RefuseTargetDate(Command):
    strand_id: str
    reason: str = ""


@dataclass(frozen=True, kw_only=True)
class ReportOnTrack(Command):
    """A contributor's one-click answer to a reminder: the response will come by its date."""

    strand_id: str


@dataclass(frozen=True, kw_only=True)
class Snooze(Command):
    """No reminders about a strand or an action (`subject`) until `until`."""

    subject: str
    until: date


@dataclass(frozen=True, kw_only=True)
class SendReminders(Command):
    """The sweep's reminders found due (`flows.due`); each key is consumed with its write."""

    reminders: tuple[Reminder, ...]


@dataclass(frozen=True, kw_only=True)
class SendProgressUpdate(Command):
    """An update letter to the person at the agreed frequency."""

    text: str


@dataclass(frozen=True, kw_only=True)
class AskContributor(Command):
    strand_id: str
    question: str


@dataclass(frozen=True, kw_only=True)
class ScheduleMeeting(Command):
    on: datetime
    purpose: str


@dataclass(frozen=True, kw_only=True)
class RecordMeeting(Command):
    meeting_id: str
    represented: tuple[str, ...]
    attendees: tuple[str, ...]
    notes: str


@dataclass(frozen=True, kw_only=True)
class AgreePlan(Command):
    org_id: str


@dataclass(frozen=True, kw_only=True)
class RecordPlanDiscussed(Command):
    note: str = ""


@dataclass(frozen=True, kw_only=True)
class RecordSharedUnderstanding(Command):
    """What the complaint is about as agreed with the person, and the outcomes they want."""

    understanding: str
    outcomes: str


@dataclass(frozen=True, kw_only=True)
class RecordContribution(Command):
    strand_id: str
    summary: str
    attachments: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class RecordDraft(Command):
    text: str


@dataclass(frozen=True, kw_only=True)
class OpenCommentRound(Command):
    comment_by: date


@dataclass(frozen=True, kw_only=True)
class RecordComment(Command):
    org_id: str
    comment: str


@dataclass(frozen=True, kw_only=True)
class SignOffDraft(Command):
    """An organisation approves the draft joint response."""

    org_id: str


@dataclass(frozen=True, kw_only=True)
class KeepDraft(Command):
    """The lead keeps the draft as it is after the comments on it: no new version."""


@dataclass(frozen=True, kw_only=True)
class ShareDraftWithComplainant(Command):
    pass


@dataclass(frozen=True, kw_only=True)
class SendFinalResponse(Command):
    body: str
    signed_by: str
    signed_role: str


@dataclass(frozen=True, kw_only=True)
class AddAction(Command):
    owner_org: str
    description: str
    due: date


@dataclass(frozen=True, kw_only=True)
class CompleteAction(Command):
    action_id: str
    evidence: str


@dataclass(frozen=True, kw_only=True)
class RecordLearning(Command):
    text: str


@dataclass(frozen=True, kw_only=True)
class RecordNoActionNeeded(Command):
    """The response promises no action: `reason` says why (it follows "No action is needed, because")."""

    reason: str


@dataclass(frozen=True, kw_only=True)
class RaiseImpasse(Command):
    matter: str
    reason: str
    resolve_by: date


@dataclass(frozen=True, kw_only=True)
class ResolveImpasse(Command):
    resolution: str


@dataclass(frozen=True, kw_only=True)
class AnswerImpasse(Command):
    """A senior manager answers for their organisation: resolved (with the outcome) or cannot resolve.
    A handler records an answer given by phone, email or at a meeting, saying which (`how`)."""

    org_id: str
    resolved: bool
    outcome: str = ""
    how: AnswerChannel | None = None


@dataclass(frozen=True, kw_only=True)
class SendPartialResponse(Command):
    answered: str
    not_possible: str
    why_no_agreement: str


@dataclass(frozen=True, kw_only=True)
class SignpostOmbudsman(Command):
    pass


@dataclass(frozen=True, kw_only=True)
class DecideOutOfTime(Command):
    accept: bool
    reasons: str


@dataclass(frozen=True, kw_only=True)
class SendDelayLetter(Command):
    reasons: str
    expected_by: date


@dataclass(frozen=True, kw_only=True)
class RecordAcknowledgement(Command):
    method: ConsentMethod
    on: date


@dataclass(frozen=True, kw_only=True)
class ResolveInformally(Command):
    note: str


@dataclass(frozen=True, kw_only=True)
class RecordOutcome(Command):
    """Whether the complaint was upheld, for one organisation (each is recorded before closure)."""

    org_id: str
    outcome: Outcome


@dataclass(frozen=True, kw_only=True)
class CodeCase(Command):
    """How the complaint is counted: KO41a and annual-report coding, set at closure."""

    service_areas: tuple[str, ...]
    subjects: tuple[str, ...]
    professions: tuple[str, ...]
    age_band: str
    complainant_status: str
    site: str = ""


@dataclass(frozen=True, kw_only=True)
class RecordOmbudsmanReferral(Command):
    """The person took the complaint to an Ombudsman, for this organisation's part."""

    org_id: str
    ombudsman: Ombudsman


@dataclass(frozen=True, kw_only=True)
class DestroyRecord(Command):
    """At retention review, destroy the case's record, leaving a tombstone."""

    reason: str


@dataclass(frozen=True, kw_only=True)
class CloseCase(Command):
    outcome: Outcome


@dataclass(frozen=True, kw_only=True)
class WithdrawComplaint(Command):
    note: str = ""


@dataclass(frozen=True, kw_only=True)
class RecordLetterSent(Command):
    """Reported by the effect runner once the mailer accepted a letter."""

    key: str
    message_id: str


@dataclass(frozen=True, kw_only=True)
class RecordLetterInDoubt(Command):
    """Reported by the effect runner: sending the letter began at `since` and nobody can tell
    whether the mail server took it (the assistant stopped, or the connection was lost, meanwhile)."""

    key: str
    message_id: str
    since: datetime


@dataclass(frozen=True, kw_only=True)
class ResendLetter(Command):
    """A handler's answer to a letter in doubt: send it again, as it was."""

    key: str


@dataclass(frozen=True, kw_only=True)
class ConfirmLetterSent(Command):
    """A handler's answer to a letter in doubt: it went; record it as sent."""

    key: str


@dataclass(frozen=True, kw_only=True)
class ReceiveMessage(Command):
    """An email threaded onto this case by intake (reply, contributor answer, carried over)."""

    message_id: str
    sender: Sender
    from_address: str
    received_at: datetime
    subject: str = ""
    text: str = ""
    org_id: str = ""
    strand_id: str = ""
    attachments: tuple[Attachment, ...] = ()


@dataclass(frozen=True, kw_only=True)
class MarkMessageRead(Command):
    message_id: str


@dataclass(frozen=True, kw_only=True)
class ByEmail:
    """Mixed into a command the handler gives for an organisation that said it in an email: it is
    recorded as the organisation's own command would be, and the message is marked read with it."""

    message_id: str


@dataclass(frozen=True, kw_only=True)
class RecordContributionByEmail(RecordContribution, ByEmail):
    """The organisation's response on its strand, sent by email."""


@dataclass(frozen=True, kw_only=True)
class ProposeTargetDateByEmail(ProposeTargetDate, ByEmail):
    """The organisation asks by email for a new target date; the lead accepts or refuses it."""


@dataclass(frozen=True, kw_only=True)
class ChangeTargetDateByEmail(ChangeTargetDate, ByEmail):
    """The handler moves a strand's target date on what the organisation emailed."""


@dataclass(frozen=True, kw_only=True)
class RespondToLeadByEmail(RespondToLead, ByEmail):
    """The organisation's emailed agreement with, or objection to, the proposed lead."""


@dataclass(frozen=True, kw_only=True)
class MergeInto(Command):
    """This case is part of another: close it and carry its complaint over as a message."""

    target: str


@dataclass(frozen=True, kw_only=True)
class DismissRelated(Command):
    pass


@dataclass(frozen=True, kw_only=True)
class RecordLetterFailed(Command):
    """Reported by the effect runner when a letter can never be built or sent as it is."""

    key: str
    reason: str


@dataclass(frozen=True, kw_only=True)
class RecordLetterRead(Command):
    """Reported by intake when a read receipt (RFC 8098) for a letter comes back."""

    key: str
