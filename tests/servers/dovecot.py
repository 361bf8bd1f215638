"""A private Dovecot IMAP server for the test session: the real thing, on 127.0.0.1, no system config.

Fixtures: ``pytest_plugins = ["tests.servers.dovecot"]`` in the root conftest, or import the three
``*_fixture`` functions into a test module (their fixture names are free for parameters then):

- ``dovecot_server`` (session): one server with a plain listener (STARTTLS offered) and an implicit
  TLS listener on free ports, a self-signed certificate for 127.0.0.1 and a static passdb, so any
  user name logs in with `Dovecot.password` and each test can have a mailbox of its own.
- ``dovecot`` (function): the same server, started again first if an earlier test stopped it.
- ``imap_user``: a user name unique to the test.

Everything lives in one temporary directory (mode 755: Dovecot's unprivileged processes must read
it) and `base_dir` starts empty on every start. The server is ready when the IMAP greeting
arrives, not when the port merely accepts. `stop(kill=True)` kills the whole process group at once
(about 15 ms); `restart()` brings it back on the same ports with the same mail. As root, mail
belongs to uid 5000 (Dovecot refuses uid 0); otherwise everything, without chroot, runs as the
current user. The XOAUTH2 mechanism is on: Dovecot checks the token against the static passdb
like a password, so `Dovecot.password` is also a valid token.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path

import pytest
from imap_tools import MailBoxUnencrypted

INSTALL_HINT = (
    "Dovecot is not installed: apt-get install dovecot-imapd dovecot-core "
    "(make test does this when run as root)"
)
_MAIL_UID = 5000
_APPENDUID = re.compile(rb"\[APPENDUID (\d+) (\d+)\]")

_CONFIG = """\
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
info_log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = yes
ssl_cert = <{root}/cert.pem
ssl_key = <{root}/key.pem
disable_plaintext_auth = no
auth_mechanisms = plain login xoauth2
auth_failure_delay = 0
mail_location = maildir:~/Maildir
first_valid_uid = {uid}
{users}
passdb {{
  driver = static
  args = password={password}
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/mail/%n
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {tls_port}
    ssl = yes
  }}
}}
service anvil {{
  chroot =
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
"""


def dovecot_binary() -> str | None:
    return shutil.which("dovecot") or shutil.which("dovecot", path="/usr/sbin:/usr/local/sbin")


class Dovecot:
    """One private Dovecot: start, stop, restart, and helpers to put mail in and look at it."""

    host = "127.0.0.1"
    password = "secret"

    def __init__(self, binary: str, root: Path) -> None:
        self.binary = binary
        self.root = root
        self.port, self.tls_port = _free_port(), _free_port()
        self.cert_path = root / "cert.pem"
        self._process: subprocess.Popen[bytes] | None = None
        root.chmod(0o755)
        _make_certificate(root)
        mail = root / "mail"
        mail.mkdir()
        if os.geteuid() == 0:
            uid, gid, users = _MAIL_UID, _MAIL_UID, ""
            os.chown(mail, uid, gid)
        else:
            uid, gid, (me, group) = os.getuid(), os.getgid(), _user_and_group()
            own = {"default_login_user": me, "default_internal_user": me, "default_internal_group": group}
            users = "\n".join(f"{key} = {value}" for key, value in own.items())
        self.config_path = root / "dovecot.conf"
        self.config_path.write_text(
            _CONFIG.format(
                root=root,
                uid=uid,
                gid=gid,
                users=users,
                password=self.password,
                port=self.port,
                tls_port=self.tls_port,
            )
        )

    @property
    def pid(self) -> int | None:
        """The master process's id (its process group's too), while started."""
        return self._process.pid if self._process is not None else None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self, timeout: float = 10) -> None:
        shutil.rmtree(self.root / "run", ignore_errors=True)
        (self.root / "run").mkdir(mode=0o755)
        (self.root / "state").mkdir(mode=0o755, exist_ok=True)
        self._process = subprocess.Popen(
            [self.binary, "-F", "-c", str(self.config_path)],
            start_new_session=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + timeout
        while not _greets(self.host, self.port):
            if self._process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"dovecot did not start; see {self.root / 'dovecot.log'}:\n{self.log()}")
            time.sleep(0.01)

    def stop(self, kill: bool = True) -> None:
        """SIGKILL the whole process group (a crash, and fast), or SIGTERM the master (about 1 s)."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            if kill:
                os.killpg(process.pid, signal.SIGKILL)
            else:
                process.terminate()
        process.wait(timeout=10)
        if not kill:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)  # stragglers, if any

    def restart(self, kill: bool = True) -> None:
        self.stop(kill=kill)
        self.start()

    def log(self) -> str:
        path = self.root / "dovecot.log"
        return path.read_text(errors="replace")[-4000:] if path.exists() else "(no log)"

    def ssl_context(self) -> ssl.SSLContext:
        """A client context that trusts this server's self-signed certificate (and nothing else)."""
        return ssl.create_default_context(cafile=str(self.cert_path))

    @contextlib.contextmanager
    def client(self, user: str, folder: str | None = "INBOX") -> Iterator[MailBoxUnencrypted]:
        """Another IMAP session as `user` (a person's mail client, or the MTA)."""
        mailbox = MailBoxUnencrypted(self.host, self.port, timeout=10)
        try:
            mailbox.login(user, self.password, initial_folder=None)
            if folder is not None:
                _ensure_folder(mailbox, folder)
                mailbox.folder.set(folder)
            yield mailbox
        finally:
            with contextlib.suppress(Exception):
                mailbox.logout()

    def append(
        self,
        user: str,
        data: bytes,
        folder: str = "INBOX",
        when: datetime | None = None,
        flags: Iterable[str] = (),
    ) -> int:
        """Deliver `data` into `user`'s `folder` (created if missing); return its UID there."""
        with self.client(user, folder=None) as mailbox:
            _ensure_folder(mailbox, folder)
            _, lines = mailbox.append(data, folder, dt=when, flag_set=list(flags))
        found = _APPENDUID.search(b" ".join(line for line in lines if isinstance(line, bytes)))
        assert found, f"no APPENDUID in {lines!r}"
        return int(found.group(2))

    def messages(self, user: str, folder: str) -> list[bytes]:
        """The raw bytes of every message in a folder, by UID ([] if the folder does not exist)."""
        with self.client(user, folder=None) as mailbox:
            if not mailbox.folder.exists(folder):
                return []
            mailbox.folder.set(folder, readonly=True)
            typ, data = mailbox.client.uid("FETCH", "1:*", "(BODY.PEEK[])")
            return [item[1] for item in data if isinstance(item, tuple)]


def _ensure_folder(mailbox: MailBoxUnencrypted, folder: str) -> None:
    if not mailbox.folder.exists(folder):
        mailbox.folder.create(folder)


def _greets(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1) as sock:
            return sock.recv(64).startswith(b"* OK")
    except OSError:
        return False


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _user_and_group() -> tuple[str, str]:
    import grp
    import pwd

    return pwd.getpwuid(os.getuid()).pw_name, grp.getgrgid(os.getgid()).gr_name


def _make_certificate(root: Path) -> None:
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(root / "key.pem"),
            "-out",
            str(root / "cert.pem"),
        ],
        check=True,
        capture_output=True,
    )
    (root / "key.pem").chmod(0o644)  # read by Dovecot's config process; a throw-away test key


@pytest.fixture(name="dovecot_server", scope="session")
def dovecot_server_fixture() -> Iterator[Dovecot]:
    binary = dovecot_binary()
    if binary is None:
        pytest.skip(INSTALL_HINT)
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make the test certificate: apt-get install openssl")
    root = Path(tempfile.mkdtemp(prefix="jointly-dovecot-"))
    server = Dovecot(binary, root)
    try:
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(name="dovecot")
def dovecot_fixture(dovecot_server: Dovecot) -> Dovecot:
    if not dovecot_server.running:
        dovecot_server.start()
    return dovecot_server


_users = itertools.count(1)


@pytest.fixture(name="imap_user")
def imap_user_fixture(request: pytest.FixtureRequest) -> str:
    """A fresh mailbox for this test: the static passdb lets any name log in."""
    stem = re.sub(r"[^a-z0-9]", "", request.node.name.lower())[:40]
    return f"{stem}{next(_users)}"
