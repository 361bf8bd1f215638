"""A three-organisation complaint (trust, GP, council adult social care) from the first email to
closure with everyone in the team chat, Slack and then Teams: the trust's handler in the case's
thread, the GP's and the council's contacts directly (in Teams, the GP's app installed for her
through Graph on the way), through the real sweep day by day. The path of
tests/scenarios/test_coordination.py, by what people press."""

from __future__ import annotations

from typing import Any

from flows.calendar import add_working_days
from flows.drafting import CONCLUSION, assemble_draft
from tests.bot.teams.conftest import SAM, InTeams

TRUST, GP, COUNCIL = "northshire-trust", "riverside-gp", "northshire-council"
THREE_ORGS = (
    "I am writing about my mother. She was discharged from Northshire General Hospital without her "
    "medicines. Her GP at Riverside Medical Practice would not visit, and the council's care package "
    "never started. Nobody would take responsibility."
)


async def test_a_three_organisation_complaint_from_first_email_to_closure(chat: Any) -> None:
    ref = await chat.email(THREE_ORGS)
    target = add_working_days(chat.clock.now.date(), 12)
    await chat.answer(
        ref, "asha-patel", "organisations", "Choose the organisations", orgs=[TRUST, GP, COUNCIL]
    )
    await chat.answer(ref, "asha-patel", "consent", "Consent given")
    await chat.answer(ref, "asha-patel", "complainant_view", "Record their view", view="Happy for the trust")
    await chat.answer(
        ref,
        "asha-patel",
        "propose_lead",
        "Propose Northshire Hospitals NHS Foundation Trust",
        criteria=["greatest_responsibility"],
    )
    if isinstance(chat, InTeams):
        assert SAM in chat.fake.installed  # not installed for her: the assistant installed it to ask her
    await chat.answer(ref, "sam-price", f"lead_answer:{GP}", "Agree")
    await chat.answer(ref, "lena-okafor", f"lead_answer:{COUNCIL}", "Agree")
    await chat.answer(ref, "asha-patel", "update_every", "Set the update frequency", working_days=10)
    await chat.answer(
        ref, "asha-patel", "named_contact", "Name the contact", email="asha.patel@northshire-trust.example"
    )
    due = add_working_days(chat.clock.now.date(), 40)
    await chat.answer(ref, "asha-patel", "response_period", "Agreed with them", due=due)
    for org in (TRUST, GP, COUNCIL):
        await chat.answer(
            ref,
            "asha-patel",
            "plan",
            "Add a strand",
            org_id=org,
            matters=f"What {org} did",
            target=target,
            milestones="Records gathered\nStaff spoken to",
        )
    for org in (TRUST, GP, COUNCIL):
        await chat.answer(ref, "asha-patel", f"plan_agreed:{org}", "Agreed")

    await chat.until(add_working_days(target, -1))
    await chat.answer(
        ref, "asha-patel", "contribution:S1", "Record it", summary="Discharge checklist missed."
    )
    await chat.answer(ref, "sam-price", "strand:S2", "Send our response", summary="Visit request not logged.")
    await chat.answer(ref, "lena-okafor", "strand:S3", "On track")
    await chat.until(add_working_days(target, 2))
    lena = chat.told("lena-okafor")
    assert any("reminder" in text and ref in text for text in lena), lena  # reminded in the chat
    await chat.answer(
        ref, "lena-okafor", "strand:S3", "Send our response", summary="Care package not started."
    )

    await chat.answer(ref, "asha-patel", "update", "Send the update letter")
    action_due = add_working_days(chat.clock.now.date(), 10)
    await chat.answer(
        ref,
        "asha-patel",
        "add_action",
        "Add an action",
        owner_org=COUNCIL,
        description="Review care package start checks",
        due=action_due,
    )
    case = chat.assistant.service.load(ref)
    text = assemble_draft(case).replace(CONCLUSION, "We partly uphold your complaint.")
    await chat.answer(ref, "asha-patel", "draft", "Record the draft", text=text)
    await chat.answer(ref, "asha-patel", "comment_round", "Send for comment")
    await chat.answer(ref, "sam-price", f"comments:{GP}", "Approve it")
    await chat.answer(ref, "lena-okafor", f"comments:{COUNCIL}", "Approve it")
    await chat.answer(ref, "asha-patel", "share_draft", "Share it")
    await chat.answer(
        ref,
        "asha-patel",
        "final_response",
        "Send the final response",
        body="We looked into each part of your complaint together.",
        signed_by="Dr Jane Cole",
    )
    await chat.until(action_due)
    await chat.answer(
        ref, "lena-okafor", "action:A1", "Record it done", evidence="New start checklist in use."
    )
    for org in (TRUST, GP, COUNCIL):
        await chat.answer(ref, "asha-patel", f"outcome:{org}", "Partly upheld")
    await chat.answer(
        ref,
        "asha-patel",
        "coding",
        "Record the coding",
        subjects=["admissions", "care_package"],
        professions=["nursing", "social_work"],
        age_band="85+",
    )
    await chat.answer(ref, "asha-patel", "close", "Close")

    kinds = chat.kinds(ref)
    assert kinds.count("FinalResponseSent") == 1 and kinds[-1] == "CaseClosed", kinds[-5:]
    posted = " ".join(str(call) for call in chat.fake.calls)
    assert "medicines" not in posted and "Riverside Medical Practice would not" not in posted
