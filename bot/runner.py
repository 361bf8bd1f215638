"""The effect runner: carries out what the store's outbox says is due, through small ports.

Effects were written with the events that caused them, so nothing is lost across a crash or a
restart: whatever is pending runs on the next pass. A failure is recorded and retried with capped
exponential backoff; it never blocks the effects behind it.

A letter goes exactly once as far as SMTP allows, and never silently twice: it is marked before
it goes, recorded as sent the moment the server takes it, and one left in doubt by a crash is
settled before any other letter goes (`bot.sending`).

With several replicas, only the leader runs effects, and it claims them first
(`CaseStore.claim_effects`): two processes that both believe they lead for a moment (one cut off
from the database, the other taking over) never run one effect twice.

The runner shares the event loop with the chat: it hands the loop back between effects, so a
handler's answer waits for one effect at most, never for a whole busy day's thousands of them.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any, Protocol

from bot.config import Config, Person
from bot.directory import system_actor
from bot.sending import Mark, Sending, Unsettled, effect_record
from bot.service import CaseService
from bot.wording import notice
from flows.codec import effect_from_plain
from flows.commands import ReceiveMessage, RecordLetterFailed
from flows.effects import CarryMessage, Notify, RecipientKind, SendLetter, SendLetterAgain
from flows.model import Sender
from mail.errors import LetterError, SendError, SendInDoubt
from mail.letters import build_message, message_id_for, render_letter
from mail.ports import Mailer, SentFolder
from mail.tokens import ReplyToken, reply_address
from store.records import EffectRecord

log = logging.getLogger("jointly.runner")
LETTERS = frozenset({SendLetter.__name__, SendLetterAgain.__name__})
# How long claimed effects are this process's: longer than a busy day's pass. Letters claimed while
# another is in doubt wait for it (`Sending.settle`), and then for the lease, on a shared store.
LEASE = timedelta(minutes=10)


class Chat(Protocol):
    """Says something to people in chat: `to` is person ids, or 'handlers'. `read` is the id of an
    email on the case the notice is about, for the handlers to open from it (never its content in
    the notice itself)."""

    async def say(self, ref: str, text: str, to: Sequence[str], read: str = "") -> None: ...

    def reaches(self, person: Person) -> bool:
        """Can this person be told in chat? Those who cannot are emailed instead."""
        ...


def letter_context(config: Config, context: dict[str, Any]) -> dict[str, Any]:
    """A letter's facts as a template needs them: the Ombudsman contact details come from the
    configuration, never from the case."""
    if "ombudsmen" not in context:
        return context
    chosen = [getattr(config.ombudsmen, name) for name in context["ombudsmen"]]
    return {**context, "ombudsmen": [o.model_dump() for o in chosen]}


class EffectRunner:
    def __init__(
        self,
        config: Config,
        service: CaseService,
        mailer: Mailer,
        chat: Chat,
        secret: bytes,
        sent_folder: SentFolder | None = None,
    ) -> None:
        self.config = config
        self.secret = secret
        self.service = service
        self.mailer = mailer
        self.chat = chat
        self.sending = Sending(config, service, sent_folder)

    async def run_due(self, now: datetime) -> int:
        """Run every effect due at `now`; return how many succeeded. Letters wait while one is in
        doubt and cannot be settled yet."""
        done = 0
        letters = await self.sending.settle(now)
        for stream, record in self.service.store.claim_effects(now, lease=LEASE):
            await asyncio.sleep(0)  # a chat or mailer that never suspends must not hold the loop
            if not self.service.store.lead():  # cut off meanwhile: the replica leading now runs the rest
                log.warning("no longer leading: the effects left go to the replica that leads")
                break
            if not letters and record.effect["type"] in LETTERS:
                continue
            try:
                await self._run(stream, record, now)
            except Unsettled as error:
                log.warning("%s: %s", stream, error, extra={"ref": stream})
                self.sending.unsettled, letters = True, False
                continue
            except Exception as error:  # each effect fails alone; it is retried later
                self._failed(stream, record, error, now)
                continue
            done += 1
        return done

    async def _run(self, stream: str, record: EffectRecord, now: datetime) -> None:
        effect = effect_from_plain(record.effect)
        if isinstance(effect, SendLetter):
            await self._send(stream, record, effect, now)
        elif isinstance(effect, SendLetterAgain):
            await self._send(stream, record, self._original(stream, effect.letter), now)
        elif isinstance(effect, Notify):
            await self._notify(effect, now)
            self.service.complete(stream, record.key, None, now)
        elif isinstance(effect, CarryMessage):
            self._carry(stream, effect, now)

    async def _send(self, stream: str, record: EffectRecord, letter: SendLetter, now: datetime) -> None:
        """Send `letter` for effect `record`, marked first and recorded as sent from the mailer's
        `accepted`. A letter that can never go (it cannot be built, or the server refused it for
        good) is recorded as failed on its case, whose handlers are told and asked to act."""
        try:
            await self._hand_over(stream, record, letter, self.letter(letter, now), now)
        except (LetterError, SendError) as error:
            if isinstance(error, SendError) and not error.permanent:
                raise  # retried with backoff
            failed = RecordLetterFailed(actor=system_actor(self.config), key=letter.key, reason=error.message)
            self.service.complete(stream, record.key, failed, now)
            log.error(
                "%s letter %s cannot be sent: %s",
                stream,
                letter.template,
                error.message,
                extra={"ref": stream},
            )
            return
        log.info("%s letter %s sent", stream, letter.template, extra={"ref": stream})

    async def _hand_over(
        self, stream: str, record: EffectRecord, letter: SendLetter, message: EmailMessage, now: datetime
    ) -> None:
        """Mark the letter, give it to the mailer, and record it as sent the moment the server takes
        it. A failure after that, or a connection lost while the server was taking it, leaves the
        letter in doubt (`Unsettled`)."""
        message_id = str(message["Message-ID"])
        mark = Mark(stream, record.key, letter.key, record.attempts, message_id, now.isoformat())
        self.sending.mark(mark)
        taken = False

        def accepted() -> None:
            nonlocal taken
            taken = True
            self.sending.sent(mark, now)

        try:
            await self.mailer.send(message, accepted)
        except Exception as error:
            if taken or isinstance(error, SendInDoubt):
                raise Unsettled(f"the {letter.template} letter may or may not have gone: {error}") from error
            raise

    def _original(self, stream: str, key: str) -> SendLetter:
        """The letter a `SendLetterAgain` sends again, from its case's outbox."""
        record = effect_record(self.service, stream, key)
        assert record is not None, key
        letter = effect_from_plain(record.effect)
        assert isinstance(letter, SendLetter), key
        return letter

    async def _notify(self, effect: Notify, now: datetime) -> None:
        """Handlers' notices go to the chat; named people get them in chat if they are there, by
        email otherwise (a contributor outside the workspace, a senior manager without Slack)."""
        text = notice(effect.message, effect.context)
        people = self._audience(effect)
        if people is None:
            await self.chat.say(effect.ref, text, ["handlers"], str(effect.context.get("message_id") or ""))
            return
        in_chat = [p.id for p in people if self.chat.reaches(p)]
        if in_chat:
            await self.chat.say(effect.ref, text, in_chat)
        for person in people:
            if not self.chat.reaches(person):
                await self.mailer.send(self._notice(effect, person, text, now))
                log.info(
                    "%s notice %s emailed to %s",
                    effect.ref,
                    effect.message,
                    person.id,
                    extra={"ref": effect.ref},
                )

    def _notice(self, effect: Notify, person: Person, text: str, now: datetime) -> EmailMessage:
        outbox = self.config.outbox
        rendered = render_letter(
            "notice",
            {"ref": effect.ref, "org_name": self.config.home.name, "to_name": person.name, "notice": text},
        )
        return build_message(
            rendered,
            from_address=outbox.from_address,
            from_name=outbox.from_name or self.config.home.name,
            to_address=person.email,
            to_name=person.name,
            message_id=message_id_for(
                f"{effect.key}/{person.id}", self.config.service.reply_domain, self.secret
            ),
            sent_at=now,
            automatic=True,
        )

    def _carry(self, stream: str, effect: CarryMessage, now: datetime) -> None:
        """Give the target case the merged case's complaint; the key makes a repeat harmless."""
        carried = ReceiveMessage(
            actor=system_actor(self.config),
            message_id=effect.message_id,
            sender=Sender.OTHER,
            from_address=effect.from_address,
            received_at=effect.received_at,
            subject=effect.subject,
            text=effect.text,
        )
        key = "carry:" + effect.key
        if not self.service.store.has_key(key):
            self.service.execute(effect.target, carried, now, keys=[key])
        self.service.complete(stream, effect.key, None, now)

    def letter(self, effect: SendLetter, now: datetime) -> EmailMessage:
        outbox = self.config.outbox
        rendered = render_letter(effect.template, letter_context(self.config, effect.context))
        return build_message(
            rendered,
            from_address=outbox.from_address,
            from_name=outbox.from_name or self.config.home.name,
            to_address=effect.to.address,
            to_name=effect.to.name,
            cc=effect.to.cc or None,
            message_id=message_id_for(effect.key, self.config.service.reply_domain, self.secret),
            sent_at=now,
            automatic=effect.automatic,
            in_reply_to=effect.in_reply_to or None,
            references=[effect.in_reply_to] if effect.in_reply_to else (),
            reply_to=self._reply_to(effect),
        )

    def _reply_to(self, effect: SendLetter) -> str | None:
        """Another organisation replies to a signed address naming the case, itself and the strand."""
        if effect.to.kind is not RecipientKind.ORGANISATION:
            return None
        token = ReplyToken(effect.ref, effect.to.org_id, str(effect.context.get("strand", "")))
        return reply_address(self.config.outbox.from_address, self.secret, token)

    def _audience(self, effect: Notify) -> list[Person] | None:
        """The people a notice is for: an organisation's senior managers or its contacts (any of
        them can act when one is away); None for the coordinating handlers."""
        kind, _, org_id = effect.audience.partition(":")
        if kind == "senior_managers":
            ids = self.config.organisation(org_id).senior_managers
        elif kind == "contacts":
            ids = self.config.organisation(org_id).contacts
        else:
            return None
        return [self.config.person(person_id) for person_id in ids]

    def _failed(self, stream: str, record: EffectRecord, error: Exception, now: datetime) -> None:
        runner = self.config.runner
        delay = min(runner.retry_cap_seconds, runner.retry_base_seconds * 2**record.attempts)
        retry_at = now + timedelta(seconds=delay)
        self.service.fail(stream, record.key, f"{type(error).__name__}: {error}", retry_at, now)
        log.warning(
            "%s effect %s failed (attempt %d), retry at %s: %s",
            stream,
            record.key,
            record.attempts + 1,
            retry_at.isoformat(),
            type(error).__name__,
            extra={"ref": stream},
        )
