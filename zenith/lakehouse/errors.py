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
def storage_errors(table: str | None = None) -> Iterator[None]:
    """Turn a storage failure (disk full, read-only, no permission) into a one-line ZenithError.

    The line names the path, the ``table`` being written when given, and the cause; any other
    error passes through unchanged.
    """
    try:
        yield
    except ZenithError:
        raise
    except Exception as exc:
        message = storage_problem(exc, table)
        if message is None:
            raise
        raise ZenithError(message) from None


# How a ZenithError raised inside a stream's batch function reads in the stream's error (Python's traceback).
_RAISED_INSIDE = re.compile(r"ZenithError: ([^\n]+)")


@contextmanager
def batch_errors() -> Iterator[None]:
    """A ZenithError raised inside a stream's batch function, as the one-line ZenithError it was.

    The stream fails with an error that carries the batch's Python traceback (classic and Spark
    Connect alike); its last ``ZenithError:`` line holds the message.
    """
    try:
        yield
    except ZenithError:
        raise
    except Exception as exc:
        found = [m.group(1) for e in error_chain(exc) for m in _RAISED_INSIDE.finditer(error_text(e))]
        if not found:
            raise
        raise ZenithError(found[-1].strip()) from None


def storage_problem(exc: BaseException, table: str | None = None) -> str | None:
    """``cannot write <path> (table <table>): <cause>`` if ``exc`` is a storage failure, else None.

    The cause may sit deep in the errors under ``exc``; the path is the one named nearest before it.
    """
    if isinstance(exc, OSError) and exc.strerror in STORAGE_CAUSES:
        path, cause = exc.filename, exc.strerror
    else:
        text = "\n".join(map(error_text, error_chain(exc)))
        found = [(text.find(cause), cause) for cause in STORAGE_CAUSES if cause in text]
        if not found:
            return None
        at, cause = min(found)
        paths = [m for m in _PATH.finditer(text) if m.start() < at]
        path = paths[-1].group(1) if paths else next((m.group(1) for m in _PATH.finditer(text)), "?")
    return f"cannot write {path}{f' (table {table})' if table else ''}: {cause}"


def error_chain(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and the errors that caused it, outermost first.

    A failed stream's error says only ``[STREAM_FAILED] ... [TASK_WRITE_FAILED] ... <table path>``:
    the cause (a read-only file, a full disk) is deeper, in PySpark's converted JVM causes (``_cause``).
    """
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__ or getattr(exc, "_cause", None)


def error_text(exc: BaseException) -> str:
    """An error's message and, on Spark Connect, the server's stack trace, which lists its causes."""
    stack = getattr(exc, "getStackTrace", None)
    return str(exc) + ("\n" + str(stack() or "") if callable(stack) else "")
