"""The Teams app as people use it: who may act, stale and repeated presses, sentences typed in a
case's thread, commands in a personal chat, the case in full only in private, and what happens when
the SDK's own check refuses a request."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.teams.app import NOT_IN_DIRECTORY
from tests.bot.teams.conftest import (
    ASHA,
    KOFI,
    LENA,
    NOBODY,
    InTeams,
    Seen,
    actions_of,
    serving,
    teams_config,
)
from tests.servers.teams import CHANNEL_ID, FakeConnector, KeyServer, personal_conversation_id

CARD = "application/vnd.microsoft.card.adaptive"


async def test_a_request_teams_did_not_sign_is_refused_before_any_handler(teams: InTeams) -> None:
    activity = teams.send.personal_message(ASHA, "mine")
    status, _ = await teams.send.send(activity, token="not-a-token")
    assert status == 401
    assert teams.fake.calls_to("send") == []  # nothing answered


async def test_the_sdks_switch_for_unauthenticated_requests_cannot_turn_the_check_off(
    tmp_path: Path,
    teams_env: None,
    teams_keys: KeyServer,
    fake_teams: FakeConnector,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DANGEROUSLY_ALLOW_UNAUTHENTICATED_REQUESTS", "true")  # read by the SDK itself
    async with serving(teams_config(tmp_path / "var", fake_teams), teams_keys, fake_teams) as teams:
        status, _ = await teams.send.send(teams.send.personal_message(ASHA, "mine"), token="")
        assert status == 401


async def test_someone_not_in_the_directory_is_told_and_nothing_is_recorded(teams: InTeams) -> None:
    ref = await teams.email()
    organisations = await teams.asked("organisations")
    before = teams.kinds(ref)
    status, body = await teams.press(NOBODY, organisations, "Only Northshire Hospitals NHS Foundation Trust")
    assert status == 200 and body["value"] == NOT_IN_DIRECTORY
    assert teams.kinds(ref) == before


async def test_another_organisations_handler_cannot_answer_the_coordinators_question(teams: InTeams) -> None:
    ref = await teams.email()
    organisations = await teams.asked("organisations")
    status, body = await teams.press(KOFI, organisations, "Only Northshire Hospitals NHS Foundation Trust")
    assert "another organisation" in body["value"]
    assert "OrganisationsIdentified" not in teams.kinds(ref)


async def test_a_second_press_of_an_answered_question_records_nothing_more(teams: InTeams) -> None:
    ref = await teams.email()
    organisations = await teams.asked("organisations")
    label = "Only Northshire Hospitals NHS Foundation Trust"
    first = await teams.press(ASHA, organisations, label)
    second = await teams.press(ASHA, organisations, label)
    assert first[1]["type"] == CARD and "recorded by Asha Patel" in str(first[1])
    assert "answered already" in second[1]["value"] or "already recorded" in second[1]["value"]
    assert teams.kinds(ref).count("OrganisationsIdentified") == 1
    assert "recorded by Asha Patel" in teams.latest(organisations).text  # replaced for everyone


async def test_a_sentence_typed_in_the_thread_is_offered_and_recorded_on_yes(teams: InTeams) -> None:
    ref = await teams.email()
    orgs = ["northshire-trust", "northshire-council"]
    await teams.answer(ref, "asha-patel", "organisations", "Choose the organisations", orgs=orgs)
    root = teams.front.threads.thread(ref).ts  # type: ignore[union-attr]
    thread = f"{CHANNEL_ID};messageid={root}"
    sent = teams.send.channel_message(ASHA, "consent given by phone today", CHANNEL_ID, root)
    status, _ = await teams.send.send(sent)
    assert status == 200
    [offer] = [m for m in teams.fake.messages(thread) if m.text.startswith("Did you mean")]
    assert "consent" in offer.text.casefold()
    seen = Seen(thread, offer.id, actions_of(offer.cards[0]))
    status, body = await teams.press(ASHA, seen, "Yes, record it")
    assert status == 200 and "recorded by Asha Patel" in str(body), body
    assert teams.kinds(ref).count("ConsentGiven") == 1


async def test_commands_in_a_personal_chat(teams: InTeams) -> None:
    ref = await teams.email()
    for text in ("help", "mine", f"find {ref}", "find nobody-like-this"):
        status, _ = await teams.send.send(teams.send.personal_message(ASHA, text))
        assert status == 200
    said = [m.text for m in teams.fake.messages(personal_conversation_id(ASHA))]
    assert "new" in said[0] and "find" in said[0]  # help
    assert ref in said[1] and "organisations" in said[1]  # mine: the question waiting
    assert said[2].startswith(f"[{ref}](https://teams.microsoft.com/l/message/")  # find: a link to the thread
    assert said[3] == "No case matches 'nobody-like-this'."


async def test_the_case_in_full_goes_only_to_the_handlers_personal_chat(teams: InTeams) -> None:
    ref = await teams.email()
    card = await teams.card_of_case(ref)
    status, body = await teams.press(ASHA, card, "Show details")
    assert status == 200 and "personal chat" in body["value"]
    mine = " ".join(str(m.cards) for m in teams.fake.messages(personal_conversation_id(ASHA)))
    assert "Nobody visited for five days." in mine
    channel = " ".join(str(m.activity) for m in teams.fake.messages(CHANNEL_ID))
    assert "Nobody visited" not in channel
    status, body = await teams.press(LENA, card, "Show details")  # a contributor at the council
    assert "Only a complaint handler" in body["value"]


async def test_a_complaint_made_by_phone_is_logged_from_the_personal_chat(teams: InTeams) -> None:
    status, _ = await teams.send.send(teams.send.personal_message(ASHA, "new"))
    assert status == 200
    [form] = [m for m in teams.fake.messages(personal_conversation_id(ASHA)) if m.cards]
    seen = Seen(personal_conversation_id(ASHA), form.id, actions_of(form.cards[0]))
    said = {"name": "Mary Jones", "subject": "Missed visits", "text": "Nobody came on Monday."}
    status, body = await teams.submit(ASHA, seen, form.cards[0], **said)
    assert status == 200 and "Logged as JC-" in str(body), body
    status, again = await teams.submit(ASHA, seen, form.cards[0], **said)  # sent twice
    assert "already logged" in str(again)
    [ref] = teams.refs()
    assert teams.kinds(ref)[0] == "ComplaintReceived"
    assert teams.front.threads.thread(ref) is not None  # its thread is in the channel at once
    channel = " ".join(str(c.body) for c in teams.fake.calls_snapshot())
    assert "Mary Jones" not in channel.replace(str(body), "")  # the name stays out of the channel


async def test_a_contributor_cannot_log_a_complaint(teams: InTeams) -> None:
    await teams.send.send(teams.send.personal_message(LENA, "new"))
    [said] = [m.text for m in teams.fake.messages(personal_conversation_id(LENA))]
    assert said == "Only a complaint handler can log a complaint."


async def test_more_actions_brings_the_case_menu_to_the_coordinators_personal_chat(teams: InTeams) -> None:
    ref = await teams.email()
    orgs = ["northshire-trust", "northshire-council"]
    await teams.answer(ref, "asha-patel", "organisations", "Choose the organisations", orgs=orgs)
    await teams.answer(ref, "asha-patel", "consent", "Consent given")
    card = await teams.card_of_case(ref)
    status, body = await teams.press(KOFI, card, "More actions")  # the council's handler
    assert "Only the handlers coordinating" in body["value"]

    status, body = await teams.press(ASHA, card, "More actions")
    assert status == 200 and "personal chat" in body["value"]
    [menu] = [m for m in teams.fake.messages(personal_conversation_id(ASHA)) if m.cards]
    assert menu.text.startswith(f"{ref}: What would you like to do")
    seen = Seen(personal_conversation_id(ASHA), menu.id, actions_of(menu.cards[0]))
    status, body = await teams.form(
        ASHA,
        seen,
        "The person withdrew consent for an organisation",
        org_ids=["northshire-council"],
        note="Rang",
    )
    assert status == 200 and "recorded by Asha Patel" in str(body), body
    assert "ConsentWithdrawn" in teams.kinds(ref)
