"""`flows/` is pure: no adapter, no I/O library, no clock. Read from the source, not by importing it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import flows

FLOWS = Path(flows.__file__).parent
MODULES = sorted(FLOWS.glob("*.py"))

FORBIDDEN_IMPORTS = frozenset(
    {
        "store",
        "mail",
        "bot",
        "tinydb",
        "slack_bolt",
        "slack_sdk",
        "imap_tools",
        "aiosmtplib",
        "smtplib",
        "imaplib",
        "apscheduler",
        "asyncio",
        "socket",
        "requests",
        "aiohttp",
    }
)
CLOCK_READS = ("datetime.now(", "date.today(", "time.time(")


def imported(tree: ast.AST) -> set[str]:
    """Every top-level package a module imports, whether at the top or inside a function."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_flows_has_the_modules_this_test_reads() -> None:
    assert {"decide.py", "rules.py", "prompts.py", "calendar.py"} <= {m.name for m in MODULES}


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.name)
def test_no_adapter_or_io_imports(module: Path) -> None:
    found = imported(ast.parse(module.read_text(), filename=str(module))) & FORBIDDEN_IMPORTS
    assert not found, f"flows/{module.name} imports {sorted(found)}"


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.name)
def test_no_clock_and_no_async(module: Path) -> None:
    source = module.read_text()
    assert not [call for call in CLOCK_READS if call in source], f"flows/{module.name} reads the clock"
    tree = ast.parse(source)
    asynchronous = [n for n in ast.walk(tree) if isinstance(n, ast.AsyncFunctionDef | ast.Await)]
    assert not asynchronous, f"flows/{module.name} has async code"


def test_the_import_walk_sees_nested_and_dotted_imports() -> None:
    tree = ast.parse("import slack_sdk.web\ndef f():\n    from store.tiny import X\nfrom . import y\n")
    assert imported(tree) == {"slack_sdk", "store"}
