"""What `jointly` says to odd input and to a disk that refuses writes: one line naming what is wrong
and the README's exit code, never a traceback. Disks fail for real (tests/disk.py)."""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.app import EXAMPLES
from bot.config import SAMPLE_DIRECTORY
from mail.maildir import MaildirInbox
from store.store import Store
from tests.bot.support import files
from tests.bot.test_cli import JOINTLY, SERVICE_CONFIG, environment, jointly
from tests.disk import fill, read_only, small_disk

SAMPLES = [str(p) for p in sorted(EXAMPLES.glob("*.eml"))]
SECRET_CONFIG = SERVICE_CONFIG.replace(
    'home_organisation = "northshire-trust"\n',
    'home_organisation = "northshire-trust"\nreply_token_secret_env = "JOINTLY_TEST_REPLY_SECRET"\n',
)
SERVICE_ON_A_SMALL_DISK = """
[service]
home_organisation = "northshire-trust"
data_dir = "disk/var"

[mailbox]
kind = "maildir"
path = "inbox"

[outbox]
kind = "files"
path = "outbox"
from_address = "complaints@northshire-trust.example"

[runner]
retry_base_seconds = 1
retry_cap_seconds = 2
"""


def refused(result: subprocess.CompletedProcess[str], code: int, *says: str) -> str:
    """The one line of stderr, after checking the exit code and what it says."""
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == code, result.stderr
    [line] = result.stderr.splitlines()
    assert all(part in line for part in says), line
    return line


@pytest.fixture(scope="module")
def odd(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding things that are not what the commands want."""
    where = tmp_path_factory.mktemp("odd")
    (where / "no-maildir").mkdir()
    (where / "a-file").write_text("just text\n")
    (where / "full").mkdir()
    (where / "full" / "old.txt").write_text("from before\n")
    return where


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("show", "Q-../../x"), "not a case reference: 'Q-../../x'"),
        (("show", "JC 1"), "not a case reference"),
        (("show", ""), "not a case reference: ''"),
        (("show", "x" * 200), "not a case reference"),
        (("chronology", "../JC-1", "--out", "bundle"), "not a case reference"),
        (("chronology", "JC-1", "--out", "a-file"), "not a folder: a-file"),
        (("referral", "..", "--org", "northshire-trust", "--ombudsman", "phso"), "not a case reference"),
        (("destroy", "JC-1/x", "--by", "asha-patel", "--reason", "due"), "not a case reference"),
        (("import", "missing.eml"), "no such file or folder: missing.eml"),
        (("import", "no-maildir"), "not a Maildir folder (it has no cur/ and new/ folders): no-maildir"),
        (("import", "/dev/null"), "neither a file nor a folder: /dev/null"),
        (("export-person", "pat@example.org", "--out", "a-file"), "not a folder: a-file"),
        (("export-person", "no address", "--out", "sar"), "not an email address: 'no address'"),
        (("export-person", "pat@example.org", "--out", "full"), "is not empty"),
        (("--data-dir", "a-file", "cases"), "not a folder: a-file"),
        (("report", "--from", "31/03/2026"), "not a date"),
        (("report", "--org", "nowhere"), "no organisation 'nowhere'"),
        (("check-config", "missing.toml"), "missing.toml: cannot be read"),
        (("cses",), "invalid choice: 'cses'"),
    ],
)
def test_an_odd_argument_exits_2_with_one_line_saying_why(
    odd: Path, args: tuple[str, ...], says: str
) -> None:
    refused(jointly(odd, *args), 2, says)


@pytest.mark.parametrize(
    ("value", "says"),
    [(None, "not set"), ("", "not set"), ("short", "is only 5 bytes long")],
    ids=["unset", "empty", "short"],
)
@pytest.mark.parametrize("command", [("import", *SAMPLES), ("run", "--once")])
def test_a_missing_or_short_reply_secret_is_refused_by_every_command_that_needs_it(
    tmp_path: Path, command: tuple[str, ...], value: str | None, says: str
) -> None:
    (tmp_path / "config.toml").write_text(SECRET_CONFIG + SAMPLE_DIRECTORY.read_text())
    secret = {} if value is None else {"JOINTLY_TEST_REPLY_SECRET": value}

    refused(jointly(tmp_path, *command, **secret), 4, "JOINTLY_TEST_REPLY_SECRET", says)

    assert not list((tmp_path / "var").rglob("*.json"))  # nothing taken in, nothing written


def test_a_reply_secret_of_32_bytes_is_taken(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text(SECRET_CONFIG + SAMPLE_DIRECTORY.read_text())

    result = jointly(tmp_path, "import", *SAMPLES, JOINTLY_TEST_REPLY_SECRET="k" * 32)

    assert result.returncode == 0, result.stderr
    assert "3 new" in result.stdout


@pytest.mark.parametrize(
    ("command", "made"),
    [(("run", "--once"), False), (("run", "--once"), True), (("import", *SAMPLES), True)],
    ids=["run, new store", "run", "import"],
)
def test_a_read_only_data_folder_exits_3_naming_the_store(
    tmp_path: Path, command: tuple[str, ...], made: bool
) -> None:
    (tmp_path / "var").mkdir()
    if made:
        Store.open(tmp_path / "var" / "store").close()

    with read_only(tmp_path / "var"):
        result = jointly(tmp_path, *command)

    refused(result, 3, "jointly: the store cannot write var/store: ")


@pytest.mark.parametrize("made", [False, True], ids=["new store", "made"])
def test_a_read_only_data_folder_can_still_be_read(tmp_path: Path, made: bool) -> None:
    (tmp_path / "var").mkdir()
    if made:
        Store.open(tmp_path / "var" / "store").close()

    with read_only(tmp_path / "var"):
        result = jointly(tmp_path, "cases")

    assert result.returncode == 0, result.stderr
    assert result.stdout == "" and result.stderr == ""


def test_a_full_disk_exits_3_and_keeps_nothing_of_the_import(tmp_path: Path) -> None:
    with small_disk(tmp_path / "var") as disk:
        assert jointly(tmp_path, "cases").returncode == 0
        filler = fill(disk)

        full = jointly(tmp_path, "import", *SAMPLES)
        refused(full, 3, "jointly: the store cannot write var/store", "No space left on device")
        assert jointly(tmp_path, "cases", "--json").stdout.strip() == "[]"

        filler.unlink()
        again = jointly(tmp_path, "import", *SAMPLES)
        assert again.returncode == 0 and "3 new" in again.stdout, again.stderr


def test_the_service_waits_out_a_full_disk_and_carries_on_by_itself(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text(SERVICE_ON_A_SMALL_DISK + SAMPLE_DIRECTORY.read_text())
    out, log = tmp_path / "out.txt", tmp_path / "err.txt"
    with small_disk(tmp_path / "disk") as disk, out.open("w") as stdout, log.open("w") as stderr:
        process = subprocess.Popen(
            [str(JOINTLY), "run"], cwd=tmp_path, env=environment(tmp_path),
            stdin=subprocess.DEVNULL, stdout=stdout, stderr=stderr, text=True,
        )  # fmt: skip
        try:
            until(lambda: (disk / "var" / "store" / "cursors" / "reply-secret.json").exists())
            filler = fill(disk)
            inbox = MaildirInbox(tmp_path / "inbox")
            for sample in SAMPLES:
                inbox.deliver(Path(sample).read_bytes())
            until(lambda: "cannot write to its data folder" in out.read_text())
            until(lambda: log.read_text().count("trying again") >= 2)  # a retry, still full
            assert process.poll() is None and len(inbox.pending()) == 3
            assert files(tmp_path / "outbox") == []

            filler.unlink()
            until(lambda: len(files(tmp_path / "outbox")) == 3)
            assert inbox.pending() == []
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=10)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()

    err = log.read_text()
    assert process.returncode == 0 and "Traceback" not in err, err
    assert "No space left on device" in err
    assert out.read_text().count("cannot write to its data folder") == 1


def until(condition: Callable[[], bool], seconds: float = 15) -> None:
    """Wait for another process to get there (not a timing assertion: the limit is generous)."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the service did not get there"
        time.sleep(0.05)
