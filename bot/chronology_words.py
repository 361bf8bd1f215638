"""Every sentence of the printed chronology, in one place: one per kind of event.

The chronology goes to the Ombudsman, so a sentence says what happened in words a reader outside
the organisations follows. Sentences are format strings over the event's own fields, made readable
first (`readable`): organisation ids become names, dates London days, ``yes_no`` flags pick their
words with a format spec (``{agrees:agreed to|objected to}``). A field an event lacks formats as
nothing, and an event type with no sentence here still reads as its name ("Case destroyed").
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Any

from flows.calendar import LONDON

MAIL_IN, MAIL_OUT, CONSENT, DATES, ESCALATION, REMINDER, DECISION = (
    "email in", "letter out", "consent", "dates", "escalation", "reminder", "decision",
)  # fmt: skip

SENTENCES: dict[str, tuple[str, str]] = {
    "ComplaintReceived": (MAIL_IN, "Complaint received ({channel}), to {home_org}: “{subject}”"),
    "MessageReceived": (MAIL_IN, "Email received from the {sender} {org} ({from_address}): “{subject}”"),
    "MessageRead": (MAIL_IN, "Email {message_id} read"),
    "LetterQueued": (MAIL_OUT, "Letter queued: {template}, to {to}"),
    "LetterSent": (MAIL_OUT, "Letter sent: {template}, to {to}"),
    "LetterFailed": (MAIL_OUT, "Letter could not be sent: {template}, to {to}. Why: {reason}"),
    "LetterInDoubt": (MAIL_OUT, "Letter may or may not have gone: {template}, to {to} (sending was cut off)"),
    "LetterRequeued": (MAIL_OUT, "Letter to be sent again: {template}, to {to}"),
    "LetterRead": (MAIL_OUT, "Letter read: {template}, to {to} (a read receipt came back)"),
    "ProgressUpdateSent": (MAIL_OUT, "Progress update sent to the complainant"),
    "DelayLetterSent": (MAIL_OUT, "Delay letter sent: response now expected by {expected_by}. {reasons}"),
    "DraftShared": (MAIL_OUT, "Draft response shared with the complainant"),
    "FinalResponseSent": (MAIL_OUT, "Final response sent, signed by {signed_by} ({signed_role})"),
    "PartialResponseSent": (MAIL_OUT, "Partial response sent to the complainant (impasse, step 2)"),
    "DisclosureMade": (MAIL_OUT, "Disclosed to {org}: {what} (consent: {consent_method}, {consent_on})"),
    "ConsentRequested": (CONSENT, "Consent asked for, to share the complaint with {orgs}"),
    "ConsentGiven": (CONSENT, "Consent given to share with {orgs}: {method}, on {given_on}; capacity "
                              "confirmed: {capacity_confirmed}"),
    "ConsentRefused": (CONSENT, "Consent refused for {orgs}. {note}"),
    "ConsentWithdrawn": (CONSENT, "Consent withdrawn for {orgs}. {note}"),
    "SharedUnderstandingRecorded": (DECISION, "Shared understanding recorded with the complainant: "
                                              "{understanding} Outcomes they want: {outcomes}"),
    "RepresentativeRecorded": (CONSENT, "Representative recorded: {rep_name}, {rep_relationship}, acts for "
                                        "{rep_acts_for} on the authority of {rep_basis}. {rep_notes}"),
    "TargetDateChanged": (DATES, "Target date of strand {strand_id} changed from {previous} to {target}. "
                                 "Why: {reason}"),
    "TargetDateProposed": (DATES, "New target date {target} proposed for strand {strand_id}. Why: {reason}"),
    "TargetDateRefused": (DATES, "New target date for strand {strand_id} refused. {reason}"),
    "ResponsePeriodSet": (DATES, "Response period set: response due by {due} (agreed with the "
                                 "complainant: {agreed_with_complainant})"),
    "LongerPeriodAgreed": (DATES, "Longer response period agreed on {agreed_on}: until {until}"),
    "UpdateFrequencySet": (DATES, "Progress updates to the complainant every {working_days} working days"),
    "CommentRoundOpened": (DATES, "Draft response sent to the organisations for comments by {comment_by}"),
    "OnTrackReported": (DATES, "Strand {strand_id} reported on track"),
    "Snoozed": (DATES, "Reminders about {subject} paused until {until}"),
    "ReminderSent": (REMINDER, "Reminder to {reminded}: {kind} {about}, due {due}{late}"),
    "ImpasseRaised": (ESCALATION, "Impasse raised (step 1, senior managers): {matter}. {reason}. To be "
                                  "resolved by {resolve_by}"),
    "ImpasseAnswered": (ESCALATION, "Senior manager for {org} ({how}): {resolved:resolved|cannot resolve}. "
                                    "{outcome}"),
    "ImpasseResolved": (ESCALATION, "Impasse resolved: {resolution}"),
    "OutOfTimeDecided": (ESCALATION, "Complaint made after the 12-month limit: "
                                     "{accept:accepted|not accepted}. {reasons}"),
    "OmbudsmanSignposted": (ESCALATION, "Complainant told how to go to the Ombudsman: {ombudsmen}"),
    "OmbudsmanReferralRecorded": (ESCALATION, "Referred by the complainant to the {ombudsman} ({org})"),
    "OrganisationsIdentified": (DECISION, "Organisations involved: {orgs}"),
    "OrganisationsSignposted": (DECISION, "Signposted to {orgs}, outside the joint handling"),
    "PassedOn": (DECISION, "Complaint passed on to {org}"),
    "LeadProposed": (DECISION, "{org} proposed as the lead organisation ({criteria}). {reason}"),
    "LeadResponded": (DECISION, "{org} {agrees:agreed to|objected to} the proposed lead. {reason}"),
    "ComplainantViewRecorded": (DECISION, "The complainant's view on the lead recorded: {view}"),
    "LeadAgreed": (DECISION, "{org} agreed as the lead organisation by {agreed_by}"),
    "NamedContactSet": (DECISION, "Named contact for the complainant: {name} ({email})"),
    "StrandAdded": (DECISION, "Strand {strand_id} for {org}: {matters}. Target {target}"),
    "PlanAgreed": (DECISION, "{org} agreed the plan"),
    "PlanDiscussed": (DECISION, "Plan discussed with the complainant. {note}"),
    "ContributorAsked": (DECISION, "Question on strand {strand_id}: {question}"),
    "MeetingScheduled": (DECISION, "Meeting {meeting_id} arranged for {on}: {purpose}"),
    "MeetingRecorded": (DECISION, "Meeting {meeting_id} held; organisations represented: {represented}"),
    "ContributionReceived": (DECISION, "Response received for strand {strand_id}: {summary}"),
    "DraftRecorded": (DECISION, "Draft response written (version {version})"),
    "DraftKept": (DECISION, "Draft response version {version} kept as it is after the comments on it"),
    "CommentReceived": (DECISION, "Comments on the draft from {org}: {comment}"),
    "DraftSignedOff": (DECISION, "{org} approved version {version} of the draft response"),
    "ActionAdded": (DECISION, "Action {action_id} for {owner_org}: {description}. Due {due}"),
    "ActionCompleted": (DECISION, "Action {action_id} completed: {evidence}"),
    "LearningRecorded": (DECISION, "Learning recorded"),
    "LearningShared": (DECISION, "Learning shared with {orgs}"),
    "NoActionNeededRecorded": (DECISION, "No action needed to put things right, because {reason}"),
    "Acknowledged": (DECISION, "Complaint acknowledged ({method}) on {on}"),
    "OutcomeRecorded": (DECISION, "Outcome for {org}: {outcome}"),
    "CaseCoded": (DECISION, "Case coded for the KO41a return"),
    "CaseClosed": (DECISION, "Case closed: {reason}. {outcome}. {note}"),
    "CaseDestroyed": (DECISION, "Record destroyed at the end of its retention period: {reason}"),
    "RelatedDismissed": (DECISION, "Decided this case is separate from the cases it seemed related to"),
}  # fmt: skip

ORG_FIELDS = frozenset({"org_id", "owner_org", "home_org"})
ORG_LIST_FIELDS = frozenset({"org_ids", "orgs", "agreed_by", "represented"})
REMINDER_KINDS = {
    "contribution": "response for strand", "action": "action", "comments": "comments on the draft",
    "acknowledgement": "acknowledgement due", "update": "progress update due to the complainant",
    "response_period": "response period ends", "six_months": "six-month point",
    "lead_not_agreed": "lead still not agreed", "contribution_late": "long overdue response for strand",
    "milestone": "milestone update for strand", "impasse_due": "impasse unresolved by its date",
}  # fmt: skip
LATER_FIELDS = {"version": 1}  # fields events gained later, as the codec reads older events
ANSWERED = {"phone": "by phone", "email": "by email", "meeting": "at a meeting"}  # ImpasseAnswered.how
_SLUG = re.compile(r"[a-z]+(?:_[a-z]+)+")


class YesNo:
    """A flag that formats as `yes`/`no`, or as either half of a ``when true|when false`` spec."""

    def __init__(self, value: bool) -> None:
        self.value = value

    def __format__(self, spec: str) -> str:
        yes, _, no = (spec or "yes|no").partition("|")
        return yes if self.value else no


class _Blank(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return ""


def category(kind: str) -> str:
    return SENTENCES.get(kind, (DECISION, ""))[0]


def sentence(
    event: Mapping[str, Any], org_name: Callable[[str], str], letter: Callable[[str], tuple[str, str]]
) -> str:
    """The event as one sentence; `letter(key)` gives a letter's (template, recipient org id)."""
    kind = str(event.get("type", "event"))
    template = SENTENCES.get(kind, (DECISION, ""))[1]
    if not template:
        return re.sub(r"(?<=[a-z])(?=[A-Z])", " ", kind).capitalize() + "."
    values = _Blank(LATER_FIELDS | {k: readable(k, v, org_name) for k, v in event.items()})
    values["org"] = values["org_id"]
    if "org_ids" in event:
        values["orgs"] = values["org_ids"]
    if kind.startswith("Letter"):
        template_name, to = (event["template"], event["to"]) if "template" in event else letter(event["key"])
        values["template"], values["to"] = template_name.replace("_", " "), recipient(to, org_name)
    if kind == "ReminderSent":
        values.update(_reminder(event["reminder"], org_name))
    if kind == "ImpasseAnswered" and event.get("how"):
        values["how"] = f"answered {ANSWERED[str(event['how'])]}, recorded on their behalf"
    if kind == "RepresentativeRecorded":
        rep = event["representative"]
        values.update({f"rep_{k}": readable(k, v, org_name) for k, v in rep.items()})
        notes = (("Evidence", rep.get("evidence")), ("Capacity", rep.get("capacity_note")))
        values["rep_notes"] = " ".join(f"{label}: {text.rstrip('.')}." for label, text in notes if text)
    return _tidy(template.format_map(values))


def recipient(to: str, org_name: Callable[[str], str]) -> str:
    return "the complainant" if to == "complainant" else org_name(to)


def readable(name: str, value: Any, org_name: Callable[[str], str]) -> Any:
    """A field's value for a sentence: names for organisation ids, London days, words for flags."""
    if isinstance(value, bool):
        return YesNo(value)
    if name in ORG_FIELDS:
        return org_name(value["id"] if isinstance(value, dict) else str(value))
    if name in ORG_LIST_FIELDS and isinstance(value, list):
        return ", ".join(org_name(v["id"] if isinstance(v, dict) else str(v)) for v in value)
    if isinstance(value, list):
        return ", ".join(str(readable("", v, org_name)) for v in value)
    if isinstance(value, str):
        return _when(value)
    return value if value is not None else ""


def london(at: datetime) -> str:
    return at.astimezone(LONDON).strftime("%a %d %b %Y %H:%M")


def _when(text: str) -> str:
    """ISO dates and times as a person reads them; slugs (`partly_upheld`) as words; else as is."""
    if _SLUG.fullmatch(text):
        return text.replace("_", " ")
    if len(text) == 10 and text[4:5] == "-":
        try:
            return date.fromisoformat(text).strftime("%a %d %b %Y")
        except ValueError:
            return text
    if len(text) >= 19 and text[10:11] == "T":
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            return text
        return london(moment) if moment.tzinfo else text
    return text.upper() if text in ("phso", "lgsco") else text


def _reminder(reminder: Mapping[str, Any], org_name: Callable[[str], str]) -> dict[str, str]:
    org = str(reminder.get("org_id") or "")
    kind = str(reminder.get("kind", ""))
    overdue = int(reminder.get("overdue") or 0)
    late = " (sent late)" if reminder.get("late") else ""
    return {
        "reminded": org_name(org) if org else "the coordinating handlers",
        "kind": REMINDER_KINDS.get(kind, kind.replace("_", " ")),
        "about": str(reminder.get("subject") or ""),
        "due": _when(str(reminder.get("due") or reminder.get("on", ""))),
        "late": late + (f", {overdue} working days overdue" if overdue else ""),
    }


def _tidy(text: str) -> str:
    """Drop what empty fields leave behind: doubled spaces, empty brackets, dangling stops."""
    text = re.sub(r"\(\s*[,;:]?\s*\)", "", text)
    text = re.sub(r"\s+([.,;:)])", r"\1", re.sub(r"\s{2,}", " ", text))
    text = re.sub(r"([.:])(?:\s*[.:])+", r"\1", text)
    return text.strip().rstrip(" .:;,") + "."
