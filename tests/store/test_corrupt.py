"""A corrupt or hand-edited file is refused with its name, never silently reset.

When: a stream file is checked whenever it is read. ``load`` (and any write to
the stream) raises ``StoreCorrupt`` if the file went bad while the store was
open; ``Store.open`` raises for files it must re-read because they changed
since the index last saw them, which is what a hand edit does.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from store import Store, StoreCorrupt

from .support import NOW, event

CASE = "JC-261124-7K3Q"

Edit = Callable[[dict[str, Any]], Any]


def as_list(tables: dict[str, Any]) -> Any:
    return [tables]


def renumber_events(tables: dict[str, Any]) -> Any:
    tables["events"] = {"1": tables["events"]["1"], "3": tables["events"]["2"]}
    return tables


def drop_an_event(tables: dict[str, Any]) -> Any:
    del tables["events"]["2"]
    return tables


def claim_another_stream(tables: dict[str, Any]) -> Any:
    tables["meta"]["1"]["stream"] = "JC-OTHER"
    return tables


def break_an_effect(tables: dict[str, Any]) -> Any:
    tables["effects"]["1"]["status"] = "sent"
    return tables


def event_not_an_object(tables: dict[str, Any]) -> Any:
    tables["events"]["2"] = "LetterSent"
    return tables


WRONG_SHAPES: dict[str, tuple[Edit, str]] = {
    "list at top": (as_list, "top level"),
    "events misnumbered": (renumber_events, "'events'"),
    "event missing": (drop_an_event, "version 2"),
    "other stream": (claim_another_stream, "JC-OTHER"),
    "bad effect": (break_an_effect, "status 'sent'"),
    "event a string": (event_not_an_object, "events/2"),
}


def make_case(store_dir: Path) -> Path:
    with Store.open(store_dir) as store:
        store.append(CASE, [event("Opened"), event("Asked")], expected_version=0,
                     effects=[{"key": "letter-1"}], now=NOW)
    return store_dir / "streams" / f"{CASE}.json"


def edit(path: Path, change: Edit) -> None:
    path.write_text(json.dumps(change(json.loads(path.read_text()))))


def test_invalid_json_is_refused_at_open_naming_the_file(store_dir: Path) -> None:
    path = make_case(store_dir)
    path.write_text(path.read_text()[:-20])

    with pytest.raises(StoreCorrupt) as refused:
        Store.open(store_dir)

    assert refused.value.path == path
    assert str(path) in str(refused.value)
    assert "not valid JSON" in str(refused.value)


@pytest.mark.parametrize("name", WRONG_SHAPES)
def test_valid_json_of_the_wrong_shape_is_refused_at_open(store_dir: Path, name: str) -> None:
    change, problem = WRONG_SHAPES[name]
    path = make_case(store_dir)
    edit(path, change)

    with pytest.raises(StoreCorrupt) as refused:
        Store.open(store_dir)

    assert refused.value.path == path
    assert problem in str(refused.value)
    assert str(path) in str(refused.value)


def test_a_file_edited_while_the_store_is_open_is_refused_on_load_and_write(
    store_dir: Path,
) -> None:
    path = make_case(store_dir)
    with Store.open(store_dir) as store:
        path.write_text("{ not json")
        with pytest.raises(StoreCorrupt, match="not valid JSON"):
            store.load(CASE)
        with pytest.raises(StoreCorrupt, match=str(path)):
            store.append(CASE, [event("More")], expected_version=2, now=NOW)
        assert path.read_text() == "{ not json"


def test_a_file_rolled_back_while_the_store_is_open_is_refused(store_dir: Path) -> None:
    path = make_case(store_dir)
    before = path.read_bytes()
    with Store.open(store_dir) as store:
        store.append(CASE, [event("More")], expected_version=2, now=NOW)
        path.write_bytes(before)
        with pytest.raises(StoreCorrupt, match="version 2 but the store wrote version 3"):
            store.load(CASE)


def test_a_corrupt_cursor_is_refused_naming_the_file(store_dir: Path) -> None:
    with Store.open(store_dir) as store:
        store.set_cursor("inbox", {"uid": 1})
        path = store_dir / "cursors" / "inbox.json"
        path.write_text("[1, 2]")
        with pytest.raises(StoreCorrupt, match="inbox.json"):
            store.get_cursor("inbox")
