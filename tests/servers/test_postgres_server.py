"""The private PostgreSQL of tests/servers/postgres.py: it starts, each test gets an empty database of
its own, and it comes back after a crash. The fixtures come from tests/conftest.py's pytest_plugins."""

from __future__ import annotations

import psycopg

from tests.servers.postgres import Postgres

_seen: list[str] = []


def _tables(url: str) -> list[str]:
    with psycopg.connect(url) as connection:
        rows = connection.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
        ).fetchall()
    return [row[0] for row in rows]


def test_the_server_runs_on_loopback(postgres_server: Postgres) -> None:
    assert postgres_server.running and postgres_server.pid > 0
    assert postgres_server.url.startswith(f"postgresql://postgres@127.0.0.1:{postgres_server.port}/")
    with psycopg.connect(postgres_server.url) as connection:
        row = connection.execute("SHOW server_version_num").fetchone()
        assert row is not None and int(row[0]) >= 120000
        row = connection.execute("SELECT inet_server_addr()::text").fetchone()
        assert row is not None and row[0].startswith("127.0.0.1")
        row = connection.execute("SHOW fsync").fetchone()
        assert row == ("off",)


def test_a_connection_through_postgres_url_works(postgres_url: str) -> None:
    with psycopg.connect(postgres_url) as connection:
        connection.execute("CREATE TABLE t (n int)")
        connection.execute("INSERT INTO t VALUES (1), (2)")
        row = connection.execute("SELECT sum(n), current_database() FROM t").fetchone()
    assert row is not None and row[0] == 3 and row[1].startswith("test_")
    _seen.append(postgres_url)


def test_each_test_gets_an_empty_database_of_its_own(postgres_url: str) -> None:
    assert _tables(postgres_url) == []
    assert postgres_url not in _seen
    _seen.append(postgres_url)


def test_the_database_is_dropped_after_the_test(postgres_server: Postgres) -> None:
    with psycopg.connect(postgres_server.url) as connection:
        names = {row[0] for row in connection.execute("SELECT datname FROM pg_database").fetchall()}
    assert _seen and not names & {url.rsplit("/", 1)[1] for url in _seen}


def test_after_kill_it_restarts_with_what_was_committed(postgres_server: Postgres, postgres_url: str) -> None:
    with psycopg.connect(postgres_url) as connection:
        connection.execute("CREATE TABLE t (n int)")
        connection.execute("INSERT INTO t VALUES (42)")
    before = postgres_server.pid
    postgres_server.kill()
    assert not postgres_server.running
    postgres_server.restart()
    assert postgres_server.running and postgres_server.pid != before
    with psycopg.connect(postgres_url) as connection:
        assert connection.execute("SELECT n FROM t").fetchall() == [(42,)]


def test_a_killed_server_is_started_again_for_the_next_test(postgres_server: Postgres) -> None:
    postgres_server.kill()
    assert not postgres_server.running


def test_which_the_next_test_finds_running(postgres_url: str) -> None:
    assert _tables(postgres_url) == []
