"""A local fake of Slack for tests: the Web API, Socket Mode, and signed requests to an app in HTTP mode.

The real `slack_sdk` clients and the real `slack_bolt` app talk to it, so tests check what reaches
Slack (which API methods, with which parameters) instead of patching the libraries.

- `FakeSlack`: an aiohttp server on 127.0.0.1 and a free port. Point a client at `base_url`
  (``AsyncWebClient(token=..., base_url=fake.base_url)``). Every call is recorded as a `Call`;
  answers have the shapes of Slack's documentation (`set_answer()` replaces one; auth.test gives
  the workspace's address as `WORKSPACE_URL`, not slack.com's). `fail()`,
  `down()` and `up()` make it answer 429/500/503 for outage tests; `wait_for()` waits without
  sleeping. Its ``/link/`` websocket is the Socket Mode server that `apps.connections.open` points
  to: `push()` sends an envelope to the connected app and returns the app's acknowledgement.
  File uploads work as Slack's do (`files_upload_v2`): `files.getUploadURLExternal` gives an upload
  URL on the fake, the bytes POSTed there are kept in `uploads` (by file id) and recorded as an
  ``upload`` call, and `files.completeUploadExternal` shares the uploaded files.
- ``fake_slack`` fixture (with ``pytest_plugins = ["tests.servers.slack"]``): a started `FakeSlack`.
- `serve_app()`: serves an `AsyncApp` in HTTP mode on a free port; `SlackSender` posts to it what
  Slack would (events, interactions, slash commands), signed with `sign()`.
- Payload builders (`block_actions`, `view_submission`, `message_event`, `app_home_opened`,
  `event_callback`, `slash_command`) make bodies with Slack's documented shapes for team `TEAM_ID`.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
import time
import uuid
from collections import deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import aiohttp
import pytest
from aiohttp import web
from slack_bolt.async_app import AsyncApp

HOST = "127.0.0.1"
TEAM_ID, TEAM_DOMAIN, APP_ID = "T0JOINTLY", "jointly", "A0JOINTLY"
BOT_USER_ID, BOT_ID = "UBOT0001", "BBOT0001"
SIGNING_SECRET = "jointly-test-signing-secret"
VERIFICATION_TOKEN = "deprecated-verification-token"
CHANNEL = "C0COMPLAINTS"
WORKSPACE_URL = "https://northshire-nhs.enterprise.slack.com/"  # auth.test's url: not slack.com's
_ERRORS = {429: "ratelimited", 500: "internal_error", 503: "service_unavailable"}
_SLACKBOT = "Slackbot 1.0 (+https://api.slack.com/robots)"

Params = dict[str, Any]
Answer = Params | Callable[[Params], Params]
Reply = tuple[int, str]  # HTTP status and body text


@dataclass(frozen=True)
class Call:
    """One Web API call as the fake received it; `failed` when a failure switch answered it."""

    method: str
    params: Params
    token: str | None
    failed: bool = False
    answer: Params = field(default_factory=dict)  # what the fake answered


class FakeSlack:
    """Slack's Web API and Socket Mode server, local, recording every call (see the module docstring)."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.acks: list[dict[str, Any]] = []
        self.port = 0
        self._runner: web.AppRunner | None = None
        self._changed = asyncio.Condition()
        self._failures: dict[str, deque[web.Response]] = {}
        self._down = False
        self._answers: dict[str, Answer] = {}
        self._builtin = self._builtin_answers()
        self._ts = itertools.count(1_764_000_000_000_100, 100)
        self._view_ids = itertools.count(1)
        self._tickets: set[str] = set()
        self._sockets: list[web.WebSocketResponse] = []
        self._connected = asyncio.Event()
        self._pending: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self.uploads: dict[str, bytes] = {}  # file id -> the bytes uploaded
        self._upload_names: dict[str, str] = {}  # file id -> filename, from getUploadURLExternal
        self._file_ids = itertools.count(1)

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}/api/"

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_get("/link/", self._link)
        app.router.add_post("/upload/v1/{file_id}", self._upload)
        self._runner, self.port = await _serve(app)

    async def close(self) -> None:
        for socket in list(self._sockets):
            await socket.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # -- what tests look at and switch ---------------------------------------------------------

    def calls_to(self, method: str) -> list[Call]:
        """Every attempt at `method`, failed ones included (see `Call.failed`)."""
        return [call for call in self.calls if call.method == method]

    async def wait_for(self, method: str, count: int = 1, timeout: float = 5) -> list[Call]:
        """The successful calls to `method`, once there are at least `count` of them."""

        def done() -> bool:
            return len(self._succeeded(method)) >= count

        try:
            async with asyncio.timeout(timeout), self._changed:
                await self._changed.wait_for(done)
        except TimeoutError:
            seen = [call.method for call in self.calls]
            raise AssertionError(f"expected {count} call(s) to {method} in {timeout}s; saw {seen}") from None
        return self._succeeded(method)

    def set_answer(self, method: str, answer: Answer) -> None:
        """From now on answer `method` with this JSON body, or with what `answer(params)` returns."""
        self._answers[method] = answer

    def fail(self, method: str, status: int = 429, times: int = 1, retry_after: int = 1) -> None:
        """Answer the next `times` calls to `method` with HTTP `status` (429 comes with Retry-After)."""
        if status not in _ERRORS:
            raise ValueError(f"fail() knows statuses {sorted(_ERRORS)}, not {status}")
        failures = self._failures.setdefault(method, deque())
        failures.extend(_failure(status, retry_after) for _ in range(times))

    def down(self) -> None:
        """Answer every call (and every Socket Mode connection) with 503 until `up()`."""
        self._down = True

    def up(self) -> None:
        self._down = False

    # -- Socket Mode ---------------------------------------------------------------------------

    async def wait_connected(self, timeout: float = 5) -> None:
        try:
            async with asyncio.timeout(timeout):
                await self._connected.wait()
        except TimeoutError:
            raise AssertionError(f"no Socket Mode client connected in {timeout}s") from None

    async def push(
        self,
        envelope_type: str,
        payload: dict[str, Any],
        accepts_response_payload: bool = False,
        *,
        retry_attempt: int = 0,
        retry_reason: str = "",
        timeout: float = 5,
    ) -> dict[str, Any]:
        """Send an envelope ("events_api", "interactive", "slash_commands") and return its ack.

        Bolt sends no ack at all when its answer is not 200 (no listener matched, for one), so a
        missing ack fails here after `timeout` seconds. Events carry `retry_attempt` as Slack's do,
        and Bolt turns it into an ``x-slack-retry-num`` header even when it is 0.
        """
        if not self._sockets:
            raise AssertionError("no Socket Mode client is connected")
        envelope_id = str(uuid.uuid4())
        envelope = {
            "envelope_id": envelope_id,
            "type": envelope_type,
            "payload": payload,
            "accepts_response_payload": accepts_response_payload,
        }
        if envelope_type == "events_api":
            envelope |= {"retry_attempt": retry_attempt, "retry_reason": retry_reason}
        ack: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[envelope_id] = ack
        try:
            await self._sockets[-1].send_json(envelope)
            async with asyncio.timeout(timeout):
                return await ack
        except TimeoutError:
            raise AssertionError(f"no ack for {envelope_type} envelope {envelope_id} in {timeout}s") from None
        finally:
            del self._pending[envelope_id]

    async def _link(self, request: web.Request) -> web.StreamResponse:
        if self._down:
            return web.Response(status=503)
        if request.query.get("ticket") not in self._tickets:
            return web.Response(status=401, text="unknown ticket")
        socket = web.WebSocketResponse()  # answers the client's pings itself (autoping)
        await socket.prepare(request)
        self._sockets.append(socket)
        self._connected.set()
        await socket.send_json(
            {
                "type": "hello",
                "num_connections": len(self._sockets),
                "debug_info": {"host": "applink-fake", "build_number": 1, "approximate_connection_time": 1},
                "connection_info": {"app_id": APP_ID},
            }
        )
        try:
            async for message in socket:
                if message.type == aiohttp.WSMsgType.TEXT:
                    self._acknowledged(json.loads(message.data))
        finally:
            self._sockets.remove(socket)
            if not self._sockets:
                self._connected.clear()
        return socket

    def _acknowledged(self, ack: dict[str, Any]) -> None:
        self.acks.append(ack)
        pending = self._pending.get(ack.get("envelope_id", ""))
        if pending is not None and not pending.done():
            pending.set_result(ack)

    # -- the Web API ---------------------------------------------------------------------------

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params: Params = dict(request.query)
        if request.content_type == "application/json":
            params |= await request.json()
        elif request.method == "POST":
            params |= dict(await request.post())
        auth = request.headers.get("Authorization", "")
        token = params.pop("token", None)
        token = auth.removeprefix("Bearer ") if auth.startswith("Bearer ") else token
        failure = _failure(503) if self._down else self._next_failure(method)
        if failure is not None:
            await self._record(Call(method, params, token, failed=True))
            return failure
        answer = self._answer(method, params, token) if token else {"ok": False, "error": "not_authed"}
        await self._record(Call(method, params, token, answer=answer))
        return web.json_response(answer)

    def _next_failure(self, method: str) -> web.Response | None:
        queue = self._failures.get(method)
        return queue.popleft() if queue else None

    async def _record(self, call: Call) -> None:
        async with self._changed:
            self.calls.append(call)
            self._changed.notify_all()

    def _succeeded(self, method: str) -> list[Call]:
        return [call for call in self.calls_to(method) if not call.failed]

    def _answer(self, method: str, params: Params, token: str) -> Params:
        override = self._answers.get(method)
        if override is not None:
            return override(params) if callable(override) else override
        if method == "apps.connections.open":
            if not token.startswith("xapp-"):
                return {"ok": False, "error": "not_allowed_token_type"}
            ticket = str(uuid.uuid4())
            self._tickets.add(ticket)
            return {"ok": True, "url": f"ws://{HOST}:{self.port}/link/?ticket={ticket}&app_id={APP_ID}"}
        answer = self._builtin.get(method)
        return {"ok": True, **answer(params)} if answer else {"ok": False, "error": "unknown_method"}

    def _builtin_answers(self) -> dict[str, Callable[[Params], Params]]:
        view = self._view
        return {
            "auth.test": lambda p: {
                "url": WORKSPACE_URL, "team": "Jointly", "user": "jointly",
                "team_id": TEAM_ID, "user_id": BOT_USER_ID, "bot_id": BOT_ID, "is_enterprise_install": False,
            },
            "chat.postMessage": self._post_message,
            "chat.update": lambda p: {
                "channel": p["channel"], "ts": p["ts"], "text": p.get("text", ""),
                "message": {"text": p.get("text", ""), "user": BOT_USER_ID, "blocks": _decoded(p, "blocks")},
            },
            "chat.postEphemeral": lambda p: {"message_ts": self._next_ts()},
            "chat.getPermalink": lambda p: {
                "channel": p["channel"],
                "permalink": f"{WORKSPACE_URL}archives/{p['channel']}/p"
                + str(p["message_ts"]).replace(".", ""),
            },
            "views.open": view, "views.update": view, "views.push": view, "views.publish": view,
            "conversations.open": lambda p: {"channel": {"id": "D" + str(p["users"]).split(",")[0]}},
            "users.info": lambda p: {"user": _user(str(p["user"]))},
            "files.getUploadURLExternal": self._upload_url,
            "files.completeUploadExternal": self._complete_upload,
        }  # fmt: skip

    # -- file uploads (files_upload_v2) --------------------------------------------------------

    def _upload_url(self, params: Params) -> Params:
        if not params.get("filename") or not str(params.get("length", "")).isdigit():
            return {"ok": False, "error": "invalid_arguments"}
        file_id = f"F0FAKE{next(self._file_ids):04d}"
        self._upload_names[file_id] = str(params["filename"])
        return {"upload_url": f"http://{HOST}:{self.port}/upload/v1/{file_id}", "file_id": file_id}

    async def _upload(self, request: web.Request) -> web.Response:
        """The upload URL: Slack answers a good upload with a plain-text 'OK - <size>'."""
        file_id = request.match_info["file_id"]
        if self._down:
            return _failure(503)
        if file_id not in self._upload_names:
            return web.Response(status=404, text="unknown upload", content_type="text/plain")
        data = await request.read()
        self.uploads[file_id] = data
        await self._record(Call("upload", {"file_id": file_id, "size": len(data)}, None))
        return web.Response(text=f"OK - {len(data)}", content_type="text/plain")

    def _complete_upload(self, params: Params) -> Params:
        files = _decoded(params, "files") or []
        if not files or any(f.get("id") not in self.uploads for f in files):
            return {"ok": False, "error": "file_not_found"}
        channel = params.get("channel_id")
        return {
            "files": [
                {"id": f["id"], "name": self._upload_names[f["id"]], "title": f.get("title", ""),
                 "size": len(self.uploads[f["id"]]), "channels": [channel] if channel else []}
                for f in files
            ]
        }  # fmt: skip

    def _post_message(self, params: Params) -> Params:
        ts = self._next_ts()
        message = {
            "type": "message", "user": BOT_USER_ID, "bot_id": BOT_ID, "app_id": APP_ID, "team": TEAM_ID,
            "text": params.get("text", ""), "ts": ts, "blocks": _decoded(params, "blocks"),
        }  # fmt: skip
        if params.get("thread_ts"):
            message["thread_ts"] = params["thread_ts"]
        return {"channel": params["channel"], "ts": ts, "message": message}

    def _view(self, params: Params) -> Params:
        sent = _decoded(params, "view") or {}
        view_id = params.get("view_id") or f"V0FAKE{next(self._view_ids):04d}"
        view: Params = {
            "id": view_id, "team_id": TEAM_ID, "app_id": APP_ID, "bot_id": BOT_ID, "root_view_id": view_id,
            "previous_view_id": None, "hash": f"{int(time.time())}.{uuid.uuid4().hex[:8]}",
            "private_metadata": "", "callback_id": "", "external_id": "", "state": {"values": {}},
        }  # fmt: skip
        return {"view": view | sent | {"id": view_id}}

    def _next_ts(self) -> str:
        micros = next(self._ts)
        return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"


def _failure(status: int, retry_after: int = 1) -> web.Response:
    headers = {"Retry-After": str(retry_after)} if status == 429 else None
    return web.json_response({"ok": False, "error": _ERRORS[status]}, status=status, headers=headers)


def _decoded(params: Params, name: str) -> Any:
    """A JSON-valued parameter: a dict or list in a JSON body, a JSON string in a form or query."""
    value = params.get(name)
    return json.loads(value) if isinstance(value, str) else value


def _user(user_id: str) -> Params:
    name = user_id.lower()
    return {
        "id": user_id, "team_id": TEAM_ID, "name": name, "real_name": f"User {user_id}", "deleted": False,
        "is_bot": False, "profile": {"real_name": f"User {user_id}", "email": f"{name}@example.nhs.uk"},
    }  # fmt: skip


async def _serve(app: web.Application) -> tuple[web.AppRunner, int]:
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, HOST, 0).start()
    port: int = runner.addresses[0][1]
    return runner, port


@asynccontextmanager
async def serve_app(app: AsyncApp, path: str = "/slack/events") -> AsyncIterator[str]:
    """Serve a Bolt app in HTTP mode on a free port; yields the URL Slack would post to."""
    runner, port = await _serve(app.web_app(path))
    try:
        yield f"http://{HOST}:{port}{path}"
    finally:
        await runner.cleanup()


@pytest.fixture
async def fake_slack() -> AsyncIterator[FakeSlack]:
    fake = FakeSlack()
    await fake.start()
    try:
        yield fake
    finally:
        await fake.close()


# -- requests from Slack to an app in HTTP mode ------------------------------------------------


def sign(secret: str, body: bytes, timestamp: int) -> dict[str, str]:
    """The headers Slack signs a request with: HMAC-SHA256 of ``v0:{timestamp}:{body}``."""
    base = f"v0:{timestamp}:".encode() + body
    digest = hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": str(timestamp), "X-Slack-Signature": f"v0={digest}"}


class SlackSender:
    """Posts signed requests to an app's URL as Slack does; every method returns (status, body)."""

    def __init__(self, url: str, signing_secret: str, clock: Callable[[], float] = time.time) -> None:
        self.url = url
        self.signing_secret = signing_secret
        self.clock = clock

    async def event(self, event: dict[str, Any], event_id: str, retry_num: int | None = None) -> Reply:
        body = json.dumps(event_callback(event, event_id, int(self.clock()))).encode()
        headers = {"Content-Type": "application/json"}
        if retry_num is not None:
            headers |= {"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": "http_timeout"}
        return await self._signed(body, headers)

    async def interactive(self, payload: dict[str, Any]) -> Reply:
        return await self._form({"payload": json.dumps(payload)})

    async def command(self, **fields: str) -> Reply:
        """A slash command; `fields` replace the defaults (``command="/jointly"``, ``text=""``, ...)."""
        return await self._form(slash_command(**fields))

    async def raw(self, body: bytes, headers: dict[str, str]) -> Reply:
        """Exactly these bytes and headers: for missing, bad or stale signatures."""
        async with (
            aiohttp.ClientSession() as session,
            session.post(self.url, data=body, headers=headers) as response,
        ):
            return response.status, await response.text()

    async def _form(self, fields: dict[str, str]) -> Reply:
        body = urlencode(fields).encode()
        return await self._signed(body, {"Content-Type": "application/x-www-form-urlencoded"})

    async def _signed(self, body: bytes, headers: dict[str, str]) -> Reply:
        signature = sign(self.signing_secret, body, int(self.clock()))
        return await self.raw(body, {"User-Agent": _SLACKBOT} | headers | signature)


# -- payloads ----------------------------------------------------------------------------------


def event_callback(event: dict[str, Any], event_id: str, event_time: int | None = None) -> dict[str, Any]:
    """The Events API envelope around `event` (the body in HTTP mode, the payload in Socket Mode)."""
    authorization = {
        "enterprise_id": None, "team_id": TEAM_ID, "user_id": BOT_USER_ID, "is_bot": True,
        "is_enterprise_install": False,
    }  # fmt: skip
    return {
        "token": VERIFICATION_TOKEN, "team_id": TEAM_ID, "context_team_id": TEAM_ID,
        "context_enterprise_id": None, "api_app_id": APP_ID, "event": event, "type": "event_callback",
        "event_id": event_id, "event_time": int(time.time()) if event_time is None else event_time,
        "authorizations": [authorization], "is_ext_shared_channel": False, "event_context": f"4-{event_id}",
    }  # fmt: skip


def slash_command(**fields: str) -> dict[str, str]:
    """The form fields of a slash command; `fields` replace the defaults."""
    defaults = {
        "token": VERIFICATION_TOKEN, "team_id": TEAM_ID, "team_domain": TEAM_DOMAIN, "channel_id": CHANNEL,
        "channel_name": "complaints", "user_id": "U0CASEWORKER", "user_name": "caseworker",
        "command": "/jointly", "text": "", "api_app_id": APP_ID, "is_enterprise_install": "false",
        "response_url": f"https://hooks.slack.com/commands/{TEAM_ID}/1/fake", "trigger_id": _trigger_id(),
    }  # fmt: skip
    return defaults | fields


def block_actions(
    user_id: str,
    action_id: str,
    value: str,
    *,
    block_id: str = "b",
    channel: str = CHANNEL,
    message_ts: str = "1764000000.000100",
    thread_ts: str | None = None,
    container_type: str = "message",
    view: dict[str, Any] | None = None,
    trigger_id: str | None = None,
    action_ts: str = "1764000100.000001",
) -> dict[str, Any]:
    """A button click: on a message in `channel`, or (``container_type="view"``) in a modal or Home tab."""
    payload: dict[str, Any] = {
        "type": "block_actions", "user": _payload_user(user_id), "api_app_id": APP_ID,
        "token": VERIFICATION_TOKEN, "trigger_id": trigger_id or _trigger_id(), "team": _team(),
        "enterprise": None, "is_enterprise_install": False, "state": {"values": {}},
        "actions": [{
            "type": "button", "action_id": action_id, "block_id": block_id, "value": value,
            "action_ts": action_ts, "text": {"type": "plain_text", "text": value, "emoji": True},
        }],
    }  # fmt: skip
    if container_type == "view":
        view = view or _view("V1", "modal", "", "", {})
        payload |= {"container": {"type": "view", "view_id": view["id"]}, "view": view}
        return payload
    message = {
        "type": "message", "user": BOT_USER_ID, "bot_id": BOT_ID, "app_id": APP_ID, "team": TEAM_ID,
        "text": "", "ts": message_ts, "blocks": [],
    }  # fmt: skip
    container = {"type": "message", "message_ts": message_ts, "channel_id": channel, "is_ephemeral": False}
    if thread_ts is not None:
        message["thread_ts"] = container["thread_ts"] = thread_ts
    payload |= {
        "container": container, "channel": {"id": channel, "name": "complaints"}, "message": message,
        "response_url": f"https://hooks.slack.com/actions/{TEAM_ID}/1/fake",
    }  # fmt: skip
    return payload


def view_submission(
    user_id: str,
    callback_id: str,
    private_metadata: str,
    values: dict[str, dict[str, dict[str, Any]]],
    view_id: str = "V1",
) -> dict[str, Any]:
    """A modal submitted; `values` is the view state (block_id -> action_id -> element state)."""
    return {
        "type": "view_submission", "team": _team(), "user": _payload_user(user_id), "api_app_id": APP_ID,
        "token": VERIFICATION_TOKEN, "trigger_id": _trigger_id(), "enterprise": None,
        "is_enterprise_install": False, "response_urls": [],
        "view": _view(view_id, "modal", callback_id, private_metadata, values),
    }  # fmt: skip


def message_event(
    user: str, channel: str, text: str, ts: str, thread_ts: str | None = None
) -> dict[str, Any]:
    """A ``message`` event from a person (in a thread when `thread_ts` is given)."""
    event = {
        "type": "message", "channel": channel, "user": user, "text": text, "ts": ts, "event_ts": ts,
        "team": TEAM_ID, "client_msg_id": str(uuid.uuid4()),
        "channel_type": "im" if channel.startswith("D") else "channel",
    }  # fmt: skip
    if thread_ts is not None:
        event["thread_ts"] = thread_ts
    return event


def app_home_opened(user: str) -> dict[str, Any]:
    """The Home tab opened by `user` (its channel is the user's DM with the app)."""
    return {"type": "app_home_opened", "user": user, "channel": "D" + user, "tab": "home", "event_ts": _now()}


def _payload_user(user_id: str) -> dict[str, str]:
    name = user_id.lower()
    return {"id": user_id, "username": name, "name": name, "team_id": TEAM_ID}


def _team() -> dict[str, str]:
    return {"id": TEAM_ID, "domain": TEAM_DOMAIN}


def _view(view_id: str, kind: str, callback_id: str, private_metadata: str, values: dict[str, Any]) -> Params:
    return {
        "id": view_id, "team_id": TEAM_ID, "type": kind, "blocks": [], "callback_id": callback_id,
        "private_metadata": private_metadata, "state": {"values": values}, "hash": "1764000000.fake0001",
        "title": {"type": "plain_text", "text": "Jointly", "emoji": True}, "clear_on_close": False,
        "notify_on_close": False, "close": None, "submit": None, "previous_view_id": None,
        "root_view_id": view_id, "app_id": APP_ID, "external_id": "", "app_installed_team_id": TEAM_ID,
        "bot_id": BOT_ID,
    }  # fmt: skip


def _trigger_id() -> str:
    return f"1764000000.{TEAM_ID[1:]}.{uuid.uuid4().hex}"


def _now() -> str:
    return f"{time.time():.6f}"
