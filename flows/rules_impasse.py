"""The impasse ladder (DOMAIN.md section 2, the three steps when the organisations cannot agree):
senior managers alerted and answering for their organisations, then the partial response, then
the Ombudsman signposting.
"""

from __future__ import annotations

from datetime import datetime

from flows import commands as c
from flows import events as ev
from flows.drafting import impasse_answerers
from flows.errors import Forbidden, InvalidCommand
from flows.model import Case, Impasse, Ombudsman, Role, Sector
from flows.rules import (
    Out,
    Rule,
    correspondent,
    letterhead,
    long_date,
    require_coordinator,
    require_involved,
    require_target,
    require_text,
    today,
)


def raise_impasse(case: Case, cmd: c.RaiseImpasse, now: datetime) -> Out:
    require_coordinator(case, cmd.actor)
    require_text(cmd.matter, "what is disputed")
    require_text(cmd.reason, "why agreement was not reached")
    require_target(cmd.resolve_by, now)
    if case.impasse is not None and case.impasse.resolved_at is None:
        raise InvalidCommand("an impasse is already with senior managers")
    out = Out(case, cmd.actor.id, now).event(
        ev.ImpasseRaised, matter=cmd.matter, reason=cmd.reason, resolve_by=cmd.resolve_by
    )
    for org_id in case.involved:
        if not case.consent_active(org_id):
            continue  # consent withdrawn: that organisation hears nothing more of the case
        out.notify(
            "impasse_alert",
            audience=f"senior_managers:{org_id}",
            discloses_to=org_id,
            matter=cmd.matter,
            reason=cmd.reason,
            since=long_date(today(now)),
            resolve_by=long_date(cmd.resolve_by),
        )
    return out


def resolve_impasse(case: Case, cmd: c.ResolveImpasse, now: datetime) -> Out:
    if Role.MANAGER not in cmd.actor.roles or cmd.actor.org_id not in case.involved:
        require_coordinator(case, cmd.actor)
    _open_impasse(case)
    require_text(cmd.resolution, "the outcome")
    return Out(case, cmd.actor.id, now).event(ev.ImpasseResolved, resolution=cmd.resolution)


def answer_impasse(case: Case, cmd: c.AnswerImpasse, now: datetime) -> Out:
    """A senior manager answers for their own organisation, or the lead's handler records the answer
    they gave by phone, email or at a meeting (`how`); the last 'resolved' resolves the impasse.

    A later answer from the same organisation replaces its earlier one."""
    if cmd.how is not None:
        require_coordinator(case, cmd.actor)
    elif Role.MANAGER not in cmd.actor.roles or cmd.actor.org_id != cmd.org_id:
        raise Forbidden(
            "only a senior manager of the organisation answers for it; the lead records an answer they "
            "gave by phone, email or at a meeting",
            actor=cmd.actor.id,
            org_id=cmd.org_id,
        )
    require_involved(case, (cmd.org_id,))
    impasse = _open_impasse(case)
    if cmd.resolved:
        require_text(cmd.outcome, "the outcome")
    out = Out(case, cmd.actor.id, now).event(
        ev.ImpasseAnswered, org_id=cmd.org_id, resolved=cmd.resolved, outcome=cmd.outcome.strip(), how=cmd.how
    )
    outcomes = {o: a.outcome for o, a in impasse.answers.items() if a.resolved}
    outcomes.pop(cmd.org_id, None)
    if cmd.resolved:
        outcomes[cmd.org_id] = cmd.outcome.strip()
    answering = impasse_answerers(case)
    if not all(o in outcomes for o in answering):  # the handlers hear of it unless they recorded it
        return out if cmd.how else out.notify("impasse_answered", organisation=case.orgs[cmd.org_id].name)
    resolution = "\n".join(f"{case.orgs[o].name}: {outcomes[o]}" for o in answering)
    return out.event(ev.ImpasseResolved, resolution=resolution).notify("impasse_resolved")


def partial_response(case: Case, cmd: c.SendPartialResponse, now: datetime) -> Out:
    require_coordinator(case, cmd.actor)
    impasse = _open_impasse(case)
    if case.partial_response_at is not None:
        raise InvalidCommand("the partial response has already gone")
    if today(now) <= impasse.resolve_by:
        raise InvalidCommand(f"senior managers have until {long_date(impasse.resolve_by)}")
    for value, what in (
        (cmd.answered, "what could be answered"),
        (cmd.not_possible, "where and why a full response was not possible"),
        (cmd.why_no_agreement, "why agreement was not reached"),
    ):
        require_text(value, what)
    return (
        Out(case, cmd.actor.id, now)
        .event(ev.PartialResponseSent)
        .letter(
            "partial_response",
            correspondent(case),
            answered=cmd.answered,
            not_possible=cmd.not_possible,
            why_no_agreement=cmd.why_no_agreement,
            ombudsmen=[o.value for o in ombudsmen_for(case)],
            **letterhead(case),
        )
    )


def signpost_ombudsman(case: Case, cmd: c.SignpostOmbudsman, now: datetime) -> Out:
    require_coordinator(case, cmd.actor)
    if case.partial_response_at is None:
        raise InvalidCommand("the Ombudsman signposting follows the partial response (step 2)")
    chosen = ombudsmen_for(case)
    return (
        Out(case, cmd.actor.id, now)
        .event(ev.OmbudsmanSignposted, ombudsmen=chosen)
        .letter(
            "ombudsman_signpost",
            correspondent(case),
            ombudsmen=[o.value for o in chosen],
            **letterhead(case),
        )
    )


def ombudsmen_for(case: Case) -> tuple[Ombudsman, ...]:
    """PHSO for health matters, LGSCO for social care, both when both apply."""
    sectors = {case.orgs[o].sector for o in case.involved}
    chosen = [Ombudsman.PHSO] if Sector.HEALTH in sectors else []
    if Sector.SOCIAL_CARE in sectors:
        chosen.append(Ombudsman.LGSCO)
    return tuple(chosen)


def _open_impasse(case: Case) -> Impasse:
    if case.impasse is None or case.impasse.resolved_at is not None:
        raise InvalidCommand("there is no unresolved impasse on this case")
    return case.impasse


IMPASSE_RULES: dict[type[c.Command], Rule] = {
    c.RaiseImpasse: raise_impasse,
    c.ResolveImpasse: resolve_impasse,
    c.AnswerImpasse: answer_impasse,
    c.SendPartialResponse: partial_response,
    c.SignpostOmbudsman: signpost_ombudsman,
}
