"""mail/ reads and sends mail for the application without knowing it: nothing in it imports bot/
or flows/, not even for typing (its settings types are its own, `mail.settings`), nor a chat
library."""

from __future__ import annotations

from tests.store.support import ROOT
from tests.store.test_boundaries import imported_roots

FORBIDDEN = {"bot", "flows", "slack_bolt", "slack_sdk", "apscheduler"}


def test_mail_imports_nothing_from_the_application() -> None:
    modules = sorted((ROOT / "mail").rglob("*.py"))
    assert modules
    for module in modules:
        found = imported_roots(module.read_text()) & FORBIDDEN
        assert not found, f"{module.relative_to(ROOT)} imports {sorted(found)}"
