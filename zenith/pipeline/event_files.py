"""The landed event files bronze has seen: which it ingested, which changed since, which are new.

Spark's file source and Auto Loader remember a file by its path: a file rewritten or appended
under the same name is never read again. Bronze keeps each row's file, file size and file
modification time, and a small table (``_system.ingested_event_files``) keeps one row per file
version ingested, so a run can compare the landing zone with what was read.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import unquote, urlparse

from pyspark.sql import DataFrame, Row, SparkSession
from pyspark.sql import functions as F

from zenith.lakehouse import config as names
from zenith.lakehouse.config import Config, on_databricks
from zenith.lakehouse.errors import ZenithError
from zenith.lakehouse.landing import file_fingerprint, landed_files, open_landed, read_start
from zenith.lakehouse.tables import append_table, read_table, table_exists

LISTED = 5  # changed files named in a message; the rest are counted
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


@dataclass(frozen=True)
class ChangedFile:
    """A landed file whose size or modification time differs from when it was ingested."""

    path: Path
    ingested_size: int
    size: int

    def __str__(self) -> str:
        return f"{self.path.name} (ingested {self.ingested_size} bytes, now {self.size})"


# How long before bronze's ingestion time (its batch's start, after the listing) a file's status must
# have last changed for the file to be known unchanged without reading it: a margin for the clocks of
# a cloud volume and of the cluster. Only files landed within it of their batch's start are read again.
CLOCK_MARGIN = timedelta(seconds=1)


def changed_files(ingested: dict[Path, IngestedFile]) -> list[ChangedFile]:
    """The ingested files that are still landed but were rewritten or appended to since.

    A different size or modification time is a change; so is a different fingerprint, which
    catches a rewrite of the same size whose modification time was kept or set back. Only a file
    whose status changed after bronze ingested it is read for its fingerprint: a write, or setting
    the modification time back, sets the status-change time (``st_ctime``) to now, and nothing
    sets it back, so the check reads the files touched since, not every file ever landed.
    """
    changed = []
    for path, (size, modified, fingerprint, ingested_at) in sorted(ingested.items()):
        try:
            stat = path.stat()
        except OSError:
            continue  # removed after ingestion: nothing is left unread
        # Spark's file modification times have millisecond precision.
        same_stat = stat.st_size == size and abs(stat.st_mtime - modified.timestamp()) < 0.001
        touched = stat.st_ctime >= (ingested_at - CLOCK_MARGIN).timestamp()
        if not same_stat or (fingerprint is not None and touched and file_fingerprint(path) != fingerprint):
            changed.append(ChangedFile(path, size, stat.st_size))
    return changed


def listed(items: list) -> str:
    """The first few items, then how many more: the file list of a one-line message."""
    more = f" and {len(items) - LISTED} more" if len(items) > LISTED else ""
    return ", ".join(map(str, items[:LISTED])) + more


def changed_files_message(changed: list[ChangedFile]) -> str:
    """One line naming the changed files (the first few) and counting them."""
    return (
        f"{len(changed)} landed event file(s) changed after bronze ingested them and will not be read "
        f"again: {listed(changed)}; land new content under a new file name"
    )


def check_changed_files(changed: list[ChangedFile], mode: str, warn: Callable[[str], None]) -> None:
    """Warn about changed files, or fail in one line, as ``mode`` (``warn``/``fail``) says."""
    if not changed or mode == "reingest":
        return
    if mode == "fail":
        raise ZenithError(changed_files_message(changed) + " (or set changed_files to warn)")
    warn(f"warning: {changed_files_message(changed)}")


def print_warning(message: str) -> None:
    print(message, file=sys.stderr)


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
        rows = spark.createDataFrame(versions, INGESTED_FILES_SCHEMA)
        append_table(rows, config, names.INGESTED_FILES, merge_schema=True)


def file_versions(bronze_events: DataFrame) -> DataFrame:
    """One row per file version in bronze rows: path, size, modification time, rows, ingestion time."""
    return bronze_events.groupBy("source_file", "source_file_size", "source_file_modified").agg(
        F.count(F.lit(1)).alias("rows"), F.max("ingestion_timestamp").alias("ingestion_timestamp")
    )


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


@dataclass(frozen=True)
class EventFileCheck:
    """What the check before bronze's stream found: files changed since ingestion, files not ingested yet."""

    changed: int
    new: tuple[Path, ...] = ()
    last_ingested: datetime | None = None  # the newest ingestion time in ``ingested_event_files``


def check_event_files(spark: SparkSession, config: Config, warn: Callable[[str], None]) -> EventFileCheck:
    """Check the landed event files before reading them; count the changed ones, list the new ones.

    New files must match the JSON setting; a file changed after it was ingested is a warning or
    an error (``Config.changed_files``).
    """
    if config.changed_files == "reingest" and not on_databricks():
        raise ZenithError(
            "changed_files=reingest needs Auto Loader (Databricks); locally, land new content under a new file name"
        )
    rows = ingested_rows(spark, config)
    ingested = latest_versions(rows)
    landed = landed_files(config.events_landing)
    new = tuple(path for path in landed if path not in ingested)
    if config.json_array:
        check_json_array_files(new)
    else:
        check_json_lines(new)
    changed = changed_files(ingested)
    check_changed_files(changed, config.changed_files, warn)
    last = max((row.ingestion_timestamp for row in rows), default=None)
    return EventFileCheck(len(changed), new, last)


def files_not_ingested(
    spark: SparkSession, config: Config, new: Iterable[Path], read: Iterable[str]
) -> list[Path]:
    """The files that were new before bronze's stream and that it still has not ingested.

    ``new`` is the listing made before the stream started, so a file that lands during the run is
    not in it (the next run reads it); ``read`` holds the file URIs the stream read. A file with no
    record in it (empty or blank) has nothing to ingest.
    """
    read_paths = {file_path(uri) for uri in read}
    unread = [path for path in new if path not in read_paths and holds_records(path)]
    if unread:  # an earlier run killed after its stream's commit read them: they are recorded by now
        ingested = ingested_files(spark, config)
        unread = [path for path in unread if path not in ingested]
    return unread


def holds_records(path: Path) -> bool:
    """False for a file that is gone, empty or blank (or an empty JSON array): Spark reads no row from it."""
    try:
        return read_start(path, 4096).strip() not in (b"", b"[]")
    except ZenithError:
        return False


def unread_files_message(unread: list[Path]) -> str:
    """One line naming the landed files bronze did not read, with their modification times."""
    named = [f"{path.name} (modified {modified_at(path)})" for path in unread]
    return (
        f"{len(unread)} landed event file(s) were not read by bronze: {listed(named)}; "
        "land them again under a new file name"
    )


def modified_at(path: Path) -> str:
    """A file's modification time in UTC, to the minute; ``?`` if it is gone."""
    try:
        return datetime.fromtimestamp(path.stat().st_mtime, UTC).strftime("%Y-%m-%d %H:%M UTC")
    except OSError:
        return "?"
