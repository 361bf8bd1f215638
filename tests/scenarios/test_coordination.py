"""A three-organisation complaint (trust, GP, council adult social care) from the first email to
closure, day by day through the real sweep; then one where the council misses its date, into the
impasse ladder and a partial response; then a restart across a deadline.

Local mode throughout: the handler (Asha) is at the terminal, so her notices are printed; everyone
else is not in that chat, so their reminders and alerts arrive as emails in the local outbox.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from bot.config import Clocks, local_config
from flows.calendar import add_working_days
from flows.drafting import CONCLUSION, assemble_draft
from store.store import Store
from tests.bot.support import Clock
from tests.scenarios.coordination import Day

START = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)  # a Monday
TRUST, GP, COUNCIL = "northshire-trust", "riverside-gp", "northshire-council"
LENA, SAM, DAVID, TOM = "lena.okafor@", "sam.price@", "david.hughes@", "tom.reed@"


@pytest.fixture
async def day(tmp_path: Path) -> AsyncIterator[Day]:
    config = local_config(tmp_path / "var")
    clock = Clock(START)
    with Store.open(config.store_dir) as store:
        yield Day.local(config, store, clock)


def planned(day: Day, ref: str, targets: dict[str, date]) -> None:
    """From the thread's first question to an agreed plan: lead, contact, periods, strands."""
    day.answer(ref, "asha-patel", "organisations", "Choose the organisations", orgs=[TRUST, GP, COUNCIL])
    day.answer(ref, "asha-patel", "consent", "Consent given")
    day.answer(ref, "asha-patel", "complainant_view", "Record their view", view="Happy for the trust to lead")
    day.answer(ref, "asha-patel", "propose_lead", "Propose Northshire Hospitals NHS Foundation Trust",
               criteria=["greatest_responsibility"])  # fmt: skip
    day.answer(ref, "sam-price", f"lead_answer:{GP}", "Agree")
    day.answer(ref, "lena-okafor", f"lead_answer:{COUNCIL}", "Agree")
    day.answer(ref, "asha-patel", "update_every", "Set the update frequency", working_days=10)
    day.answer(
        ref, "asha-patel", "named_contact", "Name the contact", email="asha.patel@northshire-trust.example"
    )
    due = add_working_days(day.today, 40).isoformat()
    day.answer(ref, "asha-patel", "response_period", "Agreed with them", due=due)
    for org, target in targets.items():
        day.answer(ref, "asha-patel", "plan", "Add a strand", org_id=org, matters=f"What {org} did",
                   target=target.isoformat(), milestones=["Records gathered", "Staff spoken to"])  # fmt: skip
    for org in (TRUST, GP, COUNCIL):
        day.answer(ref, "asha-patel", f"plan_agreed:{org}", "Agreed")


async def three_strands(day: Day) -> tuple[str, date]:
    """A complaint, planned with a strand for each organisation due in 12 working days."""
    ref = await day.email()
    target = add_working_days(day.today, 12)
    planned(day, ref, {TRUST: target, GP: target, COUNCIL: target})
    return ref, target


async def test_a_three_organisation_complaint_from_first_email_to_closure(day: Day) -> None:
    ref, target = await three_strands(day)
    assert [str(m["Subject"]) for m in day.letters()][0].startswith("We have received your complaint")
    await day.assistant.cycle()
    asked = [s for s in day.sent_to("practice.manager@riverside-gp") if "your part of the investigation" in s]
    assert len(asked) == 1  # the GP's request, with its strand

    # The trust and the GP answer on time; the council says it is on track, then is two days late.
    await day.until(add_working_days(target, -1))
    day.answer(ref, "asha-patel", "contribution:S1", "Record it", summary="Discharge checklist missed.")
    day.answer(ref, "sam-price", "strand:S2", "Send our response", summary="Visit request not logged.")
    day.answer(ref, "lena-okafor", "strand:S3", "On track")
    await day.until(add_working_days(target, 2))
    day.answer(ref, "lena-okafor", "strand:S3", "Send our response", summary="Care package not started.")

    reminders = day.reminders(ref)
    assert [r for r in reminders if r[1] == "S2"] == [
        ("contribution", "S2", "-5", False), ("contribution", "S2", "-1", False),
    ]  # fmt: skip
    # on track the day before: reminded on the day all the same, then once late
    assert [r[2] for r in reminders if r[1] == "S3" and r[0] == "contribution"] == ["-5", "-1", "0", "+2"]
    assert len(day.sent_to(LENA)) == 4  # not in the chat: the council's contact is emailed each time
    overdue = [s for s in day.sent_to("complaints@northshire-council") if "overdue" in s]
    assert len(overdue) == 1  # the council's complaints inbox hears once it is late
    assert ("update", "handlers", "0", False) in reminders
    assert "owed an update" in day.out.getvalue()

    day.answer(ref, "asha-patel", "update", "Send the update letter")
    action_due = add_working_days(day.today, 10)  # asked with the draft, which then lists it
    day.answer(ref, "asha-patel", "add_action", "Add an action", owner_org=COUNCIL,
               description="Review care package start checks", due=action_due.isoformat())  # fmt: skip
    text = assemble_draft(day.case(ref)).replace(CONCLUSION, "We partly uphold your complaint.")
    day.answer(ref, "asha-patel", "draft", "Record the draft", text=text)
    draft = day.case(ref).draft
    assert draft is not None and "Care package not started." in draft.text  # assembled from the strands
    assert "Review care package start checks" in draft.text
    day.answer(ref, "asha-patel", "comment_round", "Send for comment")
    day.answer(ref, "sam-price", f"comments:{GP}", "Approve it")
    day.answer(ref, "lena-okafor", f"comments:{COUNCIL}", "Approve it")
    day.answer(ref, "asha-patel", "share_draft", "Share it")
    body = "We looked into each part of your complaint together. " + "\n".join(
        c.summary for s in day.case(ref).strands.values() if (c := s.contribution) is not None
    )
    day.answer(
        ref, "asha-patel", "final_response", "Send the final response", body=body, signed_by="Dr Jane Cole"
    )
    await day.until(action_due)
    assert ("action", "A1", "0", False) in day.reminders(ref)
    day.answer(ref, "lena-okafor", "action:A1", "Record it done", evidence="New start checklist in use.")
    for org in (TRUST, GP, COUNCIL):
        day.answer(ref, "asha-patel", f"outcome:{org}", "Partly upheld")
    day.answer(ref, "asha-patel", "coding", "Record the coding", subjects=["admissions", "care_package"],
               professions=["nursing", "social_work"], age_band="85+")  # fmt: skip
    day.answer(ref, "asha-patel", "close", "Close")
    await day.assistant.cycle()

    case = day.case(ref)
    assert case.closed_at is not None and set(case.outcomes) == {TRUST, GP, COUNCIL}
    assert case.coding is not None and case.coding.service_areas == ("acute", "gp", "social_care")
    to_person = day.sent_to("pat@example.org")
    for words in ("update on your complaint", "response", "actions"):
        assert any(words in s.lower() for s in to_person), (words, to_person)


async def test_a_missed_date_goes_up_the_impasse_ladder_to_a_partial_response(day: Day) -> None:
    ref, target = await three_strands(day)
    day.answer(ref, "asha-patel", "contribution:S1", "Record it", summary="Discharge checklist missed.")
    day.answer(ref, "sam-price", "strand:S2", "Send our response", summary="Visit request not logged.")

    await day.until(add_working_days(target, 10))  # the council never answers
    assert ("contribution_late", "S3", "0", False) in day.reminders(ref)
    day.answer(ref, "asha-patel", "raise_impasse", "Raise an impasse", reason="No reply to four reminders")
    await day.assistant.cycle()
    alerted = day.sent_to(DAVID) + day.sent_to(TOM)
    assert len(alerted) == 2 and all(ref in s for s in alerted)  # every organisation's senior managers
    day.answer(ref, "david-hughes", f"impasse:{COUNCIL}", "Cannot resolve")

    resolve_by = day.case(ref).impasse.resolve_by  # type: ignore[union-attr]
    await day.until(add_working_days(resolve_by, 1))
    assert ("impasse_due", "handlers", "0", False) in day.reminders(ref)
    day.answer(ref, "asha-patel", "partial_response", "Write the partial response")
    day.answer(ref, "asha-patel", "ombudsman", "Send the Ombudsman signposting")

    await day.assistant.cycle()
    letters = day.sent_to("pat@example.org")
    assert any(s.startswith("Our response to your complaint") for s in letters)  # as far as it goes
    assert any(s.startswith("Taking your complaint to the Ombudsman") for s in letters)
    signposted = day.case(ref).ombudsmen_signposted
    assert {o.value for o in signposted} == {"phso", "lgsco"}  # health and social care both involved


async def test_a_restart_across_a_deadline_sends_one_late_reminder_per_key(tmp_path: Path) -> None:
    config = local_config(tmp_path / "var")
    clock = Clock(START)
    with Store.open(config.store_dir) as store:
        first = Day.local(config, store, clock)
        ref, target = await three_strands(first)
        await first.until(add_working_days(target, -1))
        before = first.reminders(ref)

    clock.now = datetime.combine(add_working_days(target, 3), START.timetz())  # down across the date
    with Store.open(config.store_dir) as store:
        again = Day.local(config, store, clock)
        await again.assistant.cycle()
        await again.assistant.cycle()  # a double tick
        after = again.reminders(ref)[len(before) :]

    strands = [r for r in after if r[0] == "contribution"]
    assert sorted(strands) == [("contribution", s, "+2", True) for s in ("S1", "S2", "S3")]


async def test_the_sweep_remembers_across_a_restart_but_not_across_new_clock_settings(tmp_path: Path) -> None:
    config = local_config(tmp_path / "var")
    clock = Clock(START)
    with Store.open(config.store_dir) as store:
        first = Day.local(config, store, clock)
        ref, target = await three_strands(first)
        await first.until(add_working_days(target, -5))  # remembers: nothing more until target - 1
        assert [r[2] for r in first.reminders(ref) if r[1] == "S1"] == ["-5"]

    earlier = config.model_copy(update={"clocks": Clocks(reminder_offsets_working_days=(3, 1, 0))})
    with Store.open(config.store_dir) as store:
        again = Day.local(earlier, store, clock)
        await again.until(add_working_days(target, -3))

        assert [r[2] for r in again.reminders(ref) if r[1] == "S1"] == ["-5", "-3"]
