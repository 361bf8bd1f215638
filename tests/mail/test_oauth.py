"""XOAUTH2 token sources end to end: msal's client-credentials flow against a local identity endpoint
(HTTPS, the test certificate), its token used to log in to the real Dovecot."""

from __future__ import annotations

import json
import ssl
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar
from urllib.parse import parse_qs

import pytest

from bot.config import ImapMailbox
from mail.errors import MailboxError
from mail.imap import ImapInbox
from mail.oauth import OUTLOOK_SCOPE, client_credentials_token_source
from store.store import Store
from tests.servers.dovecot import Dovecot, dovecot_fixture, dovecot_server_fixture, imap_user_fixture  # noqa: F401

pytest.importorskip(
    "msal", reason="msal is needed for the client-credentials flow: pip install 'msal>=1.28,<2'"
)
requests = pytest.importorskip("requests", reason="msal brings requests")


class Identity(BaseHTTPRequestHandler):
    """Enough of the Microsoft identity platform: OpenID discovery and the token endpoint."""

    token = Dovecot.password
    grants: ClassVar[list[dict[str, list[str]]]] = []

    def do_GET(self) -> None:
        base = f"https://{self.headers['Host']}/tenant-1"
        self._reply(
            {
                "issuer": f"{base}/v2.0",
                "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
                "token_endpoint": f"{base}/oauth2/v2.0/token",
            }
        )

    def do_POST(self) -> None:
        form = parse_qs(self.rfile.read(int(self.headers["Content-Length"])).decode())
        self.grants.append(form)
        if form.get("client_secret") != ["client-secret"]:
            self._reply({"error": "invalid_client", "error_description": "bad secret"}, status=401)
        else:
            self._reply({"access_token": self.token, "token_type": "Bearer", "expires_in": 3600})

    def _reply(self, body: dict[str, object], status: int = 200) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def identity(dovecot: Dovecot) -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Identity)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(dovecot.cert_path, dovecot.root / "key.pem")
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    Identity.grants.clear()
    yield f"https://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def token_source(identity: str, dovecot: Dovecot, secret: str) -> Callable[[], str]:
    session = requests.Session()
    session.trust_env = False  # REQUESTS_CA_BUNDLE in the environment would override `verify`
    session.verify = str(dovecot.cert_path)
    return client_credentials_token_source(
        "tenant-1", "client-1", secret, authority_host=identity, instance_discovery=False, http_client=session
    )


def test_client_credentials_token_logs_in(
    dovecot: Dovecot, imap_user: str, identity: str, tmp_path: Path
) -> None:
    settings = ImapMailbox.model_validate(
        {
            "kind": "imap",
            "host": dovecot.host,
            "port": dovecot.tls_port,
            "username": imap_user,
            "auth": "xoauth2",
            "oauth2_tenant_id": "tenant-1",
            "oauth2_client_id": "client-1",
            "oauth2_client_secret_env": "IMAP_CLIENT_SECRET",
        }
    )
    tokens = token_source(identity, dovecot, "client-secret")
    dovecot.append(imap_user, b"Subject: one\r\n\r\nText\r\n")
    with Store.open(tmp_path / "store") as store:
        inbox = ImapInbox(
            settings, "client-secret", store, ssl_context=dovecot.ssl_context(), token_source=tokens
        )
        try:
            assert len(inbox.pending()) == 1
        finally:
            inbox.close()
    assert f"user=<{imap_user}>, method=XOAUTH2" in dovecot.log()
    (grant,) = Identity.grants
    assert grant["grant_type"] == ["client_credentials"]
    assert grant["scope"] == [OUTLOOK_SCOPE]
    assert tokens() == Dovecot.password and len(Identity.grants) == 1  # msal's cache, no second request


def test_a_refused_client_secret_is_a_mailbox_error_without_the_secret(
    dovecot: Dovecot, identity: str
) -> None:
    tokens = token_source(identity, dovecot, "wrong-secret")
    with pytest.raises(MailboxError, match="invalid_client") as refused:
        tokens()
    assert "wrong-secret" not in str(refused.value)
