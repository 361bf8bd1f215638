"""The practice clock: reading a time to move to, moving only forward with a cycle each morning on
the way, and the refusals that keep a practice store away from a real configuration."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.config import SAMPLE_DIRECTORY, Config, load_config, local_config
from bot.directory import actor, handlers
from bot.practice import MOST_DAYS, PracticeClock, TimeNotMoved, parse_when, real_parts, refusal, stops
from bot.service import CaseService
from bot.terminal import Conversation, Travel
from flows.calendar import LONDON
from store.store import Store
from tests.bot.support import Clock
from tests.bot.test_cli import IMAP_CONFIG, jointly

NOW = datetime(2026, 12, 23, 9, 0, tzinfo=LONDON)  # a Wednesday, two days before Christmas


def london(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=LONDON)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("+3d", "2026-12-26 09:00"),
        ("+2h", "2026-12-23 11:00"),
        ("+1w", "2026-12-30 09:00"),
        ("+0h", "2026-12-23 09:00"),
        ("2027-01-04 14:30", "2027-01-04 14:30"),
        ("2027-01-04", "2027-01-04 09:00"),  # a date alone: its morning
        (" +3D ", "2026-12-26 09:00"),
    ],
)
def test_a_time_to_move_to_is_a_step_ahead_or_a_london_date_and_time(text: str, expected: str) -> None:
    assert parse_when(text, NOW) == london(expected)


def test_days_keep_the_hour_across_a_change_of_the_clocks() -> None:
    before = london("2027-03-27 09:00")  # GMT; the clocks go forward that night

    assert parse_when("+1d", before) == london("2027-03-28 09:00")
    assert parse_when("+1d", before).astimezone(UTC) - before.astimezone(UTC) == timedelta(hours=23)
    assert parse_when("+24h", before) == london("2027-03-28 10:00")


@pytest.mark.parametrize("text", ["", "soon", "+3x", "-1d", "+d", "3d", "2027-13-01", "4 Jan 2027"])
def test_anything_else_is_refused_saying_how_to_write_it(text: str) -> None:
    with pytest.raises(TimeNotMoved, match=r"is not a time to move to: write \+3d, \+2h, \+1w"):
        parse_when(text, NOW)


def test_the_stops_are_each_morning_in_between_then_the_moment_itself() -> None:
    assert stops(london("2026-12-23 14:00"), london("2026-12-26 12:00")) == [
        london("2026-12-24 09:00"),
        london("2026-12-25 09:00"),
        london("2026-12-26 09:00"),
        london("2026-12-26 12:00"),
    ]
    assert stops(london("2026-12-23 08:00"), london("2026-12-23 10:00")) == [
        london("2026-12-23 09:00"),
        london("2026-12-23 10:00"),
    ]
    assert stops(london("2026-12-23 09:00"), london("2026-12-23 09:30")) == [london("2026-12-23 09:30")]


async def test_moving_runs_a_cycle_at_each_stop_and_keeps_the_offset_in_the_store(tmp_path: Path) -> None:
    real = Clock(datetime(2026, 12, 2, 17, 0, tzinfo=UTC))
    seen: list[datetime] = []
    with Store.open(tmp_path / "store") as store:
        clock = PracticeClock(store, real)
        assert clock() == real.now and not clock.moved
        clock.set(NOW)

        async def cycle() -> None:
            seen.append(clock())

        await clock.move(london("2026-12-26 12:00"), cycle)
        real.now += timedelta(minutes=5)  # the real clock goes on; the practice one with it
        again = PracticeClock(store, real)

    assert seen == stops(NOW, london("2026-12-26 12:00"))
    assert again.moved and again() == london("2026-12-26 12:05")


async def test_time_only_moves_forward_and_a_refused_move_changes_nothing(tmp_path: Path) -> None:
    real = Clock(datetime(2026, 12, 2, 17, 0, tzinfo=UTC))
    seen: list[datetime] = []

    async def cycle() -> None:
        seen.append(real.now)

    with Store.open(tmp_path / "store") as store:
        clock = PracticeClock(store, real)
        clock.set(NOW)
        for target in (NOW - timedelta(days=1), NOW, parse_when("+0h", NOW)):
            with pytest.raises(TimeNotMoved, match="time only moves forward: it is already Wed 23 Dec 2026"):
                await clock.move(target, cycle)
        with pytest.raises(TimeNotMoved, match=f"move at most {MOST_DAYS} days at a time"):
            await clock.move(NOW + timedelta(days=MOST_DAYS + 1), cycle)
        assert PracticeClock(store, real)() == NOW

    assert seen == []


def test_a_store_is_a_practice_store_once_its_clock_has_moved_and_then_only_local_mode_takes_it(
    tmp_path: Path,
) -> None:
    local = local_config(tmp_path / "var")
    real = imap_config(tmp_path)
    assert real_parts(local) == [] and real_parts(real) == ["an IMAP mailbox"]
    with Store.open(tmp_path / "store") as store:
        assert refusal(real, store) is None  # never moved: a local store may become a real one
        PracticeClock(store).set(datetime.now(UTC) + timedelta(days=1))
        assert refusal(local, store) is None
        assert "is a practice store" in (refusal(real, store) or "")


def imap_config(where: Path) -> Config:
    path = where / "config.toml"
    path.write_text(IMAP_CONFIG + SAMPLE_DIRECTORY.read_text())
    return load_config(path)


# --- the command line ----------------------------------------------------------------------------


def test_practice_clock_then_run_once_moves_time_before_taking_in_the_samples(tmp_path: Path) -> None:
    result = jointly(tmp_path, "--practice-clock", "+3w", "run", "--once")

    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Practice time is now ")
    ahead = (datetime.now(UTC) + timedelta(weeks=3)).astimezone(LONDON).date()
    cases = json.loads(jointly(tmp_path, "cases", "--json").stdout)
    assert len(cases) == 3
    assert {datetime.fromisoformat(c["received_at"]).astimezone(LONDON).date() for c in cases} == {ahead}
    report = jointly(tmp_path, "report", "--format", "json")
    assert json.loads(report.stdout)["period"]["today"] == ahead.isoformat()  # reading: practice today


def test_practice_clock_going_back_or_unreadable_is_invalid(tmp_path: Path) -> None:
    assert jointly(tmp_path, "--practice-clock", "+1d", "run", "--once").returncode == 0

    back = jointly(tmp_path, "--practice-clock", "2020-01-01", "run", "--once")
    unreadable = jointly(tmp_path, "--practice-clock", "tomorrow", "run", "--once")
    elsewhere = jointly(tmp_path, "--practice-clock", "+1d", "cases")

    assert back.returncode == 2 and "--practice-clock: time only moves forward" in back.stderr
    assert unreadable.returncode == 2 and "'tomorrow' is not a time to move to" in unreadable.stderr
    assert elsewhere.returncode == 2 and "--practice-clock goes with `run`" in elsewhere.stderr


def test_practice_clock_with_a_real_configuration_is_refused(tmp_path: Path) -> None:
    imap_config(tmp_path)

    result = jointly(tmp_path, "--practice-clock", "+3d", "run", "--once")

    assert result.returncode == 2
    assert result.stderr.strip() == (
        "jointly: --practice-clock is for local mode only (a Maildir inbox, letters written to files, "
        "the terminal as chat), and this configuration has an IMAP mailbox"
    )
    assert not (tmp_path / "var" / "store").exists()


@pytest.mark.parametrize("command", [("run", "--once"), ("cases",), ("import", "mail.eml")])
def test_a_practice_store_is_refused_with_a_real_configuration(
    tmp_path: Path, command: tuple[str, ...]
) -> None:
    assert jointly(tmp_path, "--practice-clock", "+1d", "run", "--once").returncode == 0
    (tmp_path / "mail.eml").write_bytes(b"From: a@example.org\r\nSubject: x\r\n\r\nHello\r\n")
    letters = sorted((tmp_path / "var" / "outbox").iterdir())
    imap_config(tmp_path)

    result = jointly(tmp_path, *command, JOINTLY_TEST_IMAP_PASSWORD="secret")

    assert result.returncode == 3, result.stderr
    [line] = result.stderr.splitlines()
    assert line.startswith("jointly: the store at var/store is a practice store")
    assert "this configuration has an IMAP mailbox" in line
    assert line.endswith("Use a fresh data folder (--data-dir or service.data_dir) for real work")
    assert sorted((tmp_path / "var" / "outbox").iterdir()) == letters  # nothing more was done


# --- the terminal ----------------------------------------------------------------------------------


async def chat(tmp_path: Path, lines: list[str], travel: Travel | None) -> str:
    """A session on an empty store answering `lines` in turn; what it said."""
    config = local_config(tmp_path / "var")
    answers, out = iter(lines), io.StringIO()

    async def read(prompt: str) -> str:
        return next(answers)

    async def cycle() -> None:
        return None

    with Store.open(config.store_dir) as store:
        person = actor(handlers(config, config.service.home_organisation)[0])
        talk = Conversation(config, CaseService(store), person, read, out, travel=travel)
        await talk.session(cycle, lambda: NOW)
    return out.getvalue()


async def test_t_at_the_terminal_hands_the_time_to_travel_and_says_what_it_says(tmp_path: Path) -> None:
    asked: list[str] = []

    async def travel(when: str) -> str:
        asked.append(when)
        if when == "back":
            raise TimeNotMoved("time only moves forward")
        return "Practice time is now later."

    said = await chat(tmp_path, ["t +3d", "time 2027-01-04 09:00", "t back", "q"], travel)

    assert asked == ["+3d", "2027-01-04 09:00", "back"]
    assert said.count("Practice time is now later.") == 2
    assert "Time not moved: time only moves forward" in said
    assert "t +3d to move time" in said


async def test_without_a_practice_clock_t_is_neither_offered_nor_done(tmp_path: Path) -> None:
    said = await chat(tmp_path, ["t +3d", "q"], None)

    assert "Time moves only in local mode, with no real mailbox, outbox or Slack." in said
    assert "move time" not in said
