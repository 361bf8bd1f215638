"""Moving a store to another backend (`jointly store copy`): every stream whole, every cursor, then
a check that the target holds the same, stream by stream.

The target must be empty: a copy never merges into cases already there. The source is read only, so
it may be the store of a running service (each stream is copied as it was when read).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from .errors import StoreError
from .ports import CaseStore
from .records import StoredStream


@dataclass(frozen=True)
class Copied:
    streams: int
    cursors: int


def copy_store(source: CaseStore, target: CaseStore) -> Copied:
    """Copy everything from `source` into the empty `target` and verify it; `StoreError` when the
    target is not empty or does not hold what was copied."""
    if target.summaries() or target.cursors():
        raise StoreError("the target store is not empty: a copy goes only into an empty one")
    names = sorted(s.stream for s in source.summaries())
    sums = {}
    with target.batch():
        for name in names:
            stored = source.export(name)
            sums[name] = checksum(stored)
            target.restore(stored)
    cursors = source.cursors()
    for cursor, value in cursors.items():
        target.set_cursor(cursor, value)
    copied = {s.stream for s in target.summaries()}
    if copied != set(names) or target.cursors() != cursors:
        raise StoreError(f"the copy holds {len(copied)} streams, not {len(names)}, or other cursors")
    for name in names:
        if checksum(target.export(name)) != sums[name]:
            raise StoreError(f"stream {name} differs in the copy")
    return Copied(len(names), len(cursors))


def checksum(stored: StoredStream) -> str:
    """The same for the same stream in any backend: its events, effects, keys and summary."""
    record = stored.record
    whole = {
        "version": record.version,
        "events": record.events,
        "effects": [effect.to_json() for effect in record.effects],
        "keys": sorted(stored.keys),
        "summary": record.summary,
    }
    return hashlib.sha256(json.dumps(whole, sort_keys=True).encode()).hexdigest()
