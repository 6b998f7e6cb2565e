"""The landed event files against what bronze ingested: which changed since, which are new, which went unread.

Spark's file source and Auto Loader remember a file by its path: a file rewritten or appended
under the same name is never read again. Bronze keeps each row's file, file size and file
modification time, and a small table (``_system.ingested_event_files``, see ``ingested_table``)
keeps one row per file version ingested, so a run can compare the landing zone with what was read:
``check_event_files`` before the stream, ``record_files_read`` after it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pyspark.sql import SparkSession

from zenith.lakehouse.config import Config, on_databricks
from zenith.lakehouse.errors import ZenithError
from zenith.lakehouse.landing import file_fingerprint, landed_files, read_start
from zenith.pipeline.bronze.ingested_table import (
    IngestedFile,
    file_path,
    ingested_files,
    ingested_rows,
    latest_versions,
    record_ingested_files,
)
from zenith.pipeline.bronze.json_checks import check_json_array_files, check_json_lines
from zenith.pipeline.bronze.json_checks import check_json_arrays as check_json_arrays  # re-exported

LISTED = 5  # changed files named in a message; the rest are counted


# --- Before the stream ---------------------------------------------------------------------------
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


# --- After the stream ----------------------------------------------------------------------------
def record_files_read(
    spark: SparkSession,
    config: Config,
    checked: EventFileCheck,
    read: Iterable[str],
    rows: int,
    warn: Callable[[str], None],
) -> list[Path]:
    """The new files bronze's stream did not read, named in a warning, once the files read are recorded.

    ``checked`` is ``check_event_files``' result from before the stream; ``read`` holds the file URIs
    the stream read and ``rows`` the rows it wrote.
    """
    # Record the files read, or read by an earlier run killed before it recorded them; with no
    # new file holding a record, there is nothing to record and no commit.
    if rows or any(map(holds_records, checked.new)):
        record_ingested_files(spark, config, checked.last_ingested)
    unread = files_not_ingested(spark, config, checked.new, read)
    if unread:
        warn(f"warning: {unread_files_message(unread)}")
    return unread


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
