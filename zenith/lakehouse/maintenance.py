"""Table maintenance (``zenith maintain``, ``utils/maintain``): fewer, larger files and no dead ones.

For every pipeline table, OPTIMIZE compacts its small files into larger ones, then VACUUM deletes
the files that no version within the retention reads. Neither changes a row. Locally the command
holds the run lock, so no run writes meanwhile; a table that a stream reads keeps the files of the
versions that stream has not read yet (``stream_backlog``). Tables are named by path locally and by
name on Databricks (``Config.delta_target``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pyspark.errors import PySparkException
from pyspark.sql import Row, SparkSession

from zenith.lakehouse import config as names
from zenith.lakehouse.config import DEFAULT_RETENTION_HOURS, Config, Table
from zenith.lakehouse.errors import ZenithError, storage_errors
from zenith.lakehouse.landing import landed_files
from zenith.lakehouse.run_lock import run_lock_held
from zenith.lakehouse.runtime import conf_set
from zenith.lakehouse.stream_backlog import stream_readers, unread_backlog
from zenith.lakehouse.tables import table_exists

RETENTION_CHECK_CONF = "spark.databricks.delta.retentionDurationCheck.enabled"
# Whether VACUUM records a VACUUM START and a VACUUM END commit in the table's history.
VACUUM_LOGGING_CONF = "spark.databricks.delta.vacuum.logging.enabled"


@dataclass(frozen=True)
class Files:
    """A number of files and their bytes."""

    count: int
    size: int

    def __str__(self) -> str:
        return f"{self.count:,} file{'s' * (self.count != 1)} ({_size(self.size)})"


@dataclass(frozen=True)
class TableMaintenance:
    """One table before and after: its live files (the current version's) and, locally, its files on disk."""

    table: Table
    live_before: Files
    live_after: Files
    disk_before: Files | None
    disk_after: Files | None
    vacuumed: bool

    def __str__(self) -> str:
        line = f"maintain {self.table.schema}.{self.table.name}: live {self.live_before} -> {self.live_after}"
        if self.disk_before is not None and self.disk_after is not None:
            line += f"; on disk {self.disk_before} -> {self.disk_after}"
        return line


def maintain(
    spark: SparkSession,
    config: Config,
    retention_hours: int = DEFAULT_RETENTION_HOURS,
    log: Callable[[str], object] = print,
) -> list[TableMaintenance]:
    """OPTIMIZE, then VACUUM with ``retention_hours``, every pipeline table that exists; one line per table.

    Below Delta's default retention (168 hours) time travel ends sooner, and Delta's retention check is
    turned off for each VACUUM: locally only, where the run lock keeps writers out.
    """
    check_retention(config, retention_hours)
    done = []
    with run_lock_held(config):
        if retention_hours < DEFAULT_RETENTION_HOURS:
            log(time_travel_note(retention_hours))
        for table in names.TABLES:
            if table_exists(spark, config, table):
                done.append(maintain_table(spark, config, table, retention_hours, log))
    log(summary(done, retention_hours))
    return done


def maintain_table(
    spark: SparkSession, config: Config, table: Table, retention_hours: int, log: Callable[[str], object]
) -> TableMaintenance:
    """Compact one table, then VACUUM it unless a stream still has to read files it would delete."""
    target = config.delta_target(table)
    live_before, disk_before = live_files(spark, target), files_on_disk(config.table_path(table))
    with storage_errors(config.table_name(table)):
        optimized = spark.sql(f"OPTIMIZE {target}").first()
        backlog = {reader: unread_backlog(spark, config, table, reader) for reader in stream_readers(table)}
        held = [(reader, why) for reader, why in backlog.items() if why is not None]
        for reader, why in held:
            log(
                f"note: VACUUM of {table.schema}.{table.name} skipped: the stream that writes "
                f"{reader.schema}.{reader.name} would need files VACUUM deletes, as {why}; run the pipeline "
                "(it reads them), then maintain again"
            )
        if not held:
            vacuum(spark, config, table, retention_hours)
    done = TableMaintenance(
        table,
        live_before,
        compacted(live_before, optimized.metrics),
        disk_before,
        files_on_disk(config.table_path(table)),
        vacuumed=not held,
    )
    log(str(done))
    return done


def vacuum(spark: SparkSession, config: Config, table: Table, retention_hours: int) -> None:
    """VACUUM ``table``, keeping the files of the last ``retention_hours`` of versions.

    Locally, Delta's retention check is off for the call when the retention is shorter than its default
    (the run lock keeps writers out), and VACUUM commits nothing to the table's history: its START and
    END commits would be two of the three commits of a maintained table, and ``maintain``'s lines say
    what it deleted. The local session lists the table's folders with a few tasks
    (``runtime.LOCAL_CONF``): Spark's default of 10,000 makes a VACUUM of a small table take half a minute.
    """
    target, settings = config.delta_target(table), {}
    if config.is_local:
        settings[VACUUM_LOGGING_CONF] = "false"
        if retention_hours < DEFAULT_RETENTION_HOURS:
            settings[RETENTION_CHECK_CONF] = "false"
    with conf_set(spark, settings):
        try:
            spark.sql(f"VACUUM {target} RETAIN {int(retention_hours)} HOURS").collect()
        except PySparkException as exc:
            if "RETENTION_PERIOD_TOO_SHORT" not in str(exc):
                raise
            raise ZenithError(
                f"VACUUM {target}: Delta refuses a retention of {retention_hours} hours here (the table's "
                "delta.deletedFileRetentionDuration is longer, or the platform keeps the retention check on): "
                "use a longer --retention-hours"
            ) from None


def check_retention(config: Config, retention_hours: int) -> None:
    """Fail in one line for a negative retention, or one below Delta's default on Databricks."""
    if retention_hours < 0:
        raise ZenithError(f"retention: got {retention_hours} hours, expected 0 or more")
    if not config.is_local and retention_hours < DEFAULT_RETENTION_HOURS:
        raise ZenithError(
            f"retention: {retention_hours} hours is for a local lakehouse only; on Databricks no run lock "
            f"keeps other writers out, so use at least {DEFAULT_RETENTION_HOURS} (Delta's default)"
        )


def time_travel_note(retention_hours: int) -> str:
    """The one line that says what a retention shorter than Delta's default does to time travel."""
    if retention_hours == 0:
        return (
            "note: retention 0 hours: time travel to earlier versions ends here; each table keeps only the "
            "files of its current version"
        )
    return (
        f"note: retention {retention_hours} hours: time travel ends at the versions of {retention_hours} "
        f"hours ago, not Delta's default {DEFAULT_RETENTION_HOURS}"
    )


def summary(done: list[TableMaintenance], retention_hours: int) -> str:
    """One line for the whole command: tables compacted and vacuumed, and the files before and after."""
    vacuumed = sum(report.vacuumed for report in done)
    line = f"maintain: {len(done)} tables optimized, {vacuumed} vacuumed (retention {retention_hours} hours)"
    if done and all(report.disk_before is not None for report in done):
        before = Files(sum(r.disk_before.count for r in done), sum(r.disk_before.size for r in done))
        after = Files(sum(r.disk_after.count for r in done), sum(r.disk_after.size for r in done))
        line += f"; on disk {before} -> {after}"
    return line


def live_files(spark: SparkSession, target: str) -> Files:
    """The files of the table's current version and their bytes (``DESCRIBE DETAIL``)."""
    detail = spark.sql(f"DESCRIBE DETAIL {target}").select("numFiles", "sizeInBytes").first()
    return Files(int(detail.numFiles or 0), int(detail.sizeInBytes or 0))


def compacted(before: Files, metrics: Row) -> Files:
    """The live files after an OPTIMIZE that reported ``metrics``: those before, less the ones it
    removed, plus the ones it added.

    VACUUM deletes no live file, so this is also the table's after maintenance: no second ``DESCRIBE DETAIL``.
    """
    return Files(
        before.count - metrics.numFilesRemoved + metrics.numFilesAdded,
        before.size - metrics.filesRemoved.totalSize + metrics.filesAdded.totalSize,
    )


def files_on_disk(folder: Path | None) -> Files | None:
    """Every data file in a local table's folder, referenced or not; None on Databricks.

    The Delta log and hidden files (checksums) are not data files.
    """
    if folder is None:
        return None
    data = landed_files(folder)  # the same rule as Spark's readers: no name starting with "_" or "."
    return Files(len(data), sum(path.stat().st_size for path in data))


def _size(size: float) -> str:
    """Bytes as ``512 B``, ``12.3 KB``, ``4.5 MB`` or ``1.2 GB`` (powers of 1,000)."""
    if size < 1000:
        return f"{int(size)} B"
    for unit in ("KB", "MB"):
        size /= 1000
        if size < 1000:
            return f"{size:,.1f} {unit}"
    return f"{size / 1000:,.1f} GB"
