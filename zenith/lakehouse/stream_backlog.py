"""What the pipeline's streams have yet to read of the Delta tables they stream from.

A streaming query over a Delta table records in its checkpoint how far into the table's log it has
read: ``offsets/N`` is where micro-batch N ends, ``commits/N`` says that batch is done. After a kill
the query replays from the end of its last committed batch, reading the files that the versions
after it added. VACUUM must not delete those files while the query has not read them: OPTIMIZE moves
them out of the table's current version, and a short retention would then delete them.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from zenith.lakehouse import config as names
from zenith.lakehouse.config import Config, Table
from zenith.lakehouse.manifest import BATCH_FILE

# Delta operations that add or remove no rows: a stream reading the table skips their versions.
NO_DATA_OPERATIONS = frozenset(
    {
        "OPTIMIZE",
        "VACUUM START",
        "VACUUM END",
        "SET TBLPROPERTIES",
        "UNSET TBLPROPERTIES",
        "ADD CONSTRAINT",
        "DROP CONSTRAINT",
        "CHANGE COLUMN",
        "CHANGE COLUMNS",
    }
)


def stream_readers(table: Table) -> list[Table]:
    """The tables whose streaming queries read ``table`` (their checkpoints are where they got to)."""
    return [reader for reader, source in names.STREAM_SOURCES.items() if source == table]


def unread_backlog(spark: SparkSession, config: Config, source: Table, reader: Table) -> str | None:
    """Why the query that writes ``reader`` may still need files of ``source`` VACUUM could delete, or None.

    None when the query has no checkpoint (a new query starts from the table as it is then) or its last
    committed batch ends after every version of ``source`` that changed rows. Anything else, an
    unreadable checkpoint included, is a reason to keep the files.
    """
    checkpoint = config.checkpoint(reader)
    planned, done = _batches(checkpoint / "offsets"), _batches(checkpoint / "commits")
    if not planned:
        return None
    if not done:
        return f"its first micro-batch (batch {planned[0]}) has not committed"
    offset = _source_offset(checkpoint / "offsets" / str(done[-1]))
    if offset is None:
        return f"the offset of its batch {done[-1]} cannot be read"
    version = offset["reservoirVersion"]
    if offset.get("isStartingVersion") or offset.get("index", -1) != -1:
        return f"it has read version {version} only in part"
    unread = data_versions(spark, config, source, since=version)
    if unread:
        return f"it has not read version{'s' * (len(unread) > 1)} {_span(unread)} yet"
    return None


def replayed_batch(checkpoint: Path) -> int | None:
    """The micro-batch a query restarted on ``checkpoint`` runs again: its last planned batch, if not committed.

    Spark writes ``offsets/N`` before it runs batch N and ``commits/N`` after, and plans batch N + 1
    only then; so no other batch of the checkpoint can have written anything before.
    """
    planned, done = _batches(checkpoint / "offsets"), _batches(checkpoint / "commits")
    return planned[-1] if planned and planned[-1] not in done else None


def data_versions(spark: SparkSession, config: Config, table: Table, since: int) -> list[int]:
    """The versions from ``since`` on that changed rows of ``table``, oldest first."""
    history = spark.sql(f"DESCRIBE HISTORY {config.delta_target(table)}")
    rows = history.where(F.col("version") >= since).select("version", "operation").collect()
    return sorted(row.version for row in rows if row.operation not in NO_DATA_OPERATIONS)


def _batches(folder: Path) -> list[int]:
    """The micro-batch ids with a file in ``folder`` (a checkpoint's ``offsets`` or ``commits``), in order."""
    try:
        return sorted(int(entry.name) for entry in os.scandir(folder) if BATCH_FILE.fullmatch(entry.name))
    except (FileNotFoundError, NotADirectoryError):
        return []


def _source_offset(path: Path) -> dict | None:
    """The Delta source offset in a checkpoint's ``offsets/N``: its third line, after format and metadata."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
        offset = json.loads(lines[2])
    except (OSError, IndexError, ValueError):
        return None
    return offset if isinstance(offset, dict) and isinstance(offset.get("reservoirVersion"), int) else None


def _span(versions: list[int]) -> str:
    return str(versions[0]) if len(versions) == 1 else f"{versions[0]} to {versions[-1]}"
