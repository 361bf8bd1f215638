"""The terminal chat as a handler meets it: `jointly run` in local mode on a real pseudo-terminal."""

from __future__ import annotations

import os
import pty
import re
import select
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bot.config import local_config
from flows.model import Case
from store.store import Store
from tests.bot.test_cli import JOINTLY, ORGANISATIONS_QUESTION, environment

MORE = "Enter for more, q to stop -- "
ASKED = re.compile(r"(JC-[0-9]{6}-[A-Z2-7]+): " + re.escape(ORGANISATIONS_QUESTION))


class Screen:
    """What the pseudo-terminal shows, read as the process writes it."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.shown = ""
        self.typed_at = 0  # how much had been shown when a line was last typed

    def expect(self, text: str, count: int = 1, timeout: float = 30) -> None:
        end = time.monotonic() + timeout
        while self.shown.count(text) < count:
            assert time.monotonic() < end, f"never showed {text!r} {count} time(s):\n{self.shown[-2000:]}"
            if not self._read(0.2):
                break

    def _read(self, wait: float) -> bool:
        """Add what the process wrote within `wait` seconds; False once it closed the terminal."""
        if select.select([self.fd], [], [], wait)[0]:
            try:
                self.shown += os.read(self.fd, 65536).decode(errors="replace").replace("\r\n", "\n")
            except OSError:  # the process closed the terminal
                return False
        return True

    def type(self, line: str) -> None:
        while select.select([self.fd], [], [], 0)[0] and self._read(0):  # what came before the typing
            pass
        self.typed_at = len(self.shown)
        os.write(self.fd, (line + "\n").encode())

    def answer(self, shown: str, *lines: str) -> None:
        """Wait for `shown` after what was typed last, then type `lines` (the terminal keeps what
        is typed ahead until the assistant reads it, a line per question)."""
        self.expect(shown, self.shown[: self.typed_at].count(shown) + 1)
        for line in lines:
            self.type(line)

    def asked(self) -> list[str]:
        """The cases asked "which organisations", in order."""
        return ASKED.findall(self.shown)


@contextmanager
def jointly_run(home: Path, **env: str) -> Iterator[Screen]:
    """`jointly run` in local mode on a pseudo-terminal; it must end by itself, with status 0."""
    main, side = pty.openpty()
    process = subprocess.Popen(
        [str(JOINTLY), "run"], cwd=home, env=environment(home, TERM="dumb", **env),
        stdin=side, stdout=side, stderr=side, close_fds=True,
    )  # fmt: skip
    os.close(side)
    try:
        yield Screen(main)
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        os.close(main)


def case(home: Path, ref: str) -> Case:
    from bot.service import CaseService

    with Store.open(local_config(home / "var").store_dir, readonly=True) as store:
        return CaseService(store).load(ref)


def to_the_discussion(screen: Screen, ref: str) -> None:
    """On case `ref`: only the hospital involved, the contact and the period set, up to the
    question on what the complaint is about (two long answers)."""
    screen.type(f"g {ref}")
    screen.answer(f"{ref}: {ORGANISATIONS_QUESTION}", "2")
    screen.answer("How often will the person be updated?", "1", "")
    screen.answer("Who is the person's named contact?", "1", "", "asha.patel@northshire.example", "")
    screen.answer("What response period was agreed with the person?", "1", "")
    screen.answer("what is the complaint about", "1")


def test_r_pages_through_the_case_and_asks_the_same_question_again(tmp_path: Path) -> None:
    with jointly_run(tmp_path, COLUMNS="60", LINES="15") as screen:
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

    reading = screen.shown.split("q) quit\n", 1)[1].split(ORGANISATIONS_QUESTION)[0]
    assert "The complaint" in reading
    assert "Received " in reading and "From: " in reading
    assert all(len(line) <= 59 for line in reading.splitlines() if not line.startswith("-- "))


def test_s_skips_l_lists_with_the_skipped_one_and_its_number_takes_it_up(tmp_path: Path) -> None:
    with jointly_run(tmp_path) as screen:
        screen.answer(ORGANISATIONS_QUESTION, "s")
        screen.expect(ORGANISATIONS_QUESTION, count=2)
        first, second = screen.asked()
        screen.type("l")
        screen.expect("Type a number to take it up")
        [number] = re.findall(rf"(\d+)\) {first} .*\(skipped\)", screen.shown)
        assert re.search(rf"\d+\) {second} ", screen.shown)
        screen.type(number)
        screen.expect(ORGANISATIONS_QUESTION, count=3)
        screen.type("q")

    assert screen.asked() == [first, second, first]  # the skipped question, taken up from the list


def test_every_question_skipped_comes_back_when_the_handler_looks_again(tmp_path: Path) -> None:
    with jointly_run(tmp_path) as screen:
        for _ in range(3):
            screen.answer(ORGANISATIONS_QUESTION, "s")
        screen.expect("Nothing else is waiting (3 skipped: l lists them)")
        screen.type("")
        screen.expect(ORGANISATIONS_QUESTION, count=4)
        screen.type("q")

    assert screen.asked()[3] == screen.asked()[0]


def test_g_goes_to_a_case_and_a_long_answer_takes_lines_up_to_a_dot(tmp_path: Path) -> None:
    with jointly_run(tmp_path) as screen:
        screen.answer(ORGANISATIONS_QUESTION, "l")
        screen.expect("Type a number to take it up")
        [first] = screen.asked()
        last = re.findall(r"\d+\) (JC-\S+) ", screen.shown)[-1]  # the least urgent
        assert last != first
        screen.type("")  # back from the list, to the same question, then off to the other case
        to_the_discussion(screen, last)
        screen.answer(
            'then a line with only "."', "She was sent home on 2 November", "", "without her medicines.", "."
        )
        screen.answer('then a line with only "."', "An apology.", "A named carer.", ".")
        screen.expect("Recorded")
        screen.type("q")

    recorded = case(tmp_path, last)
    assert recorded.shared_understanding == "She was sent home on 2 November\n\nwithout her medicines."
    assert recorded.outcomes_wanted == "An apology.\nA named carer."


def test_with_editor_set_a_long_answer_is_written_in_it(tmp_path: Path) -> None:
    editor = tmp_path / "editor.sh"
    editor.write_text("#!/bin/sh\nprintf 'Written in the editor.\\nOn two lines.\\n' >> \"$1\"\n")
    editor.chmod(0o755)
    with jointly_run(tmp_path, EDITOR=str(editor)) as screen:
        screen.expect(ORGANISATIONS_QUESTION)
        screen.expect("> ")
        [ref] = screen.asked()
        to_the_discussion(screen, ref)
        screen.expect("Recorded", screen.shown.count("Recorded") + 1)
        screen.type("q")

    assert f"opening {editor}" in screen.shown
    recorded = case(tmp_path, ref)
    assert (
        recorded.shared_understanding == recorded.outcomes_wanted == "Written in the editor.\nOn two lines."
    )
