"""kill -9 during a poll loses no message: whatever has left the inbox is on disk in the store.

The intake writes a poll's messages in one store batch that reaches the disk only at its end, so
moving a message out of the inbox any earlier could leave it filed with no case and no record. A
real child process polls a Maildir of complaints and unreadable messages and is killed at a varying
point; the store and the Maildir left behind must agree, and the next poll must finish the job.
"""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from bot.config import local_config
from bot.intake import Intake
from bot.service import CaseService
from bot.threads import RECEIVED as RECEIVED_KEY
from mail.maildir import MaildirInbox
from mail.parse import parse_message
from mail.settings import MaildirMailbox
from store.store import Store
from tests.bot.support import NOW, RECEIVED, SECRET, complaint, files
from tests.store.support import ROOT, child_env

GOOD, BAD, ROUNDS = 40, 4, 4

CHILD = """
import sys
from pathlib import Path
from bot.config import local_config
from bot.intake import Intake
from bot.service import CaseService
from mail.maildir import MaildirInbox
from store.store import Store
from tests.bot.support import NOW, SECRET

config = local_config(Path(sys.argv[1]))
store = Store.open(config.store_dir)
intake = Intake(config, CaseService(store), MaildirInbox(config.mailbox.path), SECRET)
print("polling", flush=True)
intake.poll(NOW)
print("done", flush=True)
sys.stdin.readline()
"""


def test_a_poll_killed_at_any_point_leaves_no_message_filed_without_its_record(tmp_path: Path) -> None:
    rng = random.Random(2611)
    for round_ in range(ROUNDS):
        var = tmp_path / f"round-{round_}"
        config = local_config(var)
        assert isinstance(config.mailbox, MaildirMailbox)
        inbox = MaildirInbox(config.mailbox.path)
        for n in range(GOOD):
            inbox.deliver(complaint(f"<crash-{n}@mail.example.org>", sender=f"p{n}@example.org"), RECEIVED)
        for n in range(BAD):
            inbox.deliver(b"\x00 not an email %d" % n, RECEIVED)

        kill_polling_child(var, rng)

        with Store.open(config.store_dir) as store:
            for path in files(inbox.path / ".Processed" / "cur"):
                assert store.has_key(RECEIVED_KEY + parse_message(path.read_bytes()).message_id), path
            set_aside = [s.stream for s in store.summaries() if s.stream.startswith("Q-")]
            recorded = {store.load(stream).events[0]["uid"] for stream in set_aside}
            for path in files(inbox.path / ".Quarantine" / "cur"):
                assert path.name.split(":")[0] in recorded, path  # a Maildir file name starts with its uid

            Intake(config, CaseService(store), inbox, SECRET).poll(NOW)

            assert inbox.pending() == []
            assert len(files(inbox.path / ".Processed" / "cur")) == GOOD
            assert len(files(inbox.path / ".Quarantine" / "cur")) == BAD
            cases = [s for s in store.summaries() if s.stream.startswith("JC-")]
            assert len(cases) == GOOD


def kill_polling_child(var: Path, rng: random.Random) -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(var)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=child_env(),
        cwd=ROOT,
    )
    assert child.stdout is not None
    try:
        assert child.stdout.readline() == "polling\n", child.stderr
        time.sleep(rng.uniform(0, 0.15))  # land somewhere inside the poll (or just after it)
    finally:
        child.send_signal(signal.SIGKILL)
        child.communicate(timeout=30)
