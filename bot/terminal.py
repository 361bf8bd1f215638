"""The terminal chat: local mode's stand-in for Slack, rendering the same `flows.next_prompts`.

A handler answers with a number, then fills each field (Enter keeps the default shown). Without a
terminal it only prints what is waiting and never reads input, so `run --once` in CI or a pipe
never hangs.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Awaitable, Callable, Sequence
from datetime import date, datetime
from typing import Any, TextIO

from bot.case_text import case_text
from bot.config import Config, Person
from bot.directory import org_ref
from bot.service import CaseService
from flows.calendar import LONDON
from flows.codec import to_plain
from flows.errors import DomainError
from flows.model import Actor
from flows.prompts import Choice, Field, FieldKind, Prompt, case_menu, fill, next_prompts

Read = Callable[[str], Awaitable[str]]
YES = frozenset({"y", "yes", "true", "1"})
NO = frozenset({"n", "no", "false", "0"})


class TerminalChat:
    """The chat port in local mode: notices are printed for the one person at the keyboard; anyone
    else is not in this chat (the runner emails them, into the local outbox)."""

    def __init__(self, out: TextIO, at_keyboard: str = "") -> None:
        self.out = out
        self.at_keyboard = at_keyboard

    def reaches(self, person: Person) -> bool:
        return person.id == self.at_keyboard

    async def say(self, ref: str, text: str, to: Sequence[str]) -> None:
        who = "" if list(to) == ["handlers"] else f" (to {', '.join(to)})"
        print(f"  [chat{who}] {text}", file=self.out, flush=True)


def waiting(service: CaseService, actor: Actor, now: datetime) -> list[tuple[str, Prompt]]:
    """Every prompt for `actor` across open cases, oldest case first."""
    found: list[tuple[str, Prompt]] = []
    by_age = sorted(service.store.summaries(), key=lambda s: (s.summary.get("received_at") or "", s.stream))
    for summary in by_age:
        if summary.summary.get("open") and summary.stream.startswith("JC-"):
            case = service.load(summary.stream)
            found.extend((summary.stream, p) for p in next_prompts(case, actor, now))
    return found


def render(ref: str, prompt: Prompt) -> str:
    lines = [f"{ref}: {prompt.question}"]
    if prompt.detail:
        lines.append(f"    {prompt.detail}")
    lines.extend(f"    {n}) {choice.label}" for n, choice in enumerate(prompt.choices, 1))
    return "\n".join(lines)


class Conversation:
    """One handler answering prompts at the keyboard."""

    def __init__(
        self,
        config: Config,
        service: CaseService,
        actor: Actor,
        read: Read,
        out: TextIO,
        screen: tuple[int, int] | None = None,
    ):
        self.config = config
        self.service = service
        self.actor = actor
        self.read = read
        self.out = out
        self.screen = screen  # (columns, lines) for reading a case; else the terminal's own size

    def say(self, text: str) -> None:
        print(text, file=self.out, flush=True)

    async def answer_one(self, ref: str, prompt: Prompt, now: datetime, menu: bool = True) -> str:
        """Ask one prompt; returns "quit", "skip" or "answered". With `menu`, "m" opens the case's
        menu (`flows.prompts.case_menu`): what the handler may do on it at any time. "r" shows the
        case in full, then asks the same question again."""
        self.say(
            "\n"
            + render(ref, prompt)
            + "\n    s) skip   q) quit"
            + ("   m) more on this case" if menu else "")
            + "   r) read the case"
        )
        reply = (await self.read("> ")).strip().lower()
        if reply in ("q", "quit"):
            return "quit"
        if reply in ("s", "skip"):
            return "skip"
        if reply in ("r", "read"):
            await self.read_case(ref, now)
            return await self.answer_one(ref, prompt, now, menu)
        if menu and reply in ("m", "more"):
            return await self._more(ref, now)
        if not reply.isdigit() or not 1 <= int(reply) <= len(prompt.choices):
            self.say("Please type one of the numbers shown, s to skip or q to quit.")
            return "answered"
        choice = prompt.choices[int(reply) - 1]
        try:
            command = fill(choice, await self._fields(choice, now))
            decision = await asyncio.to_thread(self.service.execute, ref, command, now)
        except (DomainError, ValueError) as error:
            self.say(f"Not recorded: {getattr(error, 'message', error)}")
            return "answered"
        self.say(f"Recorded ({len(decision.events)} change(s)).")
        return "answered"

    async def read_case(self, ref: str, now: datetime) -> None:
        """The case in full, a screenful at a time: Enter for the next, q to stop."""
        size = shutil.get_terminal_size()
        columns, rows = self.screen or (size.columns, size.lines)
        case = await asyncio.to_thread(self.service.load, ref)
        lines = case_text(case, now.astimezone(LONDON).date(), columns - 1)
        step = max(rows - 2, 5)  # room for the "more" line
        for start in range(0, len(lines), step):
            self.say("\n".join(lines[start : start + step]))
            if start + step < len(lines):
                more = f"-- {start + step} of {len(lines)} lines: Enter for more, q to stop -- "
                if (await self.read(more)).strip().lower() in ("q", "quit"):
                    return

    async def _more(self, ref: str, now: datetime) -> str:
        case = await asyncio.to_thread(self.service.load, ref)
        menu = case_menu(case, self.actor, now)
        if not menu:
            self.say(f"Nothing else can be done on {ref} now.")
            return "answered"
        answer = await self.answer_one(ref, menu[0], now, menu=False)
        return "answered" if answer == "skip" else answer  # leaving the menu skips no question

    async def _fields(self, choice: Choice, now: datetime) -> dict[str, Any]:
        return {f.name: await self._ask(f, now) for f in choice.fields}

    async def _ask(self, field: Field, now: datetime) -> Any:
        options = field.options
        if field.kind is FieldKind.ORGANISATIONS:
            options = tuple((o.id, o.name) for o in self.config.organisations)
        for n, (_, label) in enumerate(options, 1):
            self.say(f"      {n}) {label}")
        while True:
            shown = _shown(field.default, options)
            raw = (await self.read(f"    {field.label}{f' [{shown}]' if shown else ''}: ")).strip()
            try:
                return self._parse(field, options, raw)
            except ValueError as error:
                self.say(f"    {error}")

    def _parse(self, field: Field, options: tuple[tuple[str, str], ...], raw: str) -> Any:
        if not raw:
            if field.default is None and field.required:
                raise ValueError("an answer is needed")
            return self._plain_default(field)
        kind = field.kind
        if kind is FieldKind.TEXT:
            return raw
        if kind is FieldKind.LINES:
            return [part.strip() for part in raw.split(";") if part.strip()]
        if kind is FieldKind.INT:
            if not raw.isdigit():
                raise ValueError("write a whole number, like 20")
            return int(raw)
        if kind is FieldKind.BOOL:
            if raw.lower() not in YES | NO:
                raise ValueError("answer y or n")
            return raw.lower() in YES
        if kind is FieldKind.DATE:
            return parse_day(raw).isoformat()
        if kind is FieldKind.DATETIME:
            return parse_moment(raw).isoformat()
        picked = [_pick(options, part.strip()) for part in raw.replace(",", " ").split()]
        if kind is FieldKind.CHOICE:
            return picked[0]
        if kind is FieldKind.ORGANISATIONS:
            return [to_plain(org_ref(self.config, o)) for o in picked]
        return picked

    def _plain_default(self, field: Field) -> Any:
        if field.kind is FieldKind.ORGANISATIONS:
            return [to_plain(org_ref(self.config, o)) for o in field.default or ()]
        return to_plain(field.default)


def parse_day(raw: str) -> date:
    """'2026-12-01', '1/12/2026' or '1 Dec 2026'."""
    for parse in (
        date.fromisoformat,
        lambda s: datetime.strptime(s, "%d/%m/%Y").date(),
        lambda s: datetime.strptime(s, "%d %b %Y").date(),
    ):
        try:
            return parse(raw)
        except ValueError:
            continue
    raise ValueError("write the date as 2026-12-01, 1/12/2026 or 1 Dec 2026")


def parse_moment(raw: str) -> datetime:
    """'2026-12-03 14:00' (London time), or with its offset ('2026-12-03 14:00+00:00')."""
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        raise ValueError("write the day and time as 2026-12-03 14:00 (London time)") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=LONDON)


def _pick(options: tuple[tuple[str, str], ...], raw: str) -> str:
    if raw.isdigit() and 1 <= int(raw) <= len(options):
        return options[int(raw) - 1][0]
    if raw in {value for value, _ in options}:
        return raw
    raise ValueError(f"'{raw}' is not one of the numbers shown")


def _shown(default: Any, options: tuple[tuple[str, str], ...]) -> str:
    if default is None or default == "":
        return ""
    labels = dict(options)
    if isinstance(default, bool):
        return "y" if default else "n"
    if isinstance(default, tuple | list):
        return "; ".join(labels.get(str(v), str(v)) for v in default)
    if isinstance(default, datetime):
        return f"{default.astimezone(LONDON):%Y-%m-%d %H:%M}"
    return labels.get(str(default), str(to_plain(default)))
