"""One pipeline run at a time on a local lakehouse, with a lock the operating system releases.

Locally the lock is ``flock`` on a file in the lakehouse: a run that is killed, even with
``kill -9``, releases it with its process. On Databricks the job runs with
``max_concurrent_runs: 1``, which is the lock there.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from zenith.lakehouse.config import Config
from zenith.lakehouse.errors import ZenithError

LOCK_FILE = ".zenith-run.lock"
# Locks this process holds, by lakehouse: a process runs its layers one after the other.
_held: dict[Path, IO[str]] = {}


def acquire_run_lock(config: Config) -> None:
    """Hold the lakehouse's run lock, or fail in one line if another process holds it."""
    if not config.is_local or config.lakehouse in _held:
        return
    path = config.lakehouse / LOCK_FILE
    try:
        handle = path.open("a+")
    except OSError as exc:
        raise ZenithError(f"cannot write {path}: {exc.strerror or exc}") from None
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip() or "an unknown time"
        handle.close()
        raise ZenithError(
            f"another run is in progress since {holder} on {config.lakehouse}: wait for it to end"
        ) from None
    try:
        handle.seek(0)
        handle.truncate()
        handle.write(f"{datetime.now(UTC):%Y-%m-%d %H:%M:%S} UTC (pid {os.getpid()})\n")
        handle.flush()
    except OSError as exc:
        handle.close()
        raise ZenithError(f"cannot write {path}: {exc.strerror or exc}") from None
    _held[config.lakehouse] = handle


def release_run_lock(config: Config) -> None:
    """Let another process run on this lakehouse (process exit does the same)."""
    handle = _held.pop(config.lakehouse, None) if config.is_local else None
    if handle is not None:
        handle.close()


@contextmanager
def run_lock_held(config: Config) -> Iterator[None]:
    """Hold the run lock for a block; a lock this process held before the block stays held after it."""
    held_before = config.lakehouse in _held
    acquire_run_lock(config)
    try:
        yield
    finally:
        if not held_before:
            release_run_lock(config)
