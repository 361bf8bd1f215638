"""Shared values for the store's tests: a fixed clock and a way to run a real child Python."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


def event(kind: str, **fields: Any) -> dict[str, Any]:
    return {"type": kind, "at": NOW.isoformat(), **fields}


def child_env() -> dict[str, str]:
    """The child imports ``store`` from this checkout, whatever the current directory."""
    return {**os.environ, "PYTHONPATH": str(ROOT)}


def run_python(code: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True, text=True, env=child_env(), cwd=ROOT, timeout=60, check=False,
    )


def eventually(condition: Callable[[], bool], seconds: float = 30.0) -> bool:
    """Whether `condition` comes true within `seconds`, asked every 10 ms: for what the database
    server does after a client has gone (a closed session's locks go when its backend exits)."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True
