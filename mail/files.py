"""Private folders for mail: complaints are personal data, readable by this user only.

Durable writes themselves go through `store.atomic`, the project's one atomic-write helper.
"""

from __future__ import annotations

from pathlib import Path

PRIVATE_DIR = 0o700


def make_private_dirs(*paths: Path) -> None:
    """Create directories (and parents) readable by this user only; existing ones are kept."""
    for path in paths:
        path.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
