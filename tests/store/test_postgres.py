"""What only the PostgreSQL store has: its schema's version, a database that crashes, and several
processes writing it at once (replicas), one of them leading."""

from __future__ import annotations

from datetime import timedelta

import psycopg
import pytest

from store.errors import StoreError, StoreUnavailable, VersionConflict
from store.ports import open_store
from store.postgres import MIGRATIONS, SCHEMA_VERSION
from tests.servers.postgres import Postgres

from .support import NOW, event, eventually


def test_a_database_of_a_newer_schema_is_refused_not_written(postgres_url: str) -> None:
    open_store(postgres_url).close()  # the schema, made at the first open
    with psycopg.connect(postgres_url, autocommit=True) as connection:
        connection.execute("INSERT INTO jointly_schema (version) VALUES (99)")
    with pytest.raises(StoreError, match="schema version 99, newer than"):
        open_store(postgres_url)


def test_a_reader_does_not_make_the_schema(postgres_url: str) -> None:
    with pytest.raises(StoreError, match="no jointly schema yet"):
        open_store(postgres_url, readonly=True)


def test_what_was_committed_is_there_after_the_server_is_killed(
    postgres_server: Postgres, postgres_url: str
) -> None:
    with open_store(postgres_url) as store:
        store.append("JC-1", [event("a")], expected_version=0, keys=["k"], now=NOW)
    postgres_server.kill()
    postgres_server.start()
    with open_store(postgres_url) as store:
        assert store.load("JC-1").version == 1 and store.has_key("k")


def test_a_database_of_the_first_schema_is_migrated_in_place(postgres_url: str) -> None:
    with psycopg.connect(postgres_url, autocommit=True) as connection:  # as version 1 left it
        connection.execute(MIGRATIONS[0])
        connection.execute("INSERT INTO jointly_schema (version) VALUES (1)")
        connection.execute(
            "INSERT INTO streams (stream, version, summary) VALUES ('JC-1', 1, '{\"open\": true}')"
        )
        connection.execute(
            "INSERT INTO events (stream, version, body) VALUES ('JC-1', 1, '{\"type\": \"a\"}')"
        )
    with pytest.raises(StoreError, match="older than ours: start the service first"):
        open_store(postgres_url, readonly=True)
    with open_store(postgres_url) as store:
        assert [c.ref for c in store.open_cases()] == ["JC-1"] and store.load("JC-1").version == 1
        store.check()
    with psycopg.connect(postgres_url) as connection:
        assert connection.execute("SELECT max(version) FROM jointly_schema").fetchone() == (SCHEMA_VERSION,)


def test_replicas_write_at_once_and_each_hears_of_the_others_writes(postgres_url: str) -> None:
    with open_store(postgres_url) as one, open_store(postgres_url) as two:
        heard = two.feed()
        assert not two.wait_changes(0)  # listening from now on
        one.append("JC-1", [event("a")], expected_version=0, now=NOW)
        assert two.wait_changes(5) and heard() == {"JC-1"}
        two.append("JC-1", [event("b")], expected_version=1, now=NOW)
        with pytest.raises(VersionConflict):
            one.append("JC-1", [event("c")], expected_version=1, now=NOW)
        assert heard() == {"JC-1"} and heard() == set()
        assert not one.wait_changes(0.05)  # drained? only its own write, not another's, wakes it
        one.append("JC-2", [event("a")], expected_version=0, now=NOW)
        assert not one.wait_changes(0.2) and two.wait_changes(5)
        heard()
        with one.batch():  # a burst of mail: the others are told once it is committed
            one.append("JC-3", [event("a")], expected_version=0, now=NOW)
            one.append("JC-4", [event("a")], expected_version=0, now=NOW)
            assert not two.wait_changes(0.05) and heard() == set()
        assert two.wait_changes(5) and heard() == {"JC-3", "JC-4"}


def test_one_replica_leads_at_a_time_and_another_takes_over_when_it_goes(postgres_url: str) -> None:
    first, second = open_store(postgres_url), open_store(postgres_url)
    try:
        assert first.lead() and first.lead()  # and goes on leading
        assert not second.lead()
        with open_store(postgres_url, readonly=True) as reader:
            assert not reader.lead()  # a reader never leads
        first.close()  # its session, and the lead, go (as when its process is killed)
        assert eventually(second.lead)
    finally:
        second.close()


def test_a_leader_whose_session_is_cut_stops_leading(postgres_url: str) -> None:
    with open_store(postgres_url) as leader, open_store(postgres_url) as other:
        assert leader.lead()
        with psycopg.connect(postgres_url, autocommit=True) as admin:  # as a network cut would
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND granted"
                " AND pid <> pg_backend_pid()"
            )
        assert eventually(other.lead)  # the lead is free once that session has gone
        assert not leader.lead()  # and the one cut off knows it no longer leads


def test_two_replicas_never_claim_one_effect(postgres_url: str) -> None:
    with open_store(postgres_url) as one, open_store(postgres_url) as two:
        one.append("JC-1", [event("a")], expected_version=0, effects=[{"key": "L1", "kind": "x"}], now=NOW)
        [(stream, claimed)] = one.claim_effects(NOW, lease=timedelta(minutes=5))
        assert (stream, claimed.key) == ("JC-1", "L1")
        assert two.claim_effects(NOW, lease=timedelta(minutes=5)) == []  # held
        later = NOW + timedelta(minutes=6)  # the lease ended: its holder died with it
        assert [r.key for _, r in two.claim_effects(later, lease=timedelta(minutes=5))] == ["L1"]
        two.complete_effect("JC-1", "L1", now=later)
        assert one.claim_effects(later + timedelta(hours=1), lease=timedelta(minutes=5)) == []


def test_what_a_leader_claimed_is_free_the_moment_its_session_ends(postgres_url: str) -> None:
    with open_store(postgres_url) as survivor:
        leader = open_store(postgres_url)
        leader.append("JC-1", [event("a")], expected_version=0, effects=[{"key": "L1", "kind": "x"}], now=NOW)
        assert leader.lead() and [r.key for _, r in leader.claim_effects(NOW, lease=timedelta(hours=1))] == [
            "L1"
        ]
        assert survivor.claim_effects(NOW, lease=timedelta(hours=1)) == []  # held by a living leader
        leader.close()  # killed: its sessions end
        assert eventually(survivor.lead)
        assert eventually(lambda: len(survivor.claim_effects(NOW, lease=timedelta(hours=1))) == 1)


def test_a_database_out_of_reach_is_unavailable_and_then_back(
    postgres_server: Postgres, postgres_url: str
) -> None:
    with open_store(postgres_url) as store:
        store.append("JC-1", [event("a")], expected_version=0, now=NOW)
        assert store.lead()
        postgres_server.stop()
        try:
            with pytest.raises(StoreUnavailable, match="cannot be reached"):
                store.append("JC-1", [event("b")], expected_version=1, now=NOW)
            with pytest.raises(StoreUnavailable):
                store.lead()
            with pytest.raises(StoreUnavailable):
                store.check()
        finally:
            postgres_server.start()
        assert store.lead()  # a new session, the lead taken again
        assert store.append("JC-1", [event("b")], expected_version=1, now=NOW) == 2
