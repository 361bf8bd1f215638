"""Persistence for jointly: per-case event logs, effects, de-duplication keys, cursors.

Plain JSON-able dicts in, plain records out; nothing here knows what a case
is. See ``store.store`` for the layout on disk and ``store.errors`` for what
can go wrong.
"""

from .errors import (
    DuplicateKey,
    StoreCorrupt,
    StoreDiskError,
    StoreError,
    StoreLocked,
    StoreReadOnly,
    UnknownEffect,
    UnknownStream,
    VersionConflict,
)
from .records import EffectRecord, StreamRecord, Summary
from .store import Store

__all__ = [
    "DuplicateKey",
    "EffectRecord",
    "Store",
    "StoreCorrupt",
    "StoreDiskError",
    "StoreError",
    "StoreLocked",
    "StoreReadOnly",
    "StreamRecord",
    "Summary",
    "UnknownEffect",
    "UnknownStream",
    "VersionConflict",
]
