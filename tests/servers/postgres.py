"""A real PostgreSQL for tests: a private cluster in a temporary directory, on 127.0.0.1 and a free
port, started once per test session and stopped at its end; each test gets an empty database.

PostgreSQL will not run as root, so as root the cluster runs as the `postgres` system user (the
Debian package makes it). It runs with fsync off (the machine does not crash in a test; a killed
server's writes are in the kernel's cache) but commits synchronously, so a commit acknowledged is
one a killed server still has. Without PostgreSQL or psycopg the fixtures skip, saying how to get
them.

- `postgres_server` (session): the running `Postgres`: `url` of its maintenance database, `kill()`
  (SIGKILL of the postmaster) and `start()` again.
- `postgres_url` (function): the connection string of a new, empty database, dropped afterwards.
"""

from __future__ import annotations

import glob
import itertools
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

HOW = "the database store's tests need PostgreSQL: apt-get install postgresql (make test does it as root)"
USER = "postgres"


def binaries() -> Path | None:
    """The directory of initdb and pg_ctl: the newest installed major version, else on PATH."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


class Postgres:
    def __init__(self, bindir: Path, root: Path) -> None:
        self.bindir = bindir
        self.root = root
        self.data = root / "data"
        self.port = _free_port()
        self._as: list[str] = []
        if os.geteuid() == 0:  # postgres refuses root: run it as its own system user
            pwd.getpwnam(USER)  # KeyError when there is none
            shutil.chown(root, USER)
            self._as = ["runuser", "-u", USER, "--"]

    @property
    def url(self) -> str:
        return f"postgresql://{USER}@127.0.0.1:{self.port}/postgres"

    def url_of(self, database: str) -> str:
        return f"postgresql://{USER}@127.0.0.1:{self.port}/{database}"

    def init(self) -> None:
        self._run("initdb", "-D", str(self.data), "-U", USER, "-A", "trust", "--no-sync", "-E", "UTF8")

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1"
            " -c fsync=off -c full_page_writes=off"  # the kernel keeps what a killed server wrote
        )
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.root / "log"), "-w", "start")

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    @property
    def pid(self) -> int:
        return int((self.data / "postmaster.pid").read_text().split()[0])

    def kill(self) -> None:
        """SIGKILL the postmaster, as a crash would (`start` brings it back, recovering)."""
        pid = self.pid
        os.kill(pid, signal.SIGKILL)
        subprocess.run(["sh", "-c", f"while kill -0 {pid} 2>/dev/null; do sleep 0.05; done"], check=True)
        (self.data / "postmaster.pid").unlink(missing_ok=True)

    def _run(self, program: str, *args: str) -> None:
        command = [*self._as, str(self.bindir / program), *args]
        done = subprocess.run(
            command, capture_output=True, text=True, cwd=self.root, timeout=120, check=False
        )
        if done.returncode != 0:
            raise RuntimeError(f"{program} failed ({done.returncode}): {done.stderr or done.stdout}")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[Postgres]:
    bindir = binaries()
    if bindir is None:
        pytest.skip(HOW)
    pytest.importorskip("psycopg", reason="psycopg comes with the project's dependencies: make test")
    with tempfile.TemporaryDirectory(prefix="jointly-pg-") as folder:
        try:
            server = Postgres(bindir, Path(folder))
        except KeyError:
            pytest.skip(f"running as root needs the {USER} system user: {HOW}")
        server.init()
        server.start()
        try:
            yield server
        finally:
            server.stop()


_databases = itertools.count(1)


@pytest.fixture
def postgres_url(postgres_server: Postgres) -> Iterator[str]:
    import psycopg

    name = f"test_{os.getpid()}_{next(_databases)}"
    with psycopg.connect(postgres_server.url, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    try:
        yield postgres_server.url_of(name)
    finally:
        with psycopg.connect(postgres_server.url, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
