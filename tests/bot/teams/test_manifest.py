"""The Teams app package: a manifest Teams takes, the icons it asks for, and the commands it lists
being the ones the app answers."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import bot.teams
from bot.teams.app import USAGE

FOLDER = Path(bot.teams.__file__).parent
MANIFEST = json.loads((FOLDER / "manifest.json").read_text(encoding="utf-8"))


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path.name} is not a PNG"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_the_icons_are_the_sizes_teams_asks_for() -> None:
    icons = MANIFEST["icons"]
    assert png_size(FOLDER / icons["color"]) == (192, 192)
    assert png_size(FOLDER / icons["outline"]) == (32, 32)


def test_the_bot_is_in_teams_and_personal_chats_and_its_id_is_filled_in_at_packaging() -> None:
    [bot_entry] = MANIFEST["bots"]
    assert bot_entry["botId"] == "${{BOT_ID}}"
    assert set(bot_entry["scopes"]) == {"team", "personal"}
    assert MANIFEST["manifestVersion"] == "1.17" and MANIFEST["id"].count("-") == 4
    assert len(MANIFEST["name"]["short"]) <= 30 and len(MANIFEST["description"]["short"]) <= 80


def test_the_commands_listed_are_those_the_app_answers() -> None:
    [listed] = MANIFEST["bots"][0]["commandLists"]
    titles = [command["title"] for command in listed["commands"]]
    assert titles == ["new", "find", "mine", "help"]
    assert all(f"`{title}" in USAGE for title in titles)


def test_sentences_in_a_case_thread_reach_the_app_without_a_mention() -> None:
    permissions = MANIFEST["authorization"]["permissions"]["resourceSpecific"]
    assert {"name": "ChannelMessage.Read.Group", "type": "Application"} in permissions
