"""The Slack side of a running assistant: one Web API client, the case threads, the listeners, and
the transport Slack reaches them by (Socket Mode, or signed HTTP requests on a port, which also
answers the health checks of `bot.chat.health`: Socket Mode has no port, so no health checks).

The client retries rate limits (honouring Retry-After) and server errors itself; anything Slack
still refuses leaves the case thread's cursor where it was, and the next cycle tries again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime

from aiohttp import web
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from bot.chat import health
from bot.chat.threads import CaseThreads, ThreadChat
from bot.config import Config
from bot.service import CaseService
from bot.slack.app import Handlers, build_app, register
from bot.slack.commands import Commands
from bot.slack.threads import SlackSurface

log = logging.getLogger("jointly.slack")
EVENTS_PATH = "/slack/events"


class SlackFront:
    converses = False

    def __init__(
        self, config: Config, service: CaseService, clock: Callable[[], datetime], environ: Mapping[str, str]
    ) -> None:
        slack = config.slack
        assert slack is not None, "checked when the configuration was loaded"
        self.settings = slack
        self.service = service
        self.client = AsyncWebClient(token=environ[slack.bot_token_env], base_url=slack.api_base_url)
        self.client.retry_handlers.extend(
            [
                AsyncRateLimitErrorRetryHandler(max_retry_count=2),
                AsyncServerErrorRetryHandler(max_retry_count=2),
            ]
        )
        self.surface = SlackSurface(self.client, slack.complaints_channel)
        self.threads = CaseThreads(config, service, self.surface, clock)
        self.chat = ThreadChat(config, self.threads)
        http = slack.mode == "http"
        self.app = build_app(self.client, environ[slack.signing_secret_env] if http else None)
        register(
            self.app,
            Handlers(config, service, self.threads, self.client, clock),
            Commands(config, service, self.threads, clock),
        )
        self._app_token = "" if http else environ[slack.app_token_env]
        self._socket: AsyncSocketModeHandler | None = None
        self._site: web.AppRunner | None = None

    async def start(self) -> None:
        await self.surface.find_workspace()  # also checks the bot token before anything is served
        if self._app_token:
            self._socket = AsyncSocketModeHandler(self.app, self._app_token)
            await self._socket.connect_async()  # type: ignore[no-untyped-call]
            log.info("slack: connected by Socket Mode")
            return
        self._site = web.AppRunner(self.web_app())
        await self._site.setup()
        await web.TCPSite(self._site, self.settings.http_host, self.settings.http_port).start()
        log.info("slack: serving %s on port %d", EVENTS_PATH, self.settings.http_port)

    def web_app(self) -> web.Application:
        """The aiohttp application HTTP mode serves: Slack's events, and the health checks."""
        served = self.app.web_app(EVENTS_PATH)
        served.router.add_get(health.ALIVE_PATH, self._alive)
        served.router.add_get(health.READY_PATH, self._ready)
        return served

    async def _alive(self, request: web.Request) -> web.Response:
        status, text = health.alive()
        return web.Response(status=status, text=text)

    async def _ready(self, request: web.Request) -> web.Response:
        status, text = await health.ready(self.service.store)
        return web.Response(status=status, text=text)

    async def sync_changed(self) -> int:
        return await self.threads.sync_changed()

    async def stop(self) -> None:
        if self._socket is not None:
            await self._socket.close_async()  # type: ignore[no-untyped-call]
        if self._site is not None:
            await self._site.cleanup()
