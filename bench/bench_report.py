"""`jointly report` over 50,000 closed cases: ``python -m bench.bench_report``.

Every case is closed and coded, received over three reporting years (April 2023 to March 2026):
a trust-only or a trust + council complaint with an acknowledgement (some late), a response period,
one strand per organisation (some late), sometimes an impasse, a six-month letter or an action,
a draft, a final response, an outcome per organisation, KO41a coding and sometimes an Ombudsman
referral: about 30 events, like a real case. The cases are decided in memory through
`flows.decide` (a few hundred distinct ones, each written many times) and written straight to
stream files (no fsync), like bench_store's seeding.

Measured in a fresh process, as `jointly report` runs: ``open_s`` (the store, from its index
snapshot; the first open after seeding rebuilds the index and is reported as ``rebuild_open_s``),
``load_s`` (every case's report facts read from the index's summaries, `bot.report.load_facts`;
no case file is opened), ``compute_s`` (every figure for the reporting year 2025-26,
`bot.report.compute`), ``render_s`` (CSV and tables) and their total. Target from the issue: the
report in under 5 s at 50,000 cases. ``peak_rss_mb`` is the probe's whole process.
"""

from __future__ import annotations

import io
import json
import logging
import os
import random
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from rich.console import Console

from bench.common import by_size, peak_rss_mb, probed
from bot.config import local_config
from bot.directory import actor, org_ref, system_actor
from bot.report import Scope, compute, load_facts
from bot.report_render import print_tables, to_csv
from bot.service import CaseService
from flows import commands as c
from flows import ko41a
from flows.calendar import add_working_days
from flows.codec import to_plain
from flows.decide import decide
from flows.evolve import fold
from flows.model import Case, Channel, ConsentMethod, LeadCriterion, Ombudsman, OrgRef, Outcome, Person
from flows.summary import summarise
from store import Store
from store.streams import StreamWrite, stream_file

SIZES = (50_000,)
TEMPLATES = 300
FIRST_DAY = date(2023, 4, 3)
DAYS = 3 * 365
TODAY = date(2026, 11, 24)
CONFIG = local_config(Path("var"))
TRUST, COUNCIL = (org_ref(CONFIG, o) for o in ("northshire-trust", "northshire-council"))
HANDLER, COUNCIL_STAFF = (actor(CONFIG.person(p)) for p in ("asha-patel", "lena-okafor"))
SYSTEM = system_actor(CONFIG)


def on(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


Steps = list[tuple[date, c.Command | None]]  # None: the acknowledgement letter goes


def closed_case(rng: random.Random, received: date) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The events and summary of one closed, coded case received on `received`."""
    orgs = (TRUST, COUNCIL) if rng.random() < 0.4 else (TRUST,)
    responded = add_working_days(received, rng.choice((30, 35, 45, 60, 140)))
    steps = (
        _intake(rng, received, orgs) + _plan(rng, received, orgs) + _response(rng, received, responded, orgs)
    )
    return _decide(received, steps)


def _intake(rng: random.Random, received: date, orgs: tuple[OrgRef, ...]) -> Steps:
    person = Person("A Person", "person@example.org")
    steps: Steps = [
        (received, c.ReceiveComplaint(actor=SYSTEM, channel=Channel.EMAIL, received_at=on(received, 9),
                                      complainant=person, home_org=TRUST, subject="Discharge",
                                      text="Discharged without medicines.", message_id="<c@example.org>")),
        (add_working_days(received, rng.choice((0, 1, 1, 2, 3, 5))), None),
        (received, c.IdentifyOrganisations(actor=HANDLER, orgs=orgs)),
    ]  # fmt: skip
    if COUNCIL in orgs:
        lead = c.ProposeLead(
            actor=HANDLER, org_id=TRUST.id, criteria=(LeadCriterion.GREATEST_RESPONSIBILITY,)
        )
        steps += [
            (received, c.RecordConsent(actor=HANDLER, org_ids=(COUNCIL.id,), method=ConsentMethod.PHONE,
                                       given_on=received, capacity_confirmed=True)),
            (received, c.RecordComplainantView(actor=HANDLER, view="No preference given")),
            (received, lead),
            (received, c.RespondToLead(actor=COUNCIL_STAFF, org_id=COUNCIL.id, agrees=True)),
        ]  # fmt: skip
    return steps


def _plan(rng: random.Random, received: date, orgs: tuple[OrgRef, ...]) -> Steps:
    target = add_working_days(received, 20)
    period = c.SetResponsePeriod(
        actor=HANDLER, due=add_working_days(received, 40), agreed_with_complainant=rng.random() < 0.7
    )
    steps: Steps = [
        (received, c.SetNamedContact(actor=HANDLER, name="Asha Patel", email="asha@trust.example")),
        (received, period),
    ]
    for org in orgs:
        steps.append((received, c.AddStrand(actor=HANDLER, org_id=org.id, matters="Its part", target=target)))
    for number, org in enumerate(orgs, 1):
        who = COUNCIL_STAFF if org is COUNCIL else HANDLER
        steps.append((received, c.AgreePlan(actor=who, org_id=org.id)))
        answer = c.RecordContribution(actor=who, strand_id=f"S{number}", summary="What we found.")
        steps.append((add_working_days(target, rng.choice((-2, 0, 0, 1, 4))), answer))
    return steps


def _response(rng: random.Random, received: date, responded: date, orgs: tuple[OrgRef, ...]) -> Steps:
    drafted, closing = add_working_days(responded, -4), add_working_days(responded, 6)
    steps: Steps = []
    if rng.random() < 0.1:
        raised = add_working_days(received, 25)
        impasse = c.RaiseImpasse(
            actor=HANDLER, matter="Remedy", reason="Not agreed", resolve_by=add_working_days(raised, 10)
        )
        resolved = c.ResolveImpasse(actor=HANDLER, resolution="Agreed")
        steps += [(raised, impasse), (add_working_days(raised, rng.randint(1, 4)), resolved)]
    if responded > add_working_days(received, 125):
        delay = c.SendDelayLetter(actor=HANDLER, reasons="Records", expected_by=responded)
        steps.append((add_working_days(received, 120), delay))
    acted = rng.random() < 0.5  # the response says what will be put right: an action, or why none
    if acted:
        what = rng.choice(("Review the checklist", "Train the ward"))
        due = add_working_days(responded, 10)
        steps.append((drafted, c.AddAction(actor=HANDLER, owner_org=TRUST.id, description=what, due=due)))
    else:
        steps.append((drafted, c.RecordNoActionNeeded(actor=HANDLER, reason="nothing needs to change.")))
    steps.append((drafted, c.RecordDraft(actor=HANDLER, text="Dear ...")))
    if COUNCIL in orgs:
        steps.append((drafted, c.OpenCommentRound(actor=HANDLER, comment_by=add_working_days(drafted, 2))))
        steps.append((drafted, c.SignOffDraft(actor=COUNCIL_STAFF, org_id=COUNCIL.id)))
    steps.append((drafted, c.ShareDraftWithComplainant(actor=HANDLER)))
    final = c.SendFinalResponse(actor=HANDLER, body="Our response.", signed_by="Chief", signed_role="CEO")
    steps.append((responded, final))
    if acted:
        done = c.CompleteAction(actor=HANDLER, action_id="A1", evidence="Done")
        steps.append((add_working_days(responded, 5), done))
    for org in orgs:
        outcome = rng.choice(list(Outcome))
        steps.append((closing, c.RecordOutcome(actor=HANDLER, org_id=org.id, outcome=outcome)))
    steps += [(closing, _coding(rng)), (closing, c.CloseCase(actor=HANDLER, outcome=Outcome.PARTLY_UPHELD))]
    if rng.random() < 0.05:
        referral = c.RecordOmbudsmanReferral(actor=HANDLER, org_id=TRUST.id, ombudsman=Ombudsman.PHSO)
        steps.append((add_working_days(closing, 30), referral))
    return steps


def _coding(rng: random.Random) -> c.CodeCase:
    def pick(options: tuple[tuple[str, str], ...], most: int = 1) -> tuple[str, ...]:
        return tuple(rng.sample([code for code, _ in options], rng.randint(1, most)))

    return c.CodeCase(
        actor=HANDLER,
        subjects=pick(ko41a.SUBJECTS, 3),
        service_areas=pick(ko41a.SERVICE_AREAS, 2),
        professions=pick(ko41a.PROFESSIONS, 2),
        age_band=pick(ko41a.AGE_BANDS)[0],
        complainant_status=pick(ko41a.COMPLAINANT_STATUS)[0],
        site="Northshire General",
    )


def _decide(received: date, steps: Steps) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Decide the steps in date order (same-day ones in list order), as the service would."""
    case = Case(ref="JC-000000-AAAA")
    events: list[dict[str, Any]] = []
    for n, (day, step) in enumerate(sorted(steps, key=lambda s: s[0])):
        command = step or c.RecordLetterSent(actor=SYSTEM, key=_ack_key(case), message_id="<ack@example.org>")
        decision = decide(case, command, on(day) + timedelta(seconds=n))
        case = fold(case, decision.events)
        events.extend(to_plain(e) for e in decision.events)
    return events, summarise(case)


def _ack_key(case: Case) -> str:
    return next(k for k, letter in case.letters.items() if letter.template == "acknowledgement")


def seed(root: Path, count: int) -> None:
    streams = root / "store" / "streams"
    streams.mkdir(parents=True)
    rng = random.Random(11)
    days = [FIRST_DAY + timedelta(days=rng.randrange(DAYS)) for _ in range(TEMPLATES)]
    templates = [closed_case(rng, add_working_days(d, 1) if d.weekday() >= 5 else d) for d in days]
    for n in range(count):
        ref = f"JC-{n:06d}-REPT"
        events, summary = templates[n % len(templates)]
        write = StreamWrite(stream_file(streams, ref), ref, durable=False)
        write.add_events(events)
        write.state.summary = {**summary, "ref": ref}
        write.commit()
    os.sync()


def probe(root: Path) -> dict[str, Any]:
    """In a fresh process: the report as `jointly report` computes it, timed step by step."""
    logging.disable(logging.INFO)
    config = local_config(root)
    started = time.perf_counter()
    Store.open(config.store_dir).close()
    rebuild = time.perf_counter() - started
    times: dict[str, float] = {}
    started = time.perf_counter()
    with Store.open(config.store_dir) as store:
        times["open_s"] = time.perf_counter() - started
        cases = load_facts(CaseService(store))
        times["load_s"] = time.perf_counter() - started - sum(times.values())
    scope = Scope.reporting_year(date(2025, 4, 1), "northshire-trust")
    figures = compute(cases, scope, TODAY)
    times["compute_s"] = time.perf_counter() - started - sum(times.values())
    to_csv(figures)
    print_tables(figures, Console(file=io.StringIO(), width=120))
    times["render_s"] = time.perf_counter() - started - sum(times.values())
    total = time.perf_counter() - started
    return {
        "rebuild_open_s": round(rebuild, 2),
        **{k: round(v, 3) for k, v in times.items()},
        "total_s": round(total, 2),
        "cases_loaded": len(cases),
        "cases_in_year": figures["cases"],
        "load_ms_per_case": round(times["load_s"] / max(len(cases), 1) * 1000, 3),
        "peak_rss_mb": peak_rss_mb(),
    }


def measure(count: int) -> dict[str, Any]:
    return {"cases": count, **probed("bench.bench_report", seed, count)}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """The figures as a dict (`python -m bench` prints them with the other benches')."""
    return by_size(argv, __doc__ or "", SIZES, probe, measure, targets)


def targets(results: dict[str, Any]) -> dict[str, Any]:
    if "50000" not in results:
        return {}
    total = results["50000"]["total_s"]
    return {"report_50k_s": {"value": total, "ok": total < 5}}


if __name__ == "__main__":
    print(json.dumps(main(), indent=2))
