"""The checks that new event files match the JSON setting, before the stream reads them.

A file in the other JSON layout would not fail when read: it would silently give one corrupt row
per line (an array read as JSON Lines) or only its first record (JSON Lines read as an array).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from zenith.lakehouse.errors import ZenithError
from zenith.lakehouse.landing import landed_files, open_landed, read_start


def check_json_lines(files: Iterable[Path]) -> None:
    """Fail, naming the file, if a file read as JSON Lines is a JSON array over several lines.

    Read line by line, a pretty-printed array would become one corrupt row per line.
    """
    for path in files:
        with open_landed(path) as handle:
            first = handle.readline().strip()
            while not first and handle.tell() < 4096:
                line = handle.readline()
                if not line:
                    break
                first = line.strip()
        if not first.startswith(b"["):
            continue
        try:
            json.loads(first)
        except ValueError:
            raise ZenithError(
                f"{path}: the file is a JSON array over several lines but the JSON-array setting is off: "
                "turn it on (--json-array, or the json_array widget) for such files"
            ) from None


def check_json_arrays(folder: Path) -> None:
    """Fail, naming the file, if a landed event file is not a JSON array.

    Read as a JSON array, a JSON Lines file would yield only its first record and drop the rest
    without a trace, so array mode refuses such a file instead.
    """
    check_json_array_files(landed_files(folder))


def check_json_array_files(files: Iterable[Path]) -> None:
    """``check_json_arrays`` on a listing already made."""
    for path in files:
        start = read_start(path, 4096).lstrip()[:1]
        if start not in (b"[", b""):
            raise ZenithError(
                f"{path}: the JSON-array setting is on but the file starts with {start.decode(errors='replace')!r}, "
                "not '[': turn the setting off for JSON Lines files"
            )
