"""Whether a batch snapshot (customers, products) must be reloaded: did its landed files change?

A bronze snapshot table keeps each row's source file with the file's size and modification time,
so a run compares those with the landing folder and skips the reload (and the new table version)
when nothing was added, removed or rewritten.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlparse

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from zenith.lakehouse.config import Config, Table
from zenith.lakehouse.tables import read_table, table_exists


def landed_fingerprint(files: list[Path]) -> set[tuple[str, int, int]]:
    """Each landed file's absolute path, size in bytes and modification time in milliseconds."""
    stats = ((path.resolve(), path.stat()) for path in files)
    return {(str(path), stat.st_size, stat.st_mtime_ns // 1_000_000) for path, stat in stats}


def loaded_fingerprint(spark: SparkSession, config: Config, table: Table) -> set[tuple[str, int, int]]:
    """The same facts for the files behind a bronze snapshot table (empty if it has none yet)."""
    if not table_exists(spark, config, table):
        return set()
    loaded = read_table(spark, config, table)
    if "source_file_modified" not in loaded.columns:  # a table from before these columns existed
        return set()
    rows = loaded.select(
        "source_file", "source_file_size", F.unix_millis("source_file_modified").alias("modified")
    ).distinct()
    return {(unquote(urlparse(r.source_file).path), r.source_file_size, r.modified) for r in rows.collect()}


def snapshot_unchanged(spark: SparkSession, config: Config, table: Table, files: list[Path]) -> bool:
    """True when ``table`` was loaded from exactly these files, none of them changed since."""
    return landed_fingerprint(files) == loaded_fingerprint(spark, config, table)
