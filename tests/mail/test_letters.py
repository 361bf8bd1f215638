"""Letter templates, Message-IDs and built messages, round-tripped through the parser."""

from __future__ import annotations

import email
import hashlib
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from typing import Any

import pytest

from mail.errors import LetterContextError, LetterError, MailError, UnknownTemplateError
from mail.letters import (
    RenderedLetter,
    build_message,
    message_id_for,
    render_letter,
    template_names,
)
from mail.parse import parse_message
from tests.bot.support import SECRET
from tests.mail.contexts import COMMON, SPECIFIC, context_for

SENT = datetime(2026, 11, 24, 10, 15, tzinfo=UTC)
TRUST = "Northshire Hospitals NHS Foundation Trust"


def test_every_letter_of_the_brief_has_a_template() -> None:
    assert set(template_names()) == set(SPECIFIC)
    assert len(template_names()) == 25


@pytest.mark.parametrize("name", sorted(SPECIFIC))
def test_every_template_renders_with_reference_and_signature(name: str) -> None:
    letter = render_letter(name, context_for(name))
    assert letter.subject and "\n" not in letter.subject
    assert COMMON["ref"] in letter.subject
    assert f"Our reference: {COMMON['ref']}" in letter.text
    assert TRUST in letter.text
    assert "\n\n\n" not in letter.text and letter.text.endswith(".\n")
    assert letter.html.startswith("<!DOCTYPE html>") and "<p>" in letter.html
    for value in SPECIFIC[name].values():
        if isinstance(value, str):
            assert value.splitlines()[0] in letter.text


@pytest.mark.parametrize(
    ("name", "key"),
    [(name, key) for name in sorted(SPECIFIC) for key in [*SPECIFIC[name], "ref", "org_name"]],
)
def test_a_missing_context_value_is_an_error_not_a_gap(name: str, key: str) -> None:
    context = context_for(name)
    del context[key]
    with pytest.raises(LetterContextError) as caught:
        render_letter(name, context)
    assert caught.value.context["template"] == name
    assert key in str(caught.value)


def test_greeting_is_neutral_without_a_name() -> None:
    named = render_letter("acknowledgement", context_for("acknowledgement"))
    unnamed = render_letter("acknowledgement", context_for("acknowledgement", complainant_name=""))
    assert "Dear Margaret Ellison," in named.text
    assert "\nHello,\n" in unnamed.text and "Dear" not in unnamed.text


def test_letters_to_organisations_greet_their_complaints_team() -> None:
    letter = render_letter("pass_on", context_for("pass_on"))
    assert "Dear Riverside Medical Practice complaints team," in letter.text
    assert "Margaret Ellison" in letter.text  # the person's details, passed on with consent
    assert "Wednesday 25 November 2026" in letter.text


def test_html_part_escapes_context_values_and_text_keeps_them() -> None:
    hostile = "<script>alert('x')</script> & <b>bold</b>"
    letter = render_letter("written_record", context_for("written_record", summary=hostile,
                                                         complainant_name="<img src=x>"))
    assert "<script>" not in letter.html and "<img" not in letter.html and "<b>" not in letter.html
    assert "&lt;script&gt;" in letter.html and "&amp;" in letter.html
    assert hostile in letter.text


def test_final_response_says_it_is_final_and_gives_the_ombudsman() -> None:
    letter = render_letter("final_response", context_for("final_response"))
    assert "This letter is our final response" in letter.text
    assert "Parliamentary and Health Service Ombudsman" in letter.text
    assert "0345 015 4033" in letter.text and "https://www.ombudsman.org.uk" in letter.text
    assert "Dr Alex Patel\nChief Executive\n" + TRUST in letter.text
    assert "We have changed our process." in letter.text


def test_named_contact_without_phone_frequency_or_advocacy_provider() -> None:
    context = context_for("named_contact", contact_phone="", update_every="", advocacy=None)
    letter = render_letter("named_contact", context)
    assert "Telephone:" not in letter.text
    assert "We will keep you updated on progress" in letter.text
    assert "Your contact can give you the details" in letter.text
    full = render_letter("named_contact", context_for("named_contact")).text
    assert "every 20 working days" in full and "Northshire Advocacy" in full


def test_consent_request_lists_organisations_and_explains_withdrawal() -> None:
    text = render_letter("consent_request", context_for("consent_request")).text
    assert "- Northshire County Council\n- Meadowbank Care Home\n" in text
    assert "withdraw your consent" in text and "YES" in text and "NO" in text


@pytest.mark.parametrize("name", ["no_such_letter", "_base", "../letters", "Acknowledgement", ""])
def test_unknown_template_is_a_mail_error_naming_it(name: str) -> None:
    with pytest.raises(UnknownTemplateError) as caught:
        render_letter(name, COMMON)
    assert isinstance(caught.value, MailError)
    assert caught.value.context == {"template": name}
    assert repr(name) in str(caught.value)


def test_message_id_is_deterministic_per_key_and_keyed_by_the_secret() -> None:
    key, domain = "JC-261124-UAP6/0/acknowledgement/complainant", "northshire-trust.example"
    first = message_id_for(key, domain, SECRET)
    assert first == message_id_for(key, domain, SECRET)
    assert first != message_id_for("JC-261124-UAP6/0/delay/complainant", domain, SECRET)
    assert first != message_id_for(key, domain, b"another service's secret, 32+ bytes")
    local, at = first.strip("<>").split("@")
    assert first.startswith("<") and first.endswith(">")
    assert re.fullmatch(r"[a-z2-7]{26}", local) and at == domain
    unkeyed = hashlib.sha256(key.encode()).hexdigest()[:32]  # what the id was before it was keyed
    assert unkeyed not in first


@pytest.mark.parametrize("domain", ["", "a b", "x>y", "a@b", "bad\n"])
def test_message_id_refuses_an_unusable_domain(domain: str) -> None:
    with pytest.raises(LetterError):
        message_id_for("key", domain, SECRET)


def build(
    letter: RenderedLetter,
    *,
    automatic: bool = True,
    from_name: str = f"{TRUST} \u2013 Complaints",
    to_address: str = "margaret.ellison@example.org",
    sent_at: datetime = SENT,
    in_reply_to: str | None = None,
    references: Sequence[str] = (),
) -> EmailMessage:
    return build_message(
        letter,
        from_address="complaints@northshire-trust.example",
        from_name=from_name,
        to_address=to_address,
        to_name="Siobh\u00e1n O'Neill",
        message_id=message_id_for("effect-1", "northshire-trust.example", SECRET),
        sent_at=sent_at,
        automatic=automatic,
        in_reply_to=in_reply_to,
        references=references,
    )


def test_automatic_letters_are_marked_and_others_are_not() -> None:
    letter = render_letter("acknowledgement", context_for("acknowledgement"))
    automatic = build(letter)
    manual = build(letter, automatic=False)
    assert automatic["Auto-Submitted"] == "auto-replied"
    assert automatic["X-Auto-Response-Suppress"] == "All"
    assert manual["Auto-Submitted"] is None and manual["X-Auto-Response-Suppress"] is None


def test_built_message_headers_and_parts() -> None:
    letter = render_letter("acknowledgement", context_for("acknowledgement"))
    message = build_message(
        letter, from_address="complaints@northshire-trust.example", from_name=f"{TRUST} \u2013",
        to_address="s@example.net", to_name="Siobh\u00e1n", message_id="<id-1@example>",
        sent_at=SENT, automatic=False, in_reply_to="<their@example.net>",
        references=["<older@example.net>", "<their@example.net>"],
        reply_to="case+NHT-2026-0042@northshire-trust.example",
    )
    assert message["Message-ID"] == "<id-1@example>"
    assert message["In-Reply-To"] == "<their@example.net>"
    assert message["References"] == "<older@example.net> <their@example.net>"
    assert message["Reply-To"] == "case+NHT-2026-0042@northshire-trust.example"
    assert message["Date"] == "Tue, 24 Nov 2026 10:15:00 +0000"
    assert message.get_content_type() == "multipart/alternative"
    parts = [part.get_content_type() for part in message.iter_parts()]
    assert parts == ["text/plain", "text/html"]
    head = message.as_bytes().split(b"\n\n", 1)[0]
    assert head.isascii() and b"=?utf-8?" in head  # names are encoded-words, not raw 8-bit


def test_built_message_round_trips_through_the_parser() -> None:
    letter = render_letter("consent_request", context_for("consent_request"))
    message = build(letter, in_reply_to="<their@example.net>", references=["<their@example.net>"])
    mail = parse_message(message.as_bytes())
    assert mail.message_id == message_id_for("effect-1", "northshire-trust.example", SECRET)
    assert mail.subject == letter.subject
    assert (mail.from_address, mail.from_name) == (
        "complaints@northshire-trust.example", f"{TRUST} \u2013 Complaints")
    assert mail.to == ("margaret.ellison@example.org",)
    assert mail.sent_at == SENT
    assert mail.in_reply_to == "<their@example.net>"
    assert mail.references == ("<their@example.net>",)
    assert mail.headers["auto-submitted"] == "auto-replied"
    assert mail.text == letter.text.strip() and mail.quoted == ""
    assert mail.attachments == ()


@pytest.mark.parametrize("overrides", [
    {"to_address": "not an address"},
    {"sent_at": datetime(2026, 11, 24, 10, 15)},
])
def test_bad_values_are_refused_as_letter_errors(overrides: dict[str, Any]) -> None:
    letter = render_letter("delay", context_for("delay"))
    with pytest.raises(LetterError):
        build(letter, **overrides)


def test_a_line_break_in_a_name_or_subject_becomes_a_space_and_never_a_header() -> None:
    letter = RenderedLetter("Hi\nBcc: victim@example.org", "text\n", "<p>text</p>")
    message = build(letter, from_name="Evil\r\nBcc: victim@example.org")
    parsed = email.message_from_bytes(message.as_bytes(), policy=policy.default)
    assert parsed["Bcc"] is None
    assert parsed["Subject"] == "Hi Bcc: victim@example.org"
    assert parsed["From"].addresses[0].display_name == "Evil Bcc: victim@example.org"
