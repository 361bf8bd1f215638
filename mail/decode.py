"""Turning the bytes and header words real mail contains into text, whatever their charset.

Complaints arrive from every kind of mail program: raw 8-bit headers, encoded-words in charsets
Python has never heard of, broken base64, quoted display names. The stdlib parser is good at
structure but leaves these choices to us, and a complaint must never be lost because a subject line
was badly encoded. Every function here is total: it returns the best text it can and never raises.
"""

from __future__ import annotations

import binascii
import codecs
import re
from email.utils import getaddresses

# An RFC 2047 encoded-word: =?charset[*language]?B|Q?text?=
_ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([bBqQ])\?([^?\s]*)\?=")
_BETWEEN_WORDS = re.compile(r"\s+")
_SURROGATE_ESCAPE = re.compile("[\udc80-\udcff]")
# A mailbox as most mail writes it: 'Name <local@host>', '"Last, First" <local@host>', 'local@host'.
# Each part only takes characters that `getaddresses` reads the same way (no comments, quoted pairs,
# domain literals or line breaks), so both give the same (name, addr-spec) for anything it matches.
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_ADDR_SPEC = rf"{_ATOM}(?:\.{_ATOM})*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*"
_WORD = r'[^\s()<>@,:;"\[\]\\]+'  # a display-name word (the stdlib also takes '\' and odd spaces)
_MAILBOX = re.compile(
    rf'[ \t]*(?:(?:"(?P<quoted>[^"\\\r()]*)"|(?P<phrase>{_WORD}(?:[ \t]+{_WORD})*))?'
    rf"[ \t]*<(?P<angle>{_ADDR_SPEC})>|(?P<bare>{_ADDR_SPEC}))[ \t]*"
)
# Charsets tried in turn when the declared one is missing, unknown or wrong.
_FALLBACKS = ("utf-8", "cp1252")


def decode_bytes(data: bytes, charset: str | None = None) -> str:
    """Decode bytes with the declared charset, falling back to UTF-8, Windows-1252, Latin-1."""
    declared = _known_charset(charset)
    for candidate in ((declared,) if declared else ()) + _FALLBACKS:
        try:
            return data.decode(candidate)
        except (UnicodeDecodeError, LookupError):
            continue
    if declared:
        try:
            return data.decode(declared, errors="replace")
        except LookupError:
            pass
    return data.decode("latin-1")


def _known_charset(charset: str | None) -> str | None:
    if not charset:
        return None
    name = charset.strip().strip("\"'").split("*", 1)[0].lower()
    try:
        info = codecs.lookup(name)
    except (LookupError, ValueError):  # ValueError: a NUL in the name
        return None
    # Some codecs (rot13, base64...) are not text encodings: treat them as unknown.
    return name if getattr(info, "_is_text_encoding", True) else None


def recover_8bit(value: str) -> str:
    """Re-decode raw 8-bit header bytes that the parser kept as surrogate escapes."""
    if value.isascii() or not _SURROGATE_ESCAPE.search(value):  # isascii is O(1) in CPython
        return value
    return decode_bytes(value.encode("utf-8", "surrogateescape"))


def clean(value: str) -> str:
    """Drop what cannot be stored as text (lone surrogates) and NUL characters."""
    if value.isascii():  # no surrogates: skip the round trip through UTF-8
        return value.replace("\x00", "")
    return value.encode("utf-8", "replace").decode("utf-8").replace("\x00", "")


def decode_words(value: str) -> str:
    """Decode RFC 2047 encoded-words in a header value; a broken word is left as written."""
    value = recover_8bit(value)
    if "=?" not in value:  # the common case: no encoded-word can start anywhere
        return clean(value)
    parts: list[str] = []
    position = 0
    previous_was_word = False
    for match in _ENCODED_WORD.finditer(value):
        gap = value[position : match.start()]
        # Whitespace between two adjacent encoded-words is not part of the text (RFC 2047 s.6.2).
        if not (previous_was_word and _BETWEEN_WORDS.fullmatch(gap)):
            parts.append(gap)
        decoded = _decode_word(*match.groups())
        parts.append(match.group(0) if decoded is None else decoded)
        previous_was_word = decoded is not None
        position = match.end()
    parts.append(value[position:])
    return clean("".join(parts))


def _decode_word(charset: str, encoding: str, text: str) -> str | None:
    try:
        if encoding.lower() == "q":
            data = binascii.a2b_qp(text.replace("_", " ").encode("ascii"), header=True)
        else:
            data = binascii.a2b_base64(text.encode("ascii") + b"===", strict_mode=False)
    except (binascii.Error, ValueError, UnicodeEncodeError):
        return None
    return decode_bytes(data, charset)


def unfold(value: str) -> str:
    """Join a folded header onto one line."""
    if value.isprintable():  # no line breaks of any kind (str.splitlines knows ten): one line
        return value.strip()
    return " ".join(line.strip() for line in value.splitlines() if line.strip())


def addresses(raw_values: list[str]) -> list[tuple[str, str]]:
    """(display name, lower-cased addr-spec) pairs from raw address headers; junk is skipped."""
    values = [recover_8bit(unfold(value)) for value in raw_values]
    # `getaddresses` reads the values joined by ", ": so does the fast path.
    pairs = _plain_mailboxes(", ".join(values))
    if pairs is None:
        try:
            pairs = getaddresses(values)
        except Exception:  # the old parser is lenient, but never let a header lose the mail
            return []
    return [(decode_words(name).strip(), clean(addr).strip().lower()) for name, addr in pairs if "@" in addr]


def _plain_mailboxes(value: str) -> list[tuple[str, str]] | None:
    """The pairs `getaddresses` reads from a list of plain mailboxes, for a fraction of its cost.

    None when anything is less plain than `_MAILBOX` (comments, groups, quoted pairs, an empty
    item): `getaddresses` then reads the value itself. The tests hold the two paths to each other.
    """
    pairs = []
    position = 0
    while match := _MAILBOX.match(value, position):
        quoted, phrase = match["quoted"], match["phrase"]
        name = quoted if quoted is not None else " ".join((phrase or "").split())
        pairs.append((name, match["angle"] or match["bare"]))
        position = match.end()
        if position == len(value):
            return pairs
        if value[position] != ",":
            return None
        position += 1
    return None
