"""Group commit: a batch's writes are seen at once, reach the disk together at its end, and a crash
before the end leaves the store exactly as it was before the batch."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from store import Store, StoreCorrupt, StoreDiskError
from store.atomic import SYNCFS_FROM, sync_files, write_new
from store.streams import read_stream, stream_file

from .support import MINUTE, NOW, ROOT, child_env, event


def on_disk(store_dir: Path, stream: str) -> int | None:
    """The version the stream's own file holds (None: no file), whatever the store has in memory."""
    state = read_stream(stream_file(store_dir / "streams", stream), stream)
    return None if state is None else state.version


def temp_files(store_dir: Path) -> list[str]:
    return sorted(p.name for p in (store_dir / "streams").iterdir() if p.name.endswith(".tmp"))


def test_writes_in_a_batch_are_seen_at_once_and_on_disk_at_its_end(store: Store, store_dir: Path) -> None:
    store.append("JC-OLD", [event("Opened")], expected_version=0, now=NOW)

    with store.batch():
        store.append("JC-OLD", [event("More")], expected_version=1, keys=["k-old"], now=NOW)
        store.append("JC-NEW", [event("Opened")], expected_version=0, keys=["k-new"], now=NOW)
        store.append("JC-NEW", [event("Again")], expected_version=1, summary={"n": 2}, now=NOW)

        assert store.load("JC-OLD").version == 2 and store.load("JC-NEW").version == 2
        assert store.stream_for_key("k-new") == "JC-NEW" and store.has_key("k-old")
        assert store.summary("JC-NEW") is not None and store.summary("JC-NEW").summary == {"n": 2}
        assert (on_disk(store_dir, "JC-OLD"), on_disk(store_dir, "JC-NEW")) == (1, None)

    assert (on_disk(store_dir, "JC-OLD"), on_disk(store_dir, "JC-NEW")) == (2, 2)
    assert temp_files(store_dir) == []


def test_after_a_batch_a_clean_reopen_is_served_by_the_index_alone(store_dir: Path) -> None:
    count = SYNCFS_FROM + 2  # enough files for the one-flush-for-all path
    with Store.open(store_dir) as store, store.batch():
        for n in range(count):
            store.append(f"JC-{n}", [event("Opened", n=n)], expected_version=0, keys=[f"k{n}"], now=NOW)
    for path in (store_dir / "streams").iterdir():  # same size, inode and mtime, unreadable
        st = path.stat()
        path.write_bytes(b"!" * st.st_size)
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))

    with Store.open(store_dir) as store:
        assert {s.stream: s.version for s in store.summaries()} == {f"JC-{n}": 1 for n in range(count)}
        assert store.stream_for_key(f"k{count - 1}") == f"JC-{count - 1}"
        with pytest.raises(StoreCorrupt):
            store.load("JC-0")


def test_an_exception_in_the_batch_still_flushes_what_was_written(store: Store, store_dir: Path) -> None:
    with pytest.raises(RuntimeError), store.batch():
        store.append("JC-1", [event("Opened")], expected_version=0, now=NOW)
        with store.batch():  # nested: its end flushes nothing, the outer one does
            store.append("JC-2", [event("Opened")], expected_version=0, now=NOW)
        assert on_disk(store_dir, "JC-2") is None
        raise RuntimeError("the caller failed after two good writes")

    assert (on_disk(store_dir, "JC-1"), on_disk(store_dir, "JC-2")) == (1, 1)


def test_a_batch_past_its_memory_limit_flushes_early(store: Store, store_dir: Path) -> None:
    store.stage_limit = 2_000
    with store.batch():
        store.append("JC-1", [event("Opened", pad="x" * 1_500)], expected_version=0, now=NOW)
        assert on_disk(store_dir, "JC-1") is None
        store.append("JC-2", [event("Opened", pad="x" * 1_500)], expected_version=0, now=NOW)
        assert (on_disk(store_dir, "JC-1"), on_disk(store_dir, "JC-2")) == (1, 1)
        store.append("JC-3", [event("Opened")], expected_version=0, now=NOW)
        assert on_disk(store_dir, "JC-3") is None
    assert on_disk(store_dir, "JC-3") == 1


def test_a_flush_that_fails_keeps_the_writes_staged_for_the_next_one(store: Store, store_dir: Path) -> None:
    streams, away = store_dir / "streams", store_dir / "away"
    store.stage_limit = 1_000
    versions = []
    with pytest.raises(StoreDiskError, match="Not a directory"), store.batch():
        store.append("JC-1", [event("Opened")], expected_version=0, effects=[{"key": "ack"}], now=NOW)
        streams.rename(away)  # the disk fails under the store: its directory is not one any more
        streams.write_bytes(b"")
        # Past the limit the batch tries to flush early: the write itself is done all the same.
        versions.append(store.append("JC-1", [event("Noted", pad="x" * 1_000)], expected_version=1, now=NOW))
    assert versions == [2]  # the error came from the batch's end, not from the write
    streams.unlink()
    away.rename(streams)
    assert store.load("JC-1").version == 2 and on_disk(store_dir, "JC-1") is None
    assert store.due_effects(NOW + MINUTE) == []  # still not on disk: no letter yet

    with store.batch():
        store.append("JC-2", [event("Opened")], expected_version=0, now=NOW)

    assert (on_disk(store_dir, "JC-1"), on_disk(store_dir, "JC-2")) == (2, 1)
    assert [r.key for _, r in store.due_effects(NOW + MINUTE)] == ["ack"]
    assert temp_files(store_dir) == []


def test_no_effect_of_a_staged_stream_is_handed_out_before_it_is_on_disk(store: Store) -> None:
    with store.batch():
        store.append("JC-1", [event("Opened")], expected_version=0, effects=[{"key": "ack"}], now=NOW)
        assert store.due_effects(NOW + MINUTE) == []
    assert [(s, r.key) for s, r in store.due_effects(NOW + MINUTE)] == [("JC-1", "ack")]


def test_another_threads_writes_stay_durable_one_by_one(store: Store, store_dir: Path) -> None:
    def elsewhere() -> None:
        store.append("JC-B", [event("Opened")], expected_version=0, now=NOW)
        store.complete_effect("JC-A", "ack", events=[event("Sent")], now=NOW)

    with store.batch():
        store.append("JC-A", [event("Opened")], expected_version=0, effects=[{"key": "ack"}], now=NOW)
        worker = threading.Thread(target=elsewhere)
        worker.start()
        worker.join()
        # JC-A's staged write went to disk with the other thread's write on top of it.
        assert (on_disk(store_dir, "JC-A"), on_disk(store_dir, "JC-B")) == (2, 1)
        assert temp_files(store_dir) == []
        store.append("JC-A", [event("Noted")], expected_version=2, now=NOW)
        assert on_disk(store_dir, "JC-A") == 2

    assert on_disk(store_dir, "JC-A") == 3
    assert [e.status for e in store.load("JC-A").effects] == ["done"]


def test_erasing_in_a_batch_puts_the_staged_files_in_place_first(store_dir: Path) -> None:
    with Store.open(store_dir) as store, store.batch():
        store.append("JC-1", [event("Opened")], expected_version=0, now=NOW)
        store.append("JC-2", [event("Opened")], expected_version=0, keys=["k2"], now=NOW)
        store.erase("JC-2", event("Erased"), summary={"erased": True}, now=NOW)
        assert on_disk(store_dir, "JC-1") == 1

    with Store.open(store_dir) as store:
        assert [e["type"] for e in store.load("JC-2").events] == ["Erased"]
        assert store.load("JC-1").version == 1 and not store.has_key("k2")


def test_closing_the_store_flushes_an_open_batch(store_dir: Path) -> None:
    store = Store.open(store_dir)
    with store.batch():
        store.append("JC-1", [event("Opened")], expected_version=0, now=NOW)
        store.close()
    with Store.open(store_dir) as reopened:
        assert reopened.load("JC-1").version == 1


CHILD = """
import sys
from datetime import UTC, datetime
from pathlib import Path
from store import Store

now = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
store = Store.open(Path(sys.argv[1]))
store.append("JC-OLD", [{"type": "Opened"}], expected_version=0, keys=["before"], now=now)
with store.batch():
    store.append("JC-OLD", [{"type": "Staged"}], expected_version=1, keys=["during"], now=now)
    for n in range(20):
        store.append(f"JC-{n}", [{"type": "Opened"}], expected_version=0, now=now)
    print("staged", flush=True)
    sys.stdin.readline()  # killed here
"""


def test_a_crash_inside_a_batch_leaves_the_store_as_before_it(store_dir: Path) -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(store_dir)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=child_env(), cwd=ROOT,
    )
    try:
        assert child.stdout is not None and child.stdout.readline() == "staged\n", child.stderr
    finally:
        child.send_signal(signal.SIGKILL)
        child.communicate(timeout=30)

    with Store.open(store_dir) as store:
        assert [s.stream for s in store.summaries()] == ["JC-OLD"]
        assert store.load("JC-OLD").version == 1
        assert store.has_key("before") and not store.has_key("during")
    assert temp_files(store_dir) == []


@pytest.mark.parametrize("count", [1, SYNCFS_FROM])
def test_sync_files_flushes_each_file_or_their_file_system(tmp_path: Path, count: int) -> None:
    paths = [tmp_path / f"f{n}" for n in range(count)]
    for path in paths:
        write_new(path, b"x", durable=False)
    sync_files(paths)
    with pytest.raises(FileNotFoundError):
        sync_files([tmp_path / "gone" / "f"] * count)
