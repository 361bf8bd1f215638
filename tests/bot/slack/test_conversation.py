"""A two-organisation complaint walked from its thread's first question to an agreed lead and a
named contact, using only Slack payloads: buttons, forms and a direct message to the council."""

from __future__ import annotations

from tests.bot.slack.conftest import ASHA, LENA, InSlack, to_lead_proposed
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
