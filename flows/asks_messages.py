"""What to ask about email that arrived on a case, about a case that may belong to another, and
about a letter of ours that may or may not have gone, or that could not go.

An organisation that only uses email is acted for from its message's prompt: its response, its
request for a new date, a new date set on it, or its answer to the proposed lead, each recorded
with the message read in one answer. What the email most likely says (read by `flows.sentences`,
as a chat reads a handler's sentence) comes first and filled in, until the handler confirms it; the
suggestion names organisations, a strand, dates and the action, never the email's own words.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date
from typing import NamedTuple

from flows import commands as c
from flows.calendar import LONDON, add_working_days
from flows.conversation import Choice, Field, FieldKind, Prompt
from flows.drafting import after_partial_response
from flows.model import Actor, Case, Message, Status, Strand
from flows.rules import long_date
from flows.rules_letters import doubt_words, letter_words
from flows.sentences import OrgName, answer_in, asked_date, named, one_org, reports_findings

_PLANNED = (Status.PLANNING, Status.INVESTIGATING)
_ACKNOWLEDGING = ("acknowledgement", "written_record")


def related(case: Case, actor: Actor, today: date) -> list[Prompt]:
    if not case.related or case.status not in (Status.RECEIVED, Status.AWAITING_CONSENT):
        return []
    choices = [Choice(f"Merge it into {ref}", c.MergeInto(actor=actor, target=ref)) for ref in case.related]
    choices.append(Choice("It is a separate complaint", c.DismissRelated(actor=actor)))
    refs = ", ".join(case.related)
    return [
        Prompt(
            "related",
            f"This new email may be part of {refs}: it names that case, or comes from its complainant, "
            "but is not a reply to it. Is it part of that case?",
            tuple(choices),
            detail="Read both first: anyone can quote a reference, and one person may have two complaints.",
        )
    ]


def letters_in_doubt(case: Case, actor: Actor, today: date) -> list[Prompt]:
    """Each letter that may or may not have gone (`flows.rules_letters`): resend it, or record it as sent."""
    prompts = []
    for letter in case.letters.values():
        if letter.in_doubt is None:
            continue
        name, to, at = doubt_words(case, letter, letter.in_doubt)
        again = Choice("Resend it", c.ResendLetter(actor=actor, key=letter.key))
        went = Choice("Record it as sent", c.ConfirmLetterSent(actor=actor, key=letter.key))
        question = (
            f"The {name} letter to {to} may or may not have gone at {at}, when sending it was cut off: "
            "resend it, or record it as sent?"
        )
        detail = "Whether the mail server took it cannot be known. If it did, resending sends a second copy."
        prompts.append(Prompt(f"letter_in_doubt:{letter.key}", question, (again, went), detail))
    return prompts


def letters_failed(case: Case, actor: Actor, today: date) -> list[Prompt]:
    """Each letter the mail server refused for good, or that bounced (`flows.rules_letters`): send
    it again once the fault is put right, or record that it went another way. An acknowledgement
    given another way (`flows.asks_intake.acknowledge`) settles its letter."""
    prompts = []
    for letter in case.letters.values():
        if not letter.failed or letter.template in _ACKNOWLEDGING and case.acknowledged_at:
            continue
        name, to = letter_words(case, letter)
        again = Choice("Send it again", c.ResendLetter(actor=actor, key=letter.key))
        went = Choice("It went another way", c.ConfirmLetterSent(actor=actor, key=letter.key))
        question = (
            f"The {name} letter to {to} could not be sent ({letter.failed}): send it again, "
            "or record that it went another way?"
        )
        detail = "Send it again once the address or the mail server is right again; or by post or by hand."
        prompts.append(Prompt(f"letter_failed:{letter.key}", question, (again, went), detail))
    return prompts


def messages(case: Case, actor: Actor, today: date) -> list[Prompt]:
    """Each email not yet read: mark it read or, from an organisation, record what it says, in one
    answer. What it most likely says comes first, filled in, for the handler to confirm."""
    return [_message(case, actor, m, today) for m in case.messages if not m.read]


def _message(case: Case, actor: Actor, message: Message, today: date) -> Prompt:
    who = case.sent_by(message.org_id, message.sender)
    received = message.received_at.astimezone(LONDON)
    choices = [
        *_lead_answers(case, actor, message),
        *(ch for s in _strands(case, message) for ch in _strand_choices(case, actor, message, s, today)),
        Choice("Mark it read", c.MarkMessageRead(actor=actor, message_id=message.message_id)),
    ]
    prompt = Prompt(
        f"message:{message.message_id}",
        f"New email from {who}, received {received:%d %b %Y %H:%M}: read it (the case in full shows it).",
        tuple(choices),
    )
    reading = _reading(case, message, today)
    picked = [ch for ch in choices if reading and reading.fits(ch.command)]
    if reading is None or len(picked) != 1:
        return prompt
    rest = (ch for ch in choices if ch is not picked[0])
    return replace(
        prompt, choices=(*picked, *rest), detail=f"This looks like {reading.looks_like}: record it?"
    )


def _lead_answers(case: Case, actor: Actor, message: Message) -> list[Choice]:
    proposal = case.proposal
    if case.status is not Status.AGREEING_LEAD or proposal is None:
        return []
    if message.org_id not in case.involved or message.org_id in proposal.responses:
        return []
    org, lead = case.orgs[message.org_id].name, case.orgs[proposal.org_id].name
    agree, object_ = (
        c.RespondToLeadByEmail(
            actor=actor, org_id=message.org_id, agrees=agrees, message_id=message.message_id
        )
        for agrees in (True, False)
    )
    reason = Field("reason", "Why they object", FieldKind.TEXT)
    return [
        Choice(f"Record that {org} agrees that {lead} leads", agree),
        Choice(f"Record that {org} objects to {lead} leading", object_, (reason,)),
    ]


def _strands(case: Case, message: Message) -> list[Strand]:
    """The strands an organisation's email may be about: the one its reply address names, else
    each of its own still awaiting a response."""
    late = after_partial_response(case)
    if message.org_id not in case.involved or (case.status not in _PLANNED and not late):
        return []
    return [
        s
        for s in case.strands.values()
        if s.org_id == message.org_id and s.contribution is None and message.strand_id in ("", s.id)
    ]


def _strand_choices(case: Case, actor: Actor, message: Message, strand: Strand, today: date) -> list[Choice]:
    """Its response, its request for a new date, or a new date the handler sets: each marks it read."""
    s, by = strand.id, message.message_id
    asked = asked_date(message.text, today, strand.target) or add_working_days(strand.target, 5)
    fields = (
        Field("target", "New target date", FieldKind.DATE, default=asked),
        Field("reason", "Why", FieldKind.TEXT),
    )
    choices = []
    if case.status is Status.INVESTIGATING or after_partial_response(case):
        summary = Field("summary", "Their response", FieldKind.TEXT, long=True, default=message.text)
        kept = tuple(a.name for a in message.attachments)  # the files come with the response
        record = c.RecordContributionByEmail(
            actor=actor, strand_id=s, summary=message.text, attachments=kept, message_id=by
        )
        choices.append(Choice(f"Record it as the response on {s}", record, (summary,)))
    if case.status not in _PLANNED:  # after a partial response, only the late response itself
        return choices
    if strand.proposed is None:
        ask = c.ProposeTargetDateByEmail(actor=actor, strand_id=s, target=asked, reason="", message_id=by)
        choices.append(Choice(f"Record their request for a new date on {s}", ask, fields))
    change = c.ChangeTargetDateByEmail(actor=actor, strand_id=s, target=asked, reason="", message_id=by)
    return [*choices, Choice(f"Change the target date of {s}", change, fields)]


class _Reading(NamedTuple):
    fits: Callable[[c.Command], bool]  # the choice it would be recorded as
    looks_like: str  # names organisations, the strand, a date: never what the email says


def _reading(case: Case, message: Message, today: date) -> _Reading | None:
    """What an organisation's email most likely says (`flows.sentences`), or None when unclear."""
    if message.org_id not in case.involved:
        return None
    org = case.orgs[message.org_id].name
    return _lead_reading(case, message, org) or _strand_reading(case, message, org, today)


def _lead_reading(case: Case, message: Message, org: str) -> _Reading | None:
    """Its own answer to the proposed lead ("we agree the trust leads"), naming no other organisation."""
    answer, proposal = answer_in(message.text), case.proposal
    if answer is None or proposal is None:
        return None
    orgs = [OrgName(o.id, o.name) for o in case.orgs.values()]
    if named(message.text, orgs) - {message.org_id, proposal.org_id}:
        return None
    if not (answer.by_the_writer or one_org(answer.who, orgs) == message.org_id):
        return None
    lead = case.orgs[proposal.org_id].name
    said = f"agreeing that {lead} leads" if answer.agrees else f"objecting to {lead} leading"
    return _Reading(
        lambda cmd: isinstance(cmd, c.RespondToLeadByEmail) and cmd.agrees is answer.agrees, f"{org} {said}"
    )


def _strand_reading(case: Case, message: Message, org: str, today: date) -> _Reading | None:
    """On its one strand awaiting a response: a request for another date, else its findings."""
    strands = _strands(case, message)
    if len(strands) != 1:
        return None
    strand = strands[0]
    asked = asked_date(message.text, today, strand.target)
    if asked is not None:
        moving = f"{org} asking to move {strand.id} from {long_date(strand.target)} to {long_date(asked)}"
        return _Reading(lambda cmd: isinstance(cmd, c.ProposeTargetDateByEmail), moving)
    if reports_findings(message.text) or message.attachments:
        looks_like = f"{org}'s response on {strand.id}"
        return _Reading(lambda cmd: isinstance(cmd, c.RecordContributionByEmail), looks_like)
    return None
