"""Teams refusing or unreachable: a rate limit waited out, an outage survived by the next cycle, and a
person the app cannot be installed for, whom the handlers are told about instead."""

from __future__ import annotations

from tests.bot.teams.conftest import InTeams
from tests.servers.teams import CHANNEL_ID, personal_conversation_id

ORGS = ["northshire-trust", "northshire-council"]


async def test_a_rate_limit_is_waited_out_and_the_card_posted_once(teams: InTeams) -> None:
    teams.fake.fail(429, times=1, retry_after=0)
    ref = await teams.email()
    posts = teams.fake.calls_to("create_conversation")
    assert [call.status for call in posts] == [429, 201]
    assert teams.front.threads.thread(ref) is not None
    await teams.asked("organisations")


async def test_while_teams_is_down_nothing_is_lost_and_the_next_cycle_posts(teams: InTeams) -> None:
    teams.fake.down()
    ref = await teams.email()
    assert teams.front.threads.thread(ref) is None  # the case is safe; its thread is not there yet
    teams.fake.up()
    await teams.assistant.cycle()
    thread = teams.front.threads.thread(ref)
    assert thread is not None
    assert len([c for c in teams.fake.calls_to("create_conversation") if c.ok]) == 1
    await teams.asked("organisations")


async def test_a_person_the_app_cannot_be_installed_for_is_reported_to_the_handlers(teams: InTeams) -> None:
    lena = teams.assistant.config.person("lena-okafor").teams_user_id
    assert lena is not None
    teams.fake.uninstall(lena)
    teams.fake.cannot_install.add(lena)
    ref = await teams.email()
    await teams.answer(ref, "asha-patel", "organisations", "Choose the organisations", orgs=ORGS)
    await teams.answer(ref, "asha-patel", "consent", "Consent given")
    await teams.answer(ref, "asha-patel", "propose_lead", "Propose Northshire Hospitals NHS Foundation Trust",
                       criteria=["greatest_responsibility"])  # fmt: skip
    thread = f"{CHANNEL_ID};messageid={teams.front.threads.thread(ref).ts}"  # type: ignore[union-attr]
    told = [m.text for m in teams.fake.messages(thread) if "cannot be reached in Teams" in m.text]
    assert len(told) == 1 and "Lena Okafor" in told[0] and "Northshire County Council" in told[0], told
    await teams.assistant.cycle()  # told once, not at every cycle
    assert len([m for m in teams.fake.messages(thread) if "cannot be reached" in m.text]) == 1

    teams.fake.cannot_install.discard(lena)  # she adds the app herself: her question reaches her then
    teams.fake.install(lena)
    status, _ = await teams.send.send(teams.send.installed(lena))
    assert status == 200
    await teams.answer(ref, "lena-okafor", "lead_answer:northshire-council", "Agree")


async def test_someone_who_removed_the_app_has_it_installed_again_to_be_told(teams: InTeams) -> None:
    lena = teams.assistant.config.person("lena-okafor").teams_user_id
    assert lena is not None
    ref = await teams.email()
    await teams.assistant.front.chat.say(ref, f"{ref}: a first notice", ["lena-okafor"])
    teams.fake.uninstall(lena)  # her chat is remembered, and now refused

    await teams.assistant.front.chat.say(ref, f"{ref}: a second notice", ["lena-okafor"])
    assert lena in teams.fake.installed
    said = [m.text for m in teams.fake.messages(personal_conversation_id(lena))]
    assert said == [f"{ref}: a first notice", f"{ref}: a second notice"]
