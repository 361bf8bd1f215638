"""The emails the simulated people write, beside their answers to the assistant's questions.

- A complainant replies to a letter they got (the acknowledgement, an update) with a line or
  two, threaded by In-Reply-To and References on that letter's Message-ID (`Arrival` kind "reply").
- Someone writes on behalf of the person ("I am writing on behalf of my mother"): only the
  complaint's words change, and a handler records who acts for the person.
- A complainant complains again about the same matter in a new email, no In-Reply-To, naming their
  case's reference in the subject ("again") or not ("again_new").
- An organisation that answers by email only replies to the letter the assistant sent it, at its
  Reply-To address: to the request for its part, with its response ("contribution") or asking for
  a later date ("later"); to the proposed lead, agreeing ("lead"). A handler records what it says
  from the email's question.

Each has a Message-ID made from the complaint's number and what it is, so the same email decided
twice (a restarted host decides again) is the same email, and the driver delivers it once.
"""

from __future__ import annotations

import email.utils
import re
from dataclasses import dataclass
from datetime import date, datetime

from bench.sim.record import Arrival
from bench.sim.world import Truth, complainant

PEOPLE = "people.example"
INBOX = "complaints@moorland-trust.example"  # the home trust's complaints mailbox, the assistant's
OWN_ID = re.compile(r"^<(?P<kind>[a-z_]+)-(?P<n>\d+)(?:-(?P<what>[^@]*))?@" + re.escape(PEOPLE) + ">$")


@dataclass(frozen=True)
class Sent:
    """A letter as the SMTP server took it: what a reply to it needs."""

    message_id: str
    to: tuple[str, ...]
    subject: str
    reply_to: str = ""


@dataclass(frozen=True)
class Outgoing:
    """An email someone sends to the assistant's mailbox at `when` (simulated time)."""

    raw: bytes
    when: datetime
    arrival: Arrival


def own_id(kind: str, n: int, what: str = "") -> str:
    return f"<{kind}-{n}{'-' + what if what else ''}@{PEOPLE}>"


def parse_own_id(message_id: str) -> tuple[str, int, str] | None:
    """(kind, complaint, what) of an email of the simulated people's, else None."""
    found = OWN_ID.match(message_id.strip())
    return (found["kind"], int(found["n"]), found["what"] or "") if found else None


def complaint_text(t: Truth, names: str) -> str:
    rep = t.representative
    if rep is None:
        return f"I am complaining about the care I had from {names}. Nobody took responsibility."
    _, whom, name, basis = rep
    authority = {
        "lasting_power_of_attorney": "I hold lasting power of attorney for them",
        "written_consent": "they have signed a form saying I may complain for them",
        "parental_responsibility": "I have parental responsibility",
    }[basis]
    return (
        f"I am writing on behalf of {whom}, {name}, about the care they had from {names}; {authority}. "
        "Nobody took responsibility."
    )


def _raw(
    sender: str, sender_name: str, to: str, subject: str, message_id: str, when: datetime, text: str,
    reply_to: str = "",
) -> bytes:  # fmt: skip
    threading = f"In-Reply-To: {reply_to}\r\nReferences: {reply_to}\r\n" if reply_to else ""
    return (
        f"From: {sender_name} <{sender}>\r\nTo: {to}\r\nSubject: {subject}\r\nMessage-ID: {message_id}\r\n"
        f"{threading}Date: {email.utils.format_datetime(when)}\r\n"
        f"Content-Type: text/plain; charset=utf-8\r\n\r\n{text}\r\n"
    ).encode()


def _re(subject: str) -> str:
    return subject if subject.lower().startswith("re:") else f"Re: {subject}"


def reply(n: int, letter: Sent, template: str, when: datetime) -> Outgoing:
    """The person's reply to our `template` letter: a line or two."""
    text = {
        "acknowledgement": "Thank you for your letter. I should add that nobody rang me back after the "
        "discharge, as they said they would.",
        "progress_update": "Thank you for the update. Please make sure the ward staff are spoken to as well.",
    }.get(template, "Thank you for your letter.")
    message_id = own_id("reply", n, template)
    raw = _raw(
        complainant(n), f"Person {n}", INBOX, _re(letter.subject), message_id, when, text, letter.message_id
    )
    return Outgoing(raw, when, Arrival(message_id, complainant(n), when, n, "reply"))


def again(n: int, ref: str, received: date, when: datetime, reference: bool) -> Outgoing:
    """The person complains again about the same matter, in a new email."""
    kind = "again" if reference else "again_new"
    subject = f"Still waiting: my complaint {ref}" if reference else "My complaint about my care"
    text = (
        f"I complained on {received:%d %B %Y} about my care and I am still waiting to hear. "
        "It is the same matter: nobody took responsibility."
    )
    message_id = own_id(kind, n)
    raw = _raw(complainant(n), f"Person {n}", INBOX, subject, message_id, when, text)
    return Outgoing(raw, when, Arrival(message_id, complainant(n), when, n, kind))


def contribution(n: int, strand: str, org_name: str, sender: str, letter: Sent, when: datetime) -> Outgoing:
    """An organisation's response on its strand, in a reply to the request letter."""
    text = (
        f"Our response for {org_name}: we looked into the discharge and found that the handover "
        "notes were incomplete. We have reminded staff and changed our checklist."
    )
    return _org_reply("contribution", n, strand, sender, letter, when, text)


def later(
    n: int, strand: str, sender: str, letter: Sent, target: date, wanted: date, when: datetime
) -> Outgoing:
    """An organisation asks for a later date for its response, in a reply to the request letter."""
    text = (
        f"We cannot send our response by {target:%d %B %Y}, as the staff involved are away. "
        f"Could we have until {wanted:%d %B %Y}?"
    )
    return _org_reply("later", n, strand, sender, letter, when, text)


def lead(n: int, org_id: str, sender: str, letter: Sent, lead_name: str, when: datetime) -> Outgoing:
    """An organisation agrees to the proposed lead, in a reply to the proposal letter."""
    text = f"Thank you. We agree that {lead_name} leads this complaint."
    return _org_reply("lead", n, org_id, sender, letter, when, text)


def _org_reply(
    kind: str, n: int, strand: str, sender: str, letter: Sent, when: datetime, text: str
) -> Outgoing:
    message_id = own_id(kind, n, strand)
    to = letter.reply_to or INBOX
    raw = _raw(
        sender,
        f"Contact {sender.split('@')[0]}",
        to,
        _re(letter.subject),
        message_id,
        when,
        text,
        letter.message_id,
    )
    return Outgoing(raw, when, Arrival(message_id, sender.lower(), when, n, kind))
