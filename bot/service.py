"""The case service: the one loop every input goes through.

    command -> load the case (fold its events) -> flows.decide -> append the events, the effects
    and the new summary to the store in one atomic write

It is synchronous and guarded by a lock, and async callers reach it through `asyncio.to_thread`.
Other replicas may write the same store meanwhile: a decision made on a case another process has
moved on since (`VersionConflict`) is made again on the case as it now is, as if it had come after.
Each accepted decision is logged as one line per event, carrying the case reference and the actor,
never personal details.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from flows.calendar import london_date
from flows.codec import event_from_plain, to_plain
from flows.commands import Command
from flows.decide import Decision, decide
from flows.errors import UnknownCase
from flows.evolve import fold
from flows.model import Case
from flows.summary import summarise
from store.errors import DuplicateKey, VersionConflict
from store.ports import CaseStore
from store.records import Summary

log = logging.getLogger("jointly.cases")
# Cases kept folded: a case of 300 events takes about a millisecond to read and fold. Each kept
# case is about 40 objects that every full garbage collection walks with the GIL held, stalling
# the chat's event loop meanwhile: 4,096 kept made those stalls 110-300 ms on the busiest day
# (bench/bench_busy_day.py); 512 keep them under 100 ms.
FOLDED = 512
TRIES = 5  # decisions made again on a case other replicas keep moving on, before giving up


class CaseService:
    def __init__(self, store: CaseStore) -> None:
        self.store = store
        self._lock = threading.Lock()
        self._folded: OrderedDict[str, Case] = OrderedDict()  # the latest cases, least recent first
        self._folded_lock = threading.Lock()

    def load(self, ref: str) -> Case:
        """The case as its events make it. The writer keeps the cases it folded last (`FOLDED`):
        one whose version the store's index still shows is the case, unread and unfolded."""
        summary = self._summary(ref)
        if summary is None:
            raise UnknownCase(f"there is no case {ref}", ref=ref)
        return self._fold(ref, summary)

    def _summary(self, ref: str) -> Summary | None:
        """The case's entry in the store's index (one read); None when `ref` names no case."""
        try:
            return self.store.summary(ref) if ref.startswith("JC-") else None
        except ValueError:  # not even a possible reference
            return None

    def _fold(self, ref: str, summary: Summary) -> Case:
        with self._folded_lock:
            kept = self._folded.get(ref)
            if kept is not None and not self.store.readonly and kept.version == summary.version:
                self._folded.move_to_end(ref)
                return kept
        record = self.store.load(ref)
        case = fold(Case(ref=ref), (event_from_plain(e) for e in record.events))
        self._keep(case)
        return case

    def _keep(self, case: Case) -> None:
        if self.store.readonly:  # another process writes: only the file can say what is current
            return
        with self._folded_lock:
            self._folded[case.ref] = case
            self._folded.move_to_end(case.ref)
            if len(self._folded) > FOLDED:
                self._folded.popitem(last=False)

    def execute(self, ref: str, command: Command, now: datetime, keys: Iterable[str] = ()) -> Decision:
        """Decide `command` on case `ref` (a new case if it does not exist) and store the outcome.

        A key already consumed raises `DuplicateKey` before anything is decided: the same request
        twice is a repeat, not a second decision on a case the first one already moved on."""
        keys = list(keys)
        with self._lock:
            for key in keys:
                if (owner := self.store.stream_for_key(key)) is not None:
                    raise DuplicateKey(key=key, stream=owner)
            decision = self._again(ref, lambda: self._decide_new(ref, command, now, keys))
        for event in decision.events:
            log.info("%s %s by %s", ref, type(event).__name__, event.by, extra={"ref": ref})
        return decision

    def _decide_new(self, ref: str, command: Command, now: datetime, keys: list[str]) -> Decision:
        summary = self._summary(ref)
        case = self._fold(ref, summary) if summary is not None else Case(ref=ref)
        decision = decide(case, command, now)
        self.store.append(
            ref,
            [to_plain(e) for e in decision.events],
            expected_version=case.version,
            effects=[to_plain(e) for e in decision.effects],
            keys=keys,
            summary=summarise(decision.after),
            now=now,
        )
        self._keep(decision.after)
        return decision

    def _again(self, ref: str, attempt: Callable[[], Decision]) -> Decision:
        """`attempt` (a decision and its write), made again while another replica wrote the case
        first; the case it read is forgotten each time."""
        for tried in range(1, TRIES + 1):
            try:
                return attempt()
            except VersionConflict:
                with self._folded_lock:
                    self._folded.pop(ref, None)
                if tried == TRIES:
                    raise
                log.info("%s: written by another replica meanwhile; deciding again", ref, extra={"ref": ref})
        raise AssertionError("unreachable")

    def record(
        self,
        stream: str,
        event: dict[str, Any],
        effect: dict[str, Any] | None,
        key: str,
        summary: dict[str, Any],
        now: datetime,
    ) -> None:
        """Open a stream that is not a case (mail set aside) with one event and maybe an effect."""
        effects = [effect] if effect else []
        with self._lock:
            self.store.append(
                stream, [event], expected_version=0, effects=effects, keys=[key], summary=summary, now=now
            )

    def complete(
        self, ref: str, key: str, command: Command | None, now: datetime, keys: Iterable[str] = ()
    ) -> None:
        """Mark effect `key` done, recording what `command` (if any) says about it and consuming
        `keys`, atomically."""
        with self._lock:
            if command is None:
                self.store.complete_effect(ref, key, keys=keys, now=now)
                return
            self._again(ref, lambda: self._complete(ref, key, command, now, keys))

    def _complete(self, ref: str, key: str, command: Command, now: datetime, keys: Iterable[str]) -> Decision:
        case = self.load(ref)
        decision = decide(case, command, now)
        self.store.complete_effect(
            ref,
            key,
            events=[to_plain(e) for e in decision.events],
            effects=[to_plain(e) for e in decision.effects],
            keys=keys,
            summary=summarise(decision.after),
            now=now,
            expected_version=case.version,
        )
        self._keep(decision.after)
        return decision

    def destroy(self, ref: str, command: Command, now: datetime) -> Case:
        """Decide a `DestroyRecord` and replace the case's whole record with the tombstone it leaves;
        returns the case as it was, for its files to be removed."""
        with self._lock:
            case = self.load(ref)
            decision = decide(case, command, now)
            after = fold(Case(ref=ref), decision.events)
            [tombstone] = decision.events
            self.store.erase(ref, to_plain(tombstone), summary=summarise(after), now=now)
            self._keep(after)  # its version starts again: never the case it was
        log.info("%s record destroyed by %s", ref, command.actor.id, extra={"ref": ref})
        return case

    def feed(self) -> Callable[[], set[str]]:
        """A change feed of its own: each call returns the cases written (by any replica) since its
        previous call. The sweep and the chat threads follow one each instead of scanning all."""
        return self.store.feed()

    def fail(self, ref: str, key: str, error: str, retry_at: datetime, now: datetime) -> None:
        with self._lock:
            self.store.fail_effect(ref, key, error=error, retry_at=retry_at, now=now)

    def new_ref(self, received_at: datetime, key: str) -> str:
        """A short reference people can read out on the phone: JC-YYMMDD-XXXX, derived from `key`."""
        digest = base64.b32encode(hashlib.sha256(key.encode()).digest()).decode()
        for length in range(4, len(digest)):
            ref = f"JC-{london_date(received_at):%y%m%d}-{digest[:length]}"
            if not self.store.exists(ref):
                return ref
        raise RuntimeError("no free case reference")  # unreachable: 52 characters of digest
