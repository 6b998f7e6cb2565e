"""Silver's quarantine: why a bronze event is not in silver, decided for every row that is not.

Before the watermark sees a row, it is quarantined if it is corrupt, has no id, has no parsable
time, or its time is not believable (more than a day after it was ingested, or older than the
configured horizon): such a time would move the watermark or could not be trusted as data. So is
an event whose type is not one of the known actions: gold counts only those, so it would be lost there.
A trusted row is then quarantined if its product is unknown or it is late (behind the
watermark, and no copy of it is in silver); silver's routing decides those (``transforms.route_events``).
"""

from __future__ import annotations

from collections.abc import Callable

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from zenith.lakehouse.config import CORRUPT, EVENT_TYPES

# Decided per row, before the watermark; then, for trusted rows, by silver's routing.
ROW_REASONS = (
    "corrupt_record",
    "missing_event_id",
    "unparsable_timestamp",
    "future_timestamp",
    "stale_timestamp",
    "unknown_event_type",
)
AFTER_STREAM_REASONS = ("unknown_product", "late")
REASONS = (*ROW_REASONS, *AFTER_STREAM_REASONS)
FUTURE_TOLERANCE_HOURS = 24
QUARANTINE_COLUMNS = (
    "event_id",
    "event_timestamp",
    "event_dt",
    "user_id",
    "event_type",
    "product_id",
    "session_id",
    CORRUPT,
    "source_file",
    "ingestion_timestamp",
    "quarantine_reason",
    "quarantined_at",
    "run_id",
)


def quarantine_reason(max_event_age_days: int) -> Column:
    """Why a bronze event cannot be trusted before the watermark, or NULL if it can."""
    event_dt, ingested = F.col("event_dt"), F.col("ingestion_timestamp")
    too_new = event_dt > ingested + F.make_dt_interval(hours=F.lit(FUTURE_TOLERANCE_HOURS))
    too_old = event_dt < ingested - F.make_dt_interval(days=F.lit(max_event_age_days))
    unknown_type = F.col("event_type").isNull() | ~F.col("event_type").isin(*EVENT_TYPES)
    return (
        F.when(F.col(CORRUPT).isNotNull(), F.lit("corrupt_record"))
        .when(F.col("event_id").isNull(), F.lit("missing_event_id"))
        .when(event_dt.isNull(), F.lit("unparsable_timestamp"))
        .when(too_new, F.lit("future_timestamp"))
        .when(too_old, F.lit("stale_timestamp"))
        .when(unknown_type, F.lit("unknown_event_type"))
    )


def with_quarantine_reason(max_event_age_days: int) -> Callable[[DataFrame], DataFrame]:
    """Bronze events with a ``quarantine_reason`` column (NULL for trusted rows)."""

    def tag(bronze_events: DataFrame) -> DataFrame:
        return bronze_events.withColumn("quarantine_reason", quarantine_reason(max_event_age_days))

    return tag


def for_quarantine(run_id: str) -> Callable[[DataFrame], DataFrame]:
    """Quarantine rows in the table's column order, stamped with the run and the time."""

    def stamp(rows: DataFrame) -> DataFrame:
        stamped = rows.withColumn("quarantined_at", F.current_timestamp()).withColumn("run_id", F.lit(run_id))
        return stamped.select(*QUARANTINE_COLUMNS)

    return stamp
