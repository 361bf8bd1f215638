"""The intake burst with one and with two replicas, and how long a takeover takes:
``python -m bench.bench_replicas``.

Prints one JSON object. Each run starts `jointly run` processes (the real service, configured as
in production) on a fresh PostgreSQL database, a fresh Dovecot mailbox and an aiosmtpd server, all
on loopback (`tests.scenarios.replicas`), waits until one leads (and the other follows), then
appends a burst of complaints and times from the first append to the last acknowledgement taken by
the SMTP server: ``burst_s`` and ``messages_per_s``. Only the leader takes in mail and sends
letters, so a second replica should cost the burst nothing; the figure shows what the follower's
presence costs on a 2-core machine.

With two replicas, the leader is then killed with SIGKILL, and ``takeover_s`` is the time from the
kill to the survivor logging that it leads (polled every 10 ms): the issue's bound is 30 s.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.bench_intake import servers
from bench.bench_store import NO_POSTGRES, Unavailable, database, postgres_server
from bot.app import FOLLOWS, LEADS
from tests.scenarios.replicas import Replica, acknowledged, burst, until, write_config

MESSAGES = 500


def run(count: int, messages: int, root: Path) -> dict[str, Any]:
    """`count` replicas through one burst of `messages` (and a takeover, with two)."""
    home = root / f"replicas-{count}"
    home.mkdir()
    result: dict[str, Any] = {"replicas": count, "messages": messages}
    with (
        postgres_server() as pg,
        database(pg, f"replicas_{count}") as url,
        servers(home) as (dovecot, smtp, _),
    ):
        user = f"bench{count}"
        write_config(home, dovecot, user, smtp)
        started: list[Replica] = []
        try:
            for n in range(count):
                replica = Replica(home, f"replica-{n}", url)
                started.append(replica)
                said = LEADS if n == 0 else FOLLOWS
                until(lambda r=replica, said=said: r.said(said), "was a replica up", started)
            began = time.monotonic()
            burst(dovecot, user, range(messages))
            until(lambda: len(acknowledged(smtp)) >= messages, "were all acknowledged", started)
            took = time.monotonic() - began
            result |= {"burst_s": round(took, 2), "messages_per_s": round(messages / took, 1)}
            if count > 1:
                leader, survivor = started[0], started[1]
                killed = time.monotonic()
                os.kill(leader.process.pid, signal.SIGKILL)
                leader.process.wait()
                while not survivor.said(LEADS):
                    time.sleep(0.01)
                result["takeover_s"] = round(time.monotonic() - killed, 2)
        finally:
            for replica in started:
                replica.stop()
    return result


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=MESSAGES)
    args = parser.parse_args(argv)
    root = Path(tempfile.mkdtemp(prefix="jointly-bench-replicas-", dir="/tmp"))
    root.chmod(0o711)  # Dovecot's and PostgreSQL's processes must pass through
    try:
        runs = {str(count): run(count, args.messages, root) for count in (1, 2)}
    except Unavailable as error:
        return {"skipped": str(error) or NO_POSTGRES}
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return {"runs": runs, "machine": {"cpus": os.cpu_count(), "python": platform.python_version()}}


if __name__ == "__main__":
    print(json.dumps(main(), indent=2))
