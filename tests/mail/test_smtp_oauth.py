"""The SMTP mailer logging in with XOAUTH2 against a real aiosmtpd server on loopback that takes only
tokens the test's issuer gave out: the token is held while it lasts, fetched again when it has
expired between two sends, and fetched again once when the server refuses it (535)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest

from mail.errors import SendError
from mail.oauth import Tokens, command_fetch
from mail.settings import SmtpOutbox
from mail.smtp import SmtpMailer
from tests.mail.test_smtp import ACCOUNTS, FROM, letter
from tests.servers.smtp import Issuer

if TYPE_CHECKING:
    from tests.servers.smtp import SmtpServer, TestCert

pytest_plugins = ["tests.servers.smtp"]

USER = "complaints@northshire-trust.example"
Servers = Callable[..., "SmtpServer"]


def mailer(server: SmtpServer, cert: TestCert, tokens: Tokens) -> SmtpMailer:
    settings = SmtpOutbox(
        kind="smtp",
        host=server.host,
        port=server.port,
        security="starttls",
        auth="xoauth2",
        username=USER,
        from_address=FROM,
    )
    return SmtpMailer(settings, None, tokens=tokens, tls_context=cert.client_context(), timeout=5)


@pytest.fixture
def issuer() -> Issuer:
    return Issuer(lifetime=3600)


@pytest.fixture
def server(smtp_servers: Servers, issuer: Issuer) -> SmtpServer:
    return smtp_servers("starttls", issuer=issuer)


@pytest.fixture
def outbox(server: SmtpServer, smtp_cert: TestCert, issuer: Issuer) -> SmtpMailer:
    return mailer(server, smtp_cert, Tokens(issuer.fetch, clock=issuer.clock))


async def test_the_letter_goes_after_an_xoauth2_login(
    outbox: SmtpMailer, server: SmtpServer, issuer: Issuer
) -> None:
    await outbox.send(letter())

    [received] = server.received
    assert (received.login, received.tls, received.mail_from) == (USER, True, FROM)
    assert issuer.issued == ["token-1"] and issuer.refused == []


async def test_a_token_that_expires_between_two_sends_is_fetched_again_before_the_login(
    outbox: SmtpMailer, server: SmtpServer, issuer: Issuer
) -> None:
    await outbox.send(letter())
    issuer.now += 3000  # ten minutes left: still handed out
    await outbox.send(letter())
    assert issuer.issued == ["token-1"]

    issuer.now += 601  # expired since the last send
    await outbox.send(letter())

    assert issuer.issued == ["token-1", "token-2"]
    assert issuer.refused == []  # the cache knew: the server never saw the expired token
    assert [r.login for r in server.received] == [USER] * 3


async def test_a_token_the_server_refuses_with_535_is_fetched_again_once(
    outbox: SmtpMailer, server: SmtpServer, issuer: Issuer
) -> None:
    await outbox.send(letter())
    issuer.revoke()  # e.g. the app's permission was changed: the token has not expired

    await outbox.send(letter())

    assert issuer.refused == ["token-1"]
    assert issuer.issued == ["token-1", "token-2"]
    assert len(server.received) == 2


async def test_a_token_refused_again_gives_up_with_a_temporary_error(
    smtp_servers: Servers, smtp_cert: TestCert
) -> None:
    issuer = Issuer(lifetime=0)  # every token is expired when the server sees it
    server = smtp_servers("starttls", issuer=issuer)

    with pytest.raises(SendError) as caught:
        await mailer(server, smtp_cert, Tokens(issuer.fetch, clock=issuer.clock)).send(letter())

    error = caught.value
    assert not error.permanent
    assert (error.context["stage"], error.context["code"]) == ("login", 535)
    assert "[oauth2]" in error.message and "token-" not in str(error)
    assert issuer.issued == issuer.refused == ["token-1", "token-2"]  # one more try, then no more
    assert server.received == []


async def test_a_server_without_xoauth2_is_a_temporary_error(
    smtp_servers: Servers, smtp_cert: TestCert, issuer: Issuer
) -> None:
    server = smtp_servers("starttls", accounts=ACCOUNTS)  # passwords only

    with pytest.raises(SendError) as caught:
        await mailer(server, smtp_cert, Tokens(issuer.fetch)).send(letter())

    assert not caught.value.permanent and "XOAUTH2" in str(caught.value.context["reason"])
    assert issuer.issued == [] and server.received == []


async def test_a_failing_token_command_is_a_temporary_error_without_what_it_printed(
    server: SmtpServer, smtp_cert: TestCert
) -> None:
    fails = command_fetch([sys.executable, "-c", "import sys; print('secret'); sys.exit(3)"])

    with pytest.raises(SendError) as caught:
        await mailer(server, smtp_cert, Tokens(fails)).send(letter())

    assert not caught.value.permanent and caught.value.context["stage"] == "login"
    assert "token command failed" in str(caught.value) and "status=3" in str(caught.value)
    assert "secret" not in str(caught.value)
    assert server.received == []
