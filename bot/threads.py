"""Which case does an email belong to? Several signals, strongest first, and a handler when they
disagree.

1. a signed reply token in the address it was sent to (a contributor answering our letter):
   names the case, the organisation and the strand, and cannot be forged;
2. In-Reply-To / References naming a message we sent (kept as ``sent:`` keys) or received
   (``mail:`` keys);
3. a case reference in the subject: trusted only from someone the case knows (its complainant,
   or a contact of an organisation involved), and, when `[mailbox] trusted_authserv_ids` names our
   receiving server, only if that server authenticated the From domain (`mail.auth`). From anyone
   else it opens a new case marked as possibly related, for a handler to merge: a stranger typing
   a reference, or forging a known sender's address, must never add mail to someone else's
   complaint.

Header threading is as strong as a token because the Message-IDs of our letters are keyed
(`mail.letters.message_id_for`): nobody can compute one from a case reference.

When two signals name different cases, the message opens a new case related to all of them and
a handler decides.

A new email that none of these puts on a case, from the complainant of an open case (each case
opened from an email keeps a key of its complainant's address, hashed: `complainant_key`) or
naming an open case's reference in its text, opens a new case related to those, so a person
writing again about the same matter is put to a handler to merge, never left as a second case
nobody links.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import count, takewhile

from bot.config import Config
from bot.service import CaseService
from flows.model import REFERENCE, Case, Sender
from mail.auth import sender_authenticated
from mail.parse import IncomingMail
from mail.tokens import read_token

MENTIONED = re.compile(rf"\b{REFERENCE.pattern}\b", re.IGNORECASE)
SENT, RECEIVED = "sent:", "mail:"
_ADDRESSED_TO = ("cc", "delivered-to", "x-original-to", "envelope-to")


@dataclass(frozen=True)
class Thread:
    ref: str | None = None  # the case it goes on; None: a new case
    sender: Sender = Sender.OTHER
    org_id: str = ""
    strand_id: str = ""
    related: tuple[str, ...] = ()  # for a new case: cases a handler should look at
    note: str = ""


def find_thread(mail: IncomingMail, service: CaseService, config: Config, secret: bytes) -> Thread:
    addressed = [*mail.to, *(mail.headers[h] for h in _ADDRESSED_TO if h in mail.headers)]
    token, forged = read_token(secret, addressed)
    note = "a reply address with a forged signature was ignored" if forged else ""
    by_token = token.ref if token and service.store.exists(token.ref) else None
    by_header = _by_headers(mail, service)
    by_subject = [
        r
        for r in dict.fromkeys(m.upper() for m in MENTIONED.findall(mail.subject))
        if service.store.exists(r)
    ]
    named = list(dict.fromkeys(r for r in (by_token, by_header, *by_subject) if r))
    strong = [r for r in (by_token, by_header) if r]
    if len(set(strong)) > 1 or (strong and by_subject and by_subject[0] not in strong):
        return Thread(related=tuple(named), note=note or "its signals name different cases")
    if token and by_token:
        return Thread(by_token, Sender.CONTRIBUTOR, token.org_id, token.strand_id, note=note)
    if by_header:
        return _known_sender(service.load(by_header), mail, config, note)
    if by_subject:
        thread = _known_sender(service.load(by_subject[0]), mail, config, note)
        if thread.sender is Sender.OTHER:
            return Thread(related=tuple(by_subject), note="a case reference from an unknown sender")
        if not _authenticated(mail, config):
            why = "a case reference from a known address that our mail server did not authenticate"
            return Thread(related=tuple(by_subject), note=why)
        return thread
    earlier = _earlier(mail, service)
    return Thread(related=earlier, note=note or ("it may continue an open case" if earlier else ""))


def complainant_key(address: str, n: int) -> str:
    """The key of the n-th case opened from an email of `address` (hashed)."""
    return f"complainant:{digest(address.casefold().encode())}:{n}"


def complainant_keys(address: str, service: CaseService) -> Iterator[tuple[str, str | None]]:
    """Each complainant key of `address` with its case, in order, then the first free one (None)."""
    for n in count():
        key = complainant_key(address, n)
        ref = service.store.stream_for_key(key)
        yield key, ref
        if ref is None:
            return


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:16]


def _earlier(mail: IncomingMail, service: CaseService) -> tuple[str, ...]:
    """Open cases a new email may continue: its complainant's, and those its text names."""
    named = [m.upper() for m in MENTIONED.findall(mail.text)]
    known = (
        takewhile(bool, (ref for _, ref in complainant_keys(mail.from_address, service)))
        if mail.from_address
        else ()
    )
    found = []
    for ref in dict.fromkeys([*named, *known]):
        summary = service.store.summary(ref) if ref else None
        if summary is not None and summary.summary.get("open"):
            found.append(ref)
    return tuple(found)


def _by_headers(mail: IncomingMail, service: CaseService) -> str | None:
    for message_id in (mail.in_reply_to, *reversed(mail.references)):
        if not message_id:
            continue
        for prefix in (SENT, RECEIVED):
            ref = service.store.stream_for_key(prefix + message_id)
            if ref and ref.startswith("JC-"):
                return ref
    return None


def _authenticated(mail: IncomingMail, config: Config) -> bool:
    """Did our receiving server authenticate the From domain? Taken as yes when none is named."""
    trusted = config.mailbox.trusted_authserv_ids
    return not trusted or sender_authenticated(mail.authentication_results, trusted, mail.from_address)


def _known_sender(case: Case, mail: IncomingMail, config: Config, note: str) -> Thread:
    """Who, of the people the case knows, wrote this (OTHER when nobody it knows)."""
    sender = mail.from_address.casefold()
    if sender and sender == case.complainant.email.casefold():
        return Thread(case.ref, Sender.COMPLAINANT, note=note)
    person = config.person_by_email(sender)
    if person and person.organisation in case.involved:
        return Thread(case.ref, Sender.CONTRIBUTOR, person.organisation, note=note)
    for org_id in case.involved:
        if sender and sender == case.orgs[org_id].email.casefold():
            return Thread(case.ref, Sender.CONTRIBUTOR, org_id, note=note)
    return Thread(case.ref, Sender.OTHER, note=note)
