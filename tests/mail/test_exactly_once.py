"""The mailers' side of exactly once: a letter is reported accepted as soon as the server has taken
it, before the session ends; a connection lost while the server takes it leaves it in doubt; and
where a copy of what was sent is kept (the file outbox, a mailbox's sent folder on Dovecot), a
letter can be looked for by its Message-ID."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from mail.errors import MailboxError, SendError, SendInDoubt
from mail.imap import ImapInbox
from mail.outbox import FileOutbox
from mail.settings import ImapMailbox
from mail.smtp import SmtpMailer
from store.store import Store
from tests.mail.test_smtp import letter, outbox
from tests.servers.dovecot import Dovecot, dovecot_fixture, dovecot_server_fixture, imap_user_fixture  # noqa: F401

if TYPE_CHECKING:  # imported at run time by pytest_plugins only, so pytest can rewrite its asserts
    from tests.servers.smtp import SmtpServer

pytest_plugins = ["tests.servers.smtp"]


async def test_accepted_is_called_once_the_server_has_the_letter_and_before_quit(
    smtp_server: SmtpServer,
) -> None:
    seen: list[tuple[int, int]] = []

    await SmtpMailer(outbox(smtp_server.port), None, timeout=5).send(
        letter(), lambda: seen.append((len(smtp_server.received), smtp_server.quits))
    )

    assert seen == [(1, 0)]
    assert smtp_server.quits == 1


async def test_a_failure_of_accepted_ends_the_session_and_reaches_the_caller_as_it_is(
    smtp_server: SmtpServer,
) -> None:
    def cannot_record() -> None:
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError, match="No space"):
        await SmtpMailer(outbox(smtp_server.port), None, timeout=5).send(letter(), cannot_record)

    assert len(smtp_server.received) == 1


async def test_a_connection_lost_while_the_server_takes_the_letter_leaves_it_in_doubt(
    smtp_server: SmtpServer,
) -> None:
    smtp_server.hang_up(True)
    called: list[bool] = []

    with pytest.raises(SendInDoubt) as caught:
        await SmtpMailer(outbox(smtp_server.port), None, timeout=5).send(
            letter(), lambda: called.append(True)
        )

    assert len(smtp_server.received) == 1 and called == []
    assert not caught.value.permanent and caught.value.context["message_id"] == letter()["Message-ID"]


async def test_a_connection_lost_before_the_letter_goes_is_only_temporary(smtp_server: SmtpServer) -> None:
    smtp_server.stop()

    with pytest.raises(SendError) as caught:
        await SmtpMailer(outbox(smtp_server.port), None, timeout=5).send(letter(), lambda: None)

    assert not isinstance(caught.value, SendInDoubt)


async def test_the_file_outbox_accepts_once_written_and_holds_what_it_wrote(tmp_path: Path) -> None:
    files = FileOutbox(tmp_path / "outbox")
    called: list[bool] = []
    assert not files.holds(str(letter()["Message-ID"]))

    await files.send(letter(), lambda: called.append(True))

    assert called == [True]
    assert files.holds(str(letter()["Message-ID"]))
    assert not files.holds("<another@jointly.invalid>")


@pytest.fixture(name="sent_items")
def sent_items_fixture(dovecot: Dovecot, imap_user: str, tmp_path: Path) -> Iterator[ImapInbox]:
    """A mailbox whose sent folder is "Sent Items" (not created: a test appends to it)."""
    values = {"kind": "imap", "host": dovecot.host, "port": dovecot.tls_port, "username": imap_user}
    settings = ImapMailbox.model_validate(values | {"password_env": "P", "sent_folder": "Sent Items"})
    with Store.open(tmp_path / "imap-cursors") as store:
        inbox = ImapInbox(settings, Dovecot.password, store, ssl_context=dovecot.ssl_context())
        yield inbox
        inbox.close()


def test_a_letter_is_found_in_the_sent_folder_by_message_id(
    sent_items: ImapInbox, dovecot: Dovecot, imap_user: str
) -> None:
    dovecot.append(imap_user, b"Subject: a complaint\r\nMessage-ID: <in@example.org>\r\n\r\nHello\r\n")
    copy = letter()
    dovecot.append(imap_user, copy.as_bytes(), folder="Sent Items")  # the server's copy of what it sent

    assert sent_items.holds(str(copy["Message-ID"]))
    assert not sent_items.holds("<never-sent@jointly.invalid>")
    [waiting] = sent_items.pending()  # the mailbox folder is selected again for the intake
    assert b"<in@example.org>" in waiting.data


def test_a_missing_sent_folder_is_an_error_not_an_answer(sent_items: ImapInbox) -> None:
    with pytest.raises(MailboxError):
        sent_items.holds(str(letter()["Message-ID"]))
