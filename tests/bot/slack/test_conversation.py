"""A two-organisation complaint walked from its thread's first question to an agreed lead and a
named contact, using only Slack payloads: buttons, forms and a direct message to the council."""

from __future__ import annotations

from tests.bot.slack.conftest import ASHA, LENA, InSlack, agree_lead, to_lead_proposed
from tests.servers.slack import CHANNEL


async def test_a_new_complaint_is_walked_to_an_agreed_lead_and_named_contact(slack: InSlack) -> None:
    ref = await to_lead_proposed(slack)

    card = slack.fake.calls_to("chat.postMessage")[0]
    assert card.params["channel"] == CHANNEL and ref in card.params["text"]
    assert "Pat Example" not in str(card.params) and "discharged" not in str(
        card.params
    )  # no personal details
    assert (await slack.asked("organisations")).channel == CHANNEL

    view = await slack.asked("complainant_view")
    await slack.form(ASHA, view, "Record their view", view="Happy for the hospital to lead")
    # the council's contact is asked by direct message, and answers there
    council = await slack.asked("lead_answer:northshire-council")
    assert council.channel == "D" + LENA
    await slack.press(LENA, council, "Agree")

    contact = await slack.asked("named_contact")
    await slack.form(ASHA, contact, "Name the contact", email="asha.patel@northshire-trust.example")
    await slack.asked("response_period")  # the next question: the named contact is recorded

    kinds = slack.kinds(ref)
    for expected in (
        "OrganisationsIdentified",
        "ConsentGiven",
        "LeadProposed",
        "LeadResponded",
        "LeadAgreed",
        "ComplainantViewRecorded",
        "NamedContactSet",
    ):
        assert expected in kinds, (expected, kinds)
    assert "named_contact" in slack.letters(ref)
    by = {type(e).__name__: e.by for e in slack.events(ref)}
    assert by["LeadResponded"] == "lena-okafor" and by["NamedContactSet"] == "asha-patel"


async def test_a_contributor_asks_by_direct_message_for_another_date_and_the_lead_accepts(
    slack: InSlack,
) -> None:
    ref = await to_lead_proposed(slack)
    await agree_lead(slack)
    await slack.form(ASHA, await slack.asked("named_contact"), "Name the contact", email="asha@trust.example")
    plan = await slack.asked("plan")
    await slack.form(ASHA, plan, "Add a strand", org_id="northshire-council", matters="The care package")
    strand = await slack.asked("strand:S1")  # the council's contact is told by direct message
    assert strand.channel == "D" + LENA and "The care package" not in str(strand.buttons)

    await slack.form(LENA, strand, "Can't make this date", target="2026-12-23", reason="Records are off site")
    proposal = await slack.asked("date_proposal:S1")
    assert proposal.channel == CHANNEL
    await slack.press(ASHA, proposal, "Accept the new date")
    assert "Accept the new date" in await slack.answered(proposal)

    changed = [e for e in slack.events(ref) if type(e).__name__ == "TargetDateChanged"]
    assert [str(e.target) for e in changed] == ["2026-12-23"]  # type: ignore[attr-defined]
    assert [e.by for e in slack.events(ref) if type(e).__name__ == "TargetDateProposed"] == ["lena-okafor"]
