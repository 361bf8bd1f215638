"""Outgoing calls to Teams go through the proxy the environment names, as NHS networks need."""

from __future__ import annotations

import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.bot.teams.conftest import ASHA, serving, teams_config
from tests.servers.teams import FakeConnector, KeyServer

DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # the proxy itself goes direct


class Proxy(ThreadingHTTPServer):
    """A plain HTTP forward proxy on 127.0.0.1 that remembers what it carried."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Forward)
        self.carried: list[str] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Forward(BaseHTTPRequestHandler):
    server: Proxy

    def _forward(self) -> None:
        self.server.carried.append(f"{self.command} {urlsplit(self.path).path}")  # sent the whole URL
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        headers = {
            k: v for k, v in self.headers.items() if k.lower() not in ("proxy-connection", "connection")
        }
        request = urllib.request.Request(self.path, data=body or None, headers=headers, method=self.command)
        try:
            with DIRECT.open(request, timeout=10) as answer:
                status, answered, data = answer.status, answer.getheaders(), answer.read()
        except urllib.error.HTTPError as refused:
            with refused:
                status, answered, data = refused.code, list(refused.headers.items()), refused.read()
        self.send_response(status)
        for key, value in answered:
            if key.lower() not in ("transfer-encoding", "connection", "content-length"):
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_DELETE = _forward

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def proxy() -> Iterator[Proxy]:
    server = Proxy()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


async def test_calls_to_the_connector_go_through_the_configured_proxy(
    tmp_path: Path,
    teams_env: None,
    teams_keys: KeyServer,
    fake_teams: FakeConnector,
    proxy: Proxy,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HTTP_PROXY", proxy.url)  # the fake connector is plain http; HTTPS_PROXY alike
    monkeypatch.delenv("NO_PROXY", raising=False)
    fake_teams.install(ASHA)
    async with serving(teams_config(tmp_path / "var", fake_teams), teams_keys, fake_teams) as teams:
        await teams.email()

    assert [c.ok for c in fake_teams.calls_to("create_conversation")] == [True]
    assert any(line.startswith("POST /emea/v3/conversations") for line in proxy.carried), proxy.carried
