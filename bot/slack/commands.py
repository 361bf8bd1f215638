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
from bot.chat.refs import status_words
from bot.chat.threads import CaseThreads, Clock
from bot.chat.waiting import waiting
from bot.config import Config
from bot.directory import actor, org_ref, spot_organisations
from bot.service import CaseService
from bot.slack.blocks import HomeItem, choice_modal, form_values, home_view, notice_modal
from flows import commands as c
from flows.calendar import london_date
from flows.conversation import Choice, Field, FieldKind, Prompt
from flows.errors import DomainError
from flows.model import Actor, Case, Channel, Person, Role
from store.errors import DuplicateKey

NEW_FORM = "jointly:new"

NOT_IN_DIRECTORY = not_in_directory("Slack")

USAGE = (
    "`/complaint new` logs a complaint made by phone or in person. "
    "`/complaint find <reference or name>` finds a case. "
    "`/complaint mine` lists what waits for you. `/complaint timeline <reference>` posts a case's "
    "dates as a picture in its thread. `/complaint help` shows this."
)

ORAL = (Channel.PHONE, Channel.IN_PERSON, Channel.LETTER)

NEW_FIELDS = (
    Field("channel", "How was it made?", FieldKind.CHOICE,
          tuple((ch.value, ch.value.replace("_", " ")) for ch in ORAL), default=Channel.PHONE.value),
    Field("name", "The person's name", FieldKind.TEXT),
    Field("email", "Their email (for the written record)", FieldKind.TEXT, required=False),
    Field("phone", "Their phone", FieldKind.TEXT, required=False),
    Field("subject", "In a few words", FieldKind.TEXT),
    Field("text", "The complaint, as the person put it", FieldKind.TEXT),
)  # fmt: skip


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
            view = choice_modal("New complaint", 0, _new_prompt(who), 0, [])
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
        text = str(values["text"])
        command = c.ReceiveComplaint(
            actor=who,
            channel=Channel(values["channel"]),
            received_at=now,
            complainant=Person(
                str(values["name"]), str(values.get("email", "")), str(values.get("phone", ""))
            ),
            home_org=org_ref(self.config, self.config.service.home_organisation),
            subject=str(values["subject"]),
            text=text,
            suggested_orgs=spot_organisations(self.config, text),
        )
        ref = self.service.new_ref(now, f"slack:{view.get('id', '')}")
        try:
            await asyncio.to_thread(
                self.service.execute, ref, command, now, [f"slack-new:{view.get('id', '')}"]
            )
        except DuplicateKey:
            pass
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
        found = visible(self.service, who, needle.upper())
        hits = [found.ref] if found else []
        if not hits and who.org_id == self.config.service.home_organisation and Role.HANDLER in who.roles:
            summaries = [s for s in self.service.store.summaries() if s.stream.startswith("JC-")]
            folded = needle.casefold()
            hits = [
                s.stream
                for s in summaries
                if s.summary.get("open") and folded in self.service.load(s.stream).complainant.name.casefold()
            ]
        if not hits:
            return f"No case matches '{needle}'."
        return "\n".join(self._line(ref) for ref in sorted(hits)[:20])

    def _line(self, ref: str, what: str = "") -> str:
        link = self.threads.link(ref)
        summary = next(s.summary for s in self.service.store.summaries() if s.stream == ref)
        name = f"<{link}|{ref}>" if link else ref
        return f"{name}: {what or status_words(summary['status'])}"

    def _mine(self, who: Actor) -> str:
        tasks = waiting(self.service, who, self.clock())
        if not tasks:
            return "Nothing is waiting for you."
        return "\n".join(self._line(ref, prompt.question) for ref, prompt in tasks[:30])

    def _home_items(self, who: Actor) -> list[HomeItem]:
        summaries = {s.stream: s.summary for s in self.service.store.summaries()}
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


def _new_prompt(who: Actor) -> Prompt:
    """The oral complaint form, as a question whose fields the modal renders."""
    placeholder = c.WithdrawComplaint(actor=who)  # never run: the form builds a ReceiveComplaint
    return Prompt(
        "new", "A complaint made by phone or in person", (Choice("Log it", placeholder, NEW_FIELDS),)
    )


def _day(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None
