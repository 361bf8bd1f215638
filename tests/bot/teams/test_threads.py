"""A case in Teams: its card posted in the complaints channel and updated in place, its questions in
the thread, answers from cards recorded once, and another organisation asked in a personal chat."""

from __future__ import annotations

from tests.bot.teams.conftest import ASHA, LENA, InTeams
from tests.servers.teams import CHANNEL_ID


async def test_a_new_case_gets_its_card_in_the_channel_and_its_first_question_in_the_thread(
    teams: InTeams,
) -> None:
    ref = await teams.email()

    [post] = teams.fake.calls_to("create_conversation")
    assert post.body["channelData"]["channel"]["id"] == CHANNEL_ID
    root = post.answer["activityId"]
    assert teams.front.threads.thread(ref) is not None
    organisations = await teams.asked("organisations")
    assert organisations.conversation == f"{CHANNEL_ID};messageid={root}"
    assert "Mr " not in str(post.body) and "discharged" not in str(post.body)  # nothing of the person


async def test_answers_from_cards_move_the_case_and_reach_another_organisation_personally(
    teams: InTeams,
) -> None:
    ref = await teams.email()
    organisations = await teams.asked("organisations")
    status, body = await teams.form(
        ASHA, organisations, "Choose the organisations", orgs=["northshire-trust", "northshire-council"]
    )
    assert status == 200 and "recorded by Asha Patel" in str(body), body
    assert "recorded by Asha Patel" in teams.latest(organisations).text
    consent = await teams.asked("consent")
    await teams.form(ASHA, consent, "Consent given")
    propose = await teams.asked("propose_lead")
    label = next(title for title in propose.actions if "Northshire Hospitals" in title)
    await teams.form(ASHA, propose, label, criteria=["greatest_responsibility"])
    answer = await teams.asked("lead_answer:northshire-council")
    assert answer.conversation.startswith("a:")  # Lena's personal chat, not the channel

    status, body = await teams.press(LENA, answer, "Agree")
    assert status == 200, body
    assert "recorded by Lena Okafor" in str(body)
    responded = [e for e in teams.events(ref) if type(e).__name__ == "LeadResponded"]
    assert [(e.org_id, e.agrees) for e in responded if e.by == "lena-okafor"] == [
        ("northshire-council", True)
    ]  # type: ignore[attr-defined]
