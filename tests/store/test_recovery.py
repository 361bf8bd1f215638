"""The index is a cache: whatever happens to its files, reopening gives the truth of the streams."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from store import Store, StoreCorrupt

from .support import MINUTE, NOW, event

JOURNAL = "index.jsonl"
SNAPSHOT = "index.snapshot.jsonl"


def fill(store_dir: Path) -> None:
    """Three streams; the last write of each is what a damaged journal would lose."""
    with Store.open(store_dir) as store:
        for n in range(3):
            stream = f"JC-{n}"
            store.append(stream, [event("Opened")], expected_version=0, keys=[f"m{n}-a"],
                         summary={"open": True, "step": 1}, effects=[{"key": "ack"}], now=NOW)
            store.append(stream, [event("Asked")], expected_version=1, keys=[f"m{n}-b"],
                         summary={"open": True, "step": 2}, effects=[{"key": "ask"}], now=NOW)
            store.complete_effect(stream, "ack", events=[event("AckSent")],
                                  summary={"open": n != 1, "step": 3}, now=NOW + MINUTE)


def expected_view() -> dict[str, object]:
    return {
        "summaries": {f"JC-{n}": (3, {"open": n != 1, "step": 3}) for n in range(3)},
        "keys": {f"m{n}-{x}": f"JC-{n}" for n in range(3) for x in "ab"},
        "due": sorted((f"JC-{n}", "ask") for n in range(3)),
    }


def view(store: Store) -> dict[str, object]:
    return {
        "summaries": {s.stream: (s.version, s.summary) for s in store.summaries()},
        "keys": {f"m{n}-{x}": store.stream_for_key(f"m{n}-{x}") for n in range(3) for x in "ab"},
        "due": sorted((s, r.key) for s, r in store.due_effects(NOW + MINUTE)),
    }


def drop_last_line(path: Path) -> None:
    lines = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(b"".join(lines[:-1]))


def cut_mid_line(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 40])


def garble_middle(path: Path) -> None:
    lines = path.read_bytes().splitlines(keepends=True)
    lines[len(lines) // 2] = b'{"stream": "JC-0", "version": \n'
    path.write_bytes(b"".join(lines))


def delete(path: Path) -> None:
    path.unlink()


@pytest.mark.parametrize("damage", [drop_last_line, cut_mid_line, garble_middle, delete])
def test_a_damaged_journal_is_rebuilt_from_the_stream_files(
    store_dir: Path, damage: Callable[[Path], None],
) -> None:
    fill(store_dir)
    damage(store_dir / JOURNAL)

    with Store.open(store_dir) as store:
        assert view(store) == expected_view()
        store.append("JC-0", [event("After")], expected_version=3, now=NOW)  # journal usable again

    with Store.open(store_dir) as store:
        assert {s.stream: s.version for s in store.summaries()}["JC-0"] == 4


def test_without_any_index_file_everything_is_read_from_the_streams(store_dir: Path) -> None:
    fill(store_dir)
    with Store.open(store_dir):
        pass  # compacts into a snapshot
    (store_dir / SNAPSHOT).unlink(missing_ok=True)
    (store_dir / JOURNAL).unlink(missing_ok=True)

    with Store.open(store_dir) as store:
        assert view(store) == expected_view()


def test_a_snapshot_that_is_not_an_index_is_ignored_not_trusted(store_dir: Path) -> None:
    fill(store_dir)
    (store_dir / SNAPSHOT).write_text("this is not an index\n")

    with Store.open(store_dir) as store:
        assert view(store) == expected_view()


def test_a_stream_file_added_while_closed_is_found(store_dir: Path, tmp_path: Path) -> None:
    fill(store_dir)
    other = tmp_path / "other"
    with Store.open(other) as store:
        store.append("JC-9", [event("Elsewhere")], expected_version=0, keys=["m9"], now=NOW)
    shutil.copy(other / "streams" / "JC-9.json", store_dir / "streams" / "JC-9.json")

    with Store.open(store_dir) as store:
        assert store.load("JC-9").version == 1
        assert store.stream_for_key("m9") == "JC-9"


def test_a_missing_stream_file_is_an_error_not_a_forgotten_case(store_dir: Path) -> None:
    fill(store_dir)
    (store_dir / "streams" / "JC-1.json").unlink()

    with pytest.raises(StoreCorrupt) as refused:
        Store.open(store_dir)
    assert refused.value.path == store_dir / "streams" / "JC-1.json"
    assert "missing" in str(refused.value)
    assert "version 3" in str(refused.value)


def test_temporary_files_of_killed_writes_are_swept_at_open(store_dir: Path) -> None:
    fill(store_dir)
    leftover = store_dir / "streams" / ".JC-0.json.0123abcd.tmp"
    leftover.write_text('{"half": ')

    with Store.open(store_dir) as store:
        assert not leftover.exists()
        assert store.load("JC-0").version == 3


def test_a_clean_reopen_reads_no_stream_file(store_dir: Path) -> None:
    fill(store_dir)
    with Store.open(store_dir):
        pass
    # Garbage of the same size, inode and mtime: reading any stream file would now fail,
    # so a clean open must be served by the index alone.
    for path in (store_dir / "streams").iterdir():
        st = path.stat()
        path.write_bytes(b"!" * st.st_size)
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))

    with Store.open(store_dir) as store:
        assert view(store) == expected_view()
        with pytest.raises(StoreCorrupt):
            store.load("JC-0")
