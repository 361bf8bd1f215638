"""The Microsoft Teams side of a running assistant: the Teams SDK's app serving the standard
messaging endpoint (`POST /api/messages`) and, on the same port, the health checks of
`bot.chat.health`; the case threads, and the handlers.

The app's identity comes from the environment variables `[teams]` names (by default the SDK's own
CLIENT_ID, TENANT_ID and CLIENT_SECRET), or a certificate instead of the secret. Inbound requests are
always checked by the SDK (a token Teams signed for this app); nothing here can turn that off.
Outgoing calls go through httpx, which honours HTTPS_PROXY and SSL_CERT_FILE from the environment.

`sdk` takes App options for tests only (a local key server's cloud, a token for the fake connector):
the product never passes it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import warnings
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import uvicorn
from fastapi import FastAPI
from fastapi.responses import PlainTextResponse

from bot.chat import health
from bot.chat.threads import CaseThreads, ThreadChat
from bot.config import Config
from bot.service import CaseService
from bot.teams.app import TeamsHandlers
from bot.teams.surface import TeamsSurface

with warnings.catch_warnings():  # the SDK warns at import that a part we do not use is a preview
    warnings.simplefilter("ignore", FutureWarning)
    from microsoft_teams.apps import App, FastAPIAdapter

log = logging.getLogger("jointly.teams")
MESSAGES_PATH = "/api/messages"


class TeamsFront:
    converses = False

    def __init__(
        self,
        config: Config,
        service: CaseService,
        clock: Callable[[], datetime],
        environ: Mapping[str, str],
        sdk: Mapping[str, Any] | None = None,
    ) -> None:
        teams = config.teams
        assert teams is not None, "checked when the configuration was loaded"
        self.settings = teams
        self.service = service
        tenant = environ[teams.tenant_id_env]
        adapter = FastAPIAdapter(server_factory=self._server)
        self._health_routes(adapter.app)
        options: dict[str, Any] = {
            "client_id": environ[teams.client_id_env],
            "tenant_id": tenant,
            "service_url": teams.service_url.rstrip("/"),
            "messaging_endpoint": MESSAGES_PATH,
            "http_server_adapter": adapter,
        }
        options |= dict(sdk or {})
        # the SDK would take this from DANGEROUSLY_ALLOW_UNAUTHENTICATED_REQUESTS: never, here
        options["dangerously_allow_unauthenticated_requests"] = False
        if "token" in options:
            pass  # a test's own token for the fake connector
        elif teams.certificate_env:
            options["token"] = certificate_token(options["client_id"], tenant, environ[teams.certificate_env])
        else:
            options["client_secret"] = environ[teams.client_secret_env]
        self.app = App(**options)
        self.surface = TeamsSurface(self.app.api, teams, tenant, service, self._graph_token)
        self.threads = CaseThreads(config, service, self.surface, clock)
        self.chat = ThreadChat(config, self.threads)
        self.handlers = TeamsHandlers(config, service, self.threads, self.surface, clock)
        self.app.on_card_action_execute(self.handlers.action)  # type: ignore[arg-type]  # JSON, not models
        self.app.on_message(self.handlers.message)
        self.app.on_install_add(self.handlers.installed)
        self.port = teams.http_port
        self._socket: socket.socket | None = None
        self._ready = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Serve the messaging endpoint; returns once it is listening (`port` is then the real one)."""
        self._socket = socket.create_server((self.settings.http_host, self.port))
        # asyncio sets TCP_NODELAY only on sockets made with IPPROTO_TCP; without it every answer on a
        # kept-alive connection waited ~40 ms for the client's delayed ACK
        self._socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.port = self._uvicorn.config.port = self._socket.getsockname()[1]
        self._task = asyncio.create_task(self.app.start(self.port))
        ready = asyncio.create_task(self._ready.wait())
        await asyncio.wait({self._task, ready}, return_when=asyncio.FIRST_COMPLETED)
        if not ready.done():
            ready.cancel()
            self._task.result()
            raise RuntimeError("the Teams app stopped before it served")
        log.info("teams: serving %s on port %d", MESSAGES_PATH, self.port)

    async def stop(self) -> None:
        if self._task is not None and not self._task.done():
            await self.app.stop()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._socket is not None:
            self._socket.close()

    async def sync_changed(self) -> int:
        return await self.threads.sync_changed()

    def _server(self, fastapi: Any) -> uvicorn.Server:
        """Built with the App, before the port is known: `start` sets it."""
        self._uvicorn = _Served(uvicorn.Config(fastapi, log_config=None, log_level="warning"), self)
        return self._uvicorn

    def _health_routes(self, fastapi: FastAPI) -> None:
        """`GET /healthz` and `GET /readyz` beside the SDK's messaging endpoint."""

        async def alive() -> PlainTextResponse:
            status, text = health.alive()
            return PlainTextResponse(text, status_code=status)

        async def ready() -> PlainTextResponse:
            status, text = await health.ready(self.service.store)
            return PlainTextResponse(text, status_code=status)

        fastapi.add_api_route(health.ALIVE_PATH, alive, methods=["GET"], include_in_schema=False)
        fastapi.add_api_route(health.READY_PATH, ready, methods=["GET"], include_in_schema=False)

    async def _graph_token(self) -> str:
        token = await self.app.token_provider.get_app_token(
            self.app.cloud.graph_scope, self.surface.tenant_id
        )
        if token is None:
            raise RuntimeError("no token for Microsoft Graph")
        return str(token)


class _Served(uvicorn.Server):
    """uvicorn on the front's own listening socket, saying when it serves."""

    def __init__(self, config: uvicorn.Config, front: TeamsFront) -> None:
        super().__init__(config)
        self.front = front

    async def serve(self, sockets: list[socket.socket] | None = None) -> None:
        assert self.front._socket is not None
        await super().serve(sockets=[self.front._socket])

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        self.front._ready.set()


def certificate_token(client_id: str, tenant_id: str, pem: str) -> Callable[..., str]:
    """A `token=` callable for the SDK: client credentials with a certificate (a PEM file holding the
    private key and the certificate), through MSAL, which keeps and renews the token."""
    import msal
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes

    data = Path(pem).read_bytes()
    sha1 = hashes.SHA1()  # noqa: S303 (Entra ID names a certificate by its SHA-1 thumbprint)
    thumbprint = x509.load_pem_x509_certificate(data).fingerprint(sha1).hex()
    client = msal.ConfidentialClientApplication(
        client_id,
        authority=f"https://login.microsoftonline.com/{tenant_id}",
        client_credential={"private_key": data.decode(), "thumbprint": thumbprint},
    )

    def token(scope: str | list[str], tenant: str | None = None) -> str:
        scopes = [scope] if isinstance(scope, str) else list(scope)
        result = client.acquire_token_for_client(scopes=scopes)
        if "access_token" not in result:
            raise RuntimeError(f"no token from Entra ID: {result.get('error_description') or result}")
        return str(result["access_token"])

    return token

