"""`/complaint` and the App Home tab: logging a phone or in-person complaint, finding a case,
listing what waits for someone, and a case's timeline posted into its thread.

Answered in the ack itself where the answer is short (only the person who typed it sees it).
"""

from __future__ import annotations

import asyncio
import tempfile
from datetime import date
from pathlib import Path
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from bot.chat.answers import not_in_directory, visible, words
from bot.chat.commands import ALREADY_LOGGED, NEW, NEW_FIELDS, find_cases, new_prompt, oral_complaint
from bot.chat.refs import status_words
from bot.chat.threads import CaseThreads, Clock
from bot.chat.waiting import waiting
from bot.config import Config
from bot.directory import actor
from bot.service import CaseService
from bot.slack.blocks import HomeItem, choice_modal, form_values, home_view, notice_modal
from flows.calendar import london_date
from flows.errors import DomainError
from flows.model import Actor, Case, Role
from store.errors import DuplicateKey

NEW_FORM = "jointly:new"

NOT_IN_DIRECTORY = not_in_directory("Slack")

USAGE = (
    "`/complaint new` logs a complaint made by phone or in person. "
    "`/complaint find <reference or name>` finds a case. "
    "`/complaint mine` lists what waits for you. `/complaint timeline <reference>` posts a case's "
    "dates as a picture in its thread. `/complaint help` shows this."
)


def slack_actor(config: Config, user_id: str) -> Actor | None:
    """The person behind a Slack user id, as the core sees them; None for someone not in the directory."""
    person = config.person_by_slack(user_id)
    return actor(person) if person else None


class Commands:
    def __init__(self, config: Config, service: CaseService, threads: CaseThreads, clock: Clock) -> None:
        self.config = config
        self.service = service
        self.threads = threads
        self.clock = clock

    def _actor(self, user_id: str) -> Actor | None:
        return slack_actor(self.config, user_id)

    async def command(self, ack: Any, command: dict[str, Any], client: AsyncWebClient) -> None:
        """`/complaint`: answered in the ack itself (only the person who typed it sees it)."""
        verb, _, rest = str(command.get("text", "")).strip().partition(" ")
        who = self._actor(str(command.get("user_id", "")))
        if who is None:
            await ack(text=NOT_IN_DIRECTORY)
        elif verb == "new" and Role.HANDLER not in who.roles:
            await ack(text="Only a complaint handler can log a complaint.")
        elif verb == "new":
            await ack()
            view = choice_modal(NEW, 0, new_prompt(who), 0, [])
            await client.views_open(trigger_id=command["trigger_id"], view={**view, "callback_id": NEW_FORM})
        elif verb == "find" and rest.strip():
            await ack(text=await asyncio.to_thread(self._find_cases, who, rest.strip()))
        elif verb == "mine":
            await ack(text=await asyncio.to_thread(self._mine, who))
        elif verb == "timeline" and rest.strip():
            await self._timeline(ack, who, rest.strip().upper(), client)
        else:
            await ack(text=USAGE)

    async def _timeline(self, ack: Any, who: Actor, ref: str, client: AsyncWebClient) -> None:
        """The case's dates as a picture, into its thread. The picture shows the reference,
        organisation names and dates only, so it may go where the whole channel sees it."""
        case = await asyncio.to_thread(visible, self.service, who, ref)
        thread = self.threads.thread(ref)
        if case is None:
            await ack(text=f"There is no case {ref}.")
        elif thread is None:
            await ack(
                text=f"{ref} has no thread in the complaints channel yet, so its timeline cannot go there."
            )
        else:
            await ack(text=f"Posting the timeline of {ref} in its thread.")
            with tempfile.TemporaryDirectory(prefix="jointly-timeline-") as folder:
                png = await asyncio.to_thread(self._draw, case, Path(folder))
                await client.files_upload_v2(
                    channel=thread.channel, thread_ts=thread.ts, file=str(png), filename=png.name,
                    title=f"{ref}: timeline",
                )  # fmt: skip

    def _draw(self, case: Case, folder: Path) -> Path:
        from bot.timeline import draw_timeline  # matplotlib takes ~0.4 s to import: only when drawing

        png = folder / f"{case.ref}-timeline.png"
        history = self.service.store.load(case.ref).events
        draw_timeline(case, london_date(self.clock()), png, png.with_suffix(".svg"), history=history)
        return png

    async def new_complaint(self, ack: Any, body: dict[str, Any], view: dict[str, Any]) -> None:
        who = self._actor(body["user"]["id"])
        values, errors = form_values(NEW_FIELDS, view["state"]["values"])
        if who is None or errors:
            await ack(response_action="errors", errors=errors or {"name": NOT_IN_DIRECTORY})
            return
        now = self.clock()
        command = oral_complaint(self.config, who, values, now)
        ref = self.service.new_ref(now, f"slack:{view.get('id', '')}")
        try:
            await asyncio.to_thread(
                self.service.execute, ref, command, now, [f"slack-new:{view.get('id', '')}"]
            )
        except DuplicateKey:  # the same form sent twice: logged once, by the first
            await ack(response_action="update", view=notice_modal(ALREADY_LOGGED))
            return
        except DomainError as error:
            await ack(response_action="errors", errors={"text": words(error)})
            return
        await ack(
            response_action="update",
            view=notice_modal(f"Logged as {ref}. Its thread is in the complaints channel."),
        )
        await self.threads.sync(ref)

    async def home(self, event: dict[str, Any], client: AsyncWebClient) -> None:
        user = str(event.get("user", ""))
        who = self._actor(user)
        items = await asyncio.to_thread(self._home_items, who) if who else []
        await client.views_publish(user_id=user, view=home_view(items, today=london_date(self.clock())))

    def _find_cases(self, who: Actor, needle: str) -> str:
        hits = find_cases(self.config, self.service, who, needle)
        if not hits:
            return f"No case matches '{needle}'."
        return "\n".join(self._line(ref) for ref in hits)

    def _line(self, ref: str, what: str = "") -> str:
        link = self.threads.link(ref)
        summary = self.service.store.summary(ref)
        assert summary is not None, ref  # found just now
        name = f"<{link}|{ref}>" if link else ref
        return f"{name}: {what or status_words(summary.summary['status'])}"

    def _mine(self, who: Actor) -> str:
        tasks = waiting(self.service, who, self.clock())
        if not tasks:
            return "Nothing is waiting for you."
        return "\n".join(self._line(ref, prompt.question) for ref, prompt in tasks[:30])

    def _home_items(self, who: Actor) -> list[HomeItem]:
        summaries = {s.stream: s.summary for s in self.service.store.summaries(open_only=True)}
        items = []
        for ref, prompt in waiting(self.service, who, self.clock()):
            summary = summaries[ref]
            due = summary.get("next_deadline") or {}
            items.append(
                HomeItem(
                    ref=ref,
                    what=prompt.question,
                    due=_day(due.get("on")),
                    status=status_words(summary["status"]),
                    url=self.threads.link(ref),
                )
            )
        return items


def _day(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None
