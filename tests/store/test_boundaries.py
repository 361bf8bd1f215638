"""store/ stores plain dicts: it must not reach into the packages that give them meaning."""

from __future__ import annotations

import ast

from .support import ROOT

FORBIDDEN = {"flows", "bot", "mail", "slack_bolt", "slack_sdk", "imap_tools", "aiosmtplib"}


def imported_roots(source: str) -> set[str]:
    roots = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


def test_store_imports_no_domain_or_adapter_package() -> None:
    modules = sorted((ROOT / "store").glob("*.py"))
    assert modules
    for module in modules:
        found = imported_roots(module.read_text()) & FORBIDDEN
        assert not found, f"{module.name} imports {sorted(found)}"
