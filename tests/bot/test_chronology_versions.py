"""The chronology's sentences for a senior managers' answer the lead recorded for them, and for the
versions of the draft: which version was written, kept, and approved by each organisation. Events
come from real decisions, as the store keeps them (plain)."""

from __future__ import annotations

from typing import Any

from bot.chronology_words import sentence
from flows import commands as c
from flows import events as ev
from flows.calendar import add_working_days
from flows.codec import to_plain
from flows.model import AnswerChannel
from tests.flows.builders import COUNCIL, COUNCIL_CONTRIBUTOR, COUNCIL_MANAGER, DIRECTORY, TODAY, H, drafting

COMMENT_BY = add_working_days(TODAY, 5)


def read(event: ev.Event) -> str:
    plain: dict[str, Any] = to_plain(event)
    return sentence(plain, lambda o: DIRECTORY[o].name, lambda key: ("letter", key))


def test_an_answer_recorded_for_senior_managers_says_how_they_gave_it_and_that_it_was_recorded() -> None:
    run = drafting()
    run.do(c.RaiseImpasse(actor=H, matter="who pays", reason="Each says the other", resolve_by=COMMENT_BY))
    by_phone = run.do(c.AnswerImpasse(actor=H, org_id=COUNCIL.id, resolved=False, how=AnswerChannel.PHONE))
    own = run.do(c.AnswerImpasse(actor=COUNCIL_MANAGER, org_id=COUNCIL.id, resolved=True, outcome="We pay"))

    (recorded,) = [e for e in by_phone.events if isinstance(e, ev.ImpasseAnswered)]
    assert recorded.by == H.id  # the page's "who" column: the handler who recorded it
    assert read(recorded) == (
        f"Senior manager for {COUNCIL.name} (answered by phone, recorded on their behalf): cannot resolve."
    )
    (answered,) = [e for e in own.events if isinstance(e, ev.ImpasseAnswered)]
    assert read(answered) == f"Senior manager for {COUNCIL.name}: resolved. We pay."


def test_the_versions_of_the_draft_are_named_where_written_kept_and_approved() -> None:
    run = drafting()
    run.do(c.OpenCommentRound(actor=H, comment_by=COMMENT_BY))
    run.do(c.RecordComment(actor=COUNCIL_CONTRIBUTOR, org_id=COUNCIL.id, comment="Add the dates."))
    kept = run.do(c.KeepDraft(actor=H)).events
    revised = run.do(c.RecordDraft(actor=H, text="Dear Jo, with the dates ...")).events
    run.do(c.OpenCommentRound(actor=H, comment_by=COMMENT_BY))
    signed = run.do(c.SignOffDraft(actor=COUNCIL_CONTRIBUTOR, org_id=COUNCIL.id)).events

    first = next(e for d in run.decisions for e in d.events if isinstance(e, ev.DraftRecorded))
    assert read(first) == "Draft response written (version 1)."
    assert read(kept[0]) == "Draft response version 1 kept as it is after the comments on it."
    assert read(revised[0]) == "Draft response written (version 2)."
    assert read(signed[0]) == f"{COUNCIL.name} approved version 2 of the draft response."


def test_a_sign_off_stored_before_drafts_had_versions_reads_as_the_first() -> None:
    stored = {"type": "DraftSignedOff", "at": "2026-11-24T10:00:00+00:00", "by": "x", "org_id": COUNCIL.id}
    assert sentence(stored, lambda o: DIRECTORY[o].name, lambda key: ("letter", key)) == (
        f"{COUNCIL.name} approved version 1 of the draft response."
    )
