"""A letter goes exactly once as far as SMTP allows, and never silently twice.

- Before a letter is handed to the mailer, a small mark says which letter is being sent, from when
  (the `SENDING` cursor, one durable write; the runner sends one letter at a time, so one mark
  will do).
- The moment the server accepts it (its reply to DATA), the letter is recorded as sent on its case,
  before QUIT or anything else (`mail.ports.Mailer`'s `accepted`). So a mark whose letter is still
  pending, with no failed attempt counted since, is a letter whose outcome nobody recorded: the
  process died, or the connection was lost while the server was taking it. That letter is *in
  doubt*, and it is never sent again blindly.
- At the start of the runner's next pass, a letter in doubt is looked for in the sent folder when
  there is one (`mail.ports.SentFolder`: the mailbox's, where Exchange Online keeps a copy of what
  it was given; the file outbox is its own and can always tell). Found, it is recorded as sent;
  still missing once the server has had `SENT_COPY_WAIT` to file its copy, it goes again. With no
  sent folder (a plain SMTP server or a local relay keeps no copy we can read), it is recorded in
  doubt on its case and the handlers are asked whether to resend it or record it as sent
  (`flows.rules_letters`). No other letter goes until it is settled, so the mark is never
  overwritten first.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.config import Config
from bot.directory import system_actor
from bot.service import CaseService
from bot.threads import SENT
from flows.commands import RecordLetterInDoubt, RecordLetterSent
from mail.errors import MailError
from mail.ports import SentFolder
from store.records import EffectRecord

log = logging.getLogger("jointly.runner")
SENDING = "outbox-sending"  # the cursor marking the letter whose sending began last
SENT_COPY_WAIT = timedelta(minutes=2)  # a server may file its copy a moment after taking the letter


def effect_record(service: CaseService, stream: str, key: str) -> EffectRecord | None:
    """The outbox record `key` of case `stream`, read from its file."""
    return next((r for r in service.store.load(stream).effects if r.key == key), None)


class Unsettled(Exception):
    """Sending a letter began and its outcome is not recorded: it is in doubt."""


@dataclass(frozen=True)
class Mark:
    """The letter `letter` of case `stream`, sent for effect `effect` (itself, or a resend) at its
    attempt `attempts`, began to go at `at`."""

    stream: str
    effect: str
    letter: str
    attempts: int
    message_id: str
    at: str


class Sending:
    """Marks each letter before it goes, records it as sent, and settles a letter left in doubt."""

    def __init__(self, config: Config, service: CaseService, sent_folder: SentFolder | None) -> None:
        self.config = config
        self.service = service
        self.sent_folder = sent_folder
        self.unsettled = True  # a mark left by an earlier run is looked at first

    def mark(self, mark: Mark) -> None:
        self.service.store.set_cursor(SENDING, asdict(mark))

    def sent(self, mark: Mark, now: datetime) -> None:
        """Record the letter as sent, finishing its effect, with its Message-ID kept as a key so
        replies and bounces find the case (kept already if the letter was once in doubt)."""
        sent = RecordLetterSent(actor=system_actor(self.config), key=mark.letter, message_id=mark.message_id)
        self.service.complete(mark.stream, mark.effect, sent, now, keys=self._sent_key(mark.message_id))

    async def settle(self, now: datetime) -> bool:
        """Settle a letter left in doubt, if any; False while letters must wait. A sent folder that
        cannot be searched now is tried again on the next pass."""
        if not self.unsettled:
            return True
        mark = self._in_doubt()
        if mark is not None:
            try:
                went = await self._look_for(mark.message_id)
            except MailError as error:
                log.warning("a letter in doubt cannot be looked for yet; letters wait: %s", error)
                return False
            if not self._settle(mark, went, now):
                return False
        self.unsettled = False
        return True

    def _in_doubt(self) -> Mark | None:
        """The mark, if its letter is still pending with no failed attempt counted since."""
        saved: dict[str, Any] | None = self.service.store.get_cursor(SENDING)
        if not saved:
            return None
        mark = Mark(**saved)
        record = effect_record(self.service, mark.stream, mark.effect)
        pending = record is not None and record.status == "pending" and record.attempts == mark.attempts
        return mark if pending else None

    async def _look_for(self, message_id: str) -> bool | None:
        """Is the letter in the sent folder? None when there is none to look in."""
        if self.sent_folder is None:
            return None
        return await asyncio.to_thread(self.sent_folder.holds, message_id)

    def _settle(self, mark: Mark, went: bool | None, now: datetime) -> bool:
        ref = {"ref": mark.stream}
        since = datetime.fromisoformat(mark.at)
        if went:
            self.sent(mark, now)
            log.info("%s a letter in doubt is in the sent folder: recorded as sent", mark.stream, extra=ref)
        elif went is None:
            doubt = RecordLetterInDoubt(
                actor=system_actor(self.config), key=mark.letter, message_id=mark.message_id, since=since
            )
            keys = self._sent_key(mark.message_id)  # a reply to it, if it went, finds the case
            self.service.complete(mark.stream, mark.effect, doubt, now, keys=keys)
            log.warning(
                "%s a letter may or may not have gone: the handlers are asked", mark.stream, extra=ref
            )
        elif now < since + SENT_COPY_WAIT:
            return False  # the server may not have filed its copy yet
        else:
            log.warning(
                "%s a letter in doubt is not in the sent folder: it goes again", mark.stream, extra=ref
            )
        return True

    def _sent_key(self, message_id: str) -> list[str]:
        key = SENT + message_id
        return [] if self.service.store.has_key(key) else [key]
