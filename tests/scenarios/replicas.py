"""Replicas of the assistant as real `jointly run` processes on one PostgreSQL database, against
Dovecot and aiosmtpd: for tests/scenarios/test_replicas_kill.py and bench/bench_replicas.py."""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from bot.config import SAMPLE_DIRECTORY
from tests.bot.support import complaint
from tests.bot.test_cli import JOINTLY, environment
from tests.servers.dovecot import Dovecot
from tests.servers.smtp import SmtpServer

WAIT_SECONDS = 240.0  # a generous bound on each wait for a condition, never a measure of speed


def write_config(home: Path, dovecot: Dovecot, user: str, smtp: SmtpServer) -> None:
    (home / "config.toml").write_text(
        f"""
[service]
home_organisation = "northshire-trust"

[store]
kind = "postgresql"

[mailbox]
kind = "imap"
host = "{dovecot.host}"
port = {dovecot.tls_port}
ca_file = "{dovecot.cert_path}"
username = "{user}"
password_env = "IMAP_PASSWORD"

[outbox]
kind = "smtp"
host = "{smtp.host}"
port = {smtp.port}
security = "none"
from_address = "complaints@northshire-trust.example"
"""
        + SAMPLE_DIRECTORY.read_text()
    )


class Replica:
    """One `jointly run` process; what it logs is kept in a file next to its home."""

    def __init__(self, home: Path, name: str, url: str) -> None:
        self.log = home / f"{name}.log"
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                [str(JOINTLY), "run"],
                cwd=home,
                env=environment(home, IMAP_PASSWORD=Dovecot.password, JOINTLY_DATABASE_URL=url),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def said(self, text: str) -> bool:
        return text in self.log.read_text(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=60)


class NeverHappened(AssertionError):
    pass


def until(condition: Callable[[], bool], what: str, replicas: list[Replica]) -> None:
    """Wait for `condition`, checked every 50 ms; `NeverHappened` naming `what`, with the logs."""
    deadline = time.monotonic() + WAIT_SECONDS
    while not condition():
        if time.monotonic() > deadline:
            logs = "\n".join(f"--- {r.log.name}\n{r.log.read_text()[-3000:]}" for r in replicas)
            raise NeverHappened(f"never {what}\n{logs}")
        time.sleep(0.05)


def sender(n: int) -> str:
    return f"person{n}@mail.example.org"


def burst(dovecot: Dovecot, user: str, numbers: range) -> None:
    """Complaints number `numbers` into the mailbox, each from a person of its own, over one
    session (as a mail server delivers a burst)."""
    with dovecot.client(user) as box:
        for n in numbers:
            message = complaint(
                message_id=f"<burst-{n}@mail.example.org>",
                sender=f"Person {n} <{sender(n)}>",
                subject=f"Complaint {n}",
                text=f"Complaint number {n}: the discharge went badly.",
            )
            box.append(message, "INBOX")


def acknowledged(smtp: SmtpServer) -> set[str]:
    """Everyone a letter has reached."""
    return {to for r in smtp.received for to in r.rcpt_tos}
