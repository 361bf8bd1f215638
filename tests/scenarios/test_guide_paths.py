"""The guide's harder paths through the real assistant in local mode, day by day: an impasse raised
by the handler at the very start and settled by senior managers who answered by phone; comments on
the draft, a revised draft and sign-off against the revision; a partial response, then the late
contribution and the full joint response."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.config import local_config
from bot.directory import actor
from flows.calendar import add_working_days
from flows.conversation import fill
from flows.drafting import CONCLUSION, assemble_draft
from flows.model import Status
from flows.prompts import case_menu
from store.store import Store
from tests.bot.support import Clock
from tests.scenarios.coordination import Day
from tests.scenarios.test_coordination import COUNCIL, GP, TRUST, planned

START = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)  # a Monday
ASHA, SAM, LENA = "asha-patel", "sam-price", "lena-okafor"


@pytest.fixture
async def day(tmp_path: Path) -> AsyncIterator[Day]:
    config = local_config(tmp_path / "var")
    with Store.open(config.store_dir) as store:
        yield Day.local(config, store, Clock(START))


def menu(day: Day, ref: str, label: str, **values: object) -> None:
    """The handler picks `label` from the case's menu ('m' in the terminal, 'More actions' in Slack)."""
    who = actor(day.assistant.config.person(ASHA))
    [prompt] = case_menu(day.case(ref), who, day.clock.now)
    [choice] = [ch for ch in prompt.choices if ch.label == label]
    defaults = {f.name: f.default for f in choice.fields if f.default is not None}
    day.assistant.service.execute(ref, fill(choice, {**defaults, **values}), day.clock.now)


def drafts_to_gp(day: Day) -> dict[str, str]:
    """The drafts for comment the GP practice's complaints inbox was sent, by the subject's version."""
    return {
        str(m["Subject"]).split(", ")[1]: m.get_body(("plain",)).get_content()  # type: ignore[union-attr]
        for m in day.letters()
        if "riverside-gp" in str(m["To"]) and "for your comments" in str(m["Subject"])
    }


def final_response(day: Day) -> str:
    [letter] = [m for m in day.letters() if str(m["Subject"]).startswith("Final response to your complaint")]
    return str(letter.get_body(("plain",)).get_content())  # type: ignore[union-attr]


async def test_an_impasse_raised_at_the_start_settled_by_senior_managers_by_phone(day: Day) -> None:
    ref = await day.email()
    day.answer(ref, ASHA, "organisations", "Choose the organisations", orgs=[TRUST, GP, COUNCIL])
    day.answer(ref, ASHA, "consent", "Consent given")
    assert day.case(ref).status is Status.AGREEING_LEAD and day.case(ref).proposal is None
    resolve_by = add_working_days(day.today, 5)
    menu(day, ref, "Raise an impasse", matter="the lead organisation is not agreed",
         reason="Each says the other arranged the discharge", resolve_by=resolve_by.isoformat())  # fmt: skip
    await day.assistant.cycle()
    alerted = [m for m in day.letters() if "Impasse" in str(m["Subject"]) or ref in str(m["Subject"])]
    assert alerted, "senior managers are alerted"

    # The GP's and the council's senior managers answer by phone; the handler records it for them.
    day.answer(ref, ASHA, f"impasse_answer:{GP}", "Resolved", outcome="The trust should lead", how="phone")
    day.answer(
        ref, ASHA, f"impasse_answer:{COUNCIL}", "Resolved", outcome="The trust should lead", how="email"
    )
    day.answer(
        ref, ASHA, "resolve_impasse", "Record it resolved", resolution="The trust leads, agreed by all"
    )
    case = day.case(ref)
    assert case.impasse is not None and case.impasse.resolved_at is not None
    answered = [e for e in day.events(ref) if type(e).__name__ == "ImpasseAnswered"]
    assert {e.org_id for e in answered} == {GP, COUNCIL} and {e.by for e in answered} == {ASHA}  # type: ignore[attr-defined]

    # and the case carries on to an agreed lead
    day.answer(ref, ASHA, "complainant_view", "Record their view", view="Happy for the hospital to lead")
    day.answer(
        ref, ASHA, "propose_lead", f"Propose {case.orgs[TRUST].name}", criteria=["greatest_responsibility"]
    )
    day.answer(ref, SAM, f"lead_answer:{GP}", "Agree")
    day.answer(ref, LENA, f"lead_answer:{COUNCIL}", "Agree")
    assert day.case(ref).lead == TRUST


def add_action(day: Day, ref: str) -> None:
    due = add_working_days(day.today, 20).isoformat()
    day.answer(ref, ASHA, "add_action", "Add an action", owner_org=COUNCIL,
               description="Review care package start checks", due=due)  # fmt: skip


async def drafted(day: Day) -> str:
    """A planned case whose three responses are in, with an action and the draft recorded."""
    ref = await day.email()
    target = add_working_days(day.today, 10)
    planned(day, ref, {TRUST: target, GP: target, COUNCIL: target})
    day.answer(ref, ASHA, "contribution:S1", "Record it", summary="Discharge checklist missed.")
    day.answer(ref, SAM, "strand:S2", "Send our response", summary="Visit request not logged.")
    day.answer(ref, LENA, "strand:S3", "Send our response", summary="Care package not started.")
    add_action(day, ref)
    text = assemble_draft(day.case(ref)).replace(CONCLUSION, "We partly uphold your complaint.")
    day.answer(ref, ASHA, "draft", "Record the draft", text=text)
    return ref


async def test_comments_then_a_revised_draft_signed_off_as_the_revision(day: Day) -> None:
    ref = await drafted(day)
    day.answer(ref, ASHA, "comment_round", "Send for comment")
    await day.assistant.cycle()
    assert list(drafts_to_gp(day)) == ["version 1"]
    day.answer(ref, SAM, f"comments:{GP}", "Send comments", comment="Say the visit request came by fax.")
    day.answer(ref, LENA, f"comments:{COUNCIL}", "Approve it")

    first = day.case(ref).draft
    assert first is not None and first.version == 1
    revised = first.text + "\n\nThe practice received the visit request by fax."
    day.answer(ref, ASHA, "revise_draft", "Revise the draft", text=revised)
    draft = day.case(ref).draft
    assert draft is not None and draft.version == 2 and not draft.signed_off  # the approval was of version 1
    day.answer(ref, ASHA, "comment_round", "Send for comment")  # the revision goes out in its turn
    await day.assistant.cycle()
    sent = drafts_to_gp(day)
    first_sent, revision = sent["version 1"], sent["version 2"]
    assert "visit request by fax" not in first_sent
    assert "The practice received the visit request by fax." in revision and "revised" in revision
    day.answer(ref, SAM, f"comments:{GP}", "Approve it")
    day.answer(ref, LENA, f"comments:{COUNCIL}", "Approve it")
    signed = [e for e in day.events(ref) if type(e).__name__ == "DraftSignedOff"]
    assert [(e.org_id, e.version) for e in signed][-2:] == [(GP, 2), (COUNCIL, 2)]  # type: ignore[attr-defined]


async def test_a_partial_response_then_the_late_contribution_then_the_full_response(day: Day) -> None:
    ref = await day.email()
    target = add_working_days(day.today, 10)
    planned(day, ref, {TRUST: target, GP: target, COUNCIL: target})
    day.answer(ref, ASHA, "contribution:S1", "Record it", summary="Discharge checklist missed.")
    day.answer(ref, SAM, "strand:S2", "Send our response", summary="Visit request not logged.")
    await day.until(add_working_days(target, 10))  # the council never answers
    day.answer(ref, ASHA, "raise_impasse", "Raise an impasse", reason="No reply to four reminders")
    day.answer(ref, ASHA, f"impasse_answer:{COUNCIL}", "Cannot resolve", how="phone")
    resolve_by = day.case(ref).impasse.resolve_by  # type: ignore[union-attr]
    await day.until(add_working_days(resolve_by, 1))
    day.answer(ref, ASHA, "partial_response", "Write the partial response")
    assert day.case(ref).status is Status.RESPONDED

    # The council's response comes late, in the chat; the full joint response follows.
    day.answer(ref, LENA, "strand:S3", "Send our response", summary="Care package not started.")
    add_action(day, ref)
    text = assemble_draft(day.case(ref)).replace(CONCLUSION, "We now partly uphold your complaint.")
    day.answer(ref, ASHA, "full_response", "Record the draft", text=text)
    assert day.case(ref).status is Status.DRAFTING
    day.answer(ref, ASHA, "comment_round", "Send for comment")
    day.answer(ref, SAM, f"comments:{GP}", "Approve it")
    day.answer(ref, LENA, f"comments:{COUNCIL}", "Approve it")
    day.answer(ref, ASHA, "share_draft", "Share it")
    day.answer(ref, ASHA, "final_response", "Send the final response", body=text, signed_by="Dr Jane Cole")
    await day.assistant.cycle()

    final = final_response(day)
    assert "It follows our letter of" in final and "this letter gives you our full response" in final
    assert "Care package not started." in final and "Review care package start checks" in final
    assert day.case(ref).final_response_at is not None
