"""The ``_system.ingested_event_files`` table: one row per event file version bronze ingested.

Bronze's stream remembers a file by its path only; this table keeps each file's size,
modification time and fingerprint when it was read, so a run can tell a changed file from a new one.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import unquote, urlparse

from pyspark.sql import DataFrame, Row, SparkSession
from pyspark.sql import functions as F

from zenith.lakehouse import config as names
from zenith.lakehouse.config import Config
from zenith.lakehouse.landing import file_fingerprint
from zenith.lakehouse.local_rows import local_rows
from zenith.lakehouse.tables import append_table, read_table, table_exists

FINGERPRINT = "source_file_fingerprint"
INGESTED_FILES_SCHEMA = (
    "source_file STRING, source_file_size BIGINT, source_file_modified TIMESTAMP, rows BIGINT, "
    f"ingestion_timestamp TIMESTAMP, {FINGERPRINT} STRING"
)


def file_path(uri: str) -> Path:
    """The local (or ``/Volumes``) path of a ``_metadata.file_path`` URI such as ``file:///a%20b.json``."""
    parsed = urlparse(uri)
    return Path(unquote(parsed.path)) if parsed.scheme else Path(uri)


# What bronze knew of a file when it ingested it: size, modification time, fingerprint (None when
# the file was recorded before fingerprints were kept, or could not be read then) and ingestion time.
IngestedFile = tuple[int, datetime, str | None, datetime]


def ingested_files(spark: SparkSession, config: Config) -> dict[Path, IngestedFile]:
    """Each ingested file's size, modification time and fingerprint when it was last read."""
    return latest_versions(ingested_rows(spark, config))


def ingested_rows(spark: SparkSession, config: Config) -> list[Row]:
    """Every row of ``ingested_event_files`` (none if the table does not exist yet), in one query."""
    if not table_exists(spark, config, names.INGESTED_FILES):
        return []
    table = read_table(spark, config, names.INGESTED_FILES)
    if FINGERPRINT not in table.columns:  # a table from before fingerprints were kept
        table = table.withColumn(FINGERPRINT, F.lit(None).cast("string"))
    return table.select(
        "source_file", "source_file_size", "source_file_modified", "ingestion_timestamp", FINGERPRINT
    ).collect()


def latest_versions(rows: list[Row]) -> dict[Path, IngestedFile]:
    """Each file's newest version among ``ingested_event_files`` rows."""
    latest = {}
    for row in sorted(rows, key=lambda row: row.ingestion_timestamp):
        latest[file_path(row.source_file)] = (
            row.source_file_size,
            row.source_file_modified,
            row[FINGERPRINT],
            row.ingestion_timestamp,
        )
    return latest


# Delta keeps a file's timestamp statistics truncated to the millisecond: a bound that fine (or finer)
# could match the newest file of an earlier run, which would then be read again on every run.
STATS_PRECISION = timedelta(milliseconds=2)


def record_ingested_files(spark: SparkSession, config: Config, last: datetime | None) -> None:
    """Add to ``ingested_event_files`` the file versions of bronze rows ingested after ``last``.

    ``last`` is the table's newest ingestion time (None when it has no row), which the check before
    the stream read with the rest of the table.
    """
    bronze = read_table(spark, config, names.BRONZE_EVENTS)
    if last is not None:  # Delta skips the older files; a later run's rows are seconds newer
        bronze = bronze.where(F.col("ingestion_timestamp") >= F.lit(last + STATS_PRECISION))
    versions = [
        (*row, file_fingerprint(file_path(row.source_file))) for row in file_versions(bronze).collect()
    ]
    if versions:
        rows = local_rows(spark, versions, INGESTED_FILES_SCHEMA)
        append_table(rows, config, names.INGESTED_FILES, merge_schema=True)


def file_versions(bronze_events: DataFrame) -> DataFrame:
    """One row per file version in bronze rows: path, size, modification time, rows, ingestion time."""
    return bronze_events.groupBy("source_file", "source_file_size", "source_file_modified").agg(
        F.count(F.lit(1)).alias("rows"), F.max("ingestion_timestamp").alias("ingestion_timestamp")
    )
