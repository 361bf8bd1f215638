"""Moving between stores: a file store of 1,000 cases copied to PostgreSQL and back gives the same
`jointly report` and the same `show --json` for every case; a copy refuses a store not empty."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.cli import main, show_case
from bot.config import local_config
from bot.directory import actor, org_ref, system_actor
from bot.service import CaseService
from flows import commands as c
from flows.model import Channel, Person
from store.copy import checksum
from store.ports import open_store

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
CASES = 1000


def seeded(folder: Path) -> list[str]:
    """`CASES` complaints in a file store: acknowledgements pending or sent, some organisations
    identified, every write with a key, and a cursor."""
    config = local_config(folder)
    refs = []
    with open_store(config.store_dir) as store:
        service = CaseService(store)
        home = org_ref(config, "northshire-trust")
        handler = actor(config.person("asha-patel"))
        with store.batch():
            for n in range(CASES):
                at = NOW - timedelta(minutes=n)
                received = c.ReceiveComplaint(
                    actor=system_actor(config), channel=Channel.EMAIL, received_at=at,
                    complainant=Person(f"Person {n}", f"p{n}@example.org"), home_org=home,
                    subject=f"Complaint {n}", text="The discharge went badly.",
                )  # fmt: skip
                ref = service.new_ref(at, f"copy-{n}")
                service.execute(ref, received, NOW, [f"mail:<{n}@example.org>"])
                if n % 3 == 0:
                    service.execute(ref, c.IdentifyOrganisations(actor=handler, orgs=(home,)), NOW)
                refs.append(ref)
        for stream, effect in store.due_effects(NOW)[: CASES // 2]:  # half the letters went
            store.complete_effect(stream, effect.key, now=NOW)
        store.set_cursor("imap", {"uidvalidity": 7, "uid": CASES})
    return refs


def report_and_cases(
    folder: Path, refs: list[str], capsys: pytest.CaptureFixture[str]
) -> tuple[str, list[str]]:
    capsys.readouterr()
    assert main(["--data-dir", str(folder), "report", "--format", "json"]) == 0
    report = capsys.readouterr().out
    shown = []
    with open_store(local_config(folder).store_dir, readonly=True) as store:
        for ref in refs:
            assert show_case(store, ref, as_json=True, now=NOW) == 0
            shown.append(capsys.readouterr().out)
    return report, shown


def test_a_file_store_copied_to_postgresql_and_back_reports_and_shows_the_same(
    tmp_path: Path, postgres_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    first, back = tmp_path / "first", tmp_path / "back"
    refs = seeded(first)

    assert main(["store", "copy", "--from", str(first / "store"), "--to", postgres_url]) == 0
    said = capsys.readouterr().out
    assert (
        f"copied {CASES} cases" in said and "checksum match" in said and "@" not in said.split(" to ")[1][:1]
    )
    assert main(["store", "copy", "--from", postgres_url, "--to", str(back / "store")]) == 0

    before, after = report_and_cases(first, refs, capsys), report_and_cases(back, refs, capsys)
    assert json.loads(before[0]) == json.loads(after[0])
    assert before[1] == after[1]
    with open_store(first / "store") as a, open_store(postgres_url) as b:
        assert a.cursors() == b.cursors() == {"imap": {"uidvalidity": 7, "uid": CASES}}
        assert all(checksum(a.export(ref)) == checksum(b.export(ref)) for ref in refs[::50])


def test_a_copy_refuses_a_store_that_is_not_empty(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source, target = tmp_path / "a" / "store", tmp_path / "b" / "store"
    for where in (source, target):
        with open_store(where) as store:
            store.append("JC-1", [{"type": "a"}], expected_version=0, now=NOW)
    assert main(["store", "copy", "--from", str(source), "--to", str(target)]) == 3
    assert "not empty" in capsys.readouterr().err

