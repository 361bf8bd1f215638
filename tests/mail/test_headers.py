"""Header injection: text someone else wrote reaches the headers of our letters.

A complainant chooses their display name and their email's Message-ID (which our acknowledgement
quotes in In-Reply-To and References); templates may put names and subjects into the Subject. Each
hostile value must either be refused by `build_message` (`LetterError`) or come out folded or
encoded so that the serialised message, and what an SMTP server receives, has exactly the headers
the message was built with: never a Bcc, never an X-Injected, never a header block cut short.

Line breaks and control characters in names and subjects become spaces, and ``=?`` never starts
an encoded word there (the email package would decode ``=?utf-8?q?...=0D=0A...?=`` into a raw line
break); Message-IDs we only echo are dropped unless they have the plain ``<id@host>`` form, and our
own must have it. The SMTP mailer also refuses a message with a broken header, as a second guard.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from bot.config import local_config
from bot.intake import Intake
from bot.runner import EffectRunner
from bot.service import CaseService
from flows.codec import effect_from_plain
from flows.effects import SendLetter
from mail.errors import LetterError, SendError
from mail.letters import RenderedLetter, build_message
from mail.maildir import MaildirInbox
from mail.settings import MaildirMailbox, SmtpOutbox
from mail.smtp import SmtpMailer
from store.store import Store
from tests.bot.fakes import RecordingChat
from tests.bot.support import NOW, RECEIVED, SECRET, complaint, opened

if TYPE_CHECKING:  # imported at run time by pytest_plugins only, so pytest can rewrite its asserts
    from tests.servers.smtp import SmtpServer

pytest_plugins = ["tests.servers.smtp"]

FROM, TO = "complaints@northshire-trust.example", "pat@example.org"
LINE_BREAKS = {
    "crlf-bcc": "\r\nBcc: evil@example.org",
    "lf": "\nX-Injected: 1",
    "cr": "\rX-Injected: 1",
    "crlf-space": "\r\n X-Injected: 1",
    "line-separator": "\u2028X-Injected: 1",
    "next-line": "\x85X-Injected: 1",
}
FIELDS = ("to_name", "from_name", "subject", "in_reply_to", "references", "message_id", "reply_to")
Q_ENCODED = "=?utf-8?q?Pat=0D=0AX-Injected:_1?="
B_ENCODED = "=?utf-8?b?" + base64.b64encode(b"Pat\r\nBcc: evil@example.org").decode() + "?="
HOLES = [
    ("to_name", Q_ENCODED, "to_name-q"),
    ("to_name", B_ENCODED, "to_name-b"),
    ("from_name", Q_ENCODED, "from_name-q"),
    ("subject", Q_ENCODED, "subject-q"),
    ("subject", B_ENCODED, "subject-b"),
    ("in_reply_to", Q_ENCODED, "in_reply_to-q"),
    ("references", Q_ENCODED, "references-q"),
    ("message_id", Q_ENCODED, "message_id-q"),
    ("in_reply_to", "<a@mail.example.org>\n", "in_reply_to-lf"),  # ends the header block early
    ("in_reply_to", "<a@mail.example.org>\r\n", "in_reply_to-crlf"),
    ("references", "<a@mail.example.org>\n", "references-lf"),
]


def holes(*marks: pytest.MarkDecorator) -> list[Any]:
    return [pytest.param(field, value, id=name, marks=marks) for field, value, name in HOLES]


def build(field: str = "", value: str = "") -> EmailMessage:
    """A letter with `value` in `field` (names and subject get it appended to ordinary text)."""
    options: dict[str, Any] = {
        "from_address": FROM,
        "from_name": "Northshire Hospitals Complaints Team",
        "to_address": TO,
        "to_name": "Pat Example",
        "message_id": "<0123abcd@jointly.invalid>",
        "sent_at": NOW,
        "automatic": True,
        "in_reply_to": "<complaint@mail.example.org>",
        "references": ["<complaint@mail.example.org>"],
        "reply_to": None,
    }
    subject = "We have received your complaint (JC-261125-ABCD)"
    if field == "subject":
        subject += " " + value
    elif field in ("to_name", "from_name"):
        options[field] += " " + value  # an encoded word counts only after whitespace
    elif field == "references":
        options[field] = ["<complaint@mail.example.org>", value]
    elif field:
        options[field] = value
    letter = RenderedLetter(subject=subject, text="Dear Pat,\nThank you.\n", html="<p>Dear Pat,</p>")
    return build_message(letter, **options)


def assert_only_its_own_headers(message: EmailMessage, data: bytes) -> None:
    """`data` (the message as serialised or received) has exactly the message's headers, one To."""
    parsed = message_from_bytes(data, policy=policy.default)
    assert [name.lower() for name in parsed] == [name.lower() for name in message]
    assert "bcc" not in parsed and "x-injected" not in parsed
    assert [address.addr_spec for address in parsed["To"].addresses] == [TO]
    for name, value in parsed.items():
        assert "\r" not in str(value) and "\n" not in str(value), name
    assert parsed.get_body(preferencelist=("plain",)) is not None  # the MIME structure survived


def mailer(server: SmtpServer) -> SmtpMailer:
    settings = SmtpOutbox(kind="smtp", host=server.host, port=server.port, security="none", from_address=FROM)
    return SmtpMailer(settings, None, timeout=5)


@pytest.mark.parametrize("field", FIELDS)
@pytest.mark.parametrize("line_break", LINE_BREAKS.values(), ids=LINE_BREAKS.keys())
async def test_a_line_break_is_refused_or_never_becomes_a_header(
    smtp_server: SmtpServer, field: str, line_break: str
) -> None:
    try:
        message = build(field, line_break)
    except LetterError:
        return  # refused: nothing to send
    assert_only_its_own_headers(message, message.as_bytes())
    await mailer(smtp_server).send(message)
    [received] = smtp_server.received
    assert received.rcpt_tos == (TO,)
    assert_only_its_own_headers(message, received.data)


def test_a_line_break_in_an_address_is_refused() -> None:
    for value in ("pat@example.org\r\nBcc: evil@example.org", "pat@example.org>, evil@example.org"):
        with pytest.raises(LetterError):
            build("to_address", value)


@pytest.mark.parametrize(("field", "value"), holes())
def test_an_encoded_or_trailing_line_break_is_refused_or_harmless(field: str, value: str) -> None:
    try:
        message = build(field, value)
    except LetterError:
        return
    assert_only_its_own_headers(message, message.as_bytes())


@pytest.mark.parametrize(("field", "value"), holes())
async def test_the_smtp_mailer_never_puts_a_smuggled_header_on_the_wire(
    smtp_server: SmtpServer, field: str, value: str
) -> None:
    try:
        message = build(field, value)
    except LetterError:
        return
    try:
        await mailer(smtp_server).send(message)
    except SendError as error:
        assert error.permanent  # the same letter would be refused every time
        assert smtp_server.received == []
        return
    [received] = smtp_server.received
    assert_only_its_own_headers(message, received.data)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("to_name", ', O\'Neill; "Siobhán" <evil@example.org> (Bcc: evil@example.org)'),
        ("to_name", " " + "Margaret-Ellison " * 12),  # folded across lines
        ("subject", " – re: =?not an encoded word?= Bcc: evil@example.org " + "x" * 120),
        ("in_reply_to", "<" + "a" * 120 + "@mail.example.org>"),
        ("reply_to", "replies+JC-261125-ABCD@northshire-trust.example"),
    ],
)
async def test_awkward_but_harmless_text_arrives_as_written(
    smtp_server: SmtpServer, field: str, value: str
) -> None:
    message = build(field, value)

    await mailer(smtp_server).send(message)

    [received] = smtp_server.received
    assert received.rcpt_tos == (TO,)
    assert_only_its_own_headers(message, received.data)
    parsed = received.message()
    for name in ("From", "To", "Subject", "Message-ID", "In-Reply-To", "References", "Reply-To"):
        assert squeezed(parsed.get(name)) == squeezed(message.get(name)), name
    if field == "to_name":
        assert squeezed(parsed["To"].addresses[0].display_name) == squeezed("Pat Example " + value)


def squeezed(value: object) -> str:
    """Without whitespace: folding a long quoted name may add a space inside it (a stdlib quirk)."""
    return "".join(str(value).split())


# --- from a complainant's email to our acknowledgement -------------------------------------------

DOUBLE_ENCODED_NAME = "=?utf-8?b?" + base64.b64encode(Q_ENCODED.encode()).decode() + "?="
CRAFTED = {
    "name": complaint(sender=f"{DOUBLE_ENCODED_NAME} <{TO}>", message_id="<c1@mail.example.org>"),
    "message-id": complaint(sender=f"Pat Example <{TO}>", message_id=Q_ENCODED),
}


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store.open(tmp_path / "var" / "store") as opened_store:
        yield opened_store


def office(tmp_path: Path, store: Store, server: SmtpServer, raw: bytes) -> tuple[EffectRunner, str]:
    """Take in `raw` as a complaint; the runner sends through `server`."""
    settings = SmtpOutbox(kind="smtp", host=server.host, port=server.port, security="none", from_address=FROM)
    config = local_config(tmp_path / "var").model_copy(update={"outbox": settings})
    service = CaseService(store)
    assert isinstance(config.mailbox, MaildirMailbox)
    inbox = MaildirInbox(config.mailbox.path)
    inbox.deliver(raw, RECEIVED)
    [ref] = opened(Intake(config, service, inbox, SECRET).poll(NOW))
    return EffectRunner(config, service, mailer(server), RecordingChat(), SECRET), ref


def acknowledgement(runner: EffectRunner, ref: str) -> SendLetter:
    [effect] = [
        effect
        for record in runner.service.store.load(ref).effects
        if isinstance(effect := effect_from_plain(record.effect), SendLetter)
    ]
    return effect


@pytest.mark.parametrize("crafted", CRAFTED.keys())
async def test_a_crafted_complaint_never_injects_a_header_on_the_wire(
    tmp_path: Path, store: Store, smtp_server: SmtpServer, crafted: str
) -> None:
    runner, ref = office(tmp_path, store, smtp_server, CRAFTED[crafted])

    await runner.run_due(NOW)

    for received in smtp_server.received:
        parsed = received.message()
        assert "x-injected" not in parsed and "bcc" not in parsed
        assert received.rcpt_tos == (TO,)
    [letter] = runner.service.load(ref).letters.values()
    assert letter.sent_at is not None or letter.failed  # sent clean, or failed for good: not retried


@pytest.mark.parametrize("crafted", CRAFTED.keys())
async def test_a_crafted_complaint_gets_an_acknowledgement_without_injected_headers(
    tmp_path: Path, store: Store, smtp_server: SmtpServer, crafted: str
) -> None:
    runner, ref = office(tmp_path, store, smtp_server, CRAFTED[crafted])
    try:
        message = runner.letter(acknowledgement(runner, ref), NOW)
    except LetterError:
        return
    assert_only_its_own_headers(message, message.as_bytes())
