"""The oracle of the simulated year, itself tested: its own calendar against dates worked out by
hand, then its judgement of a real run (the local-mode assistant driven day by day through the
coordination scenarios' harness, its `.eml` outbox read back as the SMTP server's letters) as it
is, and with faults put in by hand: a reminder dropped, doubled or a day late, a late
acknowledgement, a letter to an organisation before consent, a complaint lost. Then the
six-month letter and the impasse ladder on cases built by hand, and the product's own report
against the oracle's count of the real run.
"""

from __future__ import annotations

import asyncio
import email
import json
import time
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from email import policy as email_policy
from email.message import EmailMessage
from email.utils import getaddresses, parsedate_to_datetime
from pathlib import Path
from typing import Any

import pytest

from bench.sim.calendar import (
    add_working_days,
    bank_holidays,
    is_working_day,
    london_at,
    london_date,
    working_day_on_or_before,
    working_days_between,
)
from bench.sim.oracle import Policy, Step, _Run, judge, reminder_day, report_check, six_month_point
from bench.sim.record import Arrival, Fault, Letter, Record
from bot.config import Config, local_config
from bot.report import Scope, compute, load_facts
from bot.service import CaseService
from store.store import Store
from tests.bot.support import Clock
from tests.scenarios.coordination import Day
from tests.scenarios.test_coordination import COUNCIL, GP, TRUST, planned

START = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)  # a Monday
COMPLAINT_ID = "<marsh-1@mail.example.org>"
PERSON = "pat@example.org"
SAM = "sam.price@riverside-gp.example"
LENA = "lena.okafor@northshire-council.example"
S_TARGET = date(2026, 12, 16)  # every strand's target: Wednesday 16 December 2026
DOWN = date(2026, 12, 22)  # the assistant is down all day: the council's +4 step goes a day late


# --- the calendar, against dates worked out by hand -----------------------------------------------


def test_christmas_2026_and_its_substitute_day() -> None:
    assert not is_working_day(date(2026, 12, 25))  # Friday, Christmas Day
    assert not is_working_day(date(2026, 12, 26))  # Saturday, Boxing Day
    assert not is_working_day(date(2026, 12, 28))  # Monday, the substitute for Boxing Day
    assert is_working_day(date(2026, 12, 24)) and is_working_day(date(2026, 12, 29))
    assert not is_working_day(date(2027, 1, 1))
    assert date(2026, 12, 28) in bank_holidays(2026)


def test_easter_2027() -> None:
    assert not is_working_day(date(2027, 3, 26))  # Good Friday
    assert not is_working_day(date(2027, 3, 29))  # Easter Monday
    assert is_working_day(date(2027, 3, 25)) and is_working_day(date(2027, 3, 30))
    assert add_working_days(date(2027, 3, 25), 1) == date(2027, 3, 30)
    assert add_working_days(date(2027, 3, 30), -1) == date(2027, 3, 25)
    assert working_days_between(date(2027, 3, 25), date(2027, 3, 31)) == 2


def test_one_off_bank_holidays_and_weekends() -> None:
    assert not is_working_day(date(2022, 9, 19))  # the State Funeral
    assert not is_working_day(date(2023, 5, 8))  # the Coronation
    assert not is_working_day(date(2026, 12, 5))  # a Saturday


@pytest.mark.parametrize(
    ("received", "due"),
    [  # DOMAIN.md's worked examples of the acknowledgement date, and across Christmas 2026
        (date(2026, 12, 23), date(2026, 12, 30)),
        (date(2026, 4, 2), date(2026, 4, 9)),
        (date(2026, 5, 22), date(2026, 5, 28)),
        (date(2025, 12, 24), date(2025, 12, 31)),
        (date(2026, 4, 4), date(2026, 4, 9)),
        (date(2026, 12, 24), date(2026, 12, 31)),  # 29, 30, 31 December
        (date(2026, 12, 31), date(2027, 1, 6)),  # 4, 5, 6 January
    ],
)
def test_three_working_days_after(received: date, due: date) -> None:
    assert add_working_days(received, 3) == due


def test_add_and_count_across_christmas() -> None:
    assert add_working_days(date(2026, 12, 24), 1) == date(2026, 12, 29)
    assert add_working_days(date(2026, 12, 24), 5) == date(2027, 1, 5)  # 29, 30, 31 Dec, 4, 5 Jan
    assert add_working_days(date(2027, 1, 5), -5) == date(2026, 12, 24)
    assert add_working_days(date(2026, 12, 26), 0) == date(2026, 12, 26)
    assert working_days_between(date(2026, 12, 24), date(2027, 1, 5)) == 5
    assert working_days_between(date(2027, 1, 5), date(2026, 12, 24)) == -5
    assert working_day_on_or_before(date(2027, 1, 2)) == date(2026, 12, 31)


def test_london_time() -> None:
    assert london_date(datetime(2026, 7, 1, 23, 30, tzinfo=UTC)) == date(2026, 7, 2)  # BST
    assert london_date(datetime(2026, 12, 1, 23, 30, tzinfo=UTC)) == date(2026, 12, 1)  # GMT
    assert london_at(date(2026, 7, 1), 8) == datetime(2026, 7, 1, 7, 0, tzinfo=UTC)
    assert reminder_day(datetime(2026, 7, 1, 6, 59, tzinfo=UTC), 8) == date(2026, 6, 30)
    assert reminder_day(datetime(2026, 7, 1, 7, 0, tzinfo=UTC), 8) == date(2026, 7, 1)


def _steps(target: date, until: date) -> list[Step]:
    run = _Run(Record(START, START, Path("."), TRUST, {}, {}), Policy(), {})
    return list(run.steps(target, until))


def test_reminder_steps_across_christmas() -> None:
    got = [(s.label, s.day) for s in _steps(S_TARGET, date(2027, 1, 6))]
    assert got == [
        ("-5", date(2026, 12, 9)),
        ("-1", date(2026, 12, 15)),
        ("0", date(2026, 12, 16)),
        ("+2", date(2026, 12, 18)),
        ("+4", date(2026, 12, 22)),
        ("+6", date(2026, 12, 24)),
        ("+11", date(2027, 1, 5)),  # weekly after three: 29, 30, 31 Dec, 4, 5 Jan
        ("+16", date(2027, 1, 12)),
    ]


def test_a_target_on_a_saturday_is_reminded_the_working_day_before() -> None:
    got = [(s.label, s.day) for s in _steps(date(2027, 1, 2), date(2027, 1, 4))]
    # "-1" falls on the day itself (Thu 31 Dec, as 1 Jan is a bank holiday), so it is that step
    assert got == [("-5", date(2026, 12, 23)), ("0", date(2026, 12, 31)), ("+2", date(2027, 1, 5))]


# --- a real run ---------------------------------------------------------------------------------


@dataclass
class Run:
    record: Record
    cases: dict[str, list[dict[str, Any]]]
    ref: str
    seconds: float


def org_emails(config: Config) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for org in config.organisations:
        addresses = {org.complaints_email, *([org.escalation_email] if org.escalation_email else [])}
        addresses |= {p.email for p in config.people if p.organisation == org.id}
        found[org.id] = {a.lower() for a in addresses}
    return found


def read_letters(outbox: Path) -> list[Letter]:
    messages = []
    for path in sorted(outbox.glob("*.eml")):
        message = email.message_from_bytes(path.read_bytes(), policy=email_policy.default)
        assert isinstance(message, EmailMessage)
        messages.append(message)
    messages.sort(key=lambda m: parsedate_to_datetime(str(m["Date"])))
    letters = []
    for order, m in enumerate(messages):
        to = tuple(a.lower() for _, a in getaddresses([str(m.get(h, "")) for h in ("To", "Cc") if m.get(h)]))
        body = m.get_body(preferencelist=("plain",))
        letters.append(
            Letter(
                message_id=str(m["Message-ID"]),
                to=to,
                subject=" ".join(str(m["Subject"]).split()),
                sent=parsedate_to_datetime(str(m["Date"])),
                text=body.get_content() if body is not None else "",
                order=order,
            )
        )
    return letters


async def _drive(tmp: Path) -> Run:
    """A three-organisation complaint planned on its first day, every strand due 16 December: the
    GP answers the day before, the council says it is on track then never answers; the assistant
    is down on 22 December; the handler sends each update letter the day it is owed."""
    config = local_config(tmp / "var")
    cycles: list[datetime] = []
    with Store.open(config.store_dir) as store:
        day = Day.local(config, store, Clock(START))
        real = day.assistant.cycle

        async def cycle() -> None:
            await real()
            cycles.append(day.clock.now)

        day.assistant.cycle = cycle  # type: ignore[method-assign]
        ref = await day.email()
        day.clock.now = START + timedelta(hours=1)  # the handler plans it an hour later
        planned(day, ref, {TRUST: S_TARGET, GP: S_TARGET, COUNCIL: S_TARGET})
        await day.assistant.cycle()
        end = add_working_days(S_TARGET, 12)
        while day.today < end:
            if add_working_days(day.today, 1) == DOWN:  # no cycle at all on that day
                day.clock.now = datetime(DOWN.year, DOWN.month, DOWN.day, 10, tzinfo=UTC)
            await day.next_day()
            if "update" in day.asked(ref, "asha-patel"):
                day.answer(ref, "asha-patel", "update", "Send the update letter")
                await day.assistant.cycle()
            if day.today == add_working_days(S_TARGET, -1):
                day.clock.now += timedelta(hours=2)  # after that day's cycle
                day.answer(ref, "sam-price", "strand:S2", "Send our response", summary="Visit not logged.")
                day.answer(ref, "lena-okafor", "strand:S3", "On track")
        await day.assistant.cycle()
        cases = {s.stream: list(store.load(s.stream).events) for s in store.summaries()}
        record = Record(
            start=START,
            end=day.clock.now,
            store_dir=config.store_dir,
            home=config.service.home_organisation,
            org_emails=org_emails(config),
            complainants={1: PERSON},
            cycles=cycles,
            arrivals=[Arrival(COMPLAINT_ID, PERSON, START, 1, "complaint")],
            letters=read_letters(Path(config.outbox.path)),  # type: ignore[union-attr]
            chat_orgs={TRUST},  # its one contact, Asha, is at the terminal
        )
    return Run(record, cases, ref, 0.0)


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    return asyncio.run(_drive(tmp_path_factory.mktemp("run")))


def with_letters(run: Run, letters: list[Letter]) -> Record:
    return replace(run.record, letters=[replace(x, order=i) for i, x in enumerate(letters)])


def reminders_of(run: Run, to: str, strand: str) -> list[Letter]:
    return [
        x
        for x in run.record.letters
        if to in x.to and f"reminder: the response on strand {strand} " in x.text
    ]


def check(findings: dict[str, Any], name: str) -> dict[str, Any]:
    return findings["checks"][name]


def test_the_real_run_has_no_problems(run: Run) -> None:
    began = time.perf_counter()
    findings = judge(run.record)  # read from the store on disk, read-only
    seconds = time.perf_counter() - began
    json.dumps(findings)
    assert findings["problems"] == 0, json.dumps(findings, indent=1)
    assert findings["cases"] == 1 and findings["letters"] == len(run.record.letters)
    reminders = check(findings, "contribution_reminders")
    # GP: -5, -1 (it answers on the -1 day, after that day's cycle); council: -5, -1, 0 (on track
    # the day before, reminded on the day all the same), +2, +4 (a day late: the assistant was
    # down on its day), +6, +11
    assert reminders["expected"] == reminders["ok"] == 9
    assert reminders["not_judged"] == {"its contacts are reminded in chat, not by email": 1}
    assert check(findings, "acknowledgement")["ok"] == 1
    assert check(findings, "cases")["ok"] == 1
    assert check(findings, "consent")["ok"] > 0
    assert check(findings, "updates")["ok"] >= 1
    assert seconds < 2


def test_the_council_reminder_of_the_day_the_assistant_was_down_went_the_next_day(run: Run) -> None:
    days = [london_date(x.sent) for x in reminders_of(run, LENA, "S3")]
    assert DOWN not in days and add_working_days(DOWN, 1) in days


def test_a_suppressed_reminder_is_missed(run: Run) -> None:
    [dropped] = [x for x in reminders_of(run, SAM, "S2") if london_date(x.sent) == date(2026, 12, 15)]
    findings = judge(with_letters(run, [x for x in run.record.letters if x is not dropped]), cases=run.cases)
    reminders = check(findings, "contribution_reminders")
    assert reminders["missed"] == 1 and findings["totals"]["missed"] == 1 and findings["problems"] == 1
    [example] = reminders["examples"]["missed"]
    assert example["ref"] == run.ref and "S2" in example["what"] and example["expected"] == "2026-12-15"


def test_a_duplicated_reminder_is_found(run: Run) -> None:
    first = reminders_of(run, LENA, "S3")[0]
    copy = replace(first, message_id="<copy@jointly.example>", sent=first.sent + timedelta(minutes=1))
    findings = judge(with_letters(run, [*run.record.letters, copy]), cases=run.cases)
    assert check(findings, "contribution_reminders")["duplicated"] == 1
    assert check(findings, "letters_once")["duplicated"] == 1  # the same subject to her the same day
    assert findings["totals"]["missed"] == 0 and findings["totals"]["late"] == 0


def test_the_same_message_twice_is_a_duplicate(run: Run) -> None:
    first = run.record.letters[0]
    findings = judge(with_letters(run, [*run.record.letters, first]), cases=run.cases)
    assert check(findings, "letters_once")["duplicated"] >= 1
    assert any("Message-ID" in e["what"] for e in check(findings, "letters_once")["examples"]["duplicated"])


def test_a_reminder_a_day_late_is_late(run: Run) -> None:
    [first] = [x for x in reminders_of(run, SAM, "S2") if london_date(x.sent) == date(2026, 12, 9)]
    moved = replace(first, sent=first.sent + timedelta(days=1))
    letters = [moved if x is first else x for x in run.record.letters]
    findings = judge(with_letters(run, letters), cases=run.cases)
    reminders = check(findings, "contribution_reminders")
    assert reminders["late"] == 1 and reminders["missed"] == 0 and findings["problems"] == 1
    [example] = reminders["examples"]["late"]
    assert (example["expected"], example["got"]) == ("2026-12-09", "2026-12-10")


def test_a_reminder_after_the_contribution_is_wrong(run: Run) -> None:
    [last] = [x for x in reminders_of(run, SAM, "S2") if london_date(x.sent) == date(2026, 12, 15)]
    after = replace(last, message_id="<after@jointly.example>", sent=last.sent + timedelta(days=1))
    findings = judge(with_letters(run, [*run.record.letters, after]), cases=run.cases)
    reminders = check(findings, "contribution_reminders")
    assert reminders["wrong"] == 1 and "after it was done" in reminders["examples"]["wrong"][0]["what"]


def test_a_late_acknowledgement_is_late(run: Run) -> None:
    [ack] = [x for x in run.record.letters if x.subject.startswith("We have received your complaint")]
    moved = replace(ack, sent=datetime(2026, 12, 4, 10, tzinfo=UTC))  # due Thursday 3 December
    findings = judge(
        with_letters(run, [moved if x is ack else x for x in run.record.letters]), cases=run.cases
    )
    acks = check(findings, "acknowledgement")
    assert acks["late"] == 1 and acks["examples"]["late"][0]["expected"] == "2026-12-03"


def test_a_missing_or_doubled_acknowledgement_is_found(run: Run) -> None:
    [ack] = [x for x in run.record.letters if x.subject.startswith("We have received your complaint")]
    gone = judge(with_letters(run, [x for x in run.record.letters if x is not ack]), cases=run.cases)
    assert check(gone, "acknowledgement")["missed"] == 1
    again = replace(ack, message_id="<ack-2@jointly.example>", sent=ack.sent + timedelta(days=1))
    twice = judge(with_letters(run, [*run.record.letters, again]), cases=run.cases)
    assert check(twice, "acknowledgement")["duplicated"] == 1
    assert check(twice, "letters_once")["duplicated"] == 1  # once-only, whatever the day


def test_a_letter_to_an_organisation_before_consent_is_a_breach(run: Run) -> None:
    early = Letter(
        message_id="<early@jointly.example>",
        to=(SAM,),
        subject=f"Joint complaint: proposed lead organisation ({run.ref})",
        sent=START + timedelta(minutes=30),  # consent is given an hour after the email
        text="",
        order=0,
    )
    findings = judge(with_letters(run, [early, *run.record.letters]), cases=run.cases)
    assert findings["totals"]["consent_breaches"] == 1
    [example] = check(findings, "consent")["examples"]["wrong"]
    assert "riverside-gp before consent" in example["what"]


def test_a_lost_complaint_and_a_lost_reply_are_found(run: Run) -> None:
    lost = Arrival("<lost@mail.example.org>", "kim@example.org", START + timedelta(days=2), 2, "complaint")
    reply = Arrival("<reply-1@mail.example.org>", PERSON, START + timedelta(days=3), 1, "reply")
    findings = judge(replace(run.record, arrivals=[*run.record.arrivals, lost, reply]), cases=run.cases)
    cases = check(findings, "cases")
    assert findings["totals"]["lost"] == 2 and cases["missed"] == 2
    assert {e["what"].split()[0] for e in cases["examples"]["missed"]} == {"complaint", "reply"}


def test_a_complaint_on_two_cases_is_duplicated(run: Run) -> None:
    cases = dict(run.cases)
    cases["JC-261130-ZZZZ"] = [e for e in run.cases[run.ref] if e["type"] == "ComplaintReceived"]
    findings = judge(run.record, cases=cases)
    assert check(findings, "cases")["duplicated"] == 1


def test_a_missed_update_letter_is_found(run: Run) -> None:
    updates = [x for x in run.record.letters if x.subject.startswith("An update on your complaint")]
    assert updates
    findings = judge(with_letters(run, [x for x in run.record.letters if x not in updates]), cases=run.cases)
    assert check(findings, "updates")["missed"] == 1


# --- synthetic cases: the schedule rules one by one ------------------------------------------------

REF = "JC-261201-ABCD"
GP_ADDRESSES = {SAM, "practice.manager@riverside-gp.example"}


def _at(day: date, hour: int = 9) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def synthetic(
    extra: list[dict[str, Any]], sent: list[date], down: tuple[date, date] | None = None, n_cases: int = 1
) -> tuple[Record, dict[str, list[dict[str, Any]]]]:
    """One case (or `n_cases`) with strand S2 for the GP due 16 December, cycles at 09:00 each
    working day (none from `down[0]` to `down[1]`), and a reminder to Sam at the cycle of each day
    of `sent`."""
    received = _at(date(2026, 12, 1))
    cases, letters, arrivals = {}, [], []
    for n in range(n_cases):
        ref = REF if n == 0 else "JC-261201-" + "".join("ABCDEFGHIJ"[int(c)] for c in f"{n:06d}")
        cases[ref] = [
            {"type": "ComplaintReceived", "at": received.isoformat(), "by": "intake",
             "message_id": f"<c{n}@x>", "complainant": {"name": "P", "email": PERSON}},
            {"type": "ConsentGiven", "at": _at(date(2026, 12, 1), 10).isoformat(), "by": "h",
             "org_ids": [GP]},
            {"type": "StrandAdded", "at": _at(date(2026, 12, 1), 11).isoformat(), "by": "h",
             "strand_id": "S2", "org_id": GP, "matters": "m", "target": "2026-12-16"},
            *extra,
        ]  # fmt: skip
        arrivals.append(Arrival(f"<c{n}@x>", PERSON, received, n, "complaint"))
        letters.append(
            Letter(f"<ack{n}@j>", (PERSON,), f"We have received your complaint ({ref})", received, "", 0)
        )
        for i, day in enumerate(sent):
            text = f"{ref}: reminder: the response on strand S2 is due Wednesday 16 December 2026."
            letters.append(Letter(f"<r{n}-{i}@j>", (SAM,), f"{text[:100]} ({ref})", _at(day), text, 0))
    cycles = []
    day = date(2026, 12, 1)
    while day <= date(2027, 1, 8):
        if is_working_day(day) and not (down and down[0] <= day <= down[1]):
            cycles.append(_at(day))
        day += timedelta(days=1)
    record = Record(
        start=received,
        end=_at(date(2027, 1, 8), 18),
        store_dir=Path("/nonexistent"),
        home=TRUST,
        org_emails={GP: GP_ADDRESSES, TRUST: {"complaints@northshire-trust.example"}},
        complainants={n: PERSON for n in range(n_cases)},
        cycles=cycles,
        arrivals=arrivals,
        letters=[replace(x, order=i) for i, x in enumerate(letters)],
    )
    return record, cases


ON_TIME = [date(2026, 12, d) for d in (9, 15, 16, 18, 22, 24)] + [date(2027, 1, 5)]


def reminders(findings: dict[str, Any]) -> dict[str, Any]:
    return check(findings, "contribution_reminders")


def test_synthetic_on_time_series_passes() -> None:
    record, cases = synthetic([], ON_TIME)
    findings = judge(record, cases=cases)
    assert findings["problems"] == 0, findings
    assert reminders(findings)["ok"] == 7


def test_after_downtime_only_the_latest_step_goes_once() -> None:
    down = (date(2026, 12, 9), date(2026, 12, 16))  # -5, -1 and the day itself pass while down
    record, cases = synthetic([], [date(2026, 12, 17), *ON_TIME[3:]], down)
    findings = judge(record, cases=cases)
    assert findings["problems"] == 0, findings  # the day-itself step, on the 17th, is not late
    series, _ = synthetic([], [date(2026, 12, 17)] * 3 + ON_TIME[3:], down)  # the whole missed series
    assert reminders(judge(series, cases=cases))["duplicated"] == 1


def test_a_snoozed_step_is_not_expected_and_sending_it_is_wrong() -> None:
    snooze = {"type": "Snoozed", "at": _at(date(2026, 12, 2), 12).isoformat(), "by": "sam", "subject": "S2",
              "until": "2026-12-10"}  # fmt: skip
    record, cases = synthetic([snooze], ON_TIME[1:])
    assert judge(record, cases=cases)["problems"] == 0
    record, cases = synthetic([snooze], ON_TIME)
    assert reminders(judge(record, cases=cases))["wrong"] == 1


def test_a_moved_target_starts_a_new_schedule() -> None:
    moved = {"type": "TargetDateChanged", "at": _at(date(2026, 12, 11), 12).isoformat(), "by": "h",
             "strand_id": "S2", "target": "2027-01-06", "previous": "2026-12-16", "reason": "r"}  # fmt: skip
    new = [date(2026, 12, 29), date(2027, 1, 5), date(2027, 1, 6), date(2027, 1, 8)]  # -5, -1, 0, +2
    record, cases = synthetic([moved], [date(2026, 12, 9), *new])
    assert judge(record, cases=cases)["problems"] == 0
    record, cases = synthetic([moved], [date(2026, 12, 9), date(2026, 12, 15), *new])  # the old -1
    assert reminders(judge(record, cases=cases))["wrong"] == 1


def test_a_contribution_at_the_cycle_s_moment_leaves_that_step_optional() -> None:
    done = {"type": "ContributionReceived", "at": _at(date(2026, 12, 15)).isoformat(), "by": "sam",
            "strand_id": "S2", "summary": "s"}  # fmt: skip
    for sent in ([date(2026, 12, 9)], [date(2026, 12, 9), date(2026, 12, 15)]):
        record, cases = synthetic([done], sent)
        assert judge(record, cases=cases)["problems"] == 0


def test_fast_enough_for_a_year() -> None:
    record, cases = synthetic([], ON_TIME * 2, n_cases=5000)  # 75,000 letters, half of them doubled
    began = time.perf_counter()
    findings = judge(record, cases=cases)
    seconds = time.perf_counter() - began
    assert reminders(findings)["duplicated"] == 5000 * 7
    assert len(json.dumps(findings)) < 50_000
    assert seconds < 20, seconds


# --- the six-month letter, the impasse ladder, the report ------------------------------------------


@pytest.mark.parametrize(
    ("received", "point"),
    [  # the day before the same date six months on, else that month's last day
        (date(2026, 12, 1), date(2027, 5, 31)),
        (date(2026, 8, 28), date(2027, 2, 27)),
        (date(2026, 8, 29), date(2027, 2, 28)),  # no 29 February 2027
        (date(2026, 8, 31), date(2027, 2, 28)),
        (date(2027, 8, 30), date(2028, 2, 29)),  # a leap year
        (date(2027, 8, 29), date(2028, 2, 28)),
        (date(2026, 7, 15), date(2027, 1, 14)),
    ],
)
def test_six_month_point(received: date, point: date) -> None:
    assert six_month_point(received) == point


def kinds(tally: dict[str, Any]) -> tuple[int, ...]:
    return tuple(tally[k] for k in ("expected", "ok", "missed", "late", "duplicated", "wrong"))


def person_letter(subject: str, day: date, n: int = 0) -> Letter:
    return Letter(f"<p{n}-{day}@j>", (PERSON,), f"{subject} ({REF})", _at(day, 10), "", 0)


def later(record: Record, letters: list[Letter], end: date) -> Record:
    """`record` with `letters` added and the run going on to `end`, a cycle every working day."""
    day, cycles = record.start.date(), []
    while day <= end:
        cycles.extend([_at(day)] if is_working_day(day) else [])
        day += timedelta(days=1)
    every = [*record.letters, *letters]
    return replace(
        record, end=_at(end, 18), cycles=cycles, letters=[replace(x, order=i) for i, x in enumerate(every)]
    )


DELAY = "Why our response is taking longer"
# received 1 December 2026: the six months end Monday 31 May 2027, a bank holiday; the assistant
# reminds on the 2nd working day after (2 June), the handler has two more: due Friday 4 June
DELAY_DUE = "2027-06-04"


def six_month(
    extra: list[dict[str, Any]], letters: list[Letter], end: date = date(2027, 7, 1)
) -> dict[str, Any]:
    record, cases = synthetic(extra, [])
    return check(judge(later(record, letters, end), cases=cases), "six_month")


def test_a_delay_letter_in_time_passes_and_none_is_missed() -> None:
    for day in (2, 4):  # the assistant's reminder day, and the last day allowed
        assert kinds(six_month([], [person_letter(DELAY, date(2027, 6, day))])) == (1, 1, 0, 0, 0, 0)
    missed = six_month([], [])
    assert missed["missed"] == 1 and missed["examples"]["missed"][0]["expected"] == DELAY_DUE
    late = six_month([], [person_letter(DELAY, date(2027, 6, 7))])
    [example] = late["examples"]["late"]
    assert late["late"] == 1 and (example["expected"], example["got"]) == (DELAY_DUE, "2027-06-07")
    twice = six_month([], [person_letter(DELAY, date(2027, 6, 2)), person_letter(DELAY, date(2027, 6, 3), 1)])
    assert twice["duplicated"] == 1


def test_no_delay_letter_is_needed_after_a_response_in_time_and_one_then_is_wrong() -> None:
    final = person_letter("Final response to your complaint", date(2027, 5, 28))
    assert six_month([], [final])["expected"] == 0
    wrong = six_month([], [final, person_letter(DELAY, date(2027, 6, 2))])
    assert wrong["wrong"] == 1 and "after the response" in wrong["examples"]["wrong"][0]["what"]
    early = six_month([], [person_letter(DELAY, date(2027, 5, 31))])  # within the six months
    assert early["wrong"] == 1 and early["missed"] == 1  # and it does not stand for the letter owed


def test_a_longer_period_counts_only_if_agreed_by_the_six_month_point() -> None:
    def agreed(on: str) -> dict[str, Any]:
        return {"type": "LongerPeriodAgreed", "at": _at(date(2027, 6, 1)).isoformat(), "by": "h",
                "until": "2027-07-30", "agreed_on": on}  # fmt: skip

    in_time = six_month([agreed("2027-05-28")], [], end=date(2027, 8, 20))
    assert in_time["missed"] == 1 and in_time["examples"]["missed"][0]["expected"] == "2027-08-05"
    too_late = six_month(
        [agreed("2027-06-01")], [person_letter(DELAY, date(2027, 6, 4))], end=date(2027, 8, 20)
    )
    assert kinds(too_late) == (1, 1, 0, 0, 0, 0)  # agreed after the six months: the letter was due


REF_GP_TRUST = [  # the case involves the trust (ours) and the GP, who consented
    {"type": "OrganisationsIdentified", "at": _at(date(2026, 12, 1), 12).isoformat(), "by": "h",
     "orgs": [{"id": TRUST, "name": "T"}, {"id": GP, "name": "G"}]},
]  # fmt: skip
RAISED = {"type": "ImpasseRaised", "at": _at(date(2026, 12, 17), 12).isoformat(), "by": "h",
          "matter": "m", "reason": "r", "resolve_by": "2026-12-31"}  # fmt: skip
TRUST_INBOX = "complaints@northshire-trust.example"


def alert(to: str, day: date, n: int = 0) -> Letter:
    text = f"{REF}: since 17 December 2026, the organisations cannot agree: m. As a senior manager, ..."
    return Letter(f"<a{n}-{to}@j>", (to,), f"{text[:100]} ({REF})", _at(day, 13), text, 0)


LADDER = [  # step 1 on the day it was raised; step 2 on the first working day after 31 December;
    alert(SAM, date(2026, 12, 17)),  # step 3 the next day; the case closed on 7 January
    alert(TRUST_INBOX, date(2026, 12, 17)),
    person_letter("Our response to your complaint", date(2027, 1, 4)),
    person_letter("Taking your complaint to the Ombudsman", date(2027, 1, 5)),
]
CLOSED = {"type": "CaseClosed", "at": _at(date(2027, 1, 7), 15).isoformat(), "by": "h", "reason": "responded"}


def ladder(letters: list[Letter], extra: tuple[dict[str, Any], ...] = (CLOSED,)) -> dict[str, Any]:
    record, cases = synthetic([*REF_GP_TRUST, RAISED, *extra], [])
    return check(judge(later(record, letters, date(2027, 1, 20)), cases=cases), "impasse_steps")


def test_an_impasse_ladder_on_time_passes() -> None:
    assert kinds(ladder(LADDER)) == (4, 4, 0, 0, 0, 0)  # two alerts, the partial response, step 3


def test_an_organisation_not_alerted_is_missed() -> None:
    found = ladder([x for x in LADDER if x.to != (SAM,)])
    assert found["missed"] == 1 and "riverside-gp" in found["examples"]["missed"][0]["what"]
    withdrawn = {
        "type": "ConsentWithdrawn",
        "at": _at(date(2026, 12, 10)).isoformat(),
        "by": "h",
        "org_ids": [GP],
    }
    record, cases = synthetic([*REF_GP_TRUST, withdrawn, RAISED, CLOSED], [])
    letters = [x for x in LADDER if x.to != (SAM,)]
    assert kinds(check(judge(later(record, letters, date(2027, 1, 20)), cases=cases), "impasse_steps")) == (
        3, 3, 0, 0, 0, 0,
    )  # fmt: skip  # consent withdrawn: the GP hears nothing more


def test_a_late_partial_response_and_a_missing_signposting_are_found() -> None:
    late = [*LADDER[:2], person_letter("Our response to your complaint", date(2027, 1, 7))]
    found = ladder(late)
    assert found["late"] == 1 and found["examples"]["late"][0]["expected"] == "2027-01-06"
    assert found["missed"] == 1 and "step 3" in found["examples"]["missed"][0]["what"]
    assert kinds(ladder(late[:3], extra=()))[2] == 0  # still open: step 3 has no deadline but closure
    assert ladder(LADDER[:2])["missed"] == 1  # no partial response at all


def test_ladder_steps_out_of_order_are_wrong() -> None:
    early = [*LADDER[:2], person_letter("Our response to your complaint", date(2026, 12, 31)), LADDER[3]]
    found = ladder(early)
    assert found["wrong"] == 1 and "before the senior managers' date" in found["examples"]["wrong"][0]["what"]
    signpost_first = [
        *LADDER[:2],
        LADDER[3],
        person_letter("Our response to your complaint", date(2027, 1, 6)),
    ]
    assert ladder(signpost_first)["wrong"] == 1


def test_an_impasse_resolved_in_time_needs_no_partial_response() -> None:
    resolved = {
        "type": "ImpasseResolved",
        "at": _at(date(2026, 12, 22)).isoformat(),
        "by": "h",
        "resolution": "x",
    }
    assert kinds(ladder(LADDER[:2], extra=(resolved, CLOSED))) == (2, 2, 0, 0, 0, 0)
    found = ladder(LADDER[:3], extra=(resolved, CLOSED))
    assert found["wrong"] == 1 and "after the impasse was resolved" in found["examples"]["wrong"][0]["what"]


def test_judge_totals_count_the_new_checks() -> None:
    record, cases = synthetic([*REF_GP_TRUST, RAISED, CLOSED], [])
    whole = judge(later(record, LADDER, date(2027, 1, 20)), cases=cases)["totals"]
    no_step_2 = judge(later(record, LADDER[:2], date(2027, 1, 20)), cases=cases)["totals"]
    assert no_step_2 == {**whole, "missed": whole["missed"] + 1}


def product_report(run: Run) -> dict[str, Any]:
    """`jointly report --format json` for November and December 2026, as at the run's last day."""
    with Store.open(run.record.store_dir, readonly=True) as store:
        scope = Scope(date(2026, 11, 1), date(2026, 12, 31), TRUST)
        return compute(load_facts(CaseService(store)), scope, london_date(run.record.end))


def test_the_product_report_agrees_with_the_oracle(run: Run) -> None:
    report = product_report(run)
    found = report_check(run.record, report).plain()
    assert found["expected"] == found["ok"] > 20 and found["wrong"] == 0, found
    assert report["cases"] == 1 and report["acknowledgements"]["on_time"] == 1


def test_a_wrong_report_figure_is_found(run: Run) -> None:
    report = product_report(run)
    report["cases"] += 1
    report["acknowledgements"]["on_time"] = 0
    found = report_check(run.record, report).plain()
    assert found["wrong"] == 2
    assert {(e["what"], e["expected"], e["got"]) for e in found["examples"]["wrong"]} == {
        ("report cases", 1, 2),
        ("report acknowledgements.on_time", 1, 0),
    }


@pytest.mark.parametrize(
    ("down", "stopped", "late"),
    [(None, False, 1), ((date(2026, 12, 7), date(2026, 12, 9)), False, 0), (None, True, 0)],
    ids=["up", "down_all_day", "stopped_after_its_first_cycle"],
)
def test_an_update_letter_is_late_after_its_day_unless_the_assistant_was_down_on_it(
    down: tuple[date, date] | None, stopped: bool, late: int
) -> None:
    every = [
        {"type": "UpdateFrequencySet", "at": _at(date(2026, 12, 1), 12).isoformat(), "by": "h",
         "working_days": 5},
        {"type": "NamedContactSet", "at": _at(date(2026, 12, 1), 13).isoformat(), "by": "h"},
    ]  # fmt: skip
    record, cases = synthetic(every, ON_TIME, down=down)
    if stopped:  # stopped at 10:00 on the day, after its 09:00 cycle, until 09:00 on the 10th
        cycles = [c for c in record.cycles if not _at(date(2026, 12, 8), 10) <= c < _at(date(2026, 12, 10))]
        restart = Fault("restart", _at(date(2026, 12, 8), 10), _at(date(2026, 12, 10)))
        record = replace(record, cycles=cycles, faults=[restart])
    update = Letter(
        "<u@j>", (PERSON,), f"An update on your complaint ({REF})", _at(date(2026, 12, 10)), "", 0
    )
    record = replace(record, letters=[*record.letters, replace(update, order=len(record.letters))])

    updates = check(judge(record, cases=cases), "updates")  # due Tue 8 Dec; sent Thu 10 Dec

    assert (updates["late"], updates["ok"]) == (late, 1 - late)
