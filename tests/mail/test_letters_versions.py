"""The draft for comment names its version, and a revised one says it was revised; a full response
after a partial one says it follows it. Rendered with the real templates from real decisions."""

from __future__ import annotations

from flows import commands as c
from flows.calendar import add_working_days
from flows.effects import SendLetter
from mail.letters import RenderedLetter, render_letter
from tests.flows.builders import COUNCIL, COUNCIL_CONTRIBUTOR, TODAY, H, drafting, letters, only
from tests.flows.test_late_contribution import full_draft, late_contribution, partly_responded
from tests.mail.test_letters_flows import as_the_runner_would

COMMENT_BY = add_working_days(TODAY, 5)


def rendered(letter: SendLetter) -> RenderedLetter:
    return render_letter(letter.template, as_the_runner_would(letter.context))


def test_the_first_draft_for_comment_names_its_version() -> None:
    run = drafting()
    letter = rendered(
        only(letters(run.do(c.OpenCommentRound(actor=H, comment_by=COMMENT_BY)), "draft_for_comment"))
    )
    assert letter.subject.startswith("Draft joint response, version 1, for your comments (")
    assert "Below is the draft joint response (version 1)." in letter.text
    assert "approves version 1 of the draft, or with your comments" in letter.text
    assert "revised" not in letter.text


def test_a_revised_draft_for_comment_says_it_was_revised_and_asks_for_approval_again() -> None:
    run = drafting()
    run.do(c.OpenCommentRound(actor=H, comment_by=COMMENT_BY))
    run.do(c.SignOffDraft(actor=COUNCIL_CONTRIBUTOR, org_id=COUNCIL.id))
    run.do(c.RecordDraft(actor=H, text="Dear Jo, with the dates ..."))

    letter = rendered(
        only(letters(run.do(c.OpenCommentRound(actor=H, comment_by=COMMENT_BY)), "draft_for_comment"))
    )

    assert letter.subject.startswith("Draft joint response, version 2, for your comments (")
    assert (
        "Below is version 2 of the draft, revised after the comments on the earlier version." in letter.text
    )
    assert "An approval of an earlier version does not carry over to this one." in letter.text
    assert "The draft, version 2:\n\nDear Jo, with the dates ..." in letter.text


def test_the_full_response_says_it_follows_the_partial_response() -> None:
    run = full_draft(late_contribution(partly_responded()))
    run.do(c.OpenCommentRound(actor=H, comment_by=add_working_days(run.now.date(), 5)))
    run.do(c.SignOffDraft(actor=COUNCIL_CONTRIBUTOR, org_id=COUNCIL.id))
    run.do(c.ShareDraftWithComplainant(actor=H))

    d = run.do(
        c.SendFinalResponse(actor=H, body="We looked again.", signed_by="Chris Chief", signed_role="CEO")
    )

    text = rendered(only(letters(d, "final_response"))).text
    assert (
        "It follows our letter of Monday 30 November 2026, in which we answered your complaint as far as we "
        "could at the time." in text
    )
    assert text.index("This letter is our final response") < text.index("It follows our letter of")
    assert text.index("It follows our letter of") < text.index("We looked again.")
