"""What only the PostgreSQL store has: its schema's version, and a database that crashes."""

from __future__ import annotations

import psycopg
import pytest

from store.errors import StoreError, StoreLocked
from store.ports import open_store
from tests.servers.postgres import Postgres

from .support import NOW, event


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


def test_one_process_writes_at_a_time_and_readers_beside_it(postgres_url: str) -> None:
    with open_store(postgres_url) as writer:
        writer.append("JC-1", [event("a")], expected_version=0, now=NOW)
        with pytest.raises(StoreLocked, match="in use by another jointly process"):
            open_store(postgres_url)
        with open_store(postgres_url, readonly=True) as reader:
            assert reader.load("JC-1").version == 1
    with open_store(postgres_url) as again:  # the lock went with the writer
        assert again.exists("JC-1")
