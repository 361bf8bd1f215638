"""The practice clock at the terminal: a handler moves time across Christmas and sees each reminder
go out on its own working day."""

from __future__ import annotations

import json
import re
from datetime import datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

from bot.config import local_config
from bot.practice import PracticeClock
from flows.calendar import LONDON
from store.store import Store
from tests.bot.support import files, read_eml
from tests.bot.test_cli import ORGANISATIONS_QUESTION, jointly
from tests.bot.test_terminal_pty import jointly_run

WEDNESDAY_BEFORE_CHRISTMAS = datetime(2026, 12, 23, 9, 0, tzinfo=LONDON)
UPDATE_OWED = "The person is owed an update"


def start_at(home: Path, moment: datetime) -> None:
    """A new practice store whose clock says `moment` (whatever the real date is)."""
    with Store.open(local_config(home / "var").store_dir) as store:
        PracticeClock(store).set(moment)


def events(home: Path, ref: str) -> list[dict[str, Any]]:
    result = jointly(home, "show", ref, "--json")
    assert result.returncode == 0, result.stderr
    found: list[dict[str, Any]] = json.loads(result.stdout)["events"]
    return found


def letter_days(home: Path) -> dict[str, list[str]]:
    """The London day each letter in the outbox is dated, by its subject's first words."""
    days: dict[str, list[str]] = {}
    for path in files(home / "var" / "outbox"):
        message = read_eml(path)
        day = parsedate_to_datetime(str(message["Date"])).astimezone(LONDON).date().isoformat()
        days.setdefault(day, []).append(str(message["Subject"]))
    return days


def test_t_moves_across_christmas_and_the_update_reminder_comes_on_its_working_day(tmp_path: Path) -> None:
    start_at(tmp_path, WEDNESDAY_BEFORE_CHRISTMAS)
    with jointly_run(tmp_path) as screen:
        screen.expect("Practice time: Wed 23 Dec 2026 09:0")  # in the banner
        screen.expect(ORGANISATIONS_QUESTION)
        screen.expect("t +3d) move time")
        [ref] = screen.asked()
        screen.type(f"g {ref}")
        screen.answer(f"{ref}: {ORGANISATIONS_QUESTION}", "2")  # only the hospital
        screen.answer("How often will the person be updated?", "1", "2")  # every 2 working days
        screen.answer("Who is the person's named contact?", "1", "", "asha.patel@northshire.example", "")
        screen.answer("What response period was agreed with the person?", "t +7d")
        screen.expect("Practice time is now Wed 30 Dec 2026 09:0")
        screen.answer("What response period was agreed with the person?", "s")  # it carries on asking
        screen.answer(f"{ref}: {UPDATE_OWED}", "1")
        screen.answer("How the work is going", "")  # Enter keeps the text offered
        screen.answer("Recorded", "q")

    # from the move typed (its echo may come before the "> " it answers, on a busy machine)
    moving, after = screen.shown.split("t +7d", 1)[1].split("Practice time is now", 1)
    assert f"[chat] {ref}: the person is owed an update letter (due Tuesday 29 December 2026)" in moving
    assert f"{UPDATE_OWED} (every 2 working days, due Tuesday 29 December 2026)" in after
    sent = [e["reminder"] for e in events(tmp_path, ref) if e["type"] == "ReminderSent"]
    # Wed 23 + 2 working days, passing Christmas Day (Fri) and the substitute Boxing Day (Mon 28):
    # the reminder goes out on Tue 29, on time, not at the end of the move (Wed 30) marked late.
    assert [(r["kind"], r["on"], r["late"]) for r in sent] == [("update", "2026-12-29", False)]
    [at] = [e["at"] for e in events(tmp_path, ref) if e["type"] == "ReminderSent"]
    assert at.startswith("2026-12-29T09:00")
    days = letter_days(tmp_path)
    assert set(days) == {"2026-12-23", "2026-12-30"}
    assert len(days["2026-12-23"]) == 4  # three acknowledgements and the named contact's letter
    assert len(days["2026-12-30"]) == 1  # the update letter, dated the practice day it was sent


def test_t_refuses_to_go_back_and_explains_a_time_it_cannot_read(tmp_path: Path) -> None:
    start_at(tmp_path, WEDNESDAY_BEFORE_CHRISTMAS)
    with jointly_run(tmp_path) as screen:
        screen.answer(ORGANISATIONS_QUESTION, "t 2026-12-01")
        screen.answer(ORGANISATIONS_QUESTION, "t soon")
        screen.answer(ORGANISATIONS_QUESTION, "q")

    assert "Time not moved: time only moves forward: it is already Wed 23 Dec 2026 09:0" in screen.shown
    assert "Time not moved: 'soon' is not a time to move to: write +3d" in screen.shown
    assert "Practice time is now" not in screen.shown
    with Store.open(local_config(tmp_path / "var").store_dir, readonly=True) as store:
        now = PracticeClock(store)()
    assert re.match(r"2026-12-23 09:0", f"{now.astimezone(LONDON):%Y-%m-%d %H:%M}")
