"""Bad input battery: whatever arrives, `parse_message` gives a usable mail or a `MailParseError`.

Each test is one kind of damage real mailboxes see. None may hang: the work each does is bounded
(HTML shaped to slow a parser is cut at the bounds `mail.text` documents), and these tests assert
the bounds, not the clock; how long the largest shapes take is measured by `make bench`
(`bench/bench_parse.py`, over the shapes defined here).
"""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mail.attachments import AttachmentStore
from mail.errors import MailParseError
from mail.parse import IncomingMail, parse_message
from mail.text import _MAX_AMPERSANDS, _MAX_OPEN_TAGS, _MAX_QUOTE_DEPTH

HEAD = b"From: Margaret Ellison <margaret@example.org>\nSubject: My complaint\n"
HOSTILE_HTML = {
    "nested": b"<div>" * 200_000 + b"deep",
    "ampersands": b"<p>" + b"a &amp; b " * 500_000,
    "quotes": b"<blockquote>x" * 50_000,
    "open tags": b"<p>" * 300_000,
}


def multipart(*parts: bytes, boundary: bytes = b"XX", close: bool = True) -> bytes:
    body = b"".join(b"--" + boundary + b"\n" + part + b"\n" for part in parts)
    end = b"--" + boundary + b"--\n" if close else b""
    return HEAD + b'Content-Type: multipart/mixed; boundary="' + boundary + b'"\n\n' + body + end


def test_multipart_without_a_boundary_keeps_the_words_as_text() -> None:
    raw = HEAD + b"Content-Type: multipart/mixed\n\n--XX\nContent-Type: text/plain\n\nMy words\n--XX--\n"
    mail = parse_message(raw)
    assert "My words" in mail.text and mail.attachments == ()


def test_unterminated_multipart_keeps_every_part() -> None:
    raw = multipart(b"Content-Type: text/plain\n\nfirst", b"Content-Type: text/plain\n\nsecond", close=False)
    assert parse_message(raw).text == "first\n\nsecond"


def test_a_boundary_that_never_appears_gives_an_empty_text_not_an_error() -> None:
    raw = HEAD + b'Content-Type: multipart/mixed; boundary="nowhere"\n\njust words\n'
    mail = parse_message(raw)
    assert mail.subject == "My complaint" and mail.from_address == "margaret@example.org"


def test_missing_from_date_and_message_id() -> None:
    raw = b"Subject: no sender\n\nSomebody wrote this.\n"
    mail = parse_message(raw)
    assert (mail.from_address, mail.from_name, mail.sent_at) == ("", "", None)
    assert mail.message_id.endswith("@missing-id.jointly.invalid>")
    assert mail.text == "Somebody wrote this."


def test_duplicate_headers_the_first_wins() -> None:
    raw = (b"From: first@example.org\nFrom: second@example.org\nSubject: first subject\n"
           b"Subject: second subject\nMessage-ID: <one@example.org>\nMessage-ID: <two@example.org>\n"
           b"Date: Tue, 24 Nov 2026 09:30:00 +0000\nDate: Wed, 25 Nov 2026 09:30:00 +0000\n\nbody\n")
    mail = parse_message(raw)
    assert mail.subject == mail.headers["subject"] == "first subject"
    assert mail.message_id == "<one@example.org>"
    assert mail.from_address == "first@example.org"
    assert mail.sent_at is not None and mail.sent_at.day == 24


def test_bad_dates_give_no_date() -> None:
    for value in [b"yesterday", b"32 Foo 2026 25:61:00", b"Tue, 24 Nov 99999 09:30:00 +0000",
                  b"Tue, 24 Nov 2026 09:30:00 +9999", b"", b"\xff\xfe"]:
        mail = parse_message(HEAD + b"Date: " + value + b"\n\nbody\n")
        assert mail.sent_at is None or mail.sent_at.tzinfo is not None
        assert mail.text == "body"


def test_unknown_charsets_and_transfer_encodings() -> None:
    raw = multipart(
        b"Content-Type: text/plain; charset=x-klingon\nContent-Transfer-Encoding: x-weird\n\nCaf\xe9",
        b"Content-Type: text/plain; charset=rot13\n\nplain",
        b"Content-Type: application/pdf; name=a.pdf\nContent-Transfer-Encoding: x-weird\n\n%PDF-1.4",
        b"Content-Type: text/plain\nContent-Transfer-Encoding: base64\n\n!!not base64@@",
    )
    mail = parse_message(raw)
    assert mail.text.startswith("Caf\u00e9\n\nplain")
    assert [(a.filename, a.data) for a in mail.attachments] == [("a.pdf", b"%PDF-1.4")]


def test_eight_bit_bytes_in_headers() -> None:
    raw = (b"From: J\xf6rg M\xfcller <jorg@example.org>\nTo: \xe9\xe9 <a@example.org>, \xff\n"
           b"Subject: Caf\xe9 \xff\xfe\x00 \xe2\x80\x93 dash\nMessage-ID: <\xe9@example.org>\n\nbody\n")
    mail = parse_message(raw)
    assert mail.from_name == "J\u00f6rg M\u00fcller" and mail.from_address == "jorg@example.org"
    assert "Caf" in mail.subject and "\x00" not in mail.subject
    assert mail.to == ("a@example.org",)
    assert mail.message_id.encode("utf-8")  # storable text, no lone surrogates


def test_messages_attached_three_deep_are_one_attachment() -> None:
    inner = b"From: c@example.org\nSubject: level 3\n\nthe deepest words\n"
    for level in (2, 1):
        inner = (b"From: b@example.org\nSubject: level %d\n"
                 b"Content-Type: multipart/mixed; boundary=B%d\n\n--B%d\nContent-Type: text/plain\n\n"
                 b"level %d words\n--B%d\nContent-Type: message/rfc822\n\n%s\n--B%d--\n"
                 % (level, level, level, level, level, inner, level))
    mail = parse_message(multipart(b"Content-Type: text/plain\n\nouter words",
                                   b"Content-Type: message/rfc822\n\n" + inner))
    assert mail.text == "outer words"
    (attached,) = mail.attachments
    assert attached.content_type == "message/rfc822"
    assert b"the deepest words" in attached.data and b"level 1 words" in attached.data


def big_attachment() -> tuple[bytes, bytes]:
    """A message with 30 MiB of scanned records attached (40 MB of base64), and the records."""
    data = bytes(range(256)) * 4096 * 30
    raw = multipart(
        b"Content-Type: text/plain\n\nMy scanned records are attached.",
        b"Content-Type: application/pdf\nContent-Transfer-Encoding: base64\n"
        b"Content-Disposition: attachment; filename=records.pdf\n\n" + base64.encodebytes(data),
    )
    return raw, data


def tiny_parts(count: int = 5000) -> bytes:
    parts = [b"Content-Type: text/plain\nContent-Disposition: attachment; filename=p%d.txt\n\n%d" % (i, i)
             for i in range(count)]
    return multipart(b"Content-Type: text/plain\n\nSee the parts.", *parts)


def test_a_30_mb_attachment_is_kept_whole() -> None:
    raw, data = big_attachment()
    mail = parse_message(raw)
    (attachment,) = mail.attachments
    assert (attachment.filename, attachment.size) == ("records.pdf", len(data))
    assert attachment.sha256 == hashlib.sha256(data).hexdigest()
    assert mail.text == "My scanned records are attached."


def test_five_thousand_tiny_parts() -> None:
    mail = parse_message(tiny_parts())
    assert mail.text == "See the parts." and len(mail.attachments) == 5000
    assert mail.attachments[-1].filename == "p4999.txt" and mail.attachments[-1].data == b"4999"


def test_hostile_filenames_stay_data_and_are_stored_safely(tmp_path: Path) -> None:
    raw = multipart(
        b"Content-Type: text/plain\n\nFiles attached.",
        b'Content-Type: application/pdf\nContent-Disposition: attachment; filename="../../etc/passwd"\n\nx',
        b"Content-Type: image/png\nContent-Disposition: attachment; "
        b'filename="=?utf-8?q?bad=07=1B=0D=0Aname=E2=80=AEgnp.exe?="\n\ny',
        b"Content-Type: text/plain\nContent-Disposition: attachment; filename*=utf-8''%2E%2E%2Fx%00%0A.txt"
        b"\n\nz",
    )
    mail = parse_message(raw)
    assert [a.data for a in mail.attachments] == [b"x", b"y", b"z"]
    assert mail.attachments[0].filename == "../../etc/passwd"  # the sender's words, never a path
    store = AttachmentStore(tmp_path / "files")
    for attachment in mail.attachments:
        stored = store.save(attachment.data, filename=attachment.filename,
                            content_type=attachment.content_type)
        assert store.path(stored.name).resolve().is_relative_to((tmp_path / "files").resolve())
        assert stored.original_filename.isprintable() and "/" not in stored.original_filename
    assert sorted(p.name for p in tmp_path.iterdir()) == ["files"]


def test_script_text_never_reaches_the_text() -> None:
    raw = (HEAD + b"Content-Type: text/html; charset=utf-8\n\n"
           b"<p>My mother's care</p><script>document.write('SECRET')</script>"
           b"<SCRIPT type=text/javascript><!-- alert('SECRET') --></SCRIPT><style>p{color:SECRET}</style>"
           b"<img src=x onerror=\"alert('SECRET')\"><noscript>SECRET</noscript><p>ends here"
           b"<script>unterminated SECRET")
    mail = parse_message(raw)
    assert "SECRET" not in mail.text and "SECRET" not in mail.quoted
    assert mail.text.startswith("My mother's care") and mail.text.endswith("ends here")


def html_mail(shape: str) -> IncomingMail:
    return parse_message(HEAD + b"Content-Type: text/html\n\n" + HOSTILE_HTML[shape])


def test_hostile_html_is_cut_at_its_bounds_before_the_parser_sees_it() -> None:
    assert "deep" not in html_mail("nested").text  # after the last open tag allowed
    assert html_mail("ampersands").text.count("&") == _MAX_AMPERSANDS - 1
    quotes = html_mail("quotes").quoted.split("\n")
    assert sum(line.endswith("x") for line in quotes) == _MAX_OPEN_TAGS - 1
    assert max(map(len, quotes)) == len("> " * _MAX_QUOTE_DEPTH + "x")
    assert html_mail("open tags").text == ""


def test_an_empty_body() -> None:
    mail = parse_message(HEAD + b"\n")
    assert (mail.text, mail.quoted, mail.attachments) == ("", "", ())
    assert mail.subject == "My complaint"


def test_a_message_that_is_only_headers() -> None:
    for raw in (HEAD, HEAD.rstrip(b"\n"), b"Subject: only this"):
        mail = parse_message(raw)
        assert mail.text == "" and mail.attachments == () and mail.size == len(raw)


MIME_PIECES = [
    b"From: a@example.org\n", b"To: b@example.org, \xe9\n", b"Subject: =?utf-8?q?caf=C3=A9?=\n",
    b"Subject: =?x-bad?b?!!?=\n", b"Message-ID: <id@example.org>\n", b"Date: Tue, 24 Nov 2026 09:30 +0000\n",
    b"Date: nonsense\n", b"MIME-Version: 1.0\n", b"Content-Type: multipart/mixed; boundary=B\n",
    b"Content-Type: multipart/alternative; boundary=\"C\"\n", b"Content-Type: multipart/mixed\n",
    b"Content-Type: text/plain; charset=x-unknown\n", b"Content-Type: text/html\n",
    b"Content-Type: message/rfc822\n", b"Content-Type: application/pdf; name=\"../x\"\n",
    b"Content-Transfer-Encoding: base64\n", b"Content-Transfer-Encoding: quoted-printable\n",
    b"Content-Transfer-Encoding: x-weird\n", b"Content-Disposition: attachment; filename*=utf-8''%FF\n",
    b"\n", b"--B\n", b"--B--\n", b"--C\n", b"--C--\n", b" folded continuation\n",
    b"<blockquote>", b"<script>x</script>", b"&amp;", b"=E9=\n", b"aGVsbG8=\n", b"> quoted\n",
    b"On Tue, 24 Nov 2026 at 10:02, X <x@example.org> wrote:\n",
]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(st.sampled_from(MIME_PIECES), st.binary(max_size=12)), max_size=60))
def test_fuzz_mime_ish_bytes_parse_or_raise_mail_parse_error(pieces: list[bytes]) -> None:
    raw = b"".join(pieces)
    try:
        mail = parse_message(raw)
    except MailParseError as error:
        assert error.reason in {"empty", "no-headers", "unparseable"}
        return
    assert isinstance(mail, IncomingMail) and mail.size == len(raw) and mail.message_id
    for text in (mail.text, mail.quoted, mail.subject, mail.from_name, *mail.headers.values()):
        text.encode("utf-8")  # storable: no lone surrogates
        assert "\x00" not in text


def test_a_large_multipart_without_a_boundary_stays_an_attachment() -> None:
    body = b"A" * 1_500_000
    mail = parse_message(HEAD + b"Content-Type: multipart/mixed\n\n" + body)
    assert mail.text == ""
    (attachment,) = mail.attachments
    assert attachment.size == len(body)


def test_a_nul_in_a_declared_charset() -> None:
    raw = (HEAD.replace(b"My complaint", b"=?utf-8\x00?q?caf=C3=A9?=")
           + b'Content-Type: text/plain; charset="utf-8\x00"\n\nCaf\xc3\xa9\n')
    mail = parse_message(raw)
    assert (mail.subject, mail.text) == ("caf\u00e9", "Caf\u00e9")
    unsplittable = parse_message(HEAD + b'Content-Type: multipart/mixed; charset="\x00"\n\nCaf\xc3\xa9\n')
    assert [attachment.data for attachment in unsplittable.attachments] == [b"Caf\xc3\xa9\n"]
