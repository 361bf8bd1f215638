"""One process at a time: a second opener, in another process or this one, is refused."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from store import Store, StoreLocked

from .support import run_python

OPEN_IN_CHILD = """
import sys
from pathlib import Path
from store import Store
with Store.open(Path(sys.argv[1])) as store:
    print("opened", len(store.summaries()))
"""


def test_a_second_process_is_refused_with_a_clear_message(store_dir: Path) -> None:
    with Store.open(store_dir):
        child = run_python(OPEN_IN_CHILD, str(store_dir))

    assert child.returncode != 0
    assert "opened" not in child.stdout
    assert "StoreLocked" in child.stderr
    assert (
        f"the store at {store_dir} is in use by another jointly process (pid {os.getpid()}); "
        "stop it first"
    ) in child.stderr


def test_after_close_another_process_can_open(store_dir: Path) -> None:
    with Store.open(store_dir):
        pass
    child = run_python(OPEN_IN_CHILD, str(store_dir))
    assert (child.returncode, child.stdout.strip()) == (0, "opened 0"), child.stderr


def test_a_second_open_in_the_same_process_is_refused_too(store_dir: Path) -> None:
    with Store.open(store_dir):
        with pytest.raises(StoreLocked, match="this process") as refused:
            Store.open(store_dir)
        assert (refused.value.path, refused.value.pid) == (store_dir, os.getpid())
    Store.open(store_dir).close()
