"""Wiring: builds the assistant from its configuration and runs it.

One cycle = take in the mailbox, sweep the open cases for reminders due, then carry out what is
due in the outbox (and, with a team chat, bring the case threads up to date). `run_once` does one
cycle and prints what waits for a handler; `run_forever` repeats it on an APScheduler interval job
(rebuilt at every start, never trusted to persist) and, at a terminal, lets the handler answer.
SIGTERM or SIGINT stops it gracefully: the cycle in hand finishes, the scheduler stops, the store
is closed. A cycle runs as a task of its own, shielded from its caller's cancellation: stopping
cancels the mailbox listener and the scheduler's job, and a poll cut off there would go on in its
thread, still writing as the store closed, with its letters left for the next start.

Several replicas may share one PostgreSQL store (`CaseStore.shared`): each serves the chat, and
the one that leads (`CaseStore.lead`) takes in the mailbox, sweeps, runs the outbox and brings the
case threads up to date. The others try for the lead every `LEAD_SECONDS` and take over when the
leader goes; the leader runs a cycle as soon as another replica writes (a press in the chat that
leaves a letter to send), not only on its interval.

When the disk refuses a write (full, over quota, read-only), or the database cannot be reached,
the cycle stops where it is and the service waits it out instead of dying: nothing more is taken
in (mail stays in the mailbox; the intake moves it only after its batch is on disk) and nothing is
sent, the handlers are told once, and the whole cycle is tried again with the runner's backoff
(`runner.retry_base_seconds` doubling up to `retry_cap_seconds`) until a cycle goes through.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import gc
import logging
import os
import queue
import secrets
import signal
import ssl
import sys
import threading
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.chat.waiting import waiting
from bot.config import Config
from bot.directory import actor, handlers
from bot.front import build_front
from bot.intake import Intake
from bot.practice import PracticeClock, shown, travel
from bot.runner import EffectRunner
from bot.service import CaseService
from bot.sweep import Sweep
from bot.terminal import Conversation, editor_command, render
from bot.wording import notice
from mail.errors import MailError
from mail.imap import CursorPort, ImapInbox
from mail.maildir import MaildirInbox
from mail.oauth import Tokens, configured_tokens
from mail.outbox import FileOutbox
from mail.ports import Inbox, Mailer, SentFolder
from mail.settings import FilesOutbox, ImapMailbox, MaildirMailbox, SmtpOutbox
from mail.smtp import SmtpMailer
from store.errors import StoreDiskError, StoreUnavailable
from store.ports import CaseStore

log = logging.getLogger("jointly")
Clock = Callable[[], datetime]
EXAMPLES = Path(__file__).parent / "examples"
POLL_SECONDS = 1.0  # a local Maildir is cheap to look at
IDLE_SECONDS = 10.0  # an IMAP IDLE is renewed this often (and shutdown waits for it at most this long)
LEADS = "this replica leads: it reads the mailbox, sweeps and runs the outbox"
FOLLOWS = "another replica leads: this one serves the chat, and takes over if that one goes"
LEAD_SECONDS = 5.0  # a replica that does not lead tries this often (a dead leader's session ends in ~11 s)
MIN_SECRET_BYTES = 32  # the reply-token secret's: as long as the HMAC-SHA256 it keys
DISK_REFUSALS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS})  # outside the store (attachments)


class NotAvailable(Exception):
    """A required secret is missing or unusable, or a configured part cannot run; the message names
    the setting."""


@dataclass(frozen=True)
class Outage:
    """The disk refused a write, or the database could not be reached: no cycle runs before
    `retry_at`."""

    error: Exception
    retry_at: datetime
    attempts: int


def refused_by_disk(error: Exception) -> bool:
    """A write the disk refused: the store's own, or an attachment's on a full or read-only disk."""
    return isinstance(error, StoreDiskError) or (isinstance(error, OSError) and error.errno in DISK_REFUSALS)


def waited_out(error: Exception) -> bool:
    """An outage the service waits out: the disk refusing writes, or the database out of reach."""
    return isinstance(error, StoreUnavailable) or refused_by_disk(error)


def utc_now() -> datetime:
    return datetime.now(UTC)


def reply_secret(config: Config, store: CaseStore, environ: Mapping[str, str]) -> bytes:
    """The key that signs reply addresses: from the configured variable (`NotAvailable` unless it
    holds at least MIN_SECRET_BYTES), else one the assistant made on its first start and keeps in
    its store. Every command that signs or checks tokens gets it here, so all check it alike."""
    if name := config.service.reply_token_secret_env:
        secret = environ.get(name, "").encode()
        if len(secret) < MIN_SECRET_BYTES:
            state = f"only {len(secret)} bytes long" if secret else "not set"
            raise NotAvailable(
                f"the reply-token secret {name} is {state}: it needs at least {MIN_SECRET_BYTES} "
                "random bytes (for instance `openssl rand -hex 32`)"
            )
        return secret
    made = {"hex": secrets.token_hex(32)}  # replicas starting at once agree on the first one written
    saved = store.get_cursor("reply-secret") or store.first_cursor("reply-secret", made)
    return bytes.fromhex(saved["hex"])


def mailbox_and_mailer(config: Config, store: CaseStore, environ: Mapping[str, str]) -> tuple[Inbox, Mailer]:
    """The configured mailbox and mailer: local folders, or IMAP and SMTP with their secrets."""
    box, out = config.mailbox, config.outbox
    tokens = oauth2_tokens(config, environ)
    inbox: Inbox
    if isinstance(box, MaildirMailbox):
        inbox = MaildirInbox(box.path, box.max_message_bytes)
    else:
        inbox = imap_inbox(box, store, environ, tokens)
    if isinstance(out, FilesOutbox):
        return inbox, FileOutbox(out.path)
    return inbox, smtp_mailer(out, environ, tokens)


def oauth2_tokens(config: Config, environ: Mapping[str, str]) -> Tokens | None:
    """The one token source of the mailbox and the outbox, when either logs in with XOAUTH2."""
    settings = config.oauth2
    if not config.oauth2_users or settings is None:
        return None
    secret = environ.get(settings.client_secret_env) if settings.client_secret_env else None
    return configured_tokens(settings, secret)


def imap_inbox(
    box: ImapMailbox, cursors: CursorPort, environ: Mapping[str, str], tokens: Tokens | None
) -> ImapInbox:
    password = environ.get(box.password_env) if box.password_env else None
    return ImapInbox(box, password, cursors, tokens=tokens, ssl_context=_trusting(box.ca_file))


def smtp_mailer(out: SmtpOutbox, environ: Mapping[str, str], tokens: Tokens | None) -> SmtpMailer:
    password = environ.get(out.password_env) if out.password_env else None
    return SmtpMailer(out, password, tokens=tokens, tls_context=_trusting(out.ca_file))


def sent_folder(inbox: Inbox, mailer: Mailer) -> SentFolder | None:
    """Where a letter left in doubt can be looked for: the file outbox itself, or the mailbox's
    configured sent folder; None when the handlers must be asked."""
    if isinstance(mailer, FileOutbox):
        return mailer
    if isinstance(inbox, ImapInbox) and inbox.settings.sent_folder:
        return inbox
    return None


def _trusting(ca_file: Path | None) -> ssl.SSLContext:
    """Certificate checks always on; a private authority's file only adds to what is trusted."""
    return ssl.create_default_context(cafile=str(ca_file) if ca_file else None)


class Assistant:
    def __init__(
        self,
        config: Config,
        store: CaseStore,
        out: TextIO,
        clock: Clock = utc_now,
        local: bool = False,
        environ: Mapping[str, str] = os.environ,
        chat_options: Mapping[str, Any] | None = None,
    ) -> None:
        self.config = config
        self.local = local
        self.editor = editor_command(environ)  # for long answers at the terminal
        self.clock = clock
        self.practice = clock if isinstance(clock, PracticeClock) else None  # time may be moved
        self.out = out
        self.service = CaseService(store)
        self.inbox, mailer = mailbox_and_mailer(config, store, environ)
        secret = reply_secret(config, store, environ)
        self.intake = Intake(config, self.service, self.inbox, secret)
        self.sweep = Sweep(config, self.service)
        people = handlers(config, config.service.home_organisation)
        self.handler = actor(people[0]) if people else None
        at_keyboard = self.handler.id if self.handler else ""
        self.front = build_front(config, self.service, clock, environ, out, at_keyboard, chat_options)
        self.runner = EffectRunner(
            config, self.service, mailer, self.front.chat, secret, sent_folder(self.inbox, mailer)
        )
        self._cycle_lock = asyncio.Lock()
        self._cycles: set[asyncio.Task[None]] = set()
        self.mailbox_error: MailError | None = None
        self.outage: Outage | None = None
        self._listen_seconds = IDLE_SECONDS if isinstance(self.inbox, ImapInbox) else POLL_SECONDS
        self.leading: bool | None = None  # not yet asked

    async def lead(self) -> bool:
        """Lead, or go on leading (always, for a store only this process writes). A replica that
        comes to lead looks first for a letter the last leader left in doubt."""
        try:
            leading = await asyncio.to_thread(self.service.store.lead)
        except StoreUnavailable:
            self.leading = False  # its session, and the lead with it, went with the database
            raise
        if leading != self.leading:
            if leading:
                self.runner.sending.unsettled = True
            if self.service.store.shared:
                log.warning("%s", LEADS if leading else FOLLOWS)
        self.leading = leading
        return leading

    def deliver_examples(self) -> int:
        """In local mode, on a first start with an empty store, put the sample complaints in the inbox."""
        store = self.service.store
        if (
            not self.local
            or not isinstance(self.inbox, MaildirInbox)
            or store.summaries()
            or store.get_cursor("examples")
            or self.inbox.pending()
        ):
            return 0
        emails = sorted(EXAMPLES.glob("*.eml"))
        for sample in emails:
            self.inbox.deliver(sample.read_bytes(), self.clock())
        store.set_cursor("examples", {"delivered": len(emails)})
        log.info("first start: %d sample complaints delivered to the local inbox", len(emails))
        return len(emails)

    async def cycle(self, mail: bool = True) -> None:
        """Run one cycle to its end, even if the caller is cancelled meanwhile (see the module's
        docstring); `cycles_done` waits for every cycle in hand. Without `mail`, the mailbox is
        left to its listener (a cycle for another replica's write must not wait for an IDLE)."""
        task = asyncio.ensure_future(self._cycle(mail))
        self._cycles.add(task)
        task.add_done_callback(self._cycles.discard)
        await asyncio.shield(task)

    async def cycles_done(self) -> None:
        while self._cycles:
            await asyncio.wait(set(self._cycles))

    async def _scheduled_cycle(self) -> None:
        """The scheduler's job; its shutdown cancels a job in hand, which only ends the waiting."""
        with contextlib.suppress(asyncio.CancelledError):
            await self.cycle()

    async def _cycle(self, mail: bool) -> None:
        async with self._cycle_lock:
            now = self.clock()
            if self.outage is not None and now < self.outage.retry_at:
                return
            try:
                await self._steps(now, mail)
            except (StoreDiskError, StoreUnavailable, OSError) as error:
                if not waited_out(error):
                    raise
                await self._wait_out(error, now)
                return
            if self.outage is not None:
                log.warning("the store takes writes again: taking in mail again")
                self.outage = None

    async def _steps(self, now: datetime, mail: bool = True) -> None:
        """Take in the mailbox, sweep for reminders, run what is due, bring the chat up to date:
        the leader's work (another replica leading, nothing)."""
        if not await self.lead():
            return
        taken = []
        try:
            if mail:
                taken = await asyncio.to_thread(self.intake.poll, now)
                self.mailbox_error = None
        except MailError as error:  # unreachable: nothing is lost, the next cycle tries again
            log.warning("the mailbox could not be read: %s", error)
            self.mailbox_error = error
        reminded = await asyncio.to_thread(self.sweep.run, now)
        sent = await self.runner.run_due(now)
        await self.front.sync_changed()
        if taken or reminded or sent:
            log.info(
                "cycle: %d message(s) taken in, %d reminder(s), %d effect(s) done",
                len(taken),
                reminded,
                sent,
            )

    async def _wait_out(self, error: Exception, now: datetime) -> None:
        """Back off before the next cycle; tell the handlers when the outage begins."""
        attempts = self.outage.attempts + 1 if self.outage else 1
        runner = self.config.runner
        delay = min(runner.retry_cap_seconds, runner.retry_base_seconds * 2 ** (attempts - 1))
        self.outage = Outage(error, now + timedelta(seconds=delay), attempts)
        log.error("%s: mail stays in the mailbox; trying again in %d s", error, delay)
        people = handlers(self.config, self.config.service.home_organisation)
        if attempts > 1 or not people:
            return
        unreachable = isinstance(error, StoreUnavailable)
        text = notice("database_unreachable" if unreachable else "disk_refused", {"reason": str(error)})
        try:
            await self.runner.chat.say("", text, [p.id for p in people])
        except Exception:  # the notice is a courtesy: the service must go on waiting regardless
            log.exception("the handlers could not be told of the outage")

    def print_waiting(self) -> None:
        if self.handler is None:
            return
        prompts = waiting(self.service, self.handler, self.clock())
        if not prompts:
            print("Nothing is waiting for a handler.", file=self.out)
        for ref, prompt in prompts:
            print(render(ref, prompt), file=self.out)

    async def run_once(self) -> None:
        self.deliver_examples()
        try:
            await self.cycle()
        finally:
            await asyncio.to_thread(self.inbox.close)
        self.print_waiting()
        if self.outage is not None:
            raise self.outage.error
        if self.mailbox_error is not None:
            raise NotAvailable(f"the mailbox could not be reached: {self.mailbox_error}")

    async def run_forever(self, interactive: bool) -> None:
        self.deliver_examples()
        freeze_start_up()  # a service lives long: not worth it for one cycle
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        scheduler = AsyncIOScheduler(timezone=UTC)
        scheduler.add_job(
            self._scheduled_cycle,
            "interval",
            seconds=self.config.runner.sweep_seconds,
            coalesce=True,
            max_instances=1,
            next_run_time=datetime.now(UTC),  # the scheduler keeps real time, even in practice
        )
        with contextlib.suppress(StoreUnavailable):  # tried again by `_follow` and the cycles
            await self.lead()
        scheduler.start()
        try:
            await self.front.start()
            waits = [self._listen(stop), stop.wait()]
            if self.service.store.shared:
                waits.append(self._follow(stop))
            if interactive and self.handler is not None and self.front.converses:
                waits.append(self._converse())
            await _first(*waits)
        finally:
            scheduler.pause()  # no new cycle; one it has just handed to the loop gets to start
            await asyncio.sleep(0)
            await self.cycles_done()
            scheduler.shutdown(wait=False)
            await self.front.stop()
            await asyncio.to_thread(self.inbox.close)
            log.info("stopped")

    async def _listen(self, stop: asyncio.Event) -> None:
        """Take mail in as it arrives: IMAP IDLE tells us at once; a Maildir is looked at every
        second. The scheduler's cycle still runs the outbox and retries on its interval."""
        while not stop.is_set():
            if not self.leading:  # the leader's mailbox: `_follow` tries for the lead meanwhile
                await _until(stop, LEAD_SECONDS)
                continue
            try:
                changed = await asyncio.to_thread(self.inbox.wait, self._listen_seconds)
            except MailError as error:  # the mailbox reconnects with backoff on its next call
                log.warning("mailbox: %s", error)
                changed = False
            if changed or isinstance(self.inbox, MaildirInbox):
                await self.cycle()

    async def _follow(self, stop: asyncio.Event) -> None:
        """With other replicas: the leader runs a cycle when one of them writes; the others try for
        the lead, and run a cycle the moment they take it over."""
        while not stop.is_set():
            try:
                if self.leading:
                    if await asyncio.to_thread(self.service.store.wait_changes, LEAD_SECONDS):
                        await self.cycle(mail=False)
                    continue
                if await self.lead():
                    if self.outage is not None and isinstance(self.outage.error, StoreUnavailable):
                        self.outage = replace(self.outage, retry_at=self.clock())  # it answers again
                    await self.cycle()
                    continue
            except StoreUnavailable as error:  # the cycles wait it out, and say so once
                (log.debug if self.outage else log.warning)("%s; trying again in %d s", error, LEAD_SECONDS)
            await _until(stop, LEAD_SECONDS)

    async def _converse(self) -> None:
        assert self.handler is not None
        practice = self.practice
        talk = Conversation(
            self.config, self.service, self.handler, _stdin_reader(), self.out, editor=self.editor,
            travel=(lambda when: travel(practice, when, self.cycle)) if practice else None,
        )  # fmt: skip
        letters = getattr(self.config.outbox, "path", "the SMTP server")
        when = f" Practice time: {shown(self.clock())} (London)." if practice and practice.moved else ""
        print(
            f"Local mode: you are {self.handler.name}. Letters are written to {letters}.{when}",
            file=self.out,
        )
        await talk.session(self.cycle, self.clock)


def freeze_start_up() -> None:
    """Take what start-up built out of the garbage collector's walks: the libraries, the
    configuration and the store's index live as long as the process, and every full collection
    walked them all again (about a tenth of the time of filing a burst of 2,000 messages)."""
    gc.collect()
    gc.freeze()


async def _until(stop: asyncio.Event, seconds: float) -> None:
    """Wait `seconds`, or less if `stop` is set meanwhile."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)


async def _first(*aws: Awaitable[object]) -> None:
    tasks = [asyncio.ensure_future(a) for a in aws]
    done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    for task in pending:
        task.cancel()
    for task in done:
        task.result()


def _stdin_reader() -> Callable[[str], asyncio.Future[str]]:
    """Reads one line per question on a daemon thread, so a pending input() never holds up shutdown
    and no line is read while nothing is asked (an editor the handler opens has the terminal to
    itself). At the end of input every question is answered "q"."""
    loop = asyncio.get_running_loop()
    asked: queue.SimpleQueue[asyncio.Future[str]] = queue.SimpleQueue()

    def answer(future: asyncio.Future[str], line: str) -> None:
        if not future.done():  # not given up on at shutdown
            future.set_result(line)

    def pump() -> None:
        while True:
            future = asked.get()
            line = sys.stdin.readline()
            loop.call_soon_threadsafe(answer, future, line or "q")

    threading.Thread(target=pump, daemon=True, name="stdin").start()

    def read(prompt: str) -> asyncio.Future[str]:
        print(prompt, end="", flush=True)
        future = loop.create_future()
        asked.put(future)
        return future

    return read
