"""A real SMTP server on 127.0.0.1 for tests: aiosmtpd in its own thread, keeping what it receives.

Fixtures (use with ``pytest_plugins = ["tests.servers.smtp"]`` in a test module or the root
conftest, or import them):

- ``smtp_cert`` (session): a self-signed certificate for 127.0.0.1 made with openssl, with the
  server's context and a client context that trusts it (`TestCert.client_context()`).
- ``smtp_servers``: a factory, ``smtp_servers(security="none"|"starttls"|"tls", accounts=None,
  issuer=None)``, starting an `SmtpServer` on a free port; every server it started is stopped
  after the test. ``starttls`` offers and requires STARTTLS; ``tls`` is implicit TLS; ``accounts``
  (user -> password) turns on AUTH (refused with 535 for a wrong password), and ``issuer`` (an
  `Issuer`) AUTH XOAUTH2 with the tokens it issued (refused with 535 once expired or revoked).
- ``smtp_server``: a plain server (``security="none"``, no AUTH).
- ``closed_port``: a port with nothing listening (connection refused).
- ``silent_port``: a port that accepts connections and never says a word (timeouts).

An `SmtpServer` records each message as a `Received` (envelope, raw bytes, login, TLS or not); the
server thread writes and the test reads, so every access goes through a lock. It can refuse every
recipient with a chosen reply (`refuse_recipients(550)`, `refuse_recipients(None)` to accept
again), take a letter and then drop the connection without answering (`hang_up(True)`: the client
cannot know the letter arrived), wait before answering DATA (`answer_after(seconds)`), count the
sessions ended with QUIT (`quits`), and be stopped and started again on the same port. aiosmtpd's
`Controller` cannot bind port 0, so a free port is picked first and the start retried if another
process took it meanwhile.
"""

from __future__ import annotations

import asyncio
import base64
import email
import socket
import ssl
import subprocess
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Literal

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from mail.oauth import Token

HOST = "127.0.0.1"
Security = Literal["none", "starttls", "tls"]
_REPLIES = {4: "4.2.0 Mailbox busy, try again later", 5: "5.1.1 No such user here"}


@dataclass(frozen=True)
class TestCert:
    """A throw-away certificate and key for 127.0.0.1."""

    __test__ = False  # not a test class, despite the name
    cert: Path
    key: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert, self.key)
        return context

    def client_context(self) -> ssl.SSLContext:
        """A verifying client context that trusts this certificate (and nothing else)."""
        return ssl.create_default_context(cafile=str(self.cert))


@dataclass(frozen=True)
class Received:
    """One message as the server took it: the envelope and the bytes exactly as sent."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    data: bytes
    login: str | None
    tls: bool

    def message(self) -> EmailMessage:
        parsed = email.message_from_bytes(self.data, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


class Recorder:
    """The aiosmtpd handler: keeps each message, or refuses recipients when told to."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._received: list[Received] = []
        self._refusal: str | None = None
        self.hang_up = False  # after taking a letter, close the connection instead of answering
        self.quits = 0  # sessions ended politely
        self.delay = 0.0  # seconds to wait, the letter taken, before answering DATA

    @property
    def received(self) -> list[Received]:
        with self._lock:
            return list(self._received)

    def refuse_recipients(self, code: int | None, text: str | None = None) -> None:
        reply = None if code is None else f"{code} {text or _REPLIES[code // 100]}"
        with self._lock:
            self._refusal = reply

    async def handle_RCPT(  # noqa: N802 - aiosmtpd's hook name
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        with self._lock:
            refusal = self._refusal
        if refusal is not None:
            return refusal
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_QUIT(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        with self._lock:
            self.quits += 1
        return "221 Bye"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        received = Received(
            mail_from=envelope.mail_from,
            rcpt_tos=tuple(envelope.rcpt_tos),
            data=bytes(envelope.original_content or envelope.content),
            login=session.auth_data if session.authenticated else None,
            tls=server.transport.get_extra_info("ssl_object") is not None,
        )
        with self._lock:
            self._received.append(received)
        await asyncio.sleep(self.delay)
        if self.hang_up:
            server.transport.close()
        return "250 2.0.0 Message accepted for delivery"


class Passwords:
    """An aiosmtpd authenticator over a fixed user -> password mapping; records who logged in."""

    def __init__(self, accounts: Mapping[str, str]) -> None:
        self.accounts = dict(accounts)

    def __call__(self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        if not isinstance(data, LoginPassword):
            return AuthResult(success=False, handled=False)
        login, password = data.login.decode(), data.password.decode()
        if self.accounts.get(login) != password:
            return AuthResult(success=False, handled=False)
        return AuthResult(success=True, auth_data=login)


class Issuer:
    """The identity platform's part: issues XOAUTH2 access tokens (`fetch`, a `mail.oauth.Fetch`)
    and says which ones are good, on a clock the test moves (`clock`, for the mailer's cache)."""

    def __init__(self, lifetime: float = 3600) -> None:
        self.now = 1_800_000_000.0
        self.lifetime = lifetime
        self.refused: list[str] = []  # tokens presented and refused, in order
        self._lock = threading.Lock()
        self._expiry: dict[str, float] = {}

    def clock(self) -> float:
        return self.now

    def fetch(self) -> Token:
        return self.issue(f"token-{len(self.issued) + 1}")

    def issue(self, token: str) -> Token:
        """Issue this very token (say, one another test server also takes)."""
        with self._lock:
            self._expiry[token] = self.now + self.lifetime
        return Token(token, self.now + self.lifetime)

    @property
    def issued(self) -> list[str]:
        with self._lock:
            return list(self._expiry)

    def revoke(self) -> None:
        """Every token issued so far is refused from now on, although none has expired."""
        with self._lock:
            self._expiry = dict.fromkeys(self._expiry, float("-inf"))

    def accepts(self, token: str) -> bool:
        with self._lock:
            good = self._expiry.get(token, float("-inf")) > self.now
            if not good:
                self.refused.append(token)
            return good


class TokenRecorder(Recorder):
    """A Recorder that also takes AUTH XOAUTH2 (aiosmtpd calls `auth_<MECHANISM>` on the handler)."""

    def __init__(self, issuer: Issuer) -> None:
        super().__init__()
        self.issuer = issuer

    async def auth_XOAUTH2(self, server: Any, args: list[str]) -> AuthResult:  # noqa: N802
        try:  # base64 of "user=<name>\x01auth=Bearer <token>\x01\x01"
            user, bearer = base64.b64decode(args[1], validate=True).decode().split("\x01")[:2]
        except (IndexError, ValueError):
            return AuthResult(success=False, handled=False)
        if not self.issuer.accepts(bearer.removeprefix("auth=Bearer ")):
            return AuthResult(success=False, handled=False)  # 535
        return AuthResult(success=True, auth_data=user.removeprefix("user="))


class SmtpServer:
    """One aiosmtpd server on 127.0.0.1 with the chosen security, recording what it receives."""

    def __init__(
        self,
        security: Security = "none",
        cert: TestCert | None = None,
        accounts: Mapping[str, str] | None = None,
        issuer: Issuer | None = None,
    ) -> None:
        if security != "none" and cert is None:
            raise ValueError("a TLS server needs a certificate")
        self.host = HOST
        self.port = 0
        self.security = security
        self.cert = cert
        self.recorder = Recorder() if issuer is None else TokenRecorder(issuer)
        self.accounts = accounts
        self.issuer = issuer
        self._controller: Controller | None = None

    @property
    def received(self) -> list[Received]:
        return self.recorder.received

    def refuse_recipients(self, code: int | None, text: str | None = None) -> None:
        self.recorder.refuse_recipients(code, text)

    @property
    def quits(self) -> int:
        return self.recorder.quits

    def hang_up(self, on: bool) -> None:
        self.recorder.hang_up = on

    def answer_after(self, seconds: float) -> None:
        self.recorder.delay = seconds

    @property
    def running(self) -> bool:
        return self._controller is not None

    def start(self) -> None:
        """Start on a free port (on the same port again after `stop`)."""
        if self._controller is not None:
            return
        for _ in range(5):
            port = self.port or free_port()
            controller = self._controller_for(port)
            try:
                controller.start()
            except OSError:  # someone took the port between the pick and the bind
                if self.port:
                    raise
                continue
            self.port, self._controller = port, controller
            return
        raise RuntimeError("no free port for the SMTP server")

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def _controller_for(self, port: int) -> Controller:
        options: dict[str, Any] = {"server_hostname": "smtp.test.invalid", "ready_timeout": 5}
        if self.security == "starttls":
            assert self.cert is not None
            options |= {"tls_context": self.cert.server_context(), "require_starttls": True}
        elif self.security == "tls":
            assert self.cert is not None
            options["ssl_context"] = self.cert.server_context()
        if self.accounts is not None or self.issuer is not None:
            # aiosmtpd counts only STARTTLS as TLS, so AUTH must be allowed "without" it on the
            # implicit-TLS server (and in clear text on the plain one, as a local relay might).
            options["auth_require_tls"] = self.security == "starttls"
            options["authenticator"] = Passwords(self.accounts or {})
        return Controller(self.recorder, hostname=HOST, port=port, **options)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def make_cert(folder: Path) -> TestCert:
    cert, key = folder / "smtp-cert.pem", folder / "smtp-key.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
            "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
            "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
            "-keyout", str(key), "-out", str(cert),
        ],
        check=True, capture_output=True,
    )  # fmt: skip
    return TestCert(cert, key)


@pytest.fixture(scope="session")
def smtp_cert(tmp_path_factory: pytest.TempPathFactory) -> TestCert:
    return make_cert(tmp_path_factory.mktemp("smtp-tls"))


@pytest.fixture
def smtp_servers(smtp_cert: TestCert) -> Iterator[Callable[..., SmtpServer]]:
    started: list[SmtpServer] = []

    def start(
        security: Security = "none", accounts: Mapping[str, str] | None = None, issuer: Issuer | None = None
    ) -> SmtpServer:
        server = SmtpServer(security, None if security == "none" else smtp_cert, accounts, issuer)
        server.start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def smtp_server(smtp_servers: Callable[..., SmtpServer]) -> SmtpServer:
    return smtp_servers()


@pytest.fixture
def closed_port() -> int:
    return free_port()


@pytest.fixture
def silent_port() -> Iterator[int]:
    """Listening, never accepting: the connection completes (backlog) but no greeting ever comes."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        sock.listen(8)
        yield sock.getsockname()[1]
