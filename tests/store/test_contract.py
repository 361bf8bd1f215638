"""What every store must do (`store.ports.CaseStore`), run against every backend.

The file store and PostgreSQL (against a real server the tests start, skipped with how to get it
where there is none); a backend joins by adding its name to `BACKENDS` and where it is to
`location`. Each test says one promise the rest of the assistant relies on.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from store.errors import DuplicateKey, StoreReadOnly, VersionConflict
from store.ports import CaseStore, open_store

from .support import MINUTE, NOW, event, run_python

BACKENDS = ["file", "postgresql"]
Open = Callable[..., CaseStore]


@pytest.fixture(params=BACKENDS)
def location(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Where the backend's store is: a directory, or a database's connection string."""
    if request.param == "postgresql":
        return str(request.getfixturevalue("postgres_url"))
    return str(tmp_path / "store")


@pytest.fixture
def opened(location: str) -> Open:
    """How to open the backend's store (again): `opened()`, or `opened(readonly=True)`."""
    return lambda readonly=False: open_store(location, readonly=readonly)


@pytest.fixture
def store(opened: Open) -> Iterator[CaseStore]:
    with opened() as writer:
        yield writer


def letter(key: str) -> dict[str, str]:
    return {"key": key, "kind": "send_letter"}


def test_events_append_at_the_version_decided_on_and_load_in_order(store: CaseStore) -> None:
    assert store.append("JC-1", [event("a")], expected_version=0, now=NOW) == 1
    assert store.append("JC-1", [event("b"), event("c")], expected_version=1, now=NOW) == 3
    record = store.load("JC-1")
    assert [e["type"] for e in record.events] == ["a", "b", "c"] and record.version == 3
    assert store.exists("JC-1") and not store.exists("JC-2")


def test_a_stale_version_is_refused_and_writes_nothing(store: CaseStore) -> None:
    store.append("JC-1", [event("a")], expected_version=0, now=NOW)
    with pytest.raises(VersionConflict):
        store.append("JC-1", [event("b")], expected_version=0, effects=[letter("L1")], keys=["k"], now=NOW)
    assert store.load("JC-1").version == 1 and not store.has_key("k") and store.due_effects(NOW) == []


def test_of_concurrent_appends_at_one_version_exactly_one_wins(store: CaseStore) -> None:
    store.append("JC-1", [event("a")], expected_version=0, now=NOW)
    start, won, lost = threading.Barrier(8), [], []

    def write(n: int) -> None:
        start.wait()
        try:
            store.append("JC-1", [event("b", n=n)], expected_version=1, now=NOW)
            won.append(n)
        except VersionConflict:
            lost.append(n)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(won) == 1 and len(lost) == 7
    assert [e.get("n") for e in store.load("JC-1").events] == [None, won[0]]


def test_a_key_is_consumed_once_in_the_whole_store(store: CaseStore) -> None:
    store.append("JC-1", [event("a")], expected_version=0, keys=["mail:<m1>"], now=NOW)
    with pytest.raises(DuplicateKey):
        store.append("JC-2", [event("a")], expected_version=0, keys=["mail:<m1>"], now=NOW)
    assert store.stream_for_key("mail:<m1>") == "JC-1" and not store.exists("JC-2")


def test_effects_are_handed_out_when_due_and_done_once(store: CaseStore) -> None:
    store.append("JC-1", [event("a")], expected_version=0, effects=[letter("L1")], now=NOW)
    store.append("JC-2", [event("a")], expected_version=0, effects=[letter("L2")], now=NOW + MINUTE)
    assert [(s, r.key) for s, r in store.due_effects(NOW + MINUTE)] == [("JC-1", "L1"), ("JC-2", "L2")]

    store.fail_effect("JC-1", "L1", error="451 try later", retry_at=NOW + 10 * MINUTE, now=NOW)
    assert [r.key for _, r in store.due_effects(NOW + MINUTE)] == ["L2"]
    due = store.due_effects(NOW + 10 * MINUTE)
    assert [r.key for _, r in due] == ["L2", "L1"]  # earliest due first
    retried = due[1][1]
    assert (retried.attempts, retried.last_error) == (1, "451 try later")

    version = store.complete_effect("JC-2", "L2", events=[event("sent")], now=NOW)
    assert store.complete_effect("JC-2", "L2", events=[event("sent")], now=NOW) == version  # once
    assert [e["type"] for e in store.load("JC-2").events] == ["a", "sent"]
    assert [r.key for _, r in store.due_effects(NOW + 10 * MINUTE)] == ["L1"]


def test_the_index_lists_every_stream_with_its_summary(store: CaseStore) -> None:
    store.append("JC-1", [event("a")], expected_version=0, summary={"open": True}, now=NOW)
    store.append("JC-2", [event("a")], expected_version=0, summary={"open": False}, now=NOW)
    listed = {s.stream: (s.version, s.summary) for s in store.summaries()}
    assert listed == {"JC-1": (1, {"open": True}), "JC-2": (1, {"open": False})}
    one = store.summary("JC-1")
    assert one is not None and one.summary == {"open": True} and store.summary("JC-3") is None


def test_cursors_are_kept_whole_by_name(store: CaseStore) -> None:
    assert store.get_cursor("imap") is None
    store.set_cursor("imap", {"uid": 7, "validity": 1})
    store.set_cursor("imap", {"uid": 8})
    assert store.get_cursor("imap") == {"uid": 8}


def test_erasing_leaves_a_tombstone_and_frees_its_keys(store: CaseStore) -> None:
    store.append("JC-1", [event("a")], expected_version=0, effects=[letter("L1")], keys=["k"], now=NOW)
    assert store.erase("JC-1", event("erased"), summary={"erased": True}, now=NOW) == 1
    record = store.load("JC-1")
    assert [e["type"] for e in record.events] == ["erased"] and record.effects == []
    assert not store.has_key("k") and store.due_effects(NOW) == []


def test_what_was_written_is_there_after_reopening_and_to_a_reader_beside(opened: Open) -> None:
    with opened() as writer:
        writer.append("JC-1", [event("a")], expected_version=0, keys=["k"], summary={"open": True}, now=NOW)
        writer.set_cursor("sweep", {"at": 1})
        with opened(readonly=True) as reader:
            assert reader.readonly and reader.load("JC-1").version == 1
            with pytest.raises(StoreReadOnly):
                reader.append("JC-2", [event("a")], expected_version=0, now=NOW)
    with opened() as again:
        assert (
            again.load("JC-1").version == 1 and again.has_key("k") and again.get_cursor("sweep") == {"at": 1}
        )


def test_a_batch_is_seen_at_once_and_kept_whole_or_not_at_all(opened: Open, location: str) -> None:
    with opened() as store:
        store.append("JC-0", [event("before")], expected_version=0, now=NOW)
        with store.batch():
            store.append("JC-1", [event("a")], expected_version=0, now=NOW)
            assert store.load("JC-1").version == 1  # seen within the batch
    child = run_python(CRASH_IN_BATCH, location)
    assert child.returncode == 9, child.stderr
    with opened() as store:
        assert store.exists("JC-0") and store.exists("JC-1")  # the ended batch is kept
        assert not store.exists("JC-2") and not store.exists("JC-3")  # the one cut short is not


CRASH_IN_BATCH = """
import os, sys
from datetime import UTC, datetime
from store.ports import open_store

store = open_store(sys.argv[1])
now = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
with store.batch():
    store.append("JC-2", [{"type": "a"}], expected_version=0, now=now)
    store.append("JC-3", [{"type": "a"}], expected_version=0, now=now)
    os._exit(9)  # killed before the batch ends
"""


def test_a_stream_restored_elsewhere_is_the_same_and_never_over_another(store: CaseStore) -> None:
    store.append("JC-1", [event("a")], expected_version=0, effects=[letter("L1")], keys=["k"], now=NOW)
    store.fail_effect("JC-1", "L1", error="451", retry_at=NOW + MINUTE, now=NOW)
    store.set_cursor("imap", {"uid": 3})
    exported = store.export("JC-1")
    assert exported.keys == ["k"] and exported.record.effects[0].attempts == 1
    assert store.cursors() == {"imap": {"uid": 3}}
    with pytest.raises(ValueError, match="exists already"):
        store.restore(exported)
    renamed = replace(exported, record=replace(exported.record, stream="JC-2"))
    with pytest.raises(DuplicateKey):  # its key belongs to JC-1 here
        store.restore(renamed)
    store.restore(replace(renamed, keys=["k2"]))
    again = store.export("JC-2")
    assert again.record.events == exported.record.events and again.record.effects == exported.record.effects


def test_the_open_cases_are_listed_soonest_next_date_first(opened: Open) -> None:
    cases = [("JC-1", True, "2026-03-09"), ("JC-2", False, "2026-03-02"), ("JC-3", True, "2026-03-03"),
             ("JC-4", True, None), ("JC-5", True, "2026-03-05"), ("JC-6", True, "2026-03-01")]  # fmt: skip
    with opened() as store:
        for ref, is_open, on in cases:
            summary = {"open": is_open, "ref": ref, "next_deadline": {"on": on, "what": "x"} if on else None}
            store.append(ref, [event("a")], expected_version=0, summary=summary, now=NOW)
        store.append("mail-1", [event("a")], expected_version=0, summary={"status": "quarantined"}, now=NOW)
        closed = {"open": False, "ref": "JC-5"}
        store.append("JC-5", [event("b")], expected_version=1, summary=closed, now=NOW)
        store.erase("JC-6", event("destroyed"), summary={"ref": "JC-6", "destroyed": True}, now=NOW)
        listed = [(c.ref, c.version, c.next_on) for c in store.open_cases()]
    assert listed == [("JC-3", 1, "2026-03-03"), ("JC-1", 1, "2026-03-09"), ("JC-4", 1, None)]
    with opened() as store:  # and so again after reopening
        assert [(c.ref, c.version, c.next_on) for c in store.open_cases()] == listed
        assert sorted(s.summary["ref"] for s in store.summaries(open_only=True)) == ["JC-1", "JC-3", "JC-4"]


def test_a_feed_gives_the_streams_written_since_it_was_last_asked(store: CaseStore) -> None:
    store.append("JC-0", [event("a")], expected_version=0, effects=[letter("L1")], now=NOW)
    written = store.feed()
    assert written() == set()  # only what comes after it
    store.append("JC-1", [event("a")], expected_version=0, now=NOW)
    store.complete_effect("JC-0", "L1", events=[event("sent")], now=NOW)
    assert written() == {"JC-0", "JC-1"}
    assert written() == set()
    store.erase("JC-1", event("destroyed"), summary={}, now=NOW)
    assert written() == {"JC-1"}


def test_an_effect_completed_with_events_follows_the_version_decided_on(store: CaseStore) -> None:
    store.append("JC-1", [event("a")], expected_version=0, effects=[letter("L1")], now=NOW)
    store.append("JC-1", [event("b")], expected_version=1, now=NOW)  # another writer, meanwhile
    with pytest.raises(VersionConflict):
        store.complete_effect("JC-1", "L1", events=[event("sent")], expected_version=1, now=NOW)
    assert [r.status for r in store.load("JC-1").effects] == ["pending"]
    assert store.complete_effect("JC-1", "L1", events=[event("sent")], expected_version=2, now=NOW) == 3


def test_due_effects_are_claimed_once_until_done_or_failed(store: CaseStore) -> None:
    store.append("JC-1", [event("a")], expected_version=0, effects=[letter("L1"), letter("L2")], now=NOW)
    lease = 10 * MINUTE
    assert [r.key for _, r in store.claim_effects(NOW, lease=lease)] == ["L1", "L2"]
    store.complete_effect("JC-1", "L1", now=NOW)
    store.fail_effect("JC-1", "L2", error="refused", retry_at=NOW + MINUTE, now=NOW)
    assert [r.key for _, r in store.claim_effects(NOW + MINUTE, lease=lease)] == ["L2"]


def test_a_writer_leads_is_ready_and_holds_a_section(opened: Open) -> None:
    with opened() as writer, opened(readonly=True) as reader:
        assert writer.lead() and not reader.lead()
        writer.check()
        with writer.exclusive("thread:JC-1"):
            writer.set_cursor("in", {"at": 1})
        assert writer.get_cursor("in") == {"at": 1}
