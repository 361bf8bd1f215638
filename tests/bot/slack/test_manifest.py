"""The app manifest asks for every scope the code needs. The Web API methods are read from the
source of `bot/` (slack_sdk's helpers such as `files_upload_v2` followed to the methods they call);
besides, every test against the fake Slack checks the methods it saw (the `slack` fixture)."""

from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path

from slack_sdk.web.async_client import AsyncWebClient

import bot
from tests.bot.slack.conftest import MANIFEST, manifest_list, unscoped

BOT = Path(bot.__file__).parent
EVENT_SCOPE = {
    "app_home_opened": None,
    "message.channels": "channels:history",
    "message.groups": "groups:history",
    "message.im": "im:history",
}


def api_methods(name: str) -> set[str]:
    """The Web API methods `AsyncWebClient.<name>` calls, read from slack_sdk's own source."""
    source = inspect.getsource(getattr(AsyncWebClient, name))
    found = set(re.findall(r'api_call\(\s*"([\w.]+)"', source))
    for helper in set(re.findall(r"self\.([a-z]\w*)\(", source)) - {name, "api_call"}:
        found |= api_methods(helper)
    return found


def called_in(folder: Path) -> set[str]:
    """Every Web API method the Python code under `folder` calls through a Slack client."""
    found: set[str] = set()
    for path in folder.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            name, args = node.func.attr, node.args
            if name == "api_call" and args and isinstance(args[0], ast.Constant):
                found.add(str(args[0].value))
            elif not name.startswith("_") and callable(getattr(AsyncWebClient, name, None)):
                found |= api_methods(name)
    return found


def test_the_scan_finds_calls_by_client_method_helper_and_api_call(tmp_path: Path) -> None:
    (tmp_path / "new.py").write_text(
        "async def f(client):\n"
        "    await client.users_lookupByEmail(email='x')\n"
        "    await client.files_upload_v2(file='x')\n"
        "    await client.api_call('reactions.add')\n"
    )
    called = called_in(tmp_path)
    assert called == {
        "users.lookupByEmail", "files.getUploadURLExternal", "files.completeUploadExternal", "reactions.add",
    }  # fmt: skip
    missing = unscoped(called)
    assert missing["users.lookupByEmail"] == missing["reactions.add"] == "unknown: add it to SCOPE"


def test_the_manifest_asks_for_the_scope_of_every_web_api_method_the_code_calls() -> None:
    called = called_in(BOT)
    assert {"chat.postMessage", "conversations.open", "views.open", "files.completeUploadExternal"} <= called
    assert unscoped(called) == {}


def test_the_manifest_subscribes_to_what_the_app_answers_with_the_scopes_it_needs() -> None:
    events = manifest_list("bot_events")
    scopes = set(manifest_list("bot"))
    assert set(events) == set(EVENT_SCOPE)
    assert {EVENT_SCOPE[e] for e in events} - {None} <= scopes
    assert "command: /complaint" in manifest_list("slash_commands") and "commands" in scopes
    assert "messages_tab_read_only_enabled: false" in MANIFEST.read_text()  # people may write to the app
