"""One ordering of what waits, everywhere: cases past a date first, then impasse steps, then by date."""

from __future__ import annotations

from dataclasses import replace
from itertools import groupby

from flows import commands as c
from flows.calendar import add_working_days
from flows.model import Case, ConsentMethod
from flows.urgency import most_urgent_first
from tests.flows.builders import TODAY, H, Run, at, drafting, investigating, received
from tests.flows.test_impasse_on_behalf import RESOLVE_BY, disputed


def acknowledged(run: Run, ref: str) -> Case:
    run.do(c.RecordAcknowledgement(actor=H, method=ConsentMethod.PHONE, on=TODAY))
    return replace(run.case, ref=ref)


def cases() -> list[Case]:
    return [
        acknowledged(received(), "JC-LATER"),  # next date: the six-month point
        acknowledged(investigating(), "JC-PLAN"),  # next date: the organisations' responses
        acknowledged(disputed(), "JC-IMPASSE"),  # next date: senior managers to resolve it
        replace(received().case, ref="JC-NEW"),  # next date: the acknowledgement, in 3 working days
    ]


def order(now_day: int) -> list[tuple[str, bool]]:
    """(case, impasse step?) in the order asked, runs of the same collapsed."""
    found = most_urgent_first(cases(), H, at(add_working_days(TODAY, now_day)))
    return [key for key, _ in groupby((w.ref, w.impasse) for w in found)]


def test_impasse_steps_come_first_then_each_case_by_its_next_date() -> None:
    assert order(0) == [
        ("JC-IMPASSE", True),
        ("JC-IMPASSE", False),  # its own next date is the same day as the acknowledgement's
        ("JC-NEW", False),
        ("JC-PLAN", False),
        ("JC-LATER", False),
    ]


def test_cases_past_a_date_come_first_and_on_a_case_its_impasse_steps_first() -> None:
    days = 4  # the acknowledgement of JC-NEW and the senior managers' date have passed
    assert add_working_days(TODAY, days) > RESOLVE_BY
    assert order(days) == [
        ("JC-IMPASSE", True),
        ("JC-IMPASSE", False),
        ("JC-NEW", False),
        ("JC-PLAN", False),
        ("JC-LATER", False),
    ]
    found = most_urgent_first(cases(), H, at(add_working_days(TODAY, days)))
    assert {w.ref for w in found if w.overdue} == {"JC-IMPASSE", "JC-NEW"}
    assert [w.prompt.id for w in found if w.ref == "JC-IMPASSE"][:4] == [
        "impasse_answer:trust", "impasse_answer:council", "resolve_impasse", "partial_response",
    ]  # fmt: skip


def test_an_overdue_case_comes_before_another_cases_impasse_steps() -> None:
    late = replace(received().case, ref="JC-ZZ-LATE")  # its acknowledgement date passes on day 4
    impasse = drafting()
    impasse.do(c.RecordAcknowledgement(actor=H, method=ConsentMethod.PHONE, on=TODAY))
    impasse.do(c.OpenCommentRound(actor=H, comment_by=add_working_days(TODAY, 10)))
    impasse.do(c.RaiseImpasse(actor=H, matter="who pays", reason="Each says the other",
                              resolve_by=add_working_days(TODAY, 20)))  # fmt: skip

    found = most_urgent_first(
        [replace(impasse.case, ref="JC-AA-IMPASSE"), late], H, at(add_working_days(TODAY, 4))
    )

    assert found[0].ref == "JC-ZZ-LATE" and found[0].overdue
    first_impasse = next(n for n, w in enumerate(found) if w.impasse)
    assert {w.ref for w in found[:first_impasse]} == {"JC-ZZ-LATE"}
    assert all(w.ref == "JC-AA-IMPASSE" for w in found[first_impasse:])
