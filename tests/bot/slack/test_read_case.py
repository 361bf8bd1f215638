"""Reading the case where you work: "Show details" gives a home handler the case in full, and a
new email is noticed in the case thread with "Read it", which shows that email whole to the same
people. Nobody else sees any of it, and Slack's size limits cut nothing off."""

from __future__ import annotations

import json
import logging
import re
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from bot.directory import system_actor
from bot.slack.blocks import PAGE_BLOCKS, TEXT, ReadRef, full_pages
from flows import commands as c
from flows.model import Attachment, Sender
from tests.bot.slack.conftest import ASHA, KOFI, LENA, NOBODY, InSlack, buttons_of, sections_of
from tests.bot.support import RECEIVED, receive
from tests.servers.slack import CHANNEL, Call, block_actions

REFUSED = "Only a complaint handler of the organisation holding the case can see it."
LONG = "\n\n".join(  # 32 paragraphs of 5 lines: over 14,000 characters, so several messages
    "\n".join(f"Paragraph {p} line {n}: the plan said one thing and the care did another." for n in range(5))
    for p in range(32)
)
MORE = "I forgot to say: <nobody> rang & nobody came.\n\nPat"


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _email(slack: InSlack, n: int, text: str, **extra: Any) -> c.ReceiveMessage:
    """An email from the person, threaded onto a case as intake does, `n` hours after the complaint."""
    return c.ReceiveMessage(
        actor=system_actor(slack.assistant.config),
        sender=Sender.COMPLAINANT,
        from_address="pat@example.org",
        received_at=RECEIVED + timedelta(hours=n),
        text=text,
        **{"message_id": f"<more-{n}@example.org>"} | extra,
    )


def _blocks(call: Call) -> list[dict[str, Any]]:
    blocks = call.params.get("blocks") or []
    return list(json.loads(blocks) if isinstance(blocks, str) else blocks)


async def _shown(slack: InSlack, user: str, action: str, value: str) -> list[Call]:
    """Press a button as `user` and take every ephemeral message it brought (they say how many)."""
    before = len(slack.fake.calls_to("chat.postEphemeral"))
    await slack.send.interactive(block_actions(user, action, value, channel=CHANNEL))
    first = (await slack.fake.wait_for("chat.postEphemeral", before + 1))[before]
    parts = re.search(r"\(1 of (\d+)\)$", first.params["text"])
    count = int(parts.group(1)) if parts else 1
    return (await slack.fake.wait_for("chat.postEphemeral", before + count))[before:]


def _case_with_messages(slack: InSlack) -> str:
    config, service = slack.assistant.config, slack.assistant.service
    ref = service.new_ref(RECEIVED, "long")
    service.execute(ref, replace(receive(config), text=LONG), RECEIVED)
    for n, text in ((1, MORE), (2, "A second email.")):
        service.execute(ref, _email(slack, n, text, subject=f"More {n}"), RECEIVED + timedelta(hours=n))
    return ref


# --- Show details ------------------------------------------------------------------------------


async def test_details_shows_a_home_handler_the_whole_case_in_messages_within_slacks_limits(
    slack: InSlack, caplog: pytest.LogCaptureFixture
) -> None:
    ref = _case_with_messages(slack)

    with caplog.at_level(logging.INFO, logger="jointly.slack"):
        calls = await _shown(slack, ASHA, "jointly:details", ref)

    count = len(calls)
    assert count > 1 and calls[-1].params["text"] == f"{ref}: the case in full ({count} of {count})"
    assert {(call.params["user"], call.params["channel"]) for call in calls} == {(ASHA, CHANNEL)}
    sections = [text for call in calls for text in sections_of(call.params)]
    assert all(len(text) <= TEXT for text in sections)
    assert all(0 < len(_blocks(call)) <= 50 for call in calls)
    shown = "\n".join(sections)
    assert all(line in shown for line in LONG.splitlines())  # every line of the complaint, none cut
    assert "pat@example.org" in shown and "*Messages received (2)*" in shown
    assert _esc("I forgot to say: <nobody> rang & nobody came.") in shown and "A second email." in shown
    assert "Subject: More 1" in shown and "*Waiting*" in shown
    assert f"{ref} details shown to asha-patel" in caplog.text


@pytest.mark.parametrize("user", [LENA, KOFI, NOBODY])  # a council contributor and handler; a stranger
async def test_details_are_refused_to_anyone_but_a_home_handler(slack: InSlack, user: str) -> None:
    ref = _case_with_messages(slack)

    [call] = await _shown(slack, user, "jointly:details", ref)

    assert call.params["text"] == REFUSED and not _blocks(call)
    assert not any("Paragraph 0" in json.dumps(c.params) for c in slack.fake.calls)


# --- a new email: the notice and "Read it" --------------------------------------------------------


async def test_a_new_email_is_noticed_in_the_thread_with_read_it_and_none_of_its_text(slack: InSlack) -> None:
    ref = await slack.email()
    thread = slack.assistant.front.threads.thread(ref)  # type: ignore[union-attr]
    assert thread is not None
    attached = Attachment(name="a1", filename="letter.pdf", content_type="application/pdf", size=10)
    command = _email(slack, 1, MORE, subject="Something new", attachments=(attached,))
    slack.assistant.service.execute(ref, command, slack.clock.now)

    await slack.assistant.cycle()

    notices = [c for c in slack.fake.calls_to("chat.postMessage") if "a new email" in c.params["text"]]
    [notice] = notices
    assert notice.params["text"] == f"{ref}: a new email from the person: read it."
    assert (notice.params["channel"], notice.params["thread_ts"]) == (thread.channel, thread.ts)
    assert buttons_of(notice.params) == {"Read it": ("jointly:read_message", f"{ref}|<more-1@example.org>")}
    posted = json.dumps(notice.params)
    assert "nobody" not in posted and "Something new" not in posted and "letter.pdf" not in posted

    for user in (LENA, NOBODY):
        [refused] = await _shown(slack, user, "jointly:read_message", f"{ref}|<more-1@example.org>")
        assert refused.params["text"] == REFUSED and not _blocks(refused)
    [read] = await _shown(slack, ASHA, "jointly:read_message", f"{ref}|<more-1@example.org>")

    assert read.params["user"] == ASHA and read.params["text"] == f"{ref}: email 1 of 1"
    shown = "\n".join(sections_of(read.params))
    assert shown.startswith(f"*{ref}: email 1 of 1*")
    assert "Subject: Something new" in shown and "Attached: letter.pdf" in shown
    assert _esc("I forgot to say: <nobody> rang & nobody came.") in shown and shown.endswith("Pat")
    assert "The discharge" not in shown  # the one email, not the case


async def test_read_it_names_an_email_too_long_to_carry_by_its_number(slack: InSlack) -> None:
    ref = await slack.email()
    long_id = f"<{'x' * 2100}@example.org>"
    slack.assistant.service.execute(ref, _email(slack, 1, MORE, message_id=long_id), slack.clock.now)

    await slack.assistant.cycle()

    [notice] = [c for c in slack.fake.calls_to("chat.postMessage") if "a new email" in c.params["text"]]
    assert buttons_of(notice.params) == {"Read it": ("jointly:read_message", f"{ref}|#1")}
    [read] = await _shown(slack, ASHA, "jointly:read_message", f"{ref}|#1")
    assert _esc("<nobody> rang & nobody came.") in "\n".join(sections_of(read.params))


async def test_read_it_for_an_email_not_on_the_case_says_so(slack: InSlack) -> None:
    ref = await slack.email()

    [unknown] = await _shown(slack, ASHA, "jointly:read_message", f"{ref}|<gone@example.org>")
    [garbled] = await _shown(slack, ASHA, "jointly:read_message", "no bar here")

    assert unknown.params["text"] == f"That email is not on {ref}, so there is nothing to show."
    assert garbled.params["text"] == "That button was not understood."


# --- the pure pieces -----------------------------------------------------------------------------


def test_full_pages_cut_nothing_and_keep_within_slacks_limits() -> None:
    long_line = " ".join(f"word{n}" for n in range(1500))  # about 10,000 characters, no line break
    long_word = "a" * 2996 + "&" + "b" * 10  # no space to break at; the escape lands on the limit
    lines = ["Title", "-----", "  short <one>", long_line, long_word]

    pages = full_pages(lines)

    texts = [block["text"]["text"] for page in pages for block in page]
    assert all(len(page) <= PAGE_BLOCKS for page in pages)
    assert all(len(text) <= TEXT for text in texts) and texts[0].startswith("*Title*\n  short &lt;one&gt;")
    words = " ".join(texts).split()  # a break between words replaces a space, and nothing else
    assert words[:3] == ["*Title*", "short", "&lt;one&gt;"] and words[3:1503] == long_line.split()
    assert len(words[1503:]) == 2 and "".join(words[1503:]) == _esc(long_word)
    assert not any(re.search(r"&[a-z]*$", text) for text in texts)  # never half an escape


def test_a_read_button_round_trips_and_refuses_what_it_did_not_make() -> None:
    button = ReadRef("JC-2026-0001", "<odd|id@example.org>")
    assert ReadRef.decode(button.encode()) == button and button.fits
    assert not ReadRef("JC-2026-0001", "<" + "x" * 2000 + ">").fits
    for value in ("", "JC-2026-0001", "|<id@x>", "JC-2026-0001|\n", "JC|" + "x" * 2000):
        with pytest.raises(ValueError):
            ReadRef.decode(value)
