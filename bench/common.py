"""What the benches share: measuring in a fresh process over a seeded store, and peak memory."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any


def by_size(
    argv: list[str] | None,
    doc: str,
    sizes: Sequence[int],
    probe: Callable[[Path], dict[str, Any]],
    measure: Callable[[int], dict[str, Any]],
    targets: Callable[[dict[str, Any]], dict[str, Any]],
) -> dict[str, Any]:
    """A sized bench's command line: `--probe DIR` is the fresh process measuring (see `probed`);
    otherwise `measure` each of `--sizes`, with the `targets` judged on the results by size."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--sizes", default=",".join(map(str, sizes)))
    parser.add_argument("--probe", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.probe:
        return probe(args.probe)
    results = {str(n): measure(n) for n in (int(s) for s in args.sizes.split(","))}
    return {"results": results, "targets": targets(results), "machine": machine()}


def press_targets(ours: dict[str, Any]) -> dict[str, Any]:
    """A chat button's targets (issue 12's, Slack's and Teams' alike): the answer to the press p95
    under 100 ms, the question replaced where everyone sees it p95 under 300 ms."""
    ack, update = ours["ack_ms"]["p95"], ours["update_ms"]["p95"]
    return {
        "ack_p95_ms": {"value": ack, "ok": ack < 100},
        "update_p95_ms": {"value": update, "ok": update < 300},
    }


def machine() -> dict[str, Any]:
    return {"cpus": os.cpu_count(), "python": platform.python_version()}


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


PROBE_SLEEP = 0.005  # the loop-lag probe's nap: a wake-up later than this is the loop blocked


async def lag_probe(stop: asyncio.Event, lags: list[float]) -> None:
    """Until `stop`, sleep PROBE_SLEEP again and again and record how late each wake-up is."""
    while not stop.is_set():
        started = time.perf_counter()
        await asyncio.sleep(PROBE_SLEEP)
        lags.append(time.perf_counter() - started - PROBE_SLEEP)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0.0
