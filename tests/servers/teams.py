"""A local fake of Microsoft Teams for tests: the Bot Framework connector, a bit of Graph, and signed
activities posted to a bot the way Teams posts them.

The real Microsoft Teams SDK (``microsoft_teams.apps.App``) talks to it, so tests check what reaches
Teams instead of patching the SDK. Each server runs on 127.0.0.1 at a free port, in its own thread
with its own event loop: the SDK fetches signing keys with a *blocking* call (PyJWT's
``PyJWKClient``, urllib) inside its async request handler, so a fake on the test's own loop would
deadlock; in a thread it also serves blocking callers.

- `KeyServer`: the Bot Framework's signing keys. ``openid_metadata_url`` is what the SDK takes as
  ``cloud=with_overrides(PUBLIC, openid_metadata_url=...)``; the SDK never fetches that document, it
  replaces the trailing ``/openidconfiguration`` with ``/keys`` and fetches the JWKS there (it needs
  ``kid`` and ``use: sig`` or no ``use``; the ``endorsements`` real keys carry are not checked).
  `KeyServer.mint()` signs an RS256 token as the Bot Framework does (``iss``
  https://api.botframework.com, ``aud`` the app id, ``serviceurl``, ``nbf``/``iat``/``exp``, ``kid``);
  `KeyServer.unserved_key()` makes a key the server does not publish, for refusals.
- `FakeConnector`: the connector service at ``base_url`` (the ``serviceUrl``; it has a path, like
  Teams' ``https://smba.trafficmanager.net/emea/``) and a sliver of Graph at ``graph_url``. Every
  request is recorded as a `Call`; `messages()` is what a person in Teams would see (the latest
  version of each message, deletions removed); `wait_for()` waits on a condition, never sleeps.
  It refuses what Teams refuses, with Teams' error bodies ``{"error": {"code", "message"}}``:
  no Bearer token (401), an unknown conversation (404 ``ConversationNotFound``), a 1:1 chat or a send
  to a person the app is not installed for (403 ``BotNotInConversationRoster``, Teams' code for it),
  a message over `MESSAGE_LIMIT` (413 ``MessageSizeTooBig``), a malformed Adaptive Card (400
  ``BadArgument``: ``type`` must be ``AdaptiveCard``, ``version`` at most `MAX_CARD_VERSION`, every
  ``Action.Execute`` needs a ``verb``), a channel post without ``isGroup: true`` (400). `fail()`,
  `down()` and `up()` make it answer 429 (with ``Retry-After``)/5xx for outage tests.
  Graph: ``POST /v1.0/users/{id}/teamwork/installedApps`` with ``teamsApp@odata.bind`` installs the
  catalog app for a person (201); people in ``cannot_install`` get 403; a second install gets 409.
- ``teams_keys``/``fake_teams`` fixtures (``pytest_plugins = ["tests.servers.teams"]``), and
  ``teams_env``, which removes the environment variables the SDK reads (`SDK_ENV_VARS`, whether
  set by the shell or by the ``.env`` the SDK loads from the cwd at import) and moves to a
  temporary cwd.
- `TeamsSender` posts activities to a bot's messaging endpoint as Teams does, signed with
  `KeyServer.mint()` for the fake's ``serviceUrl``; its builders (`TeamsSender.channel_message`,
  `personal_message`, `card_action`, `installed`, `uninstalled`, `added_to_team`) make Teams'
  payloads for `TENANT_ID`, `TEAM_ID`, `CHANNEL_ID`. People are Entra object ids (``aadObjectId``,
  e.g. `USER_ID`); their Teams ids (``29:...``) and personal chat ids (``a:...``) derive from them
  (`teams_user_id`, `personal_conversation_id`).
- `AppServer` runs an SDK ``App`` on a free port and stops it; `app_options()` gives the ``App``
  options that point it at these fakes; `app_token()` is a ``token=`` callable for outgoing calls.

What the SDK (microsoft-teams-apps 2.1.1) does, found while building this:

- ``await app.start(port)`` never returns while serving (FastAPI under uvicorn, ``host="0.0.0.0"``
  and uvicorn's logging config unless you pass ``FastAPIAdapter(server_factory=...)``); run it in a
  task and end it with ``await app.stop()``, which only sets uvicorn's ``should_exit`` (the task ends
  within uvicorn's 0.1 s tick). Cancelling the task instead is swallowed: ``start()`` catches
  ``CancelledError`` and returns. ``server_factory``'s server must use the adapter's FastAPI app and
  the same port as ``start(port)`` (else a warning). `AppServer` binds the socket first and hands it
  to uvicorn, so the port is known before the App is built and nothing races. Alternatively
  ``await app.initialize()`` and serve ``app.server.adapter.app`` (an ASGI app) yourself.
- Inbound checks are the SDK's own (401 ``{"error": "Unauthorized"}`` when they fail). The handler
  runs inside the HTTP request: Teams gets its answer only after the handler returns, so long work
  belongs in a background task. A handler's exception becomes 500.
- ``on_card_action_execute("x")`` matches ``value.action.data["action"] == "x"``, *not* the verb;
  to route on ``verb`` register ``@app.on_card_action_execute`` (all Action.Execute) and dispatch on
  ``ctx.activity.value.action.verb``. The handler's return value (e.g.
  ``AdaptiveCardActionMessageResponse(value=...)``) is the invoke response body, sent as camelCase
  JSON ``{"statusCode": 200, "type": "application/vnd.microsoft.activity.message", "value": ...}``;
  an ``adaptiveCard/action`` no handler matches gets an empty 200 (an unknown invoke name, 500).
- Message text keeps Teams' ``<at>Jointly</at>`` mentions (nothing strips them unless asked).
- Keys: PyJWKClient caches the JWKS for 300 s and refetches for an unknown ``kid`` at most every
  30 s, so a key published after the first fetch is refused for up to 30 s. The fetch blocks the
  event loop (urllib, 30 s timeout).
- Warnings, errors under ``filterwarnings = ["error"]``: importing ``microsoft_teams.apps`` warns
  ``ExperimentalWarning`` (a FutureWarning; `import_sdk()` hides it), and every ``App()`` warns
  ``DeprecationWarning: The bot client is deprecated`` (from the SDK's own ApiClient). The product's
  pytest settings will need ``ignore`` entries for both.
- The SDK's HTTP client does not retry: any 4xx/5xx, 429 included, raises
  ``httpx.HTTPStatusError`` at once, ``Retry-After`` unread (``common/http/client.py`` calls
  ``raise_for_status()``; the only retry helper, ``apps/utils/retry.py``, is used for streaming).
  Retrying on 429/5xx is the product's job.
- ``CreateConversationParams`` has no ``is_group``; pass ``isGroup=True`` as an extra field (the
  model keeps extras verbatim). ``app.api.conversations.activities(id)`` is deprecated (a
  DeprecationWarning, an error under this project's pytest settings): use the flat
  ``create_activity``/``update_activity``/``delete_activity``/``reply_to_activity``.
- ``app.send(conversation_id, ...)`` needs ``app.initialize()`` or ``start()`` first. ``app.reply(id,
  message_id, text)`` posts to ``"<id>;messageid=<message_id>"`` (a channel thread);
  ``api.conversations.reply_to_activity`` instead posts to the conversation with ``replyToId``.

Limits, from Microsoft's documentation: bot messages up to 100 KB of the payload in UTF-16 (earlier
pages said 40 KB, and 28 KB for webhooks/Graph; Microsoft recommends keeping under 80 KB), and
"Teams is limited to" Adaptive Card version 1.5.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import itertools
import json
import re
import socket
import threading
import time
import uuid
import warnings
from collections import deque
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import ModuleType
from typing import TYPE_CHECKING, Any

import aiohttp
import jwt
import pytest
import uvicorn
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import rsa

if TYPE_CHECKING:
    from microsoft_teams.apps import App, FastAPIAdapter

HOST = "127.0.0.1"
TENANT_ID = "4f1c2a7e-9b3d-4e8a-a1c5-6d7e8f9a0b1c"
APP_ID = "b7e3f0a2-5c4d-4b6e-8f1a-2d3c4b5a6e7f"  # the bot's Entra app (client) id
BOT_ID = f"28:{APP_ID}"
BOT_NAME = "Jointly"
TEAMS_APP_ID = "e2d4c6b8-1a3f-4d5e-9c7b-0a1b2c3d4e5f"  # the app in the tenant's catalog (not the bot id)
TEAM_ID = "19:Zp4Xq8Lm2Nv6Rt0Yw3Bc7Df1Gh5Jk9Qs@thread.tacv2"  # a team's id is its General channel's
TEAM_GROUP_ID = "0c9d8e7f-6a5b-4c3d-9e1f-0a9b8c7d6e5f"  # the team's Microsoft 365 group (aadGroupId)
TEAM_NAME = "Complaints"
CHANNEL_ID = "19:9f8e7d6c5b4a39281706f5e4d3c2b1a0@thread.tacv2"
CHANNEL_NAME = "Complaints triage"
USER_ID = "6a1b2c3d-4e5f-4a7b-8c9d-0e1f2a3b4c5d"  # a person's Entra object id (aadObjectId)
OTHER_USER_ID = "7b2c3d4e-5f6a-4b8c-9d0e-1f2a3b4c5d6e"
TOKEN_ISSUER = "https://api.botframework.com"
MAX_CARD_VERSION = (1, 5)
MESSAGE_LIMIT = 100_000  # bytes of a message's JSON encoded as UTF-16
ADAPTIVE_CARD = "application/vnd.microsoft.card.adaptive"
SDK_ENV_VARS = (
    "CLIENT_ID", "CLIENT_SECRET", "TENANT_ID", "MANAGED_IDENTITY_CLIENT_ID", "SERVICE_URL", "PORT",
    "CLOUD", "OAUTH_URL", "DANGEROUSLY_ALLOW_UNAUTHENTICATED_REQUESTS",
)  # fmt: skip
_REGION = "emea"
_ERROR_CODES = {
    400: "BadArgument", 401: "Unauthorized", 403: "Forbidden", 404: "NotFound", 409: "Conflict",
    412: "PreconditionFailed", 413: "MessageSizeTooBig", 429: "Throttled", 500: "InternalServerError",
    502: "BadGateway", 503: "ServiceUnavailable", 504: "GatewayTimeout",
}  # fmt: skip
_NO_ACTIVITY = "The activity was not found."
_NOT_IN_ROSTER = "The bot is not part of the conversation roster."
_BIND = re.compile(r"^https?://[^/]+/v1\.0/appCatalogs/teamsApps/([^/]+)$")  # Graph's address for the cloud

Json = dict[str, Any]
Reply = tuple[int, Any]  # HTTP status and the body: parsed JSON, else text ("" when empty)


def teams_user_id(aad_object_id: str) -> str:
    """A person's Teams id (``29:1...``), stable for their Entra object id."""
    return "29:1" + _digest("user", aad_object_id)


def personal_conversation_id(aad_object_id: str) -> str:
    """The id of the 1:1 chat between the bot and a person (``a:1...``), stable per person."""
    return "a:1" + _digest("personal", aad_object_id)


def _digest(kind: str, value: str) -> str:
    raw = hashlib.sha256(f"{kind}:{value}".encode()).digest()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _b64url_int(value: int) -> str:
    raw = value.to_bytes((value.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


# -- a server in its own thread ----------------------------------------------------------------


class _ThreadedServer:
    """An aiohttp application on 127.0.0.1 at a free port, served from its own thread and loop."""

    def __init__(self, app: web.Application, name: str) -> None:
        self._app = app
        self._name = name
        self.port = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        ready = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            try:
                runner = web.AppRunner(self._app, access_log=None)
                loop.run_until_complete(runner.setup())
                site = web.TCPSite(runner, HOST, 0)
                loop.run_until_complete(site.start())
                self.port = runner.addresses[0][1]
            except BaseException as error:  # reported to start()'s caller
                failure.append(error)
                ready.set()
                loop.close()
                return
            ready.set()
            try:
                loop.run_forever()
            finally:
                loop.run_until_complete(runner.cleanup())
                loop.close()

        self._thread = threading.Thread(target=run, name=self._name, daemon=True)
        self._thread.start()
        if not ready.wait(timeout=10):
            raise RuntimeError(f"{self._name} did not start in 10 s")
        if failure:
            raise failure[0]

    def stop(self) -> None:
        thread, loop = self._thread, self._loop
        if thread is None or loop is None or not thread.is_alive():
            return
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        self._thread = None


# -- signing keys ------------------------------------------------------------------------------


@dataclass(frozen=True)
class SigningKey:
    """An RSA key the Bot Framework signs tokens with, known by its ``kid``."""

    kid: str
    private_key: rsa.RSAPrivateKey

    @classmethod
    def generate(cls) -> SigningKey:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        return cls(kid=uuid.uuid4().hex, private_key=key)

    def jwk(self) -> Json:
        """The public key as the Bot Framework's JWKS lists it (``x5c`` left out)."""
        numbers = self.private_key.public_key().public_numbers()
        return {
            "kty": "RSA", "use": "sig", "kid": self.kid, "x5t": self.kid,
            "n": _b64url_int(numbers.n), "e": _b64url_int(numbers.e),
            "endorsements": ["msteams", "skype", "webchat"],
        }  # fmt: skip


class KeyServer:
    """The Bot Framework's OpenID metadata and signing keys, and tokens signed with them."""

    def __init__(self) -> None:
        self.served: list[SigningKey] = [SigningKey.generate()]
        self.fetches = 0  # how many times the JWKS was fetched
        app = web.Application()
        app.router.add_get("/v1/.well-known/openidconfiguration", self._metadata)
        app.router.add_get("/v1/.well-known/keys", self._keys)
        self._server = _ThreadedServer(app, "teams-key-server")

    @property
    def openid_metadata_url(self) -> str:
        return f"http://{HOST}:{self._server.port}/v1/.well-known/openidconfiguration"

    @property
    def keys_url(self) -> str:
        return f"http://{HOST}:{self._server.port}/v1/.well-known/keys"

    def start(self) -> None:
        self._server.start()

    def close(self) -> None:
        self._server.stop()

    def unserved_key(self) -> SigningKey:
        """A new key this server does not publish: tokens it signs must be refused."""
        return SigningKey.generate()

    def rotate(self) -> SigningKey:
        """Publish a new key (first in the set) besides the old ones, as key rollover does."""
        key = SigningKey.generate()
        self.served.insert(0, key)
        return key

    def mint(
        self,
        app_id: str = APP_ID,
        service_url: str = "",
        *,
        key: SigningKey | None = None,
        expires_in: int = 3600,
        issuer: str = TOKEN_ISSUER,
        audience: str | None = None,
        **claims: Any,
    ) -> str:
        """A Bot Framework token for a request to the bot `app_id` from the connector at `service_url`."""
        key = key or self.served[0]
        now = int(time.time())
        payload = {
            "serviceurl": service_url, "nbf": now - 5, "iat": now - 5, "exp": now + expires_in,
            "iss": issuer, "aud": audience or app_id,
        } | claims  # fmt: skip
        return jwt.encode(payload, key.private_key, algorithm="RS256", headers={"kid": key.kid})

    async def _metadata(self, request: web.Request) -> web.Response:
        return web.json_response(
            {
                "issuer": TOKEN_ISSUER,
                "authorization_endpoint": "https://invalid.botframework.com",
                "jwks_uri": self.keys_url,
                "id_token_signing_alg_values_supported": ["RS256"],
                "token_endpoint_auth_methods_supported": ["private_key_jwt"],
            }  # fmt: skip
        )

    async def _keys(self, request: web.Request) -> web.Response:
        self.fetches += 1
        return web.json_response({"keys": [key.jwk() for key in self.served]})


def app_token(scope: str | list[str], tenant_id: str | None = None) -> str:
    """A ``token=`` callable for ``App``: a decodable JWT for outgoing calls (the fake checks only
    that a Bearer token is there)."""
    now = int(time.time())
    payload = {
        "aud": scope if isinstance(scope, str) else " ".join(scope), "iss": f"https://sts.windows.net/{tenant_id}/",
        "appid": APP_ID, "tid": tenant_id or TENANT_ID, "iat": now, "nbf": now, "exp": now + 3600,
    }  # fmt: skip
    return jwt.encode(payload, _outgoing_key().private_key, algorithm="RS256", headers={"kid": "outgoing"})


_OUTGOING: list[SigningKey] = []


def _outgoing_key() -> SigningKey:
    if not _OUTGOING:
        _OUTGOING.append(SigningKey.generate())
    return _OUTGOING[0]


# -- the connector service and Graph -----------------------------------------------------------


@dataclass(frozen=True)
class Call:
    """One request as the fake received it and what it answered (`failed` when `fail()`/`down()` did).

    `kind` is ``create_conversation``, ``send`` (POST .../activities), ``reply`` (POST
    .../activities/{id}), ``update``, ``delete``, ``install_app`` (Graph) or ``unknown``; an
    activity that is not a message (``typing``...) is recorded under its own type.
    """

    kind: str
    method: str
    path: str
    conversation_id: str | None
    activity_id: str | None
    body: Any
    authorization: str | None
    status: int
    answer: Any
    failed: bool = False

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def token(self) -> str | None:
        auth = self.authorization or ""
        return auth.removeprefix("Bearer ") if auth.startswith("Bearer ") else None


@dataclass
class Message:
    """A message in Teams as people see it: its latest version, and every version posted."""

    id: str
    conversation_id: str  # the channel or chat, without ";messageid=..."
    thread_id: str | None  # in a channel: the id of the thread's first message
    versions: list[Json] = field(default_factory=list)
    deleted: bool = False

    @property
    def activity(self) -> Json:
        return self.versions[-1]

    @property
    def text(self) -> str:
        return str(self.activity.get("text") or "")

    @property
    def cards(self) -> list[Json]:
        """The Adaptive Cards attached, latest version."""
        attachments = self.activity.get("attachments") or []
        return [a["content"] for a in attachments if a.get("contentType") == ADAPTIVE_CARD]


class FakeConnector:
    """The Bot Framework connector for Teams, and Graph's app installation (see the module docstring)."""

    def __init__(self, message_limit: int = MESSAGE_LIMIT) -> None:
        self.message_limit = message_limit
        self.calls: list[Call] = []
        self.installed: set[str] = set()  # Entra object ids the app is installed for (personal scope)
        self.removed: set[str] = set()  # those who had it and removed it
        self.cannot_install: set[str] = set()  # Graph answers 403 for these
        self.channels: set[str] = {TEAM_ID, CHANNEL_ID}  # channels of teams the app is installed in
        self.catalog: set[str] = {TEAMS_APP_ID}  # app ids in the tenant's app catalog
        self._messages: dict[str, Message] = {}  # by activity id, in the order posted
        self._changed = threading.Condition()
        self._failures: deque[tuple[int, int | None]] = deque()
        self._down = False
        self._ids = itertools.count(1_764_763_200_000)  # Teams' message ids are epoch milliseconds
        app = web.Application(client_max_size=8 * 1024 * 1024)
        conversations = f"/{_REGION}/v3/conversations"
        app.router.add_post(conversations, self._create_conversation)
        app.router.add_post(conversations + "/{conversation}/activities", self._send)
        app.router.add_post(conversations + "/{conversation}/activities/{activity}", self._reply)
        app.router.add_put(conversations + "/{conversation}/activities/{activity}", self._update)
        app.router.add_delete(conversations + "/{conversation}/activities/{activity}", self._delete)
        app.router.add_post("/v1.0/users/{user}/teamwork/installedApps", self._install_app)
        app.router.add_route("*", "/{tail:.*}", self._unknown)
        self._server = _ThreadedServer(app, "teams-fake-connector")

    @property
    def base_url(self) -> str:
        """The ``serviceUrl``: activities carry it, tokens are minted for it, the SDK posts under it."""
        return f"http://{HOST}:{self._server.port}/{_REGION}/"

    @property
    def graph_url(self) -> str:
        """Graph's ``https://graph.microsoft.com/v1.0`` here."""
        return f"http://{HOST}:{self._server.port}/v1.0"

    def start(self) -> None:
        self._server.start()

    def close(self) -> None:
        self._server.stop()

    # -- what tests look at and switch ---------------------------------------------------------

    def install(self, *user_ids: str) -> None:
        """The app is installed for these people (as if they, or an admin policy, had installed it)."""
        with self._changed:
            self.installed.update(user_ids)

    def uninstall(self, *user_ids: str) -> None:
        """The app removed: their personal chat stays, and Teams refuses to post in it (403)."""
        with self._changed:
            self.installed.difference_update(user_ids)
            self.removed.update(user_ids)

    def calls_to(self, kind: str) -> list[Call]:
        """Every attempt of this kind, refused and failed ones included."""
        with self._changed:
            return [call for call in self.calls if call.kind == kind]

    async def wait_for(self, kind: str, count: int = 1, timeout: float = 5) -> list[Call]:
        """The successful (2xx) calls of `kind`, once there are at least `count` of them."""

        def succeeded() -> list[Call]:
            return [call for call in self.calls if call.kind == kind and call.ok]

        def wait() -> bool:
            with self._changed:
                return self._changed.wait_for(lambda: len(succeeded()) >= count, timeout)

        if not await asyncio.to_thread(wait):
            seen = [(call.kind, call.status) for call in self.calls_snapshot()]
            raise AssertionError(f"expected {count} successful {kind} call(s) in {timeout}s; saw {seen}")
        with self._changed:
            return succeeded()

    def calls_snapshot(self) -> list[Call]:
        with self._changed:
            return list(self.calls)

    def messages(self, conversation_id: str) -> list[Message]:
        """What a person sees in a chat or channel (or, with ``;messageid=N``, in that thread)."""
        base, _, thread = conversation_id.partition(";messageid=")
        with self._changed:
            return [
                message
                for message in self._messages.values()
                if message.conversation_id == base and not message.deleted
                and (not thread or message.thread_id == thread)
            ]  # fmt: skip

    def message(self, activity_id: str) -> Message:
        with self._changed:
            return self._messages[activity_id]

    def fail(self, status: int = 429, times: int = 1, retry_after: int | None = 1) -> None:
        """Answer the next `times` requests with `status` (a 429 carries ``Retry-After`` unless None)."""
        with self._changed:
            self._failures.extend([(status, retry_after)] * times)

    def down(self) -> None:
        """Answer every request with 503 until `up()`."""
        self._down = True

    def up(self) -> None:
        self._down = False

    # -- the connector -------------------------------------------------------------------------

    async def _create_conversation(self, request: web.Request) -> web.Response:
        refused = await self._refusal("create_conversation", request)
        if refused is not None:
            return refused
        body = await _json(request)
        if not isinstance(body, dict):
            return self._record_error("create_conversation", request, body, 400, "BadSyntax", "Invalid JSON.")
        channel = ((body.get("channelData") or {}).get("channel") or {}).get("id")
        activity = body.get("activity")
        if channel:
            return self._new_thread(request, body, channel, activity)
        members = body.get("members") or []
        if len(members) != 1 or not isinstance(members[0], dict) or not members[0].get("id"):
            return self._record_error(
                "create_conversation", request, body, 400, "BadArgument",
                "Incorrect conversation creation parameters",
            )  # fmt: skip
        user = self._person(str(members[0]["id"]))
        if body.get("tenantId") not in (None, TENANT_ID) or user not in self.installed:
            return self._not_in_roster("create_conversation", request, body)
        conversation_id = personal_conversation_id(user)
        if isinstance(activity, dict):
            problem = self._problem("create_conversation", request, body, activity)
            if problem is not None:
                return problem
            self._post(activity, conversation_id, None)
        return self._record(
            "create_conversation", request, body, 201, {"id": conversation_id}, conversation_id
        )

    def _new_thread(self, request: web.Request, body: Json, channel: str, activity: Any) -> web.Response:
        if body.get("isGroup") is not True:
            return self._record_error(
                "create_conversation", request, body, 400, "BadArgument", "isGroup must be true for a channel"
            )
        if channel not in self.channels:
            return self._not_in_roster("create_conversation", request, body)
        if not isinstance(activity, dict):
            return self._record_error(
                "create_conversation", request, body, 400, "BadArgument", "A channel post needs an activity"
            )
        problem = self._problem("create_conversation", request, body, activity)
        if problem is not None:
            return problem
        root = self._post(activity, channel, None, new_thread=True)
        answer = {"id": f"{channel};messageid={root.id}", "activityId": root.id}
        return self._record("create_conversation", request, body, 201, answer, answer["id"], root.id)

    async def _send(self, request: web.Request) -> web.Response:
        return await self._post_activity("send", request, None)

    async def _reply(self, request: web.Request) -> web.Response:
        return await self._post_activity("reply", request, request.match_info["activity"])

    async def _post_activity(self, kind: str, request: web.Request, reply_to: str | None) -> web.Response:
        refused = await self._refusal(kind, request)
        if refused is not None:
            return refused
        conversation_id = request.match_info["conversation"]
        body = await _json(request)
        if not isinstance(body, dict):
            return self._record_error(kind, request, body, 400, "BadSyntax", "Invalid JSON.", conversation_id)
        base, _, thread = conversation_id.partition(";messageid=")
        unreachable = self._unreachable(kind, request, body, base)
        if unreachable is not None:
            return unreachable
        if body.get("type", "message") != "message":  # typing and the like: nothing to see, no id
            return self._record(str(body.get("type")), request, body, 200, {}, conversation_id)
        problem = self._problem(kind, request, body, body, conversation_id)
        if problem is not None:
            return problem
        reply_to = reply_to or body.get("replyToId")
        in_thread = thread or (reply_to if base.startswith("19:") and reply_to else None)
        message = self._post(body, base, in_thread)
        return self._record(kind, request, body, 201, {"id": message.id}, conversation_id, message.id)

    async def _update(self, request: web.Request) -> web.Response:
        refused = await self._refusal("update", request)
        if refused is not None:
            return refused
        conversation_id, activity_id = request.match_info["conversation"], request.match_info["activity"]
        body = await _json(request)
        if not isinstance(body, dict):
            return self._record_error(
                "update", request, body, 400, "BadSyntax", "Invalid JSON.", conversation_id
            )
        base = conversation_id.partition(";messageid=")[0]
        unreachable = self._unreachable("update", request, body, base)
        if unreachable is not None:
            return unreachable
        with self._changed:
            message = self._messages.get(activity_id)
        if message is None or message.deleted or message.conversation_id != base:
            return self._record_error(
                "update", request, body, 404, "NotFound", _NO_ACTIVITY, conversation_id, activity_id
            )
        problem = self._problem("update", request, body, body, conversation_id)
        if problem is not None:
            return problem
        with self._changed:
            message.versions.append(body)
        return self._record("update", request, body, 200, {"id": activity_id}, conversation_id, activity_id)

    async def _delete(self, request: web.Request) -> web.Response:
        refused = await self._refusal("delete", request)
        if refused is not None:
            return refused
        conversation_id, activity_id = request.match_info["conversation"], request.match_info["activity"]
        base = conversation_id.partition(";messageid=")[0]
        unreachable = self._unreachable("delete", request, None, base)
        if unreachable is not None:
            return unreachable
        with self._changed:
            message = self._messages.get(activity_id)
            found = message is not None and not message.deleted and message.conversation_id == base
            if message is not None and found:
                message.deleted = True
        if not found:
            return self._record_error(
                "delete", request, None, 404, "NotFound", _NO_ACTIVITY, conversation_id, activity_id
            )
        return self._record("delete", request, None, 200, None, conversation_id, activity_id)

    def _person(self, member_id: str) -> str:
        """The Entra object id of a member given as ``29:...`` or as the object id itself."""
        with self._changed:
            people = self.installed | self.cannot_install | {USER_ID, OTHER_USER_ID}
        return next((user for user in people if member_id == teams_user_id(user)), member_id)

    def _unreachable(self, kind: str, request: web.Request, body: Any, base: str) -> web.Response | None:
        """The answer when the bot cannot post to conversation `base`, else None."""
        conversation_id = request.match_info.get("conversation")
        with self._changed:
            if base in self.channels or any(personal_conversation_id(u) == base for u in self.installed):
                return None
            known_people = self.cannot_install | self.removed | {USER_ID, OTHER_USER_ID}
        if base.startswith("a:") and any(personal_conversation_id(u) == base for u in known_people):
            return self._not_in_roster(kind, request, body, conversation_id)
        return self._record_error(
            kind, request, body, 404, "ConversationNotFound", "Conversation not found.", conversation_id
        )

    def _problem(
        self, kind: str, request: web.Request, body: Any, activity: Json, conversation_id: str | None = None
    ) -> web.Response | None:
        """The refusal of a message Teams would not take (too big, a bad card), else None."""
        size = len(json.dumps(activity, separators=(",", ":"), ensure_ascii=False).encode("utf-16-le"))
        if size > self.message_limit:
            return self._record_error(
                kind, request, body, 413, "MessageSizeTooBig", "Message size too large."
            )
        problem = card_problem(activity)
        if problem is not None:
            return self._record_error(kind, request, body, 400, "BadArgument", problem, conversation_id)
        return None

    def _post(self, activity: Json, base: str, thread: str | None, new_thread: bool = False) -> Message:
        with self._changed:
            activity_id = str(next(self._ids))
            message = Message(activity_id, base, activity_id if new_thread else thread, [activity])
            self._messages[activity_id] = message
            return message

    def _not_in_roster(
        self, kind: str, request: web.Request, body: Any, conversation_id: str | None = None
    ) -> web.Response:
        return self._record_error(
            kind, request, body, 403, "BotNotInConversationRoster", _NOT_IN_ROSTER, conversation_id
        )

    # -- Graph ---------------------------------------------------------------------------------

    async def _install_app(self, request: web.Request) -> web.Response:
        user = request.match_info["user"]
        refused = await self._refusal("install_app", request, graph=True)
        if refused is not None:
            return refused
        body = await _json(request)
        bind = body.get("teamsApp@odata.bind") if isinstance(body, dict) else None
        match = _BIND.match(bind) if isinstance(bind, str) else None
        if match is None:
            return self._graph_error(
                request, body, 400, "BadRequest", "Invalid teamsApp@odata.bind in request."
            )
        if match.group(1) not in self.catalog:
            return self._graph_error(
                request, body, 404, "NotFound", f"App {match.group(1)} is not in the catalog."
            )
        if user in self.cannot_install:
            return self._graph_error(
                request,
                body,
                403,
                "Forbidden",
                "The app cannot be installed for this user (app permission policy).",
            )
        with self._changed:
            already = user in self.installed
            self.installed.add(user)
        if already:
            return self._graph_error(
                request, body, 409, "Conflict", "The app is already installed for this user."
            )
        call = self._call("install_app", request, body, 201, None)
        self._add(call)
        return web.Response(status=201)

    def _graph_error(
        self, request: web.Request, body: Any, status: int, code: str, message: str
    ) -> web.Response:
        answer = {
            "error": {
                "code": code, "message": message,
                "innerError": {"date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S"),
                               "request-id": str(uuid.uuid4()), "client-request-id": str(uuid.uuid4())},
            }
        }  # fmt: skip
        self._add(self._call("install_app", request, body, status, answer))
        return web.json_response(answer, status=status)

    # -- common --------------------------------------------------------------------------------

    async def _unknown(self, request: web.Request) -> web.Response:
        body = await _json(request)
        return self._record_error("unknown", request, body, 404, "NotFound", f"No route {request.path}")

    async def _refusal(self, kind: str, request: web.Request, graph: bool = False) -> web.Response | None:
        """401 without a Bearer token; a switched-on failure; else None."""
        auth = request.headers.get("Authorization", "")
        if not auth.startswith("Bearer ") or not auth.removeprefix("Bearer ").strip():
            body = await _json(request)
            if graph:
                return self._graph_error(
                    request, body, 401, "InvalidAuthenticationToken", "Access token is empty."
                )
            denied = {"message": "Authorization has been denied for this request."}
            self._add(self._call(kind, request, body, 401, denied))
            return web.json_response(denied, status=401)
        with self._changed:
            failure = (503, None) if self._down else (self._failures.popleft() if self._failures else None)
        if failure is None:
            return None
        status, retry_after = failure
        body = await _json(request)
        code = _ERROR_CODES.get(status, "Error")
        answer = {"error": {"code": code, "message": f"{code} (fake failure)"}}
        self._add(self._call(kind, request, body, status, answer, failed=True))
        headers = {"Retry-After": str(retry_after)} if status == 429 and retry_after is not None else None
        return web.json_response(answer, status=status, headers=headers)

    def _record(
        self,
        kind: str,
        request: web.Request,
        body: Any,
        status: int,
        answer: Any,
        conversation_id: str | None = None,
        activity_id: str | None = None,
    ) -> web.Response:
        self._add(self._call(kind, request, body, status, answer, conversation_id, activity_id))
        if answer is None:
            return web.Response(status=status)
        return web.json_response(answer, status=status)

    def _record_error(
        self,
        kind: str,
        request: web.Request,
        body: Any,
        status: int,
        code: str,
        message: str,
        conversation_id: str | None = None,
        activity_id: str | None = None,
    ) -> web.Response:
        answer = {"error": {"code": code, "message": message}}
        return self._record(kind, request, body, status, answer, conversation_id, activity_id)

    def _call(
        self,
        kind: str,
        request: web.Request,
        body: Any,
        status: int,
        answer: Any,
        conversation_id: str | None = None,
        activity_id: str | None = None,
        failed: bool = False,
    ) -> Call:
        return Call(
            kind=kind, method=request.method, path=request.path,
            conversation_id=conversation_id or request.match_info.get("conversation"),
            activity_id=activity_id or request.match_info.get("activity"), body=body,
            authorization=request.headers.get("Authorization"), status=status, answer=answer, failed=failed,
        )  # fmt: skip

    def _add(self, call: Call) -> None:
        with self._changed:
            self.calls.append(call)
            self._changed.notify_all()


def card_problem(activity: Json) -> str | None:
    """Why Teams would refuse the Adaptive Cards attached to `activity`, or None."""
    for attachment in activity.get("attachments") or []:
        if not isinstance(attachment, dict) or attachment.get("contentType") != ADAPTIVE_CARD:
            continue
        card = attachment.get("content")
        if not isinstance(card, dict) or card.get("type") != "AdaptiveCard":
            return "Adaptive Card content must be an object with type AdaptiveCard"
        version = re.fullmatch(r"(\d+)\.(\d+)", str(card.get("version", "")))
        if version is None:
            return "Adaptive Card needs a version"
        if (int(version.group(1)), int(version.group(2))) > MAX_CARD_VERSION:
            return f"Adaptive Card version {card['version']} is newer than Teams supports"
        for action in _actions(card):
            if action.get("type") == "Action.Execute" and not action.get("verb"):
                return "Action.Execute needs a verb"
    return None


def _actions(node: Any) -> Iterator[Json]:
    if isinstance(node, dict):
        if str(node.get("type", "")).startswith("Action."):
            yield node
        for value in node.values():
            yield from _actions(value)
    elif isinstance(node, list):
        for item in node:
            yield from _actions(item)


async def _json(request: web.Request) -> Any:
    if not request.can_read_body:
        return None
    text = await request.text()
    try:
        return json.loads(text)
    except ValueError:
        return text


# -- fixtures ----------------------------------------------------------------------------------


@pytest.fixture
def teams_keys() -> Iterator[KeyServer]:
    keys = KeyServer()
    keys.start()
    try:
        yield keys
    finally:
        keys.close()


@pytest.fixture
def fake_teams() -> Iterator[FakeConnector]:
    fake = FakeConnector()
    fake.start()
    try:
        yield fake
    finally:
        fake.close()


@pytest.fixture
def teams_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    """None of the environment variables the SDK reads, and a cwd without a ``.env`` (the SDK loads
    one at import, which has usually happened already: hence the variables are removed)."""
    for name in SDK_ENV_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


# -- an SDK App on a free port -----------------------------------------------------------------


def import_sdk() -> ModuleType:
    """``microsoft_teams.apps``, imported without its import-time ExperimentalWarning (a
    FutureWarning about HtmlWidgetSecurityPolicy, which ``filterwarnings = ["error"]`` turns into an
    import error). The import also loads a ``.env`` from the cwd: see ``teams_env``."""
    from microsoft_teams.common.experimental import ExperimentalWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ExperimentalWarning)
        import microsoft_teams.apps

    return microsoft_teams.apps


class AppServer:
    """A socket listening on 127.0.0.1 at a free port, and an SDK ``App`` served on it.

    Build the ``App`` with ``http_server_adapter=server.adapter()`` (or ``app_options()``), then
    ``async with server.running(app) as url`` serves it (``app.start(port)`` in a task) and stops it.
    ``with AppServer() as server:`` closes the socket even when the App is never run.
    """

    def __init__(self) -> None:
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind((HOST, 0))
        self._socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # as the product's front does
        self._socket.listen(128)
        self.port: int = self._socket.getsockname()[1]
        self._ready: asyncio.Event | None = None

    def __enter__(self) -> AppServer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the socket (`running()` does; this is for an App that never ran)."""
        self._socket.close()

    @property
    def url(self) -> str:
        """The messaging endpoint Teams posts to."""
        return f"http://{HOST}:{self.port}/api/messages"

    def adapter(self) -> FastAPIAdapter:
        adapter: FastAPIAdapter = import_sdk().FastAPIAdapter(server_factory=self._server)
        return adapter

    def _server(self, fastapi: Any) -> uvicorn.Server:
        config = uvicorn.Config(fastapi, host=HOST, port=self.port, log_config=None, log_level="warning")
        self._ready = asyncio.Event()
        return _BoundServer(config, self._socket, self._ready)

    @asynccontextmanager
    async def running(self, app: App) -> AsyncIterator[str]:
        if self._ready is None:
            raise RuntimeError("build the App with http_server_adapter=AppServer.adapter()")
        task = asyncio.create_task(app.start(self.port))
        ready = asyncio.create_task(self._ready.wait())
        try:
            await asyncio.wait({task, ready}, timeout=10, return_when=asyncio.FIRST_COMPLETED)
            if task.done():
                task.result()  # raises what start() raised
                raise RuntimeError("app.start() returned before serving")
            if not ready.done():
                raise RuntimeError("the App did not start serving in 10 s")
            yield self.url
        finally:
            ready.cancel()
            if not task.done():
                await app.stop()
                await asyncio.wait_for(task, timeout=10)
            self._socket.close()


class _BoundServer(uvicorn.Server):
    """uvicorn serving a socket that is already listening, and saying when it is serving."""

    def __init__(self, config: uvicorn.Config, sock: socket.socket, ready: asyncio.Event) -> None:
        super().__init__(config)
        self._sock = sock
        self._ready_event = ready

    async def serve(self, sockets: list[socket.socket] | None = None) -> None:
        await super().serve(sockets=[self._sock])

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        self._ready_event.set()


def app_options(keys: KeyServer, fake: FakeConnector, server: AppServer) -> dict[str, Any]:
    """``App(**app_options(...))``: the bot `APP_ID` in `TENANT_ID`, trusting `keys`, calling `fake`."""
    from microsoft_teams.api.auth.cloud_environment import PUBLIC, with_overrides

    return {
        "client_id": APP_ID, "tenant_id": TENANT_ID, "token": app_token,
        "cloud": with_overrides(PUBLIC, openid_metadata_url=keys.openid_metadata_url),
        "service_url": fake.base_url, "http_server_adapter": server.adapter(),
    }  # fmt: skip


# -- activities from Teams to a bot ------------------------------------------------------------


class TeamsSender:
    """Posts activities to a bot's messaging endpoint as Teams does, signed for `service_url`."""

    def __init__(self, url: str, keys: KeyServer, service_url: str, app_id: str = APP_ID) -> None:
        self.url = url
        self.keys = keys
        self.service_url = service_url
        self.app_id = app_id
        self._ids = itertools.count(1_764_763_100_000)

    async def send(self, activity: Json, *, token: str | None = None) -> Reply:
        """Post `activity` with a token minted for it (or `token`); returns (status, body)."""
        token = token if token is not None else self.keys.mint(self.app_id, self.service_url)
        headers = {"Content-Type": "application/json; charset=utf-8", "Authorization": f"Bearer {token}"}
        return await self.raw(json.dumps(activity).encode(), headers)

    async def raw(self, body: bytes, headers: dict[str, str]) -> Reply:
        """Exactly these bytes and headers: for missing or bad tokens."""
        headers = {"User-Agent": "Microsoft-SkypeBotApi (Microsoft-BotFramework/3.0)"} | headers
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session,
            session.post(self.url, data=body, headers=headers) as response,
        ):
            text = await response.text()
            if response.content_type == "application/json" and text:
                return response.status, json.loads(text)
            return response.status, text

    # -- builders ------------------------------------------------------------------------------

    def channel_message(
        self,
        user_id: str,
        text: str,
        conversation_id: str = CHANNEL_ID,
        reply_to_id: str | None = None,
        *,
        mention: bool = True,
        name: str | None = None,
    ) -> Json:
        """A message in a channel: a new post, or (`reply_to_id`) a reply in that post's thread.

        Teams puts the bot's @mention in the text as ``<at>Jointly</at>``, with a mention entity.
        """
        base = conversation_id.partition(";messageid=")[0]
        content = f"<at>{BOT_NAME}</at> {text}" if mention else text
        activity = self._activity("message", user_id, name, self._channel_conversation(base, reply_to_id))
        activity |= {
            "text": content, "textFormat": "plain",
            "attachments": [{"contentType": "text/html", "content": f"<p>{_html_mentions(content)}</p>"}],
            "channelData": self._channel_data(base),
        }  # fmt: skip
        if mention:
            activity["entities"].insert(
                0,
                {
                    "type": "mention",
                    "text": f"<at>{BOT_NAME}</at>",
                    "mentioned": {"id": BOT_ID, "name": BOT_NAME},
                },
            )
        if reply_to_id is not None:
            activity["replyToId"] = reply_to_id
        return activity

    def personal_message(self, user_id: str, text: str, *, name: str | None = None) -> Json:
        """A message to the bot in the person's 1:1 chat with it."""
        activity = self._activity("message", user_id, name, self._personal_conversation(user_id))
        activity |= {
            "text": text, "textFormat": "plain",
            "attachments": [{"contentType": "text/html", "content": f"<p>{text}</p>"}],
            "channelData": {"tenant": {"id": TENANT_ID}},
        }  # fmt: skip
        return activity

    def card_action(
        self,
        user_id: str,
        verb: str,
        data: Json,
        conversation_id: str | None = None,
        message_id: str | None = None,
        *,
        name: str | None = None,
    ) -> Json:
        """The ``adaptiveCard/action`` invoke Teams sends when a person presses an Action.Execute button
        on the card in message `message_id` (in their 1:1 chat unless `conversation_id` says otherwise)."""
        if conversation_id is None or conversation_id.startswith("a:"):
            conversation = self._personal_conversation(user_id)
            channel_data: Json = {"tenant": {"id": TENANT_ID}, "source": {"name": "message"}}
        else:
            base, _, thread = conversation_id.partition(";messageid=")
            conversation = self._channel_conversation(base, thread or None)
            channel_data = self._channel_data(base) | {"source": {"name": "message"}}
        activity = self._activity("invoke", user_id, name, conversation)
        activity["id"] = f"f:{uuid.uuid4().int % 10**19}"  # invoke ids are not message ids
        activity |= {
            "name": "adaptiveCard/action", "channelData": channel_data,
            "value": {"action": {"type": "Action.Execute", "title": verb, "verb": verb, "data": data},
                      "trigger": "manual"},
        }  # fmt: skip
        if message_id is not None:
            activity["replyToId"] = message_id
            channel_data["legacy"] = {"replyToId": message_id}
        return activity

    def installed(self, user_id: str, *, name: str | None = None) -> Json:
        """``installationUpdate`` (add): the person installed the app for themselves."""
        return self._installation(user_id, "add", name)

    def uninstalled(self, user_id: str, *, name: str | None = None) -> Json:
        """``installationUpdate`` (remove): the person removed the app."""
        return self._installation(user_id, "remove", name)

    def added_to_team(self, user_id: str, *, name: str | None = None) -> Json:
        """``conversationUpdate``: `user_id` added the bot to team `TEAM_ID`."""
        activity = self._activity(
            "conversationUpdate", user_id, name, self._channel_conversation(TEAM_ID, None)
        )
        activity |= {
            "membersAdded": [{"id": BOT_ID}],
            "channelData": self._channel_data(TEAM_ID) | {"eventType": "teamMemberAdded",
                                                           "settings": {"selectedChannel": {"id": TEAM_ID}}},
        }  # fmt: skip
        del activity["channelData"]["channel"], activity["channelData"]["teamsChannelId"]
        return activity

    def _installation(self, user_id: str, action: str, name: str | None) -> Json:
        activity = self._activity("installationUpdate", user_id, name, self._personal_conversation(user_id))
        activity |= {
            "action": action,
            "channelData": {
                "tenant": {"id": TENANT_ID}, "source": None, "settings": {"selectedChannel": None}
            },
        }  # fmt: skip
        return activity

    def _activity(self, kind: str, user_id: str, name: str | None, conversation: Json) -> Json:
        now = datetime.now(UTC)
        return {
            "type": kind, "id": str(next(self._ids)),
            "timestamp": now.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "localTimestamp": now.isoformat(timespec="milliseconds"),
            "serviceUrl": self.service_url, "channelId": "msteams",
            "from": {
                "id": teams_user_id(user_id), "name": name or f"Person {user_id[:4]}", "aadObjectId": user_id
            },
            "conversation": conversation,
            "recipient": {"id": BOT_ID, "name": BOT_NAME},
            "entities": [{"type": "clientInfo", "locale": "en-GB", "country": "GB", "platform": "Web",
                          "timezone": "Europe/London"}],
            "locale": "en-GB", "localTimezone": "Europe/London",
        }  # fmt: skip

    @staticmethod
    def _personal_conversation(user_id: str) -> Json:
        return {
            "conversationType": "personal",
            "tenantId": TENANT_ID,
            "id": personal_conversation_id(user_id),
        }

    @staticmethod
    def _channel_conversation(base: str, thread: str | None) -> Json:
        conversation_id = f"{base};messageid={thread}" if thread else base
        return {"isGroup": True, "conversationType": "channel", "tenantId": TENANT_ID, "id": conversation_id}

    @staticmethod
    def _channel_data(channel: str) -> Json:
        return {
            "teamsChannelId": channel, "teamsTeamId": TEAM_ID,
            "channel": {"id": channel, "name": CHANNEL_NAME if channel == CHANNEL_ID else "General"},
            "team": {"id": TEAM_ID, "name": TEAM_NAME, "aadGroupId": TEAM_GROUP_ID},
            "tenant": {"id": TENANT_ID},
        }  # fmt: skip


def _html_mentions(text: str) -> str:
    """Teams' HTML form of a message: ``<at>X</at>`` becomes ``<at id="0">X</at>``."""
    count = itertools.count()
    return re.sub(r"<at>", lambda _: f'<at id="{next(count)}">', text)


def sender_for(server: AppServer | str, keys: KeyServer, fake: FakeConnector) -> TeamsSender:
    """A `TeamsSender` posting to an `AppServer` (or a URL) on behalf of `fake`'s ``serviceUrl``."""
    url = server.url if isinstance(server, AppServer) else server
    return TeamsSender(url, keys, fake.base_url)
