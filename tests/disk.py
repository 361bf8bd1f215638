"""Real disk faults, made by the kernel rather than by mocking our code.

A full disk is a small tmpfs mounted over a folder and filled with one file: writes then really
fail with ENOSPC, and deleting the file gives the space back. A read-only folder is a read-only
bind mount (EROFS). Both need root (CI and the development containers run as root). Without root a
folder is made read-only by taking its write permission away (EACCES: root ignores that, hence the
mount), and a full disk cannot be made: those tests skip, saying how to run them.
"""

from __future__ import annotations

import errno
import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

AS_ROOT = os.geteuid() == 0
HOW = "run the tests as root (CI does; `sudo make test`), where a small tmpfs can be mounted"


def _mount(*args: str) -> None:
    """mount(8); skips the test when this machine will not let us (no CAP_SYS_ADMIN in a container)."""
    done = subprocess.run(["mount", *args], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        pytest.skip(f"mount {' '.join(args)} failed ({done.stderr.strip()}): {HOW}")


def _unmount(path: Path) -> None:
    subprocess.run(["umount", "--lazy", str(path)], capture_output=True, check=False)


@contextmanager
def small_disk(path: Path, size: str = "512k") -> Iterator[Path]:
    """`path` (made if need be) as a file system of its own, `size` big, for as long as the block runs."""
    if not AS_ROOT:
        pytest.skip(f"a full disk is a small tmpfs, which only root can mount: {HOW}")
    path.mkdir(parents=True, exist_ok=True)
    _mount("-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", str(path))
    try:
        yield path
    finally:
        _unmount(path)


def fill(disk: Path) -> Path:
    """Write one file into `disk` until no byte more fits; delete it to give the space back."""
    filler = disk / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        while True:
            os.write(fd, bytes(4096))
    except OSError as error:
        if error.errno != errno.ENOSPC:
            raise
    finally:
        os.close(fd)
    return filler


@contextmanager
def read_only(path: Path) -> Iterator[None]:
    """`path` and everything under it refuse writes while the block runs."""
    if AS_ROOT:
        _mount("--bind", str(path), str(path))
        try:
            _mount("-o", "remount,bind,ro", str(path))
            yield
        finally:
            _unmount(path)
        return
    modes = {p: p.stat().st_mode for p in [path, *path.rglob("*")]}
    for p in modes:
        p.chmod(0o500 if p.is_dir() else 0o400)
    try:
        yield
    finally:
        for p, mode in modes.items():
            p.chmod(mode)
