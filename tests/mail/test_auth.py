"""Authentication-Results as receiving servers write them (fictional domains), and as a forger
would write them lower down: only our own server's verdict, for the From domain, counts."""

from __future__ import annotations

import pytest

from mail.auth import parse_authentication_results, sender_authenticated
from mail.parse import parse_message

COUNCIL = "lena.okafor@northshire-council.example"
FROM = "header.from=northshire-council.example"
# Exchange Online (and NHSmail, which runs on it) writes no authserv-id, comments everywhere.
EXCHANGE_PASS = (
    "spf=pass (sender IP is 203.0.113.25) smtp.mailfrom=northshire-council.example; dkim=pass "
    "(signature was verified) header.d=northshire-council.example;dmarc=pass action=none "
    "header.from=northshire-council.example;compauth=pass reason=100"
)
EXCHANGE_FAIL = (
    "spf=fail (sender IP is 198.51.100.7) smtp.mailfrom=northshire-council.example; dkim=none "
    "(message not signed) header.d=none;dmarc=fail action=quarantine "
    "header.from=northshire-council.example;compauth=fail reason=000"
)
# Older Exchange Online headers put the receiving domain between the results.
EXCHANGE_OLDER = (
    "spf=pass (sender IP is 203.0.113.25) smtp.mailfrom=northshire-council.example; "
    "nhs.example; dkim=pass (signature was verified) header.d=northshire-council.example;"
    "nhs.example; dmarc=pass action=none header.from=northshire-council.example;"
)
GMAIL = (
    "mx.google.com;\r\n       dkim=pass header.i=@meadowbank-care.example header.s=s2024 "
    "header.b=Qx3kP1aB;\r\n       spf=pass (google.com: domain of ruth.moss@meadowbank-care.example "
    "designates 192.0.2.44 as permitted sender) smtp.mailfrom=ruth.moss@meadowbank-care.example;\r\n"
    "       dmarc=pass (p=QUARANTINE sp=QUARANTINE dis=NONE) header.from=meadowbank-care.example"
)
OURS = "mx.northshire-trust.example"


def ours(results: str) -> str:
    """A header as Postfix with OpenDKIM and OpenDMARC writes it: one per milter."""
    return f"{OURS}; {results}"


def believed(*results: str) -> bool:
    """Does our server's header (one per result given) vouch for the council's address?"""
    return sender_authenticated([ours(r) for r in results], [OURS], COUNCIL)


def test_exchange_online_writes_no_authserv_id_and_is_named_by_the_empty_one() -> None:
    parsed = parse_authentication_results(EXCHANGE_PASS)
    assert parsed is not None and parsed.authserv_id == ""
    methods = [(r.method, r.result) for r in parsed.results]
    assert methods == [("spf", "pass"), ("dkim", "pass"), ("dmarc", "pass"), ("compauth", "pass")]
    assert parsed.results[2].properties == {"action": "none", "header.from": "northshire-council.example"}
    assert sender_authenticated([EXCHANGE_PASS], [""], COUNCIL)
    assert sender_authenticated([EXCHANGE_OLDER], [""], COUNCIL)
    assert not sender_authenticated([EXCHANGE_FAIL], [""], COUNCIL)
    assert not sender_authenticated([EXCHANGE_PASS], [OURS], COUNCIL)


def test_exchange_onlines_header_counts_only_when_it_is_the_topmost() -> None:
    forged = "dmarc=pass action=none header.from=northshire-council.example"
    assert not sender_authenticated([EXCHANGE_FAIL, forged], [""], COUNCIL)


def test_gmails_header_vouches_for_the_senders_domain_only() -> None:
    ruth = "ruth.moss@meadowbank-care.example"
    assert sender_authenticated([GMAIL], ["mx.google.com"], ruth)
    assert sender_authenticated([GMAIL], ["MX.Google.COM"], ruth.upper())
    assert not sender_authenticated([GMAIL], ["mx.google.com"], COUNCIL)
    assert not sender_authenticated([GMAIL], [OURS], ruth)


def test_every_header_our_server_adds_on_top_counts() -> None:
    headers = [
        ours("dmarc=none (p=none dis=none) header.from=northshire-council.example"),
        ours('dkim=pass (2048-bit key; unprotected) header.d=northshire-council.example header.b="Ab1+"'),
        ours("spf=fail smtp.mailfrom=northshire-council.example"),
    ]
    assert sender_authenticated(headers, [OURS], COUNCIL)
    assert not sender_authenticated([headers[0], headers[2]], [OURS], COUNCIL)
    assert believed(f"dmarc=pass {FROM}", "spf=fail smtp.mailfrom=attacker.example")


def test_a_forged_header_below_another_servers_is_ignored() -> None:
    forged = ours(f"dmarc=pass {FROM}")
    relay = "mail.attacker.example; spf=pass smtp.mailfrom=attacker.example"
    assert not sender_authenticated([ours(f"dmarc=fail {FROM}"), relay, forged], [OURS], COUNCIL)
    assert not sender_authenticated([relay, forged], [OURS], COUNCIL)
    assert not sender_authenticated([], [OURS], COUNCIL)


@pytest.mark.parametrize(
    ("from_address", "vouched", "aligned"),
    [
        (COUNCIL, "northshire-council.example", True),
        ("lena@mail.northshire-council.example", "northshire-council.example", True),
        (COUNCIL, "mail.northshire-council.example", False),
        (COUNCIL, "other-northshire-council.example", False),
        (COUNCIL, "example", False),
        (COUNCIL, "attacker.example", False),
        ("", "northshire-council.example", False),
    ],
)
def test_spf_and_dkim_count_for_the_from_domain_or_a_parent(
    from_address: str, vouched: str, aligned: bool
) -> None:
    spf = ours(f"spf=pass smtp.mailfrom=bounces@{vouched}")
    dkim = ours(f"dkim=pass header.d={vouched}")
    assert sender_authenticated([spf], [OURS], from_address) is aligned
    assert sender_authenticated([dkim], [OURS], from_address) is aligned


@pytest.mark.parametrize("result", ["fail", "softfail", "neutral", "none", "temperror", "bestguesspass"])
def test_only_a_pass_counts(result: str) -> None:
    assert not believed(f"dmarc={result} {FROM}")


def test_names_results_and_quoted_values_are_read_as_written() -> None:
    assert believed('DMARC = Pass header.From="northshire-council.example"')
    quoted = f'dkim=fail reason="bad; dmarc=pass {FROM}" header.d=x.example'
    parsed = parse_authentication_results(ours(quoted))
    assert parsed is not None and [r.method for r in parsed.results] == ["dkim"]
    assert not believed(quoted)
    assert not believed(f'spf=pass smtp.mailfrom="x;dmarc=pass {FROM}"@attacker.example')
    assert believed(f"dmarc=pass (p=reject; sp=reject (nested) dis=none) {FROM}")


@pytest.mark.parametrize(
    "header",
    [
        "",
        "   ",
        f"{OURS} (unclosed; dmarc=pass header.from=northshire-council.example",
        f'{OURS}; dmarc=pass header.from="northshire-council.example',
        f"{OURS}) ; dmarc=pass header.from=northshire-council.example",
        "two words; dmarc=pass header.from=northshire-council.example",
        "=pass; dmarc=pass header.from=northshire-council.example",
    ],
)
def test_a_malformed_header_gives_no_result_and_ends_the_trusted_run(header: str) -> None:
    assert parse_authentication_results(header) is None
    below = ours("dmarc=pass header.from=northshire-council.example")
    assert not sender_authenticated([header, below], [OURS, ""], COUNCIL)


def test_the_parser_gives_every_header_topmost_first_unfolded() -> None:
    raw = (
        f"Authentication-Results: {OURS};\r\n\tdmarc=pass header.from=northshire-council.example\r\n"
        "Received: from mail.attacker.example by mx.northshire-trust.example\r\n"
        f"Authentication-Results: {OURS}; spf=fail smtp.mailfrom=x.example\r\n"
        f"From: Lena <{COUNCIL}>\r\nSubject: Re: JC-261124-UAP6\r\n\r\nHello\r\n"
    ).encode()
    mail = parse_message(raw)
    assert mail.authentication_results == (
        f"{OURS}; dmarc=pass header.from=northshire-council.example",
        f"{OURS}; spf=fail smtp.mailfrom=x.example",
    )
    assert sender_authenticated(mail.authentication_results, [OURS], mail.from_address)
