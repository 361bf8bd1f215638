"""How a configuration's mistakes are told: one `ConfigError`, each problem at its exact key
(a model's own checks raise `mail.settings.Located` to name keys below it).

Pydantic reports locations as tuples and messages in its own words; this module turns them into
``mailbox.port: must be a whole number, without quotes (got 'abc')``, never echoing a value that
may be a secret.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

from pydantic import ValidationError

from mail.settings import Located

# --- errors -------------------------------------------------------------------------------------


class Problem(NamedTuple):
    """One thing wrong with a configuration, at a key such as ``organisations[1].sector``."""

    key: str
    message: str

    def __str__(self) -> str:
        return f"{self.key}: {self.message}"


class ConfigError(Exception):
    """The configuration cannot be used; `str()` is the whole message for the person starting us."""

    def __init__(self, path: Path, summary: str, problems: Sequence[Problem] = ()) -> None:
        super().__init__(path, summary, tuple(problems))
        self.path = path
        self.summary = summary
        self.problems = tuple(problems)

    def __str__(self) -> str:
        return "\n".join([f"{self.path}: {self.summary}", *(f"  {p}" for p in self.problems)])


_SECTIONS = {
    "service": "[service]",
    "mailbox": "[mailbox]",
    "outbox": "[outbox]",
    "organisations": "[[organisations]]",
}


def syntax_problem(text: str, error: tomllib.TOMLDecodeError) -> Problem:
    """Python 3.11's tomllib puts the position only in the message: "... (at line 3, column 8)"."""
    found = re.fullmatch(r"(.*?)\s*\(at (?:line (\d+), column (\d+)|(end of document))\)", str(error))
    if found is None:
        return Problem("file", str(error))
    message = found.group(1)[:1].lower() + found.group(1)[1:]
    if found.group(4):
        return Problem("end of file", message)
    line, lines = int(found.group(2)), text.splitlines()
    if 0 < line <= len(lines) and lines[line - 1].strip():
        message += f"; the line reads: {lines[line - 1].strip()}"
    return Problem(f"line {line}, column {found.group(3)}", message)


def problems_of(error: ValidationError, raw: Mapping[str, Any], kinds: Mapping[str, str]) -> list[Problem]:
    problems = []
    for detail in error.errors():
        loc, ctx = tuple(detail["loc"]), detail.get("ctx", {})
        if isinstance(ctx.get("error"), Located):
            for below, message in ctx["error"].problems:
                problems.append(Problem(_key(loc + below, raw), message))
        else:
            extra, message = _describe(detail, kinds)
            problems.append(Problem(_key(loc + extra, raw), message))
    return problems


def _key(loc: tuple[str | int, ...], raw: Any) -> str:
    """``organisations[1].sector`` for a pydantic loc, leaving out the ``kind`` tags it adds."""
    key, node = "", raw
    for part in loc:
        if isinstance(part, int):
            key += f"[{part}]"
            node = node[part] if isinstance(node, list) and part < len(node) else None
            continue
        if isinstance(node, dict) and part not in node and node.get("kind") == part:
            continue  # the tag of a discriminated union, not a key in the file
        key += f".{part}" if key else part
        node = node.get(part) if isinstance(node, dict) else None
    return key or "file"


def _describe(detail: Any, kinds: Mapping[str, str]) -> tuple[tuple[str, ...], str]:
    """Extra loc parts and a friendly message for one pydantic error."""
    kind, ctx = detail["type"], detail.get("ctx", {})
    secret = any(re.search(r"(_env|secret|password|token)$", str(p)) for p in detail["loc"])
    got = "" if secret else f" (got {_show(detail['input'])})"
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        tag = ctx["discriminator"].strip("'")
        if kind == "union_tag_not_found":
            tags = kinds.get(str(detail["loc"][-1]))
            return (tag,), f"required (one of {tags})" if tags else "required"
        return (tag,), f"must be one of {_choices(ctx['expected_tags'])} (got {ctx['tag']!r})"
    messages = {
        "missing": "required",
        "extra_forbidden": "unknown setting (check the spelling against config.example.toml)",
        "literal_error": f"must be one of {_choices(ctx.get('expected', ''))}{got}",
        "int_type": f"must be a whole number, without quotes{got}",
        "int_parsing": f"must be a whole number, without quotes{got}",
        "bool_type": f"must be true or false, without quotes{got}",
        "string_type": f"must be text in quotes{got}",
        "tuple_type": f'must be a list, like ["a", "b"]{got}',
        "model_type": f"must be a table{got}",
        "string_too_short": "must not be empty",
        "too_short": f"must have at least {ctx.get('min_length')} item(s)",
        "greater_than": f"must be more than {ctx.get('gt')}{got}",
        "greater_than_equal": f"must be at least {ctx.get('ge')}{got}",
        "less_than_equal": f"must be at most {ctx.get('le')}{got}",
        "value_error": str(ctx.get("error", "")),
    }
    if kind == "missing" and len(detail["loc"]) == 1 and detail["loc"][0] in _SECTIONS:
        return (), f"missing section: add {_SECTIONS[detail['loc'][0]]} (see config.example.toml)"
    message = messages.get(kind) or detail["msg"][:1].lower() + detail["msg"][1:] + got
    return (), message


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "a list"
    return repr(value)


def _choices(expected: str) -> str:
    return ", ".join(re.findall(r"'([^']*)'", expected))
