"""A letter that may or may not have gone: the handlers are told and asked, and their answer either
sends it again as it was or records it as sent when sending began; it never just disappears."""

from __future__ import annotations

from datetime import timedelta

import pytest

from flows import commands as c
from flows import events as ev
from flows.effects import Notify, SendLetterAgain
from flows.errors import ConsentRequired, Forbidden, InvalidCommand
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

SINCE = NOW - timedelta(minutes=3)  # 09:57 UTC, 09:57 in London in November
MESSAGE_ID = "<ack@jointly.example>"


def in_doubt(run: Run, to: str = "complainant") -> str:
    key = [k for k, letter in run.case.letters.items() if letter.to == to][-1]  # the latest
    run.do(c.RecordLetterInDoubt(actor=SYSTEM, key=key, message_id=MESSAGE_ID, since=SINCE))
    return key


def test_the_handlers_are_told_and_asked_whether_to_resend_or_record_it_as_sent() -> None:
    run = received()
    key = in_doubt(run)

    [told] = run.decisions[-1].effects
    assert isinstance(told, Notify) and told.message == "letter_in_doubt"
    assert told.context | {"ref": ""} == {
        "ref": "",
        "letter": "acknowledgement",
        "to": "the complainant",
        "at": "09:57 on Tuesday 24 November 2026",
    }
    [asked] = [p for p in next_prompts(run.case, H, NOW) if p.id == f"letter_in_doubt:{key}"]
    assert asked.question == (
        "The acknowledgement letter to the complainant may or may not have gone at 09:57 on Tuesday "
        "24 November 2026, when sending it was cut off: resend it, or record it as sent?"
    )
    assert [ch.command for ch in asked.choices] == [
        c.ResendLetter(actor=H, key=key),
        c.ConfirmLetterSent(actor=H, key=key),
    ]
    assert next_prompts(run.case, H, NOW)[0] == asked  # before anything else waiting


def test_resending_queues_the_same_letter_again_once() -> None:
    run = received()
    key = in_doubt(run)

    decision = run.do(c.ResendLetter(actor=H, key=key))

    assert [type(e) for e in decision.events] == [ev.LetterRequeued]
    [again] = decision.effects
    assert isinstance(again, SendLetterAgain)
    assert (again.letter, again.template, again.discloses_to) == (key, "acknowledgement", None)
    assert run.case.letters[key].in_doubt is None
    assert not [p for p in next_prompts(run.case, H, NOW) if p.id.startswith("letter_in_doubt")]
    with pytest.raises(InvalidCommand, match="not waiting for an answer"):
        run.do(c.ResendLetter(actor=H, key=key))


def test_recorded_as_sent_it_went_when_sending_began() -> None:
    run = received()
    key = in_doubt(run)

    run.do(c.ConfirmLetterSent(actor=H, key=key), NOW + timedelta(days=1))

    letter = run.case.letters[key]
    assert (letter.sent_at, letter.message_id, letter.in_doubt) == (SINCE, MESSAGE_ID, None)
    assert run.case.acknowledged_at == SINCE
    assert run.events[-1] == ev.LetterSent(
        at=NOW + timedelta(days=1), by=H.id, key=key, message_id=MESSAGE_ID
    )
    with pytest.raises(InvalidCommand):
        run.do(c.ConfirmLetterSent(actor=H, key=key))


def test_only_the_assistant_puts_a_letter_in_doubt_and_only_the_coordinator_settles_it() -> None:
    run = received()
    [key] = run.case.letters
    with pytest.raises(Forbidden):
        run.do(c.RecordLetterInDoubt(actor=H, key=key, message_id=MESSAGE_ID, since=SINCE))
    in_doubt(run)
    with pytest.raises(Forbidden):
        run.do(c.ResendLetter(actor=COUNCIL_CONTRIBUTOR, key=key))


def test_a_letter_to_an_organisation_is_not_resent_once_consent_is_withdrawn() -> None:
    run = naming_contact()
    key = in_doubt(run, to=COUNCIL.id)  # the proposed lead, sent to the council
    run.do(c.WithdrawConsent(actor=H, org_ids=(COUNCIL.id,)))

    with pytest.raises(ConsentRequired):
        run.do(c.ResendLetter(actor=H, key=key))
    run.do(c.ConfirmLetterSent(actor=H, key=key))  # it may well have gone: the record can say so


def test_a_closed_case_still_asks_about_its_letter_in_doubt_and_nothing_else() -> None:
    run = closed()
    key = in_doubt(run)

    assert [p.id for p in next_prompts(run.case, H, NOW)] == [f"letter_in_doubt:{key}"]
    run.do(c.ResendLetter(actor=H, key=key))
    assert next_prompts(run.case, H, NOW) == []
