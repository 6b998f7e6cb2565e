"""The events stream: new landed event files appended to ``bronze_user_events``, each exactly once.

Auto Loader reads them on Databricks, Spark's file source locally. Around the stream,
``event_files`` checks the landed files before it and records the files read after it.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable

from pyspark.sql import DataFrame, SparkSession

from zenith.lakehouse import config as names
from zenith.lakehouse.config import CORRUPT, Config, on_databricks
from zenith.lakehouse.errors import ZenithError
from zenith.lakehouse.streams import observed_metrics, write_available_now
from zenith.pipeline.bronze.event_files import EventFileCheck, check_event_files, record_files_read
from zenith.pipeline.bronze.report import IngestReport
from zenith.pipeline.bronze.rescued import RESCUED, parse_json_records, rescued_warning
from zenith.pipeline.bronze.transforms import (
    EVENT_COLUMNS,
    EVENT_SCHEMA,
    event_metrics,
    source_file,
    with_event_metadata,
)

# Spark's file source skips a new file more than ``maxFileAge`` (default 7 days) older than the newest
# file it has seen, so a backfill copied with its old times (cp -p, rsync -a, tar x) was never read.
# The age also bounds the paths it remembers; every micro-batch lists the whole landing folder anyway,
# so remembering all of them costs about what that listing does. A century reads every file whatever
# its time. Auto Loader's cloudFiles.maxFileAge is unset by default: it skips no file for its age.
MAX_FILE_AGE = "36500d"
PROBLEMS = ("corrupt_records", "bad_timestamps", "missing_event_ids", "rescued_records")


def print_warning(message: str) -> None:
    """Print a warning line to standard error: the warning of a load called without a run's log."""
    print(message, file=sys.stderr)


def ingest_events(
    spark: SparkSession,
    config: Config,
    warn: Callable[[str], None] = print_warning,
    checked: EventFileCheck | None = None,
) -> IngestReport:
    """Append newly landed event files to ``bronze_user_events``; re-running adds nothing.

    ``checked`` is ``check_event_files``' result when the caller already ran it. A new file the
    stream did not read, whatever the reason, is named in a warning and counted (``unread_files``).
    """
    started = time.monotonic()
    checked = check_event_files(spark, config, warn) if checked is None else checked
    stream = read_event_stream(spark, config).transform(with_event_metadata).transform(event_metrics)
    query = write_available_now(stream, config, names.BRONZE_EVENTS, "bronze_user_events")
    batches = observed_metrics(query, "bronze_events")
    rows = sum(batch["rows"] for batch in batches)
    files = set().union(*(batch["files"] for batch in batches)) if batches else set()
    unread = record_files_read(spark, config, checked, files, rows, warn)
    problems = {key: sum(batch[key] for batch in batches) for key in PROBLEMS}
    if rescued := rescued_warning(batches):
        warn(f"warning: {rescued}")
    return IngestReport(
        table=names.BRONZE_EVENTS.name,
        files=len(files),
        rows=rows,
        problems={**problems, "changed_files": checked.changed, "unread_files": len(unread)},
        seconds=time.monotonic() - started,
    )


def read_event_stream(spark: SparkSession, config: Config) -> DataFrame:
    """The landing events as a stream: Auto Loader on Databricks, the file source locally.

    Both read every file in the folder and its sub-folders except names starting with ``.`` or
    ``_``; a ``.gz`` file is decompressed. Both give EVENT_SCHEMA's columns and ``_rescued_data``.
    """
    landing = config.events_landing
    if on_databricks():
        reader = spark.readStream.format("cloudFiles").options(**auto_loader_options(config))
        return reader.schema(EVENT_SCHEMA).load(str(landing))
    if not landing.is_dir():
        raise ZenithError(f"no event landing folder at {landing}: run 'zenith setup' and 'zenith generate'")
    # Spark's JSON reader has no rescued data column: the records are read as text and parsed as Auto
    # Loader parses them. Auto Loader reads sub-folders by itself; Spark's file source needs to be asked.
    text = spark.readStream.format("text").options(
        recursiveFileLookup="true", maxFileAge=MAX_FILE_AGE, wholetext=str(config.json_array).lower()
    )
    return text.load(str(landing)).transform(parse_json_records(EVENT_COLUMNS, CORRUPT, source_file()))


def auto_loader_options(config: Config) -> dict[str, str]:
    """Auto Loader's options for the event files: JSON, bad records kept, unfitted fields rescued."""
    return {
        "cloudFiles.format": "json",
        "cloudFiles.schemaLocation": str(config.schema_location(names.BRONZE_EVENTS)),
        # A file rewritten or appended under its name is read again, whole, when reingesting.
        "cloudFiles.allowOverwrites": str(config.changed_files == "reingest").lower(),
        "mode": "PERMISSIVE",
        "columnNameOfCorruptRecord": CORRUPT,
        "rescuedDataColumn": RESCUED,
        "multiLine": str(config.json_array).lower(),
    }
