"""The SMTP mailer against a real aiosmtpd server on loopback: what arrives, over each kind of
security, and which failures are permanent. Then the effect runner with it: a refused or absent
server loses nothing and doubles nothing."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from bot.config import Config, local_config
from bot.intake import Intake
from bot.runner import EffectRunner
from bot.service import CaseService
from mail.errors import SendError
from mail.letters import build_message, message_id_for, render_letter
from mail.maildir import MaildirInbox
from mail.settings import MaildirMailbox, SmtpOutbox
from mail.smtp import SmtpMailer
from store.records import EffectRecord
from store.store import Store
from tests.bot.fakes import RecordingChat
from tests.bot.support import NOW, RECEIVED, SECRET, opened, sample
from tests.mail.contexts import context_for

if TYPE_CHECKING:  # imported at run time by pytest_plugins only, so pytest can rewrite its asserts
    from tests.servers.smtp import SmtpServer, TestCert

pytest_plugins = ["tests.servers.smtp"]

FROM = "complaints@northshire-trust.example"
TO = "margaret.ellison@example.org"
COMPLAINT_ID = "<complaint-1@mail.example.org>"
ACCOUNTS = {"jointly": "s3cret"}
Servers = Callable[..., "SmtpServer"]


def outbox(port: int, security: str = "none", username: str | None = None) -> SmtpOutbox:
    return SmtpOutbox(
        kind="smtp",
        host="127.0.0.1",
        port=port,
        security=security,  # type: ignore[arg-type]
        username=username,
        password_env="SMTP_PASSWORD" if username else None,
        from_address=FROM,
        from_name="Northshire Hospitals Complaints Team",
    )


def letter() -> EmailMessage:
    return build_message(
        render_letter("acknowledgement", context_for("acknowledgement")),
        from_address=FROM,
        from_name="Northshire Hospitals Complaints Team",
        to_address=TO,
        to_name="Margaret Ellison",
        message_id=message_id_for("JC-1:acknowledgement", "jointly.invalid", SECRET),
        sent_at=NOW,
        automatic=True,
        in_reply_to=COMPLAINT_ID,
        references=[COMPLAINT_ID],
    )


async def failure(mailer: SmtpMailer) -> SendError:
    with pytest.raises(SendError) as caught:
        await mailer.send(letter())
    return caught.value


@pytest.mark.parametrize(
    ("security", "username"), [("starttls", "jointly"), ("tls", "jointly"), ("none", None)]
)
async def test_a_letter_arrives_whole(
    smtp_servers: Servers, smtp_cert: TestCert, security: str, username: str | None
) -> None:
    server = smtp_servers(security, ACCOUNTS if username else None)
    sent = letter()
    mailer = SmtpMailer(
        outbox(server.port, security, username),
        ACCOUNTS.get(username or ""),
        tls_context=smtp_cert.client_context(),
        timeout=5,
    )

    await mailer.send(sent)

    [received] = server.received
    assert (received.mail_from, received.rcpt_tos) == (FROM, (TO,))
    assert (received.login, received.tls) == (username, security != "none")
    message = received.message()
    assert message["From"] == "Northshire Hospitals Complaints Team <complaints@northshire-trust.example>"
    assert message["To"] == f"Margaret Ellison <{TO}>"
    assert "NHT-2026-0042" in message["Subject"]  # the case reference from the context
    assert (
        message["Message-ID"]
        == sent["Message-ID"]
        == message_id_for("JC-1:acknowledgement", "jointly.invalid", SECRET)
    )
    assert message["In-Reply-To"] == message["References"] == COMPLAINT_ID
    assert message["Auto-Submitted"] == "auto-replied"
    assert message["X-Auto-Response-Suppress"] == "All"
    assert [part.get_content_type() for part in message.iter_parts()] == ["text/plain", "text/html"]
    plain, html = (message.get_body(preferencelist=(kind,)) for kind in ("plain", "html"))
    assert plain is not None and "Margaret Ellison" in plain.get_content()
    assert html is not None and "<p>" in html.get_content()


async def test_a_recipient_refused_with_550_is_permanent(smtp_server: SmtpServer) -> None:
    smtp_server.refuse_recipients(550)

    error = await failure(SmtpMailer(outbox(smtp_server.port), None))

    assert error.permanent
    assert (error.context["code"], error.context["stage"]) == (550, "send")
    assert "No such user" in str(error.context["reply"])
    assert error.context["message_id"] == letter()["Message-ID"]
    assert "Margaret" not in str(error) and "received your complaint" not in str(error)  # no body
    assert smtp_server.received == []


async def test_a_recipient_refused_with_450_is_temporary(smtp_server: SmtpServer) -> None:
    smtp_server.refuse_recipients(450)

    error = await failure(SmtpMailer(outbox(smtp_server.port), None))

    assert not error.permanent
    assert error.context["code"] == 450


async def test_nothing_listening_is_temporary(closed_port: int) -> None:
    error = await failure(SmtpMailer(outbox(closed_port), None, timeout=5))

    assert not error.permanent
    assert (error.context["stage"], error.context["port"]) == ("connect", closed_port)
    assert "cannot be reached" in error.message


async def test_a_stopped_server_fails_temporarily_and_takes_the_letter_once_back(
    smtp_server: SmtpServer,
) -> None:
    mailer = SmtpMailer(outbox(smtp_server.port), None, timeout=5)
    smtp_server.stop()

    assert not (await failure(mailer)).permanent

    smtp_server.start()  # the same port
    await mailer.send(letter())
    assert len(smtp_server.received) == 1


async def test_a_server_that_never_answers_times_out_temporarily(silent_port: int) -> None:
    error = await failure(SmtpMailer(outbox(silent_port), None, timeout=0.3))

    assert not error.permanent
    assert "in time" in error.message


async def test_starttls_required_but_not_offered_is_temporary_and_sends_nothing(
    smtp_server: SmtpServer, smtp_cert: TestCert
) -> None:
    """A configuration problem, not the letter's: it goes once the server or the setting is fixed."""
    mailer = SmtpMailer(outbox(smtp_server.port, "starttls"), None, tls_context=smtp_cert.client_context())

    error = await failure(mailer)

    assert not error.permanent
    assert error.context["stage"] == "starttls" and "STARTTLS" in error.message
    assert smtp_server.received == []


async def test_a_wrong_password_is_temporary_with_the_code(
    smtp_servers: Servers, smtp_cert: TestCert, caplog: pytest.LogCaptureFixture
) -> None:
    """An administrator must fix the login; the letter then goes, so it is not failed for good."""
    server = smtp_servers("starttls", ACCOUNTS)
    mailer = SmtpMailer(
        outbox(server.port, "starttls", "jointly"), "wrong", tls_context=smtp_cert.client_context()
    )

    error = await failure(mailer)

    assert not error.permanent
    assert (error.context["code"], error.context["stage"]) == (535, "login")
    assert "wrong" not in str(error)
    assert [r for r in caplog.records if r.levelname == "ERROR" and "login" in r.getMessage()] != []
    assert server.received == []


@pytest.mark.parametrize("security", ["starttls", "tls"])
async def test_an_untrusted_certificate_fails_the_handshake_temporarily(
    smtp_servers: Servers, security: str
) -> None:
    server = smtp_servers(security)

    error = await failure(SmtpMailer(outbox(server.port, security), None, timeout=5))  # system trust only

    assert not error.permanent
    assert "TLS handshake" in error.message
    assert server.received == []


async def test_a_login_the_server_does_not_offer_is_temporary(smtp_server: SmtpServer) -> None:
    error = await failure(SmtpMailer(outbox(smtp_server.port, "none", "jointly"), "s3cret"))

    assert not error.permanent
    assert error.context["stage"] == "login" and "AUTH" in str(error.context["reason"])


def test_a_login_without_a_password_is_refused_at_once() -> None:
    with pytest.raises(SendError, match="no password"):
        SmtpMailer(outbox(2525, "starttls", "jointly"), None)


# --- with the effect runner ---------------------------------------------------------------------


class Office:
    """The application from real parts in tmp_path, sending through the SMTP server on loopback."""

    def __init__(self, tmp_path: Path, store: Store, port: int) -> None:
        local = local_config(tmp_path / "var")
        self.config: Config = local.model_copy(update={"outbox": outbox(port)})
        self.store = store
        self.service = CaseService(store)
        assert isinstance(self.config.mailbox, MaildirMailbox)
        self.inbox = MaildirInbox(self.config.mailbox.path)
        self.chat = RecordingChat()
        mailer = SmtpMailer(outbox(port), None, timeout=5)
        self.runner = EffectRunner(self.config, self.service, mailer, self.chat, SECRET)

    def take_in(self) -> str:
        self.inbox.deliver(sample(1), RECEIVED)
        [ref] = opened(Intake(self.config, self.service, self.inbox, SECRET).poll(NOW))
        return ref

    def letter_record(self, ref: str) -> EffectRecord:
        [record] = [r for r in self.store.load(ref).effects if r.effect["type"] == "SendLetter"]
        return record


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store.open(tmp_path / "var" / "store") as opened_store:
        yield opened_store


@pytest.fixture
def office(tmp_path: Path, store: Store, smtp_server: SmtpServer) -> Office:
    return Office(tmp_path, store, smtp_server.port)


@pytest.mark.parametrize("outage", ["refused with 451", "down"])
async def test_a_temporary_failure_is_retried_later_and_delivers_exactly_once(
    office: Office, smtp_server: SmtpServer, outage: str
) -> None:
    ref = office.take_in()
    if outage == "down":
        smtp_server.stop()
    else:
        smtp_server.refuse_recipients(451)

    assert await office.runner.run_due(NOW) == 1  # the handlers' notice; not the letter

    record = office.letter_record(ref)
    assert (record.status, record.attempts) == ("pending", 1)
    assert record.next_attempt_at > NOW
    assert ("451" if outage != "down" else "cannot be reached") in (record.last_error or "")
    [letter] = office.service.load(ref).letters.values()
    assert letter.sent_at is None and not letter.failed
    assert await office.runner.run_due(NOW + timedelta(seconds=1)) == 0  # not due yet: not retried

    smtp_server.start()
    smtp_server.refuse_recipients(None)
    later = record.next_attempt_at
    assert await office.runner.run_due(later) == 1
    assert await office.runner.run_due(later + timedelta(days=1)) == 0

    [received] = smtp_server.received  # exactly one
    [letter] = office.service.load(ref).letters.values()
    assert (letter.sent_at, letter.failed, office.letter_record(ref).status) == (later, "", "done")
    assert received.message()["Message-ID"] == letter.message_id
    assert ref in received.message()["Subject"]


async def test_a_permanent_refusal_fails_the_letter_and_tells_the_handlers(
    office: Office, smtp_server: SmtpServer
) -> None:
    ref = office.take_in()
    smtp_server.refuse_recipients(550)

    for hours in (0, 1, 2):
        await office.runner.run_due(NOW + timedelta(hours=hours))

    record = office.letter_record(ref)
    assert record.status == "done"  # not retried
    [letter] = office.service.load(ref).letters.values()
    assert letter.failed and letter.sent_at is None
    assert [s for s in office.chat.said if s.ref == ref and "could not be sent" in s.text] != []
    assert smtp_server.received == []
