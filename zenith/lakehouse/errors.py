"""The one exception type the CLI turns into a one-line error and a non-zero exit."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager


class ZenithError(Exception):
    """A problem the user can fix: bad input, bad setup, missing tool. The message is one line."""


# What a full or read-only disk, or missing permissions, look like in Java and Python errors.
STORAGE_CAUSES = (
    "No space left on device",
    "Read-only file system",
    "Disk quota exceeded",
    "Permission denied",
)
# An absolute path or file: URI, where a word starts (not "java.base/java.util" in a stack frame).
_PATH = re.compile(r"(?:(?<=\s)|(?<=^)|(?<=file:))(/[^\s'\"(),;]+[^\s'\"(),;.:])")


@contextmanager
def storage_errors() -> Iterator[None]:
    """Turn a storage failure (disk full, read-only, no permission) into a one-line ZenithError.

    The line names the path and the cause; any other error passes through unchanged.
    """
    try:
        yield
    except ZenithError:
        raise
    except Exception as exc:
        message = storage_problem(exc)
        if message is None:
            raise
        raise ZenithError(message) from None


def storage_problem(exc: BaseException) -> str | None:
    """``cannot write <path>: <cause>`` if ``exc`` is a storage failure, else None."""
    if isinstance(exc, OSError) and exc.strerror in STORAGE_CAUSES:
        return f"cannot write {exc.filename}: {exc.strerror}"
    text = str(exc)
    found = [(text.find(cause), cause) for cause in STORAGE_CAUSES if cause in text]
    if not found:
        return None
    at, cause = min(found)
    paths = [m for m in _PATH.finditer(text) if m.start() < at]
    path = paths[-1].group(1) if paths else next((m.group(1) for m in _PATH.finditer(text)), "?")
    return f"cannot write {path}: {cause}"
