"""`/complaint find` tells nothing of a case to an organisation not on it, and links to case
threads start with the workspace's own address (auth.test's url), not slack.com's."""

from __future__ import annotations

import json

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
    assert slack.assistant.slack is not None
    thread = slack.assistant.slack.threads.thread(ref)
    assert thread is not None
    link = f"{WORKSPACE_URL}archives/{CHANNEL}/p{thread.ts.replace('.', '')}"

    assert await complaint(slack, f"find {ref}") == f"<{link}|{ref}>: received"
    await slack.send.event({"type": "app_home_opened", "user": ASHA, "tab": "home"}, "EvHome")
    assert f'"url": "{link}"' in json.dumps((await slack.next_call("views.publish")).params["view"])

    answer = {"team_id": TEAM_ID, "user_id": BOT_USER_ID, "bot_id": BOT_ID, "ok": True}
    slack.fake.set_answer("auth.test", answer)  # no url: Slack's own address is the fallback
    await slack.assistant.slack.threads.find_workspace()
    assert f"<https://slack.com/archives/{CHANNEL}/p" in await complaint(slack, f"find {ref}")
