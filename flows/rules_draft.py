"""Rules for the joint response, from the draft to the final response (DOMAIN.md section 2, steps 10
and 11): the draft and its versions, the comment round, comments, sharing the draft with the person,
and the final response.

A draft that went out for comment is kept as it was: the lead either keeps it as it is, or records a
revised draft, which is a new version that every contributing organisation signs off afresh. After
a partial response (impasse step 2) a late contribution lets the full response follow it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from flows import commands as c
from flows import events as ev
from flows.calendar import london_date
from flows.drafting import (
    TO_COMPLETE,
    after_partial_response,
    awaiting_sign_off,
    contributors,
    next_version,
    sign_off_waived,
    unwritten,
)
from flows.errors import InvalidCommand
from flows.model import Action, Case, Status
from flows.rules import (
    Out,
    Rule,
    correspondent,
    letterhead,
    long_date,
    organisation,
    require_coordinator,
    require_for_org,
    require_target,
    require_text,
    today,
)
from flows.rules_impasse import ombudsmen_for
from flows.rules_joint import require_contributor


def record_draft(case: Case, cmd: c.RecordDraft, now: datetime) -> Out:
    require_coordinator(case, cmd.actor)
    require_response_outstanding(case)
    require_text(cmd.text, "the draft")
    missing = [s.id for s in case.strands.values() if s.contribution is None]
    if missing:
        raise InvalidCommand(f"contributions still awaited for {', '.join(missing)}", strands=missing)
    return Out(case, cmd.actor.id, now).event(ev.DraftRecorded, text=cmd.text, version=next_version(case))


def comment_round(case: Case, cmd: c.OpenCommentRound, now: datetime) -> Out:
    require_coordinator(case, cmd.actor)
    require_target(cmd.comment_by, now)
    assert case.draft is not None
    _require_written(case.draft.text, "the draft")
    out = Out(case, cmd.actor.id, now).event(ev.CommentRoundOpened, comment_by=cmd.comment_by)
    for org_id in contributors(case):
        out.letter(
            "draft_for_comment",
            organisation(case, org_id),
            to_org_name=case.orgs[org_id].name,
            draft=case.draft.text,
            version=case.draft.version,
            comment_by=long_date(cmd.comment_by),
            **letterhead(case),
        )
    return out


def comment(case: Case, cmd: c.RecordComment, now: datetime) -> Out:
    """A contributing organisation's comments on the draft; they do not sign it off."""
    require_for_org(case, cmd.actor, cmd.org_id)
    require_contributor(case, cmd.org_id)
    require_text(cmd.comment, "the comment")
    out = Out(case, cmd.actor.id, now).event(ev.CommentReceived, org_id=cmd.org_id, comment=cmd.comment)
    if cmd.actor.org_id == cmd.org_id:  # from the organisation itself: the lead reflects it
        out.notify("comment_received", organisation=case.orgs[cmd.org_id].name)
    return out


def keep_draft(case: Case, cmd: c.KeepDraft, now: datetime) -> Out:
    """The lead reads the comments and keeps the draft as it is: the same version is signed off."""
    require_coordinator(case, cmd.actor)
    draft = case.draft
    assert draft is not None, "a case in drafting has a draft"
    if not draft.comments:
        raise InvalidCommand("there are no comments on this draft yet")
    return Out(case, cmd.actor.id, now).event(ev.DraftKept, version=draft.version)


def share_draft(case: Case, cmd: c.ShareDraftWithComplainant, now: datetime) -> Out:
    require_coordinator(case, cmd.actor)
    assert case.draft is not None
    _require_written(case.draft.text, "the draft")
    return (
        Out(case, cmd.actor.id, now)
        .event(ev.DraftShared)
        .letter(
            "draft_to_complainant",
            correspondent(case),
            draft=case.draft.text,
            **letterhead(case),
        )
    )


def final_response(case: Case, cmd: c.SendFinalResponse, now: datetime) -> Out:
    """The joint response, once every contributing organisation signed off the draft (or the impasse
    steps took the place of a missing sign-off), the person saw the draft, and it is known what will
    be done to put things right (reg 14: the action taken or to be taken)."""
    require_coordinator(case, cmd.actor)
    require_text(cmd.body, "the response")
    require_text(cmd.signed_by, "who signs the response")
    _require_written(cmd.body, "the response")
    _require_ready(case, now)
    partial = case.partial_response_at
    return (
        Out(case, cmd.actor.id, now)
        .event(ev.FinalResponseSent, signed_by=cmd.signed_by, signed_role=cmd.signed_role)
        .letter(
            "final_response",
            correspondent(case),
            body=cmd.body,
            signed_by=cmd.signed_by,
            signed_role=cmd.signed_role,
            ombudsmen=[o.value for o in ombudsmen_for(case)],
            organisations=[case.orgs[o].name for o in case.involved],
            actions=listed_actions(case, case.actions.values()),
            no_action=case.no_action_reason,
            partial_response_on=long_date(london_date(partial)) if partial else "",
            **letterhead(case),
        )
    )


def require_response_outstanding(case: Case) -> None:
    """Once the person has their response, nothing more goes into it; a partial response (impasse
    step 2) leaves room for a late contribution and the full response that follows."""
    if case.status is Status.RESPONDED and not after_partial_response(case):
        raise InvalidCommand("the final response has gone: nothing more goes into it")


def listed_actions(case: Case, actions: Iterable[Action]) -> list[dict[str, str]]:
    """Actions as letters list them: who does what, by when, and the evidence once done."""
    return [
        {
            "organisation": case.orgs[a.owner_org].name,
            "description": a.description,
            "due": long_date(a.due),
            "evidence": a.evidence,
        }
        for a in actions
    ]


def _require_written(text: str, what: str) -> None:
    """Nothing goes out with a part only a person can write still marked `TO_COMPLETE`."""
    if unwritten(text):
        raise InvalidCommand(f"{what} still has parts marked '{TO_COMPLETE} ...]': write them first")


def _require_ready(case: Case, now: datetime) -> None:
    draft = case.draft
    assert draft is not None
    missing = awaiting_sign_off(case)
    if missing and not sign_off_waived(case, today(now)):
        raise InvalidCommand(
            "the joint response needs every contributing organisation's sign-off; still to sign off: "
            + ", ".join(case.orgs[o].name for o in missing),
            org_ids=missing,
        )
    if draft.shared_with_complainant_at is None:
        raise InvalidCommand("share the draft with the person before the final response")
    if not case.actions and not case.no_action_reason:
        raise InvalidCommand(
            "the response must say what will be done to put things right: add the actions, "
            "or record why no action is needed",
            field="actions",
        )


DRAFT_RULES: dict[type[c.Command], Rule] = {
    c.RecordDraft: record_draft,
    c.OpenCommentRound: comment_round,
    c.RecordComment: comment,
    c.KeepDraft: keep_draft,
    c.ShareDraftWithComplainant: share_draft,
    c.SendFinalResponse: final_response,
}
