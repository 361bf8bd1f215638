"""What the benches share: measuring in a fresh process over a seeded store, and peak memory."""

from __future__ import annotations

import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any


def probed(module: str, seed: Callable[[Path, int], None], count: int) -> dict[str, Any]:
    """Seed a temporary store with `count` cases, then run `module --probe DIR` in a new process
    (so seeding does not colour its timings or memory) and return its figures with the seed time."""
    root = Path(tempfile.mkdtemp(prefix=f"jointly-{module.rsplit('.', 1)[-1]}-", dir="/tmp"))
    try:
        started = time.perf_counter()
        seed(root, count)
        seeded = time.perf_counter() - started
        child = subprocess.run(
            [sys.executable, "-m", module, "--probe", str(root)],
            capture_output=True, text=True, check=True, cwd=Path(__file__).resolve().parents[1],
        )  # fmt: skip
        return {"seed_s": round(seeded, 1), **json.loads(child.stdout)}
    finally:
        shutil.rmtree(root)


def peak_rss_mb() -> float:
    """This process's own peak (VmHWM, reset by exec): getrusage's figure can be the parent's,
    inherited at fork, when the parent was bigger."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
