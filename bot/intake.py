"""Intake: each message in the mailbox becomes a case exactly once, or is quarantined with a reason.

The mailbox may be the local Maildir or (later) IMAP: both give `RawMail`. A message's
Message-ID is its de-duplication key, stored in the same atomic write as the case it opened, so a
crash between storing and moving the message only means it is recognised and moved next time.
One failing message never blocks the next: errors are caught per message.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime

from bot.config import Config
from bot.directory import org_ref, spot_organisations, system_actor
from bot.service import CaseService
from flows.codec import to_plain
from flows.commands import ReceiveComplaint
from flows.effects import Notify
from flows.model import Channel, Person
from mail.classify import automatic
from mail.errors import MailParseError
from mail.maildir import RawMail
from mail.parse import IncomingMail, parse_message
from mail.ports import Inbox

log = logging.getLogger("jointly.intake")


class Intake:
    def __init__(self, config: Config, service: CaseService, inbox: Inbox) -> None:
        self.config = config
        self.service = service
        self.inbox = inbox

    def poll(self, now: datetime) -> list[str]:
        """Take every waiting message; return the references of the cases opened."""
        opened = []
        for raw in self.inbox.pending():
            try:
                ref = self.take(raw, now)
            except Exception as error:  # one bad message must not block the next
                log.exception("message %s could not be taken in", raw.uid)
                self._quarantine(raw, f"could not be processed: {type(error).__name__}", now)
                continue
            if ref:
                opened.append(ref)
        return opened

    def take(self, raw: RawMail, now: datetime) -> str | None:
        try:
            mail = parse_message(raw.data)
        except MailParseError as error:
            self._quarantine(raw, f"unreadable email: {error.reason}", now)
            return None
        machine = automatic(mail)
        if machine:
            self._quarantine(raw, f"automatic mail, not acknowledged ({machine})", now)
            return None
        key = "mail:" + mail.message_id
        if self.service.store.has_key(key):
            log.info("message %s already taken in (case %s)", raw.uid, self.service.store.stream_for_key(key))
            self.inbox.mark_processed(raw.uid)
            return None
        ref = self.service.new_ref(raw.received_at, key)
        self.service.execute(ref, self._receive(mail, raw.received_at), now, keys=[key])
        self.inbox.mark_processed(raw.uid)
        return ref

    def _receive(self, mail: IncomingMail, received_at: datetime) -> ReceiveComplaint:
        home = self.config.service.home_organisation
        return ReceiveComplaint(
            actor=system_actor(self.config),
            channel=Channel.EMAIL,
            received_at=received_at,
            complainant=Person(name=mail.from_name, email=mail.from_address),
            home_org=org_ref(self.config, home),
            subject=mail.subject,
            text=mail.text,
            message_id=mail.message_id,
            suggested_orgs=spot_organisations(self.config, f"{mail.subject}\n{mail.text}"),
        )

    def _quarantine(self, raw: RawMail, reason: str, now: datetime) -> None:
        """Keep the raw message aside, record why, and tell the handlers (no content in chat)."""
        stream = "Q-" + hashlib.sha256(raw.data).hexdigest()[:16]
        key = "quarantine:" + stream
        if not self.service.store.has_key(key):
            notice = Notify(
                key=key,
                ref=stream,
                audience="handlers",
                message="mail_quarantined",
                context={"ref": stream, "reason": reason},
            )
            event = {
                "type": "MailQuarantined",
                "at": now.isoformat(),
                "by": "jointly",
                "uid": raw.uid,
                "reason": reason,
                "received_at": raw.received_at.isoformat(),
            }
            summary = {"ref": stream, "status": "quarantined", "open": False, "reason": reason}
            self.service.record(stream, event, to_plain(notice), key, summary, now)
        self.inbox.quarantine(raw.uid, reason)
        log.warning("message %s quarantined as %s: %s", raw.uid, stream, reason)
