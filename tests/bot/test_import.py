"""`jointly import`: files, mboxes and Maildir folders through the same intake, each message's fate
reported in input order."""

from __future__ import annotations

import json
import mailbox
from pathlib import Path

from bot.app import EXAMPLES
from tests.bot.support import complaint
from tests.bot.test_cli import jointly

AWAY = complaint(
    "<away@example.org>",
    "I am away until Monday",
    "Automatic reply",
    "Pat <pat@example.org>",
    ("Auto-Submitted: auto-replied",),
)


def an_mbox(path: Path, *messages: bytes) -> Path:
    box = mailbox.mbox(path)
    for message in messages:
        box.add(message)
    box.close()
    return path


def a_maildir(path: Path, *messages: bytes) -> Path:
    box = mailbox.Maildir(path)
    for message in messages:
        box.add(message)
    return path


def test_every_message_is_reported_in_input_order_with_its_outcome(tmp_path: Path) -> None:
    samples = sorted(EXAMPLES.glob("*.eml"))
    box = an_mbox(tmp_path / "export.mbox", AWAY, complaint("<m2@example.org>", "Second complaint"))
    folder = a_maildir(tmp_path / "Maildir", b"")
    data = tmp_path / "data"

    result = jointly(
        tmp_path,
        "--data-dir",
        str(data),
        "import",
        "--json",
        str(samples[0]),
        str(box),
        str(folder),
        str(samples[0]),
    )

    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    outcomes = [(m["outcome"], m.get("kind") or m.get("reason")) for m in report["messages"]]
    assert outcomes == [
        ("new", None),
        ("automatic", "auto_reply"),
        ("new", None),
        ("quarantined", "unreadable email: empty"),
        ("duplicate", None),
    ]
    sources = [m["source"] for m in report["messages"]]
    assert sources[0] == sources[4] == str(samples[0])
    assert sources[1:3] == [f"{box}#1", f"{box}#2"]
    assert sources[3].startswith(f"{folder}/")
    assert report["totals"] == {"new": 2, "automatic": 1, "quarantined": 1, "duplicate": 1}
    refs = [m["ref"] for m in report["messages"] if m["outcome"] == "new"]
    assert all(r.startswith("JC-") for r in refs) and report["messages"][4]["ref"] == refs[0]
    assert (data / "store").is_dir() and not (tmp_path / "var").exists()  # the whole run is in --data-dir
    assert len(mailbox.Maildir(folder)) == 1  # sources are read, never changed


def test_the_imported_cases_are_listed_and_their_letters_queued(tmp_path: Path) -> None:
    jointly(tmp_path, "import", *map(str, sorted(EXAMPLES.glob("*.eml"))))

    listed = json.loads(jointly(tmp_path, "cases", "--json").stdout)

    assert len(listed) == 3 and all(c["acknowledged_at"] is None for c in listed)


def test_the_plain_summary_counts_and_a_missing_path_is_refused(tmp_path: Path) -> None:
    result = jointly(tmp_path, "import", str(an_mbox(tmp_path / "a.mbox", AWAY)))
    assert result.returncode == 0 and "1 automatic" in result.stdout

    missing = jointly(tmp_path, "import", str(tmp_path / "nope.eml"))
    assert missing.returncode == 2 and "no such file" in missing.stderr
