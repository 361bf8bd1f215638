"""A complainant who writes again about the same matter in a new email (no In-Reply-To), without
the reference in the subject, while their case is open: the new case is marked as possibly related
to the open case of the same complainant (by the sender's address, or the reference in the text),
and the handler is asked to merge it or keep it apart, as for a stranger quoting a reference.

Found by the simulation (`bench.sim.emails.again`, kind "again_new"): before, such an email opened
a second case linked to nothing, and no handler was ever asked about it.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.config import Config
from bot.directory import actor
from bot.intake import Intake
from bot.runner import EffectRunner
from bot.service import CaseService
from flows.prompts import next_prompts
from mail.maildir import MaildirInbox
from tests.bot.support import NOW, complaint
from tests.bot.test_threading import PAT, first_case, take


@pytest.mark.parametrize("names_reference", [True, False], ids=["reference_in_body", "no_reference"])
async def test_the_same_complainant_writing_again_is_put_to_the_handler_to_merge(
    intake: Intake,
    inbox: MaildirInbox,
    runner: EffectRunner,
    service: CaseService,
    config: Config,
    names_reference: bool,
) -> None:
    ref, _ = await first_case(intake, inbox, runner)
    text = "I complained last week about the discharge and I am still waiting. It is the same matter."
    if names_reference:
        text += f" My reference is {ref}."
    again = complaint("<again-1@example.org>", text, "My complaint about my care", PAT)

    outcome = take(intake, inbox, again, minutes=60)

    assert outcome.outcome in ("new", "threaded")
    if outcome.outcome == "threaded":  # put on the first case: fine, one case
        assert outcome.ref == ref
        return
    new = service.load(outcome.ref or "")
    assert new.related == (ref,), "a second case for the same complainant, linked to nothing"
    handler = actor(config.person("asha-patel"))
    [related] = [p for p in next_prompts(new, handler, NOW + timedelta(hours=1)) if p.id == "related"]
    assert related.choices[0].label == f"Merge it into {ref}"
