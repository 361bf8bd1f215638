"""The assistant in Slack mode, its bolt app served over HTTP, against the fake Slack Web API.

Only Slack's own servers are fake (tests/servers/slack.py). Requests reach the real bolt app
signed as Slack signs them; everything the app says comes back as calls recorded by the fake, so a
test sees what a person in Slack would see. The app acknowledges before it works, so tests wait
for the call they expect (never for a time). When a test ends, every Web API method the fake saw
must have its scope in the app manifest (`SCOPE`, `unscoped`).
"""

from __future__ import annotations

import io
import itertools
import json
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

import bot.slack
from bot.app import Assistant
from bot.config import Chat, Config, Slack, local_config
from bot.slack.blocks import ButtonRef
from bot.slack.front import SlackFront
from mail.maildir import MaildirInbox
from mail.settings import MaildirMailbox
from store.ports import open_store
from tests.bot.support import RECEIVED, Clock, InChat, has_fields
from tests.servers.slack import (
    CHANNEL,
    SIGNING_SECRET,
    Call,
    FakeSlack,
    SlackSender,
    block_actions,
    serve_app,
    view_submission,
)

ASHA = "U0TRUST01"  # handler, Northshire Hospitals (the home organisation)
TOM = "U0TRUST02"  # manager and handler, Northshire Hospitals
LENA = "U0COUNC01"  # contributor, the county council
DAVID = "U0COUNC02"  # senior manager, the county council
KOFI = "U0COUNC03"  # complaint handler, the county council
NOBODY = "U0STRANGER"  # not in the directory
MANIFEST = Path(bot.slack.__file__).with_name("manifest.yaml")
SCOPE = {  # the bot scope each Web API method needs, None for none (docs.slack.dev/reference/methods)
    "auth.test": None,
    "chat.postEphemeral": "chat:write",
    "chat.postMessage": "chat:write",
    "chat.update": "chat:write",
    "conversations.open": "im:write",
    "files.completeUploadExternal": "files:write",
    "files.getUploadURLExternal": "files:write",
    "files.upload": "files:write",
    "users.info": "users:read",
    "views.open": None,
    "views.publish": None,
    "views.push": None,
    "views.update": None,
}


def manifest_list(key: str) -> list[str]:
    """The `- item` entries under `key:` in the app manifest (plain YAML; no YAML parser is installed)."""
    lines = [line.split("#")[0].rstrip() for line in MANIFEST.read_text().splitlines()]
    lines = [line for line in lines if line.strip()]
    start = next(n for n, line in enumerate(lines) if line.strip() == f"{key}:")
    depth = len(lines[start]) - len(lines[start].lstrip())
    items = itertools.takewhile(lambda line: len(line) - len(line.lstrip()) > depth, lines[start + 1 :])
    return [line.strip().removeprefix("- ") for line in items]


def unscoped(methods: Iterable[str]) -> dict[str, str]:
    """Each of the Web API `methods` whose scope the manifest does not ask for, with that scope."""
    granted = set(manifest_list("bot"))
    needed = {m: SCOPE.get(m, "unknown: add it to SCOPE") for m in methods}
    return {m: scope for m, scope in needed.items() if scope is not None and scope not in granted}


def slack_config(data_dir: Path, base_url: str) -> Config:
    settings = Slack(mode="http", api_base_url=base_url, complaints_channel=CHANNEL)
    return local_config(data_dir).model_copy(update={"chat": Chat(kind="slack"), "slack": settings})


@dataclass
class Seen:
    """A message the app posted with buttons: where it is and what each button says."""

    channel: str
    ts: str
    buttons: dict[str, tuple[str, str]]  # label -> (action_id, value)
    prompt_id: str


@dataclass
class InSlack(InChat):
    assistant: Assistant
    fake: FakeSlack
    send: SlackSender
    clock: Clock
    inbox: MaildirInbox
    waited: dict[str, int] = field(default_factory=dict)
    message_id: str = "<slack-1@mail.example.org>"

    def letters(self, ref: str) -> list[str]:
        return [e.template for e in self.events(ref) if type(e).__name__ == "LetterQueued"]  # type: ignore[attr-defined]

    async def next_call(self, method: str) -> Call:
        """The first successful call to `method` not yet taken by this method (waiting for it if need be)."""
        count = self.waited.get(method, 0) + 1
        self.waited[method] = count
        return (await self.fake.wait_for(method, count))[count - 1]

    async def asked(self, prompt_id: str) -> Seen:
        """The message asking `prompt_id`, posted now or already."""
        for count in itertools.count(1):
            for call in reversed(await self.fake.wait_for("chat.postMessage", count)):
                found = _buttons(call, prompt_id)
                if found is not None:
                    return found
        raise AssertionError("unreachable")

    async def answered(self, seen: Seen) -> str:
        """The text that replaced a question once its answer was recorded."""
        for count in itertools.count(1):
            for call in await self.fake.wait_for("chat.update", count):
                if call.params["ts"] == seen.ts and "recorded by" in call.params["text"]:
                    return str(call.params["text"])
        raise AssertionError("unreachable")

    async def press(self, user: str, seen: Seen, label: str, **extra: Any) -> tuple[int, str]:
        action_id, value = seen.buttons[label]
        payload = block_actions(user, action_id, value, channel=seen.channel, message_ts=seen.ts, **extra)
        return await self.send.interactive(payload)

    async def submit(self, user: str, modal: dict[str, Any], **answers: Any) -> tuple[int, str]:
        """Submit a form as Slack would: each input as it was shown, with `answers` typed in."""
        values = {
            block["block_id"]: {"value": _state(block["element"], answers.get(block["block_id"]))}
            for block in modal["blocks"]
            if block["type"] == "input"
        }
        payload = view_submission(user, modal["callback_id"], modal.get("private_metadata", ""), values)
        return await self.send.interactive(payload)

    async def form(self, user: str, seen: Seen, label: str, **answers: Any) -> tuple[int, str]:
        """Press a button that opens a form, then submit the form."""
        status, _ = await self.press(user, seen, label)
        assert status == 200
        modal = (await self.next_call("views.open")).params["view"]
        return await self.submit(user, modal, **answers)

    async def ephemeral(self) -> str:
        return str((await self.next_call("chat.postEphemeral")).params["text"])

    # --- the chat-neutral driver of tests/bot/chats (the same calls as `InTeams`) --------------

    async def answer(self, ref: str, person: str, prompt_id: str, choice: str, **values: Any) -> None:
        """`person` (a directory id) answers `prompt_id` on `ref` where Slack shows it to them (the
        case's thread or a direct message): presses `choice`, filling in its form with `values`."""
        front = self.assistant.front
        assert isinstance(front, SlackFront)
        await front.threads.sync(ref)  # after any sync in flight: what Slack shows now
        user = str(self.assistant.config.person(person).slack_user_id)
        seen = self.question(ref, user, prompt_id)
        if has_fields(self.assistant, ref, person, prompt_id, choice):
            answers = {k: v if isinstance(v, list) else _typed_in(v) for k, v in values.items()}
            status, body = await self.form(user, seen, choice, **answers)
            assert status == 200 and "errors" not in body, f"{person} on {prompt_id}: {body}"
        else:
            await self.press(user, seen, choice)
            await self.answered(seen)

    def question(self, ref: str, user: str, prompt_id: str) -> Seen:
        """The message asking `prompt_id` on `ref` in the thread or `user`'s direct messages, as shown now."""
        shown: dict[str, dict[str, Any]] = {}  # ts -> the message's latest params
        for call in self.fake.calls:
            if call.method == "chat.postMessage" and call.answer.get("ok"):
                shown[str(call.answer["ts"])] = call.params | {"channel": call.answer["channel"]}
            elif call.method == "chat.update" and str(call.params.get("ts")) in shown:
                shown[str(call.params["ts"])] |= {"blocks": call.params.get("blocks")}
        for ts, params in reversed(shown.items()):
            if params["channel"] not in (CHANNEL, "D" + user):
                continue
            posted = Call("chat.postMessage", params, None, answer={"channel": params["channel"], "ts": ts})
            found = _buttons(posted, prompt_id)
            if found is not None and _ref_of(found) == ref:
                return found
        raise AssertionError(f"{user} has no message asking {prompt_id} on {ref}")

    def told(self, person: str) -> list[str]:
        """The texts of the direct messages `person` was sent."""
        user = self.assistant.config.person(person).slack_user_id
        return [
            str(c.params.get("text"))
            for c in self.fake.calls_to("chat.postMessage")
            if c.params.get("channel") == f"D{user}"
        ]


def buttons_of(params: dict[str, Any]) -> dict[str, tuple[str, str]]:
    """The buttons of a message as posted: label -> (action id, value)."""
    blocks = params.get("blocks") or []
    if isinstance(blocks, str):
        blocks = json.loads(blocks)
    return {
        e["text"]["text"]: (e["action_id"], e["value"])
        for b in blocks
        if b.get("type") == "actions"
        for e in b["elements"]
        if "value" in e
    }


def sections_of(params: dict[str, Any]) -> list[str]:
    """The texts of a message's section blocks, as posted."""
    blocks = params.get("blocks") or []
    if isinstance(blocks, str):
        blocks = json.loads(blocks)
    return [str(b["text"]["text"]) for b in blocks if b.get("type") == "section"]


def _buttons(call: Call, prompt_id: str) -> Seen | None:
    buttons = buttons_of(call.params)
    for _, value in buttons.values():
        try:
            if ButtonRef.decode(value).prompt_id == prompt_id:
                return Seen(str(call.answer["channel"]), str(call.answer["ts"]), buttons, prompt_id)
        except ValueError:
            continue
    return None


def _typed_in(value: Any) -> str:
    """An answer as Slack reports what was typed or picked: text."""
    return value.isoformat() if isinstance(value, date) else str(value)


def _ref_of(seen: Seen) -> str:
    return next(ButtonRef.decode(value).ref for _, value in seen.buttons.values() if "|" in value)


def _state(element: dict[str, Any], answer: Any) -> dict[str, Any]:
    """The state Slack reports for an input: the answer typed in, else what was shown."""
    kind = element["type"]
    if kind == "datepicker":
        return {"type": kind, "selected_date": answer or element.get("initial_date")}
    if kind in ("plain_text_input", "number_input"):
        return {"type": kind, "value": answer if answer is not None else element.get("initial_value")}
    options = {o["value"]: o for o in element.get("options", [])}
    if kind in ("static_select", "radio_buttons"):
        return {"type": kind, "selected_option": options[answer] if answer else element.get("initial_option")}
    chosen = [options[v] for v in answer] if answer is not None else element.get("initial_options", [])
    return {"type": kind, "selected_options": chosen}


@asynccontextmanager
async def serving(config: Config, fake_slack: FakeSlack, where: str = "") -> AsyncIterator[InSlack]:
    """The assistant configured by `config`, its bolt app served to the fake Slack; its store in
    `config`'s directory, or at `where` (a database several replicas share)."""
    environ = {"SLACK_BOT_TOKEN": "xoxb-test", "SLACK_SIGNING_SECRET": SIGNING_SECRET}
    clock = Clock(RECEIVED + timedelta(minutes=5))
    with open_store(where or config.store_dir) as store:
        assistant = Assistant(config, store, io.StringIO(), clock=clock, environ=environ)
        assert isinstance(assistant.front, SlackFront) and isinstance(config.mailbox, MaildirMailbox)
        await assistant.front.surface.find_workspace()  # as `SlackFront.start` does
        async with serve_app(assistant.front.app) as url:
            yield InSlack(assistant, fake_slack, SlackSender(url, SIGNING_SECRET), clock, assistant.inbox)  # type: ignore[arg-type]
    called = {call.method for call in fake_slack.calls if call.token}  # not the upload itself
    assert unscoped(called) == {}, "the app called Web API methods the manifest has no scope for"


@pytest.fixture
async def slack(tmp_path: Path, fake_slack: FakeSlack) -> AsyncIterator[InSlack]:
    async with serving(slack_config(tmp_path / "var", fake_slack.base_url), fake_slack) as in_slack:
        yield in_slack


async def to_lead_proposed(slack: InSlack) -> str:
    """A two-organisation complaint, by Slack, up to the hospital proposed as lead."""
    ref = await slack.email()
    organisations = await slack.asked("organisations")
    await slack.form(
        ASHA, organisations, "Choose the organisations", orgs=["northshire-trust", "northshire-council"]
    )
    await slack.form(ASHA, await slack.asked("consent"), "Consent given")
    propose = await slack.asked("propose_lead")
    label = next(b for b in propose.buttons if "Northshire Hospitals" in b)
    await slack.form(ASHA, propose, label, criteria=["greatest_responsibility"])
    await slack.asked("lead_answer:northshire-council")
    return ref


async def agree_lead(slack: InSlack) -> None:
    """The person's view recorded in the thread and the council's agreement by direct message."""
    view = await slack.asked("complainant_view")
    await slack.form(ASHA, view, "Record their view", view="Happy for the hospital to lead")
    await slack.press(LENA, await slack.asked("lead_answer:northshire-council"), "Agree")
