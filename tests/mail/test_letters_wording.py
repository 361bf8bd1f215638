"""Every letter read as its reader would: no gaps, the reference, plain facts the law asks for."""

from __future__ import annotations

from typing import Any

import pytest

from mail.letters import RenderedLetter, render_letter, template_names
from tests.mail.contexts import COMMON, LEFTOVERS, OMBUDSMEN, SPECIFIC, context_for

REF = COMMON["ref"]
HOSTILE = "<script>alert('x')</script> & <b>bold</b>"
TO_COMPLAINANT = [
    "acknowledgement", "written_record", "consent_request", "signposting", "named_contact",
    "response_period", "progress_update", "delay", "draft_to_complainant", "partial_response",
    "ombudsman_signpost", "final_response", "actions_complete", "timescale_changed",
]


def rendered(name: str, **overrides: Any) -> RenderedLetter:
    return render_letter(name, context_for(name, **overrides))


@pytest.mark.parametrize("name", template_names())
def test_no_unfilled_placeholders_and_the_reference_everywhere(name: str) -> None:
    letter = rendered(name)
    for part in (letter.subject, letter.text, letter.html):
        for leftover in LEFTOVERS:
            assert leftover not in part, f"{name}: {leftover!r} left in the letter"
    assert letter.subject.endswith(f"({REF})")
    assert f"Our reference: {REF}" in letter.text and REF in letter.html
    assert "reply to this email" in letter.text.lower()


def _hostile(value: Any) -> Any:
    if isinstance(value, str):
        return HOSTILE
    if isinstance(value, list):
        return [_hostile(item) for item in value]
    if isinstance(value, dict):
        return {key: _hostile(item) for key, item in value.items()}
    return value


@pytest.mark.parametrize("name", template_names())
def test_the_html_part_escapes_every_context_value(name: str) -> None:
    context = {key: _hostile(value) for key, value in context_for(name).items()}
    letter = render_letter(name, context)
    assert "<script>" not in letter.html and "<b>" not in letter.html
    assert "&lt;script&gt;" in letter.html
    assert HOSTILE in letter.text  # the text part is plain text: kept as written


@pytest.mark.parametrize("name", TO_COMPLAINANT)
def test_letters_to_the_complainant_greet_them_by_name(name: str) -> None:
    assert "Dear Margaret Ellison," in rendered(name).text


def test_acknowledgement_offers_a_discussion_and_advocacy() -> None:
    text = rendered("acknowledgement").text
    assert "Tuesday 24 November 2026" in text
    assert "how long it is likely to take" in text and "response period" in text
    assert "right to free, independent advocacy" in text
    assert "without your agreement" in text


def test_consent_request_for_one_organisation_and_for_several() -> None:
    one = rendered("consent_request", organisations=["Meadowbank Care Home"]).text
    assert "provided by Meadowbank Care Home." in one and "- Meadowbank" not in one
    assert "some of these organisations but not others" not in one
    several = rendered("consent_request").text
    assert "some of these organisations but not others" in several
    for text in (one, several):
        assert "what is learned from your complaint" in text  # learning is shared too
        assert "withdraw your consent at any time" in text


def test_progress_update_with_and_without_an_expected_date() -> None:
    dated = rendered("progress_update").text
    assert "full response by Friday 29 January 2027" in dated
    assert "next update by Tuesday 22 December 2026" in dated
    undated = rendered("progress_update", expected_by="").text
    assert "We cannot yet say when" in undated and "full response by" not in undated


def test_contributor_request_names_the_strand_the_date_and_how_to_reply() -> None:
    letter = rendered("contributor_request")
    assert "Tuesday 15 December 2026" in letter.subject
    assert "Dear Northshire County Council complaints team," in letter.text
    assert "(strand S2)" in letter.text and "keep it confidential" in letter.text
    assert "How to reply: reply to this email; your reply is filed on strand S2" in letter.text


def test_delay_letter_explains_why_and_when() -> None:
    text = rendered("delay").text
    assert "more than six months" in text
    assert "We are still waiting for one organisation's findings." in text
    assert "by Friday 4 June 2027" in text


@pytest.mark.parametrize("name", ["final_response", "partial_response", "ombudsman_signpost"])
def test_ombudsman_letters_give_contacts_and_time_limit_for_one_or_both(name: str) -> None:
    both = rendered(name, ombudsmen=OMBUDSMEN).text
    assert "the Ombudsmen" in both and "0300 061 0614" in both and "0345 015 4033" in both
    assert "look at it together" in both
    one = rendered(name, ombudsmen=OMBUDSMEN[:1]).text
    assert "the Ombudsman " in one and "Ombudsmen" not in one
    assert "usually within 12 months" in one


def test_final_response_says_twice_that_it_is_final_and_is_signed() -> None:
    text = rendered("final_response", signed_role="").text
    assert text.count("final response") >= 2 and "This is our final response." in text
    assert "Dr Alex Patel\nNorthshire Hospitals NHS Foundation Trust" in text


def test_every_template_has_a_sample_context() -> None:
    assert set(template_names()) == set(SPECIFIC)


def test_lead_proposal_gives_the_guides_criteria_in_words() -> None:
    text = rendered("lead_proposal").text
    assert "leads the handling of this complaint, because it:\n" in text
    assert "- has the greatest responsibility for the care complained about\n" in text
    assert "- has the best relationship with the person\n" in text
    assert "greatest_responsibility" not in text
    other = rendered("lead_proposal", criteria=["is the main commissioner"]).text
    assert "- is the main commissioner\n" in other
