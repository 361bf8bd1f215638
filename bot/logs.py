"""Logging: one line per meaningful event, carrying the case reference and never personal details.

Plain lines for a terminal, JSON lines for a log collector (`service.log_format`). Log messages
carry values from outside (header values, addresses, reasons), so the formatters escape every
line break and other control character in a record's message (`escape`): whatever a sender
writes, one record is one line and cannot pass for another. A traceback keeps its lines, each
escaped; in the plain format they are marked `  | ` so that no line of it reads as a record.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType

_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None] | tuple[None, None, None]


def escape(text: str) -> str:
    """`text` with control characters, line and paragraph separators and bidirectional overrides
    written as escapes (`\\n`, `\\x1b`, `\\u2028`), so it shows on one line as it is."""
    return _UNSAFE.sub(lambda found: ascii(found[0])[1:-1], text)


class PlainFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def formatMessage(self, record: logging.LogRecord) -> str:
        record.message = escape(record.message)
        return super().formatMessage(record)

    def formatException(self, ei: _ExcInfo) -> str:
        return "\n".join(f"  | {line}" for line in _lines(super().formatException(ei)))

    def formatStack(self, stack_info: str) -> str:
        return "\n".join(f"  | {line}" for line in _lines(stack_info))


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {
            "at": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": escape(record.getMessage()),
        }
        if ref := getattr(record, "ref", None):
            line["ref"] = escape(str(ref))
        if record.exc_info:
            line["error"] = "\n".join(_lines(self.formatException(record.exc_info)))
        return json.dumps(line)


def configure(log_format: str, level: str, path: Path | None = None) -> None:
    """Log to stderr, or to `path` (a person chatting in this terminal should not see log lines)."""
    handler: logging.Handler = logging.FileHandler(path) if path else logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if log_format == "json" else PlainFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)


def _lines(text: str) -> list[str]:
    return [escape(line) for line in text.split("\n")]
