"""A mail server that refuses a letter for good (5xx): the letter is recorded as failed, never
retried on its own, the handlers are told, and the coordinating handler's "send it again" sends the
same letter once the server takes mail again."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import TYPE_CHECKING

import pytest

from bot.config import Config
from flows.conversation import Prompt
from flows.prompts import next_prompts
from store.store import Store
from tests.bot.test_send_crash import NOW, Office, ids
from tests.mail.test_smtp import outbox as smtp_outbox

if TYPE_CHECKING:
    from tests.servers.smtp import SmtpServer

pytest_plugins = ["tests.servers.smtp"]

HOUR = timedelta(hours=1)


@pytest.fixture
def office(config: Config, store: Store, smtp_server: SmtpServer) -> Office:
    return Office(config.model_copy(update={"outbox": smtp_outbox(smtp_server.port)}), store)


def failed_prompts(office: Office, ref: str) -> list[Prompt]:
    prompts = next_prompts(office.service.load(ref), office.handler, NOW)
    return [p for p in prompts if p.id.startswith("letter_failed:")]


async def test_a_refused_letter_is_put_to_the_handler_and_sent_again_once_when_asked(
    office: Office, smtp_server: SmtpServer
) -> None:
    [ref] = office.take_in()
    smtp_server.refuse_recipients(550, "relaying denied")
    runner = office.runner()

    for hours in range(3):
        await runner.run_due(NOW + hours * HOUR)

    [letter] = office.service.load(ref).letters.values()
    assert "refused" in letter.failed and letter.sent_at is None and smtp_server.received == []
    assert [s.text for s in office.chat.said if s.ref == ref and "could not be sent" in s.text] != []
    [asked] = failed_prompts(office, ref)
    assert asked.question.startswith("The acknowledgement letter to the complainant could not be sent (")
    assert [ch.label for ch in asked.choices] == ["Send it again", "It went another way"]

    office.service.execute(ref, asked.choices[0].command, NOW + 3 * HOUR)  # too soon: refused again
    await runner.run_due(NOW + 3 * HOUR)
    [asked] = failed_prompts(office, ref)
    smtp_server.refuse_recipients(None)
    office.service.execute(ref, asked.choices[0].command, NOW + 4 * HOUR)
    await runner.run_due(NOW + 4 * HOUR)
    await runner.run_due(NOW + 5 * HOUR)

    [letter] = office.service.load(ref).letters.values()
    assert ids(smtp_server) == Counter({letter.message_id: 1})
    assert (letter.failed, letter.sent_at) == ("", NOW + 4 * HOUR)
    assert failed_prompts(office, ref) == []
