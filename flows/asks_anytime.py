"""What a coordinating handler may do on a case at any time, asked or not: consent arriving later
for one organisation, consent withdrawn, who acts for the person, an impasse raised, a longer
response period agreed with the person before the six months end.

These are not questions waiting for an answer (a case with nothing to ask has an empty queue);
they are the case's menu. Each front offers it beside the case's questions ("more" in the
terminal, a "More actions" button on a chat's case card), and `flows.prompts.answerable` lets an answer to any
of them through, still judged in full by `flows.decide`.
"""

from __future__ import annotations

from datetime import date

from flows import commands as c
from flows.asks_clock import impasse_choice
from flows.asks_consent import consent_fields, representative_choice
from flows.calendar import add_working_days, six_month_point
from flows.conversation import Choice, Field, FieldKind, Prompt
from flows.model import Actor, Case, ConsentMethod, Status
from flows.moves import ALLOWED
from flows.rules import long_date


def anytime(case: Case, actor: Actor, today: date) -> list[Prompt]:
    """The case's menu for its coordinating handler (empty once it is closed)."""
    status = case.status
    if status is Status.CLOSED or not case.orgs_identified:
        return []
    choices: list[Choice] = []
    if status in ALLOWED[c.RecordConsent]:
        choices.extend(_consent_later(case, actor, today))
    choices.extend(_withdraw(case, actor))
    choices.append(representative_choice(case, actor))
    impasse = case.impasse
    if status in ALLOWED[c.RaiseImpasse] and (impasse is None or impasse.resolved_at is not None):
        choices.append(impasse_choice(actor, today))
    choices.extend(_longer_period(case, actor, today))
    return [Prompt("anytime", "What would you like to do on this case?", tuple(choices))]


def _consent_later(case: Case, actor: Actor, today: date) -> list[Choice]:
    """Consent that arrives (or is refused) later, for one organisation or several."""
    pending = tuple(o for o in case.others if not case.consent_active(o))
    if not pending:
        return []
    pick = Field("org_ids", "For", FieldKind.MULTI_CHOICE, options=_options(case, pending), default=())
    cmd = c.RecordConsent(
        actor=actor, org_ids=(), method=ConsentMethod.PHONE, given_on=today, capacity_confirmed=True
    )
    note = Field("note", "Anything to add", FieldKind.TEXT, required=False, default="")
    return [
        Choice("Record consent given for an organisation", cmd, (pick, *consent_fields(case, today))),
        Choice(
            "Record consent refused for an organisation",
            c.RecordConsentRefused(actor=actor, org_ids=()),
            (pick, note),
        ),
    ]


def _longer_period(case: Case, actor: Actor, today: date) -> list[Choice]:
    """A longer period for the response, agreed with the person before the six-month point (after
    it, the law asks for the delay letter instead: `flows.asks_response.overdue`)."""
    point = six_month_point(case.received_on)
    if case.status not in ALLOWED[c.AgreeLongerPeriod] or today > point or case.longer_period_until:
        return []
    fields = (
        Field("until", "Response by", FieldKind.DATE, default=add_working_days(point, 20)),
        Field("agreed_on", "Agreed with them on", FieldKind.DATE, default=today),
    )
    cmd = c.AgreeLongerPeriod(actor=actor, until=today, agreed_on=today)
    return [Choice(f"Record a longer period agreed with the person (beyond {long_date(point)})", cmd, fields)]


def _withdraw(case: Case, actor: Actor) -> list[Choice]:
    given = tuple(o for o in case.others if case.consent_active(o))
    if not given:
        return []
    fields = (
        Field("org_ids", "Withdrawn for", FieldKind.MULTI_CHOICE, options=_options(case, given), default=()),
        Field("note", "What the person said", FieldKind.TEXT, long=True, required=False, default=""),
    )
    return [
        Choice(
            "The person withdrew consent for an organisation",
            c.WithdrawConsent(actor=actor, org_ids=()),
            fields,
        )
    ]


def _options(case: Case, org_ids: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    return tuple((o, case.orgs[o].name) for o in org_ids)
