"""The assistant in Teams mode, its SDK app served over HTTP, against the fake Teams connector.

Only Microsoft's own servers are fake (tests/servers/teams.py). Activities reach the real SDK app
signed as the Bot Framework signs them, checked by the SDK against the fake's keys; everything the
app says comes back as calls recorded by the fake connector, so a test sees what a person in Teams
would see. People are Entra object ids (`PEOPLE`).
"""

from __future__ import annotations

import io
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.app import Assistant
from bot.chat.refs import ButtonRef
from bot.config import Chat, Config, Teams, local_config
from bot.teams.front import TeamsFront
from mail.maildir import MaildirInbox
from store.ports import open_store
from tests.bot.support import RECEIVED, Clock, InChat
from tests.servers.teams import (
    APP_ID,
    CHANNEL_ID,
    TEAM_ID,
    TEAMS_APP_ID,
    TENANT_ID,
    FakeConnector,
    KeyServer,
    Message,
    TeamsSender,
    app_token,
    personal_conversation_id,
)

PEOPLE = {
    person: str(uuid.uuid5(uuid.NAMESPACE_URL, f"https://jointly.example/{person}"))
    for person in (
        "asha-patel",
        "tom-reed",
        "lena-okafor",
        "kofi-mensah",
        "david-hughes",
        "sam-price",
        "ruth-moss",
    )
}
ASHA, TOM, LENA = PEOPLE["asha-patel"], PEOPLE["tom-reed"], PEOPLE["lena-okafor"]
KOFI, DAVID, SAM, RUTH = (
    PEOPLE["kofi-mensah"],
    PEOPLE["david-hughes"],
    PEOPLE["sam-price"],
    PEOPLE["ruth-moss"],
)
CARD = "application/vnd.microsoft.card.adaptive"
NOBODY = "00000000-0000-4000-8000-0000000000ff"  # not in the directory


def teams_config(data_dir: Path, fake: FakeConnector) -> Config:
    base = local_config(data_dir)
    people = tuple(p.model_copy(update={"teams_user_id": PEOPLE[p.id]}) for p in base.people)
    settings = Teams(
        team_id=TEAM_ID,
        complaints_channel=CHANNEL_ID,
        catalog_app_id=TEAMS_APP_ID,
        service_url=fake.base_url,
        graph_url=fake.graph_url + "/",
        http_host="127.0.0.1",
        http_port=0,
    )
    return base.model_copy(update={"chat": Chat(kind="teams"), "teams": settings, "people": people})


def chat_options(keys: KeyServer) -> dict[str, Any]:
    """The SDK pointed at the test's key server, with a token for the fake connector."""
    from microsoft_teams.api.auth.cloud_environment import PUBLIC, with_overrides

    return {"cloud": with_overrides(PUBLIC, openid_metadata_url=keys.openid_metadata_url), "token": app_token}


@dataclass
class Seen:
    """A message the app posted with a card: where it is and what its actions are."""

    conversation: str  # as posted: a channel thread's id ends in ";messageid=<root>"
    id: str
    actions: dict[str, dict[str, Any]]  # title -> the action as posted
    prompt_id: str = ""


@dataclass
class InTeams(InChat):
    assistant: Assistant
    fake: FakeConnector
    send: TeamsSender
    clock: Clock
    inbox: MaildirInbox
    message_id: str = "<teams-1@mail.example.org>"

    @property
    def front(self) -> TeamsFront:
        assert isinstance(self.assistant.front, TeamsFront)
        return self.assistant.front

    def posted(self) -> Iterator[tuple[str, str, dict[str, Any]]]:
        """(conversation, message id, card) for every card the app posted, oldest first."""
        for call in self.fake.calls_snapshot():
            if not call.ok or call.kind not in ("send", "create_conversation"):
                continue
            body = call.body.get("activity", call.body) if call.kind == "create_conversation" else call.body
            answer = call.answer or {}
            conversation = answer.get("id") if call.kind == "create_conversation" else call.conversation_id
            message_id = answer.get("activityId") if call.kind == "create_conversation" else answer.get("id")
            for attachment in body.get("attachments") or []:
                yield str(conversation), str(message_id), attachment["content"]

    async def asked(self, prompt_id: str) -> Seen:
        """The message asking `prompt_id`, posted now or already (waiting for the next post if need be)."""
        count = 0
        while True:
            for conversation, message_id, card in reversed(list(self.posted())):
                actions = actions_of(card)
                if any(_prompt(a) == prompt_id for a in actions.values()):
                    return Seen(conversation, message_id, actions, prompt_id)
            count = len(self.fake.calls_to("send")) + 1
            await self.fake.wait_for("send", count)

    def latest(self, seen: Seen) -> Message:
        """The message as people see it now."""
        return self.fake.message(seen.id)

    async def press(self, user: str, seen: Seen, title: str) -> tuple[int, Any]:
        """Press an Action.Execute on the card; returns the invoke's answer."""
        action = seen.actions[title]
        activity = self.send.card_action(user, action["verb"], action["data"], seen.conversation, seen.id)
        return await self.send.send(activity)

    async def form(self, user: str, seen: Seen, title: str, **answers: Any) -> tuple[int, Any]:
        """Press a choice, and submit the form the app answers with (for this person only), if any."""
        status, body = await self.press(user, seen, title)
        form = body.get("value") if isinstance(body, dict) and body.get("type") == CARD else None
        if (
            status != 200
            or form is None
            or not any(a.get("verb") == "jointly.form" for a in _walk_actions(form))
        ):
            return status, body
        return await self.submit(user, seen, form, **answers)

    async def answer(self, ref: str, person: str, prompt_id: str, choice: str, **values: Any) -> Any:
        """`person` (a directory id) answers the question `prompt_id` on `ref` where Teams shows it to
        them (the case's thread, or their personal chat): presses `choice`, and fills in the form the
        app answers with, if any, with `values` (the rest as shown). Returns the invoke's answer;
        fails unless the answer was recorded."""
        seen = self.question(ref, person, prompt_id)
        status, body = await self.form(PEOPLE[person], seen, choice, **values)
        assert status == 200 and "recorded by" in str(body), f"{person} on {prompt_id}: {status} {body}"
        return body

    def question(self, ref: str, person: str, prompt_id: str) -> Seen:
        """The card asking `person` `prompt_id` on `ref`, as it is now (not yet answered)."""
        chat = personal_conversation_id(PEOPLE[person])
        for conversation, message_id, _ in reversed(list(self.posted())):
            if conversation != chat and not conversation.endswith(f";messageid={self._root(ref)}"):
                continue
            [card] = self.fake.message(message_id).cards or [{}]
            actions = actions_of(card)
            if any(_prompt(a) == prompt_id and _case(a) == ref for a in actions.values()):
                return Seen(conversation, message_id, actions, prompt_id)
        raise AssertionError(f"{person} has no card asking {prompt_id} on {ref}")

    async def card_of_case(self, ref: str) -> Seen:
        """The case's card, at the root of its thread."""
        root = self._root(ref)
        [card] = self.fake.message(root).cards
        return Seen(f"{CHANNEL_ID};messageid={root}", root, actions_of(card))

    def _root(self, ref: str) -> str:
        thread = self.front.threads.thread(ref)
        assert thread is not None, f"{ref} has no thread"
        return thread.ts

    def told(self, person: str) -> list[str]:
        """The texts of the messages in `person`'s personal chat with the app."""
        return [m.text for m in self.fake.messages(personal_conversation_id(PEOPLE[person]))]

    async def submit(self, user: str, seen: Seen, form: dict[str, Any], **answers: Any) -> tuple[int, Any]:
        """Submit a form card as Teams does: every input's value as a string, `answers` typed in."""
        record = next(a for a in _walk_actions(form) if a.get("verb") == "jointly.form")
        data = dict(record["data"])
        for element in _inputs(form):
            name = element["id"].split(".", 2)[2]
            given = answers.get(name.removesuffix(".time"))
            data[element["id"]] = _typed_in(element, given, name.endswith(".time"))
        activity = self.send.card_action(user, "jointly.form", data, seen.conversation, seen.id)
        return await self.send.send(activity)


def actions_of(card: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The card's actions by title."""
    return {a["title"]: a for a in _walk_actions(card)}


def _walk_actions(card: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield from card.get("actions") or []
    for element in card.get("body") or []:
        if element.get("type") == "ActionSet":
            yield from _walk_actions({"actions": element["actions"]})


def _inputs(card: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for element in card.get("body") or []:
        if str(element.get("type", "")).startswith("Input."):
            yield element
        yield from _inputs({"body": element.get("items") or []})
        for column in element.get("columns") or []:
            yield from _inputs({"body": column.get("items") or []})


def _typed_in(element: dict[str, Any], given: Any, time_part: bool) -> str:
    if given is None:
        return str(element.get("value", ""))
    if isinstance(given, list | tuple):
        return ",".join(given)
    if isinstance(given, date):
        return given.isoformat()
    return str(given)


def _case(action: dict[str, Any]) -> str | None:
    try:
        return ButtonRef.decode(action.get("data", {}).get("button", "")).ref
    except ValueError:
        return None


def _prompt(action: dict[str, Any]) -> str | None:
    """The question an action answers."""
    try:
        return ButtonRef.decode(action.get("data", {}).get("button", "")).prompt_id
    except ValueError:
        return None


@asynccontextmanager
async def serving(
    config: Config, keys: KeyServer, fake: FakeConnector, where: str = ""
) -> AsyncIterator[InTeams]:
    """The assistant configured by `config`, its Teams front serving on a free port; its store in
    `config`'s directory, or at `where` (a database several replicas share)."""
    environ = {"CLIENT_ID": APP_ID, "TENANT_ID": TENANT_ID}
    clock = Clock(RECEIVED + timedelta(minutes=5))
    with open_store(where or config.store_dir) as store:
        options = chat_options(keys)
        assistant = Assistant(
            config, store, io.StringIO(), clock=clock, environ=environ, chat_options=options
        )
        front = assistant.front
        assert isinstance(front, TeamsFront) and isinstance(assistant.inbox, MaildirInbox)
        await front.start()
        try:
            sender = TeamsSender(f"http://127.0.0.1:{front.port}/api/messages", keys, fake.base_url)
            yield InTeams(assistant, fake, sender, clock, assistant.inbox)
        finally:
            await front.stop()


@pytest.fixture
async def teams(
    tmp_path: Path, teams_env: None, teams_keys: KeyServer, fake_teams: FakeConnector
) -> AsyncIterator[InTeams]:
    fake_teams.install(ASHA, TOM, LENA, KOFI, DAVID)
    async with serving(teams_config(tmp_path / "var", fake_teams), teams_keys, fake_teams) as in_teams:
        yield in_teams
