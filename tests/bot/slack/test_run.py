"""`jointly run` with `[slack]`: a real process talking to the fake Slack, by Socket Mode through
`apps.connections.open`, or serving signed HTTP requests on the configured port."""

from __future__ import annotations

import asyncio
import signal
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from bot.config import SAMPLE_DIRECTORY
from tests.bot.slack.conftest import ASHA
from tests.bot.test_cli import JOINTLY, SERVICE_CONFIG, environment
from tests.servers.slack import CHANNEL, SIGNING_SECRET, FakeSlack, SlackSender, slash_command

SLACK_CONFIG = """
[chat]
kind = "slack"

[slack]
mode = "{mode}"
api_base_url = "{base_url}"
complaints_channel = "{channel}"
http_host = "127.0.0.1"
http_port = {port}
"""
TOKENS = {
    "SLACK_BOT_TOKEN": "xoxb-test",
    "SLACK_APP_TOKEN": "xapp-test",
    "SLACK_SIGNING_SECRET": SIGNING_SECRET,
}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@asynccontextmanager
async def running(
    tmp_path: Path, fake: FakeSlack, mode: str, port: int
) -> AsyncIterator[asyncio.StreamReader]:
    """`jointly run` in `tmp_path`; yields its log (stderr) and stops it with SIGTERM, cleanly."""
    slack = SLACK_CONFIG.format(mode=mode, base_url=fake.base_url, channel=CHANNEL, port=port)
    config = SERVICE_CONFIG + slack
    (tmp_path / "config.toml").write_text(config + SAMPLE_DIRECTORY.read_text())
    process = await asyncio.create_subprocess_exec(
        str(JOINTLY), "run", cwd=tmp_path, env=environment(tmp_path, **TOKENS),
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert process.stderr is not None
    try:
        yield process.stderr
        process.send_signal(signal.SIGTERM)
        rest = (await asyncio.wait_for(process.stderr.read(), 20)).decode()
        assert await process.wait() == 0, rest
        assert "stopped" in rest and "Traceback" not in rest
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def logged(log: asyncio.StreamReader, words: str) -> None:
    """Read the log until a line says `words` (a running process announcing itself, not a timing)."""
    async with asyncio.timeout(30):
        while words not in (line := (await log.readline()).decode()):
            assert line, f"the process ended before logging {words!r}"


async def test_socket_mode_connects_through_apps_connections_open(
    tmp_path: Path, fake_slack: FakeSlack
) -> None:
    async with running(tmp_path, fake_slack, "socket", 3000) as log:
        await logged(log, "connected by Socket Mode")
        await fake_slack.wait_connected()
        ack = await fake_slack.push(
            "slash_commands", slash_command(command="/complaint", text="help", user_id=ASHA)
        )

    assert [call.token for call in fake_slack.calls_to("apps.connections.open")] == ["xapp-test"]
    assert "/complaint new" in str(ack)


async def test_http_mode_serves_signed_requests_on_the_configured_port(
    tmp_path: Path, fake_slack: FakeSlack
) -> None:
    port = free_port()
    async with running(tmp_path, fake_slack, "http", port) as log:
        await logged(log, f"on port {port}")
        assert fake_slack.calls_to("auth.test")  # the workspace's address, asked before any request came
        send = SlackSender(f"http://127.0.0.1:{port}/slack/events", SIGNING_SECRET)
        status, text = await send.command(command="/complaint", text="help", user_id=ASHA)
        forged, _ = await SlackSender(send.url, "wrong secret").command(command="/complaint", text="help")

    assert status == 200 and "/complaint new" in text
    assert forged == 401
