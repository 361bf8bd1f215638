"""The case as the rest of the core sees it: a value folded from the case's events.

Everything here is immutable. `flows.evolve` builds a new `Case` for each event; nothing else
writes one. The status is not stored by events: it is derived from the facts (`derive_status`),
so it can never disagree with them, and `flows.moves` checks that every change is an edge of the
documented state diagram.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from flows.calendar import london_date


class Sector(StrEnum):
    HEALTH = "health"
    SOCIAL_CARE = "social_care"


class Role(StrEnum):
    HANDLER = "handler"
    CONTRIBUTOR = "contributor"
    MANAGER = "manager"
    ADMIN = "admin"
    SYSTEM = "system"


class Channel(StrEnum):
    EMAIL = "email"
    PHONE = "phone"
    IN_PERSON = "in_person"
    LETTER = "letter"


class Status(StrEnum):
    RECEIVED = "received"
    AWAITING_CONSENT = "awaiting_consent"
    AGREEING_LEAD = "agreeing_lead"
    NAMING_CONTACT = "naming_contact"
    PLANNING = "planning"
    INVESTIGATING = "investigating"
    DRAFTING = "drafting"
    RESPONDED = "responded"
    CLOSED = "closed"


OPEN_STATUSES = frozenset(s for s in Status if s is not Status.CLOSED)

# A case reference people can read out on the phone: JC-<London day of receipt>-<base32>.
REFERENCE = re.compile(r"JC-\d{6}-[A-Z2-7]{4,}")


class ConsentState(StrEnum):
    REQUESTED = "requested"
    GIVEN = "given"
    REFUSED = "refused"
    WITHDRAWN = "withdrawn"


class ConsentMethod(StrEnum):
    WRITTEN = "written"
    EMAIL = "email"
    PHONE = "phone"
    IN_PERSON = "in_person"


class RepresentativeBasis(StrEnum):
    WRITTEN_CONSENT = "written_consent"
    LASTING_POWER_OF_ATTORNEY = "lasting_power_of_attorney"
    DEPUTYSHIP = "deputyship"
    PROBATE = "probate"
    PARENTAL_RESPONSIBILITY = "parental_responsibility"
    BEST_INTERESTS = "best_interests"


class LeadCriterion(StrEnum):
    """The guide's criteria for choosing the lead organisation."""

    GREATEST_RESPONSIBILITY = "greatest_responsibility"
    BEST_RELATIONSHIP = "best_relationship"
    MOST_RESOURCE = "most_resource"
    MAIN_COMMISSIONER = "main_commissioner"


class Outcome(StrEnum):
    UPHELD = "upheld"
    PARTLY_UPHELD = "partly_upheld"
    NOT_UPHELD = "not_upheld"


class Sender(StrEnum):
    COMPLAINANT = "complainant"
    CONTRIBUTOR = "contributor"
    OTHER = "other"


SENDER_WORDS = {
    Sender.COMPLAINANT: "the person",
    Sender.CONTRIBUTOR: "a contributor",
    Sender.OTHER: "someone",
}


class ClosureReason(StrEnum):
    MERGED = "merged"
    RESPONDED = "responded"
    RESOLVED_INFORMALLY = "resolved_informally"
    PASSED_ON = "passed_on"
    SIGNPOSTED = "signposted"
    WITHDRAWN = "withdrawn"


class ReminderKind(StrEnum):
    """What a reminder from the sweep (`flows.due`) is about."""

    CONTRIBUTION = "contribution"  # a strand's response, to its organisation
    ACTION = "action"  # an action from the response, to its owner
    COMMENTS = "comments"  # comments on the draft, to a contributing organisation
    ACKNOWLEDGEMENT = "acknowledgement"  # the 3-working-day acknowledgement, to the handlers
    UPDATE = "update"  # an update letter to the person at the agreed frequency, to the handlers
    RESPONSE_PERIOD = "response_period"  # the response period ends, to the handlers
    SIX_MONTHS = "six_months"  # the six-month point without a response, to the handlers
    LEAD_NOT_AGREED = "lead_not_agreed"  # an impasse suggested, to the handlers
    CONTRIBUTION_LATE = "contribution_late"  # an impasse suggested, to the handlers
    COMMENTS_LATE = "comments_late"  # comments reminded weekly now: an impasse suggested, to the handlers
    ACTION_LATE = "action_late"  # an action reminded weekly now: the handlers are told
    MILESTONE = "milestone"  # a dated milestone: the contributor updates the lead, to its organisation
    IMPASSE_DUE = "impasse_due"  # senior managers' date passed unresolved: step 2, to the handlers


class Ombudsman(StrEnum):
    PHSO = "phso"
    LGSCO = "lgsco"


class AnswerChannel(StrEnum):
    """How senior managers gave an answer that a handler records on their behalf."""

    PHONE = "phone"
    EMAIL = "email"
    MEETING = "meeting"


@dataclass(frozen=True)
class Actor:
    """Who is acting: resolved by an adapter from a chat user id or an email, checked by the core."""

    id: str
    org_id: str
    roles: frozenset[Role]
    name: str = ""
    email: str = ""  # from the directory: offered wherever the actor's own address is asked for


@dataclass(frozen=True)
class Advocacy:
    name: str
    phone: str
    website: str


@dataclass(frozen=True)
class OrgRef:
    """An organisation as the case knows it (copied from the directory when it joined)."""

    id: str
    name: str
    sector: Sector
    kind: str
    email: str = ""
    phone: str = ""
    advocacy: Advocacy | None = None
    has_contacts: bool = False  # people to tell in chat; without them, its complaints inbox hears
    escalation_email: str = ""  # copied on its overdue letters once they go weekly


@dataclass(frozen=True)
class Person:
    name: str
    email: str = ""
    phone: str = ""
    address: str = ""


@dataclass(frozen=True)
class Representative:
    """Someone acting for the person: who, how related, on what authority, and for whom."""

    name: str
    relationship: str
    basis: RepresentativeBasis
    evidence: str = ""  # where the written consent, power of attorney or court order is held
    acts_for: str = ""  # the person the complaint is about, when the one who complained acts for them
    email: str = ""  # when they are not the one who complained: letters go to them instead
    capacity_note: str = ""  # the handler's note on the person's capacity to consent


@dataclass(frozen=True)
class Consent:
    org_id: str
    state: ConsentState
    at: datetime
    by: str
    method: ConsentMethod | None = None
    given_on: date | None = None
    capacity_confirmed: bool = False
    representative: Representative | None = None
    joint: bool = False
    includes_learning: bool = False
    note: str = ""


@dataclass(frozen=True)
class LeadResponse:
    org_id: str
    agrees: bool
    by: str
    at: datetime
    reason: str = ""


@dataclass(frozen=True)
class LeadProposal:
    org_id: str
    criteria: tuple[LeadCriterion, ...]
    reason: str
    by: str
    at: datetime
    responses: Mapping[str, LeadResponse] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True)
class NamedContact:
    name: str
    email: str
    phone: str
    set_at: datetime


@dataclass(frozen=True)
class ResponsePeriod:
    due: date
    agreed_with_complainant: bool
    set_at: datetime


@dataclass(frozen=True)
class Contribution:
    summary: str
    by: str
    at: datetime
    attachments: tuple[str, ...] = ()


@dataclass(frozen=True)
class DateProposal:
    """A new target date a contributor asked for, waiting for the lead's answer."""

    target: date
    reason: str
    by: str
    at: datetime


@dataclass(frozen=True)
class Reminder:
    """One reminder the sweep found due: deterministic `key` (case, what, which date, which step),
    the day it was `on`, and `late` when that day had passed before it could be sent."""

    key: str
    kind: ReminderKind
    on: date
    schedule: str = ""  # the clock it belongs to (`flows.due.Clock.name`)
    subject: str = ""  # a strand or action id, when the reminder is about one
    org_id: str = ""  # the organisation reminded; "" for the coordinating handlers
    late: bool = False
    overdue: int = 0  # how many working days past its date the thing reminded about is
    due: date | None = None  # the date the thing reminded about is due
    weekly: bool = False  # past its first overdue reminders: weekly now, its escalation contact copied


@dataclass(frozen=True)
class Strand:
    id: str
    org_id: str
    matters: str
    target: date
    milestones: tuple[str, ...] = ()  # "2026-12-03 Records gathered": dated ones are update times
    contribution: Contribution | None = None
    proposed: DateProposal | None = None
    snoozed_until: date | None = None
    on_track_at: datetime | None = None

    @property
    def update_times(self) -> tuple[date, ...]:
        """The days on which the contributor reports to the lead: the milestones that start with a date."""
        return tuple(sorted({day for m in self.milestones if (day := milestone_day(m)) is not None}))


@dataclass(frozen=True)
class Action:
    id: str
    owner_org: str
    description: str
    due: date
    completed_at: datetime | None = None
    evidence: str = ""
    snoozed_until: date | None = None


@dataclass(frozen=True)
class ImpasseAnswer:
    """A senior manager's answer for their organisation: resolved (with the outcome) or not."""

    org_id: str
    resolved: bool
    outcome: str
    by: str
    at: datetime
    how: AnswerChannel | None = None  # given outside the chat, recorded by a handler (`by`)


@dataclass(frozen=True)
class Impasse:
    matter: str
    reason: str
    raised_at: datetime
    resolve_by: date
    step: int = 1
    resolved_at: datetime | None = None
    resolution: str = ""
    answers: Mapping[str, ImpasseAnswer] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True)
class Meeting:
    """A meeting of the organisations: each involved one must attend or be represented."""

    id: str
    on: datetime
    purpose: str
    represented: tuple[str, ...] = ()  # organisation ids, once the meeting is recorded
    attendees: tuple[str, ...] = ()
    notes: str = ""
    recorded_at: datetime | None = None


@dataclass(frozen=True)
class Question:
    """A question put to a contributing organisation about its strand; its answer arrives by email."""

    id: str
    strand_id: str
    text: str
    by: str
    at: datetime


@dataclass(frozen=True)
class Coding:
    """How the complaint is counted (KO41a and the annual report); codes come from `flows.ko41a`."""

    service_areas: tuple[str, ...]
    subjects: tuple[str, ...]  # subject areas; clinical ones with their sub-category ("clinical/diagnosis")
    professions: tuple[str, ...]
    age_band: str
    complainant_status: str  # "patient" or "on_behalf"
    site: str = ""


@dataclass(frozen=True)
class Letter:
    key: str
    template: str
    to: str
    queued_at: datetime
    sent_at: datetime | None = None
    message_id: str = ""
    failed: str = ""  # why it can never be sent, when that is so
    in_doubt: datetime | None = None  # sending began then, and nobody knows whether it went
    read_at: datetime | None = None  # when a read receipt for it came back


@dataclass(frozen=True)
class Attachment:
    """A file that came with an email, kept under a generated `name`; `filename` is the sender's
    (for display only, never a path)."""

    name: str
    filename: str
    content_type: str
    size: int


@dataclass(frozen=True)
class Message:
    """An email that arrived on an open case (the complaint itself is the case's own text)."""

    message_id: str
    sender: Sender
    from_address: str
    received_at: datetime
    subject: str = ""
    text: str = ""
    org_id: str = ""
    strand_id: str = ""
    attachments: tuple[Attachment, ...] = ()
    read: bool = False


@dataclass(frozen=True)
class Draft:
    text: str
    at: datetime
    comment_by: date | None = None
    comments: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    shared_with_complainant_at: datetime | None = None
    signed_off: frozenset[str] = frozenset()  # organisations that approved this version
    version: int = 1  # a new version once a draft that went out for comment is revised
    kept: bool = False  # the lead kept this version as it is after the comments on it
    follows_partial: bool = False  # written after the partial response: the full response follows it


def _empty() -> Mapping[Any, Any]:
    return MappingProxyType({})


@dataclass(frozen=True)
class Case:
    """Everything known about one complaint. Build it only through `flows.evolve`."""

    ref: str
    version: int = 0
    home_org: str = ""
    channel: Channel = Channel.EMAIL
    received_at: datetime | None = None
    complainant: Person = Person(name="")
    subject: str = ""
    text: str = ""
    message_id: str = ""
    attachments: tuple[Attachment, ...] = ()
    happened_on: date | None = None
    aware_on: date | None = None
    suggested_orgs: tuple[str, ...] = ()
    orgs: Mapping[str, OrgRef] = field(default_factory=_empty)
    identified: tuple[str, ...] = ()  # the organisations a handler said are involved
    signposted_orgs: frozenset[str] = frozenset()
    passed_on: frozenset[str] = frozenset()
    consents: Mapping[str, Consent] = field(default_factory=_empty)
    proposal: LeadProposal | None = None
    representative: Representative | None = None  # who acts for the person, once recorded
    complainant_lead_view: str = ""
    lead: str | None = None
    lead_criteria: tuple[LeadCriterion, ...] = ()
    named_contact: NamedContact | None = None
    response_period: ResponsePeriod | None = None
    longer_period_until: date | None = None
    longer_period_agreed_on: date | None = None
    update_every: int | None = None
    strands: Mapping[str, Strand] = field(default_factory=_empty)
    plan_agreed_by: frozenset[str] = frozenset()
    plan_discussed_at: datetime | None = None
    shared_understanding: str = ""  # the complaint as agreed with the person
    outcomes_wanted: str = ""  # what the person wants from it
    draft: Draft | None = None
    final_response_at: datetime | None = None
    signed_by: str = ""
    partial_response_at: datetime | None = None
    ombudsmen_signposted: tuple[Ombudsman, ...] = ()
    actions: Mapping[str, Action] = field(default_factory=_empty)
    learning: tuple[str, ...] = ()
    no_action_reason: str = ""  # why the response promises no action, once recorded
    impasse: Impasse | None = None
    out_of_time: str | None = None  # "accepted" / "declined" once a handler decided
    acknowledged_at: datetime | None = None
    delay_letter_at: datetime | None = None
    delay_expected_by: date | None = None  # when the delay letter told the person to expect the response
    letters: Mapping[str, Letter] = field(default_factory=_empty)
    messages: tuple[Message, ...] = ()
    related: tuple[str, ...] = ()  # cases this one may belong to: a handler decides
    closed_at: datetime | None = None
    destroyed_at: datetime | None = None  # the record was destroyed at retention review: a tombstone
    closure: ClosureReason | None = None
    outcome: Outcome | None = None
    outcomes: Mapping[str, Outcome] = field(default_factory=_empty)  # per organisation
    coding: Coding | None = None
    referrals: Mapping[str, tuple[Ombudsman, ...]] = field(default_factory=_empty)  # org -> Ombudsmen
    meetings: Mapping[str, Meeting] = field(default_factory=_empty)
    questions: tuple[Question, ...] = ()
    updates_sent: tuple[datetime, ...] = ()  # progress update letters to the person
    reminded: Mapping[str, date] = field(default_factory=_empty)  # clock -> latest step sent

    @property
    def received(self) -> datetime:
        """When the complaint reached us; only asked of a case that has been received."""
        assert self.received_at is not None, "the case has not been received"
        return self.received_at

    @property
    def received_on(self) -> date:
        """The London calendar day of receipt, from which every statutory clock counts."""
        return london_date(self.received)

    @property
    def coordinator(self) -> str:
        """The organisation that coordinates now: the lead once agreed, else the one that received it."""
        return self.lead or self.home_org

    @property
    def orgs_identified(self) -> bool:
        return bool(self.identified)

    @property
    def involved(self) -> tuple[str, ...]:
        """Organisations taking part in the joint handling (signposted ones are out of it).

        `orgs` also keeps the receiving organisation when it is not itself complained about,
        since it still writes the letters."""
        return tuple(o for o in self.identified or (self.home_org,) if o not in self.signposted_orgs)

    @property
    def ours(self) -> bool:
        """Is the receiving organisation itself one of those complained about?"""
        return self.home_org in self.involved

    @property
    def others(self) -> tuple[str, ...]:
        return tuple(o for o in self.involved if o != self.home_org)

    def sent_by(self, org_id: str, sender: Sender) -> str:
        """Who an email came from, in words: its organisation's name, or "the person"."""
        return self.orgs[org_id].name if org_id in self.orgs else SENDER_WORDS[sender]

    def consent_active(self, org_id: str) -> bool:
        """May identifiable details go to `org_id`? Our own organisation needs no consent."""
        if org_id == self.home_org:
            return True
        consent = self.consents.get(org_id)
        return consent is not None and consent.state is ConsentState.GIVEN

    @property
    def status(self) -> Status:
        return derive_status(self)


def milestone_day(milestone: str) -> date | None:
    """The date a milestone starts with ("2026-12-03 Records gathered"), if it starts with one."""
    head = milestone.strip()[:10]
    try:
        return date.fromisoformat(head) if len(head) == 10 else None
    except ValueError:
        return None


def derive_status(case: Case) -> Status:
    """The status follows from the facts; the order of the tests is the order of the process."""
    if case.closed_at is not None:
        return Status.CLOSED
    drafting_in_full = case.draft is not None and case.draft.follows_partial
    if case.final_response_at is not None or (case.partial_response_at is not None and not drafting_in_full):
        return Status.RESPONDED
    if case.draft is not None:
        return Status.DRAFTING
    if case.plan_agreed_by and set(case.involved) <= case.plan_agreed_by:
        return Status.INVESTIGATING
    if case.named_contact is not None:
        return Status.PLANNING
    if case.lead is not None:
        return Status.NAMING_CONTACT
    if case.orgs_identified:
        if all(case.consent_active(o) for o in case.involved):
            return Status.AGREEING_LEAD
        return Status.AWAITING_CONSENT
    return Status.RECEIVED
