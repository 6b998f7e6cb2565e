"""Bronze: land the raw files in Delta tables unchanged, traceable to their file, nothing lost.

Events arrive as a stream (Auto Loader on Databricks, Spark's file source locally); customers
and products are small batch snapshots that overwrite their tables.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from zenith.lakehouse import config as names
from zenith.lakehouse.config import Config, Table, on_databricks
from zenith.lakehouse.errors import ZenithError
from zenith.lakehouse.streams import observed_metrics, require_checkpoint, write_available_now
from zenith.lakehouse.tables import overwrite_table, read_table
from zenith.pipeline.event_files import (
    EventFileCheck,
    check_event_files,
    files_not_ingested,
    holds_records,
    print_warning,
    record_ingested_files,
    unread_files_message,
)
from zenith.pipeline.rescued import RESCUED, parse_json_records, rescued_metrics, rescued_warning
from zenith.pipeline.snapshots import (
    PRODUCT_COLUMNS,
    check_customer_headers,
    check_product_schema,
    landed_snapshot_files,
    unchanged_snapshot_rows,
)

CORRUPT = "_corrupt_record"
EVENT_FIELDS = "event_id STRING, event_timestamp STRING, user_id INT, event_type STRING, product_id INT, session_id STRING"
EVENT_COLUMNS = dict(field.split() for field in EVENT_FIELDS.split(", "))  # name -> SQL type
EVENT_SCHEMA = f"{EVENT_FIELDS}, {CORRUPT} STRING"
CUSTOMER_SCHEMA = f"customer_id INT, signup_date STRING, location STRING, {CORRUPT} STRING"


@dataclass(frozen=True)
class IngestReport:
    """What one bronze load did: files read, rows written, and rows with a problem by kind."""

    table: str
    files: int
    rows: int
    problems: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    unchanged: bool = False

    @property
    def rows_written(self) -> int:
        """Rows this run wrote: none when the landed files were unchanged."""
        return 0 if self.unchanged else self.rows

    def __str__(self) -> str:
        if self.unchanged:
            return f"{self.table}: {self.files} files unchanged since the last load; nothing written"
        issues = ", ".join(f"{k}={v}" for k, v in self.problems.items()) or "none"
        return (
            f"{self.table}: {self.files} files, {self.rows} rows (problems: {issues}) in {self.seconds:.1f}s"
        )


# --- Transformations --------------------------------------------------------------------------
def parse_event_time(raw: Column) -> Column:
    """The event time as a timestamp, or NULL when unparsable (never an ANSI-mode error)."""
    return F.try_to_timestamp(raw)


def source_file() -> Column:
    """The path of the file a row came from."""
    return F.col("_metadata.file_path")


def source_file_columns() -> list[Column]:
    """The file a row came from, with the file's size and modification time when it was read."""
    return [
        source_file().alias("source_file"),
        F.col("_metadata.file_size").alias("source_file_size"),
        F.col("_metadata.file_modification_time").alias("source_file_modified"),
    ]


def with_event_metadata(raw_events: DataFrame) -> DataFrame:
    """Raw events plus ``event_dt``, the source file and the ingestion time; every row kept."""
    return raw_events.select(
        "event_id",
        "event_timestamp",
        parse_event_time(F.col("event_timestamp")).alias("event_dt"),
        "user_id",
        "event_type",
        "product_id",
        "session_id",
        CORRUPT,
        source_file().alias("source_file"),
        F.current_timestamp().alias("ingestion_timestamp"),
        *source_file_columns()[1:],
        RESCUED,
    )


def event_metrics(events: DataFrame) -> DataFrame:
    """Count each micro-batch's rows, files, problem rows and rows with rescued data as observed metrics."""
    is_corrupt = F.col(CORRUPT).isNotNull()
    return events.observe(
        "bronze_events",
        F.count(F.lit(1)).alias("rows"),
        F.collect_set("source_file").alias("files"),
        F.count_if(is_corrupt).alias("corrupt_records"),
        F.count_if(~is_corrupt & F.col("event_dt").isNull()).alias("bad_timestamps"),
        F.count_if(~is_corrupt & F.col("event_id").isNull()).alias("missing_event_ids"),
        *rescued_metrics(F.col(RESCUED), F.col("source_file")),
    )


def with_batch_metadata(raw: DataFrame) -> DataFrame:
    """A batch snapshot plus its source file, the file's time, a row order and the ingestion time.

    ``source_row`` increases with the row's position in its file (Spark reads a file's splits in
    order), so "the last row of the newest file" is a well-defined choice among conflicting rows.
    """
    return raw.select(
        "*",
        *source_file_columns(),
        F.monotonically_increasing_id().alias("source_row"),
        F.current_timestamp().alias("ingestion_timestamp"),
    )


# --- Events stream ----------------------------------------------------------------------------
# Spark's file source skips a new file more than ``maxFileAge`` (default 7 days) older than the newest
# file it has seen, so a backfill copied with its old times (cp -p, rsync -a, tar x) was never read.
# The age also bounds the paths it remembers; every micro-batch lists the whole landing folder anyway,
# so remembering all of them costs about what that listing does. A century reads every file whatever
# its time. Auto Loader's cloudFiles.maxFileAge is unset by default: it skips no file for its age.
MAX_FILE_AGE = "36500d"


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
    # Record the files read, or read by an earlier run killed before it recorded them; with no
    # new file holding a record, there is nothing to record and no commit.
    if any(batch["rows"] for batch in batches) or any(map(holds_records, checked.new)):
        record_ingested_files(spark, config, checked.last_ingested)
    files = set().union(*(batch["files"] for batch in batches)) if batches else set()
    unread = files_not_ingested(spark, config, checked.new, files)
    if unread:
        warn(f"warning: {unread_files_message(unread)}")
    problem_keys = ("corrupt_records", "bad_timestamps", "missing_event_ids", "rescued_records")
    problems = {key: sum(batch[key] for batch in batches) for key in problem_keys}
    if rescued := rescued_warning(batches):
        warn(f"warning: {rescued}")
    return IngestReport(
        table=names.BRONZE_EVENTS.name,
        files=len(files),
        rows=sum(batch["rows"] for batch in batches),
        problems={**problems, "changed_files": checked.changed, "unread_files": len(unread)},
        seconds=time.monotonic() - started,
    )


# --- Customers and products (batch) -------------------------------------------------------------
def _unchanged_report(table: Table, files: list[Path], rows: int, started: float) -> IngestReport:
    return IngestReport(table.name, len(files), rows, {}, time.monotonic() - started, unchanged=True)


def ingest_customers(spark: SparkSession, config: Config) -> IngestReport:
    """Overwrite ``bronze_customer_profiles`` from the landed CSV files.

    Rows whose ``customer_id`` is not an integer are kept with their raw line in
    ``_corrupt_record`` and counted, not silently loaded as NULL keys.
    """
    started = time.monotonic()
    files = landed_snapshot_files(config.customers_landing, "customer")
    check_customer_headers(files)
    if (rows := unchanged_snapshot_rows(spark, config, names.BRONZE_CUSTOMERS, files)) is not None:
        return _unchanged_report(names.BRONZE_CUSTOMERS, files, rows, started)
    raw = (
        spark.read.schema(CUSTOMER_SCHEMA)
        .option("header", "true")
        .option("mode", "PERMISSIVE")
        .option("columnNameOfCorruptRecord", CORRUPT)
        .csv([str(f) for f in files])
    )
    overwrite_table(raw.transform(with_batch_metadata), config, names.BRONZE_CUSTOMERS)
    written = read_table(spark, config, names.BRONZE_CUSTOMERS)
    counts = written.agg(F.count(F.lit(1)).alias("rows"), F.count(CORRUPT).alias("bad")).first()
    return IngestReport(
        names.BRONZE_CUSTOMERS.name,
        len(files),
        counts["rows"],
        {"non_integer_customer_id": counts["bad"]},
        time.monotonic() - started,
    )


def ingest_products(spark: SparkSession, config: Config) -> IngestReport:
    """Overwrite ``bronze_product_details`` from the landed Parquet files."""
    started = time.monotonic()
    files = landed_snapshot_files(config.products_landing, "product")
    check_product_schema(files)
    if (rows := unchanged_snapshot_rows(spark, config, names.BRONZE_PRODUCTS, files)) is not None:
        return _unchanged_report(names.BRONZE_PRODUCTS, files, rows, started)
    raw = spark.read.parquet(*[str(f) for f in files])
    typed = raw.transform(with_batch_metadata).select(
        *[
            F.col(column).cast(bronze_type).alias(column)
            for column, (_, bronze_type) in PRODUCT_COLUMNS.items()
        ],
        "source_file",
        "source_file_size",
        "source_file_modified",
        "source_row",
        "ingestion_timestamp",
    )
    overwrite_table(typed, config, names.BRONZE_PRODUCTS)
    rows = read_table(spark, config, names.BRONZE_PRODUCTS).count()
    return IngestReport(names.BRONZE_PRODUCTS.name, len(files), rows, {}, time.monotonic() - started)


def run_bronze(spark: SparkSession, config: Config, log: Callable[[str], None] = print) -> list[IngestReport]:
    """Load customers, products and new events into bronze; log one line per table.

    Every input is checked before any table is written, so a bad file leaves all of them as they were.
    """
    check_customer_headers(landed_snapshot_files(config.customers_landing, "customer"))
    check_product_schema(landed_snapshot_files(config.products_landing, "product"))
    require_checkpoint(spark, config, names.BRONZE_EVENTS)

    def warn(message: str) -> None:
        log(f"bronze  {message}")

    checked = check_event_files(spark, config, warn)
    reports = [
        ingest_customers(spark, config),
        ingest_products(spark, config),
        ingest_events(spark, config, warn, checked),
    ]
    for report in reports:
        log(f"bronze  {report}")
    return reports
