"""The words of an email body: HTML reduced to text, and the new text split from quoted history.

A complaint is judged on what the person wrote, so HTML-only mail is read as text, never rendered,
and never read with regular expressions: the sanitising library `nh3` (Rust's ammonia, an HTML5
parser) first reduces the markup to a few attribute-less block tags, dropping scripts, styles and
other hidden content with everything inside them; those tags become line breaks and '>' quote
lines (any other tag left, none expected, is stripped by a second `nh3` pass); only then are
character references decoded, so nothing decoded can be read as markup.
A reply's quoted history is kept apart from the new text, so a handler sees what is new and
classification is not misled by our own earlier letter.
"""

from __future__ import annotations

import html as html_entities
import re

import nh3

# Elements whose content is never shown to a reader: removed with everything inside them.
_HIDDEN = frozenset(
    {"script", "style", "title", "template", "noscript", "svg", "math", "iframe", "object", "head"}
)
# Tags that start a new line, and those that also leave a blank line (a new paragraph).
_LINES = frozenset({"div", "li", "tr", "dt", "dd", "section", "article", "header", "footer"})
_PARAGRAPHS = frozenset(
    {"p", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "dl", "table", "pre", "hr", "address"}
)
_CELLS = frozenset({"td", "th"})
_KEPT = _LINES | _PARAGRAPHS | _CELLS | {"br", "blockquote"}
# After the first pass every '<' left is one of these exact, attribute-less tags (text is escaped
# as '&lt;'), so each can be found by plain string replacement and turned into a token.
_TOKEN = "\ue000"  # a private-use character, removed from the input first
_UNSEEN = dict.fromkeys([*range(0x01, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F, ord(_TOKEN)])
_MAX_QUOTE_DEPTH = 10  # deeper quotes are marked at this depth: '> ' * depth must stay small
# The HTML parser's time grows with the square of nesting depth and of '&' in one text run, so
# hostile HTML is cut to these bounds first. New text comes first in a reply; what a cut loses is
# old quoted history, and an end cut mid-tag or mid-script is safe (the parser drops the rest).
_MAX_HTML_CHARS = 2_000_000
_MAX_OPEN_TAGS = 10_000
_MAX_AMPERSANDS = 100_000
_QUOTE_OPEN, _QUOTE_CLOSE = "\x01", "\x02"
# Lines that open the quoted history of a reply (plain text, after HTML is gone).
_ORIGINAL_MESSAGE = re.compile(r"^\s*-{2,}\s*original message\s*-{2,}\s*$", re.IGNORECASE)
_OUTLOOK_RULE = re.compile(r"^\s*_{10,}\s*$")
_HEADER_LINE = re.compile(r"^\s*\*?(from|sent|date|to|subject|cc)\s*:\*?", re.IGNORECASE)
_ON_WROTE_START = re.compile(r"^\s*on\s.+", re.IGNORECASE)
_WROTE_END = re.compile(r"wrote\s*:\s*$", re.IGNORECASE)
_TIME_OR_ADDRESS = re.compile(r"\d{1,2}[:.]\d{2}|@")
# How any line that the four patterns above could take as the start of the history begins (for a
# header line, 'From:'): a line that does not match cannot start it.
_MAY_START_HISTORY = re.compile(r"\s*(?:-{2}|_{10}|\*?from\s*:|on\s)", re.IGNORECASE)


def _bounded(html: str) -> str:
    """The HTML, cut short if it is large or shaped to make the parser slow."""
    html = html[:_MAX_HTML_CHARS]
    ends = (_nth(html, "<", _MAX_OPEN_TAGS, skip="/"), _nth(html, "&", _MAX_AMPERSANDS))
    end = min(ends + (_nth(html, "\xa0", _MAX_AMPERSANDS),))
    return html[:end]


def _nth(text: str, char: str, limit: int, skip: str = "") -> int:
    """Index of the `limit`-th `char` (not followed by `skip`), or len(text) if there are fewer."""
    if text.count(char) < limit:
        return len(text)
    seen, index = 0, text.find(char)
    while index >= 0:
        seen += not (skip and text.startswith(skip, index + 1))
        if seen >= limit:
            return index
        index = text.find(char, index + 1)
    return len(text)


def _tokens(html: str) -> list[str]:
    """Text and tag names, alternating: [text, tag, text, tag, ..., text]; tags as 'p' or '/p'."""
    kept = nh3.clean(
        _bounded(html).translate(_UNSEEN),
        tags=set(_KEPT),
        clean_content_tags=set(_HIDDEN),
        attributes={"*": set()},
        strip_comments=True,
    )
    for tag in _KEPT:
        kept = kept.replace(f"<{tag}>", f"{_TOKEN}{tag}{_TOKEN}")
        kept = kept.replace(f"</{tag}>", f"{_TOKEN}/{tag}{_TOKEN}")
    tokens = kept.split(_TOKEN)
    # Every tag was allowed, attribute-less and tokenised, so text holds no '<'; should a future
    # nh3 serialise a tag differently, a second pass strips it rather than let it read as text.
    return [nh3.clean(t, tags=set()) if "<" in t else t for t in tokens]


class _TextCollector:
    """Collects the text of a token stream; blockquotes become '>' lines."""

    def __init__(self) -> None:
        self.chunks: list[str] = []
        self._pre = 0

    def feed(self, tokens: list[str]) -> None:
        for index, token in enumerate(tokens):
            if index % 2 == 0:
                self.data(html_entities.unescape(token).translate(_UNSEEN))
            elif token.startswith("/"):
                self.end(token[1:])
            else:
                self.start(token)

    def start(self, tag: str) -> None:
        if tag == "br":
            self.chunks.append("\n")
        elif tag == "blockquote":
            self.chunks.append(f"\n{_QUOTE_OPEN}\n")
        elif tag == "li":
            self._end_line(1)
            self.chunks.append("- ")
        elif tag in _CELLS:
            self.chunks.append(" ")
        else:
            self._end_line(_breaks(tag))
        self._pre += tag == "pre"

    def end(self, tag: str) -> None:
        if tag == "blockquote":
            self.chunks.append(f"\n{_QUOTE_CLOSE}\n")
        elif tag not in _CELLS:
            self._end_line(_breaks(tag))
        if tag == "pre":
            self._pre = max(0, self._pre - 1)

    def _end_line(self, newlines: int) -> None:
        """Make the text so far end with at least this many line breaks."""
        tail = "".join(self.chunks[-4:]).rstrip(" ")
        have = len(tail) - len(tail.rstrip("\n"))
        if self.chunks and newlines > have:
            self.chunks.append("\n" * (newlines - have))

    def data(self, data: str) -> None:
        if data:
            self.chunks.append(data if self._pre else _spaced(data))


def _breaks(tag: str) -> int:
    """How many line breaks a block tag puts around its content (2 = a new paragraph)."""
    if tag in _PARAGRAPHS:
        return 2
    return 1 if tag in _LINES else 0


def _spaced(data: str) -> str:
    """Collapse whitespace as a browser would, keeping one space at either edge."""
    words = " ".join(data.split())
    if not words:
        return " " if data else ""
    lead = " " if data[:1].isspace() else ""
    trail = " " if data[-1:].isspace() else ""
    return f"{lead}{words}{trail}"


def html_to_text(html: str) -> str:
    """Plain text from HTML: what a reader sees, scripts and styles dropped, quotes marked '>'."""
    collector = _TextCollector()
    collector.feed(_tokens(html))
    lines: list[str] = []
    depth = 0
    for line in "".join(collector.chunks).split("\n"):
        if line == _QUOTE_OPEN:
            depth += 1
        elif line == _QUOTE_CLOSE:
            depth = max(0, depth - 1)
        else:
            words = " ".join(line.split())
            prefix = "> " * min(depth, _MAX_QUOTE_DEPTH)
            lines.append(f"{prefix}{words}" if words else "")
    return _tidy(lines)


def _tidy(lines: list[str]) -> str:
    """Join lines, with at most one blank line in a row and none at either end."""
    kept: list[str] = []
    for line in map(str.rstrip, lines):
        if line or (kept and kept[-1]):
            kept.append(line)
    while kept and not kept[-1]:
        kept.pop()
    return "\n".join(kept)


def split_quoted(text: str) -> tuple[str, str]:
    """(new text, quoted history): '>' lines, and a reply header with everything after it."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    cut = _history_start(lines)
    head, history = lines[:cut], lines[cut:]
    quoted = [line for line in head if line.lstrip().startswith(">")] if ">" in text else []
    new = [line for line in head if not line.lstrip().startswith(">")] if quoted else head
    if quoted and history:
        quoted.append("")
    return _tidy(new), _tidy(quoted + history)


def _history_start(lines: list[str]) -> int:
    """Index of the first line of a reply header block, or len(lines) if there is none."""
    for index, line in enumerate(lines):
        if not _MAY_START_HISTORY.match(line):  # one test instead of four for almost every line
            continue
        header = _HEADER_LINE.match(line)
        if (
            _ORIGINAL_MESSAGE.match(line)
            or (_OUTLOOK_RULE.match(line) and _header_names(lines[index + 1 : index + 3]) & {"from"})
            or (
                header
                and header.group(1).lower() == "from"
                and _header_names(lines[index + 1 : index + 5]) & {"sent", "date"}
            )
            or (_ON_WROTE_START.match(line) and _is_attribution(lines[index : index + 3]))
        ):
            return index
    return len(lines)


def _header_names(lines: list[str]) -> set[str]:
    """Names of the Outlook-style header lines ('From:', 'Sent:'...) among these lines."""
    return {m.group(1).lower() for line in lines if (m := _HEADER_LINE.match(line))}


def _is_attribution(lines: list[str]) -> bool:
    """An 'On <date, time>, <name> wrote:' line, perhaps wrapped onto the next line or two.

    It must carry a time or an address, so a complainant's own "On the ward a nurse wrote:"
    stays in the new text.
    """
    for end, line in enumerate(lines):
        if end and (not line.strip() or line.lstrip().startswith(">")):
            return False
        if _WROTE_END.search(line):
            return bool(_TIME_OR_ADDRESS.search(" ".join(lines[: end + 1])))
    return False
