"""`/complaint timeline REF`: the case's dates as a picture, uploaded into the case's own thread."""

from __future__ import annotations

import json

from tests.bot.slack.conftest import ASHA, LENA, NOBODY, InSlack
from tests.bot.support import receive
from tests.servers.slack import CHANNEL

PNG = b"\x89PNG\r\n\x1a\n"


async def timeline(slack: InSlack, text: str, user: str = ASHA) -> str:
    status, body = await slack.send.command(command="/complaint", text=text, user_id=user)
    assert status == 200
    return body  # the ack's text: only the person who typed the command sees it


async def test_the_timeline_goes_into_the_cases_thread_as_a_png(slack: InSlack) -> None:
    ref = await slack.email()
    await slack.asked("organisations")  # the thread exists
    assert slack.assistant.front is not None
    thread = slack.assistant.front.threads.thread(ref)
    assert thread is not None

    assert "Posting the timeline" in await timeline(slack, f"timeline {ref.lower()}")

    [done] = await slack.fake.wait_for("files.completeUploadExternal")
    assert done.params["channel_id"] == CHANNEL and done.params["thread_ts"] == thread.ts
    [shared] = json.loads(done.params["files"])
    assert shared["title"] == f"{ref}: timeline"
    [asked] = await slack.fake.wait_for("files.getUploadURLExternal")
    assert asked.params["filename"] == f"{ref}-timeline.png"
    picture = slack.fake.uploads[shared["id"]]
    assert picture.startswith(PNG) and len(picture) > 10_000
    assert [c.method for c in slack.fake.calls if "upload" in c.method.lower()] == [
        "files.getUploadURLExternal", "upload", "files.completeUploadExternal",
    ]  # fmt: skip


async def test_no_case_no_thread_or_not_your_case_is_told_and_nothing_is_uploaded(slack: InSlack) -> None:
    ref = await slack.email()
    await slack.asked("organisations")
    config = slack.assistant.config
    unsynced = slack.assistant.service.new_ref(slack.clock.now, "no-thread-yet")
    slack.assistant.service.execute(unsynced, receive(config), slack.clock.now)  # no cycle: no thread

    assert await timeline(slack, "timeline JC-000000-NONE") == "There is no case JC-000000-NONE."
    assert "no thread in the complaints channel" in await timeline(slack, f"timeline {unsynced}")
    assert await timeline(slack, f"timeline {ref}", LENA) == f"There is no case {ref}."  # not the council's
    assert "not in this assistant's directory" in await timeline(slack, f"timeline {ref}", NOBODY)
    assert "/complaint timeline" in await timeline(slack, "timeline")  # no reference: the usage

    assert not [c for c in slack.fake.calls if "upload" in c.method.lower()]
