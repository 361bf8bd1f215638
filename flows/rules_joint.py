"""Rules from the draft to closure that need every organisation: sign-off of the joint response,
senior managers' answers to an impasse, and each organisation's outcome.

DOMAIN.md section 2, steps 10 to 13.
"""

from __future__ import annotations

from datetime import datetime

from flows import commands as c
from flows import events as ev
from flows.drafting import awaiting_sign_off, contributors
from flows.errors import InvalidCommand
from flows.model import Case
from flows.rules import Out, Rule, require_coordinator, require_for_org, require_involved


def sign_off(case: Case, cmd: c.SignOffDraft, now: datetime) -> Out:
    """A contributing organisation approves the draft: by its own people, or the lead on its behalf."""
    require_for_org(case, cmd.actor, cmd.org_id)
    require_contributor(case, cmd.org_id)
    draft = case.draft
    assert draft is not None, "a case in drafting has a draft"
    if draft.comment_by is None:
        raise InvalidCommand("send the draft for comment before it is signed off")
    if cmd.org_id in draft.signed_off:
        name = case.orgs[cmd.org_id].name
        raise InvalidCommand(f"{name} has already signed off this draft (version {draft.version})")
    out = Out(case, cmd.actor.id, now).event(ev.DraftSignedOff, org_id=cmd.org_id, version=draft.version)
    if awaiting_sign_off(case) == [cmd.org_id]:
        out.notify("draft_signed_off")
    return out


def record_outcome(case: Case, cmd: c.RecordOutcome, now: datetime) -> Out:
    """Whether the complaint was upheld, for one organisation (reg 17, 18): the lead records it."""
    require_coordinator(case, cmd.actor)
    require_involved(case, (cmd.org_id,))
    return Out(case, cmd.actor.id, now).event(ev.OutcomeRecorded, org_id=cmd.org_id, outcome=cmd.outcome)


def require_contributor(case: Case, org_id: str) -> None:
    """Comments on and approval of the joint response come from the organisations contributing to it."""
    if org_id not in contributors(case):
        raise InvalidCommand(
            f"{case.orgs[org_id].name} writes the joint response: comments and sign-off come from the "
            "contributing organisations",
            org_id=org_id,
        )


JOINT_RULES: dict[type[c.Command], Rule] = {
    c.SignOffDraft: sign_off,
    c.RecordOutcome: record_outcome,
}
