"""`jointly report`: the figures over a fixture set of real cases, built through the case service
with real commands at explicit times, each expected figure worked out by hand below; and the
command as a person runs it (`--format json`, `csv`, the tables) and `jointly referral`.

The cases (reporting year 1 April 2025 to 31 March 2026; "today" is Tue 31 March 2026):

    A  JC-250417-AAAA  trust + council, Thu 17 Apr (Easter next day): acknowledged Thu 24 Apr, the
                       last day; council's response 3 working days late; answered in time; upheld
                       for the trust, partly for the council; coded; closed; later LGSCO (council)
    B  JC-250523-BBBB  trust, GP signposted, Fri 23 May (bank holiday Mon 26): acknowledged
                       29 May 23:30 UTC, which is Fri 30 May in London: late; trust 4 working days
                       late; answered after the period set, within six months; not upheld; closed
    C  JC-250602-CCCC  trust + council: council never responds; impasse to step 3 (partial
                       response, Ombudsmen signposted); PHSO (trust) and LGSCO (council); open
    D  JC-250707-DDDD  trust + council: impasse resolved in 3 working days; no response by the
                       six-month point (6 Jan 2026) and no six-month letter; open
    E  JC-250602-EEEE  trust: six-month letter, then answered after the point (1 Dec); closed
    F  JC-251006-FFFF  about Meadowbank only: passed on to it, so counted for Meadowbank, not us
    G  JC-251224-GGGG  Wed 24 Dec: acknowledged Wed 31 Dec, the last day; open, 66 working days old
    H  JC-260302-HHHH  trust + council, awaiting consent; open, 21 working days old
    I  JC-260330-IIII  not acknowledged, due Thu 2 Apr: not late yet; open, 1 working day old
    J  JC-260310-JJJJ  merged into H: left out
    K  JC-250320-KKKK  received before the year: only in the open cases by age (>130)
    L  JC-251103-LLLL  by phone, resolved informally the next day (reg 8): left out
"""

from __future__ import annotations

import csv
import io
import json
import shutil
from collections.abc import Iterator, Mapping
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

import pytest

from bot.config import Config, local_config
from bot.directory import actor, org_ref, system_actor
from bot.report import Scope, compute, load_facts
from bot.report_render import rows, to_csv
from bot.service import CaseService
from flows import commands as c
from flows.calendar import LONDON
from flows.model import Channel, ConsentMethod, LeadCriterion, Ombudsman, OrgRef, Outcome, Person
from store.errors import StoreCorrupt
from store.store import Store
from store.streams import StreamWrite, stream_file
from tests.bot.test_cli import jointly

TRUST, COUNCIL, GP, CARE_HOME = "northshire-trust", "northshire-council", "riverside-gp", "meadowbank"
TODAY = date(2026, 3, 31)
YEAR = (date(2025, 4, 1), date(2026, 3, 31))


def at(day: str, clock: str = "10:00") -> datetime:
    """A London wall-clock time."""
    return datetime.combine(date.fromisoformat(day), time.fromisoformat(clock), tzinfo=LONDON)


class Desk:
    """The complaints team at work: every command through the case service, at a given time."""

    def __init__(self, service: CaseService, config: Config) -> None:
        self.service, self.config = service, config
        self.handler = actor(config.person("asha-patel"))
        self.council = actor(config.person("lena-okafor"))
        self.system = system_actor(config)

    def org(self, org_id: str) -> OrgRef:
        return org_ref(self.config, org_id)

    def do(self, ref: str, when: datetime, *commands: c.Command) -> None:
        for command in commands:
            self.service.execute(ref, command, when)

    def receive(self, ref: str, when: datetime, channel: Channel = Channel.EMAIL) -> None:
        by = self.handler if channel is Channel.PHONE else self.system
        person = Person(name="Pat Example", email=f"{ref.lower()}@example.org")
        self.do(ref, when, c.ReceiveComplaint(
            actor=by, channel=channel, received_at=when, complainant=person, home_org=self.org(TRUST),
            subject="A complaint", text="The discharge went badly.", message_id=f"<{ref}@example.org>",
        ))  # fmt: skip

    def acknowledge(self, ref: str, when: datetime) -> None:
        [key] = [
            k for k, letter in self.service.load(ref).letters.items() if letter.template == "acknowledgement"
        ]
        self.do(ref, when, c.RecordLetterSent(actor=self.system, key=key, message_id=f"<ack-{ref}@x>"))

    def joint(self, ref: str, when: datetime) -> None:
        """Trust and council, consent given, the trust leads, a named contact."""
        h = self.handler
        self.do(
            ref,
            when,
            c.IdentifyOrganisations(actor=h, orgs=(self.org(TRUST), self.org(COUNCIL))),
            c.RecordConsent(actor=h, org_ids=(COUNCIL,), method=ConsentMethod.PHONE,
                            given_on=when.date(), capacity_confirmed=True),
            c.RecordComplainantView(actor=h, view="No preference given"),
            c.ProposeLead(actor=h, org_id=TRUST, criteria=(LeadCriterion.GREATEST_RESPONSIBILITY,)),
            c.RespondToLead(actor=self.council, org_id=COUNCIL, agrees=True),
            c.SetNamedContact(actor=h, name="Asha Patel", email="asha.patel@northshire-trust.example"),
        )  # fmt: skip

    def trust_only(self, ref: str, when: datetime) -> None:
        h = self.handler
        contact = c.SetNamedContact(actor=h, name="Asha Patel", email="asha.patel@northshire-trust.example")
        self.do(ref, when, c.IdentifyOrganisations(actor=h, orgs=(self.org(TRUST),)), contact)

    def strands(self, ref: str, when: datetime, target: str, *orgs: str) -> None:
        for org in orgs:
            self.do(ref, when, c.AddStrand(actor=self.handler, org_id=org, matters="Its part",
                                           target=date.fromisoformat(target)))  # fmt: skip
        for org in orgs:
            self.do(
                ref, when, c.AgreePlan(actor=self.council if org == COUNCIL else self.handler, org_id=org)
            )

    def contribution(self, ref: str, when: datetime, strand: str, org: str) -> None:
        by = self.council if org == COUNCIL else self.handler
        self.do(ref, when, c.RecordContribution(actor=by, strand_id=strand, summary="Our findings."))

    def draft_and_share(self, ref: str, when: datetime) -> None:
        h = self.handler
        self.do(ref, when, c.RecordDraft(actor=h, text="Dear Pat, ..."), c.ShareDraftWithComplainant(actor=h))

    def respond(self, ref: str, when: datetime, done: datetime, action: str) -> None:
        """The final response promises `action`, which is done by `done`."""
        self.do(
            ref,
            when,
            c.AddAction(actor=self.handler, owner_org=TRUST, description=action, due=done.date()),
            c.SendFinalResponse(actor=self.handler, body="Final.", signed_by="Chief", signed_role="CEO"),
        )
        action_id = f"A{len(self.service.load(ref).actions)}"
        self.do(ref, done, c.CompleteAction(actor=self.handler, action_id=action_id, evidence="Done."))

    def code_and_close(self, ref: str, when: datetime, outcomes: dict[str, Outcome], overall: Outcome,
                       **coding: Any) -> None:  # fmt: skip
        for org, outcome in outcomes.items():
            self.do(ref, when, c.RecordOutcome(actor=self.handler, org_id=org, outcome=outcome))
        self.do(
            ref,
            when,
            c.CodeCase(actor=self.handler, **coding),
            c.CloseCase(actor=self.handler, outcome=overall),
        )


def build(desk: Desk) -> None:
    h = desk.handler
    case_a(desk)
    case_b(desk)
    case_c(desk)
    case_d(desk)
    case_e(desk)

    desk.receive("JC-251006-FFFF", at("2025-10-06"))
    desk.acknowledge("JC-251006-FFFF", at("2025-10-06", "11:00"))
    desk.do("JC-251006-FFFF", at("2025-10-07"),
            c.IdentifyOrganisations(actor=h, orgs=(desk.org(CARE_HOME),)),
            c.RecordConsent(actor=h, org_ids=(CARE_HOME,), method=ConsentMethod.PHONE,
                            given_on=date(2025, 10, 7), capacity_confirmed=True),
            c.PassOn(actor=h, org_id=CARE_HOME),
            c.CodeCase(actor=h, subjects=("clinical/care",), service_areas=("social_care",),
                       professions=("social_work",), age_band="85+",
                       complainant_status="on_behalf"))  # fmt: skip

    desk.receive("JC-251224-GGGG", at("2025-12-24", "12:00"))
    desk.acknowledge("JC-251224-GGGG", at("2025-12-31", "15:00"))
    desk.trust_only("JC-251224-GGGG", at("2025-12-31", "15:00"))

    desk.receive("JC-260302-HHHH", at("2026-03-02"))
    desk.acknowledge("JC-260302-HHHH", at("2026-03-02", "11:00"))
    desk.do("JC-260302-HHHH", at("2026-03-03"),
            c.IdentifyOrganisations(actor=h, orgs=(desk.org(TRUST), desk.org(COUNCIL))))  # fmt: skip

    desk.receive("JC-260330-IIII", at("2026-03-30"))

    desk.receive("JC-260310-JJJJ", at("2026-03-10"))
    desk.do("JC-260310-JJJJ", at("2026-03-10", "12:00"), c.MergeInto(actor=h, target="JC-260302-HHHH"))

    desk.receive("JC-250320-KKKK", at("2025-03-20"))
    desk.acknowledge("JC-250320-KKKK", at("2025-03-20", "11:00"))
    desk.trust_only("JC-250320-KKKK", at("2025-03-21"))

    desk.receive("JC-251103-LLLL", at("2025-11-03"), Channel.PHONE)
    desk.do("JC-251103-LLLL", at("2025-11-04"), c.ResolveInformally(actor=h, note="Explained on the phone."))


def case_a(desk: Desk) -> None:
    ref, h = "JC-250417-AAAA", desk.handler
    desk.receive(ref, at("2025-04-17", "11:00"))
    desk.acknowledge(ref, at("2025-04-24", "16:00"))
    desk.joint(ref, at("2025-04-17", "12:00"))
    desk.do(ref, at("2025-04-17", "12:00"),
            c.SetResponsePeriod(actor=h, due=date(2025, 7, 31), agreed_with_complainant=True))  # fmt: skip
    desk.strands(ref, at("2025-04-17", "12:00"), "2025-05-30", TRUST, COUNCIL)
    desk.contribution(ref, at("2025-05-29"), "S1", TRUST)
    desk.contribution(ref, at("2025-06-04"), "S2", COUNCIL)
    desk.do(ref, at("2025-06-10"), c.RecordDraft(actor=h, text="Dear Pat, ..."),
            c.OpenCommentRound(actor=h, comment_by=date(2025, 6, 17)))  # fmt: skip
    desk.do(ref, at("2025-06-12"), c.SignOffDraft(actor=desk.council, org_id=COUNCIL))
    desk.do(ref, at("2025-06-13"), c.ShareDraftWithComplainant(actor=h))
    desk.respond(ref, at("2025-06-20"), at("2025-07-15"), "Review the discharge checklist")
    desk.code_and_close(
        ref, at("2025-07-16"), {TRUST: Outcome.UPHELD, COUNCIL: Outcome.PARTLY_UPHELD}, Outcome.PARTLY_UPHELD,
        subjects=("admissions", "care_package"), service_areas=("acute", "social_care"),
        professions=("nursing", "social_work"), age_band="85+", complainant_status="on_behalf",
        site="Northshire General",
    )  # fmt: skip
    desk.do(
        ref, at("2025-09-01"), c.RecordOmbudsmanReferral(actor=h, org_id=COUNCIL, ombudsman=Ombudsman.LGSCO)
    )


def case_b(desk: Desk) -> None:
    ref, h = "JC-250523-BBBB", desk.handler
    desk.receive(ref, at("2025-05-23", "15:00"))
    desk.acknowledge(ref, datetime(2025, 5, 29, 23, 30, tzinfo=UTC))
    desk.do(ref, at("2025-05-30"),
            c.IdentifyOrganisations(actor=h, orgs=(desk.org(TRUST), desk.org(GP))),
            c.Signpost(actor=h, org_ids=(GP,)),  # the trust is left alone, so it leads
            c.SetNamedContact(actor=h, name="Asha Patel", email="asha.patel@northshire-trust.example"),
            c.SetResponsePeriod(actor=h, due=date(2025, 7, 25), agreed_with_complainant=False))  # fmt: skip
    desk.strands(ref, at("2025-05-30"), "2025-07-04", TRUST)
    desk.contribution(ref, at("2025-07-10"), "S1", TRUST)
    desk.draft_and_share(ref, at("2025-07-21"))
    desk.respond(ref, at("2025-08-01"), at("2025-08-20"), "review the  Discharge checklist")
    desk.code_and_close(
        ref, at("2025-08-20"), {TRUST: Outcome.NOT_UPHELD}, Outcome.NOT_UPHELD,
        subjects=("communication", "clinical/diagnosis"), service_areas=("acute",), professions=("medical",),
        age_band="16-64", complainant_status="patient",
    )  # fmt: skip


def case_c(desk: Desk) -> None:
    ref, h = "JC-250602-CCCC", desk.handler
    desk.receive(ref, at("2025-06-02", "09:00"))
    desk.acknowledge(ref, at("2025-06-02"))
    desk.joint(ref, at("2025-06-02", "11:00"))
    desk.strands(ref, at("2025-06-02", "11:00"), "2025-07-11", TRUST, COUNCIL)
    desk.contribution(ref, at("2025-07-11"), "S1", TRUST)
    desk.do(ref, at("2025-07-21"), c.RaiseImpasse(actor=h, matter="Remedy", reason="No answer",
                                                  resolve_by=date(2025, 8, 1)))  # fmt: skip
    desk.do(ref, at("2025-08-05"), c.SendPartialResponse(actor=h, answered="Discharge", not_possible="Care",
                                                         why_no_agreement="No answer"))  # fmt: skip
    desk.do(ref, at("2025-08-06"), c.SignpostOmbudsman(actor=h))
    desk.do(ref, at("2025-10-01"),
            c.RecordOmbudsmanReferral(actor=h, org_id=TRUST, ombudsman=Ombudsman.PHSO),
            c.RecordOmbudsmanReferral(actor=h, org_id=COUNCIL, ombudsman=Ombudsman.LGSCO))  # fmt: skip


def case_d(desk: Desk) -> None:
    ref, h = "JC-250707-DDDD", desk.handler
    desk.receive(ref, at("2025-07-07"))
    desk.acknowledge(ref, at("2025-07-07", "11:00"))
    desk.joint(ref, at("2025-07-07", "12:00"))
    desk.do(ref, at("2025-07-21"), c.RaiseImpasse(actor=h, matter="Lead", reason="Disputed",
                                                  resolve_by=date(2025, 8, 1)))  # fmt: skip
    desk.do(ref, at("2025-07-24"), c.ResolveImpasse(actor=h, resolution="Agreed at the meeting."))


def case_e(desk: Desk) -> None:
    ref, h = "JC-250602-EEEE", desk.handler
    desk.receive(ref, at("2025-06-02", "14:00"))
    desk.acknowledge(ref, at("2025-06-03"))
    desk.trust_only(ref, at("2025-06-03"))
    desk.do(ref, at("2025-06-03"),
            c.SetResponsePeriod(actor=h, due=date(2025, 9, 30), agreed_with_complainant=True))  # fmt: skip
    desk.strands(ref, at("2025-06-03"), "2025-09-12", TRUST)
    desk.contribution(ref, at("2025-09-12"), "S1", TRUST)
    desk.do(
        ref, at("2025-11-28"), c.SendDelayLetter(actor=h, reasons="Records", expected_by=date(2025, 12, 12))
    )
    desk.draft_and_share(ref, at("2025-12-05"))
    desk.respond(ref, at("2025-12-10"), at("2025-12-12"), "Share the learning with Ward 7")
    desk.code_and_close(
        ref, at("2025-12-12"), {TRUST: Outcome.PARTLY_UPHELD}, Outcome.PARTLY_UPHELD,
        subjects=("communication",), service_areas=("community",), professions=("nursing",),
        age_band="65-84", complainant_status="patient",
    )  # fmt: skip


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory whose var/ holds the fixture cases (read only: tests that write use a copy)."""
    where = tmp_path_factory.mktemp("report")
    config = local_config(where / "var")
    with Store.open(config.store_dir) as store:
        build(Desk(CaseService(store), config))
    return where


def figures(where: Path, org: str | None = None) -> dict[str, Any]:
    return compute(facts_of(where), Scope(*YEAR, home_org=TRUST, org=org), TODAY)


def facts_of(where: Path, *, without_case_files: bool = False) -> list[Mapping[str, Any]]:
    """The report's facts from `where`'s store; `without_case_files` deletes the case files once the
    store is open (its index stays in memory), so a report that opened one would fail."""
    config = local_config(where / "var")
    with Store.open(config.store_dir) as store:
        if without_case_files:
            for path in (config.store_dir / "streams").glob("JC-*.json"):
                path.unlink()
        return load_facts(CaseService(store))


@pytest.fixture(scope="module")
def report(built: Path) -> dict[str, Any]:
    return figures(built)


def counts(items: list[dict[str, Any]], key: str = "code") -> dict[str, int]:
    """The non-zero counts of a coded list."""
    return {item[key]: item["count"] for item in items if item["count"]}


def test_the_period_counts_received_cases_leaving_out_merged_and_informally_resolved(
    report: dict[str, Any],
) -> None:
    assert report["period"] == {"from": "2025-04-01", "to": "2026-03-31", "reporting_year": True,
                                "today": "2026-03-31"}  # fmt: skip
    assert report["organisation"] is None
    assert report["cases"] == 9  # A to I; K came before the year
    assert report["excluded"] == {"merged": 1, "resolved_informally": 1}


def test_acknowledgements_count_working_days_and_the_london_day(report: dict[str, Any]) -> None:
    # on time: A (Easter), C, D, E, F, G (Christmas), H; late: B (London day 30 May); I not yet due
    assert report["acknowledgements"] == {"on_time": 7, "late": 1, "awaiting": 1, "percent_on_time": 87.5}


def test_responses_against_the_period_agreed_or_set_and_the_statutory_period(report: dict[str, Any]) -> None:
    assert report["responses"] == {
        "sent": 3,  # A, B, E
        "with_response_period": 3,
        "within_response_period": 1,  # A; B and E after theirs
        "percent_within_response_period": 33.3,
        "within_statutory_period": 2,  # A, B; E after its six-month point (1 Dec 2025)
        "percent_within_statutory_period": 66.7,
        "overdue_without_response": 1,  # D (C had the partial response)
    }


def test_six_month_letters_needed_and_sent(report: dict[str, Any]) -> None:
    assert report["delay_letters"] == {"needed": 2, "sent_when_needed": 1, "percent_sent_when_needed": 50.0,
                                       "sent": 1}  # fmt: skip


def test_contributions_on_time_per_organisation(report: dict[str, Any]) -> None:
    council, trust = report["contributions"]
    assert council == {
        "org": COUNCIL, "name": "Northshire County Council, Adult Social Care", "received": 1, "on_time": 0,
        "late": 1, "percent_on_time": 0.0, "median_working_days_late": 3.0, "overdue": 1,
    }  # fmt: skip
    assert trust == {
        "org": TRUST, "name": "Northshire Hospitals NHS Foundation Trust", "received": 4, "on_time": 3,
        "late": 1, "percent_on_time": 75.0, "median_working_days_late": 4.0, "overdue": 0,
    }  # fmt: skip


def test_impasses_by_step_and_time_to_resolve(report: dict[str, Any]) -> None:
    assert report["impasses"] == {"step_1": 2, "step_2": 1, "step_3": 1, "resolved": 1,
                                  "median_working_days_to_resolve": 3.0}  # fmt: skip


def test_open_cases_by_age_in_working_days(report: dict[str, Any]) -> None:
    assert report["open_by_age"] == {
        "as_of": "2026-03-31",
        "total": 6,
        "bands": [
            {"band": "0-20", "count": 1},  # I
            {"band": "21-40", "count": 1},  # H, 21
            {"band": "41-65", "count": 0},
            {"band": "66-130", "count": 1},  # G, 66
            {"band": ">130", "count": 3},  # C, D, K
        ],
    }


def test_annual_report_figures(report: dict[str, Any]) -> None:
    annual = report["annual"]
    assert {k: v for k, v in annual.items() if k not in ("themes", "actions")} == {
        "received": 9, "decided": 3, "well_founded": 2, "percent_well_founded": 66.7,
        "referred": 2, "referred_phso": 1, "referred_lgsco": 2, "not_coded": 5, "actions_completed": 3,
    }  # fmt: skip
    assert [(t["code"], t["count"]) for t in annual["themes"]] == [
        ("communication", 2), ("admissions", 1), ("clinical/diagnosis", 1), ("clinical/care", 1),
        ("care_package", 1),
    ]  # fmt: skip
    assert annual["themes"][0]["label"] == "Communications"
    assert annual["actions"] == [
        {"description": "Review the discharge checklist", "count": 2},
        {"description": "Share the learning with Ward 7", "count": 1},
    ]


def test_ko41a_for_the_running_organisation(report: dict[str, Any]) -> None:
    ko41a = report["ko41a"]
    assert (ko41a["org"], ko41a["total"], ko41a["not_coded"]) == (TRUST, 8, 5)  # F went to Meadowbank
    assert counts(ko41a["subjects"]) == {"admissions": 1, "clinical/diagnosis": 1, "communication": 2,
                                         "care_package": 1}  # fmt: skip
    assert counts(ko41a["service_areas"]) == {"acute": 2, "community": 1, "social_care": 1}
    assert counts(ko41a["professions"]) == {"medical": 1, "nursing": 2, "social_work": 1}
    assert counts(ko41a["age_bands"]) == {"16-64": 1, "65-84": 1, "85+": 1}
    assert counts(ko41a["complainant_status"]) == {"patient": 2, "on_behalf": 1}
    assert counts(ko41a["outcomes"]) == {"upheld": 1, "partly_upheld": 1, "not_upheld": 1, "undecided": 5}
    assert ko41a["sites"] == [{"site": "Northshire General", "count": 1}]
    assert len(ko41a["subjects"]) == 15  # every code of the return, zeros included


def test_ko41a_counts_a_passed_on_complaint_for_the_body_that_handles_it(built: Path) -> None:
    ko41a = figures(built, CARE_HOME)["ko41a"]

    assert (ko41a["org"], ko41a["total"]) == (CARE_HOME, 1)
    assert counts(ko41a["subjects"]) == {"clinical/care": 1}
    assert counts(ko41a["outcomes"]) == {"undecided": 1}


def test_one_organisations_part(built: Path) -> None:
    part = figures(built, COUNCIL)  # A, C, D, H

    assert part["organisation"] == {"id": COUNCIL, "name": "Northshire County Council, Adult Social Care"}
    assert part["cases"] == 4
    assert part["acknowledgements"]["percent_on_time"] == 100.0
    assert part["responses"]["within_statutory_period"] == part["responses"]["sent"] == 1
    assert part["delay_letters"]["needed"] == 1
    assert [o["org"] for o in part["contributions"]] == [COUNCIL]
    assert [b["count"] for b in part["open_by_age"]["bands"]] == [0, 1, 0, 0, 2]
    annual = part["annual"]
    assert (annual["decided"], annual["well_founded"], annual["referred"], annual["referred_lgsco"]) == (
        1,
        1,
        2,
        2,
    )
    assert (annual["referred_phso"], annual["actions_completed"], annual["not_coded"]) == (0, 0, 3)
    assert (part["ko41a"]["org"], part["ko41a"]["total"]) == (COUNCIL, 4)
    assert counts(part["ko41a"]["outcomes"]) == {"partly_upheld": 1, "undecided": 3}


def test_a_shorter_period_holds_only_the_cases_received_in_it(built: Path) -> None:
    config = local_config(built / "var")
    with Store.open(config.store_dir) as store:
        cases = load_facts(CaseService(store))
    autumn = compute(cases, Scope(date(2025, 10, 1), date(2025, 12, 31), TRUST), TODAY)

    assert autumn["cases"] == 2  # F, G
    assert autumn["period"]["reporting_year"] is False
    assert autumn["open_by_age"]["as_of"] == "2025-12-31"
    # open on 31 Dec 2025: G (3 working days), D (124), C (149), K; E closed on 12 Dec
    assert [b["count"] for b in autumn["open_by_age"]["bands"]] == [1, 0, 0, 1, 2]


def test_the_report_reads_the_index_and_opens_no_case_file(
    built: Path, copy: Path, report: dict[str, Any]
) -> None:
    council = figures(built, COUNCIL)
    cases = facts_of(copy, without_case_files=True)

    assert compute(cases, Scope(*YEAR, home_org=TRUST), TODAY) == report
    assert compute(cases, Scope(*YEAR, home_org=TRUST, org=COUNCIL), TODAY) == council


def test_a_store_from_before_report_facts_reports_the_same_figures(
    copy: Path, report: dict[str, Any]
) -> None:
    """Summaries written by an older version have no "facts": those cases are read and folded."""
    streams = local_config(copy / "var").store_dir / "streams"
    for path in sorted(streams.glob("JC-*.json")):
        write = StreamWrite(path, path.stem)
        assert path == stream_file(streams, path.stem) and "facts" in write.state.summary
        write.state.summary = {k: v for k, v in write.state.summary.items() if k != "facts"}
        write.commit()

    assert figures(copy) == report
    with pytest.raises(StoreCorrupt, match="JC-"):  # so those cases really were read
        facts_of(copy, without_case_files=True)


def test_every_figure_has_a_row(report: dict[str, Any]) -> None:
    found = rows(report)

    assert found[0][:5] == ("acknowledgements", "Sent within 3 working days", 7, 8, 87.5)
    assert {r.section for r in found} == set(report) - {"period", "organisation", "cases", "excluded"}


@pytest.mark.parametrize(
    ("day", "year"),
    [(date(2026, 3, 31), (date(2025, 4, 1), date(2026, 3, 31))),
     (date(2026, 4, 1), (date(2026, 4, 1), date(2027, 3, 31)))],
)  # fmt: skip
def test_the_reporting_year_runs_to_31_march(day: date, year: tuple[date, date]) -> None:
    scope = Scope.reporting_year(day, TRUST)

    assert (scope.start, scope.end) == year


def test_csv_quotes_free_text_a_spreadsheet_would_run_as_a_formula(report: dict[str, Any]) -> None:
    figures = {**report, "ko41a": {**report["ko41a"], "sites": [{"site": "=HYPERLINK(1)", "count": 1}]}}

    lines = list(csv.reader(io.StringIO(to_csv(figures))))

    assert ["ko41a", "Site: =HYPERLINK(1)", "'=HYPERLINK(1)", "1", "", ""] in lines


# --- the command as a person runs it -------------------------------------------------------------

WHOLE_YEAR = ("--from", "2025-04-01", "--to", "2026-03-31")


def test_report_json_from_the_command_line(built: Path) -> None:
    result = jointly(built, "report", *WHOLE_YEAR, "--format", "json")

    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)
    assert found["period"]["from"] == "2025-04-01"
    assert found["cases"] == 9
    assert found["acknowledgements"]["on_time"] == 7  # "today" is the real one here: I may be late by now
    assert (found["ko41a"]["org"], found["ko41a"]["total"]) == (TRUST, 8)
    assert found["annual"]["well_founded"] == 2


def test_report_defaults_to_the_reporting_year_containing_today(built: Path) -> None:
    result = jointly(built, "report", "--format", "json")

    assert result.returncode == 0, result.stderr
    period = json.loads(result.stdout)["period"]
    assert period["reporting_year"] is True
    assert period["from"] <= period["today"] <= period["to"]


def test_report_csv_has_one_line_per_figure(built: Path) -> None:
    result = jointly(built, "report", *WHOLE_YEAR, "--format", "csv", "--org", COUNCIL)

    assert result.returncode == 0, result.stderr
    lines = list(csv.reader(io.StringIO(result.stdout)))
    assert lines[0] == ["section", "figure", "code", "value", "of", "percent"]
    assert ["annual", "Referred to the LGSCO", "lgsco", "2", "", ""] in lines
    assert ["annual", "Well-founded (upheld or partly upheld)", "", "1", "1", "100.0"] in lines
    assert ["ko41a", "Complaints (each counted once)", "", "4", "", ""] in lines
    assert [
        "ko41a",
        "Subject: Care package or assessment (social care)",
        "care_package",
        "1",
        "",
        "",
    ] in lines
    assert ["contributions", "Northshire County Council, Adult Social Care: median working days late",
            COUNCIL, "3.0", "", ""] in lines  # fmt: skip


def test_report_tables_have_every_heading(built: Path) -> None:
    result = jointly(built, "report", *WHOLE_YEAR)

    assert result.returncode == 0, result.stderr
    for heading in (
        "Complaints received 2025-04-01 to 2026-03-31",
        "Acknowledgements (3 working days)",
        "Responses",
        "Six-month letters",
        "Contributions on time",
        "Impasses",
        "Open cases by age",
        "Annual report (regs 17 and 18)",
        "KO41a: Northshire Hospitals NHS Foundation Trust",
        "Sent within 3 working days",
    ):
        assert heading in result.stdout


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("--org", "nowhere"), "no organisation 'nowhere'"),
        (("--from", "2026-01-01", "--to", "2025-12-31"), "is after"),
        (("--from", "31/03/2026"), "not a date"),
    ],
)
def test_report_refuses_bad_usage_with_exit_2(built: Path, args: tuple[str, ...], says: str) -> None:
    result = jointly(built, "report", *args)

    assert result.returncode == 2
    assert says in result.stderr
    assert "Traceback" not in result.stderr


@pytest.fixture
def copy(built: Path, tmp_path: Path) -> Iterator[Path]:
    where = tmp_path / "copy"
    shutil.copytree(built, where)
    yield where


def test_referral_is_recorded_and_counted(copy: Path) -> None:
    result = jointly(copy, "referral", "JC-250417-AAAA", "--org", TRUST, "--ombudsman", "phso")

    assert result.returncode == 0, result.stderr
    assert "Parliamentary and Health Service Ombudsman" in result.stdout
    assert "Northshire Hospitals NHS Foundation Trust" in result.stdout
    annual = figures(copy)["annual"]
    assert (annual["referred"], annual["referred_phso"], annual["referred_lgsco"]) == (2, 2, 2)
    shown = json.loads(jointly(copy, "show", "JC-250417-AAAA", "--json").stdout)
    assert shown["events"][-1]["type"] == "OmbudsmanReferralRecorded"
    assert shown["events"][-1]["by"] == "asha-patel"


@pytest.mark.parametrize(
    ("ref", "args", "says", "code"),
    [
        ("JC-250417-ZZZZ", ("--org", TRUST, "--ombudsman", "phso"), "there is no case JC-250417-ZZZZ", 1),
        ("JC 1", ("--org", TRUST, "--ombudsman", "phso"), "not a case reference", 2),
        ("JC-250417-AAAA", ("--org", CARE_HOME, "--ombudsman", "lgsco"), "not involved in this case", 1),
        ("JC-260302-HHHH", ("--org", TRUST, "--ombudsman", "phso"), "while the case is awaiting consent", 1),
        ("JC-250417-AAAA", ("--org", TRUST, "--ombudsman", "court"), "invalid choice", 2),
        ("JC-250417-AAAA", ("--ombudsman", "phso"), "--org", 2),
    ],
)
def test_referral_errors_exit_1_or_2_and_change_nothing(
    copy: Path, ref: str, args: tuple[str, ...], says: str, code: int
) -> None:
    """1: no such case, or the case refuses; 2: the arguments are wrong."""
    before = figures(copy)

    result = jointly(copy, "referral", ref, *args)

    assert result.returncode == code
    assert says in result.stderr
    assert "Traceback" not in result.stderr
    assert figures(copy) == before
