"""parse_message on well-formed, badly encoded and hostile mail."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime, timedelta, timezone
from email.utils import getaddresses
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mail.decode import _plain_mailboxes, clean, decode_bytes, recover_8bit, unfold
from mail.errors import MailError, MailParseError
from mail.parse import IncomingMail, parse_message

PLAIN = b"""\
From: Margaret Ellison <Margaret.Ellison@Example.ORG>
To: complaints@northshire-trust.example, Copy <Other@Example.net>
Subject: My father's discharge
Date: Tue, 24 Nov 2026 09:30:00 +0000
Message-ID: <abc123@mail.example.org>
In-Reply-To: <letter1@northshire-trust.example>
References: <first@x.example>
 <letter1@northshire-trust.example>
Auto-Submitted: no
Content-Type: text/plain; charset=utf-8

Dear complaints team,

My father was sent home at night.
"""


def test_plain_message() -> None:
    mail = parse_message(PLAIN)
    assert isinstance(mail, IncomingMail)
    assert mail.message_id == "<abc123@mail.example.org>"
    assert (mail.from_address, mail.from_name) == ("margaret.ellison@example.org", "Margaret Ellison")
    assert mail.to == ("complaints@northshire-trust.example", "other@example.net")
    assert mail.subject == "My father's discharge"
    assert mail.sent_at == datetime(2026, 11, 24, 9, 30, tzinfo=UTC)
    assert mail.text == "Dear complaints team,\n\nMy father was sent home at night."
    assert mail.quoted == ""
    assert mail.in_reply_to == "<letter1@northshire-trust.example>"
    assert mail.references == ("<first@x.example>", "<letter1@northshire-trust.example>")
    assert mail.headers["auto-submitted"] == "no"
    assert mail.headers["subject"] == "My father's discharge"
    assert mail.attachments == ()
    assert mail.size == len(PLAIN)


def test_crlf_line_endings_are_read_the_same() -> None:
    mail = parse_message(PLAIN.replace(b"\n", b"\r\n"))
    assert mail.text == "Dear complaints team,\n\nMy father was sent home at night."
    assert mail.references == ("<first@x.example>", "<letter1@northshire-trust.example>")


def test_encoded_word_subjects_and_names_in_latin1_and_utf8() -> None:
    raw = b"""\
From: =?ISO-8859-1?Q?Ren=E9e_Dupr=E9?= <renee@example.org>
To: =?utf-8?b?U2lvYmjDoW4=?= <s@example.org>
Subject: =?utf-8?q?Caf=C3=A9_visit_=E2=80=93?= =?iso-8859-1?q?_r=E9sum=E9?=

body
"""
    mail = parse_message(raw)
    assert mail.from_name == "Ren\u00e9e Dupr\u00e9"
    assert mail.subject == "Caf\u00e9 visit \u2013 r\u00e9sum\u00e9"
    assert mail.headers["to"] == "Siobh\u00e1n <s@example.org>"


def test_raw_8bit_headers_are_recovered() -> None:
    raw = "From: Jos\u00e9 <jose@example.org>\nSubject: Caf\u00e9\n\nbody".encode()
    mail = parse_message(raw)
    assert (mail.from_name, mail.subject) == ("Jos\u00e9", "Caf\u00e9")


def test_unknown_charset_and_broken_encoded_words_do_not_crash() -> None:
    raw = b"""\
From: =?x-unknown?q?Ren=E9e?= <r@example.org>
Subject: =?x-unknown?q?caf=E9?= and =?utf-8?b?broken!!?= and =?utf-8?q?unterminated
Date: the day before yesterday
Content-Type: text/plain; charset="x-unknown"
Content-Transfer-Encoding: 8bit

Caf\xe9 au lait
"""
    mail = parse_message(raw)
    assert mail.from_name == "Ren\u00e9e"
    assert mail.subject.startswith("caf\u00e9 and ")
    assert mail.subject.endswith("=?utf-8?q?unterminated")
    assert mail.text == "Caf\u00e9 au lait"
    assert mail.sent_at is None


def test_wrong_declared_charset_falls_back() -> None:
    raw = "Subject: x\nContent-Type: text/plain; charset=us-ascii\n\nna\u00efve".encode()
    assert parse_message(raw).text == "na\u00efve"


def test_date_without_zone_is_read_as_utc_and_offsets_are_kept() -> None:
    unknown_zone = parse_message(b"Subject: x\nDate: Tue, 24 Nov 2026 09:30:00 -0000\n\nx")
    assert unknown_zone.sent_at == datetime(2026, 11, 24, 9, 30, tzinfo=UTC)
    offset = parse_message(b"Subject: x\nDate: Tue, 24 Nov 2026 09:30:00 +0100\n\nx")
    assert offset.sent_at is not None
    assert offset.sent_at.utcoffset() == timedelta(hours=1)
    assert offset.sent_at == datetime(2026, 11, 24, 9, 30, tzinfo=timezone(timedelta(hours=1)))


@pytest.mark.parametrize("header", [b"", b"Message-ID:\n", b"Message-ID:   \n"])
def test_missing_message_id_is_synthesised_deterministically(header: bytes) -> None:
    raw = header + b"From: a@example.org\nSubject: no id\n\nbody\n"
    first, second = parse_message(raw), parse_message(raw)
    expected = f"<{hashlib.sha256(raw).hexdigest()[:32]}@missing-id.jointly.invalid>"
    assert first.message_id == second.message_id == expected
    assert parse_message(raw + b"more").message_id != expected


def test_hostile_attachment_filename_is_only_data(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    raw = b"""\
From: a@example.org
Subject: with files
Content-Type: multipart/mixed; boundary="XX"

--XX
Content-Type: text/plain

See attached.
--XX
Content-Type: application/octet-stream
Content-Disposition: attachment; filename="../../etc/passwd"
Content-Transfer-Encoding: base64

cm9vdDp4OjA6MDo=
--XX
Content-Type: application/pdf
Content-Disposition: attachment; filename*=utf-8''lettre%20r%C3%A9sum%C3%A9.pdf

%PDF-1.4
--XX--
"""
    mail = parse_message(raw)
    assert mail.text == "See attached."
    hostile, pdf = mail.attachments
    assert hostile.filename == "../../etc/passwd"
    assert hostile.data == b"root:x:0:0:"
    assert hostile.size == len(hostile.data)
    assert hostile.sha256 == hashlib.sha256(b"root:x:0:0:").hexdigest()
    assert hostile.content_type == "application/octet-stream"
    assert pdf.filename == "lettre r\u00e9sum\u00e9.pdf"
    assert pdf.content_type == "application/pdf"
    assert list(tmp_path.iterdir()) == []  # nothing was written anywhere


@pytest.mark.parametrize(("raw", "reason"), [
    (b"", "empty"),
    (b"   \r\n\r\n  ", "empty"),
    (b"\x00\xff\xfe\x00 \x89PNG garbage without any header", "no-headers"),
])
def test_input_with_nothing_usable_raises(raw: bytes, reason: str) -> None:
    with pytest.raises(MailParseError) as caught:
        parse_message(raw)
    assert caught.value.reason == reason
    assert isinstance(caught.value, MailError)


def test_garbage_after_valid_headers_degrades() -> None:
    raw = (b"From: <<<>>>@@@ ,,, \"\nTo: undisclosed-recipients:;\nSubject: \xff\xfe\n"
           b"Content-Type: multipart/mixed; boundary=\"never-closed\"\n\n\x00\x01\xff junk")
    mail = parse_message(raw)
    assert (mail.from_address, mail.to) == ("", ())
    assert re.fullmatch(r"<[0-9a-f]{32}@missing-id\.jointly\.invalid>", mail.message_id)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400))
def test_any_bytes_parse_or_raise_mail_parse_error(raw: bytes) -> None:
    try:
        mail = parse_message(raw)
    except MailParseError as error:
        assert error.reason in {"empty", "no-headers", "unparseable"}
    else:
        assert mail.size == len(raw) and mail.message_id


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400))
def test_any_body_after_headers_parses(body: bytes) -> None:
    raw = b"From: a@example.org\nContent-Type: multipart/mixed; boundary=b\n\n" + body
    mail = parse_message(raw)
    assert mail.from_address == "a@example.org"
    assert "\x00" not in mail.text


def test_hostile_mime_nesting_keeps_headers_and_the_body_as_data() -> None:
    nesting = b"".join(
        b'Content-Type: multipart/mixed; boundary="b%d"\n\n--b%d\n' % (i, i) for i in range(3000)
    )
    raw = b"From: a@example.org\nSubject: deep\n" + nesting + b"Content-Type: text/plain\n\ndeep\n"
    mail = parse_message(raw)
    assert (mail.from_address, mail.subject, mail.text) == ("a@example.org", "deep", "")
    (body,) = mail.attachments
    assert body.size > 100_000 and body.data.endswith(b"deep\n")


# --- fast paths: each must read exactly what the general path reads ------------------------------

# Header values built from these: plain lists of mailboxes, and the same with anything else inside.
NAMES = ["", "Margaret Ellison ", "J. Smith", '"Okafor, David" ', '"a (b)" ', '"x\\"y" ', '"" ',
         "Siobh\u00e1n ", "=?utf-8?q?Siobh=C3=A1n_O=27Neill?= ", "A\u00a0B ", "A \t B", '"q" r ', "\t"]
ADDRESSES = ["a@example.org", "o'neill@example.net", "a.b+c@x-y.example"]
ODD_ADDRESSES = ["<a @b.example>", "a..b@c.example", ".a@b.example", "a@b.", "a@[10.0.0.1]", "a@b@c", "<a@b",
                 "a@b>", "<>", "\u00e9@b.example", "(c) a@b.example", "a@b.example (c)", "g: a@b.example;"]
SEPARATORS = [",", ", ", " ,", ",\t", ", ", ",,", " ", ";", ""]
NOISE = ["(comment)", "(", ")", ",", "group: ", "undisclosed-recipients:;", " ", "\\", "\x00", "\x01",
         "\x7f", "\x85", "\xa0", "\u2028", "\udce9", "@", ".", '"', "<", ">"]
ITEM = st.one_of(
    st.tuples(st.sampled_from(NAMES), st.sampled_from(ADDRESSES)).map(lambda pair: f"{pair[0]}<{pair[1]}>"),
    st.sampled_from(ADDRESSES),
    st.tuples(st.sampled_from(NAMES), st.sampled_from(ODD_ADDRESSES)).map("".join),
    st.sampled_from(NOISE),
)
HEADER_VALUE = st.tuples(ITEM, st.lists(st.tuples(st.sampled_from(SEPARATORS), ITEM), max_size=3)).map(
    lambda value: value[0] + "".join(separator + item for separator, item in value[1])
)
PLAIN_FORMS = [
    "a@example.org",
    "Margaret Ellison <Margaret.Ellison@Example.ORG>",
    '"Okafor, David" <d.okafor@example.com>',
    "=?utf-8?q?Siobh=C3=A1n_O=27Neill?= <Siobhan.ONeill@example.net>",
    "complaints@northshire-trust.example, Copy <Other@Example.net>",
    "<a@example.org>,b@example.org ,\t\"\" <c+d@example.org>",
]


@pytest.mark.parametrize("value", PLAIN_FORMS)
def test_common_address_forms_take_the_fast_path(value: str) -> None:
    assert _plain_mailboxes(value) == getaddresses([value])


def test_the_fast_address_path_reads_each_mailbox_and_pair_as_getaddresses_does() -> None:
    items = [f"{name}<{address}>" for name in NAMES for address in ADDRESSES + ODD_ADDRESSES]
    items += [name + address for name in NAMES for address in ADDRESSES + ODD_ADDRESSES] + NOISE
    values = [*items, *(f"{item}{sep}Pat <p@example.org>" for item in items for sep in SEPARATORS)]
    read = {value: _plain_mailboxes(value) for value in values}
    assert all(fast is None or fast == getaddresses([value]) for value, fast in read.items())
    assert sum(fast is not None for fast in read.values()) > 100  # the fast path was taken, and agreed


@settings(max_examples=1000, deadline=None)
@given(HEADER_VALUE)
def test_the_fast_address_path_reads_what_getaddresses_reads(value: str) -> None:
    fast = _plain_mailboxes(value)
    assert fast is None or fast == getaddresses([value])


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet=st.sampled_from(["a", " ", "\t", "\n", "\r", "\x0b", "\x1c", "\x85", "\u2028", "\x00",
                                         "\xe9", "\udce9", "\udc80", "=", "?"])))
def test_the_header_text_fast_paths_agree_with_the_general_ones(value: str) -> None:
    assert clean(value) == value.encode("utf-8", "replace").decode("utf-8").replace("\x00", "")
    assert unfold(value) == " ".join(line.strip() for line in value.splitlines() if line.strip())
    escaped = any("\udc80" <= char <= "\udcff" for char in value)
    recovered = decode_bytes(value.encode("utf-8", "surrogateescape")) if escaped else value
    assert recover_8bit(value) == recovered
