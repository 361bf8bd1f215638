"""The terminal chat: local mode's stand-in for a team chat, rendering the same `flows.next_prompts`.

A handler answers with a number, then fills each field (Enter keeps the default shown). Without a
terminal it only prints what is waiting and never reads input, so `run --once` in CI or a pipe
never hangs.
"""

from __future__ import annotations

import asyncio
import shlex
import shutil
import tempfile
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any, TextIO

from bot.case_text import case_text, message_text
from bot.chat.waiting import ranked
from bot.config import Config, Person
from bot.directory import org_ref
from bot.service import CaseService
from flows.calendar import LONDON
from flows.codec import to_plain
from flows.errors import DomainError
from flows.model import REFERENCE, Actor
from flows.prompts import Choice, Field, FieldKind, Prompt, case_menu, fill
from flows.urgency import Waiting

Read = Callable[[str], Awaitable[str]]
Travel = Callable[[str], Awaitable[str]]  # moves the practice clock: `bot.practice.travel`
YES = frozenset({"y", "yes", "true", "1"})
NO = frozenset({"n", "no", "false", "0"})
PREVIEW_LINES = 4  # of a new email's text, shown with its notice


class TerminalChat:
    """The chat port in local mode: notices are printed for the one person at the keyboard; anyone
    else is not in this chat (the runner emails them, into the local outbox)."""

    def __init__(self, service: CaseService, out: TextIO, at_keyboard: str = "") -> None:
        self.service = service
        self.out = out
        self.at_keyboard = at_keyboard

    def reaches(self, person: Person) -> bool:
        return person.id == self.at_keyboard

    async def say(self, ref: str, text: str, to: Sequence[str], read: str = "") -> None:
        """The notice; for a new email, its first lines too (the terminal is the handler's own)."""
        who = "" if list(to) == ["handlers"] else f" (to {', '.join(to)})"
        lines = [f"  [chat{who}] {text}"]
        case = await asyncio.to_thread(self.service.load, ref) if read else None
        message = next((m for m in case.messages if m.message_id == read), None) if case else None
        if case is not None and message is not None:
            width = shutil.get_terminal_size().columns - 1
            lines += message_text(case, message, width, most=PREVIEW_LINES)
            lines.append(f"  (r on any question of {ref} reads it whole)")
        print("\n".join(lines), file=self.out, flush=True)


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
        editor: Sequence[str] = (),
        travel: Travel | None = None,
    ):
        self.config = config
        self.service = service
        self.actor = actor
        self.read = read
        self.out = out
        self.screen = screen  # (columns, lines) for reading a case; else the terminal's own size
        self.editor = list(editor)  # the handler's $VISUAL or $EDITOR, for long answers
        self.travel = travel  # local mode only: `t +3d` moves time forward

    def say(self, text: str) -> None:
        print(text, file=self.out, flush=True)

    async def session(self, cycle: Callable[[], Awaitable[None]], clock: Callable[[], datetime]) -> None:
        """Ask what waits, most urgent first, until the handler quits: a skipped question waits in
        the list (`l`) and comes back once nothing else is left; `g REF` stays on one case until
        nothing more waits on it."""
        skipped: set[tuple[str, str]] = set()
        focus, first = "", ("", "")  # the case gone to; the question picked from the list
        while True:
            await cycle()
            now = clock()
            items = await asyncio.to_thread(ranked, self.service, self.actor, now)
            ahead = [
                w for w in items if (w.ref, w.prompt.id) not in skipped and (not focus or w.ref == focus)
            ]
            ahead.sort(key=lambda w: (w.ref, w.prompt.id) != first)
            first = ("", "")
            if ahead:
                move = await self.answer_one(ahead[0].ref, ahead[0].prompt, now)
            elif focus:
                move = await self._at_case(focus, now)
                focus = ""
            else:
                move = await self._idle(len(skipped))
                if move == "again":
                    skipped.clear()
            if move == "quit":
                return
            if move == "skip":
                skipped.add((ahead[0].ref, ahead[0].prompt.id))
            elif move == "list" and (picked := await self._list(items, skipped)):
                first, focus = picked, ""
                skipped.discard(picked)
            elif move.startswith("go "):
                focus = await self._go(move[3:]) or focus
                skipped = {s for s in skipped if s[0] != focus}
            elif move.startswith("time "):
                await self._move_time(move[5:])

    async def answer_one(self, ref: str, prompt: Prompt, now: datetime, menu: bool = True) -> str:
        """Ask one prompt; returns "quit", "skip", "answered", "list", "go REF" or "time WHEN". With
        `menu`, "m" opens the case's menu (`flows.prompts.case_menu`): what the handler may do on it
        at any time. "r" shows the case in full, then asks the same question again."""
        self.say(
            "\n"
            + render(ref, prompt)
            + "\n    s) skip   r) read the case"
            + ("   m) more on this case" if menu else "")
            + "   l) list what waits   g REF) go to a case"
            + ("   t +3d) move time" if self.travel else "")
            + "   q) quit"
        )
        raw = (await self.read("> ")).strip()
        reply = raw.lower()
        if reply in ("q", "quit"):
            return "quit"
        if reply in ("s", "skip"):
            return "skip"
        if reply in ("r", "read"):
            await self.read_case(ref, now)
            return await self.answer_one(ref, prompt, now, menu)
        if menu and reply in ("m", "more"):
            return await self._more(ref, now)
        if navigation := _navigation(raw):
            return navigation
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
        columns, rows = self._screen()
        case = await asyncio.to_thread(self.service.load, ref)
        lines = case_text(case, now.astimezone(LONDON).date(), columns - 1)
        step = max(rows - 2, 5)  # room for the "more" line
        for start in range(0, len(lines), step):
            self.say("\n".join(lines[start : start + step]))
            if start + step < len(lines):
                more = f"-- {start + step} of {len(lines)} lines: Enter for more, q to stop -- "
                if (await self.read(more)).strip().lower() in ("q", "quit"):
                    return

    def _screen(self) -> tuple[int, int]:
        size = shutil.get_terminal_size()
        return self.screen or (size.columns, size.lines)

    async def _idle(self, skipped: int) -> str:
        """Nothing left to ask: "again" (look again, the skipped questions too), or a move."""
        note = f" ({skipped} skipped: l lists them)" if skipped else ""
        move = "t +3d to move time, " if self.travel else ""
        self.say(
            f"\nNothing else is waiting{note}. Press Enter to look again, l to list what waits, "
            f"g and a reference to go to a case, {move}q to quit."
        )
        raw = (await self.read("> ")).strip()
        if raw.lower() in ("q", "quit"):
            return "quit"
        return _navigation(raw) or "again"

    async def _list(self, items: Sequence[Waiting], skipped: set[tuple[str, str]]) -> tuple[str, str] | None:
        """What waits, numbered, most urgent first; returns the (case, question) picked, if any."""
        if not items:
            self.say("Nothing is waiting for you.")
            return None
        columns, _ = self._screen()
        self.say("\nWhat waits for you, most urgent first:")
        for n, item in enumerate(items, 1):
            mark = "  (skipped)" if (item.ref, item.prompt.id) in skipped else ""
            line = f"{n:>4}) {item.ref}  {_urgency(item)}: {item.prompt.question}"
            room = max(columns - 1 - len(mark), 40)
            self.say((line if len(line) <= room else line[: room - 4] + " ...") + mark)
        reply = (await self.read("Type a number to take it up, or Enter to go on: ")).strip()
        if not reply.isdigit() or not 1 <= int(reply) <= len(items):
            return None
        picked = items[int(reply) - 1]
        return picked.ref, picked.prompt.id

    async def _move_time(self, when: str) -> None:
        """Move the practice clock, running every cycle on the way, and say the new time."""
        if self.travel is None:
            self.say("Time moves only in local mode, with no real mailbox, outbox or Slack.")
            return
        try:
            self.say(await self.travel(when))
        except ValueError as error:
            self.say(f"Time not moved: {error}")

    async def _go(self, ref: str) -> str:
        """The case to stay on, or "" when there is none by that reference."""
        try:
            await asyncio.to_thread(self.service.load, ref)
        except DomainError:
            self.say(f"There is no case {ref}.")
            return ""
        return ref

    async def _at_case(self, ref: str, now: datetime) -> str:
        """A case gone to with nothing (more) waiting on it: read it, or its menu."""
        self.say(
            f"\nNothing waits for you on {ref} now.\n"
            "    r) read the case   m) more on this case   Enter) back to what waits"
        )
        reply = (await self.read("> ")).strip().lower()
        if reply in ("r", "read"):
            await self.read_case(ref, now)
        elif reply in ("m", "more"):
            return await self._more(ref, now)
        return "quit" if reply in ("q", "quit") else "answered"

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
        if field.long or field.kind is FieldKind.LINES:
            return await self._write(field)
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

    async def _write(self, field: Field) -> Any:
        """A long answer or a list: in the handler's editor, opened on the text so far, when one is
        set; otherwise typed, line after line, up to a line holding only ".". A list takes one
        item per line."""
        default = field.default or ()
        current = "\n".join(map(str, default)) if field.kind is FieldKind.LINES else str(field.default or "")
        while True:
            text = await self._edit(field, current) if self.editor else None
            if text is None:
                text = await self._type(field, current)
            lines = [line.rstrip() for line in text.strip("\n").splitlines()]
            if any(line.strip() for line in lines):
                if field.kind is FieldKind.LINES:
                    return [line.strip() for line in lines if line.strip()]
                return "\n".join(lines).strip()
            if not field.required:
                return [] if field.kind is FieldKind.LINES else ""
            self.say("    an answer is needed")

    async def _type(self, field: Field, current: str) -> str:
        """Typed lines up to "."; an empty first line keeps `current`."""
        what = "one per line" if field.kind is FieldKind.LINES else "as many lines as you need"
        keeps = "; Enter on the first line keeps the text below" if current else ""
        self.say(f'    {field.label}\n      ({what}, then a line with only "." to finish{keeps})')
        if current:
            self.say("\n".join(f"      | {line}" for line in current.splitlines()))
        typed: list[str] = []
        while (line := (await self.read("    > ")).rstrip("\r\n")) != ".":
            if not typed and not line.strip():
                return current
            typed.append(line)
        return "\n".join(typed)

    async def _edit(self, field: Field, current: str) -> str | None:
        """The text as the handler left it in their editor; None if the editor could not run."""
        with tempfile.TemporaryDirectory(prefix="jointly-") as folder:
            path = Path(folder) / f"{field.name}.txt"  # in a folder only this user can read
            path.write_text(current + "\n" if current else "", encoding="utf-8")
            self.say(f"    {field.label}: opening {self.editor[0]}; save and close it to go on.")
            try:
                process = await asyncio.create_subprocess_exec(*self.editor, str(path))
                failed = f"it ended with status {code}" if (code := await process.wait()) else ""
            except OSError as error:
                failed = str(error)
            if failed:
                self.say(f"    The editor ({shlex.join(self.editor)}) did not run: {failed}. Type it here.")
                self.editor = []
                return None
            return path.read_text(encoding="utf-8")

    def _parse(self, field: Field, options: tuple[tuple[str, str], ...], raw: str) -> Any:
        if not raw:
            if field.default is None and field.required:
                raise ValueError("an answer is needed")
            return self._plain_default(field)
        kind = field.kind
        if kind is FieldKind.TEXT:
            return raw
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


def editor_command(environ: Mapping[str, str]) -> list[str]:
    """The handler's editor for long answers: $VISUAL, else $EDITOR (with its arguments), else none."""
    return shlex.split(environ.get("VISUAL") or environ.get("EDITOR") or "")


def _navigation(raw: str) -> str:
    """ "list", "go REF" for `g REF`, `go REF` or a bare reference, "time WHEN" for `t WHEN`, or ""
    for anything else."""
    if raw.lower() in ("l", "list"):
        return "list"
    words = raw.split()
    if words and words[0].lower() in ("t", "time"):
        return "time " + " ".join(words[1:])
    if len(words) == 2 and words[0].lower() in ("g", "go"):
        return f"go {words[1].upper()}"
    if len(words) == 1 and REFERENCE.fullmatch(raw.upper()):
        return f"go {raw.upper()}"
    return ""


def _urgency(item: Waiting) -> str:
    if item.due is not None and item.overdue:
        return f"overdue since {item.due.on:%a %d %b %Y}"
    if item.impasse:
        return "impasse"
    return f"by {item.due.on:%a %d %b %Y}" if item.due else "no date"


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
