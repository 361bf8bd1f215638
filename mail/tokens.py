"""Signed reply addresses: a contributor's answer lands on its case and strand, a forged one not.

Letters to another organisation carry a Reply-To such as
``complaints+jc-261124-uap6.northshire-council.s1.k3m9x2pq7r@trust.example`` (plus-addressing:
the mailbox still receives it). The last part is an HMAC-SHA256 of the rest under a secret only
this assistant holds, so a reply can be trusted to name the case, organisation and strand, and
guessing another case's address gets nowhere. `mac` is the one keyed digest: the Message-IDs of
our letters carry one too (`mail.letters.message_id_for`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable
from dataclasses import dataclass
from email.utils import getaddresses

_MAC_CHARS = 16


@dataclass(frozen=True)
class ReplyToken:
    ref: str
    org_id: str
    strand_id: str


def reply_address(base: str, secret: bytes, token: ReplyToken) -> str:
    local, _, domain = base.partition("@")
    payload = f"{token.ref}.{token.org_id}.{token.strand_id or '-'}".lower()
    return f"{local}+{payload}.{mac(secret, payload)}@{domain}"


def read_token(secret: bytes, addresses: Iterable[str]) -> tuple[ReplyToken | None, bool]:
    """The first valid token among `addresses`, and whether a forged one was seen."""
    given = list(addresses)
    if not any("+" in address for address in given):  # a token is plus-addressed: nothing to parse
        return None, False
    forged = False
    for _, address in getaddresses(given):
        local = address.partition("@")[0]
        if "+" not in local:
            continue
        payload, _, signature = local.partition("+")[2].rpartition(".")
        parts = payload.split(".")
        if len(parts) != 3 or not hmac.compare_digest(signature.lower(), mac(secret, payload.lower())):
            forged = True
            continue
        ref, org_id, strand = parts
        return ReplyToken(ref.upper(), org_id, "" if strand == "-" else strand.upper()), forged
    return None, forged


def mac(secret: bytes, payload: str, chars: int = _MAC_CHARS) -> str:
    """HMAC-SHA256 of `payload` under `secret`, as `chars` lower-case base32 characters."""
    digest = hmac.new(secret, payload.encode(), hashlib.sha256).digest()
    return base64.b32encode(digest).decode().lower()[:chars]
