"""The final response and the learning as their readers get them: rendered with the real templates
from the letters real decisions queue."""

from __future__ import annotations

from flows import commands as c
from flows.effects import SendLetter
from mail.letters import RenderedLetter, render_letter
from tests.flows.builders import COUNCIL, PERSON, H, letters, only, responded
from tests.mail.test_letters_flows import as_the_runner_would


def rendered(letter: SendLetter) -> RenderedLetter:
    return render_letter(letter.template, as_the_runner_would(letter.context))


def test_a_final_response_with_no_action_says_plainly_why_none_is_needed() -> None:
    run = responded()  # no action: the builder records why none is needed
    final = next(e for e in run.effects if isinstance(e, SendLetter) and e.template == "final_response")

    text = rendered(final).text

    assert (
        "What will be done to put things right\n\n"
        "No action is needed, because the referral process has since been replaced.\n"
    ) in text
    assert text.index("No action is needed") < text.index("This is our final response.")


def test_the_learning_letter_gives_the_organisation_the_learning_and_nothing_of_the_person() -> None:
    run = responded()

    d = run.do(c.RecordLearning(actor=H, text="Referrals for home care are now confirmed on the day."))

    letter = rendered(only(letters(d, "learning_shared")))
    assert f"Dear {COUNCIL.name} complaints team," in letter.text
    assert "Referrals for home care are now confirmed on the day." in letter.text
    assert PERSON.name not in letter.text and PERSON.name not in letter.subject
