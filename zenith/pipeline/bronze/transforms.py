"""Bronze's pure parts: the landed files' schemas and the columns bronze adds to every row.

Each transformation takes and returns a DataFrame, reads and writes nothing, so a test can feed it
a hand-made DataFrame.
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from zenith.lakehouse.config import CORRUPT
from zenith.pipeline.bronze.rescued import RESCUED, rescued_metrics

EVENT_FIELDS = "event_id STRING, event_timestamp STRING, user_id INT, event_type STRING, product_id INT, session_id STRING"
EVENT_COLUMNS = dict(field.split() for field in EVENT_FIELDS.split(", "))  # name -> SQL type
EVENT_SCHEMA = f"{EVENT_FIELDS}, {CORRUPT} STRING"
CUSTOMER_SCHEMA = f"customer_id INT, signup_date STRING, location STRING, {CORRUPT} STRING"


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
