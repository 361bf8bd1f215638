"""How case threads are drawn and posted in Slack (the `bot.chat.threads.Surface` of Slack).

A thread's root is a channel message holding the case card; questions for the coordinating
handlers are posted in the thread, and those for another organisation's people by direct message
(`conversations.open`, then a message in it).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from bot.chat.refs import ReadRef
from bot.chat.threads import Thread, Where
from bot.config import Person
from bot.slack.blocks import card_text, case_card, done_blocks, notice_blocks, prompt_blocks, text_of
from flows.conversation import Prompt
from flows.model import Case

SLACK = "https://slack.com/"  # thread links when auth.test gives no workspace address


class SlackSurface:
    name, title = "slack", "Slack"

    def __init__(self, client: AsyncWebClient, channel: str) -> None:
        self.client = client
        self.channel = channel
        self.workspace = SLACK

    async def find_workspace(self) -> None:
        """Ask Slack (auth.test) for the workspace's own address, which thread links start with:
        a GovSlack or Enterprise Grid workspace is not at slack.com."""
        answer = await self.client.auth_test()
        self.workspace = str(answer.get("url") or SLACK)

    def link(self, thread: Thread) -> str:
        """The address of a case's thread."""
        return f"{self.workspace.rstrip('/')}/archives/{thread.channel}/p{thread.ts.replace('.', '')}"

    def reaches(self, person: Person) -> bool:
        return bool(person.slack_user_id)

    async def post_card(self, summary: dict[str, Any], today: date) -> Where:
        posted = await self.client.chat_postMessage(
            channel=self.channel, text=card_text(summary), blocks=case_card(summary, today=today)
        )
        return [str(posted["channel"]), str(posted["ts"])]

    async def update_card(self, thread: Thread, summary: dict[str, Any], today: date) -> None:
        await self.client.chat_update(
            channel=thread.channel,
            ts=thread.ts,
            text=card_text(summary),
            blocks=case_card(summary, today=today),
        )

    async def ask(self, case: Case, prompt: Prompt, thread: Thread, person: Person | None) -> Where:
        text, blocks = text_of(case.ref, prompt), prompt_blocks(case.ref, case.version, prompt)
        channel = thread.channel
        in_thread: str | None = thread.ts
        if person is not None:
            channel, in_thread = await self._open(person), None
        posted = await self.client.chat_postMessage(
            channel=channel, thread_ts=in_thread, text=text, blocks=blocks
        )
        return [str(posted["channel"]), str(posted["ts"])]

    async def close(self, where: Where, text: str) -> None:
        await self.client.chat_update(channel=where[0], ts=where[1], text=text, blocks=done_blocks(text))

    async def revise(self, where: Where, case: Case, prompt: Prompt) -> None:
        text, blocks = text_of(case.ref, prompt), prompt_blocks(case.ref, case.version, prompt)
        await self.client.chat_update(channel=where[0], ts=where[1], text=text, blocks=blocks)

    async def notice(self, thread: Thread, text: str, read: ReadRef | None) -> None:
        blocks = notice_blocks(text, read) if read else None
        await self.client.chat_postMessage(
            channel=thread.channel, thread_ts=thread.ts, text=text, blocks=blocks
        )

    async def direct(self, person: Person, text: str) -> bool:
        if not person.slack_user_id:
            return False
        await self.client.chat_postMessage(channel=await self._open(person), text=text)
        return True

    async def _open(self, person: Person) -> str:
        opened = await self.client.conversations_open(users=person.slack_user_id)
        return str(opened["channel"]["id"])
