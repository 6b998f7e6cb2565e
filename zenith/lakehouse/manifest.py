"""The run manifest: what the last successful local run saw and answered, so a run with nothing new needs no Spark.

A local run lists the landing zone when it starts and, once every step it was asked for has run,
writes this JSON file last: its parameters, that listing, each table's latest Delta commit, each
stream checkpoint's latest offset and commit, and the answers and warnings it printed. The next run
takes the same fingerprint with a few directory listings; if it equals the stored one, no landed
file, table or checkpoint changed, so the pipeline has nothing to do and the answers still hold.

A run deletes the manifest under the run lock, before it writes anything, so a killed or failed run
leaves none behind and the next run checks everything. Every fingerprint part only moves forward (a
Delta version or batch id grows; a recreated file gets a new modification time), so a fingerprint
equal to the stored one was, as a whole, true at the moment its first part was read.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from zenith.lakehouse import config as names
from zenith.lakehouse.config import Config
from zenith.lakehouse.landing import landed_files

MANIFEST_FORMAT = 2  # 2: the pipeline's health rows
# A committed Delta version (its checkpoints and .crc files follow from the commits).
DELTA_COMMIT = re.compile(r"\d{20}\.json")
BATCH_FILE = re.compile(r"\d+")  # a checkpoint's offsets/N or commits/N (not its .N.crc)


def landing_listing(config: Config) -> dict[str, list[list]]:
    """Every data file of the three landing folders: its path in the folder, size and mtime in ns."""
    folders = {
        "customers": config.customers_landing,
        "products": config.products_landing,
        "user_events": config.events_landing,
    }
    listing = {}
    for name, folder in folders.items():
        entries = []
        for path in landed_files(folder):
            try:
                stat = path.stat()
            except FileNotFoundError:  # removed while listing: it is not there now either
                continue
            entries.append([str(path.relative_to(folder)), stat.st_size, stat.st_mtime_ns])
        listing[name] = entries
    return listing


def latest_file(folder: Path, pattern: re.Pattern) -> list | None:
    """Name, size and mtime (ns) of the highest-numbered file in ``folder`` named like ``pattern``; None if none."""
    try:
        found = [entry.name for entry in os.scandir(folder) if pattern.fullmatch(entry.name)]
    except (FileNotFoundError, NotADirectoryError):
        return None
    if not found:
        return None
    newest = max(found, key=lambda name: int(name.split(".")[0]))
    try:
        stat = (folder / newest).stat()
    except FileNotFoundError:
        return [newest, None, None]
    return [newest, stat.st_size, stat.st_mtime_ns]


def lakehouse_state(config: Config) -> dict:
    """Which schema and volume folders exist, each table's latest Delta commit, each checkpoint's latest batch."""
    folders = [config.schema_path(schema) for schema in names.SCHEMAS]
    folders += [config.volume_path(volume) for volume in names.VOLUMES]
    tables = names.TABLES
    return {
        "folders": [str(folder.relative_to(config.lakehouse)) for folder in folders if folder.is_dir()],
        "tables": {f"{t.schema}.{t.name}": latest_file(config.table_path(t) / "_delta_log", DELTA_COMMIT) for t in tables},
        "checkpoints": {
            f"{t.schema}.{t.name}": [latest_file(config.checkpoint(t) / part, BATCH_FILE) for part in ("offsets", "commits")]
            for t in tables
        },
    }  # fmt: skip


def fingerprint(config: Config, params: dict, landing: dict) -> dict:
    """What a run's result depends on: its parameters, the landing listing and the lakehouse's state.

    Normalised through JSON, so a fingerprint compares equal to one read back from the manifest.
    """
    whole = {"format": MANIFEST_FORMAT, "params": params, "landing": landing, **lakehouse_state(config)}
    return json.loads(json.dumps(whole))


@dataclass(frozen=True)
class Manifest:
    """A successful run's fingerprint, and what it printed that a run with nothing new prints again."""

    run_id: str
    fingerprint: dict
    # Printed answers by step ("data_quality", "analytics"), then by title.
    answers: dict[str, dict[str, str]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    finished_at: str = field(default_factory=lambda: f"{datetime.now(UTC):%Y-%m-%d %H:%M:%S} UTC")
    # The rows of the status the run printed at its end (zenith.pipeline.health.read), if it printed one.
    health: dict | None = None


def read_manifest(path: Path) -> Manifest | None:
    """The manifest at ``path``; None if there is none or it is unreadable or of another format."""
    try:
        data = json.loads(path.read_text())
        manifest = Manifest(**data)
    except (OSError, ValueError, TypeError):
        return None
    return manifest if manifest.fingerprint.get("format") == MANIFEST_FORMAT else None


def write_manifest(path: Path, manifest: Manifest) -> None:
    """Write the manifest whole or not at all (a temporary file renamed over it)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(json.dumps(asdict(manifest), indent=1))
    os.replace(temporary, path)


def remove_manifest(path: Path) -> None:
    """Delete the manifest, if any: from now on the lakehouse may change under it."""
    path.unlink(missing_ok=True)


def unchanged_since(path: Path, config: Config, params: dict, landing: dict) -> Manifest | None:
    """The stored manifest if the lakehouse, ``landing`` and ``params`` still match it; else None.

    The manifest is read again after the listing: a run that started meanwhile deleted it before
    writing anything, so a manifest still there and the same means the listing saw no run's writes.
    """
    stored = read_manifest(path)
    if stored is None:
        return None
    try:
        now = fingerprint(config, params, landing)
    except OSError:  # an unreadable folder: let the full run report it
        return None
    return stored if now == stored.fingerprint and read_manifest(path) == stored else None


def lakehouse_unchanged(stored: Manifest, config: Config) -> bool:
    """True if no table, checkpoint or schema folder changed since ``stored`` was written (landing aside)."""
    try:
        now = json.loads(json.dumps(lakehouse_state(config)))
    except OSError:
        return False
    return all(stored.fingerprint.get(key) == value for key, value in now.items())
