"""Response rules: dates, the plan, the joint response, actions, the impasse ladder, six months."""

from __future__ import annotations

from datetime import date

import pytest

from flows import commands as c
from flows import events as ev
from flows.calendar import add_working_days, six_month_point
from flows.effects import Notify
from flows.errors import InvalidCommand, NotAllowedNow
from flows.model import LeadCriterion, Ombudsman, OrgRef, Outcome, Status
from flows.prompts import next_prompts
from flows.rules_impasse import ombudsmen_for
from tests.flows.builders import (
    BOXING_DAY_SUBSTITUTE,
    CHRISTMAS,
    COUNCIL,
    COUNCIL_CONTRIBUTOR,
    COUNCIL_HANDLER,
    ICB,
    SATURDAY,
    TODAY,
    TRUST,
    H,
    Run,
    agreeing_lead,
    at,
    drafting,
    events_of,
    investigating,
    letters,
    only,
    outcomes_recorded,
    planning,
    received,
    responded,
    working_day,
)

YESTERDAY = date(2026, 11, 23)
SIX_MONTHS = six_month_point(TODAY)  # Sunday 23 May 2027



# --- dates in the plan ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("target", "words"),
    [
        (SATURDAY, "Saturday 28 November 2026 is not a working day"),
        (CHRISTMAS, "not a working day"),
        (BOXING_DAY_SUBSTITUTE, "not a working day"),
        (YESTERDAY, "Monday 23 November 2026 is in the past"),
    ],
)
def test_target_dates_are_working_days_not_past(target: date, words: str) -> None:
    run = planning()
    with pytest.raises(InvalidCommand, match=words):
        run.do(c.AddStrand(actor=H, org_id=COUNCIL.id, matters="Care package", target=target))
    run = investigating()
    with pytest.raises(InvalidCommand, match=words):
        run.do(c.ChangeTargetDate(actor=H, strand_id="S2", target=target, reason="Staff away"))
    with pytest.raises(InvalidCommand, match=words):
        drafting().do(c.OpenCommentRound(actor=H, comment_by=target))


def test_a_target_date_may_be_today_and_its_change_keeps_the_previous_date() -> None:
    run = planning()
    run.do(c.AddStrand(actor=H, org_id=COUNCIL.id, matters="Care package", target=TODAY))
    new = add_working_days(TODAY, 20)
    d = run.do(c.ChangeTargetDate(actor=H, strand_id="S1", target=new, reason="Records awaited"))
    (changed,) = events_of(d, ev.TargetDateChanged)
    assert (changed.previous, changed.target, run.case.strands["S1"].target) == (TODAY, new, new)
    with pytest.raises(InvalidCommand, match="reason"):
        run.do(c.ChangeTargetDate(actor=H, strand_id="S1", target=new, reason=""))


def test_the_plan_needs_strands_and_everyone_s_agreement() -> None:
    run = planning()
    with pytest.raises(InvalidCommand, match="no strands"):
        run.do(c.AgreePlan(actor=H, org_id=TRUST.id))
    run.do(c.AddStrand(actor=H, org_id=TRUST.id, matters="Ward 7", target=add_working_days(TODAY, 5)))
    run.do(c.AgreePlan(actor=COUNCIL_CONTRIBUTOR, org_id=COUNCIL.id))
    assert run.case.status is Status.PLANNING
    run.do(c.RecordPlanDiscussed(actor=H, note="Talked it through with Jo"))
    run.do(c.AgreePlan(actor=H, org_id=TRUST.id))
    assert run.case.status is Status.INVESTIGATING and run.case.plan_discussed_at is not None


@pytest.mark.parametrize("days", [0, 61])
def test_update_frequency_is_a_sensible_number_of_working_days(days: int) -> None:
    with pytest.raises(InvalidCommand, match="between 1 and 60"):
        planning().do(c.SetUpdateFrequency(actor=H, working_days=days))


def test_a_period_agreed_with_the_person_needs_no_letter_and_cannot_be_past() -> None:
    run = planning()
    d = run.do(c.SetResponsePeriod(actor=H, due=add_working_days(TODAY, 30), agreed_with_complainant=True))
    assert not letters(d)
    with pytest.raises(InvalidCommand, match="in the past"):
        run.do(c.SetResponsePeriod(actor=H, due=YESTERDAY, agreed_with_complainant=True))


# --- the joint response ---------------------------------------------------------------------------


def test_no_draft_until_every_strand_has_its_contribution() -> None:
    run = investigating()
    run.do(c.RecordContribution(actor=H, strand_id="S1", summary="Rushed discharge."))
    with pytest.raises(InvalidCommand, match="S2"):
        run.do(c.RecordDraft(actor=H, text="Dear Jo"))


def test_final_response_waits_for_the_sign_off_even_once_the_comment_date_passed() -> None:
    run = drafting()
    comment_by = add_working_days(TODAY, 5)
    run.do(c.OpenCommentRound(actor=H, comment_by=comment_by))
    run.do(c.ShareDraftWithComplainant(actor=H))
    run.do(c.RecordComment(actor=COUNCIL_CONTRIBUTOR, org_id=COUNCIL.id, comment="Add the dates."))
    final = c.SendFinalResponse(actor=H, body="Final.", signed_by="Chris Chief", signed_role="CEO")
    later = at(add_working_days(comment_by, 1))
    with pytest.raises(InvalidCommand, match=COUNCIL.name):  # comments are not a sign-off, nor is time
        run.do(final, now=later)
    run.do(c.SignOffDraft(actor=COUNCIL_CONTRIBUTOR, org_id=COUNCIL.id), now=later)
    run.do(final, now=later)
    assert run.case.status is Status.RESPONDED


def test_final_response_follows_sharing_the_draft_with_the_person() -> None:
    run = drafting()
    run.do(c.OpenCommentRound(actor=H, comment_by=add_working_days(TODAY, 5)))
    run.do(c.SignOffDraft(actor=COUNCIL_CONTRIBUTOR, org_id=COUNCIL.id))
    with pytest.raises(InvalidCommand, match="share the draft"):
        run.do(c.SendFinalResponse(actor=H, body="Final.", signed_by="Chris Chief", signed_role="CEO"))
    with pytest.raises(InvalidCommand, match="signs"):
        run.do(c.SendFinalResponse(actor=H, body="Final.", signed_by="", signed_role="CEO"))


def test_case_closes_only_when_every_action_is_done() -> None:
    run = responded()
    with pytest.raises(InvalidCommand, match="in the past"):
        run.do(c.AddAction(actor=H, owner_org=COUNCIL.id, description="Audit", due=YESTERDAY))
    run.do(c.AddAction(actor=H, owner_org=COUNCIL.id, description="Audit", due=date(2027, 1, 29)))
    run.do(c.RecordLearning(actor=H, text="Check care packages before discharge"))
    close = c.CloseCase(actor=H, outcome=Outcome.UPHELD)
    with pytest.raises(InvalidCommand, match="A1") as caught:
        run.do(close)
    assert caught.value.context["actions"] == ["A1"]
    run.do(c.CompleteAction(actor=COUNCIL_CONTRIBUTOR, action_id="A1", evidence="Audit report"))
    outcomes_recorded(run, Outcome.UPHELD)
    run.do(close)
    assert run.case.status is Status.CLOSED and run.case.learning == ("Check care packages before discharge",)


# --- the impasse ladder -------------------------------------------------------------------------


def disputed() -> Run:
    run = agreeing_lead()
    run.do(c.RecordComplainantView(actor=H, view="No preference given"))
    run.do(c.ProposeLead(actor=H, org_id=COUNCIL.id, criteria=(LeadCriterion.BEST_RELATIONSHIP,)))
    run.do(c.RespondToLead(actor=COUNCIL_CONTRIBUTOR, org_id=COUNCIL.id, agrees=False, reason="Health led"))
    return run


def test_impasse_ladder_senior_managers_then_partial_response_then_ombudsmen() -> None:
    run = disputed()
    resolve_by = add_working_days(TODAY, 5)
    d = run.do(
        c.RaiseImpasse(actor=H, matter="Who leads", reason="Each names the other", resolve_by=resolve_by)
    )
    alerts = [n for n in d.effects if isinstance(n, Notify)]
    assert sorted(n.audience for n in alerts) == ["senior_managers:council", "senior_managers:trust"]
    assert {n.message for n in alerts} == {"impasse_alert"} and len({n.key for n in alerts}) == 2
    with pytest.raises(InvalidCommand, match="already"):
        run.do(c.RaiseImpasse(actor=H, matter="Again", reason="x", resolve_by=resolve_by))
    with pytest.raises(NotAllowedNow):
        run.do(c.SignpostOmbudsman(actor=H))

    partial = c.SendPartialResponse(actor=H, answered="Care", not_possible="Lead", why_no_agreement="Both")
    with pytest.raises(InvalidCommand, match="senior managers have until"):
        run.do(partial, now=at(resolve_by))
    d = run.do(partial, now=at(add_working_days(resolve_by, 1)))
    assert only(letters(d, "partial_response")).context["ombudsmen"] == ["phso", "lgsco"]
    assert run.case.status is Status.RESPONDED and run.case.impasse and run.case.impasse.step == 2

    d = run.do(c.SignpostOmbudsman(actor=H))
    assert only(letters(d, "ombudsman_signpost")).context["ombudsmen"] == ["phso", "lgsco"]
    assert run.case.ombudsmen_signposted == (Ombudsman.PHSO, Ombudsman.LGSCO) and run.case.impasse.step == 3


def test_after_a_partial_response_alone_closing_waits_for_the_ombudsman_signposting() -> None:
    run = disputed()
    resolve_by = add_working_days(TODAY, 5)
    run.do(c.RaiseImpasse(actor=H, matter="Who leads", reason="Each names the other", resolve_by=resolve_by))
    partial = c.SendPartialResponse(actor=H, answered="Care", not_possible="Lead", why_no_agreement="Both")
    later = at(add_working_days(resolve_by, 1))
    run.do(partial, now=later)

    asked = [p.id for p in next_prompts(run.case, H, later)]
    assert "ombudsman" in asked and not [i for i in asked if i.startswith("outcome:")]  # step 3 first

    run.do(c.SignpostOmbudsman(actor=H), now=later)

    assert [i for i in (p.id for p in next_prompts(run.case, H, later)) if i.startswith("outcome:")]


def test_partial_response_needs_an_open_impasse_and_every_part() -> None:
    run = disputed()
    partial = c.SendPartialResponse(actor=H, answered="a", not_possible="b", why_no_agreement="c")
    with pytest.raises(InvalidCommand, match="no unresolved impasse"):
        run.do(partial)
    run.do(c.RaiseImpasse(actor=H, matter="Lead", reason="x", resolve_by=TODAY))
    with pytest.raises(InvalidCommand, match="why agreement"):
        run.do(
            c.SendPartialResponse(actor=H, answered="a", not_possible="b", why_no_agreement=""),
            working_day(1),
        )
    run.do(c.ResolveImpasse(actor=H, resolution="The trust leads"))
    with pytest.raises(InvalidCommand, match="no unresolved impasse"):
        run.do(partial, now=working_day(1))


def test_ombudsman_signposting_follows_only_a_partial_response() -> None:
    with pytest.raises(InvalidCommand, match="partial response"):
        responded().do(c.SignpostOmbudsman(actor=H))


@pytest.mark.parametrize(
    ("home", "orgs", "signposted", "expected"),
    [
        (TRUST, (TRUST,), (), (Ombudsman.PHSO,)),
        (TRUST, (TRUST, ICB), (), (Ombudsman.PHSO,)),
        (TRUST, (TRUST, COUNCIL), (), (Ombudsman.PHSO, Ombudsman.LGSCO)),
        (TRUST, (TRUST, COUNCIL), (COUNCIL.id,), (Ombudsman.PHSO,)),
        (COUNCIL, (COUNCIL,), (), (Ombudsman.LGSCO,)),
    ],
)
def test_ombudsman_follows_the_sectors_involved(
    home: OrgRef, orgs: tuple[OrgRef, ...], signposted: tuple[str, ...], expected: tuple[Ombudsman, ...]
) -> None:
    run = received(home=home)
    handler = H if home is TRUST else COUNCIL_HANDLER
    run.do(c.IdentifyOrganisations(actor=handler, orgs=orgs))
    if signposted:
        run.do(c.RecordConsentRefused(actor=handler, org_ids=signposted))
        run.do(c.Signpost(actor=handler, org_ids=signposted))
    assert ombudsmen_for(run.case) == expected


# --- six months ---------------------------------------------------------------------------------


def test_longer_period_counts_only_if_agreed_before_the_six_month_point() -> None:
    assert date(2027, 5, 23) == SIX_MONTHS
    run = investigating()
    late = date(2027, 5, 24)
    with pytest.raises(InvalidCommand, match="Sunday 23 May 2027"):
        run.do(c.AgreeLongerPeriod(actor=H, until=date(2027, 7, 30), agreed_on=late), now=at(late))
    with pytest.raises(InvalidCommand, match="future"):
        run.do(
            c.AgreeLongerPeriod(actor=H, until=date(2027, 7, 30), agreed_on=date(2027, 5, 21)),
            at(date(2027, 5, 20)),
        )
    with pytest.raises(InvalidCommand, match="must end after"):
        run.do(
            c.AgreeLongerPeriod(actor=H, until=SIX_MONTHS, agreed_on=date(2027, 5, 20)), at(date(2027, 5, 20))
        )
    run.do(
        c.AgreeLongerPeriod(actor=H, until=date(2027, 7, 30), agreed_on=SIX_MONTHS), now=at(date(2027, 5, 24))
    )
    assert (run.case.longer_period_until, run.case.longer_period_agreed_on) == (date(2027, 7, 30), SIX_MONTHS)


def test_delay_letter_explains_and_gives_an_expected_date() -> None:
    run = investigating()
    late = at(date(2027, 5, 25))
    with pytest.raises(InvalidCommand, match="in the past"):
        run.do(c.SendDelayLetter(actor=H, reasons="Records", expected_by=date(2027, 5, 24)), now=late)
    d = run.do(c.SendDelayLetter(actor=H, reasons="Records awaited", expected_by=date(2027, 6, 15)), now=late)
    delay = only(letters(d, "delay"))
    assert (delay.context["expected_by"], delay.context["reasons"]) == (
        "Tuesday 15 June 2027",
        "Records awaited",
    )
    assert run.case.delay_letter_at == late and run.case.status is Status.INVESTIGATING
