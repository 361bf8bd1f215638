"""A disk that refuses writes (full, read-only) is refused with its path, and nothing half-done is
kept: the same write goes through once the disk takes writes again. Real faults: tests/disk.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from store import Store, StoreDiskError
from tests.disk import fill, read_only, small_disk

from .support import MINUTE, NOW, event

CASE = "JC-261124-7K3Q"


def leftovers(store_dir: Path) -> list[str]:
    return sorted(p.name for p in store_dir.rglob("*.tmp"))


def test_a_write_to_a_full_disk_is_refused_naming_the_file_and_can_be_made_later(tmp_path: Path) -> None:
    with small_disk(tmp_path / "disk") as disk, Store.open(disk / "store") as store:
        store.append(CASE, [event("Opened")], expected_version=0, now=NOW)
        filler = fill(disk)

        with pytest.raises(StoreDiskError) as refused:
            store.append(CASE, [event("Noted", text="x" * 5_000)], expected_version=1, now=NOW)

        assert refused.value.path == disk / "store" / "streams" / f"{CASE}.json"
        assert str(refused.value) == f"the store cannot write {refused.value.path}: No space left on device"
        assert store.load(CASE).version == 1 and leftovers(disk / "store") == []
        filler.unlink()
        assert store.append(CASE, [event("Noted")], expected_version=1, now=NOW) == 2


def test_a_batch_on_a_full_disk_keeps_its_writes_staged_until_there_is_space(tmp_path: Path) -> None:
    with small_disk(tmp_path / "disk") as disk:
        store = Store.open(disk / "store")
        filler = fill(disk)
        with pytest.raises(StoreDiskError, match="No space left on device"), store.batch():
            store.append(CASE, [event("Opened", text="x" * 5_000)], expected_version=0,
                         effects=[{"key": "ack"}], now=NOW)  # fmt: skip

        assert store.due_effects(NOW + MINUTE) == []  # no letter on a record not on disk
        filler.unlink()
        store.close()  # flushes what is staged
        with Store.open(disk / "store") as reopened:
            assert reopened.load(CASE).version == 1
            assert [r.key for _, r in reopened.due_effects(NOW + MINUTE)] == ["ack"]


def test_a_full_disk_still_lets_the_store_open_to_be_read(tmp_path: Path) -> None:
    with small_disk(tmp_path / "disk") as disk:
        with Store.open(disk / "store") as store:
            store.append(CASE, [event("Opened")], expected_version=0, now=NOW)
        fill(disk)

        with Store.open(disk / "store") as store:
            assert [s.stream for s in store.summaries()] == [CASE]


@pytest.mark.parametrize("made", [False, True], ids=["new store", "existing store"])
def test_a_read_only_folder_is_refused_at_open_naming_it(tmp_path: Path, made: bool) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    if made:
        Store.open(folder / "store").close()

    with read_only(folder), pytest.raises(StoreDiskError) as refused:
        Store.open(folder / "store")

    assert refused.value.path == folder / "store"
    assert str(refused.value).startswith(f"the store cannot write {folder / 'store'}: ")
