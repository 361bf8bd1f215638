"""Events: facts about a case, in the past tense. The event log is the audit trail.

Each event records when it happened (`at`) and who made it happen (`by`, an actor id). Events are
never changed once written; `flows.evolve` folds them into a `Case`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from flows.model import (
    AnswerChannel,
    Attachment,
    Channel,
    ClosureReason,
    Coding,
    ConsentMethod,
    LeadCriterion,
    Ombudsman,
    OrgRef,
    Outcome,
    Person,
    Reminder,
    Representative,
    Sender,
)


@dataclass(frozen=True, kw_only=True)
class Event:
    at: datetime
    by: str


@dataclass(frozen=True, kw_only=True)
class ComplaintReceived(Event):
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


@dataclass(frozen=True, kw_only=True)
class OrganisationsIdentified(Event):
    orgs: tuple[OrgRef, ...]


@dataclass(frozen=True, kw_only=True)
class ConsentRequested(Event):
    org_ids: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class ConsentGiven(Event):
    org_ids: tuple[str, ...]
    method: ConsentMethod
    given_on: date
    capacity_confirmed: bool
    representative: Representative | None = None
    joint: bool = True
    includes_learning: bool = True


@dataclass(frozen=True, kw_only=True)
class RepresentativeRecorded(Event):
    representative: Representative


@dataclass(frozen=True, kw_only=True)
class ConsentRefused(Event):
    org_ids: tuple[str, ...]
    note: str = ""


@dataclass(frozen=True, kw_only=True)
class ConsentWithdrawn(Event):
    org_ids: tuple[str, ...]
    note: str = ""


@dataclass(frozen=True, kw_only=True)
class OrganisationsSignposted(Event):
    org_ids: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class PassedOn(Event):
    org_id: str


@dataclass(frozen=True, kw_only=True)
class LeadProposed(Event):
    org_id: str
    criteria: tuple[LeadCriterion, ...]
    reason: str = ""


@dataclass(frozen=True, kw_only=True)
class LeadResponded(Event):
    org_id: str
    agrees: bool
    reason: str = ""


@dataclass(frozen=True, kw_only=True)
class ComplainantViewRecorded(Event):
    view: str


@dataclass(frozen=True, kw_only=True)
class LeadAgreed(Event):
    org_id: str
    criteria: tuple[LeadCriterion, ...]
    agreed_by: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class NamedContactSet(Event):
    name: str
    email: str
    phone: str = ""


@dataclass(frozen=True, kw_only=True)
class ResponsePeriodSet(Event):
    due: date
    agreed_with_complainant: bool


@dataclass(frozen=True, kw_only=True)
class LongerPeriodAgreed(Event):
    until: date
    agreed_on: date


@dataclass(frozen=True, kw_only=True)
class UpdateFrequencySet(Event):
    working_days: int


@dataclass(frozen=True, kw_only=True)
class StrandAdded(Event):
    strand_id: str
    org_id: str
    matters: str
    target: date
    milestones: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class TargetDateChanged(Event):
    strand_id: str
    target: date
    previous: date
    reason: str


@dataclass(frozen=True, kw_only=True)
class TargetDateProposed(Event):
    strand_id: str
    target: date
    reason: str


@dataclass(frozen=True, kw_only=True)
class TargetDateRefused(Event):
    strand_id: str
    reason: str = ""


@dataclass(frozen=True, kw_only=True)
class OnTrackReported(Event):
    strand_id: str


@dataclass(frozen=True, kw_only=True)
class Snoozed(Event):
    subject: str
    until: date


@dataclass(frozen=True, kw_only=True)
class ReminderSent(Event):
    reminder: Reminder


@dataclass(frozen=True, kw_only=True)
class ProgressUpdateSent(Event):
    text: str


@dataclass(frozen=True, kw_only=True)
class ContributorAsked(Event):
    question_id: str
    strand_id: str
    question: str


@dataclass(frozen=True, kw_only=True)
class MeetingScheduled(Event):
    meeting_id: str
    on: datetime
    purpose: str


@dataclass(frozen=True, kw_only=True)
class MeetingRecorded(Event):
    meeting_id: str
    represented: tuple[str, ...]
    attendees: tuple[str, ...]
    notes: str


@dataclass(frozen=True, kw_only=True)
class PlanAgreed(Event):
    org_id: str


@dataclass(frozen=True, kw_only=True)
class PlanDiscussed(Event):
    note: str = ""


@dataclass(frozen=True, kw_only=True)
class SharedUnderstandingRecorded(Event):
    understanding: str
    outcomes: str


@dataclass(frozen=True, kw_only=True)
class ContributionReceived(Event):
    strand_id: str
    summary: str
    attachments: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class DraftRecorded(Event):
    text: str
    version: int = 1


@dataclass(frozen=True, kw_only=True)
class CommentRoundOpened(Event):
    comment_by: date


@dataclass(frozen=True, kw_only=True)
class CommentReceived(Event):
    org_id: str
    comment: str


@dataclass(frozen=True, kw_only=True)
class DraftSignedOff(Event):
    org_id: str
    version: int = 1  # the version of the draft it approved


@dataclass(frozen=True, kw_only=True)
class DraftKept(Event):
    version: int


@dataclass(frozen=True, kw_only=True)
class DraftShared(Event):
    pass


@dataclass(frozen=True, kw_only=True)
class FinalResponseSent(Event):
    signed_by: str
    signed_role: str


@dataclass(frozen=True, kw_only=True)
class ActionAdded(Event):
    action_id: str
    owner_org: str
    description: str
    due: date


@dataclass(frozen=True, kw_only=True)
class ActionCompleted(Event):
    action_id: str
    evidence: str


@dataclass(frozen=True, kw_only=True)
class LearningRecorded(Event):
    text: str


@dataclass(frozen=True, kw_only=True)
class LearningShared(Event):
    """The learning just recorded went to these organisations (in chat, or by letter)."""

    org_ids: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class NoActionNeededRecorded(Event):
    reason: str


@dataclass(frozen=True, kw_only=True)
class ImpasseRaised(Event):
    matter: str
    reason: str
    resolve_by: date


@dataclass(frozen=True, kw_only=True)
class ImpasseResolved(Event):
    resolution: str


@dataclass(frozen=True, kw_only=True)
class ImpasseAnswered(Event):
    org_id: str
    resolved: bool
    outcome: str = ""
    how: AnswerChannel | None = None  # given outside the chat; `by` is the handler who recorded it


@dataclass(frozen=True, kw_only=True)
class PartialResponseSent(Event):
    pass


@dataclass(frozen=True, kw_only=True)
class OmbudsmanSignposted(Event):
    ombudsmen: tuple[Ombudsman, ...]


@dataclass(frozen=True, kw_only=True)
class OutOfTimeDecided(Event):
    accept: bool
    reasons: str


@dataclass(frozen=True, kw_only=True)
class DelayLetterSent(Event):
    reasons: str
    expected_by: date


@dataclass(frozen=True, kw_only=True)
class Acknowledged(Event):
    method: ConsentMethod
    on: date


@dataclass(frozen=True, kw_only=True)
class OutcomeRecorded(Event):
    org_id: str
    outcome: Outcome


@dataclass(frozen=True, kw_only=True)
class CaseCoded(Event):
    coding: Coding


@dataclass(frozen=True, kw_only=True)
class OmbudsmanReferralRecorded(Event):
    org_id: str
    ombudsman: Ombudsman


@dataclass(frozen=True, kw_only=True)
class CaseDestroyed(Event):
    """The tombstone left when a record is destroyed: the reference is the stream, then its dates,
    who destroyed it and why. Nothing about the person."""

    received_on: date
    closed_at: datetime
    reason: str


@dataclass(frozen=True, kw_only=True)
class CaseClosed(Event):
    reason: ClosureReason
    outcome: Outcome | None = None
    note: str = ""


@dataclass(frozen=True, kw_only=True)
class LetterQueued(Event):
    key: str
    template: str
    to: str


@dataclass(frozen=True, kw_only=True)
class LetterSent(Event):
    key: str
    message_id: str


@dataclass(frozen=True, kw_only=True)
class LetterInDoubt(Event):
    """Sending began at `since`, and whether the mail server took the letter is not known."""

    key: str
    message_id: str
    since: datetime


@dataclass(frozen=True, kw_only=True)
class LetterRequeued(Event):
    """A handler had a letter in doubt sent again."""

    key: str


@dataclass(frozen=True, kw_only=True)
class MessageReceived(Event):
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
class MessageRead(Event):
    message_id: str


@dataclass(frozen=True, kw_only=True)
class RelatedDismissed(Event):
    """A handler decided this case is not part of the cases it seemed related to."""


@dataclass(frozen=True, kw_only=True)
class LetterFailed(Event):
    """The letter can never be sent as it is (e.g. an address no mail system accepts)."""

    key: str
    reason: str


@dataclass(frozen=True, kw_only=True)
class LetterRead(Event):
    """The recipient's mail program reported the letter displayed (a read receipt)."""

    key: str


@dataclass(frozen=True, kw_only=True)
class DisclosureMade(Event):
    """Every disclosure to another organisation: what, to whom, on which consent, when."""

    org_id: str
    what: str
    effect_key: str
    consent_method: str
    consent_on: date | None
