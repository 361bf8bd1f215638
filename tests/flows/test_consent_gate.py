"""Nothing identifiable reaches another organisation without its consent on record.

The explicit tests show the gate refusing; the property walks random conversations (the coordinator's
prompted choices mixed with raw consent, lead, pass-on and comment-round commands, some by the wrong
person) and checks every decision `decide` accepts, and on the way that each status change is an edge.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from flows import commands as c
from flows import events as ev
from flows.calendar import add_working_days, london_date
from flows.decide import Decision, decide
from flows.effects import RecipientKind, SendLetter
from flows.errors import ConsentRequired, DomainError, NotAllowedNow
from flows.evolve import fold
from flows.model import Actor, Case, ConsentMethod, ConsentState, LeadCriterion, OrgRef, Role
from flows.moves import EDGES
from flows.prompts import Choice, Field, FieldKind, fill, next_prompts
from tests.flows.builders import (
    COUNCIL,
    COUNCIL_CONTRIBUTOR,
    COUNCIL_HANDLER,
    DIRECTORY,
    ICB,
    ICB_CONTRIBUTOR,
    NOW,
    TODAY,
    TRUST,
    H,
    agreeing_lead,
    consent,
    drafting,
    events_of,
    letters,
    only,
    planning,
    received,
    working_day,
)

# --- the gate refusing ----------------------------------------------------------------------------


def test_no_lead_is_proposed_before_consent() -> None:
    run = received()
    run.do(c.IdentifyOrganisations(actor=H, orgs=(TRUST, COUNCIL)))
    before = run.case
    with pytest.raises(NotAllowedNow, match="awaiting consent"):  # the status gate comes first
        run.do(c.ProposeLead(actor=H, org_id=TRUST.id, criteria=(LeadCriterion.MOST_RESOURCE,)))
    assert run.case is before and len(run.decisions) == 2


def test_no_pass_on_before_consent() -> None:
    run = received()
    run.do(c.IdentifyOrganisations(actor=H, orgs=(COUNCIL, ICB)))
    run.do(consent((COUNCIL.id,)))
    with pytest.raises(ConsentRequired) as caught:
        run.do(c.PassOn(actor=H, org_id=ICB.id))
    assert caught.value.context["org_id"] == ICB.id


def test_no_comment_round_before_consent_for_an_organisation_added_late() -> None:
    run = drafting()
    run.do(c.IdentifyOrganisations(actor=H, orgs=(TRUST, COUNCIL, ICB)))
    before = run.case
    with pytest.raises(ConsentRequired, match=ICB.name) as caught:
        run.do(c.OpenCommentRound(actor=H, comment_by=add_working_days(TODAY, 5)))
    assert caught.value.context["org_id"] == ICB.id and run.case is before


def test_withdrawn_consent_stops_the_comment_round_until_given_again() -> None:
    run = drafting()
    run.do(c.WithdrawConsent(actor=H, org_ids=(COUNCIL.id,), note="no longer wants sharing"))
    comment_round = c.OpenCommentRound(actor=H, comment_by=add_working_days(TODAY, 5))
    with pytest.raises(ConsentRequired) as caught:
        run.do(comment_round)
    assert (
        caught.value.context["org_id"] == COUNCIL.id and run.case.draft and run.case.draft.comment_by is None
    )

    run.do(consent(on=TODAY), now=working_day(1))
    d = run.do(comment_round, now=working_day(1))
    sent = only(letters(d, "draft_for_comment"))
    (disclosure,) = events_of(d, ev.DisclosureMade)
    assert (disclosure.effect_key, disclosure.org_id, disclosure.consent_on) == (sent.key, COUNCIL.id, TODAY)


def test_the_lead_proposal_letter_is_logged_as_a_disclosure_on_the_consent() -> None:
    run = agreeing_lead((TRUST, COUNCIL, ICB))
    run.do(c.RecordComplainantView(actor=H, view="No preference given"))
    d = run.do(c.ProposeLead(actor=H, org_id=TRUST.id, criteria=(LeadCriterion.GREATEST_RESPONSIBILITY,)))
    sent = {e.discloses_to: e.key for e in letters(d, "lead_proposal")}
    logged = {e.org_id: e.effect_key for e in events_of(d, ev.DisclosureMade)}
    assert sent == logged == {COUNCIL.id: sent[COUNCIL.id], ICB.id: sent[ICB.id]}


# --- the property -------------------------------------------------------------------------------

ORGS = (TRUST, COUNCIL, ICB)
IDS = tuple(o.id for o in ORGS)
BYSTANDERS = (COUNCIL_CONTRIBUTOR, COUNCIL_HANDLER, ICB_CONTRIBUTOR)


def coordinator(case: Case) -> Actor:
    return Actor(id=f"{case.coordinator}-lead", org_id=case.coordinator, roles=frozenset({Role.HANDLER}))


def org_subset(case: Case) -> st.SearchStrategy[tuple[OrgRef, ...]]:
    """Any organisations at all, the home one included or not: the core refuses impossible drops."""
    return st.lists(st.sampled_from(ORGS), min_size=1, unique=True).map(
        lambda picked: tuple(o for o in ORGS if o in picked)
    )


def value_for(f: Field, case: Case, today: date) -> st.SearchStrategy[Any]:
    """An answer a person might give: often the suggested default, sometimes something else."""
    other: st.SearchStrategy[Any]
    if f.kind is FieldKind.ORGANISATIONS:  # the transport turns the directory's ids into OrgRefs
        return st.one_of(st.just(tuple(DIRECTORY[o] for o in f.default)), org_subset(case))
    if f.kind is FieldKind.MULTI_CHOICE:  # plain option values, as a transport has them
        other = st.lists(st.sampled_from([v for v, _ in f.options]), min_size=1, unique=True)
    elif f.kind is FieldKind.CHOICE:
        other = st.sampled_from([v for v, _ in f.options])
    elif f.kind is FieldKind.DATE:
        back = f.name in ("given_on", "on")  # facts about the past, the rest are promises
        other = st.integers(-3, 0 if back else 8).map(lambda n: add_working_days(today, n))
    elif f.kind is FieldKind.INT:
        other = st.integers(0, 61)
    elif f.kind is FieldKind.BOOL:
        other = st.booleans()
    else:
        other = st.sampled_from(["Noted.", ""])
    return other if f.default is None else st.one_of(st.just(f.default), other)


@st.composite
def prompted(draw: st.DrawFn, case: Case, now: datetime) -> c.Command | None:
    choices = [ch for p in next_prompts(case, coordinator(case), now) for ch in p.choices]
    if not choices:
        return None
    choice: Choice = draw(st.sampled_from(choices))
    try:
        return fill(choice, {f.name: draw(value_for(f, case, london_date(now))) for f in choice.fields})
    except ValueError:  # an answer that cannot be typed (a time reading "Noted."): not understood
        return None


@st.composite
def raw(draw: st.DrawFn, case: Case, now: datetime) -> c.Command:
    me = coordinator(case)
    who = draw(st.sampled_from((me, me, me, *BYSTANDERS)))
    pool = case.others if case.others and draw(st.booleans()) else IDS
    ids = draw(st.lists(st.sampled_from(pool), min_size=1, unique=True).map(tuple))
    org_id = draw(st.sampled_from(IDS))
    day = add_working_days(london_date(now), draw(st.integers(-1, 5)))
    return draw(
        st.sampled_from(
            [
                c.RecordConsent(
                    actor=who,
                    org_ids=ids,
                    method=ConsentMethod.EMAIL,
                    given_on=min(day, london_date(now)),
                    capacity_confirmed=True,
                ),
                c.WithdrawConsent(actor=who, org_ids=ids),
                c.RecordConsentRefused(actor=who, org_ids=ids),
                c.RecordComplainantView(actor=who, view="No preference given"),
                c.ProposeLead(actor=who, org_id=org_id, criteria=(LeadCriterion.MOST_RESOURCE,)),
                c.PassOn(actor=who, org_id=org_id),
                c.OpenCommentRound(actor=who, comment_by=day),
                c.IdentifyOrganisations(actor=who, orgs=draw(org_subset(case))),
            ]
        )
    )


def assert_consent_gate_held(case: Case, decision: Decision) -> None:
    after = fold(case, decision.events)
    logged = {e.effect_key: e for e in decision.events if isinstance(e, ev.DisclosureMade)}
    for effect in decision.effects:
        if isinstance(effect, SendLetter) and effect.to.kind is RecipientKind.ORGANISATION:
            assert effect.discloses_to == effect.to.org_id, effect
        if effect.discloses_to is None or effect.discloses_to == after.home_org:
            continue
        given = after.consents.get(effect.discloses_to)
        assert given is not None and given.state is ConsentState.GIVEN, effect
        assert effect.key in logged and logged[effect.key].org_id == effect.discloses_to, effect
        event("disclosed " + getattr(effect, "template", ""))
    assert set(logged) <= {e.key for e in decision.effects}


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), steps=st.integers(5, 40))
def test_every_accepted_decision_discloses_only_with_consent(data: st.DataObject, steps: int) -> None:
    start = data.draw(st.sampled_from((received, agreeing_lead, planning, drafting)))
    case, now = start().case, NOW  # later starts reach the comment round in a few steps
    for _ in range(steps):
        now += timedelta(days=data.draw(st.integers(0, 2)))
        command = data.draw(prompted(case, now)) if data.draw(st.integers(0, 2)) else None
        command = command or data.draw(raw(case, now))
        try:
            decision = decide(case, command, now)
        except DomainError:
            continue
        assert_consent_gate_held(case, decision)
        after = fold(case, decision.events)
        moved = (case.status, after.status)
        assert moved[0] is moved[1] or moved in EDGES, f"{type(command).__name__} moved {moved}"
        case = after
    event(f"ended {case.status.value}")
