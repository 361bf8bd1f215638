"""The terminal chat as a handler meets it: `jointly run` in local mode on a real pseudo-terminal."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import time
from pathlib import Path

from tests.bot.test_cli import JOINTLY, ORGANISATIONS_QUESTION, environment

MORE = "Enter for more, q to stop -- "


class Screen:
    """What the pseudo-terminal shows, read as the process writes it."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.shown = ""

    def expect(self, text: str, count: int = 1, timeout: float = 30) -> None:
        end = time.monotonic() + timeout
        while self.shown.count(text) < count:
            assert time.monotonic() < end, f"never showed {text!r} {count} time(s):\n{self.shown[-2000:]}"
            if select.select([self.fd], [], [], 0.2)[0]:
                try:
                    self.shown += os.read(self.fd, 65536).decode(errors="replace").replace("\r\n", "\n")
                except OSError:  # the process closed the terminal
                    break

    def type(self, line: str) -> None:
        os.write(self.fd, (line + "\n").encode())


def test_r_pages_through_the_case_and_asks_the_same_question_again(tmp_path: Path) -> None:
    main, side = pty.openpty()
    process = subprocess.Popen(
        [str(JOINTLY), "run"],
        cwd=tmp_path,
        env=environment(tmp_path, COLUMNS="60", LINES="15", TERM="dumb"),
        stdin=side,
        stdout=side,
        stderr=side,
        close_fds=True,
    )
    os.close(side)
    screen = Screen(main)
    try:
        screen.expect("r) read the case")
        screen.expect("> ")
        screen.type("r")
        screen.expect(MORE)
        screen.type("")
        screen.expect(MORE, count=2)
        screen.type("q")
        screen.expect(ORGANISATIONS_QUESTION, count=2)
        screen.expect("> ", count=2)  # the question, then the same question again
        screen.type("q")
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        os.close(main)

    reading = screen.shown.split("r) read the case")[1].split(ORGANISATIONS_QUESTION)[0]
    assert "The complaint" in reading
    assert "Received " in reading and "From: " in reading
    assert all(len(line) <= 59 for line in reading.splitlines() if not line.startswith("-- "))
