"""How case threads are drawn and posted in Microsoft Teams (the `bot.chat.threads.Surface` of Teams).

A thread's root is a post in the complaints channel holding the case card; questions for the
coordinating handlers are replies in that thread, and those for another organisation's people go to
their personal chat with the app. A personal chat needs the app installed for the person: when
Teams refuses one, the app is installed for them through Microsoft Graph (with the catalogue id
configured) and the chat tried again; when that is refused too, the person is `Unreachable` and the
handlers are told.

The SDK does not retry: a 429 or a 5xx is tried again here (honouring Retry-After, twice), and
anything Teams still refuses raises, so the thread's cursor keeps what is still to post.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any, TypeVar
from urllib.parse import quote, urlencode

import httpx
from microsoft_teams.api.activities.message import MessageActivityInput
from microsoft_teams.api.clients import ApiClient
from microsoft_teams.api.clients.conversation import CreateConversationParams
from microsoft_teams.api.models import Account, Attachment

from bot.chat.refs import ReadRef
from bot.chat.threads import Thread, Unreachable, Where
from bot.config import Person, Teams
from bot.service import CaseService
from bot.teams.cards import Card, card_text, case_card, done_card, notice_card, prompt_card, text_of
from flows.conversation import Prompt
from flows.model import Case

log = logging.getLogger("jointly.teams")
ADAPTIVE_CARD = "application/vnd.microsoft.card.adaptive"
RETRIES = 2
RETRY_CAP_SECONDS = 30.0
T = TypeVar("T")
GraphToken = Callable[[], Awaitable[str]]


def message(text: str, card: Card | None = None) -> MessageActivityInput:
    """A message: `text` is what notifications and screen readers show; `card` what people see."""
    activity = MessageActivityInput(text=text)
    if card is not None:
        activity.add_attachments(Attachment(content_type=ADAPTIVE_CARD, content=card))
    return activity


def threaded(channel: str, root: str) -> str:
    """The conversation id of the thread under post `root` in `channel`."""
    return f"{channel.split(';')[0]};messageid={root}"


async def retrying(call: Callable[[], Awaitable[T]]) -> T:
    """`call`, tried again after a 429 or a 5xx as Teams asks (Retry-After), at most `RETRIES` times."""
    for attempt in range(RETRIES + 1):
        try:
            return await call()
        except httpx.HTTPStatusError as error:
            status = error.response.status_code
            if attempt == RETRIES or not (status == 429 or status >= 500):
                raise
            wait = error.response.headers.get("Retry-After", "1")
            await asyncio.sleep(min(float(wait) if wait.isdigit() else 1.0, RETRY_CAP_SECONDS))
    raise AssertionError("unreachable")


class TeamsSurface:
    name, title = "teams", "Teams"

    def __init__(
        self,
        api: ApiClient,
        settings: Teams,
        tenant_id: str,
        service: CaseService,
        graph_token: GraphToken,
    ) -> None:
        self.api = api
        self.settings = settings
        self.tenant_id = tenant_id
        self.service = service
        self.graph_token = graph_token

    def reaches(self, person: Person) -> bool:
        return bool(person.teams_user_id)

    def link(self, thread: Thread) -> str:
        """A link that opens the thread in Teams."""
        query = urlencode(
            {"tenantId": self.tenant_id, "groupId": self.settings.team_id, "parentMessageId": thread.ts}
        )
        return f"https://teams.microsoft.com/l/message/{quote(thread.channel)}/{thread.ts}?{query}"

    async def post_card(self, summary: dict[str, Any], today: date) -> Where:
        params = CreateConversationParams.model_validate(
            {
                "isGroup": True,  # not a field of the SDK's model (kept as an extra); Teams requires it
                "channelData": {"channel": {"id": self.settings.complaints_channel}},
                "activity": message(card_text(summary), case_card(summary, today=today)),
                "tenantId": self.tenant_id,
            }
        )
        made = await retrying(lambda: self.api.conversations.create(params))
        if not made.activity_id:
            raise RuntimeError("Teams made the channel post but gave no message id")
        return [self.settings.complaints_channel, made.activity_id]

    async def update_card(self, thread: Thread, summary: dict[str, Any], today: date) -> None:
        activity = message(card_text(summary), case_card(summary, today=today))
        await self._update([threaded(thread.channel, thread.ts), thread.ts], activity)

    async def ask(self, case: Case, prompt: Prompt, thread: Thread, person: Person | None) -> Where:
        activity = message(text_of(case.ref, prompt), prompt_card(case.ref, case.version, prompt))
        if person is not None:
            return await self.send_to(person, activity)
        return await self._send(threaded(thread.channel, thread.ts), activity)

    async def close(self, where: Where, text: str) -> None:
        await self._update(where, message(text, done_card(text)))

    async def revise(self, where: Where, case: Case, prompt: Prompt) -> None:
        card = prompt_card(case.ref, case.version, prompt)
        await self._update(where, message(text_of(case.ref, prompt), card))

    async def notice(self, thread: Thread, text: str, read: ReadRef | None) -> None:
        card = notice_card(text, read) if read else None
        await self._send(threaded(thread.channel, thread.ts), message(text, card))

    async def direct(self, person: Person, text: str) -> bool:
        if not person.teams_user_id:
            return False
        try:
            await self.send_to(person, message(text))
        except Unreachable as error:
            log.warning("%s cannot be reached in Teams: %s", person.id, error)
            return False
        return True

    async def send_to(self, person: Person, activity: MessageActivityInput) -> Where:
        """A message to one person's personal chat (`Unreachable` if there can be none). A chat
        remembered from before that Teams now refuses (the app removed since) is made again."""
        try:
            return await self._send(await self._personal(person), activity)
        except httpx.HTTPStatusError as error:
            if error.response.status_code != 403:
                raise
        return await self._send(await self._personal(person, again=True), activity)

    async def _send(self, conversation: str, activity: MessageActivityInput) -> Where:
        sent = await retrying(lambda: self.api.conversations.create_activity(conversation, activity))
        return [conversation, sent.id]

    async def _update(self, where: Where, activity: MessageActivityInput) -> None:
        await retrying(lambda: self.api.conversations.update_activity(where[0], where[1], activity))

    async def _personal(self, person: Person, again: bool = False) -> str:
        """The person's personal chat with the app: remembered (unless made `again`), else made,
        installing the app for them if Teams says it is not."""
        key = f"teams-chat.{person.id}"
        saved = self.service.store.get_cursor(key)
        if saved and not again:
            return str(saved["id"])
        if not person.teams_user_id:
            raise Unreachable("no Teams id in the directory")
        try:
            chat = await self._open(person.teams_user_id)
        except httpx.HTTPStatusError as error:
            if error.response.status_code != 403:
                raise
            await self._install(person.teams_user_id)
            chat = await self._open(person.teams_user_id)
        self.service.store.set_cursor(key, {"id": chat})
        return chat

    async def _open(self, user: str) -> str:
        params = CreateConversationParams(members=[Account(id=user)], tenant_id=self.tenant_id)
        made = await retrying(lambda: self.api.conversations.create(params))
        return made.id

    async def _install(self, user: str) -> None:
        """Install the app for `user` (Graph, TeamsAppInstallation.ReadWriteForUser.All)."""
        app_id = self.settings.catalog_app_id
        if not app_id:
            raise Unreachable("the app is not installed for them, and teams.catalog_app_id is not set")
        url = f"{self.settings.graph_url}users/{quote(user)}/teamwork/installedApps"
        bind = {"teamsApp@odata.bind": f"{self.settings.graph_url}appCatalogs/teamsApps/{quote(app_id)}"}
        headers = {"Authorization": f"Bearer {await self.graph_token()}"}
        async with httpx.AsyncClient() as graph:
            answer = await graph.post(url, json=bind, headers=headers)
        if answer.status_code not in (201, 409):  # 409: installed meanwhile
            reason = _graph_error(answer)
            raise Unreachable(f"the app could not be installed for them ({reason})")
        log.info("teams: installed the app for %s", user)


def _graph_error(answer: httpx.Response) -> str:
    try:
        return str(answer.json()["error"]["message"])
    except (ValueError, KeyError, TypeError):
        return f"HTTP {answer.status_code}"
