"""The shared complaints mailbox on an IMAP server, read as `RawMail` like the local Maildir.

Why it works the way it does:

- **Nothing is deleted.** A message leaves the folder only by MOVE to the processed or quarantine
  folder (created when missing). Without MOVE: COPY, ``\\Deleted`` and UID EXPUNGE of that one
  message (UIDPLUS), never a bare EXPUNGE, which would purge what a person had marked deleted.
- **\\Seen plays no part.** Bodies are read with BODY.PEEK and no flag is ever set: a handler may
  have opened a message in their own client, which says nothing about whether jointly took it in.
- **A cursor, then Message-ID.** The store keeps ``{"uidvalidity", "uid"}``, the highest UID filed
  away, so a message the server would not move is not fetched every cycle. Listings are oldest UID
  first and the intake stops a batch at a message it can neither take in nor quarantine, so the
  cursor never passes an unfiled one. When UIDVALIDITY changes (folder re-created, account
  migrated) old UIDs mean nothing: reading restarts at UID 1 and the intake's Message-ID
  de-duplication keeps cases single. A UID is only moved under the UIDVALIDITY it was listed with.
- **Sizes first.** UID, RFC822.SIZE and INTERNALDATE are listed before any body, so a message over
  ``max_message_bytes`` is never downloaded: it comes back with ``over_limit`` set and no data.
- **Bodies in sets.** The rest are fetched with one ``UID FETCH`` per set of UIDs: one round trip
  per set instead of one per message, which a burst of thousands would pay thousands of times. A set
  holds at most `FETCH_SET` messages and `FETCH_BYTES` bytes by the listed sizes, so one response
  stays a bounded size (a single larger message, still under the limit, goes alone). Responses are
  matched to messages by UID, never by order; a UID given no body (expunged meanwhile) is skipped.
- **Exact bytes, time of arrival.** `received_at` is INTERNALDATE (statutory clocks start when mail
  reaches the mailbox). imap-tools keeps only a parsed message, which does not round-trip byte for
  byte, so the FETCH goes through its imaplib client.
- **Verified TLS.** Without an `ssl_context` the system's verifying default is used (imaplib's own
  default checks nothing); STARTTLS never falls back to plain text.
- **Failures become `MailboxError`.** A network or protocol error closes the connection; the next
  call reconnects after a capped exponential backoff (1, 2, 4 ... 60 s, on the injected clock and
  sleep). A command the server refuses keeps the connection.
- **Blocking, one connection, one lock.** Called through `asyncio.to_thread`; `wait` and `pending`
  from two threads take turns.
- **XOAUTH2** tokens come from `mail.oauth.Tokens`, shared with the outbox; a token the server
  refuses at login is fetched again once, on the same connection.
- **The sent folder** (`sent_folder`, where a server such as Exchange Online keeps a copy of what
  was submitted by SMTP) is only searched, by Message-ID, for a letter whose sending was cut off
  (`holds`, the `mail.ports.SentFolder` port); the mailbox folder is selected again afterwards.
"""

from __future__ import annotations

import contextlib
import hashlib
import imaplib
import logging
import re
import ssl
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any, Protocol, TypeVar

from imap_tools import AND, BaseMailBox, H, MailBox, MailBoxStartTls, UnexpectedCommandStatusError
from imap_tools.errors import MailboxLoginError
from imap_tools.utils import encode_folder

from mail.errors import MailboxError, TokenError
from mail.maildir import RawMail
from mail.oauth import Tokens
from mail.settings import ImapMailbox

log = logging.getLogger("jointly.mail.imap")

BACKOFF_FIRST = 1.0
BACKOFF_CAP = 60.0
MOVE_SET = 500  # UIDs per MOVE command: one round trip files a burst
FETCH_SET = 200  # messages per body FETCH: one round trip reads many ...
FETCH_BYTES = 20_000_000  # ... up to this many bytes, so one response stays a bounded size
IDLE_LIMIT = 29 * 60  # RFC 2177: re-issue IDLE at least every 29 minutes
_LOST = (OSError, imaplib.IMAP4.error)  # ssl errors and timeouts are OSErrors; abort is an error
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_UID = re.compile(rb"\bUID (\d+)")
_SIZE = re.compile(rb"\bRFC822\.SIZE (\d+)")
_DATE = re.compile(rb'INTERNALDATE " ?(\d{1,2})-(\w{3})-(\d{4}) (\d\d):(\d\d):(\d\d) ([+-])(\d\d)(\d\d)"')
T = TypeVar("T")


class CursorPort(Protocol):
    """Where the reading position is kept (the `Store` satisfies it)."""

    def get_cursor(self, name: str) -> dict[str, Any] | None: ...

    def set_cursor(self, name: str, value: Mapping[str, Any]) -> None: ...


class ImapInbox:
    """`mail.ports.Inbox` on an IMAP folder. `password` is the login password (auth "password");
    `tokens` give the access token (auth "xoauth2"), shared with the outbox."""

    def __init__(
        self,
        settings: ImapMailbox,
        password: str | None,
        cursor: CursorPort,
        *,
        tokens: Tokens | None = None,
        ssl_context: ssl.SSLContext | None = None,
        connect_timeout: float = 30,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        move_set: int = MOVE_SET,
        fetch_set: int = FETCH_SET,
    ) -> None:
        if settings.auth == "password" and password is None:
            raise MailboxError("no password for the IMAP login", username=settings.username)
        if settings.auth == "xoauth2" and tokens is None:
            raise MailboxError("no OAuth2 token source for the IMAP login", username=settings.username)
        self.settings = settings
        self.cursor_name = cursor_name(settings)
        self._password = password
        self.tokens = tokens if settings.auth == "xoauth2" else None
        self._cursors = cursor
        self._ssl = ssl_context or ssl.create_default_context()
        self._timeout = connect_timeout
        self._sleep, self._clock = sleep, clock
        self._move_set, self._fetch_set = move_set, fetch_set
        self._lock = threading.Lock()
        self._box: BaseMailBox | None = None
        self._caps: frozenset[str] = frozenset()
        self._folders: set[str] = set()  # known to exist, on this connection
        self._validity = 0  # of the selected folder, on this connection
        self._listed_validity: int | None = None
        self._failures, self._failed_at = 0, 0.0

    def pending(self) -> list[RawMail]:
        """Messages after the cursor, oldest UID first; over-size ones without their bytes."""
        with self._lock:
            validity = self._call("select the folder", self._select)  # also shows newly arrived mail
            after = self._start_after(validity)
            self._listed_validity = validity
            return self._call("read the folder", lambda box: self._read(box, after))

    def mark_processed(self, *uids: str) -> None:
        """Move the messages to the processed folder (in sets: one round trip for many) and
        advance the cursor once."""
        with self._lock:
            self._file(uids, self.settings.processed_folder)

    def quarantine(self, uid: str, reason: str) -> None:
        """Move the message to the quarantine folder (the intake records `reason` in the store)."""
        with self._lock:
            self._file((uid,), self.settings.quarantine_folder)
        log.info("message %s moved to %s: %s", uid, self.settings.quarantine_folder, reason)

    def wait(self, timeout: float) -> bool:
        """IDLE up to `timeout` seconds when allowed and offered: True if the server said anything.
        Otherwise block for ``min(timeout, poll_seconds)`` and return True, so the caller polls."""
        with self._lock:
            box = self._box
            if self.settings.use_idle and box is not None and "IDLE" in self._caps:
                try:
                    return _idle(box, min(timeout, IDLE_LIMIT))
                except (*_LOST, UnexpectedCommandStatusError) as error:
                    log.warning("IMAP IDLE failed, reconnecting on the next call: %s", _reason(error))
                    self._drop(failed=True)
                    return True
        self._sleep(min(timeout, self.settings.poll_seconds))
        return True

    def holds(self, message_id: str) -> bool:
        """Is a message with this Message-ID in the sent folder (which must be configured)?"""
        folder = self.settings.sent_folder
        if not folder:
            raise MailboxError("no mailbox.sent_folder is configured to look in")
        with self._lock:
            return self._call(f"search {folder}", partial(self._holds, folder=folder, message_id=message_id))

    def counts(self) -> dict[str, int | None]:
        """How many messages each of the mailbox's folders holds (the sent folder too, when set),
        None for one not created yet; nothing is read or moved (`jointly check-mail`)."""
        settings = self.settings
        folders = [settings.folder, settings.processed_folder, settings.quarantine_folder]
        folders += [settings.sent_folder] if settings.sent_folder else []
        with self._lock:
            return self._call("count the messages", partial(_counts, folders=folders))

    def close(self) -> None:
        with self._lock:
            self._drop(failed=False)

    # --- reading --------------------------------------------------------------------------------

    def _start_after(self, validity: int) -> int:
        cursor = self._cursors.get_cursor(self.cursor_name)
        if cursor is None:
            return 0
        if cursor.get("uidvalidity") == validity:
            return int(cursor.get("uid", 0))
        was, folder = cursor.get("uidvalidity"), self.settings.folder
        log.warning("UIDVALIDITY of %s changed (%s, was %s): reading it from UID 1", folder, validity, was)
        self._cursors.set_cursor(self.cursor_name, {"uidvalidity": validity, "uid": 0})
        return 0

    def _read(self, box: BaseMailBox, after: int) -> list[RawMail]:
        listed = sorted(item for item in _listing(box, after) if item[0] > after)
        limit = self.settings.max_message_bytes
        wanted = [(uid, size) for uid, size, _ in listed if size <= limit]
        bodies: dict[int, bytes] = {}
        for chosen in _fetch_sets(wanted, self._fetch_set, FETCH_BYTES):
            bodies |= _bodies(box, chosen)
        found = []
        for uid, size, received_at in listed:
            if size > limit:
                log.warning("message %s is %d bytes, over the limit: not downloaded", uid, size)
                found.append(RawMail(str(uid), b"", received_at, over_limit=size))
            elif uid in bodies:  # otherwise expunged by someone meanwhile
                found.append(RawMail(str(uid), bodies[uid], received_at))
        return found

    def _holds(self, box: BaseMailBox, folder: str, message_id: str) -> bool:
        box.folder.set(folder, readonly=True)
        try:
            return bool(box.uids(AND(header=H("Message-ID", message_id))))
        finally:
            self._select(box)  # IDLE and the next listing are about the mailbox folder

    def _select(self, box: BaseMailBox) -> int:
        box.folder.set(self.settings.folder)
        said = box.client.untagged_responses.get("UIDVALIDITY")  # from `* OK [UIDVALIDITY n]`
        if said and isinstance(said[-1], bytes):
            self._validity = int(said[-1])
        else:
            self._validity = box.folder.status(self.settings.folder, ["UIDVALIDITY"])["UIDVALIDITY"]
        return self._validity

    # --- filing ---------------------------------------------------------------------------------

    def _file(self, uids: Sequence[str], folder: str) -> None:
        for uid in uids:
            if not re.fullmatch(r"[1-9][0-9]{0,9}", uid):
                raise MailboxError("not an IMAP UID", uid=uid)
        ordered = sorted(uids, key=int)
        for start in range(0, len(ordered), self._move_set):
            chosen = ",".join(ordered[start : start + self._move_set])
            self._call(f"move messages to {folder}", partial(self._move, uid=chosen, folder=folder))
        cursor = self._cursors.get_cursor(self.cursor_name) or {}
        last = int(cursor.get("uid", 0)) if cursor.get("uidvalidity") == self._validity else 0
        if ordered and int(ordered[-1]) > last:
            self._cursors.set_cursor(
                self.cursor_name, {"uidvalidity": self._validity, "uid": int(ordered[-1])}
            )

    def _move(self, box: BaseMailBox, uid: str, folder: str) -> None:
        """Move the messages of `uid` (one UID or a comma-separated set)."""
        # Selected again first: on a session still showing a deleted and re-created folder, Dovecot
        # applies a UID to the new folder's message of that UID. Only a UID listed under the
        # current UIDVALIDITY may be moved.
        if self._select(box) != self._listed_validity:
            changed = "the folder changed since it was listed: its UIDs are no longer valid"
            raise MailboxError(changed, uid=uid, listed=self._listed_validity, now=self._validity)
        if folder not in self._folders:
            if not box.folder.exists(folder):
                box.folder.create(folder)
                log.info("created IMAP folder %s", folder)
            self._folders.add(folder)
        target = encode_folder(folder).decode("ascii")
        if "MOVE" in self._caps:
            _ok(box.client.uid("MOVE", uid, target))
            return
        _ok(box.client.uid("COPY", uid, target))
        _ok(box.client.uid("STORE", uid, "+FLAGS.SILENT", r"(\Deleted)"))
        if "UIDPLUS" in self._caps:
            _ok(box.client.uid("EXPUNGE", uid))

    # --- the connection -------------------------------------------------------------------------

    def _call(self, doing: str, operation: Callable[[BaseMailBox], T]) -> T:
        box = self._connected()
        try:
            return operation(box)
        except UnexpectedCommandStatusError as error:
            raise MailboxError(f"the IMAP server refused to {doing}", reason=_reason(error)) from None
        except _LOST as error:
            self._drop(failed=True)
            why = _reason(error)
            raise MailboxError(f"the IMAP connection failed trying to {doing}", reason=why) from error

    def _connected(self) -> BaseMailBox:
        if self._box is not None:
            return self._box
        if self._failures:
            delay = min(BACKOFF_CAP, BACKOFF_FIRST * 2 ** min(self._failures - 1, 16))
            remaining = delay - (self._clock() - self._failed_at)
            if remaining > 0:
                self._sleep(remaining)
        try:
            self._box = self._open()
        except (*_LOST, UnexpectedCommandStatusError, MailboxError, TokenError) as error:
            self._failures, self._failed_at = self._failures + 1, self._clock()
            where = {"host": self.settings.host, "port": self.settings.port, "attempt": self._failures}
            raise MailboxError("cannot connect to the IMAP server", reason=_reason(error), **where) from error
        self._failures = 0
        return self._box

    def _open(self) -> BaseMailBox:
        settings = self.settings
        box: BaseMailBox
        if settings.security == "tls":
            box = MailBox(settings.host, settings.port, timeout=self._timeout, ssl_context=self._ssl)
        else:
            box = MailBoxStartTls(settings.host, settings.port, timeout=self._timeout, ssl_context=self._ssl)
        try:
            self._login(box)
            typ, data = box.client.capability()  # again: servers add some (MOVE, UIDPLUS) after login
            self._caps = frozenset(bytes(data[-1]).decode("ascii", "replace").upper().split())
            self._folders = set()
            self._select(box)
        except BaseException:
            _shut(box)
            raise
        log.info("connected to IMAP %s:%s as %s", settings.host, settings.port, settings.username)
        return box

    def _login(self, box: BaseMailBox) -> None:
        """Log in; an access token the server refuses is fetched again once (it may have been
        revoked, or the clock of whoever said when it expires may be wrong)."""
        username = self.settings.username
        if self.tokens is None:
            box.login(username, self._password or "", initial_folder=None)
            return
        token = self.tokens.token()
        try:
            box.xoauth2(username, token, initial_folder=None)
        except imaplib.IMAP4.abort:  # the connection is gone, not the token
            raise
        except (imaplib.IMAP4.error, MailboxLoginError):
            log.info("the IMAP server refused the OAuth2 token for %s: fetching a new one", username)
            box.xoauth2(username, self.tokens.renew(token), initial_folder=None)

    def _drop(self, *, failed: bool) -> None:
        box, self._box = self._box, None
        if failed:
            self._failures, self._failed_at = self._failures + 1, self._clock()
        if box is not None:
            if not failed:
                with contextlib.suppress(Exception):
                    box.logout()
            _shut(box)


def cursor_name(settings: ImapMailbox) -> str:
    """A store-safe cursor name for this account's folder, e.g. ``imap-INBOX-1a2b3c4d``."""
    digest = hashlib.sha256(f"{settings.username}\0{settings.folder}".encode()).hexdigest()[:8]
    return f"imap-{re.sub(r'[^A-Za-z0-9_.-]', '_', settings.folder)[:40]}-{digest}"


def _listing(box: BaseMailBox, after: int) -> list[tuple[int, int, datetime]]:
    """(UID, size, INTERNALDATE) of each message from UID `after` + 1."""
    # `UID n:*` also returns the last message when its UID is below n: the caller filters.
    result = box.client.uid("FETCH", f"{after + 1}:*", "(UID RFC822.SIZE INTERNALDATE)")
    _ok(result)
    listed = []
    for line in result[1]:
        text = line[0] if isinstance(line, tuple) else line
        if not isinstance(text, bytes):
            continue
        uid, size, date = _UID.search(text), _SIZE.search(text), _DATE.search(text)
        if uid and size and date:  # anything else is an unsolicited flag update
            listed.append((int(uid.group(1)), int(size.group(1)), _internaldate(date)))
    return listed


def _counts(box: BaseMailBox, folders: Sequence[str]) -> dict[str, int | None]:
    return {
        folder: box.folder.status(folder, ["MESSAGES"])["MESSAGES"] if box.folder.exists(folder) else None
        for folder in folders
    }


def _idle(box: BaseMailBox, timeout: float) -> bool:
    # IDLE reports only what changes after it starts; a NOOP first reports mail that arrived since
    # the last command (a message arriving between the two is seen when the timeout ends).
    box.client.untagged_responses.clear()
    _ok(box.client.noop())
    if box.client.untagged_responses.get("EXISTS"):
        return True
    return bool(box.idle.wait(timeout=timeout))


def _fetch_sets(wanted: Sequence[tuple[int, int]], most: int, most_bytes: int) -> Iterator[list[int]]:
    """The UIDs of `wanted` (UID, size) in order, in sets of at most `most` messages and `most_bytes`
    bytes; a message larger than `most_bytes` makes a set of its own."""
    chosen: list[int] = []
    total = 0
    for uid, size in wanted:
        if chosen and (len(chosen) == most or total + size > most_bytes):
            yield chosen
            chosen, total = [], 0
        chosen.append(uid)
        total += size
    if chosen:
        yield chosen


def _bodies(box: BaseMailBox, uids: Sequence[int]) -> dict[int, bytes]:
    """The bytes of the messages of `uids` still in the folder, by UID."""
    result = box.client.uid("FETCH", ",".join(map(str, uids)), "(BODY.PEEK[])")
    _ok(result)
    return _bodies_by_uid(result[1])


def _bodies_by_uid(responses: Sequence[Any]) -> dict[int, bytes]:
    """Message bytes by UID from FETCH responses as imaplib gives them: ``(header, literal)`` for a
    response with a body, then the rest of its line as bytes; a flag update is bytes alone. Neither
    the responses nor the items in one come in a set order: ``UID n`` may be in the header or, after
    the literal, in the rest of the line."""
    found: dict[int, bytes] = {}
    rest = b""
    for item in reversed(responses):  # backwards, so `rest` is the next bytes item after a body
        if isinstance(item, bytes):
            rest = item
        elif isinstance(item, tuple) and b"BODY[]" in item[0]:
            uid = _UID.search(item[0]) or _UID.search(rest)
            if uid:
                found[int(uid.group(1))] = bytes(item[1])
            rest = b""
    return found


def _internaldate(found: re.Match[bytes]) -> datetime:
    day, month, year, hour, minute, second, sign, off_h, off_m = (g.decode() for g in found.groups())
    offset = timedelta(hours=int(off_h), minutes=int(off_m)) * (-1 if sign == "-" else 1)
    month_number = _MONTHS.index(month.title()) + 1
    local = datetime(int(year), month_number, int(day), int(hour), int(minute), int(second))
    return (local - offset).replace(tzinfo=UTC)


def _ok(result: tuple[str, Any]) -> None:
    if result[0] != "OK":
        raise UnexpectedCommandStatusError(command_result=result, expected="OK")


def _reason(error: BaseException) -> str:
    return (str(error) or type(error).__name__)[:300]


def _shut(box: BaseMailBox) -> None:
    with contextlib.suppress(Exception):
        box.client.shutdown()
