"""`/complaint find` tells nothing of a case to an organisation not on it, and links to case
threads start with the workspace's own address (auth.test's url), not slack.com's."""

from __future__ import annotations

import json
import re

from bot.chat.waiting import waiting
from bot.directory import actor, org_ref
from flows import commands as c
from flows.calendar import add_working_days
from flows.model import ConsentMethod
from tests.bot.slack.conftest import ASHA, KOFI, LENA, InSlack
from tests.servers.slack import BOT_ID, BOT_USER_ID, CHANNEL, TEAM_ID, WORKSPACE_URL


async def complaint(slack: InSlack, text: str, user: str = ASHA) -> str:
    status, body = await slack.send.command(command="/complaint", text=text, user_id=user)
    assert status == 200
    return body  # the ack's text, shown only to the person who typed the command


async def test_find_answers_an_organisation_not_on_the_case_as_if_there_were_no_case(slack: InSlack) -> None:
    ref = await slack.email()
    organisations = await slack.asked("organisations")
    nowhere = "JC-000000-NONE"

    for council in (LENA, KOFI):  # the council is not on the case yet
        assert await complaint(slack, f"find {ref}", council) == f"No case matches '{ref}'."
        assert await complaint(slack, f"find {nowhere}", council) == f"No case matches '{nowhere}'."
        assert await complaint(slack, f"timeline {ref}", council) == f"There is no case {ref}."
    await slack.form(
        ASHA, organisations, "Choose the organisations", orgs=["northshire-trust", "northshire-council"]
    )
    assert await complaint(slack, f"find {ref}", KOFI) == f"No case matches '{ref}'."  # no consent yet
    await slack.form(ASHA, await slack.asked("consent"), "Consent given")

    assert ref in await complaint(slack, f"find {ref}", KOFI)
    assert ref in await complaint(slack, f"find {ref}")


async def test_links_to_a_thread_use_the_workspaces_own_address(slack: InSlack) -> None:
    ref = await slack.email()
    await slack.asked("organisations")
    assert slack.assistant.front is not None
    thread = slack.assistant.front.threads.thread(ref)
    assert thread is not None
    link = f"{WORKSPACE_URL}archives/{CHANNEL}/p{thread.ts.replace('.', '')}"

    assert await complaint(slack, f"find {ref}") == f"<{link}|{ref}>: received"
    await slack.send.event({"type": "app_home_opened", "user": ASHA, "tab": "home"}, "EvHome")
    assert f'"url": "{link}"' in json.dumps((await slack.next_call("views.publish")).params["view"])

    answer = {"team_id": TEAM_ID, "user_id": BOT_USER_ID, "bot_id": BOT_ID, "ok": True}
    slack.fake.set_answer("auth.test", answer)  # no url: Slack's own address is the fallback
    await slack.assistant.front.surface.find_workspace()
    assert f"<https://slack.com/archives/{CHANNEL}/p" in await complaint(slack, f"find {ref}")


async def test_mine_the_home_tab_and_the_terminal_list_what_waits_in_one_order(slack: InSlack) -> None:
    """Most urgent first everywhere: a case's impasse steps come before another case's routine
    question although both cases have the same next date."""
    first, second = await slack.email(), await slack.email(message_id="<slack-2@mail.example.org>")
    later = max(first, second)  # by reference it would come last; its impasse puts it first
    config, service, now = slack.assistant.config, slack.assistant.service, slack.clock.now
    asha = actor(config.person("asha-patel"))
    orgs = tuple(org_ref(config, o) for o in ("northshire-trust", "northshire-council"))
    service.execute(later, c.IdentifyOrganisations(actor=asha, orgs=orgs), now)
    consent = c.RecordConsent(actor=asha, org_ids=("northshire-council",), method=ConsentMethod.PHONE,
                              given_on=now.date(), capacity_confirmed=True)  # fmt: skip
    service.execute(later, consent, now)
    service.execute(later, c.RaiseImpasse(actor=asha, matter="who leads", reason="Each says the other",
                                          resolve_by=add_working_days(now.date(), 20)), now)  # fmt: skip

    in_terminal = [ref for ref, _ in waiting(service, asha, now)]
    mine = re.findall(r"\|(JC-[^>]+)>", await complaint(slack, "mine"))
    await slack.send.event({"type": "app_home_opened", "user": ASHA, "tab": "home"}, "EvOrder")
    home = (await slack.next_call("views.publish")).params["view"]["blocks"]
    on_home = [
        m for b in home if b["type"] == "section" for m in re.findall(r"^\*(JC-[^*]+)\*", b["text"]["text"])
    ]

    assert in_terminal[0] == later and in_terminal[-1] == min(first, second)
    assert mine == in_terminal == on_home
