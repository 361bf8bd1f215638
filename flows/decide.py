"""`decide(case, command, now)`: the single door through which every change to a case passes.

It checks the move is allowed in the case's status (`flows.moves`), runs the rule for the
command (in `flows.rules_*`), then applies the guards no rule can bypass:

- **consent gate**: an effect that discloses details to another organisation is refused unless
  that organisation's consent is on record once the decision's own events are applied;
- **disclosure log**: each disclosing effect gets a `DisclosureMade` event (what, to whom, on
  which consent, when);
- **letters on the record**: each letter gets a `LetterQueued` event, so the timeline shows it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flows import commands as c
from flows import events as ev
from flows.effects import Effect, SendLetter
from flows.errors import ConsentRequired
from flows.evolve import fold
from flows.model import Case
from flows.moves import check_allowed
from flows.rules import Out, Rule
from flows.rules_clock import CLOCK_RULES
from flows.rules_consent import CONSENT_RULES
from flows.rules_impasse import IMPASSE_RULES
from flows.rules_intake import INTAKE_RULES
from flows.rules_joint import JOINT_RULES
from flows.rules_letters import LETTER_RULES
from flows.rules_meetings import MEETING_RULES
from flows.rules_messages import MESSAGE_RULES
from flows.rules_records import RECORD_RULES
from flows.rules_response import RESPONSE_RULES


@dataclass(frozen=True)
class Decision:
    """What follows from a command: the events, the effects, and the case as the events leave it
    (folded once here, where the consent check needs it, rather than again by every caller)."""

    events: tuple[ev.Event, ...]
    effects: tuple[Effect, ...]
    after: Case


RULES: dict[type[c.Command], Rule] = {
    **INTAKE_RULES,
    **CONSENT_RULES,
    **RESPONSE_RULES,
    **MESSAGE_RULES,
    **CLOCK_RULES,
    **MEETING_RULES,
    **JOINT_RULES,
    **IMPASSE_RULES,
    **RECORD_RULES,
    **LETTER_RULES,
}


def decide(case: Case, command: c.Command, now: datetime) -> Decision:
    """Judge `command` against `case` at `now`; raise a `DomainError` or return what follows."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    check_allowed(command, case.status if case.version else None)
    out = RULES[type(command)](case, command, now)
    return _guard(case, out, now, command.actor.id)


def _guard(case: Case, out: Out, now: datetime, by: str) -> Decision:
    after = fold(case, out.events)
    logged: list[ev.Event] = []
    for effect in out.effects:
        if isinstance(effect, SendLetter):
            logged.append(
                ev.LetterQueued(
                    at=now,
                    by=by,
                    key=effect.key,
                    template=effect.template,
                    to=effect.to.org_id or effect.to.kind.value,
                )
            )
        if effect.discloses_to is None or effect.discloses_to == after.home_org:
            continue
        consent = after.consents.get(effect.discloses_to)
        if not after.consent_active(effect.discloses_to) or consent is None:
            name = after.orgs[effect.discloses_to].name if effect.discloses_to in after.orgs else ""
            raise ConsentRequired(
                f"the complainant's consent to share details with {name or effect.discloses_to} "
                "is not on record",
                org_id=effect.discloses_to,
                effect=effect.key,
            )
        logged.append(
            ev.DisclosureMade(
                at=now,
                by=by,
                org_id=effect.discloses_to,
                what=getattr(effect, "template", type(effect).__name__),
                effect_key=effect.key,
                consent_method=consent.method.value if consent.method else "",
                consent_on=consent.given_on,
            )
        )
    return Decision(events=(*out.events, *logged), effects=tuple(out.effects), after=fold(after, logged))
