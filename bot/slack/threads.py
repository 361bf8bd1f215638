"""Case threads in Slack, kept as a projection of the cases.

Each case has one thread in the complaints channel: its root message is the case card, updated in
place as the case moves, and the questions for the coordinating handlers are posted inside it. The
questions for another organisation go by direct message to its contacts in the workspace, and only
once the person's consent for that organisation is on record.

Nothing here is the truth: `sync(ref)` derives what Slack should show from the case and posts the
difference, remembering what it posted in a small cursor per case. When Slack is down or limits
our rate, the cursor is not advanced and the next cycle tries again, so nothing is lost and nothing
is posted twice. Notices from the outbox (`SlackChat`) go into the same threads.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from bot.config import Config, Person
from bot.service import CaseService
from bot.slack.blocks import (
    ReadRef,
    card_text,
    case_card,
    done_blocks,
    notice_blocks,
    prompt_blocks,
    text_of,
)
from flows.calendar import london_date
from flows.conversation import Prompt
from flows.model import Actor, Case, Role
from flows.prompts import next_prompts
from flows.summary import summarise

log = logging.getLogger("jointly.slack")
Clock = Callable[[], datetime]
SLACK = "https://slack.com/"  # thread links when auth.test gives no workspace address


@dataclass
class Thread:
    """What was posted for one case: the card's place, the version it shows, and open questions
    (by `audience/prompt id`, each with where its message is)."""

    channel: str
    ts: str
    version: int = 0
    asked: dict[str, list[str]] = field(default_factory=dict)  # key -> [channel, ts]


def coordinator(case: Case) -> Actor:
    """Anyone who handles complaints for the coordinating organisation: whoever answers is checked then."""
    return Actor("", case.coordinator, frozenset({Role.HANDLER}))


class CaseThreads:
    def __init__(self, config: Config, service: CaseService, client: AsyncWebClient, clock: Clock):
        assert config.slack is not None
        self.config = config
        self.service = service
        self.client = client
        self.clock = clock
        self.channel = config.slack.complaints_channel
        self.workspace = SLACK
        self._shown: dict[str, int] | None = None  # ref -> version on its card
        self._changes = service.feed()
        self._retry: set[str] = set()  # cases Slack refused to show: tried again next cycle
        self._lock = asyncio.Lock()

    def thread(self, ref: str) -> Thread | None:
        saved = self.service.store.get_cursor(f"slack.{ref}")
        return Thread(**saved) if saved else None

    async def find_workspace(self) -> None:
        """Ask Slack (auth.test) for the workspace's own address, which thread links start with:
        a GovSlack or Enterprise Grid workspace is not at slack.com."""
        answer = await self.client.auth_test()
        self.workspace = str(answer.get("url") or SLACK)

    def link(self, ref: str) -> str | None:
        """The address of the case's thread, or None before it has one."""
        thread = self.thread(ref)
        if thread is None:
            return None
        return f"{self.workspace.rstrip('/')}/archives/{thread.channel}/p{thread.ts.replace('.', '')}"

    def case_for_thread(self, ts: str) -> str | None:
        saved = self.service.store.get_cursor(f"slack-ts.{ts}")
        return str(saved["ref"]) if saved else None

    async def sync_changed(self) -> int:
        """Bring every case whose card is behind up to date; returns how many were synced.

        The first call looks at every case; later ones at the cases written since (the case
        service's change feed) and those Slack refused last time."""
        first = self._shown is None
        shown = await self._versions()
        if first:
            self._changes()  # before the listing, so no case written meanwhile is missed
            refs = {s.stream for s in self.service.store.summaries() if s.stream.startswith("JC-")}
        else:
            refs = self._changes() | self._retry
        done = 0
        for ref in sorted(refs):
            summary = self.service.store.summary(ref)
            if summary is None or shown.get(ref) == summary.version:
                self._retry.discard(ref)
                continue
            if not summary.summary.get("open") and ref not in shown:
                continue  # a case closed before Slack was switched on gets no thread
            try:
                await self.sync(ref)
            except Exception as error:  # Slack down or refusing: the cursor keeps what is still to post
                log.warning(
                    "%s: case thread not updated (%s); next cycle retries", ref, error, extra={"ref": ref}
                )
                self._retry.add(ref)
                continue
            self._retry.discard(ref)
            done += 1
        return done

    async def sync(self, ref: str) -> Thread:
        """Post or update the card, ask the questions now waiting, close the ones answered."""
        async with self._lock:
            case = await asyncio.to_thread(self.service.load, ref)
            thread = await self._card(case)
            await self._questions(case, thread)
            thread.version = case.version
            self._save(ref, thread)
            (await self._versions())[ref] = case.version
            return thread

    async def say(self, ref: str, text: str, blocks: Sequence[dict[str, Any]] = ()) -> None:
        """A notice in the case's thread (the thread is opened first if need be)."""
        thread = self.thread(ref) or await self.sync(ref)
        await self.client.chat_postMessage(
            channel=thread.channel, thread_ts=thread.ts, text=text, blocks=list(blocks) or None
        )

    async def direct(self, person: Person, text: str, blocks: Sequence[dict[str, Any]] = ()) -> str | None:
        """A direct message; returns where it went, or None for a person without Slack."""
        if not person.slack_user_id:
            return None
        opened = await self.client.conversations_open(users=person.slack_user_id)
        channel = str(opened["channel"]["id"])
        await self.client.chat_postMessage(channel=channel, text=text, blocks=list(blocks) or None)
        return channel

    async def _card(self, case: Case) -> Thread:
        summary = summarise(case)
        blocks, text = case_card(summary, today=london_date(self.clock())), card_text(summary)
        thread = self.thread(case.ref)
        if thread is None:
            posted = await self.client.chat_postMessage(channel=self.channel, text=text, blocks=blocks)
            thread = Thread(channel=str(posted["channel"]), ts=str(posted["ts"]))
            self.service.store.set_cursor(f"slack-ts.{thread.ts}", {"ref": case.ref})
            self._save(case.ref, thread)
        elif thread.version != case.version:
            await self.client.chat_update(channel=thread.channel, ts=thread.ts, text=text, blocks=blocks)
        return thread

    async def _questions(self, case: Case, thread: Thread) -> None:
        now = self.clock()
        waiting: dict[str, tuple[Prompt, Person | None]] = {
            f"handlers/{p.id}": (p, None) for p in next_prompts(case, coordinator(case), now)
        }
        for org_id in case.others:
            if not case.consent_active(org_id):
                continue  # nothing about the case reaches that organisation before consent
            asked = next_prompts(case, Actor("", org_id, frozenset({Role.CONTRIBUTOR})), now)
            for person in self._people(self.config.organisation(org_id).contacts):
                waiting |= {f"{person.id}/{p.id}": (p, person) for p in asked}
        for org_id in case.involved:  # an impasse goes to every organisation's senior managers
            if not case.consent_active(org_id):
                continue
            asked = next_prompts(case, Actor("", org_id, frozenset({Role.MANAGER})), now)
            for person in self._people(self.config.organisation(org_id).senior_managers):
                waiting |= {f"{person.id}/{p.id}": (p, person) for p in asked if p.id.startswith("impasse:")}
        for key, where in list(thread.asked.items()):
            if key not in waiting:  # answered or overtaken: its buttons go
                await self._close_question(where, f"{case.ref}: answered, or no longer needed.")
                del thread.asked[key]
                self._save(case.ref, thread)
        for key, (prompt, contact) in waiting.items():
            if key not in thread.asked:
                thread.asked[key] = await self._ask(case, thread, prompt, contact)
                self._save(case.ref, thread)  # one by one: a failure half-way never asks twice

    async def _ask(self, case: Case, thread: Thread, prompt: Prompt, contact: Person | None) -> list[str]:
        """Post a question in the case's thread, or to `contact` directly; returns where it went."""
        text, blocks = text_of(case.ref, prompt), prompt_blocks(case.ref, case.version, prompt)
        channel = thread.channel
        in_thread: str | None = thread.ts
        if contact is not None:
            opened = await self.client.conversations_open(users=contact.slack_user_id)
            channel, in_thread = str(opened["channel"]["id"]), None
        posted = await self.client.chat_postMessage(
            channel=channel, thread_ts=in_thread, text=text, blocks=blocks
        )
        return [str(posted["channel"]), str(posted["ts"])]

    async def answered(self, ref: str, channel: str, ts: str, text: str) -> None:
        """The question in message `ts` was just answered: say so in its place, buttons gone."""
        async with self._lock:
            thread = self.thread(ref)
            if thread is not None:
                thread.asked = {k: w for k, w in thread.asked.items() if w != [channel, ts]}
                self._save(ref, thread)
        await self._close_question([channel, ts], text)

    async def _close_question(self, where: list[str], text: str) -> None:
        await self.client.chat_update(channel=where[0], ts=where[1], text=text, blocks=done_blocks(text))

    def _people(self, ids: Sequence[str]) -> list[Person]:
        """Those of `ids` who are in the workspace."""
        people = (self.config.person(p) for p in ids)
        return [p for p in people if p.slack_user_id]

    def _save(self, ref: str, thread: Thread) -> None:
        self.service.store.set_cursor(f"slack.{ref}", asdict(thread))

    async def _versions(self) -> dict[str, int]:
        if self._shown is None:
            refs = [s.stream for s in self.service.store.summaries() if s.stream.startswith("JC-")]
            self._shown = await asyncio.to_thread(self._read_versions, refs)
        return self._shown

    def _read_versions(self, refs: list[str]) -> dict[str, int]:
        threads = ((ref, self.thread(ref)) for ref in refs)
        return {ref: thread.version for ref, thread in threads if thread is not None}


class SlackChat:
    """The runner's chat port in Slack: case notices in the case thread, people by direct message.
    A notice of a new email gets a "Read it" button in the thread, never the email itself."""

    def __init__(self, config: Config, threads: CaseThreads) -> None:
        self.config = config
        self.threads = threads

    def reaches(self, person: Person) -> bool:
        return bool(person.slack_user_id)

    async def say(self, ref: str, text: str, to: Sequence[str], read: str = "") -> None:
        if list(to) == ["handlers"]:
            blocks = notice_blocks(text, await self._read(ref, read)) if read else ()
            await self.threads.say(ref, text, blocks)
            return
        for person_id in to:
            if await self.threads.direct(self.config.person(person_id), text) is None:
                log.info("%s: %s is not in Slack; the notice was not posted", ref, person_id)

    async def _read(self, ref: str, message_id: str) -> ReadRef:
        """The "Read it" button's value for an email: its Message-ID, or its number on the case when
        the Message-ID is too long for a button."""
        button = ReadRef(ref, message_id)
        if button.fits:
            return button
        case = await asyncio.to_thread(self.threads.service.load, ref)
        found = (n for n, m in enumerate(case.messages, 1) if m.message_id == message_id)
        return ReadRef(ref, f"#{next(found, 0)}")
