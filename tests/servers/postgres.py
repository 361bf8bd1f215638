"""A real PostgreSQL for tests: a private cluster in a temporary directory, on 127.0.0.1 and a free
port (its unix socket in the same directory), started once per test session and stopped at its end
(`pg_ctl stop -m fast`); each test gets an empty database of its own.

PostgreSQL will not run as root, so as root `initdb` and `pg_ctl` run as the `postgres` system user
(the Debian package makes it) through `runuser` (or `setpriv`), in a directory that user owns; not as
root, everything runs as the current user. The cluster runs with fsync and full_page_writes off (the
machine does not crash in a test; what a killed server wrote is in the kernel's cache) but commits
synchronously, so a commit acknowledged is one a killed server still has after `restart()`.
Authentication is `trust`, for the unix socket and 127.0.0.1 only. Without PostgreSQL or psycopg the
fixtures skip, saying how to get them.

- `postgres_server` (session): the running `Postgres`: `url` of its maintenance database, `pid`,
  `kill()` (SIGKILL of the postmaster, a crash), `start()`, `stop()` and `restart()`.
- `postgres_url` (function): the connection string of a new, empty database (`test_<n>`), dropped
  afterwards; the server is started again first if an earlier test left it stopped or killed.
"""

from __future__ import annotations

import contextlib
import glob
import itertools
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

HOW = "the database store's tests need PostgreSQL: apt-get install postgresql (make test does it as root)"
PSYCOPG_HOW = "psycopg comes with the project's dependencies: make test, or .venv/bin/pip install -e '.[dev]'"
USER = "postgres"  # the cluster's superuser, and the system user it runs as when we are root

_SETTINGS = """
# tests only: durability of the test cluster itself is not under test
listen_addresses = '127.0.0.1'
port = {port}
unix_socket_directories = '{root}'
fsync = off
full_page_writes = off
synchronous_commit = on  # a commit acknowledged is in the kernel's cache: it survives kill()
max_connections = 50
shared_buffers = 16MB
log_min_messages = warning
"""
_HBA = "local all all trust\nhost all all 127.0.0.1/32 trust\n"


def binaries() -> Path | None:
    """The directory of initdb and pg_ctl: `pg_config --bindir`, else the newest
    /usr/lib/postgresql/*/bin, else PATH."""
    pg_config = shutil.which("pg_config")
    if pg_config:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            done = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, timeout=10)
            bindir = Path(done.stdout.strip())
            if done.returncode == 0 and (bindir / "initdb").is_file() and (bindir / "pg_ctl").is_file():
                return bindir
    found = sorted(
        (path for path in glob.glob("/usr/lib/postgresql/*/bin") if (Path(path) / "pg_ctl").is_file()),
        key=lambda path: _version(Path(path).parent.name),
    )
    if found:
        return Path(found[-1])
    initdb, pg_ctl = shutil.which("initdb"), shutil.which("pg_ctl")
    if initdb and pg_ctl:
        return Path(os.path.realpath(initdb)).parent
    return None


def _version(name: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", name)) or (0,)


def _run_as() -> list[str]:
    """The command prefix that runs a program as the `postgres` user (as root), or [] (not root)."""
    if os.geteuid() != 0:
        return []
    pwd.getpwnam(USER)  # KeyError when there is none
    if shutil.which("runuser"):
        return ["runuser", "-u", USER, "--"]
    if shutil.which("setpriv"):
        return ["setpriv", f"--reuid={USER}", f"--regid={USER}", "--init-groups", "--"]
    raise KeyError("neither runuser nor setpriv")


class Postgres:
    """One private cluster: `start()` (running initdb the first time), `stop()`, `kill()`, `restart()`."""

    host = "127.0.0.1"
    user = USER
    database = "postgres"

    def __init__(self, bindir: Path, root: Path) -> None:
        self.bindir = bindir
        self.root = root
        self.data = root / "data"
        self.log_path = root / "log"
        self.port = _free_port()
        self._as = _run_as()
        if self._as:
            shutil.chown(root, USER, USER)
        root.chmod(0o755)

    @property
    def url(self) -> str:
        """psycopg's connection string of the maintenance database."""
        return self.url_of(self.database)

    def url_of(self, database: str) -> str:
        return f"postgresql://{self.user}@{self.host}:{self.port}/{database}"

    @property
    def pid(self) -> int:
        """The postmaster's process id, while running (from postmaster.pid)."""
        return int((self.data / "postmaster.pid").read_text().split()[0])

    @property
    def running(self) -> bool:
        try:
            return _alive(self.pid)
        except (OSError, ValueError, IndexError):
            return False

    def init(self) -> None:
        self._run("initdb", "-D", str(self.data), "-U", USER, "-A", "trust", "-E", "UTF8", "--no-sync")
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.write(_SETTINGS.format(port=self.port, root=self.root))
        (self.data / "pg_hba.conf").write_text(_HBA)  # the files keep their owner: the cluster's

    def start(self) -> None:
        if not (self.data / "PG_VERSION").exists():
            self.init()
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log_path), "-w", "-t", "60", "start")

    def stop(self) -> None:
        if self.running:
            self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "-t", "60", "stop")

    def kill(self) -> None:
        """SIGKILL the postmaster, as a crash would, and wait until it and its backends are gone
        (`start()` or `restart()` brings it back, recovering from the WAL)."""
        pid = self.pid
        children = _children(pid)
        os.kill(pid, signal.SIGKILL)
        _wait_gone([pid], timeout=10)
        # orphaned backends exit when they notice; one still attached to the shared memory would stop
        # the next postmaster from starting
        if not _wait_gone(children, timeout=5):
            for child in children:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(child, signal.SIGKILL)
            _wait_gone(children, timeout=5)
        # the lock files a crash leaves: PostgreSQL's own check takes a zombie postmaster (a container's
        # init may be slow to reap it) for a live one and refuses to start
        (self.data / "postmaster.pid").unlink(missing_ok=True)
        (self.root / f".s.PGSQL.{self.port}.lock").unlink(missing_ok=True)

    def restart(self) -> None:
        """Stop (fast) if running, then start: after `kill()`, crash recovery."""
        self.stop()
        self.start()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:] if self.log_path.exists() else "(no log)"

    def _run(self, program: str, *args: str) -> None:
        command = [*self._as, str(self.bindir / program), *args]
        done = subprocess.run(
            command, capture_output=True, text=True, cwd=self.root, timeout=120, check=False
        )
        if done.returncode != 0:
            raise RuntimeError(
                f"{program} failed ({done.returncode}): {done.stderr or done.stdout}\n"
                f"server log:\n{self.log()}"
            )


def _children(pid: int) -> list[int]:
    found = []
    for stat in glob.glob("/proc/[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            text = Path(stat).read_text()
            if int(text.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(Path(stat).parent.name))
    return found


def _alive(pid: int) -> bool:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return text.rsplit(")", 1)[1].split()[0] != "Z"  # a zombie (ours to reap, or init's) is gone


def _wait_gone(pids: list[int], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while any(_alive(pid) for pid in pids):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[Postgres]:
    pytest.importorskip("psycopg", reason=PSYCOPG_HOW)
    try:
        with private_postgres() as server:
            yield server
    except NoPostgres as error:
        pytest.skip(str(error))


class NoPostgres(Exception):
    """PostgreSQL cannot be run here; the message says how to get it."""


@contextlib.contextmanager
def private_postgres(settings: str = "", prefix: str = "jointly-pg-") -> Iterator[Postgres]:
    """A private cluster in a new temporary directory, with `settings` added to its configuration
    (later lines win); stopped and removed at the end."""
    bindir = binaries()
    if bindir is None:
        raise NoPostgres(HOW)
    root = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        try:
            server = Postgres(bindir, root)
        except KeyError:
            as_root = f"as root, PostgreSQL runs as the {USER} system user (and runuser)"
            raise NoPostgres(f"{as_root}: {HOW}") from None
        server.init()
        with (server.data / "postgresql.conf").open("a") as conf:
            conf.write(settings)
        server.start()
        try:
            yield server
        finally:
            server.stop()
    finally:
        shutil.rmtree(root, ignore_errors=True)


_databases = itertools.count(1)


@pytest.fixture
def postgres_url(postgres_server: Postgres) -> Iterator[str]:
    import psycopg

    if not postgres_server.running:  # an earlier test killed or stopped it
        postgres_server.restart()
    name = f"test_{next(_databases)}"
    with psycopg.connect(postgres_server.url, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    try:
        yield postgres_server.url_of(name)
    finally:
        if not postgres_server.running:
            postgres_server.restart()
        with psycopg.connect(postgres_server.url, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
