"""What the clocks ask of the handler: the update letter, an impasse to raise, the delay letter
drafted, and the plan discussed with the person."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flows import commands as c
from flows.calendar import add_working_days
from flows.codec import to_plain
from flows.conversation import Choice, fill
from flows.due import Policy, due
from flows.prompts import next_prompts
from tests.flows.builders import SYSTEM, TODAY, H, Run, investigating, planning


def on(run: Run, days: int) -> datetime:
    day = add_working_days(TODAY, days)
    return datetime(day.year, day.month, day.day, 10, tzinfo=UTC)


def sweep(run: Run, now: datetime) -> None:
    reminders = tuple(due(run.case, now, Policy()))
    if reminders:
        run.do(c.SendReminders(actor=SYSTEM, reminders=reminders), now)


def offered(choice: Choice, **values: Any) -> c.Command:
    """The choice as a person takes it: what is offered, with `values` typed in."""
    answers = {f.name: to_plain(f.default) for f in choice.fields if f.default is not None}
    return fill(choice, answers | values)


def asked(run: Run, now: datetime) -> dict[str, object]:
    return {p.id: p for p in next_prompts(run.case, H, now)}


def test_the_update_letter_is_asked_for_once_the_sweep_says_it_is_due() -> None:
    run = investigating()
    run.do(c.SetUpdateFrequency(actor=H, working_days=10))
    assert "update" not in asked(run, on(run, 10))  # not before the sweep has reminded

    sweep(run, on(run, 10))
    [prompt] = [p for p in next_prompts(run.case, H, on(run, 10)) if p.id == "update"]
    run.do(offered(prompt.choices[0]), on(run, 10))  # the drafted text, as offered

    assert len(run.case.updates_sent) == 1 and "update" not in asked(run, on(run, 10))


def test_a_contribution_long_late_suggests_an_impasse() -> None:
    run = investigating()
    target = run.case.strands["S2"].target
    late = datetime.combine(add_working_days(target, 10), datetime.min.time().replace(hour=10), UTC)
    assert "raise_impasse" not in asked(run, late)

    sweep(run, late)
    [prompt] = [p for p in next_prompts(run.case, H, late) if p.id == "raise_impasse"]
    run.do(offered(prompt.choices[0], reason="No reply to four reminders"), late)

    assert run.case.impasse is not None and run.case.impasse.matter == "an organisation is not cooperating"


def test_the_delay_letter_comes_drafted_with_who_is_still_awaited() -> None:
    run = investigating()
    late = datetime(2027, 5, 26, 10, tzinfo=UTC)  # after the six-month point, 24 May 2027

    [prompt] = [p for p in next_prompts(run.case, H, late) if p.id == "delay"]
    reasons = prompt.choices[0].fields[0].default

    assert "Riverside Hospitals NHS Foundation Trust" in reasons and "Millbrook Borough Council" in reasons


def test_the_plan_is_discussed_with_the_person_once_it_has_strands() -> None:
    run = planning()
    assert "plan_discussed" not in asked(run, on(run, 0))
    run.do(c.AddStrand(actor=H, org_id="trust", matters="Discharge", target=add_working_days(TODAY, 15)))

    [prompt] = [p for p in next_prompts(run.case, H, on(run, 0)) if p.id == "plan_discussed"]
    run.do(offered(prompt.choices[0], note="Happy with the dates"))

    assert run.case.plan_discussed_at is not None and "plan_discussed" not in asked(run, on(run, 0))
