"""XOAUTH2 token sources end to end: msal's client-credentials flow against a local identity endpoint
(HTTPS, the test certificate), its token used to log in to the real Dovecot; and the cache that
holds a token until shortly before it expires."""

from __future__ import annotations

import base64
import json
import ssl
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar
from urllib.parse import parse_qs

import pytest

from mail.errors import TokenError
from mail.imap import ImapInbox
from mail.oauth import OUTLOOK_SCOPE, Token, Tokens, client_credentials_fetch, command_fetch
from mail.settings import ImapMailbox
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


def token_source(identity: str, dovecot: Dovecot, secret: str) -> Tokens:
    session = requests.Session()
    session.trust_env = False  # REQUESTS_CA_BUNDLE in the environment would override `verify`
    session.verify = str(dovecot.cert_path)
    options = {"authority_host": identity, "instance_discovery": False, "http_client": session}
    return Tokens(client_credentials_fetch("tenant-1", "client-1", secret, **options))


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
        }
    )
    tokens = token_source(identity, dovecot, "client-secret")
    dovecot.append(imap_user, b"Subject: one\r\n\r\nText\r\n")
    with Store.open(tmp_path / "store") as store:
        inbox = ImapInbox(settings, None, store, tokens=tokens, ssl_context=dovecot.ssl_context())
        try:
            assert len(inbox.pending()) == 1
        finally:
            inbox.close()
    assert f"user=<{imap_user}>, method=XOAUTH2" in dovecot.log()
    (grant,) = Identity.grants
    assert grant["grant_type"] == ["client_credentials"]
    assert grant["scope"] == [OUTLOOK_SCOPE]
    assert tokens.token() == Dovecot.password and len(Identity.grants) == 1  # held: no second request
    assert tokens.renew(Dovecot.password) == Dovecot.password and len(Identity.grants) == 2  # not msal's


def test_a_refused_client_secret_is_a_mailbox_error_without_the_secret(
    dovecot: Dovecot, identity: str
) -> None:
    tokens = token_source(identity, dovecot, "wrong-secret")
    with pytest.raises(TokenError, match="invalid_client") as refused:
        tokens.token()
    assert "wrong-secret" not in str(refused.value)


# --- the cache ----------------------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def counting(lifetime: float | None, clock: Clock) -> tuple[Tokens, list[str]]:
    fetched: list[str] = []

    def fetch() -> Token:
        fetched.append(f"token-{len(fetched) + 1}")
        return Token(fetched[-1], None if lifetime is None else clock.now + lifetime)

    return Tokens(fetch, clock=clock, early=300), fetched


def test_a_token_is_held_until_shortly_before_it_expires() -> None:
    clock = Clock()
    tokens, fetched = counting(3600, clock)

    assert tokens.token() == tokens.token() == "token-1"
    clock.now += 3600 - 301
    assert tokens.token() == "token-1"
    clock.now += 1  # five minutes left: a login could outlive it
    assert tokens.token() == "token-2"
    assert fetched == ["token-1", "token-2"]


def test_a_token_whose_expiry_is_not_known_is_fetched_for_each_login() -> None:
    tokens, _ = counting(None, Clock())

    assert [tokens.token(), tokens.token()] == ["token-1", "token-2"]


def test_a_refused_token_is_replaced_once_even_when_two_logins_say_so() -> None:
    tokens, fetched = counting(3600, Clock())
    refused = tokens.token()

    assert tokens.renew(refused) == "token-2"
    assert tokens.renew(refused) == "token-2"  # the other login's refusal is about the old one
    assert fetched == ["token-1", "token-2"]


def jwt(claims: str) -> str:
    encode = base64.urlsafe_b64encode
    return b".".join([encode(b'{"alg":"none"}'), encode(claims.encode()).rstrip(b"="), b"sig"]).decode()


@pytest.mark.parametrize(
    ("printed", "expires_at"),
    [
        (jwt('{"exp": 1800003600, "aud": "https://outlook.office365.com"}'), 1800003600.0),
        (jwt('{"aud": "no exp"}'), None),
        (jwt('{"exp": true}'), None),
        ("ya29.an-opaque-token", None),
        ("not.base64!.at-all", None),
    ],
)
def test_a_command_token_expires_when_its_jwt_says(printed: str, expires_at: float | None) -> None:
    fetch = command_fetch([sys.executable, "-c", f"print({printed!r})"])

    assert fetch() == Token(printed, expires_at)
