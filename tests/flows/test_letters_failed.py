"""A letter that could not go (refused for good by the mail server, or bounced): the coordinating
handler is asked to send it again or to record that it went another way, and either answer
settles it; an acknowledgement given another way settles its letter too."""

from __future__ import annotations

import pytest

from flows import commands as c
from flows import events as ev
from flows.effects import SendLetterAgain
from flows.errors import Forbidden, InvalidCommand
from flows.model import ConsentMethod
from flows.prompts import next_prompts
from tests.flows.builders import (
    COUNCIL,
    COUNCIL_CONTRIBUTOR,
    NOW,
    SYSTEM,
    H,
    Run,
    closed,
    naming_contact,
    received,
)

REASON = "the mail server refused the recipient"


def failed(run: Run, to: str = "complainant") -> str:
    key = [k for k, letter in run.case.letters.items() if letter.to == to][-1]  # the latest
    run.do(c.RecordLetterFailed(actor=SYSTEM, key=key, reason=REASON))
    return key


def asked(run: Run) -> list[str]:
    return [p.id for p in next_prompts(run.case, H, NOW) if p.id.startswith("letter_failed:")]


def test_the_coordinator_is_asked_to_send_it_again_or_record_it_went_another_way() -> None:
    run = naming_contact()
    key = failed(run, to=COUNCIL.id)

    [prompt] = [p for p in next_prompts(run.case, H, NOW) if p.id == f"letter_failed:{key}"]
    assert prompt.question == (
        f"The {run.case.letters[key].template.replace('_', ' ')} letter to {COUNCIL.name} could not be "
        f"sent ({REASON}): send it again, or record that it went another way?"
    )
    assert [ch.command for ch in prompt.choices] == [
        c.ResendLetter(actor=H, key=key),
        c.ConfirmLetterSent(actor=H, key=key),
    ]
    contributor = [p.id for p in next_prompts(run.case, COUNCIL_CONTRIBUTOR, NOW)]
    assert not [i for i in contributor if i.startswith("letter_failed:")]  # the coordinator's to settle


def test_sending_it_again_queues_the_same_letter_once_and_a_new_refusal_asks_again() -> None:
    run = naming_contact()
    key = failed(run, to=COUNCIL.id)

    decision = run.do(c.ResendLetter(actor=H, key=key))

    assert [type(e) for e in decision.events] == [ev.LetterRequeued, ev.DisclosureMade]  # logged
    [again] = decision.effects
    assert isinstance(again, SendLetterAgain) and (again.letter, again.discloses_to) == (key, COUNCIL.id)
    assert run.case.letters[key].failed == "" and asked(run) == []
    with pytest.raises(InvalidCommand, match="not waiting for an answer"):
        run.do(c.ResendLetter(actor=H, key=key))
    failed(run, to=COUNCIL.id)
    assert asked(run) == [f"letter_failed:{key}"]


def test_recorded_as_gone_another_way_it_is_sent_and_no_longer_asked() -> None:
    run = naming_contact()
    key = failed(run, to=COUNCIL.id)

    run.do(c.ConfirmLetterSent(actor=H, key=key))

    letter = run.case.letters[key]
    assert (letter.failed, letter.sent_at) == ("", NOW) and asked(run) == []


def test_only_the_coordinator_settles_a_failed_letter() -> None:
    run = received()
    key = failed(run)
    with pytest.raises(Forbidden):
        run.do(c.ResendLetter(actor=COUNCIL_CONTRIBUTOR, key=key))


def test_a_failed_acknowledgement_given_by_phone_is_no_longer_asked_about() -> None:
    run = received()
    key = failed(run)
    ids = [p.id for p in next_prompts(run.case, H, NOW)]
    assert ids.index("acknowledge") < ids.index(f"letter_failed:{key}")  # by phone comes first

    run.do(c.RecordAcknowledgement(actor=H, method=ConsentMethod.PHONE, on=NOW.date()))

    assert asked(run) == []


def test_a_closed_case_still_asks_about_a_letter_that_could_not_go() -> None:
    run = closed()
    key = list(run.case.letters)[-1]
    run.do(c.RecordLetterFailed(actor=SYSTEM, key=key, reason=REASON))

    assert asked(run) == [f"letter_failed:{key}"]
