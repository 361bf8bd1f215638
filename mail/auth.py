"""Did the sender's domain really send this? What our receiving mail server says, read from its
Authentication-Results headers (RFC 8601).

Anyone can write an Authentication-Results header into a message, so only our own server's count:
the topmost run of headers whose authserv-id (the name a header opens with, such as
``mx.northshire-trust.example;``) is one we were told to trust. A receiving server adds its
headers above everything the sender wrote and, as RFC 8601 requires, removes any that claim its
id, so a header claiming a trusted id below one from another server is the sender's: ignored.
Microsoft 365 (Exchange Online, and so NHSmail) writes its header with no authserv-id at all; the
empty id ``""`` names such a header, which then counts only when it is the topmost.

The From domain is authenticated when a counted header gives a ``pass`` for it, or for a parent
domain of at least two labels (``northshire-trust.example`` vouches for
``mail.northshire-trust.example``; ``example`` for nothing): DMARC with ``header.from``; DKIM with
``header.d`` or ``header.i``; SPF with ``smtp.mailfrom`` (an address or a domain).

Reading never raises: comments and quoted strings are honoured, names and results are
case-insensitive, a result that cannot be read is skipped, and a header that cannot be read at all
ends the run of counted headers as one from an unknown server would.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass

_QUOTED = r'"(?:[^"\\]|\\.)*"'
_SERVER = re.compile(rf'\s*({_QUOTED}|[^\s"=]+)(?:\s+[0-9]+)?\s*')  # authserv-id [version]
_PAIR = re.compile(rf'\s*([A-Za-z][\w.-]*)(?:\s*/\s*[0-9]+)?\s*=\s*((?:{_QUOTED}|[^\s"])+)')
_VOUCHING = {"dmarc": ("header.from",), "dkim": ("header.d", "header.i"), "spf": ("smtp.mailfrom",)}


@dataclass(frozen=True)
class Result:
    """One method's verdict (``dkim=pass``) with its properties (``header.d``), lower-case names."""

    method: str
    result: str
    properties: Mapping[str, str]


@dataclass(frozen=True)
class AuthenticationResults:
    authserv_id: str  # lower-cased; "" when the server wrote none
    results: tuple[Result, ...]


def sender_authenticated(headers: Iterable[str], trusted: Collection[str], from_address: str) -> bool:
    """Do the trusted server's headers among `headers` (topmost first) vouch for the domain of
    `from_address`?"""
    domain = from_address.rpartition("@")[2].casefold()
    return any(
        result.result == "pass" and _aligned(domain, result.properties.get(name, ""))
        for result in _trusted_results(headers, trusted)
        for name in _VOUCHING.get(result.method, ())
    )


def parse_authentication_results(header: str) -> AuthenticationResults | None:
    """One Authentication-Results value, or None when it cannot be read."""
    parts = _parts(header)
    if not parts:
        return None
    server = _SERVER.fullmatch(parts[0])
    if server is None and _result(parts[0]) is None:
        return None
    authserv_id = _unquote(server[1]).casefold() if server else ""
    results = (_result(part) for part in (parts[1:] if server else parts))
    return AuthenticationResults(authserv_id, tuple(r for r in results if r))


def _trusted_results(headers: Iterable[str], trusted: Collection[str]) -> Iterator[Result]:
    ids = {server.casefold() for server in trusted}
    for position, header in enumerate(headers):
        parsed = parse_authentication_results(header)
        if parsed is None or parsed.authserv_id not in ids or (position and not parsed.authserv_id):
            return
        yield from parsed.results


def _aligned(from_domain: str, vouched: str) -> bool:
    domain = _unquote(vouched).rpartition("@")[2].strip().rstrip(".").casefold()
    return "." in domain and (from_domain == domain or from_domain.endswith("." + domain))


def _result(part: str) -> Result | None:
    """``method=result`` and its ``name=value`` properties; None when the part is not that."""
    pairs: list[tuple[str, str]] = []
    end = 0
    while match := _PAIR.match(part, end):
        pairs.append((match[1].lower(), _unquote(match[2])))
        end = match.end()
    if not pairs or part[end:].strip():
        return None
    (method, result), *properties = pairs
    return Result(method, result.lower(), dict(properties))


def _parts(header: str) -> list[str] | None:
    """The header split at each ``;`` outside quotes and comments, comments turned to spaces;
    None when a quoted string or comment is left open or a comment closed that never opened."""
    parts, text = [], ""
    depth, quoted, escaped = 0, False, False
    for char in header:
        if escaped:
            escaped = False
        elif char == "\\" and (quoted or depth):
            escaped = True
        elif quoted:
            quoted = char != '"'
        elif char == "(":
            depth += 1
        elif char == ")":
            if not depth:
                return None
            depth -= 1
            char = " "  # a comment separates like white space
        elif not depth and char == '"':
            quoted = True
        elif not depth and char == ";":
            parts.append(text)
            text, char = "", ""
        if not depth:
            text += char
    return None if quoted or depth else [*parts, text]


def _unquote(value: str) -> str:
    if len(value) > 1 and value[0] == value[-1] == '"':
        return re.sub(r"\\(.)", r"\1", value[1:-1])
    return value
