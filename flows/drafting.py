"""The joint response as the lead writes it: a first draft assembled from the strands, who still has
to sign it off, the step-2 partial response drafted from the case, and the overall outcome.

Everything assembled here is a suggestion the handler edits in a prompt before anything is sent; the
letters' own sentences stay in `mail/templates`. Parts only a person can write are marked with
`TO_COMPLETE`, and nothing (the draft for comment, the draft to the person, the final response)
goes out while one is `unwritten`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date

from flows.model import Case, Outcome, Strand
from flows.rules import long_date

TO_COMPLETE = "[To complete:"
CONCLUSION = (
    f"{TO_COMPLETE} for each part of the complaint, whether it is upheld, and what needs to be put right.]"
)
NO_ACTIONS = f"{TO_COMPLETE} what each organisation will do to put things right, or why nothing needs to be.]"
# A letter's sign-off on a line of its own ("Yours sincerely,", "Kind regards"): the name and title
# lines under it go with it.
_SIGN_OFF = re.compile(
    r"(yours (sincerely|faithfully|truly)|(with )?((kind|best|warm) )?regards|best wishes)\W*", re.IGNORECASE
)
_SIGNATURE_LINES = 6  # a sign-off further up than this is not the letter's end


def unwritten(text: str) -> bool:
    """Does `text` still have a part marked `TO_COMPLETE`, that only a person can write?"""
    return TO_COMPLETE in text


def after_partial_response(case: Case) -> bool:
    """A partial response went (impasse step 2) and the full one has not: late responses are taken,
    and a full joint response may follow."""
    return case.partial_response_at is not None and case.final_response_at is None


def contributors(case: Case) -> list[str]:
    """The organisations that contribute to the joint response: every one involved but the lead."""
    return [o for o in case.involved if o != case.coordinator]


def awaiting_sign_off(case: Case) -> list[str]:
    """Contributing organisations that have not approved the current draft."""
    signed = case.draft.signed_off if case.draft else frozenset()
    return [o for o in contributors(case) if o not in signed]


def next_version(case: Case) -> int:
    """The version a draft recorded now has: a new one once the current draft went out for comment
    (what was sent stays as it was), else the current one, rewritten before anyone saw it."""
    draft = case.draft
    if draft is None:
        return 1
    return draft.version + 1 if draft.comment_by is not None else draft.version


def comments_in(case: Case, today: date) -> bool:
    """Are the comments on the draft in? Every contributing organisation (that may still be sent it)
    commented or signed off, or the date for comments passed with some comments in."""
    draft = case.draft
    if draft is None or draft.comment_by is None or not draft.comments:
        return False
    answering = [o for o in contributors(case) if case.consent_active(o)]
    return today > draft.comment_by or all(o in draft.comments or o in draft.signed_off for o in answering)


def sign_off_waived(case: Case, today: date) -> bool:
    """Have the impasse steps taken the place of a missing sign-off? They have once the partial
    response (step 2) went, or once the senior managers' date passed with the impasse unresolved."""
    if case.partial_response_at is not None:
        return True
    impasse = case.impasse
    return impasse is not None and impasse.resolved_at is None and today > impasse.resolve_by


def impasse_answerers(case: Case) -> list[str]:
    """Organisations whose senior managers answer an impasse: those told of it (consent on record)."""
    return [o for o in case.involved if case.consent_active(o)]


def overall_outcome(outcomes: Iterable[Outcome]) -> Outcome:
    """Upheld only if upheld for every organisation, not upheld only if for none; else partly."""
    found = set(outcomes)
    if found == {Outcome.UPHELD}:
        return Outcome.UPHELD
    if found <= {Outcome.NOT_UPHELD}:
        return Outcome.NOT_UPHELD
    return Outcome.PARTLY_UPHELD


def assemble_draft(case: Case) -> str:
    """An opening, each strand (organisation, matters, findings), a conclusion to write, and what each
    organisation will do to put things right."""
    parts = [_opening(case), *_understanding(case), "How we looked into your complaint"]
    parts.extend(_strand(case, s) for s in case.strands.values())
    parts.extend(["Our conclusions", CONCLUSION, "What each organisation will do to put things right"])
    parts.append(what_will_be_done(case))
    return "\n\n".join(parts)


def _understanding(case: Case) -> list[str]:
    """The complaint and the outcomes wanted, as agreed with the person, when they were recorded."""
    if not case.shared_understanding:
        return []
    return [
        "Your complaint as we agreed it with you",
        case.shared_understanding,
        f"You told us you would like:\n{case.outcomes_wanted}",
    ]


def what_will_be_done(case: Case) -> str:
    """The draft's last part: each action with its owner and date, else why none is needed, else
    `NO_ACTIONS` for the lead to write."""
    if case.actions:
        return "\n".join(
            f"- {case.orgs[a.owner_org].name}: {a.description}, by {long_date(a.due)}."
            for a in case.actions.values()
        )
    if case.no_action_reason:
        return f"No action is needed, because {case.no_action_reason}"
    return NO_ACTIONS


def partial_response_draft(case: Case) -> dict[str, str]:
    """The three parts of the step-2 letter, drafted from the strands, the impasse and the answers."""
    impasse = case.impasse
    assert impasse is not None, "a partial response follows an impasse"
    answered = [
        f"{_name(case, s.org_id)} looked into {s.matters}. "
        f"It found: {_quoted(s.contribution.summary, _name(case, s.org_id))}"
        for s in case.strands.values()
        if s.contribution is not None
    ]
    not_possible = [
        "We could not give you a full response, because of something the organisations have not been "
        f"able to resolve between them: {impasse.matter.strip().rstrip('.')}."
    ]
    for s in case.strands.values():
        if s.org_id not in case.plan_agreed_by:
            not_possible.append(f"{_name(case, s.org_id)} did not agree to look into {s.matters}.")
        elif s.contribution is None:
            not_possible.append(f"{_name(case, s.org_id)} has not given its findings on {s.matters}.")
    why = [impasse.reason.strip()]
    for org_id in impasse_answerers(case):
        answer = impasse.answers.get(org_id)
        managers = f"{_name(case, org_id)}'s senior managers"
        if answer is None:
            why.append(f"{managers} gave no answer by {long_date(impasse.resolve_by)}.")
        elif answer.resolved:
            why.append(f"{managers} proposed: {answer.outcome}")
        else:
            why.append(f"{managers} could not resolve it.")
    return {
        "answered": "\n\n".join(answered),
        "not_possible": "\n\n".join(not_possible),
        "why_no_agreement": "\n\n".join(why),
    }


def _opening(case: Case) -> str:
    received = f"Thank you for your complaint, which we received on {long_date(case.received_on)}."
    if len(case.involved) < 2:
        return f"{received} This letter sets out how we looked into it, what we found and what we will do."
    names = [_name(case, o) for o in case.involved]
    together = ", ".join(names[:-1]) + " and " + names[-1]
    return (
        f"{received} It is about the services of more than one organisation, so {together} agreed to "
        f"look into it together, with {_name(case, case.coordinator)} leading, so that you receive one "
        "response from all of us. This letter sets out what each organisation looked into and found, "
        "our conclusions, and what each organisation will do to put things right."
    )


def _strand(case: Case, strand: Strand) -> str:
    name, contribution = _name(case, strand.org_id), strand.contribution
    found = _quoted(contribution.summary, name) if contribution else f"{TO_COMPLETE} its findings.]"
    return f"{name}\nWhat it looked into: {strand.matters}\nWhat it found: {found}"


def _quoted(contribution: str, org_name: str) -> str:
    """A contribution as our letter quotes it: without its own heading ("Response from ...", "Re: ...",
    the organisation's name, on a line of its own) or its sign-off and signature, which are its letter's,
    not ours."""
    lines = contribution.strip().splitlines()
    first = lines[0].strip().casefold() if lines else ""
    named = first.startswith(("re:", "response")) or org_name.casefold() in first
    if named and len(lines) > 2 and not lines[1].strip() and not first.endswith((".", "!", "?")):
        lines = lines[2:]
    ends = [i for i, line in enumerate(lines) if _SIGN_OFF.fullmatch(line.strip())]
    if ends and len(lines) - ends[-1] <= _SIGNATURE_LINES:
        lines = lines[: ends[-1]]
    return "\n".join(lines).strip()


def _name(case: Case, org_id: str) -> str:
    return case.orgs[org_id].name
