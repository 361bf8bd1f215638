"""ImapInbox against a real Dovecot on 127.0.0.1 (tests/servers/dovecot.py) and a real Store."""

from __future__ import annotations

import shlex
import sys
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from mail.errors import MailboxError
from mail.imap import ImapInbox, _bodies, _bodies_by_uid, _fetch_sets
from mail.maildir import RawMail
from mail.oauth import Token, Tokens, configured_tokens
from mail.settings import ImapMailbox, OAuth2
from store.store import Store
from tests.servers.dovecot import Dovecot, dovecot_fixture, dovecot_server_fixture, imap_user_fixture  # noqa: F401

ARRIVED = datetime(2025, 11, 24, 9, 30, 5, tzinfo=timezone(timedelta(hours=1)))
MakeInbox = Callable[..., ImapInbox]


def message(n: int, padding: int = 0) -> bytes:
    # Odd but legal formatting, to show the bytes come back untouched.
    return (
        f"From:  Ann Example <ann@example.org>\r\nSubject: complaint {n}\r\n\tfolded\r\n"
        f"Message-ID: <{n}@example.org>\r\nX-Pad: {'x' * padding}\r\n\r\nText {n}\r\n.\r\n"
    ).encode()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store.open(tmp_path / "store") as opened:
        yield opened


@pytest.fixture
def make_inbox(dovecot: Dovecot, imap_user: str, store: Store) -> Iterator[MakeInbox]:
    made: list[ImapInbox] = []

    def make(*, password: str | None = Dovecot.password, trust: bool = True, **options: Any) -> ImapInbox:
        extra = {
            key: options.pop(key)
            for key in ("sleep", "clock", "tokens", "move_set", "fetch_set")
            if key in options
        }
        values = {"kind": "imap", "host": dovecot.host, "port": dovecot.tls_port, "username": imap_user}
        values |= {"password_env": "IMAP_PASSWORD", **options}
        context = dovecot.ssl_context() if trust else None
        settings = ImapMailbox.model_validate(values)
        inbox = ImapInbox(settings, password, store, ssl_context=context, connect_timeout=5, **extra)
        made.append(inbox)
        return inbox

    yield make
    for inbox in made:
        inbox.close()


def test_new_mail_oldest_first_exact_bytes_internaldate_then_filed(
    dovecot: Dovecot, imap_user: str, make_inbox: MakeInbox
) -> None:
    uids = [dovecot.append(imap_user, message(n), when=ARRIVED + timedelta(minutes=n)) for n in (1, 2)]
    inbox = make_inbox()

    first = inbox.pending()

    assert first == [
        RawMail(str(uids[0]), message(1), datetime(2025, 11, 24, 8, 31, 5, tzinfo=UTC)),
        RawMail(str(uids[1]), message(2), datetime(2025, 11, 24, 8, 32, 5, tzinfo=UTC)),
    ]
    assert all(mail.received_at.tzinfo is UTC for mail in first)
    for mail in first:
        inbox.mark_processed(mail.uid)
    assert dovecot.messages(imap_user, "Processed") == [message(1), message(2)]
    assert dovecot.messages(imap_user, "INBOX") == []
    assert inbox.pending() == []


def test_a_burst_is_filed_in_sets_and_the_cursor_moves_once_to_the_last(
    dovecot: Dovecot, imap_user: str, make_inbox: MakeInbox, store: Store
) -> None:
    uids = [dovecot.append(imap_user, message(n)) for n in range(5)]
    inbox = make_inbox(move_set=2)  # so five messages need three MOVE commands
    listed = [m.uid for m in inbox.pending()]

    inbox.mark_processed(*reversed(listed))

    assert dovecot.messages(imap_user, "INBOX") == []
    assert dovecot.messages(imap_user, "Processed") == [message(n) for n in range(5)]
    assert store.get_cursor(inbox.cursor_name) == {"uidvalidity": inbox._validity, "uid": max(uids)}
    assert inbox.pending() == []


def test_starttls_on_the_plain_port(dovecot: Dovecot, imap_user: str, make_inbox: MakeInbox) -> None:
    dovecot.append(imap_user, message(1))
    inbox = make_inbox(port=dovecot.port, security="starttls")
    assert [mail.data for mail in inbox.pending()] == [message(1)]


def test_an_untrusted_certificate_or_a_wrong_password_is_refused(make_inbox: MakeInbox) -> None:
    with pytest.raises(MailboxError, match="CERTIFICATE_VERIFY_FAILED"):
        make_inbox(trust=False).pending()
    with pytest.raises(MailboxError, match="AUTHENTICATIONFAILED") as refused:
        make_inbox(password="not-the-password").pending()
    assert "not-the-password" not in str(refused.value)


def test_xoauth2_with_a_token_source(dovecot: Dovecot, imap_user: str, make_inbox: MakeInbox) -> None:
    # Dovecot checks an XOAUTH2 token against the passdb like a password: the static one knows it.
    dovecot.append(imap_user, message(1))
    inbox = make_inbox(auth="xoauth2", tokens=Tokens(lambda: Token(Dovecot.password)), password=None)
    assert [mail.data for mail in inbox.pending()] == [message(1)]
    assert f"user=<{imap_user}>, method=XOAUTH2" in dovecot.log()


def test_a_refused_token_is_fetched_again_once_on_the_same_connection(
    dovecot: Dovecot, imap_user: str, make_inbox: MakeInbox
) -> None:
    handed_out = iter(["revoked", Dovecot.password, "never asked for"])
    fetched: list[str] = []

    def fetch() -> Token:
        fetched.append(next(handed_out))
        return Token(fetched[-1], expires_at=4_000_000_000)  # not expired: only the server knows

    dovecot.append(imap_user, message(1))
    inbox = make_inbox(auth="xoauth2", tokens=Tokens(fetch), password=None)

    assert [mail.data for mail in inbox.pending()] == [message(1)]
    assert fetched == ["revoked", Dovecot.password]


def test_a_token_refused_twice_is_a_mailbox_error(make_inbox: MakeInbox) -> None:
    fetched: list[str] = []

    def fetch() -> Token:
        fetched.append(f"wrong-{len(fetched)}")
        return Token(fetched[-1])

    with pytest.raises(MailboxError, match="AUTHENTICATIONFAILED") as refused:
        make_inbox(auth="xoauth2", tokens=Tokens(fetch), password=None).pending()
    assert fetched == ["wrong-0", "wrong-1"]
    assert "wrong-" not in str(refused.value)


def test_the_token_command_runs_without_a_shell(
    dovecot: Dovecot, imap_user: str, make_inbox: MakeInbox, tmp_path: Path
) -> None:
    script = tmp_path / "token.py"
    script.write_text(
        "import sys\n"
        "if sys.argv[1:] != ['a;b $HOME']:\n"
        "    sys.exit(f'got {sys.argv[1:]}')\n"
        f"print('  {Dovecot.password}  ')\n"
    )
    command = OAuth2(token_command=shlex.join([sys.executable, str(script), "a;b $HOME"]))
    dovecot.append(imap_user, message(1))
    inbox = make_inbox(auth="xoauth2", tokens=configured_tokens(command, None), password=None)
    assert len(inbox.pending()) == 1
    assert f"user=<{imap_user}>, method=XOAUTH2" in dovecot.log()

    script.write_text(f"import sys\nsys.stderr.write('{Dovecot.password}')\nsys.exit(3)\n")
    with pytest.raises(MailboxError, match="token command failed") as failed:
        make_inbox(auth="xoauth2", tokens=configured_tokens(command, None), password=None).pending()
    assert "status=3" in str(failed.value)
    assert Dovecot.password not in str(failed.value)


def test_seen_by_a_person_still_taken_once_and_reading_leaves_flags_alone(
    dovecot: Dovecot, imap_user: str, make_inbox: MakeInbox
) -> None:
    opened, unopened = dovecot.append(imap_user, message(1)), dovecot.append(imap_user, message(2))
    with dovecot.client(imap_user) as person:
        person.client.uid("STORE", str(opened), "+FLAGS", r"(\Seen)")
    inbox = make_inbox()

    assert [mail.uid for mail in inbox.pending()] == [str(opened), str(unopened)]

    with dovecot.client(imap_user) as person:
        flags = {msg.uid: msg.flags for msg in person.fetch(mark_seen=False, headers_only=True)}
    assert flags == {str(opened): (r"\Seen",), str(unopened): ()}
    inbox.mark_processed(str(opened))
    assert [mail.uid for mail in inbox.pending()] == [str(unopened)]


def test_a_message_over_the_limit_is_not_downloaded_and_can_be_quarantined(
    dovecot: Dovecot, imap_user: str, make_inbox: MakeInbox
) -> None:
    big, small = message(1, padding=1000), message(2)
    big_uid, small_uid = dovecot.append(imap_user, big), dovecot.append(imap_user, small)
    inbox = make_inbox(max_message_bytes=500)

    listed = inbox.pending()

    assert [(m.uid, m.data, m.over_limit) for m in listed] == [
        (str(big_uid), b"", len(big)),
        (str(small_uid), small, 0),
    ]
    inbox.quarantine(str(big_uid), "too large")
    assert dovecot.messages(imap_user, "Quarantine") == [big]
    assert dovecot.messages(imap_user, "INBOX") == [small]


def test_bodies_come_in_sets_exact_in_uid_order_unseen_with_over_limit_ones_in_place(
    dovecot: Dovecot, imap_user: str, make_inbox: MakeInbox
) -> None:
    sent = [message(n, padding=1000 if n in (2, 5) else n) for n in range(7)]
    uids = [dovecot.append(imap_user, data) for data in sent]
    inbox = make_inbox(fetch_set=2, max_message_bytes=500)  # five bodies to fetch: three sets

    listed = inbox.pending()

    assert [(m.uid, m.data, m.over_limit) for m in listed] == [
        (str(uid), b"", len(data)) if len(data) > 500 else (str(uid), data, 0)
        for uid, data in zip(uids, sent, strict=True)
    ]
    with dovecot.client(imap_user) as person:
        assert all(msg.flags == () for msg in person.fetch(mark_seen=False, headers_only=True))


def test_sets_are_bounded_by_count_and_bytes_and_a_large_message_goes_alone() -> None:
    wanted = [(1, 10), (2, 10), (3, 10), (5, 50), (6, 120), (7, 1), (9, 99)]
    # 10 + 50 fits 100, 120 goes alone, 1 + 99 fills 100 exactly
    assert list(_fetch_sets(wanted, 2, 100)) == [[1, 2], [3, 5], [6], [7, 9]]
    assert list(_fetch_sets(wanted, 3, 1000)) == [[1, 2, 3], [5, 6, 7], [9]]
    assert list(_fetch_sets([], 3, 1000)) == []


def test_a_message_expunged_after_the_listing_is_left_out_of_the_set(
    dovecot: Dovecot, imap_user: str
) -> None:
    uids = [dovecot.append(imap_user, message(n)) for n in range(3)]
    with dovecot.client(imap_user) as ours, dovecot.client(imap_user) as person:
        assert ours.client.uid("FETCH", "1:*", "(UID)")[0] == "OK"  # our session has listed all three
        person.client.uid("STORE", str(uids[1]), "+FLAGS", r"(\Deleted)")
        person.client.expunge()

        assert _bodies(ours, uids) == {uids[0]: message(0), uids[2]: message(2)}


def test_fetch_responses_are_matched_to_messages_by_uid_wherever_it_is() -> None:
    # As imaplib returns them (without the word FETCH): out of UID order, UID before and after the
    # literal, a flag update another session caused, and Dovecot's answer for an expunged message.
    responses = [
        b"4 (FLAGS (\\Seen))",
        (b"3 (UID 30 BODY[] {6}", b"third\n"),
        b")",
        (b"1 (BODY[] {6}", b"first\n"),
        b" UID 10)",
        b"2 (UID 20 BODY[] NIL)",
        (b"5 (FLAGS (\\Recent) BODY[] {17}", b"UID 99 in a body\n"),
        b" UID 50 FLAGS (\\Seen))",
    ]
    assert _bodies_by_uid(responses) == {30: b"third\n", 10: b"first\n", 50: b"UID 99 in a body\n"}


def test_a_person_s_deleted_mark_is_not_expunged_by_filing(
    dovecot: Dovecot, imap_user: str, make_inbox: MakeInbox
) -> None:
    binned, ours = dovecot.append(imap_user, message(1)), dovecot.append(imap_user, message(2))
    with dovecot.client(imap_user) as person:
        person.client.uid("STORE", str(binned), "+FLAGS", r"(\Deleted)")
    inbox = make_inbox()
    inbox.pending()
    inbox.mark_processed(str(ours))
    assert dovecot.messages(imap_user, "INBOX") == [message(1)]
    assert inbox.pending() == []  # below the cursor, although `UID 3:*` answers with the last message


def recreate(dovecot: Dovecot, user: str, folder: str) -> None:
    with dovecot.client(user, folder=None) as person:
        person.folder.delete(folder)
        person.folder.create(folder)


def test_uidvalidity_change_reads_the_folder_again(
    dovecot: Dovecot, imap_user: str, make_inbox: MakeInbox, store: Store
) -> None:
    dovecot.append(imap_user, message(1), folder="Complaints")
    inbox = make_inbox(folder="Complaints")
    inbox.mark_processed(inbox.pending()[0].uid)
    before = store.get_cursor(inbox.cursor_name)
    assert before is not None and before["uid"] == 1
    recreate(dovecot, imap_user, "Complaints")
    dovecot.append(imap_user, message(2), folder="Complaints")  # UID 1 again, under a new UIDVALIDITY
    dovecot.append(imap_user, message(3), folder="Complaints")

    assert [(mail.uid, mail.data) for mail in inbox.pending()] == [("1", message(2)), ("2", message(3))]

    after = store.get_cursor(inbox.cursor_name)
    assert after is not None and after["uid"] == 0 and after["uidvalidity"] != before["uidvalidity"]
    inbox.mark_processed("2")
    assert store.get_cursor(inbox.cursor_name) == {"uidvalidity": after["uidvalidity"], "uid": 2}


def test_a_uid_listed_before_the_folder_was_replaced_is_not_moved(
    dovecot: Dovecot, imap_user: str, make_inbox: MakeInbox
) -> None:
    dovecot.append(imap_user, message(1), folder="Complaints")
    inbox = make_inbox(folder="Complaints")
    assert [mail.uid for mail in inbox.pending()] == ["1"]
    recreate(dovecot, imap_user, "Complaints")
    dovecot.append(imap_user, message(2), folder="Complaints")  # a different message, also UID 1

    with pytest.raises(MailboxError, match="no longer valid"):
        inbox.mark_processed("1")
    assert dovecot.messages(imap_user, "Complaints") == [message(2)]
    assert dovecot.messages(imap_user, "Processed") == []


def test_reconnects_with_capped_backoff_after_the_server_dies(
    dovecot: Dovecot, imap_user: str, make_inbox: MakeInbox
) -> None:
    slept: list[float] = []
    inbox = make_inbox(sleep=slept.append, clock=lambda: 0.0)
    assert inbox.pending() == []
    dovecot.stop(kill=True)

    for _ in range(9):
        with pytest.raises(MailboxError, match="IMAP"):
            inbox.pending()
    dovecot.start()
    uid = dovecot.append(imap_user, message(1))

    assert [mail.uid for mail in inbox.pending()] == [str(uid)]
    assert slept == [1, 2, 4, 8, 16, 32, 60, 60, 60]


def test_idle_reports_new_mail(dovecot: Dovecot, imap_user: str, make_inbox: MakeInbox) -> None:
    inbox = make_inbox()
    assert inbox.pending() == []
    arrival = threading.Thread(target=dovecot.append, args=(imap_user, message(1)))
    arrival.start()
    try:
        assert inbox.wait(timeout=5) is True
    finally:
        arrival.join()
    assert [mail.data for mail in inbox.pending()] == [message(1)]


def test_mail_that_arrived_before_idle_started_is_reported(
    dovecot: Dovecot, imap_user: str, make_inbox: MakeInbox
) -> None:
    inbox = make_inbox()
    assert inbox.pending() == []
    dovecot.append(imap_user, message(1))
    assert inbox.wait(timeout=5) is True
    assert inbox.wait(timeout=0.2) is False  # nothing new since


def test_without_idle_wait_blocks_for_the_poll_interval(make_inbox: MakeInbox) -> None:
    slept: list[float] = []
    inbox = make_inbox(use_idle=False, poll_seconds=2, sleep=slept.append)
    assert inbox.pending() == []
    assert inbox.wait(timeout=30) is True
    assert slept == [2]
