"""Signed requests only; retries, double clicks and stale buttons record once; Slack being down
delays posts without losing them; errors reach the person as words, or as an id that is logged."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from datetime import timedelta

import pytest

from bot.directory import actor
from bot.slack.commands import NOT_IN_DIRECTORY
from flows import commands as c
from tests.bot.slack.conftest import (
    ASHA,
    DAVID,
    KOFI,
    LENA,
    NOBODY,
    InSlack,
    sections_of,
    to_lead_proposed,
)
from tests.bot.support import RECEIVED, receive
from tests.servers.slack import CHANNEL, SIGNING_SECRET, SlackSender, block_actions, message_event, sign


async def test_a_bad_or_stale_signature_is_refused(slack: InSlack) -> None:
    payload = block_actions(ASHA, "jointly:details", "JC-261124-AAAA")
    stale = SlackSender(slack.send.url, SIGNING_SECRET, clock=lambda: time.time() - 600)
    forged = SlackSender(slack.send.url, "not the secret")

    assert (await stale.interactive(payload))[0] == 401
    assert (await forged.interactive(payload))[0] == 401
    body = b"payload=%7B%7D"
    assert (await slack.send.raw(body, {"Content-Type": "application/x-www-form-urlencoded"}))[0] == 401
    assert (await slack.send.raw(body, sign(SIGNING_SECRET, body, int(time.time()))))[0] != 401
    assert slack.fake.calls_to("chat.postEphemeral") == []


async def test_a_double_click_records_once(slack: InSlack) -> None:
    ref = await to_lead_proposed(slack)
    council = await slack.asked("lead_answer:northshire-council")

    first, second = await asyncio.gather(
        slack.press(LENA, council, "Agree"), slack.press(LENA, council, "Agree")
    )

    assert first[0] == second[0] == 200
    told = await slack.ephemeral()
    assert "already" in told
    answers = [e for e in slack.events(ref) if type(e).__name__ == "LeadResponded" and e.by == "lena-okafor"]
    assert len(answers) == 1


async def test_a_stale_button_is_explained_and_records_nothing(slack: InSlack) -> None:
    ref = await to_lead_proposed(slack)
    consent = await slack.asked("consent")
    before = slack.kinds(ref)

    await slack.press(ASHA, consent, "Consent refused")

    told = await slack.ephemeral()
    assert "answered already or the case has moved on" in told and "agreeing the lead" in told
    assert slack.kinds(ref) == before


async def test_a_sentence_is_confirmed_before_it_is_recorded_and_a_retried_event_answers_once(
    slack: InSlack,
) -> None:
    ref = await slack.email()
    await slack.form(
        ASHA, await slack.asked("organisations"), "Choose the organisations",
        orgs=["northshire-trust", "northshire-council"],
    )  # fmt: skip
    await slack.asked("consent")
    thread = slack.assistant.front.threads.thread(ref)  # type: ignore[union-attr]
    assert thread is not None
    said = message_event(ASHA, CHANNEL, "consent given by phone today", "1764000500.000100", thread.ts)

    assert (await slack.send.event(said, "Ev1"))[0] == 200
    assert (await slack.send.event(said, "Ev1", retry_num=1))[0] == 200
    help_asked = message_event(ASHA, CHANNEL, "help", "1764000600.000100", thread.ts)
    assert (await slack.send.event(help_asked, "Ev2"))[0] == 200

    confirm = await slack.next_call("chat.postEphemeral")
    helped = await slack.next_call("chat.postEphemeral")
    assert "Did you mean" in confirm.params["text"] and "Consent given by phone" in confirm.params["text"]
    assert "what I can do" in helped.params["text"]
    assert "ConsentGiven" not in slack.kinds(ref)  # nothing recorded before the person confirms

    [yes] = [e for b in confirm.params["blocks"] if b["type"] == "actions" for e in b["elements"][:1]]
    await slack.send.interactive(
        block_actions(ASHA, yes["action_id"], yes["value"], channel=CHANNEL, thread_ts=thread.ts)
    )
    await slack.asked("propose_lead")
    assert slack.kinds(ref).count("ConsentGiven") == 1
    assert [c.params["text"] for c in slack.fake.calls_to("chat.postEphemeral")].count(
        confirm.params["text"]
    ) == 1


async def test_people_get_what_their_role_allows_and_no_more(slack: InSlack) -> None:
    ref = await to_lead_proposed(slack)
    view = await slack.asked("complainant_view")
    council = await slack.asked("lead_answer:northshire-council")
    before = slack.kinds(ref)

    for other in (LENA, KOFI, DAVID):  # the council's contributor, handler and senior manager
        await slack.press(other, view, "Record their view")  # a question for the lead's handlers
        assert "another organisation or role" in await slack.ephemeral()
    await slack.press(NOBODY, council, "Agree")
    assert await slack.ephemeral() == NOT_IN_DIRECTORY
    assert slack.kinds(ref) == before

    details = block_actions(LENA, "jointly:details", ref, channel=CHANNEL)
    await slack.send.interactive(details)
    assert "Only a complaint handler" in await slack.ephemeral()
    await slack.send.interactive(block_actions(ASHA, "jointly:details", ref, channel=CHANNEL))
    shown = "\n".join(sections_of((await slack.next_call("chat.postEphemeral")).params))
    assert "Pat Example" in shown and "pat@example.org" in shown  # to the handler, for their eyes only

    await slack.form(ASHA, view, "Record their view", view="Happy for the hospital to lead")
    await slack.press(DAVID, council, "Agree")  # the council's senior manager may answer for it
    await slack.asked("named_contact")
    assert [e.by for e in slack.events(ref) if type(e).__name__ == "LeadResponded"][-1] == "david-hughes"


async def test_slack_being_down_delays_the_case_thread_without_losing_it(slack: InSlack) -> None:
    slack.fake.down()
    started = len(slack.fake.calls)
    ref = await slack.email()
    assert all(c.failed for c in slack.fake.calls[started:])
    assert slack.assistant.front.threads.thread(ref) is None  # type: ignore[union-attr]

    slack.fake.up()
    slack.clock.now += timedelta(minutes=1)  # past the notice's first retry time
    await slack.assistant.cycle()

    card = await slack.next_call("chat.postMessage")
    assert ref in card.params["text"]
    await slack.asked("organisations")
    notices = [c.params["text"] for c in slack.fake.calls_to("chat.postMessage") if not c.failed]
    assert sum("New complaint" in text for text in notices) == 1  # the notice from the outbox, once


async def test_an_unexpected_error_gives_an_id_that_is_also_logged(
    slack: InSlack, caplog: pytest.LogCaptureFixture
) -> None:
    await slack.email()
    organisations = await slack.asked("organisations")
    action_id, value = organisations.buttons["Choose the organisations"]
    payload = block_actions(ASHA, action_id, value, channel=CHANNEL)
    del payload["trigger_id"]  # a malformed request: the form cannot be opened

    with caplog.at_level(logging.ERROR, logger="jointly.slack"):
        await slack.send.interactive(payload)
        told = await slack.ephemeral()

    incident = told.rsplit("error ", 1)[1].rstrip(".")
    assert any(incident in record.getMessage() for record in caplog.records)


async def test_complaint_command_logs_finds_and_lists(slack: InSlack) -> None:
    ref = await slack.email()
    await slack.asked("organisations")

    async def complaint(text: str, user: str = ASHA) -> str:
        status, body = await slack.send.command(command="/complaint", text=text, user_id=user)
        assert status == 200
        return body  # the ack's text, shown only to the person who typed the command

    assert "/complaint new" in await complaint("help")
    assert ref in await complaint(f"find {ref}")
    assert ref in await complaint("find pat example")
    assert ref not in await complaint("find pat example", LENA)  # names: only for the holding organisation
    mine = await complaint("mine")
    assert ref in mine and "Which organisations" in mine
    assert await complaint("mine", NOBODY) == NOT_IN_DIRECTORY

    await slack.send.command(command="/complaint", text="new", user_id=ASHA)
    modal = (await slack.next_call("views.open")).params["view"]
    await slack.submit(
        ASHA, modal, name="Jo Example", email="jo@example.org", subject="Phone call",
        text="Rang about Riverside surgery refusing a home visit.", channel="phone",
    )  # fmt: skip
    [new] = set(slack.refs()) - {ref}
    assert "written_record" in slack.letters(new)
    assert slack.store.load(new).summary["status"] == "received"


async def test_the_home_tab_lists_what_waits_for_the_person(slack: InSlack) -> None:
    ref = await slack.email()
    await slack.asked("organisations")

    await slack.send.event({"type": "app_home_opened", "user": ASHA, "tab": "home"}, "Ev9")

    published = await slack.next_call("views.publish")
    assert published.params["user_id"] == ASHA and ref in json.dumps(published.params["view"])


async def test_notices_for_named_people_go_by_direct_message_to_those_in_slack(
    slack: InSlack, caplog: pytest.LogCaptureFixture
) -> None:
    ref = await slack.email()
    assert slack.assistant.front is not None

    with caplog.at_level(logging.INFO, logger="jointly.slack"):
        await slack.assistant.front.chat.say(
            ref, f"{ref}: senior managers, please help", ["david-hughes", "sam-price"]
        )

    dm = await slack.next_call("conversations.open")
    assert dm.params["users"] == "U0COUNC02"
    posted = [c for c in slack.fake.calls_to("chat.postMessage") if c.params.get("channel") == "DU0COUNC02"]
    assert [c.params["text"] for c in posted] == [f"{ref}: senior managers, please help"]
    assert "sam-price is not in Slack" in caplog.text  # logged, not silently dropped


async def test_a_case_closed_before_slack_was_switched_on_gets_no_thread(slack: InSlack) -> None:
    service = slack.assistant.service
    ref = service.new_ref(RECEIVED, "closed-before")
    service.execute(ref, receive(slack.assistant.config), RECEIVED)
    handler = actor(slack.assistant.config.person("asha-patel"))
    service.execute(ref, c.WithdrawComplaint(actor=handler, note="by phone"), RECEIVED)
    assert slack.assistant.front is not None

    assert await slack.assistant.front.threads.sync_changed() == 0
    assert slack.assistant.front.threads.thread(ref) is None


async def test_a_new_complaints_form_sent_twice_logs_it_once(slack: InSlack) -> None:
    await slack.send.command(command="/complaint", text="new", user_id=ASHA)
    modal = (await slack.next_call("views.open")).params["view"]
    said = {
        "name": "Jo Example",
        "subject": "Phone call",
        "text": "Rang about a home visit.",
        "channel": "phone",
    }
    first = await slack.submit(ASHA, modal, **said)
    second = await slack.submit(ASHA, modal, **said)  # Slack retried, or a double click
    assert "Logged as JC-" in first[1] and "already logged" in second[1]
    assert len(slack.refs()) == 1
