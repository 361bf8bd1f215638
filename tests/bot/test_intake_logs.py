"""Log lines cannot be forged from outside: header values that decode to line breaks and control
characters are escaped, so each record is exactly one line, in the plain and the JSON format."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.intake import Intake
from bot.logs import configure
from mail.maildir import MaildirInbox
from tests.bot.support import NOW, RECEIVED, complaint

FORGED = "2026-11-25 13:00:00,000 INFO jointly.intake: message 1 is a new case"
# Auto-Submitted as RFC 2047 words that decode to CR LF, a forged record, U+2028, ESC and NUL.
HOSTILE = "=?utf-8?q?auto-replied=0D=0A" + FORGED.replace(" ", "_") + "=E2=80=A8=1B[2J=00_end?="


class Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def records() -> Iterator[Records]:
    """Every record logged after `configure` (which replaces the root's handlers), then the root
    as it was."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    counted = Records()
    yield counted
    for handler in root.handlers:
        handler.close()
    root.handlers[:] = handlers
    root.setLevel(level)


def log_to(path: Path, log_format: str, records: Records) -> None:
    """Log as `jointly` does, to `path`, and count the records beside it."""
    configure(log_format, "INFO", path)
    logging.getLogger().addHandler(records)


@pytest.mark.parametrize("log_format", ["plain", "json"])
def test_a_hostile_header_is_one_escaped_line_per_record(
    log_format: str, intake: Intake, inbox: MaildirInbox, records: Records, tmp_path: Path
) -> None:
    path = tmp_path / "jointly.log"
    log_to(path, log_format, records)
    inbox.deliver(complaint("<away@example.org>", extra=(f"Auto-Submitted: {HOSTILE}",)), RECEIVED)

    [outcome] = intake.poll(NOW)

    assert outcome.outcome == "automatic"
    lines = path.read_text(encoding="utf-8").split("\n")
    assert lines.pop() == ""  # the file ends with a line break: every line is complete
    assert len(lines) == len(records.records) >= 1
    assert all(line.isprintable() for line in lines)
    messages = [json.loads(line)["message"] for line in lines] if log_format == "json" else lines
    [automatic] = [m for m in messages if "is automatic" in m]
    escaped = f"auto-replied\\r\\n{FORGED}\\u2028\\x1b[2J end".lower()  # as the classifier has it
    assert escaped in automatic
    assert not any(m.lower().startswith(FORGED.lower()) for m in messages)


def test_a_traceback_is_marked_so_no_line_of_it_reads_as_a_record(records: Records, tmp_path: Path) -> None:
    path = tmp_path / "jointly.log"
    log_to(path, "plain", records)
    try:
        raise ValueError(f"bad value\r\n{FORGED}\x1b[2J")
    except ValueError:
        logging.getLogger("jointly.test").exception("from %s", f"a\n{FORGED}")

    first, *rest = path.read_text(encoding="utf-8").splitlines()

    assert first.endswith(f"ERROR jointly.test: from a\\n{FORGED}")
    assert rest and all(line.startswith("  | ") and line.isprintable() for line in rest)
    assert "  | ValueError: bad value\\r" in rest and f"  | {FORGED}\\x1b[2J" in rest
