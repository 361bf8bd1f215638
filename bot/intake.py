"""Intake: each message in the mailbox ends exactly once as a new case, a message threaded onto a
case, an automatic message that is recorded and never answered, or a quarantined one with a reason.

The mailbox may be the local Maildir or IMAP: both give `RawMail`. A message's Message-ID is its
de-duplication key, stored in the same atomic write as what it caused, so a crash between storing
and moving the message only means it is recognised and moved next time. One failing message never
blocks the next: errors are caught per message.

A poll writes in one store batch (group commit: one flush to disk for the whole burst instead of
one per message, which was most of the intake's time) and moves nothing out of the mailbox, not
even to quarantine, until that batch is on disk.

The daily cap on automatic letters to one sender counts with keys consumed in the very write of the
case whose acknowledgement it allows: a crash keeps both or neither, so it can never pass the cap.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from bot.config import Config
from bot.directory import org_ref, spot_organisations, system_actor
from bot.service import CaseService
from bot.threads import RECEIVED, SENT, Thread, complainant_keys, digest, find_thread
from flows.calendar import london_date
from flows.codec import to_plain
from flows.commands import Command, ReceiveComplaint, ReceiveMessage, RecordLetterFailed, RecordLetterRead
from flows.effects import Notify
from flows.model import Attachment, Channel, Letter, Person
from mail.attachments import AttachmentStore
from mail.bounce import Report, read_report
from mail.classify import Automatic, Kind, classify
from mail.errors import MailParseError
from mail.maildir import RawMail
from mail.parse import IncomingMail, parse_message
from mail.ports import Inbox
from store.errors import StoreUnavailable

log = logging.getLogger("jointly.intake")
MAX_TEXT = 100_000


@dataclass(frozen=True)
class Outcome:
    """What became of one message: new, threaded, automatic, quarantined or duplicate."""

    uid: str
    outcome: str
    ref: str | None = None
    detail: str = ""


class Intake:
    def __init__(self, config: Config, service: CaseService, inbox: Inbox, secret: bytes) -> None:
        self.config = config
        self.service = service
        self.inbox = inbox
        self.secret = secret
        self.own = frozenset({config.outbox.from_address.casefold()})
        self.files = AttachmentStore(config.service.data_dir / "attachments")

    def poll(self, now: datetime) -> list[Outcome]:
        """Take every waiting message, in the order the mailbox gives them, into one store batch,
        then file them away. A crash before the filing only means they are listed again and
        recognised; an error stops the poll with the messages taken so far recorded, not moved."""
        outcomes = []
        with self.service.store.batch():
            for raw in self.inbox.pending():
                try:
                    outcomes.append(self._take(raw, now))
                except (OSError, StoreUnavailable):  # our disk or database, not the message: stop
                    raise
                except Exception as error:  # one bad message must not block the next
                    log.exception("message %s could not be taken in", raw.uid)
                    reason = f"could not be processed: {type(error).__name__}"
                    outcomes.append(self._quarantine(raw, reason, now))
        self._file_away(outcomes)
        return outcomes

    def take(self, raw: RawMail, now: datetime) -> Outcome:
        """Take one message in and file it."""
        outcome = self._take(raw, now)
        self._file_away([outcome])
        return outcome

    def _file_away(self, outcomes: list[Outcome]) -> None:
        """Move recorded messages out of the mailbox in their order: those taken in to the processed
        folder, in sets, each quarantined one on its own once those before it are moved (the IMAP
        cursor then never passes a message left in the folder)."""
        taken: list[str] = []
        for outcome in outcomes:
            if outcome.outcome != "quarantined":
                taken.append(outcome.uid)
                continue
            if taken:
                self.inbox.mark_processed(*taken)
                taken = []
            self.inbox.quarantine(outcome.uid, outcome.detail)
            log.warning("message %s quarantined as %s: %s", outcome.uid, outcome.ref, outcome.detail)
        if taken:
            self.inbox.mark_processed(*taken)

    def _take(self, raw: RawMail, now: datetime) -> Outcome:
        if raw.over_limit:
            size = f"{raw.over_limit / 1_000_000:.1f} MB"
            return self._quarantine(raw, f"too large to take in automatically ({size})", now)
        try:
            mail = parse_message(raw.data)
        except MailParseError as error:
            return self._quarantine(raw, f"unreadable email: {error.reason}", now)
        key = RECEIVED + mail.message_id
        if self.service.store.has_key(key):
            return Outcome(raw.uid, "duplicate", self.service.store.stream_for_key(key))
        machine = classify(mail, self.own, self.config.service.reply_domain)
        if machine:
            return self._automatic(raw, mail, machine, key, now)
        return self._file(raw, mail, find_thread(mail, self.service, self.config, self.secret), now)

    def _file(self, raw: RawMail, mail: IncomingMail, thread: Thread, now: datetime) -> Outcome:
        key = RECEIVED + mail.message_id
        if thread.note:
            log.warning("message %s: %s", raw.uid, thread.note)
        if thread.ref is None:
            ref = self.service.new_ref(raw.received_at, key)
            allowance = self._may_answer(mail.from_address, now)
            command = self._receive(mail, raw.received_at, thread.related, allowance is not None)
            keys = [key, *([allowance] if allowance else []), *self._complainant_key(mail.from_address)]
            self.service.execute(ref, command, now, keys=keys)
            return Outcome(raw.uid, "new", ref, thread.note)
        message = ReceiveMessage(
            actor=system_actor(self.config),
            message_id=mail.message_id,
            sender=thread.sender,
            from_address=mail.from_address,
            received_at=raw.received_at,
            subject=mail.subject,
            text=_bounded(mail.text),
            org_id=thread.org_id,
            strand_id=thread.strand_id,
            attachments=self._keep(mail),
        )
        self.service.execute(thread.ref, message, now, keys=[key])
        return Outcome(raw.uid, "threaded", thread.ref, thread.sender.value)

    def _receive(
        self, mail: IncomingMail, received_at: datetime, related: tuple[str, ...], acknowledge: bool
    ) -> ReceiveComplaint:
        home = self.config.service.home_organisation
        return ReceiveComplaint(
            actor=system_actor(self.config),
            channel=Channel.EMAIL,
            received_at=received_at,
            complainant=Person(name=mail.from_name, email=mail.from_address),
            home_org=org_ref(self.config, home),
            subject=mail.subject,
            text=_bounded(mail.text),
            message_id=mail.message_id,
            suggested_orgs=spot_organisations(self.config, f"{mail.subject}\n{mail.text}"),
            related=related,
            attachments=self._keep(mail),
            acknowledge=acknowledge,
        )

    def _keep(self, mail: IncomingMail) -> tuple[Attachment, ...]:
        """Store the files under generated names; the case records name, sender's filename, type, size."""
        kept = []
        for part in mail.attachments:
            stored = self.files.save(part.data, filename=part.filename, content_type=part.content_type)
            kept.append(Attachment(stored.name, stored.original_filename, stored.content_type, stored.size))
        return tuple(kept)

    def _complainant_key(self, address: str) -> list[str]:
        """The next free key of a case opened from `address` (`bot.threads.complainant_key`)."""
        if not address:
            return []
        *_, (free, _) = complainant_keys(address, self.service)
        return [free]

    def _may_answer(self, address: str, now: datetime) -> str | None:
        """At most N automatic letters to one address a (London) day, so no loop can become a storm:
        the key that counts one more, to consume with the case, or None at the limit."""
        if not address:
            return None  # nobody to write to
        limit = self.config.service.automatic_letters_per_sender_per_day
        keys = (automatic_letter_key(address, london_date(now), n) for n in range(limit))
        allowance = next((key for key in keys if not self.service.store.has_key(key)), None)
        if allowance is None:
            log.warning("automatic letters to one sender are at the daily limit: not acknowledging")
        return allowance

    def _automatic(
        self, raw: RawMail, mail: IncomingMail, machine: Automatic, key: str, now: datetime
    ) -> Outcome:
        """Never answered. A bounce of our letter or a read receipt for it is recorded on its case;
        the rest is noted."""
        if ref := self._reported(raw, mail, machine.kind, key, now):
            return Outcome(raw.uid, "automatic", ref, machine.kind.value)
        event = _record("MailIgnored", raw, now, kind=machine.kind.value, reason=machine.reason)
        summary = {"status": "automatic", "open": False, "kind": machine.kind.value}
        self.service.record("A-" + digest(raw.data), event, None, key, summary, now)
        log.info("message %s is automatic (%s): recorded, not answered", raw.uid, machine.reason)
        return Outcome(raw.uid, "automatic", None, machine.kind.value)

    def _reported(self, raw: RawMail, mail: IncomingMail, kind: Kind, key: str, now: datetime) -> str | None:
        """The case a report on one of our letters was recorded on, if it told anything new."""
        if kind not in (Kind.BOUNCE, Kind.RECEIPT):
            return None
        report = read_report(raw.data, mail)
        for message_id in report.message_ids:
            ref = self.service.store.stream_for_key(SENT + message_id)
            if ref is None:
                continue
            case = self.service.load(ref)
            letter = next((x for x in case.letters.values() if x.message_id == message_id), None)
            command = self._news(kind, report, letter) if letter else None
            if command is None:
                return None
            self.service.execute(ref, command, now, keys=[key])
            return ref
        return None

    def _news(self, kind: Kind, report: Report, letter: Letter) -> Command | None:
        """A bounce fails the letter; a receipt saying it was displayed marks it read; once each."""
        actor = system_actor(self.config)
        if letter.failed:
            return None
        if kind is Kind.BOUNCE:
            return RecordLetterFailed(actor=actor, key=letter.key, reason=f"bounced: {report.diagnosis}")
        if report.disposition == "displayed" and letter.read_at is None:
            return RecordLetterRead(actor=actor, key=letter.key)
        return None

    def _quarantine(self, raw: RawMail, reason: str, now: datetime) -> Outcome:
        """Record why the message is set aside and tell the handlers (no content in chat); the
        mailbox keeps its raw bytes aside when it is filed away."""
        oversize = f"{raw.uid}/{raw.received_at.isoformat()}/{raw.over_limit}".encode()
        stream = "Q-" + digest(oversize if raw.over_limit else raw.data)
        key = "quarantine:" + stream
        if not self.service.store.has_key(key):
            notice = Notify(
                key=key,
                ref=stream,
                audience="handlers",
                message="mail_quarantined",
                context={"ref": stream, "reason": reason},
            )
            event = _record("MailQuarantined", raw, now, reason=reason)
            summary = {"ref": stream, "status": "quarantined", "open": False, "reason": reason}
            self.service.record(stream, event, to_plain(notice), key, summary, now)
        return Outcome(raw.uid, "quarantined", stream, reason)


def automatic_letter_key(address: str, day: date, n: int) -> str:
    """The key that counts the n-th automatic letter to `address` on `day` (the address hashed)."""
    return f"automatic-letter:{digest(address.casefold().encode())}:{day}:{n}"


def _record(record_type: str, raw: RawMail, now: datetime, **fields: Any) -> dict[str, Any]:
    return {
        "type": record_type,
        "at": now.isoformat(),
        "by": "jointly",
        "uid": raw.uid,
        "received_at": raw.received_at.isoformat(),
        **fields,
    }


def _bounded(text: str) -> str:
    """The case record keeps the first MAX_TEXT characters; the whole email stays in the mailbox."""
    if len(text) <= MAX_TEXT:
        return text
    return text[:MAX_TEXT] + f"\n[... {len(text) - MAX_TEXT} more characters: see the original email]"
