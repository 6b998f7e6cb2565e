"""Which files of a landing folder are data: the one rule the readers, their checks and the generator share.

Every file at any depth is data, except a file or folder whose name starts with ``.`` or ``_``:
Spark's file sources skip those (hidden files, ``_SUCCESS`` markers, ``.crc`` checksums, files
still being written under a temporary name), so the pre-read checks and the generator skip them too.
"""

from __future__ import annotations

import gzip
import hashlib
import os
from pathlib import Path
from typing import BinaryIO

from zenith.lakehouse.errors import ZenithError


def is_hidden(name: str) -> bool:
    """True for a file or folder name Spark's file sources skip: one starting with ``.`` or ``_``."""
    return name.startswith((".", "_"))


def landed_files(folder: Path) -> list[Path]:
    """Every data file under ``folder``, in sub-folders too, sorted; none if the folder is missing."""
    found = []
    for parent, folders, files in os.walk(folder):
        folders[:] = [name for name in folders if not is_hidden(name)]  # prune hidden sub-trees
        found += [Path(parent, name) for name in files if not is_hidden(name)]
    return sorted(found)


def open_landed(path: Path) -> BinaryIO:
    """A landed file opened for reading bytes, decompressed if its name ends in ``.gz`` (as Spark does)."""
    return gzip.open(path, "rb") if path.name.endswith(".gz") else path.open("rb")


def read_start(path: Path, size: int) -> bytes:
    """Up to ``size`` first (decompressed) bytes of a landed file; a ZenithError naming it if unreadable."""
    try:
        with open_landed(path) as handle:
            return handle.read(size)
    except (OSError, EOFError) as exc:  # a missing or unreadable file, or a broken .gz
        raise ZenithError(f"{path}: cannot read the file ({exc})") from None


FINGERPRINT_BYTES = 4096


def file_fingerprint(path: Path) -> str | None:
    """A cheap fingerprint of a file's raw bytes: a hash of its first and last 4 KiB and its size.

    It tells a file rewritten in place from the one ingested even when the size and the
    modification time were kept (a copy with ``cp -p``, a clock set back). None if unreadable.
    """
    try:
        with path.open("rb") as handle:
            digest = hashlib.blake2b(handle.read(FINGERPRINT_BYTES), digest_size=16)
            size = handle.seek(0, os.SEEK_END)
            handle.seek(max(size - FINGERPRINT_BYTES, 0))
            digest.update(handle.read(FINGERPRINT_BYTES))
    except OSError:
        return None
    digest.update(str(size).encode())
    return digest.hexdigest()
