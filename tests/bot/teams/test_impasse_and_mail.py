"""Senior managers asked about an impasse in their personal chat, and a new email on a case: its
notice in the thread with "Read it", which shows the email only to a handler, privately."""

from __future__ import annotations

from datetime import timedelta

from bot.directory import actor, system_actor
from flows import commands as c
from flows.calendar import add_working_days
from flows.model import Sender
from tests.bot.support import RECEIVED
from tests.bot.teams.conftest import ASHA, DAVID, LENA, InTeams, Seen, actions_of
from tests.servers.teams import CHANNEL_ID, personal_conversation_id

ORGS = ["northshire-trust", "northshire-council"]


async def test_senior_managers_are_asked_about_an_impasse_in_their_personal_chat(teams: InTeams) -> None:
    ref = await teams.email()
    await teams.answer(ref, "asha-patel", "organisations", "Choose the organisations", orgs=ORGS)
    await teams.answer(ref, "asha-patel", "consent", "Consent given")
    asha = actor(teams.assistant.config.person("asha-patel"))
    by = add_working_days(teams.clock.now.date(), 5)
    raised = c.RaiseImpasse(actor=asha, matter="the remedy is disputed", reason="Cost", resolve_by=by)
    teams.assistant.service.execute(ref, raised, teams.clock.now)
    await teams.assistant.cycle()

    seen = teams.question(ref, "david-hughes", "impasse:northshire-council")
    assert seen.conversation == personal_conversation_id(DAVID)
    await teams.answer(ref, "david-hughes", "impasse:northshire-council", "Cannot resolve")
    answered = [e for e in teams.events(ref) if type(e).__name__ == "ImpasseAnswered"]
    assert [(e.by, e.resolved) for e in answered] == [("david-hughes", False)]  # type: ignore[attr-defined]


async def test_a_new_email_is_read_privately_from_its_notice(teams: InTeams) -> None:
    ref = await teams.email()
    more = c.ReceiveMessage(
        actor=system_actor(teams.assistant.config),
        sender=Sender.COMPLAINANT,
        from_address="pat@example.org",
        received_at=RECEIVED + timedelta(hours=1),
        text="I forgot to say: the district nurse never came either.",
        message_id="<more-1@example.org>",
    )
    teams.assistant.service.execute(ref, more, teams.clock.now)  # threaded onto the case, as intake does
    await teams.assistant.cycle()
    thread = f"{CHANNEL_ID};messageid={teams.front.threads.thread(ref).ts}"  # type: ignore[union-attr]
    [notice] = [m for m in teams.fake.messages(thread) if "Read it" in str(m.cards)]
    assert "district nurse" not in str(notice.activity)  # the notice never holds the email
    seen = Seen(thread, notice.id, actions_of(notice.cards[0]))

    status, body = await teams.press(LENA, seen, "Read it")
    assert "Only a complaint handler" in body["value"]
    status, body = await teams.press(ASHA, seen, "Read it")
    assert status == 200 and "personal chat" in body["value"]
    [shown] = [m for m in teams.fake.messages(personal_conversation_id(ASHA)) if m.cards]
    assert shown.text == f"{ref}: email 1 of 1" and "district nurse never came" in str(shown.cards)
