"""A reader beside the writer: ``Store.open(readonly=True)`` takes no lock, writes nothing, refuses
every write, and sees each case whole, before a batch or after it, never part of one."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from store import Store, StoreReadOnly

from .support import NOW, event

CASES = [f"JC-{n:03d}" for n in range(40)]


def fill(store: Store, rounds: int) -> None:
    for stream in CASES:
        for version in range(rounds):
            store.append(stream, [event("Step", n=version + 1)], expected_version=version,
                         summary={"steps": version + 1}, now=NOW)  # fmt: skip


def whole(store: Store, stream: str) -> int:
    """The case's version, after checking its events and summary agree (a torn case would not)."""
    record = store.load(stream)
    assert [e["n"] for e in record.events] == list(range(1, record.version + 1))
    assert record.summary == {"steps": record.version}
    return record.version


def test_a_reader_opened_while_the_writer_holds_the_lock_reads_every_case(store_dir: Path) -> None:
    with Store.open(store_dir) as writer:
        fill(writer, 2)
        with Store.open(store_dir, readonly=True) as reader:
            assert sorted(s.stream for s in reader.summaries()) == CASES
            assert all(whole(reader, stream) == 2 for stream in CASES)
        writer.append("JC-000", [event("Step", n=3)], expected_version=2, summary={"steps": 3}, now=NOW)


def test_a_reader_refuses_every_write_and_changes_nothing_on_disk(store_dir: Path) -> None:
    with Store.open(store_dir) as writer:
        fill(writer, 1)
    before = {p.name: p.stat().st_mtime_ns for p in store_dir.rglob("*")}

    with Store.open(store_dir, readonly=True) as reader:
        with pytest.raises(StoreReadOnly, match="read-only"):
            reader.append("JC-000", [event("Step", n=2)], expected_version=1, now=NOW)
        with pytest.raises(StoreReadOnly):
            reader.append("JC-NEW", [event("Step", n=1)], expected_version=0, now=NOW)
        with pytest.raises(StoreReadOnly):
            reader.erase("JC-000", event("Destroyed"), summary={}, now=NOW)
        with pytest.raises(StoreReadOnly):
            reader.set_cursor("c", {"at": 1})
        assert whole(reader, "JC-000") == 1

    assert {p.name: p.stat().st_mtime_ns for p in store_dir.rglob("*")} == before


def test_a_reader_of_a_store_never_made_finds_it_empty_and_makes_nothing(tmp_path: Path) -> None:
    with Store.open(tmp_path / "none", readonly=True) as reader:
        assert reader.summaries() == []
    assert not (tmp_path / "none").exists()


def test_a_reader_sees_a_batch_in_progress_not_at_all_and_then_whole(store_dir: Path) -> None:
    staged, release = threading.Event(), threading.Event()

    def burst(writer: Store) -> None:
        with writer.batch():
            for stream in CASES:
                writer.append(stream, [event("Step", n=2)], expected_version=1,
                              summary={"steps": 2}, now=NOW)  # fmt: skip
            staged.set()
            release.wait(10)

    with Store.open(store_dir) as writer:
        fill(writer, 1)
        thread = threading.Thread(target=burst, args=(writer,))
        thread.start()
        assert staged.wait(10)
        with Store.open(store_dir, readonly=True) as reader:
            assert [whole(reader, stream) for stream in CASES] == [1] * len(CASES)
        release.set()
        thread.join(10)
        with Store.open(store_dir, readonly=True) as reader:
            assert [whole(reader, stream) for stream in CASES] == [2] * len(CASES)


def test_readers_during_a_writers_batches_see_each_case_before_or_after_never_torn(
    store_dir: Path,
) -> None:
    rounds, done = 15, threading.Event()

    def write(writer: Store) -> None:
        try:
            for version in range(1, rounds):
                with writer.batch():
                    for stream in CASES:
                        writer.append(stream, [event("Step", n=version + 1)], expected_version=version,
                                      summary={"steps": version + 1}, now=NOW)  # fmt: skip
        finally:
            done.set()

    with Store.open(store_dir) as writer:
        fill(writer, 1)
        thread = threading.Thread(target=write, args=(writer,))
        thread.start()
        seen = 0
        while not done.is_set() or seen == 0:
            with Store.open(store_dir, readonly=True) as reader:
                versions = [whole(reader, s.stream) for s in reader.summaries()]
            assert len(versions) == len(CASES) and all(1 <= v <= rounds for v in versions)
            seen += 1
        thread.join(10)
