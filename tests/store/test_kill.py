"""kill -9 at any instant leaves each stream as it was before a write or after it.

A real child process writes to a few streams in a tight loop and is killed
with SIGKILL at a varying point; after each kill the store is reopened and
checked against what the child can have written. Every write of the child
either asks (two events, one effect, one key) or answers (marks the effect
done with one event), and every event carries its sequence number, so a torn
or partial write shows up as a gap, a stray effect or a stray key.
"""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from store import Store

from .support import ROOT, child_env

STREAMS = ("JC-A", "JC-B", "Q-c")
ROUNDS = 25

CHILD = """
import sys
from datetime import UTC, datetime
from pathlib import Path
from store import Store

PAD = "x" * 400
store = Store.open(Path(sys.argv[1]))

def resume(stream):
    if not store.exists(stream):
        return 0, None
    record = store.load(stream)
    pending = [e.key for e in record.effects if e.status == "pending"]
    return record.version, (pending[0] if pending else None)

state = {stream: resume(stream) for stream in sys.argv[2:]}
print("ready", flush=True)
writes = 0
while True:
    for stream, (version, pending) in state.items():
        now = datetime.now(UTC)
        if pending:
            done = {"type": "Answered", "seq": version, "effect": pending, "pad": PAD}
            version = store.complete_effect(stream, pending, events=[done],
                                            summary={"last_seq": version}, now=now)
            pending = None
        else:
            pending = f"{stream}-fx-{version}"
            asked = [{"type": "Asked", "seq": version, "pad": PAD},
                     {"type": "Noted", "seq": version + 1, "pad": PAD}]
            version = store.append(stream, asked, expected_version=version,
                                   effects=[{"key": pending, "seq": version}],
                                   keys=[f"{stream}-key-{version}"],
                                   summary={"last_seq": version + 1}, now=now)
        state[stream] = (version, pending)
        writes += 1
        print(writes, flush=True)
"""


def run_and_kill(store_dir: Path, rng: random.Random) -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(store_dir), *STREAMS],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=child_env(), cwd=ROOT,
    )
    assert child.stdout is not None
    try:
        lines = [child.stdout.readline() for _ in range(1 + rng.randint(1, 12))]
        assert lines[0] == "ready\n" and lines[-1].strip().isdigit(), child.stderr
        time.sleep(rng.uniform(0, 0.004))  # land somewhere inside a following write
    finally:
        child.send_signal(signal.SIGKILL)
        _, errors = child.communicate(timeout=10)
    assert child.returncode == -signal.SIGKILL, errors


def check_stream(store: Store, stream: str) -> int:
    record = store.load(stream)
    assert [e["seq"] for e in record.events] == list(range(record.version))
    asked = [e["seq"] for e in record.events if e["type"] == "Asked"]
    answered = {e["effect"]: e["seq"] for e in record.events if e["type"] == "Answered"}
    assert [(e.key, e.effect["seq"]) for e in record.effects] == [
        (f"{stream}-fx-{seq}", seq) for seq in asked
    ]
    for effect in record.effects:
        assert (effect.status == "done") == (effect.key in answered)
        if effect.key in answered:
            assert answered[effect.key] == effect.effect["seq"] + 2
    for seq in asked:
        assert record.events[seq + 1]["type"] == "Noted"
        assert store.stream_for_key(f"{stream}-key-{seq}") == stream
    assert not store.has_key(f"{stream}-key-{record.version}")
    summary = {s.stream: (s.version, s.summary) for s in store.summaries()}[stream]
    assert summary == (record.version, {"last_seq": record.version - 1})
    due = sorted(r.key for s, r in store.due_effects(record.effects[-1].created_at) if s == stream)
    assert due == sorted(e.key for e in record.effects if e.status == "pending")
    return record.version


def check_store(store_dir: Path) -> int:
    for path in (store_dir / "streams").glob("*.json"):
        json.loads(path.read_bytes())  # whole files only, before the store sweeps anything
    with Store.open(store_dir) as store:
        assert not list((store_dir / "streams").glob(".*.tmp"))
        present = [s for s in STREAMS if store.exists(s)]
        return sum(check_stream(store, stream) for stream in present)


def test_kill_9_mid_write_never_leaves_a_torn_or_partial_write(store_dir: Path) -> None:
    rng = random.Random(20261124)
    total = 0
    for _ in range(ROUNDS):
        run_and_kill(store_dir, rng)
        now_total = check_store(store_dir)
        assert now_total >= total
        total = now_total
    assert total >= ROUNDS * 2  # the child really wrote, round after round
