"""The case in full as text: every section from the record, the dates from `flows.summary`."""

from __future__ import annotations

from bot.case_text import case_text
from flows.summary import deadlines
from tests.flows.builders import COUNCIL, TODAY, TRUST, investigating


def test_an_investigation_shows_organisations_with_consent_the_plan_and_what_waits() -> None:
    case = investigating().case

    lines = case_text(case, TODAY, 60)
    text = " ".join(" ".join(lines).split())  # as read, across the wrapped lines

    assert all(len(line) <= 60 for line in lines)
    assert f"{TRUST.name}: lead; received the complaint" in text
    assert f"{COUNCIL.name}: consent given" in text
    assert "S1 " in text and "Discharge planning on Ward 7" in text and "not answered yet" in text
    assert all(due.what in text for due in deadlines(case))
    assert " ".join(case.text.split()) in text
