"""parse_message on message bodies: alternatives, HTML-only mail, quoted history, attached mail."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mail.parse import parse_message
from mail.text import _HEADER_LINE, _MAY_START_HISTORY, _ON_WROTE_START, _ORIGINAL_MESSAGE, _OUTLOOK_RULE


def test_multipart_alternative_prefers_plain_text() -> None:
    raw = b"""\
From: a@example.org
Subject: alt
Message-ID: <alt@example.org>
Content-Type: multipart/alternative; boundary="XX"

--XX
Content-Type: text/plain; charset=utf-8

Plain words.
--XX
Content-Type: text/html; charset=utf-8

<p>HTML words.</p>
--XX--
"""
    mail = parse_message(raw)
    assert mail.text == "Plain words."
    assert mail.attachments == ()


def test_html_only_is_read_as_text_without_scripts_or_styles() -> None:
    raw = b"""\
From: a@example.org
Subject: html
Content-Type: text/html; charset=utf-8

<html><head><title>Title</title><style>p { color: red }</style></head>
<body><p>My mother&#39;s care &amp; support</p><script>alert('x')</script>
<div>Line one</div><div>Line two<br>Line three</div>
<ul><li>first</li><li>second</li></ul></body></html>
"""
    mail = parse_message(raw)
    assert mail.text == (
        "My mother's care & support\n\nLine one\nLine two\nLine three\n\n- first\n- second"
    )
    assert "alert" not in mail.text and "color" not in mail.text and "Title" not in mail.text


def test_html_blockquote_goes_to_quoted() -> None:
    raw = (b"From: a@example.org\nContent-Type: text/html\n\n"
           b"<p>New reply</p><blockquote>Our earlier letter</blockquote>")
    mail = parse_message(raw)
    assert mail.text == "New reply"
    assert mail.quoted == "> Our earlier letter"


def test_gmail_style_quote_is_separated() -> None:
    raw = b"""\
From: a@example.org
Subject: Re: your complaint

Yes, I agree to you sharing it.

On Tue, 24 Nov 2026 at 10:02, Northshire Complaints <complaints@northshire-trust.example>
wrote:
> Please reply YES or NO.
>
> Complaints team
"""
    mail = parse_message(raw)
    assert mail.text == "Yes, I agree to you sharing it."
    assert mail.quoted.startswith("On Tue, 24 Nov 2026 at 10:02")
    assert mail.quoted.endswith("> Complaints team")


def test_outlook_style_quote_is_separated() -> None:
    raw = b"""\
From: a@example.org
Subject: RE: your complaint

No, please do not share it.

Margaret

________________________________
From: Northshire Complaints <complaints@northshire-trust.example>
Sent: 24 November 2026 10:02
To: Margaret Ellison
Subject: Your consent

Please reply YES or NO.
"""
    mail = parse_message(raw)
    assert mail.text == "No, please do not share it.\n\nMargaret"
    assert mail.quoted.startswith("________________________________\nFrom: Northshire")
    assert "Please reply YES or NO." in mail.quoted


@pytest.mark.parametrize("separator", [
    "-----Original Message-----",
    "From: Complaints <c@example.org>\nSent: Tuesday, November 24, 2026 10:02 AM",
])
def test_original_message_blocks_are_separated(separator: str) -> None:
    body = f"My answer.\n\n{separator}\nOld text\n"
    mail = parse_message(f"From: a@example.org\nSubject: x\n\n{body}".encode())
    assert mail.text == "My answer."
    assert mail.quoted.startswith(separator.splitlines()[0])
    assert mail.quoted.endswith("Old text")


def test_interleaved_quote_lines_go_to_quoted() -> None:
    raw = b"From: a@example.org\n\n> Do you agree?\nYes.\n> And the care home?\nYes, that too.\n"
    mail = parse_message(raw)
    assert mail.text == "Yes.\nYes, that too."
    assert mail.quoted == "> Do you agree?\n> And the care home?"


def test_attached_message_is_one_attachment() -> None:
    raw = b"""\
From: a@example.org
Content-Type: multipart/mixed; boundary="XX"

--XX
Content-Type: text/plain

Forwarding the reply I got.
--XX
Content-Type: message/rfc822

Subject: inner
From: b@example.org

inner body
--XX--
"""
    mail = parse_message(raw)
    assert mail.text == "Forwarding the reply I got."
    (attached,) = mail.attachments
    assert attached.content_type == "message/rfc822"
    assert b"inner body" in attached.data


def test_message_that_is_only_an_attachment_has_no_text() -> None:
    raw = (b"From: a@example.org\nContent-Type: application/pdf; name=scan.pdf\n"
           b"Content-Transfer-Encoding: base64\n\nJVBERi0xLjQ=\n")
    mail = parse_message(raw)
    assert mail.text == ""
    assert [(a.filename, a.data) for a in mail.attachments] == [("scan.pdf", b"%PDF-1.4")]


def test_a_complainants_own_wrote_line_is_not_taken_for_a_quote() -> None:
    raw = b"From: a@example.org\n\nOn the discharge letter the doctor wrote:\nfit to go home\n"
    mail = parse_message(raw)
    assert mail.text == "On the discharge letter the doctor wrote:\nfit to go home"
    assert mail.quoted == ""


@pytest.mark.parametrize(("html", "quoted_start"), [
    ('<div dir="ltr">Yes please.</div><div class="gmail_quote"><div class="gmail_attr">'
     "On Tue, 24 Nov 2026 at 10:02, Complaints &lt;c@x.example&gt; wrote:<br></div>"
     '<blockquote class="gmail_quote">Please reply YES or NO.</blockquote></div>',
     "On Tue, 24 Nov 2026 at 10:02"),
    ("<div>Yes please.</div><hr><div id=\"divRplyFwdMsg\"><b>From:</b> Complaints<br>"
     "<b>Sent:</b> 24 November 2026 10:02<br><b>Subject:</b> consent</div>"
     "<div>Please reply YES or NO.</div>",
     "From: Complaints"),
])
def test_html_only_replies_from_gmail_and_outlook(html: str, quoted_start: str) -> None:
    raw = f"From: a@example.org\nContent-Type: text/html; charset=utf-8\n\n{html}".encode()
    mail = parse_message(raw)
    assert mail.text == "Yes please."
    assert mail.quoted.startswith(quoted_start)
    assert mail.quoted.endswith("Please reply YES or NO.")


def html_text(html: str) -> str:
    raw = f"From: a@example.org\nContent-Type: text/html; charset=utf-8\n\n{html}".encode()
    mail = parse_message(raw)
    return mail.text if not mail.quoted else f"{mail.text}\n--\n{mail.quoted}"


@pytest.mark.parametrize(("html", "text"), [
    ("<p>&lt;b&gt;not a tag&lt;/b&gt; &amp;amp;</p>", "<b>not a tag</b> &amp;"),
    ("<table><tr><td>Ward</td><td>7</td></tr><tr><th>Date</th><td>12 Nov</td></tr></table>",
     "Ward 7\nDate 12 Nov"),
    ("<p>a</p><pre>  lines   kept\n    as lines</pre><p>b</p>", "a\n\nlines kept\nas lines\n\nb"),
    ("<title>T</title><template>t</template><noscript>n</noscript><svg><text>s</text></svg>"
     "<iframe>i</iframe><p>shown</p>", "shown"),
    ("<p class='x' style='color:red' onclick='alert(1)'>attrs &nbsp;go</p>", "attrs go"),
    ("<p>token \ue000p\ue000 and \x01 marks</p>", "token p and marks"),
    ("<P>Upper<BR>case</P><Div>tags</DIV>", "Upper\ncase\n\ntags"),
    ("no tags at all, just words & symbols < >", "no tags at all, just words & symbols < >"),
    ("<p>unclosed <b>bold <i>italic", "unclosed bold italic"),
])
def test_html_is_read_as_a_person_would_see_it(html: str, text: str) -> None:
    assert html_text(html) == text


def test_nested_html_quotes_keep_their_depth() -> None:
    html = "<p>Yes.</p><blockquote>Will you?<blockquote>Please reply.</blockquote></blockquote>"
    assert html_text(html) == "Yes.\n--\n> Will you?\n> > Please reply."


# Lines built as blanks + a beginning + a rest, so that many could start a reply's history.
BLANKS = ["", " ", "\t", "\x0b", "\x85", "\u2028", "*", "> "]
BEGINNINGS = ["On", "on ", "ON\t", "From", "from :", "*From:*", "FROM:", "Sent:", "To:", "--", "-", "_" * 10,
              "_" * 9, ""]
RESTS = [" ", ":", "*", "-", "--", "_", "original message", "Original Message", "wrote:", "wrote :", "12:30",
         "@", "x", "\t"]
LINE = st.tuples(
    st.lists(st.sampled_from(BLANKS), max_size=3).map("".join),
    st.sampled_from(BEGINNINGS),
    st.lists(st.sampled_from(RESTS), max_size=5).map("".join),
).map("".join)


@settings(max_examples=1000, deadline=None)
@given(LINE)
def test_a_line_that_may_start_the_history_is_always_tested_in_full(line: str) -> None:
    header = _HEADER_LINE.match(line)
    may_start = (
        _ORIGINAL_MESSAGE.match(line)
        or _OUTLOOK_RULE.match(line)
        or (header and header.group(1).lower() == "from")
        or _ON_WROTE_START.match(line)
    )
    assert _MAY_START_HISTORY.match(line) or not may_start
