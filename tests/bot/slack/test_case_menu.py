"""The card's "More actions": what the coordinating handler may do on a case at any time (consent
for one organisation, a withdrawal, a representative, an impasse), by Slack payloads only."""

from __future__ import annotations

from typing import Any

from tests.bot.slack.conftest import ASHA, LENA, InSlack, Seen, buttons_of, to_lead_proposed
from tests.servers.slack import CHANNEL, block_actions


async def open_menu(slack: InSlack, user: str, ref: str) -> dict[str, Any]:
    await slack.send.interactive(block_actions(user, "jointly:menu", ref, channel=CHANNEL))
    return (await slack.next_call("chat.postEphemeral")).params


async def test_the_handler_withdraws_consent_for_the_council_from_the_cards_menu(slack: InSlack) -> None:
    ref = await to_lead_proposed(slack)
    card = slack.fake.calls_to("chat.postMessage")[0]
    assert buttons_of(card.params)["More actions"] == ("jointly:menu", ref)

    shown = await open_menu(slack, ASHA, ref)
    assert str(shown["text"]).startswith(f"{ref}: What would you like to do")
    menu = Seen(CHANNEL, "", buttons_of(shown), "anytime")
    assert {"The person withdrew consent for an organisation", "Raise an impasse"} <= set(menu.buttons)
    await slack.form(ASHA, menu, "The person withdrew consent for an organisation",
                     org_ids=["northshire-council"], note="Rang to say so")  # fmt: skip
    kinds = slack.kinds(ref)
    assert "ConsentWithdrawn" in kinds and "consent_withdrawn" in slack.letters(ref)


async def test_someone_from_another_organisation_gets_no_menu(slack: InSlack) -> None:
    ref = await to_lead_proposed(slack)
    shown = await open_menu(slack, LENA, ref)
    assert "Only the handlers coordinating" in str(shown["text"]) and not shown.get("blocks")
