"""Coordination in Slack: a contributor answers by direct message, the sweep's reminders reach it
there, and a senior manager answers an impasse for their organisation."""

from __future__ import annotations

import itertools

from bot.directory import actor
from flows import commands as c
from flows.calendar import add_working_days
from tests.bot.slack.conftest import ASHA, DAVID, LENA, InSlack, agree_lead, buttons_of, to_lead_proposed


async def planned(slack: InSlack) -> str:
    """A case with the council's strand S1 due in 12 working days, by Slack only."""
    ref = await to_lead_proposed(slack)
    await agree_lead(slack)
    await slack.form(ASHA, await slack.asked("named_contact"), "Name the contact", email="asha@trust.example")
    target = add_working_days(slack.clock.now.date(), 12)
    strand = {"org_id": "northshire-council", "matters": "The care package", "target": target.isoformat()}
    await slack.form(ASHA, await slack.asked("plan"), "Add a strand", **strand)
    return ref


async def test_a_contributor_answers_on_track_and_is_reminded_by_direct_message(slack: InSlack) -> None:
    ref = await planned(slack)
    strand = await slack.asked("strand:S1")
    assert strand.channel == "D" + LENA
    assert {"Can't make this date", "On track", "Snooze reminders"} <= set(strand.buttons)
    assert "Send our response" not in strand.buttons  # not before the plan is agreed

    await slack.press(LENA, strand, "On track")
    assert "On track" in await slack.answered(strand)
    assert [e.by for e in slack.events(ref) if type(e).__name__ == "OnTrackReported"] == ["lena-okafor"]

    target = slack.assistant.service.load(ref).strands["S1"].target
    slack.clock.now = slack.clock.now.replace(year=target.year, month=target.month, day=target.day)
    await slack.assistant.cycle()  # on the day: the sweep reminds the council's contact
    reminder = next(
        c for c in await slack.fake.wait_for("chat.postMessage") if "reminder" in str(c.params.get("text"))
    )
    assert reminder.params["channel"] == "D" + LENA and ref in reminder.params["text"]


async def test_senior_managers_are_asked_about_an_impasse_by_direct_message(slack: InSlack) -> None:
    ref = await planned(slack)
    service = slack.assistant.service
    asha = actor(slack.assistant.config.person("asha-patel"))
    by = add_working_days(slack.clock.now.date(), 5)
    raised = c.RaiseImpasse(actor=asha, matter="the remedy is disputed", reason="Cost", resolve_by=by)
    service.execute(ref, raised, slack.clock.now)
    await slack.assistant.cycle()

    asked = await slack.asked("impasse:northshire-council")
    assert asked.channel == "D" + DAVID
    await slack.press(DAVID, asked, "Cannot resolve")
    assert "Cannot resolve" in await slack.answered(asked)
    answered = [e for e in slack.events(ref) if type(e).__name__ == "ImpasseAnswered"]
    assert [(e.by, e.resolved) for e in answered] == [("david-hughes", False)]  # type: ignore[attr-defined]


async def test_a_question_whose_choices_change_is_redrawn_in_place(slack: InSlack) -> None:
    await planned(slack)
    strand = await slack.asked("strand:S1")
    assert "Send our response" not in strand.buttons
    for org in ("northshire-trust", "northshire-council"):
        agreed = await slack.asked(f"plan_agreed:{org}")
        await slack.press(ASHA, agreed, "Agreed")
        await slack.answered(agreed)

    for count in itertools.count(1):  # the strand's message itself, updated: not a new one
        updates = await slack.fake.wait_for("chat.update", count)
        if any(c.params["ts"] == strand.ts and "Send our response" in buttons_of(c.params) for c in updates):
            break
    posted = [c for c in slack.fake.calls_to("chat.postMessage") if c.params.get("channel") == strand.channel]
    assert sum("Send our response" in buttons_of(c.params) for c in posted) == 0
