"""What goes in comes out: streams, effects, keys, summaries and cursors, across reopen."""

from __future__ import annotations

import threading
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from store import (
    DuplicateKey,
    Store,
    StoreError,
    UnknownEffect,
    UnknownStream,
    VersionConflict,
)

from .support import MINUTE, NOW, event

CASE = "JC-261124-7K3Q"


def open_case(store: Store, stream: str = CASE, **kwargs: Any) -> int:
    return store.append(stream, [event("CaseOpened")], expected_version=0, now=NOW, **kwargs)


def test_append_then_load_gives_the_events_as_given(store: Store) -> None:
    first = event("CaseOpened", nested={"orgs": ["Trust A", "ICB"]}, n=1)
    assert store.append(CASE, [first], expected_version=0, now=NOW) == 1
    assert store.append(CASE, [event("A"), event("B")], expected_version=1, now=NOW) == 3

    record = store.load(CASE)

    assert record.stream == CASE
    assert record.version == 3
    assert record.events == [first, event("A"), event("B")]
    assert record.effects == []
    assert store.exists(CASE) and not store.exists("JC-OTHER")


def test_a_stale_or_wrong_expected_version_is_refused_and_writes_nothing(store: Store) -> None:
    open_case(store)
    with pytest.raises(VersionConflict) as stale:
        store.append(CASE, [event("Late")], expected_version=0, now=NOW)
    with pytest.raises(VersionConflict):
        store.append("JC-NEW", [event("X")], expected_version=1, now=NOW)

    assert (stale.value.stream, stale.value.expected, stale.value.actual) == (CASE, 0, 1)
    assert store.load(CASE).version == 1
    assert not store.exists("JC-NEW")


def test_a_write_that_cannot_be_encoded_leaves_nothing_behind(
    store: Store, store_dir: Path,
) -> None:
    with pytest.raises(TypeError):
        store.append(CASE, [{"at": NOW}], expected_version=0, now=NOW)
    with pytest.raises(ValueError, match="not JSON compliant"):
        store.append(CASE, [event("A")], expected_version=0, summary={"x": float("nan")}, now=NOW)
    assert not store.exists(CASE)
    assert not list((store_dir / "streams").iterdir())
    assert store.summaries() == []


def test_effects_start_pending_and_complete_with_their_events_in_one_write(store: Store) -> None:
    letter = {"key": "letter-1", "kind": "SendLetter", "to": "trust-a"}
    open_case(store, effects=[letter], summary={"open": True})
    pending = store.load(CASE).effects[0]
    assert (pending.key, pending.effect, pending.status) == ("letter-1", letter, "pending")
    assert (pending.attempts, pending.next_attempt_at, pending.created_at) == (0, NOW, NOW)

    later = NOW + 5 * MINUTE
    version = store.complete_effect(
        CASE, "letter-1", events=[event("LetterSent")], summary={"open": True, "sent": 1}, now=later,
    )

    record = store.load(CASE)
    assert version == record.version == 2
    assert record.events[-1] == event("LetterSent")
    assert (record.effects[0].status, record.effects[0].done_at) == ("done", later)
    assert store.summaries()[0].summary == {"open": True, "sent": 1}
    assert store.due_effects(later) == []
    assert store.complete_effect(CASE, "letter-1", events=[event("Again")], now=later) == 2
    assert store.load(CASE).version == 2


def test_completing_an_effect_can_queue_effects_and_consume_keys_in_the_same_write(
    store: Store, store_dir: Path
) -> None:
    open_case(store, effects=[{"key": "letter-1"}], summary={"open": True})
    later = NOW + MINUTE
    store.complete_effect(
        CASE, "letter-1", events=[event("LetterFailed")], effects=[{"key": "tell-handlers"}],
        keys=["sent:<a@b>"], now=later,
    )

    assert [(s, r.key) for s, r in store.due_effects(later)] == [(CASE, "tell-handlers")]
    assert store.stream_for_key("sent:<a@b>") == CASE
    open_case(store, stream="JC-OTHER", effects=[{"key": "letter-2"}])
    with pytest.raises(DuplicateKey):
        store.complete_effect("JC-OTHER", "letter-2", keys=["sent:<a@b>"], now=later)
    assert store.load("JC-OTHER").effects[0].status == "pending"  # nothing was written


def test_a_failed_attempt_counts_and_moves_the_next_attempt(store: Store) -> None:
    open_case(store, effects=[{"key": "letter-1"}])
    retry = NOW + 10 * MINUTE

    store.fail_effect(CASE, "letter-1", error="SMTP 451", retry_at=retry, now=NOW)
    store.fail_effect(CASE, "letter-1", error="SMTP 421", retry_at=retry, now=NOW)

    effect = store.load(CASE).effects[0]
    assert (effect.attempts, effect.last_error, effect.next_attempt_at) == (2, "SMTP 421", retry)
    assert store.load(CASE).version == 1
    assert store.due_effects(retry - MINUTE) == []
    assert [r.key for _, r in store.due_effects(retry)] == ["letter-1"]


def test_due_effects_are_filtered_by_time_and_come_earliest_first(store: Store) -> None:
    store.append("JC-1", [event("A")], expected_version=0, effects=[{"key": "a"}], now=NOW)
    store.append("JC-2", [event("B")], expected_version=0, effects=[{"key": "b"}],
                 now=NOW + MINUTE)
    store.append("JC-3", [event("C")], expected_version=0, effects=[{"key": "c"}],
                 now=NOW + 2 * MINUTE)
    store.fail_effect("JC-1", "a", error="down", retry_at=NOW + 3 * MINUTE, now=NOW)

    assert store.due_effects(NOW - MINUTE) == []
    assert [(s, r.key) for s, r in store.due_effects(NOW + 2 * MINUTE)] == [
        ("JC-2", "b"), ("JC-3", "c"),
    ]
    assert [r.key for _, r in store.due_effects(NOW + 3 * MINUTE)] == ["b", "c", "a"]


def test_effect_keys_are_unique_within_a_stream(store: Store) -> None:
    open_case(store, effects=[{"key": "letter-1"}])
    with pytest.raises(ValueError, match="letter-1"):
        store.append(CASE, [event("X")], expected_version=1, effects=[{"key": "letter-1"}], now=NOW)
    with pytest.raises(ValueError, match="letter-2"):
        store.append(CASE, [event("X")], expected_version=1,
                     effects=[{"key": "letter-2"}, {"key": "letter-2"}], now=NOW)
    with pytest.raises(ValueError, match="key"):
        store.append(CASE, [event("X")], expected_version=1, effects=[{"kind": "x"}], now=NOW)
    assert store.load(CASE).version == 1


def test_unknown_streams_and_effects_are_named(store: Store) -> None:
    open_case(store, effects=[{"key": "letter-1"}])
    with pytest.raises(UnknownStream, match="JC-NONE"):
        store.load("JC-NONE")
    with pytest.raises(UnknownStream):
        store.complete_effect("JC-NONE", "letter-1", now=NOW)
    with pytest.raises(UnknownEffect, match="letter-9"):
        store.fail_effect(CASE, "letter-9", error="x", retry_at=NOW, now=NOW)


def test_bad_ids_and_naive_times_are_refused(store: Store) -> None:
    for bad in ("", "../etc", ".hidden", "a/b", "x" * 82, "JC-1\n"):
        with pytest.raises(ValueError, match="must match"):
            store.append(bad, [event("A")], expected_version=0, now=NOW)
    with pytest.raises(ValueError, match="timezone-aware"):
        store.append(CASE, [event("A")], expected_version=0, now=datetime(2026, 3, 2))
    with pytest.raises(ValueError, match="at least one event"):
        store.append(CASE, [], expected_version=0, now=NOW)


def test_keys_deduplicate_across_streams_and_reopen(store_dir: Path) -> None:
    with Store.open(store_dir) as store:
        open_case(store, keys=["<m1@nhs.net>", "<m2@nhs.net>"])
        with pytest.raises(DuplicateKey, match=CASE):
            store.append("Q-abc123", [event("Quarantined")], expected_version=0,
                         keys=["<m2@nhs.net>"], now=NOW)
        assert not store.exists("Q-abc123")

    with Store.open(store_dir) as store:
        assert store.has_key("<m1@nhs.net>") and store.has_key("<m2@nhs.net>")
        assert not store.has_key("<m3@nhs.net>")
        assert store.stream_for_key("<m2@nhs.net>") == CASE
        assert store.stream_for_key("<m3@nhs.net>") is None


def test_summaries_and_pending_effects_survive_reopen(store_dir: Path) -> None:
    with Store.open(store_dir) as store:
        open_case(store, summary={"open": True, "deadlines": [{"on": "2026-03-05"}]})
        store.append("JC-2", [event("A")], expected_version=0, summary={"open": False},
                     effects=[{"key": "e1"}], now=NOW)
        store.append(CASE, [event("B")], expected_version=1, now=NOW)  # summary kept

    with Store.open(store_dir) as store:
        found = {s.stream: (s.version, s.summary) for s in store.summaries()}
        assert found == {
            CASE: (2, {"open": True, "deadlines": [{"on": "2026-03-05"}]}),
            "JC-2": (1, {"open": False}),
        }
        assert [(s, r.key) for s, r in store.due_effects(NOW)] == [("JC-2", "e1")]
        one = store.summary("JC-2")
        assert one is not None and (one.version, one.summary) == (1, {"open": False})
        assert store.summary("JC-3") is None


def test_the_store_keeps_its_own_copy_of_what_it_is_given(store: Store) -> None:
    summary = {"deadlines": [{"on": "2026-03-05"}]}
    effect = {"key": "letter-1", "to": ["trust-a"]}
    open_case(store, summary=summary, effects=[effect])
    summary["deadlines"].clear()
    effect["to"].clear()
    assert store.summaries()[0].summary == {"deadlines": [{"on": "2026-03-05"}]}
    assert store.due_effects(NOW)[0][1].effect == {"key": "letter-1", "to": ["trust-a"]}


def test_cursors_survive_reopen(store_dir: Path) -> None:
    with Store.open(store_dir) as store:
        assert store.get_cursor("inbox") is None
        store.set_cursor("inbox", {"uidvalidity": 7, "uid": 41})
        store.set_cursor("inbox", {"uidvalidity": 7, "uid": 42})
    with Store.open(store_dir) as store:
        assert store.get_cursor("inbox") == {"uidvalidity": 7, "uid": 42}


def test_a_closed_store_refuses_work(store_dir: Path) -> None:
    store = Store.open(store_dir)
    store.close()
    store.close()
    with pytest.raises(StoreError, match="closed"):
        store.summaries()


def test_threads_writing_at_once_do_not_interleave(store: Store) -> None:
    def writer(stream: str) -> None:
        for version in range(30):
            store.append(stream, [event("Tick", n=version)], expected_version=version,
                         keys=[f"{stream}-{version}"], now=NOW)

    threads = [threading.Thread(target=writer, args=(f"JC-{n}",)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    for n in range(4):
        assert [e["n"] for e in store.load(f"JC-{n}").events] == list(range(30))
    assert all(store.has_key(f"JC-{n}-29") for n in range(4))
