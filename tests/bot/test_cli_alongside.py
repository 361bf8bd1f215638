"""Commands beside a running service: those that only read work while `jointly run` holds the
store, and give the same figures as once it has stopped; those that change records are refused at
once with how to go about it (exit 3), never left waiting, never a second writer."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.app import EXAMPLES
from bot.config import SAMPLE_DIRECTORY
from mail.maildir import MaildirInbox
from store.store import Store
from tests.bot.support import files
from tests.bot.test_cli import JOINTLY, SERVICE_CONFIG, environment, jointly

BURST = 30


def burst(inbox: MaildirInbox, count: int) -> None:
    """`count` distinct complaints, the samples again under new Message-IDs."""
    samples = [p.read_bytes() for p in sorted(EXAMPLES.glob("*.eml"))]
    for n in range(count):
        raw = re.sub(rb"Message-ID: <[^>]+>", f"Message-ID: <burst-{n}@example.org>".encode(),
                     samples[n % len(samples)], count=1)  # fmt: skip
        inbox.deliver(raw)


@pytest.fixture
def service(tmp_path: Path) -> Iterator[subprocess.Popen[str]]:
    """`jointly run` with a configuration (so it keeps running), a burst of mail waiting for it."""
    (tmp_path / "config.toml").write_text(SERVICE_CONFIG + SAMPLE_DIRECTORY.read_text())
    burst(MaildirInbox(tmp_path / "var" / "inbox"), BURST)
    process = subprocess.Popen(
        [str(JOINTLY), "run"], cwd=tmp_path, env=environment(tmp_path), stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=10)


def waiting(inbox: Path) -> int:
    return len(files(inbox / "new")) + len(files(inbox / "cur"))


def ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    return result.stdout


def figures(where: Path) -> tuple[list[str], dict[str, Any]]:
    refs = [row["ref"] for row in json.loads(ok(jointly(where, "cases", "--json")))]
    report = json.loads(ok(jointly(where, "report", "--format", "json")))
    report["period"].pop("today")
    return refs, report


def stop(process: subprocess.Popen[str]) -> None:
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=20)
    assert process.returncode == 0


def test_reading_commands_during_a_burst_agree_with_the_figures_after_it_stops(
    service: subprocess.Popen[str], tmp_path: Path
) -> None:
    inbox = tmp_path / "var" / "inbox"
    deadline = time.monotonic() + 60  # waiting for another process, not timing a result
    rounds = 0
    while (rounds < 2 or waiting(inbox)) and time.monotonic() < deadline:
        assert service.poll() is None, "the service should keep running"
        refs, report = figures(tmp_path)
        assert len(refs) <= report["cases"] <= BURST  # the report ran later: as many or more
        for ref in refs[-1:]:  # every case listed opens, whole
            ok(jointly(tmp_path, "show", ref, "--json"))
            ok(jointly(tmp_path, "chronology", ref, "--out", str(tmp_path / f"bundle-{rounds}")))
        rounds += 1
    assert not waiting(inbox)  # all taken in: moved out of the inbox once on the record
    running = figures(tmp_path)

    stop(service)

    assert running[0] and running == figures(tmp_path)


def test_writing_commands_are_refused_at_once_while_the_service_runs(
    service: subprocess.Popen[str], tmp_path: Path
) -> None:
    deadline = time.monotonic() + 30
    while not json.loads(ok(jointly(tmp_path, "cases", "--json"))) and time.monotonic() < deadline:
        time.sleep(0.05)
    ref = json.loads(ok(jointly(tmp_path, "cases", "--json")))[0]["ref"]

    refused = [
        jointly(tmp_path, "referral", ref, "--org", "northshire-trust", "--ombudsman", "phso"),
        jointly(tmp_path, "destroy", ref, "--by", "nobody", "--reason", "test"),
        jointly(tmp_path, "import", str(EXAMPLES / "01-nhs-only.eml")),
    ]

    for result, command in zip(refused, ("referral", "destroy", "import"), strict=True):
        assert result.returncode == 3, result.stderr
        [line] = result.stderr.splitlines()
        assert f"`jointly {command}` changes records" in line
        assert f"pid {service.pid}" in line and "stop the service" in line
    assert service.poll() is None


def test_a_reading_command_beside_another_holder_of_the_store_works(tmp_path: Path) -> None:
    with Store.open(tmp_path / "var" / "store"):
        result = jointly(tmp_path, "cases")

    assert result.returncode == 0, result.stderr
    assert os.path.exists(tmp_path / "var" / "store" / "store.lock")
