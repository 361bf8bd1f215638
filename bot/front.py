"""The chat front a running assistant talks to people through: Slack, Teams or the terminal.

The service needs little of a front: a chat port for the runner's notices, a start and a stop,
bringing the case threads up to date after each cycle, and whether the terminal's own conversation
runs beside it. Which front runs is `[chat] kind`; a team chat's libraries are imported only when
it is the one configured.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, TextIO

from bot.config import Config
from bot.runner import Chat
from bot.service import CaseService
from bot.terminal import TerminalChat


class Front(Protocol):
    @property
    def chat(self) -> Chat: ...

    @property
    def converses(self) -> bool:
        """Whether the handler at the keyboard answers in the terminal."""
        ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def sync_changed(self) -> int:
        """Bring the case threads of the cases changed since the last call up to date."""
        ...


@dataclass
class TerminalFront:
    """Local mode's front: notices printed for the handler at the keyboard, who answers there."""

    chat: TerminalChat
    converses: bool = True

    async def start(self) -> None:
        pass

    async def stop(self) -> None:
        pass

    async def sync_changed(self) -> int:
        return 0


def build_front(
    config: Config,
    service: CaseService,
    clock: Callable[[], datetime],
    environ: Mapping[str, str],
    out: TextIO,
    at_keyboard: str,
    options: Mapping[str, Any] | None = None,
) -> Front:
    """The configured front; `options` go to a team chat's SDK (tests point it at local fakes)."""
    if config.chat.kind == "slack":
        from bot.slack.front import SlackFront

        return SlackFront(config, service, clock, environ)
    if config.chat.kind == "teams":
        from bot.teams.front import TeamsFront

        return TeamsFront(config, service, clock, environ, options)
    return TerminalFront(TerminalChat(service, out, at_keyboard))
