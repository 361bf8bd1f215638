"""Consent organisation by organisation, through the real assistant in local mode, day by day.

The daughter writes about her mother and holds lasting power of attorney: yes for the council, no
for the GP practice. The GP practice is never sent anything, from the first question to months of
reminders later; the council and the trust carry on; the letters go to the daughter about her mother.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.config import local_config
from flows.calendar import add_working_days
from flows.model import ConsentState, RepresentativeBasis, Status
from store.store import Store
from tests.bot.support import Clock
from tests.scenarios.coordination import Day

START = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)  # a Monday
TRUST, GP, COUNCIL = "northshire-trust", "riverside-gp", "northshire-council"


@pytest.fixture
async def day(tmp_path: Path) -> AsyncIterator[Day]:
    config = local_config(tmp_path / "var")
    with Store.open(config.store_dir) as store:
        yield Day.local(config, store, Clock(START))


def to_gp(day: Day) -> list[str]:
    """Every letter that went to anyone at the GP practice (its inbox or its people)."""
    return [str(m["Subject"]) for m in day.letters() if "riverside-gp" in str(m["To"]) + str(m["Cc"] or "")]


async def test_yes_for_the_council_no_for_the_gp_with_a_lasting_power_of_attorney(day: Day) -> None:
    ref = await day.email()
    asha = "asha-patel"
    day.answer(ref, asha, "organisations", "Choose the organisations", orgs=[TRUST, GP, COUNCIL])
    day.answer(ref, asha, "consent", "Someone acts for the person: record who and on what authority",
               name="Pat Example", relationship="daughter", basis="lasting_power_of_attorney",
               acts_for="Mrs Edith Marsh", evidence="LPA registered 2023, copy on file")  # fmt: skip
    day.answer(ref, asha, "consent", "Given for some, refused for others", org_ids=[COUNCIL], refused=[GP],
               method="phone", given_on=day.today.isoformat(), capacity_confirmed=False)  # fmt: skip
    case = day.case(ref)
    assert (case.consents[COUNCIL].state, case.consents[GP].state) == (
        ConsentState.GIVEN,
        ConsentState.REFUSED,
    )
    rep = case.representative
    assert rep is not None and rep.basis is RepresentativeBasis.LASTING_POWER_OF_ATTORNEY

    day.answer(ref, asha, "signpost", "Send the signposting letter")
    day.answer(ref, asha, "complainant_view", "Record their view", view="Happy for the hospital to lead")
    day.answer(
        ref, asha, "propose_lead", f"Propose {case.orgs[TRUST].name}", criteria=["greatest_responsibility"]
    )
    day.answer(ref, "lena-okafor", f"lead_answer:{COUNCIL}", "Agree")
    day.answer(ref, asha, "update_every", "Set the update frequency", working_days=10)
    day.answer(ref, asha, "named_contact", "Name the contact", email="asha.patel@northshire-trust.example")
    day.answer(
        ref, asha, "response_period", "Agreed with them", due=add_working_days(day.today, 40).isoformat()
    )
    target = add_working_days(day.today, 10)
    for org in (TRUST, COUNCIL):
        day.answer(ref, asha, "plan", "Add a strand", org_id=org, matters=f"What {org} did",
                   target=target.isoformat())  # fmt: skip
        day.answer(ref, asha, f"plan_agreed:{org}", "Agreed")
    assert day.case(ref).status is Status.INVESTIGATING and day.case(ref).involved == (TRUST, COUNCIL)

    # Two months of the sweep: the council never answers, reminders and overdue letters go out.
    await day.until(add_working_days(target, 40))

    assert to_gp(day) == []  # the practice the person refused: nothing, ever
    council = [m for m in day.letters() if "northshire-council" in str(m["To"])]
    assert any("overdue" in str(m["Subject"]) for m in council)  # the council's part carried on
    to_daughter = [m for m in day.letters() if "pat@example.org" in str(m["To"])]
    signposting = next(m for m in to_daughter if "Who to contact" in str(m["Subject"]))
    body = signposting.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "Dear Pat Example," in body and "on behalf of Mrs Edith Marsh" in body
    assert "Riverside Medical Practice" in body  # how to reach the practice directly
    disclosed = {e.org_id for e in day.events(ref) if type(e).__name__ == "DisclosureMade"}  # type: ignore[attr-defined]
    assert GP not in disclosed and COUNCIL in disclosed


async def test_no_for_the_only_other_organisation_leaves_no_lead_to_agree(day: Day) -> None:
    ref = await day.email()
    asha = "asha-patel"
    day.answer(ref, asha, "organisations", "Choose the organisations", orgs=[TRUST, GP])
    day.answer(ref, asha, "consent", "Consent refused")
    day.answer(ref, asha, "signpost", "Send the signposting letter")

    case = day.case(ref)
    assert case.involved == (TRUST,) and case.lead == TRUST and case.status is Status.NAMING_CONTACT
    assert not {"propose_lead", "complainant_view"} & set(day.asked(ref, asha))  # the record answers both
    assert to_gp(day) == []
