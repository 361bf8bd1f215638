"""Case threads in a team chat (Slack or Teams), kept as a projection of the cases.

Each case has one thread in the complaints channel: its root message is the case card, updated in
place as the case moves, and the questions for the coordinating handlers are posted inside it. The
questions for another organisation go to its contacts directly (a direct message, a personal chat),
and only once the person's consent for that organisation is on record.

Nothing here is the truth: `sync(ref)` derives what the chat should show from the case and posts
the difference, remembering what it posted in a small cursor per case. When the chat is down or
limits our rate, the cursor is not advanced and the next cycle tries again, so nothing is lost and
nothing is posted twice. Notices from the outbox (`ThreadChat`) go into the same threads.

What differs between chats (how a card, a question or a notice is drawn and posted) is a `Surface`;
everything else, which questions are waiting for whom and when a thread is behind, is here once.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Any, Protocol

from bot.chat.refs import ReadRef
from bot.config import Config, Person
from bot.service import CaseService
from flows.calendar import london_date
from flows.conversation import Prompt
from flows.model import Actor, Case, Role
from flows.prompts import next_prompts
from flows.summary import summarise

Clock = Callable[[], datetime]
Where = list[str]  # [conversation, message id]: where one message is


@dataclass
class Thread:
    """What was posted for one case: the card's place, the version it shows, and open questions
    (by `audience/prompt id`, each with where its message is). `channel` is the conversation and
    `ts` the root message's id (Slack's timestamp, Teams' activity id): the names Slack's cursors
    have had since the first release."""

    channel: str
    ts: str
    version: int = 0
    asked: dict[str, Where] = field(default_factory=dict)  # key -> [channel, message id], or [] for nobody
    shapes: dict[str, str] = field(default_factory=dict)  # key -> `shape` of the question as posted


class Unreachable(Exception):
    """A person the chat cannot reach (the app not installed for them, and it cannot be): the
    message says why, for the handlers."""


class Surface(Protocol):
    """How one chat draws and posts: every call may raise when the chat refuses, and the thread's
    cursor then keeps what is still to do."""

    name: str  # the chat's name in cursor keys and loggers: "slack", "teams"
    title: str  # and as people write it: "Slack", "Teams"

    def reaches(self, person: Person) -> bool:
        """Whether `person` has an id in this chat."""
        ...

    def link(self, thread: Thread) -> str:
        """The address of a case's thread, for a person to open it."""
        ...

    async def post_card(self, summary: dict[str, Any], today: date) -> Where:
        """A new thread in the complaints channel, its root the case card."""
        ...

    async def update_card(self, thread: Thread, summary: dict[str, Any], today: date) -> None: ...

    async def ask(self, case: Case, prompt: Prompt, thread: Thread, person: Person | None) -> Where:
        """A question in the case's thread, or to `person` directly (`Unreachable` if they cannot be)."""
        ...

    async def close(self, where: Where, text: str) -> None:
        """A question answered or overtaken: `text` in its place, its buttons gone."""
        ...

    async def revise(self, where: Where, case: Case, prompt: Prompt) -> None:
        """A question still waiting whose wording or choices changed, redrawn in its place."""
        ...

    async def notice(self, thread: Thread, text: str, read: ReadRef | None) -> None:
        """A notice in the case's thread; with `read`, a "Read it" button for that email."""
        ...

    async def direct(self, person: Person, text: str) -> bool:
        """A notice to one person; False when they cannot be reached in this chat."""
        ...


def shape(prompt: Prompt) -> str:
    """What a posted question shows: when it changes (a choice offered once the plan is agreed), the
    question is redrawn, so nobody is left with yesterday's choices."""
    words = "\n".join([prompt.question, prompt.detail, *(choice.label for choice in prompt.choices)])
    return hashlib.sha256(words.encode()).hexdigest()[:16]


def coordinator(case: Case) -> Actor:
    """Anyone who handles complaints for the coordinating organisation: whoever answers is checked then."""
    return Actor("", case.coordinator, frozenset({Role.HANDLER}))


class CaseThreads:
    def __init__(self, config: Config, service: CaseService, surface: Surface, clock: Clock):
        self.config = config
        self.service = service
        self.surface = surface
        self.clock = clock
        self._shown: dict[str, int] | None = None  # ref -> version on its card
        self._changes = service.feed()
        self._retry: set[str] = set()  # cases the chat refused to show: tried again next cycle
        self._lock = asyncio.Lock()
        self.log = logging.getLogger(f"jointly.{surface.name}")

    def thread(self, ref: str) -> Thread | None:
        saved = self.service.store.get_cursor(f"{self.surface.name}.{ref}")
        return Thread(**saved) if saved else None

    def link(self, ref: str) -> str | None:
        """The address of the case's thread, or None before it has one."""
        thread = self.thread(ref)
        return self.surface.link(thread) if thread else None

    def case_for_thread(self, root: str) -> str | None:
        """The case whose thread starts at message `root`, if any."""
        saved = self.service.store.get_cursor(f"{self.surface.name}-ts.{root}")
        return str(saved["ref"]) if saved else None

    async def sync_changed(self) -> int:
        """Bring every case whose card is behind up to date; returns how many were synced.

        The first call looks at every case; later ones at the cases written since (the case
        service's change feed) and those the chat refused last time."""
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
                continue  # a case closed before the chat was switched on gets no thread
            try:
                await self.sync(ref)
            except Exception as error:  # the chat down or refusing: the cursor keeps what is still to post
                self.log.warning(
                    "%s: case thread not updated (%s); next cycle retries", ref, error, extra={"ref": ref}
                )
                self._retry.add(ref)
                continue
            self._retry.discard(ref)
            done += 1
        return done

    async def sync(self, ref: str) -> Thread:
        """Post or update the card, ask the questions now waiting, close the ones answered."""
        async with self._lock, self._section(ref):
            case = await asyncio.to_thread(self.service.load, ref)
            thread = await self._card(case)
            await self._questions(case, thread)
            thread.version = case.version
            self._save(ref, thread)
            (await self._versions())[ref] = case.version
            return thread

    async def reachable(self, person_id: str) -> int:
        """`person_id` can now be reached (they added the app): the questions that could not be put
        to them on the open cases are asked now. Returns how many cases were synced."""
        refs = [c.ref for c in self.service.store.open_cases()]
        owed = []
        async with self._lock:
            for ref in refs:
                thread = self.thread(ref)
                if thread is None:
                    continue
                missed = [k for k, w in thread.asked.items() if not w and k.startswith(f"{person_id}/")]
                for key in missed:
                    del thread.asked[key]
                    thread.shapes.pop(key, None)
                if missed:
                    self._save(ref, thread)
                    owed.append(ref)
        for ref in owed:
            await self.sync(ref)
        return len(owed)

    async def say(self, ref: str, text: str, read: ReadRef | None = None) -> None:
        """A notice in the case's thread (the thread is opened first if need be)."""
        thread = self.thread(ref) or await self.sync(ref)
        await self.surface.notice(thread, text, read)

    async def answered(self, ref: str, where: Where, text: str) -> None:
        """The question at `where` was just answered: say so in its place, buttons gone."""
        async with self._lock, self._section(ref):
            thread = self.thread(ref)
            if thread is not None:
                thread.asked = {k: w for k, w in thread.asked.items() if w != where}
                thread.shapes = {k: v for k, v in thread.shapes.items() if k in thread.asked}
                self._save(ref, thread)
        await self.surface.close(where, text)

    @contextlib.asynccontextmanager
    async def _section(self, ref: str) -> AsyncIterator[None]:
        """The case's thread to this replica alone while it is drawn (others wait their turn), so
        two replicas never ask one question twice."""
        store = self.service.store
        if not store.shared:
            yield
            return
        section = store.exclusive(f"{self.surface.name}.{ref}")
        await asyncio.to_thread(section.__enter__)
        try:
            yield
        finally:
            await asyncio.to_thread(section.__exit__, None, None, None)

    async def _card(self, case: Case) -> Thread:
        summary, today = summarise(case), london_date(self.clock())
        thread = self.thread(case.ref)
        if thread is None:
            channel, root = await self.surface.post_card(summary, today)
            thread = Thread(channel=channel, ts=root)
            self.service.store.set_cursor(f"{self.surface.name}-ts.{root}", {"ref": case.ref})
            self._save(case.ref, thread)
        elif thread.version != case.version:
            await self.surface.update_card(thread, summary, today)
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
                if where:
                    await self.surface.close(where, f"{case.ref}: answered, or no longer needed.")
                del thread.asked[key]
                thread.shapes.pop(key, None)
                self._save(case.ref, thread)
        for key, (prompt, contact) in waiting.items():
            drawn = shape(prompt)
            if key not in thread.asked:
                thread.asked[key] = await self._ask(case, prompt, thread, contact)
            elif thread.shapes.get(key) == drawn or not thread.asked[key]:
                continue
            elif key in thread.shapes:  # (one posted before shapes were kept is taken as drawn now)
                await self.surface.revise(thread.asked[key], case, prompt)
            thread.shapes[key] = drawn
            self._save(case.ref, thread)  # one by one: a failure half-way never asks twice

    async def _ask(self, case: Case, prompt: Prompt, thread: Thread, contact: Person | None) -> Where:
        """Where the question went; nowhere (and the handlers told once) for someone unreachable."""
        try:
            return await self.surface.ask(case, prompt, thread, contact)
        except Unreachable as error:
            assert contact is not None, "the case thread itself is always reachable"
            org = self.config.organisation(contact.organisation).name
            self.log.warning("%s: %s not asked %s: %s", case.ref, contact.id, prompt.id, error)
            text = (
                f"{case.ref}: {contact.name} ({org}) cannot be reached in {self.surface.title} ({error}), "
                f"so this was not put to them: {prompt.question} "
                f"Ask them to add the assistant in {self.surface.title}, or reach them another way."
            )
            await self.surface.notice(thread, text, None)
            return []

    def _people(self, ids: Sequence[str]) -> list[Person]:
        """Those of `ids` who are in this chat."""
        people = (self.config.person(p) for p in ids)
        return [p for p in people if self.surface.reaches(p)]

    def _save(self, ref: str, thread: Thread) -> None:
        self.service.store.set_cursor(f"{self.surface.name}.{ref}", asdict(thread))

    async def _versions(self) -> dict[str, int]:
        if self._shown is None:
            refs = [s.stream for s in self.service.store.summaries() if s.stream.startswith("JC-")]
            self._shown = await asyncio.to_thread(self._read_versions, refs)
        return self._shown

    def _read_versions(self, refs: list[str]) -> dict[str, int]:
        threads = ((ref, self.thread(ref)) for ref in refs)
        return {ref: thread.version for ref, thread in threads if thread is not None}


class ThreadChat:
    """The runner's chat port in a team chat: case notices in the case thread, people directly.
    A notice of a new email gets a "Read it" button in the thread, never the email itself."""

    def __init__(self, config: Config, threads: CaseThreads) -> None:
        self.config = config
        self.threads = threads

    def reaches(self, person: Person) -> bool:
        return self.threads.surface.reaches(person)

    async def say(self, ref: str, text: str, to: Sequence[str], read: str = "") -> None:
        if list(to) == ["handlers"]:
            await self.threads.say(ref, text, await self._read(ref, read) if read else None)
            return
        surface = self.threads.surface
        for person_id in to:
            if not await surface.direct(self.config.person(person_id), text):
                self.threads.log.info(
                    "%s: %s is not in %s; the notice was not posted", ref, person_id, surface.title
                )

    async def _read(self, ref: str, message_id: str) -> ReadRef:
        """The "Read it" button's value for an email: its Message-ID, or its number on the case when
        the Message-ID is too long for a button."""
        button = ReadRef(ref, message_id)
        if button.fits:
            return button
        case = await asyncio.to_thread(self.threads.service.load, ref)
        found = (n for n, m in enumerate(case.messages, 1) if m.message_id == message_id)
        return ReadRef(ref, f"#{next(found, 0)}")
