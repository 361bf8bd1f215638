"""Small named positions (e.g. the mailbox's UIDVALIDITY and last UID), one file each.

A cursor is read once at start and written after each batch; it never takes
part in a stream write, so it lives in its own small file under DIR/cursors
rather than in the index.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .atomic import atomic_write
from .errors import StoreCorrupt
from .records import check_id, dumps


def read_cursor(directory: Path, name: str) -> dict[str, Any] | None:
    path = directory / f"{check_id(name, 'cursor name')}.json"
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    try:
        value = json.loads(raw)
    except ValueError as exc:
        raise StoreCorrupt(path=path, problem=f"not valid JSON ({exc})") from None
    if not isinstance(value, dict):
        raise StoreCorrupt(path=path, problem="a cursor must be a JSON object")
    return value


def write_cursor(directory: Path, name: str, value: Mapping[str, Any]) -> None:
    path = directory / f"{check_id(name, 'cursor name')}.json"
    if not isinstance(value, Mapping):
        raise ValueError(f"a cursor must be a mapping, got {type(value).__name__}")
    atomic_write(path, dumps(dict(value)).encode())


def all_cursors(directory: Path) -> dict[str, dict[str, Any]]:
    """Every cursor, by name."""
    found = {path.stem: read_cursor(directory, path.stem) for path in sorted(directory.glob("*.json"))}
    return {name: value for name, value in found.items() if value is not None}
