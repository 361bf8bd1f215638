"""The `jointly` command as a person runs it: a separate process in a directory with no config.toml,
no terminal on stdin, and an environment holding nothing of the developer's shell."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import tomllib
from datetime import datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from bot.app import EXAMPLES
from bot.config import SAMPLE_DIRECTORY
from flows.calendar import acknowledgement_due
from flows.model import REFERENCE
from mail.maildir import MaildirInbox
from store.store import Store
from tests.bot.support import SAMPLE_ADDRESSES, SAMPLE_NAMES, files, read_eml

JOINTLY = Path(sys.executable).with_name("jointly")
EXAMPLE_CONFIG = Path(__file__).parents[2] / "config.example.toml"
ORGANISATIONS_QUESTION = "Which organisations does this complaint involve?"
README_CASE_KEYS = {
    "ref", "status", "open", "received_at", "acknowledgement_due", "acknowledged_at",
    "organisations", "lead", "next_deadline", "deadlines",
}  # fmt: skip
IMAP_CONFIG = """
[service]
home_organisation = "northshire-trust"

[mailbox]
kind = "imap"
host = "127.0.0.1"
port = 9  # nothing listens here: the mailbox is unreachable
username = "complaints@northshire-trust.example"
password_env = "JOINTLY_TEST_IMAP_PASSWORD"

[outbox]
kind = "files"
path = "var/outbox"
from_address = "complaints@northshire-trust.example"
"""


def environment(home: Path, **extra: str) -> dict[str, str]:
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home), "LANG": "C.UTF-8", **extra}


def jointly(cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(JOINTLY), *args],
        cwd=cwd,
        env=environment(cwd, **env),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def listing(cwd: Path) -> list[dict[str, Any]]:
    result = jointly(cwd, "cases", "--json")
    assert result.returncode == 0, result.stderr
    cases: list[dict[str, Any]] = json.loads(result.stdout)
    return cases


@pytest.fixture(scope="module")
def first_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess[str]]:
    """A directory after one `jointly run --once` (read only: tests that change it use their own)."""
    where = tmp_path_factory.mktemp("first-run")
    return where, jointly(where, "run", "--once")


def test_run_once_takes_in_the_samples_and_writes_three_acknowledgements(
    first_run: tuple[Path, subprocess.CompletedProcess[str]],
) -> None:
    where, result = first_run

    assert result.returncode == 0, result.stderr
    letters = files(where / "var" / "outbox")
    assert len(letters) == 3
    assert all(p.suffix == ".eml" for p in letters)
    assert result.stdout.count(ORGANISATIONS_QUESTION) == 3
    assert result.stdout.count("[chat] New complaint") == 3
    for personal in (*SAMPLE_NAMES, *SAMPLE_ADDRESSES):
        assert personal not in result.stdout
        assert personal not in result.stderr


def test_cases_json_lists_the_three_acknowledged_cases(
    first_run: tuple[Path, subprocess.CompletedProcess[str]],
) -> None:
    cases = listing(first_run[0])

    assert len(cases) == 3
    for case in cases:
        assert set(case) >= README_CASE_KEYS
        assert case["status"] == "received"
        assert case["open"] is True
        due = acknowledgement_due(datetime.fromisoformat(case["received_at"]))
        assert case["acknowledgement_due"] == due.isoformat()
        assert case["acknowledged_at"] is not None


def test_show_json_gives_the_timeline_with_the_letter_sent(
    first_run: tuple[Path, subprocess.CompletedProcess[str]],
) -> None:
    where = first_run[0]
    ref = listing(where)[0]["ref"]

    result = jointly(where, "show", ref, "--json")

    assert result.returncode == 0, result.stderr
    timeline = json.loads(result.stdout)
    assert timeline["ref"] == ref
    assert [e["type"] for e in timeline["events"]] == ["ComplaintReceived", "LetterQueued", "LetterSent"]
    assert all(e["at"] and e["by"] for e in timeline["events"])
    [letter] = timeline["letters"]
    assert letter["template"] == "acknowledgement"
    assert letter["message_id"].startswith("<")


def test_show_an_unknown_case_exits_1(first_run: tuple[Path, subprocess.CompletedProcess[str]]) -> None:
    result = jointly(first_run[0], "show", "NOPE")

    assert result.returncode == 1
    assert "there is no case NOPE" in result.stderr
    assert "Traceback" not in result.stderr


def test_show_a_reference_that_cannot_exist_exits_2_without_a_traceback(
    first_run: tuple[Path, subprocess.CompletedProcess[str]],
) -> None:
    result = jointly(first_run[0], "show", "JC 1")

    assert result.returncode == 2
    assert "not a case reference: 'JC 1'" in result.stderr
    assert "Traceback" not in result.stderr


def test_show_a_quarantined_message_does_not_crash(tmp_path: Path) -> None:
    (tmp_path / "var" / "inbox" / "new").mkdir(parents=True)
    (tmp_path / "var" / "inbox" / "new" / "unreadable").write_bytes(b"")
    assert jointly(tmp_path, "run", "--once").returncode == 0
    [stream] = [p.stem for p in (tmp_path / "var" / "store" / "streams").iterdir() if p.name.startswith("Q-")]

    result = jointly(tmp_path, "show", stream)

    assert "Traceback" not in result.stderr
    assert result.returncode in (0, 1)


def test_a_second_run_adds_no_letter_and_no_case(tmp_path: Path) -> None:
    assert jointly(tmp_path, "run", "--once").returncode == 0
    before = files(tmp_path / "var" / "outbox")

    again = jointly(tmp_path, "run", "--once")

    assert again.returncode == 0, again.stderr
    assert files(tmp_path / "var" / "outbox") == before
    assert len(listing(tmp_path)) == 3
    assert "New complaint" not in again.stdout
    assert again.stdout.count(ORGANISATIONS_QUESTION) == 3


def test_check_config_accepts_the_example(tmp_path: Path) -> None:
    result = jointly(tmp_path, "check-config", str(EXAMPLE_CONFIG))

    assert result.returncode == 0, result.stderr
    assert "valid" in result.stdout


def test_check_config_warns_when_no_mail_server_is_trusted_to_authenticate_senders(tmp_path: Path) -> None:
    text = EXAMPLE_CONFIG.read_text()
    assert 'trusted_authserv_ids = [""]\n' in text
    (tmp_path / "open.toml").write_text(text.replace('trusted_authserv_ids = [""]\n', ""))

    result = jointly(tmp_path, "check-config", "open.toml")

    assert result.returncode == 0, result.stderr
    assert "warning: mailbox.trusted_authserv_ids is not set" in result.stdout
    assert "warning" not in jointly(tmp_path, "check-config", str(EXAMPLE_CONFIG)).stdout


def test_check_config_names_a_port_in_quotes(tmp_path: Path) -> None:
    text = EXAMPLE_CONFIG.read_text()
    assert "port = 993\n" in text
    (tmp_path / "bad.toml").write_text(text.replace("port = 993\n", 'port = "abc"\n'))

    result = jointly(tmp_path, "check-config", "bad.toml")

    assert result.returncode == 2
    assert "mailbox.port: must be a whole number" in result.stderr
    assert "'abc'" in result.stderr


def test_check_config_names_a_person_of_an_unknown_organisation(tmp_path: Path) -> None:
    text = EXAMPLE_CONFIG.read_text()
    index = len(tomllib.loads(text)["people"])
    stranger = '\n[[people]]\nid = "kim"\nname = "Kim"\norganisation = "northshire-trsut"\n'
    stranger += 'roles = ["handler"]\nemail = "kim@northshire-trust.example"\n'
    (tmp_path / "bad.toml").write_text(text + stranger)

    result = jointly(tmp_path, "check-config", "bad.toml")

    assert result.returncode == 2
    assert f"people[{index}].organisation: unknown organisation 'northshire-trsut'" in result.stderr


def test_bad_usage_exits_2_as_the_module_docstring_says(tmp_path: Path) -> None:
    assert jointly(tmp_path, "cses").returncode == 2


def test_a_store_held_by_another_process_is_refused_with_exit_3(tmp_path: Path) -> None:
    with Store.open(tmp_path / "var" / "store"):
        result = jointly(tmp_path, "referral", "JC-2026-0001", "--org", "x", "--ombudsman", "phso")

    assert result.returncode == 3
    assert "held by a running jointly" in result.stderr
    assert f"pid {os.getpid()}" in result.stderr


def test_run_with_imap_and_no_password_exits_4_naming_the_variable(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text(IMAP_CONFIG + SAMPLE_DIRECTORY.read_text())

    result = jointly(tmp_path, "run", "--once")

    assert result.returncode == 4
    assert "JOINTLY_TEST_IMAP_PASSWORD" in result.stderr
    assert not (tmp_path / "var" / "outbox").exists()


def test_run_once_with_an_unreachable_mailbox_says_so_and_exits_4(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text(IMAP_CONFIG + SAMPLE_DIRECTORY.read_text())

    result = jointly(tmp_path, "run", "--once", JOINTLY_TEST_IMAP_PASSWORD="secret")

    assert result.returncode == 4
    assert "the mailbox could not be reached" in result.stderr
    assert "Traceback" not in result.stderr
    assert "secret" not in result.stderr


SERVICE_CONFIG = """
[service]
home_organisation = "northshire-trust"

[mailbox]
kind = "maildir"
path = "var/inbox"

[outbox]
kind = "files"
path = "var/outbox"
from_address = "complaints@northshire-trust.example"
"""


def test_local_mode_without_a_terminal_runs_one_cycle_and_exits(tmp_path: Path) -> None:
    result = jointly(tmp_path, "run")

    assert result.returncode == 0, result.stderr
    assert len(files(tmp_path / "var" / "outbox")) == 3
    assert "no terminal" in result.stdout


def test_run_with_a_config_keeps_going_until_sigterm_then_stops_cleanly(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text(SERVICE_CONFIG + SAMPLE_DIRECTORY.read_text())
    inbox = MaildirInbox(tmp_path / "var" / "inbox")
    for sample in sorted(EXAMPLES.glob("*.eml")):
        inbox.deliver(sample.read_bytes())
    outbox = tmp_path / "var" / "outbox"
    process = subprocess.Popen(
        [str(JOINTLY), "run"],
        cwd=tmp_path,
        env=environment(tmp_path),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 10  # waiting for another process, not timing a result
        while len(files(outbox)) < 3 and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(files(outbox)) == 3
        assert process.poll() is None, "it should keep running without a terminal"

        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()

    assert process.returncode == 0, err
    assert "stopped" in err
    assert "Traceback" not in err
    assert out.count("[chat] New complaint") == 3


def test_chronology_and_subject_access_write_their_bundles(
    first_run: tuple[Path, subprocess.CompletedProcess[str]], tmp_path: Path
) -> None:
    where, _ = first_run
    ref = listing(where)[0]["ref"]

    chronology = jointly(where, "chronology", ref, "--out", str(tmp_path / "bundle"))
    export = jointly(where, "export-person", SAMPLE_ADDRESSES[0].upper(), "--out", str(tmp_path / "sar"))
    again = jointly(where, "chronology", ref, "--out", str(tmp_path / "bundle"))  # not empty any more

    assert chronology.returncode == 0, chronology.stderr
    assert (tmp_path / "bundle" / "chronology.html").exists() and (
        tmp_path / "bundle" / "manifest.json"
    ).exists()
    assert export.returncode == 0, export.stderr
    assert (tmp_path / "sar" / "README.txt").exists()
    assert again.returncode == 2 and "jointly:" in again.stderr and "Traceback" not in again.stderr


def test_retention_lists_nothing_young_and_destroy_refuses_before_review(
    first_run: tuple[Path, subprocess.CompletedProcess[str]],
) -> None:
    where, _ = first_run
    ref = listing(where)[0]["ref"]

    listed = jointly(where, "retention", "--json")
    refused = jointly(where, "destroy", ref, "--by", "asha-patel", "--reason", "Too soon")
    stranger = jointly(where, "destroy", ref, "--by", "nobody", "--reason", "Too soon")

    assert listed.returncode == 0 and json.loads(listed.stdout) == []
    assert refused.returncode == 1 and "Traceback" not in refused.stderr  # the case is still open
    assert stranger.returncode == 2 and "no person 'nobody'" in stranger.stderr
    assert listing(where)[0]["ref"] == ref  # nothing was destroyed


def reply_to_first_acknowledgement(where: Path, text: str) -> str:
    """The person answers their acknowledgement letter by email; the case's reference."""
    [acknowledgement, *_] = [read_eml(p) for p in files(where / "var" / "outbox")]
    reply = EmailMessage()
    reply["From"] = str(acknowledgement["To"])
    reply["To"] = str(acknowledgement["From"])
    reply["Subject"] = "Re: " + str(acknowledgement["Subject"])
    reply["Message-ID"] = "<reply-1@mail.example.org>"
    reply["In-Reply-To"] = str(acknowledgement["Message-ID"])
    reply.set_content(text)
    (where / "var" / "inbox" / "new" / "reply-1.eml").write_bytes(reply.as_bytes())
    [ref] = REFERENCE.findall(str(acknowledgement["Subject"]))
    return ref


def test_show_prints_the_complaint_and_each_message_whole_in_the_terminal_width(tmp_path: Path) -> None:
    assert jointly(tmp_path, "run", "--once").returncode == 0
    said = " ".join(["I have more to add about the discharge and the missed visits."] * 6)
    ref = reply_to_first_acknowledgement(tmp_path, said)
    assert jointly(tmp_path, "run", "--once").returncode == 0
    complaint = json.loads(jointly(tmp_path, "show", ref, "--json").stdout)["events"][0]["text"]

    full = jointly(tmp_path, "show", ref, COLUMNS="60")

    assert full.returncode == 0, full.stderr
    flowing = " ".join(full.stdout.split())
    assert " ".join(complaint.split()) in flowing
    assert said in flowing
    assert "Messages received (1)" in full.stdout
    assert max(len(line) for line in full.stdout.splitlines()) <= 59


def test_show_brief_gives_the_timeline_in_short(tmp_path: Path) -> None:
    assert jointly(tmp_path, "run", "--once").returncode == 0
    ref = listing(tmp_path)[0]["ref"]

    brief = jointly(tmp_path, "show", ref, "--brief")

    assert brief.returncode == 0, brief.stderr
    lines = brief.stdout.splitlines()
    assert lines[0].split() == [ref, "received"]
    assert [line.split()[3] for line in lines[1:4]] == ["ComplaintReceived", "LetterQueued", "LetterSent"]
    assert "text=" in lines[1] and "..." in lines[1]  # each text cut short
    assert lines[-1].strip().startswith("due ")
