"""The Ombudsman chronology of a long case: ``python -m bench.bench_chronology``.

One three-organisation case is planned and then lives for months through real commands on a real
store: every working day the person writes (some emails with an attachment) and a handler reads it,
the overdue strand is chased (a reminder, and a letter to the organisation's complaints inbox), and
every third day the person gets a progress update letter; the effect runner sends the letters to a
file outbox, recording each as sent. This goes on until the case holds `--events` events.

Measured: ``write_chronology`` (HTML page, letters rendered, attachments copied, timeline PNG and
SVG drawn, manifest checksummed) into a new folder. ``first_s`` includes importing matplotlib;
``warm_s`` is the median of the next runs. Target from the issue: under 2 s for a 500-event case.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import platform
import shutil
import statistics
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.common import peak_rss_mb
from bot.chronology import write_chronology
from bot.config import Config, Person, local_config
from bot.directory import actor, org_ref, system_actor
from bot.runner import EffectRunner
from bot.service import CaseService
from flows import commands as c
from flows.calendar import add_working_days, is_working_day
from flows.model import Attachment, Channel, ConsentMethod, LeadCriterion, Reminder, ReminderKind, Sender
from flows.model import Person as Complainant
from mail.attachments import AttachmentStore
from mail.outbox import FileOutbox
from mail.settings import FilesOutbox
from store import Store

START = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)  # a Tuesday
SECRET = b"a bench secret for reply addresses, 32+ bytes"
TRUST, GP, COUNCIL = "northshire-trust", "riverside-gp", "northshire-council"


class QuietChat:
    """The chat the notices go to: nobody is listening in a bench."""

    async def say(self, ref: str, text: str, to: Sequence[str]) -> None:
        return None

    def reaches(self, person: Person) -> bool:
        return True


def plan(config: Config, service: CaseService, ref: str) -> None:
    """A three-organisation complaint to an agreed plan; the council's strand due in 10 working days."""
    trust, gp, council = (org_ref(config, o) for o in (TRUST, GP, COUNCIL))
    asha = actor(config.person("asha-patel"))
    day = START.date()
    commands: list[c.Command] = [
        c.ReceiveComplaint(actor=system_actor(config), channel=Channel.EMAIL, received_at=START,
                           complainant=Complainant("A Person", "person@example.org"), home_org=trust,
                           subject="Discharge", text="Discharged without medicines; no GP visit."),
        c.IdentifyOrganisations(actor=asha, orgs=(trust, gp, council)),
        c.RecordConsent(actor=asha, org_ids=(GP, COUNCIL), method=ConsentMethod.PHONE, given_on=day,
                        capacity_confirmed=True),
        c.RecordComplainantView(actor=asha, view="No preference given"),
        c.ProposeLead(actor=asha, org_id=TRUST, criteria=(LeadCriterion.GREATEST_RESPONSIBILITY,)),
        c.RespondToLead(actor=asha, org_id=GP, agrees=True),
        c.RespondToLead(actor=asha, org_id=COUNCIL, agrees=True),
        c.SetUpdateFrequency(actor=asha, working_days=10),
        c.SetNamedContact(actor=asha, name="Asha Patel", email="asha@trust.example"),
        c.SetResponsePeriod(actor=asha, due=add_working_days(day, 120), agreed_with_complainant=True),
        *(c.AddStrand(actor=asha, org_id=o, matters="What happened", target=add_working_days(day, 10))
          for o in (TRUST, GP, COUNCIL)),
        *(c.AgreePlan(actor=asha, org_id=o) for o in (TRUST, GP, COUNCIL)),
    ]  # fmt: skip
    for command in commands:
        service.execute(ref, command, START)


def one_day(
    config: Config, service: CaseService, files: AttachmentStore, ref: str, n: int, now: datetime
) -> None:
    """A day of a long case: an email in and read, the late strand chased, sometimes an update."""
    system, asha = system_actor(config), actor(config.person("asha-patel"))
    attached: tuple[Attachment, ...] = ()
    if n % 5 == 0:
        stored = files.save(
            f"%PDF-1.4 page {n}".encode(), filename=f"scan {n}.pdf", content_type="application/pdf"
        )
        attached = (Attachment(stored.name, stored.original_filename, stored.content_type, stored.size),)
    message_id = f"<bench-{n}@example.org>"
    service.execute(ref, c.ReceiveMessage(actor=system, message_id=message_id, sender=Sender.COMPLAINANT,
                                          from_address="person@example.org", received_at=now,
                                          subject=f"Day {n}", text=f"Still waiting, day {n}.",
                                          attachments=attached), now)  # fmt: skip
    service.execute(ref, c.MarkMessageRead(actor=asha, message_id=message_id), now)
    reminder = Reminder(key=f"{ref}/remind/contribution/S3/{now.date()}/+{n}", kind=ReminderKind.CONTRIBUTION,
                        on=now.date(), schedule=f"contribution/S3/{now.date()}", subject="S3", org_id=COUNCIL,
                        overdue=n)  # fmt: skip
    service.execute(ref, c.SendReminders(actor=system, reminders=(reminder,)), now)
    if n % 3 == 0:
        service.execute(ref, c.SendProgressUpdate(actor=asha, text=f"Update {n}: still chasing."), now)


def build(root: Path, events: int) -> tuple[Config, str, datetime]:
    config = local_config(root)
    assert isinstance(config.outbox, FilesOutbox)
    with Store.open(config.store_dir) as store:
        service = CaseService(store)
        ref = service.new_ref(START, "bench-chronology")
        plan(config, service, ref)
        runner = EffectRunner(config, service, FileOutbox(config.outbox.path), QuietChat(), SECRET)
        files = AttachmentStore(config.service.data_dir / "attachments")
        now, n = START, 0
        while len(store.load(ref).events) < events:
            now += timedelta(days=1)
            if not is_working_day(now.date()):
                continue
            n += 1
            one_day(config, service, files, ref, n, now)
            asyncio.run(runner.run_due(now))
    return config, ref, now


def measure(events: int, runs: int) -> dict[str, Any]:
    root = Path(tempfile.mkdtemp(prefix="jointly-bench-chronology-", dir="/tmp"))
    try:
        started = time.perf_counter()
        config, ref, now = build(root, events)
        built = time.perf_counter() - started
        times = []
        with Store.open(config.store_dir) as store:
            service = CaseService(store)
            record = store.load(ref)
            for run in range(runs + 1):
                started = time.perf_counter()
                write_chronology(service, config, ref, root / f"out-{run}", now)
                times.append(time.perf_counter() - started)
        manifest = json.loads((root / "out-0" / "manifest.json").read_text())
        letters = sum(1 for r in record.effects if r.effect["type"] == "SendLetter")
        return {
            "events": len(record.events), "letters": letters,
            "attachments": len(list((root / "out-0" / "attachments").iterdir())),
            "files": len(manifest["files"]), "build_case_s": round(built, 1),
            "first_s": round(times[0], 3), "warm_s": round(statistics.median(times[1:]), 3),
            "html_kb": round((root / "out-0" / "chronology.html").stat().st_size / 1024),
        }  # fmt: skip
    finally:
        shutil.rmtree(root)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=500)
    parser.add_argument("--runs", type=int, default=5, help="warm runs after the first")
    args = parser.parse_args(argv)
    logging.disable(logging.INFO)
    result = measure(args.events, max(args.runs, 1))
    return {
        "result": result,
        "targets": {"chronology_s_500_events": {"value": result["first_s"], "ok": result["first_s"] < 2}},
        "peak_rss_mb": peak_rss_mb(),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
    }


if __name__ == "__main__":
    print(json.dumps(main(), indent=2))
