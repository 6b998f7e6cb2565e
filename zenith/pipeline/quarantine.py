"""Silver's quarantine: why a bronze event is not in silver, decided for every row that is not.

Before the watermark sees a row, it is quarantined if it is corrupt, has no id, has no parsable
time, or its time is not believable (more than a day after it was ingested, or older than the
configured horizon): such a time would move the watermark or could not be trusted as data.

Spark's watermark drops late rows without a trace, and the inner join to products drops events
of an unknown product. So after the silver stream has run, a second stream over the same bronze
rows looks up, for the run's trusted rows, whether their ``event_id`` reached silver: a row whose
id is not there goes to quarantine as ``unknown_product`` or ``late``; a row whose id is there
was written or is a duplicate of a silver event. The lookup reads only the silver files whose
``event_date`` is near the batch's dates (Delta data skipping), so its cost follows the new data.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

from pyspark import cloudpickle
from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from zenith.lakehouse import config as names
from zenith.lakehouse import errors, tables
from zenith.lakehouse.config import Config
from zenith.lakehouse.tables import append_table, read_table, table_exists
from zenith.pipeline.bronze import CORRUPT

# Decided per row, before the watermark; then after the stream, for trusted rows not in silver.
ROW_REASONS = (
    "corrupt_record",
    "missing_event_id",
    "unparsable_timestamp",
    "future_timestamp",
    "stale_timestamp",
)
AFTER_STREAM_REASONS = ("unknown_product", "late")
REASONS = (*ROW_REASONS, *AFTER_STREAM_REASONS)
FUTURE_TOLERANCE_HOURS = 24
# A silver copy of an event is looked for this many days either side of the batch's dates.
LOOKUP_MARGIN_DAYS = 1
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
    return (
        F.when(F.col(CORRUPT).isNotNull(), F.lit("corrupt_record"))
        .when(F.col("event_id").isNull(), F.lit("missing_event_id"))
        .when(event_dt.isNull(), F.lit("unparsable_timestamp"))
        .when(too_new, F.lit("future_timestamp"))
        .when(too_old, F.lit("stale_timestamp"))
    )


def with_quarantine_reason(max_event_age_days: int) -> Callable[[DataFrame], DataFrame]:
    """Bronze events with a ``quarantine_reason`` column (NULL for trusted rows)."""

    def tag(bronze_events: DataFrame) -> DataFrame:
        return bronze_events.withColumn("quarantine_reason", quarantine_reason(max_event_age_days))

    return tag


def trusted_events(events: DataFrame) -> DataFrame:
    """The rows with an id, a believable time and no parse error."""
    return events.where(F.col("quarantine_reason").isNull()).drop("quarantine_reason", CORRUPT)


def not_in_silver(silver_ids: DataFrame, product_ids: DataFrame) -> Callable[[DataFrame], DataFrame]:
    """Trusted rows whose ``event_id`` is not in ``silver_ids``, with why: unknown product, or late.

    A row with a known product that did not reach silver, and whose id no silver event has, was
    dropped by the watermark. A late copy of an event that is in silver is a duplicate, not lost.
    """

    def explain(trusted: DataFrame) -> DataFrame:
        known = product_ids.select("product_id", F.lit(True).alias("_known"))
        missing = trusted.join(silver_ids, on="event_id", how="left_anti")
        reason = F.when(F.col("_known").isNull(), "unknown_product").otherwise("late")
        return (
            missing.join(F.broadcast(known), on="product_id", how="left")
            .withColumn("quarantine_reason", reason)
            .drop("_known")
        )

    return explain


def silver_ids_near(silver: DataFrame, first_day, last_day) -> DataFrame:
    """The distinct event ids of silver events dated within the margin around two dates."""
    low = F.date_sub(F.lit(first_day), LOOKUP_MARGIN_DAYS)
    high = F.date_add(F.lit(last_day), LOOKUP_MARGIN_DAYS)
    return silver.where(F.col("event_date").between(low, high)).select("event_id").distinct()


def for_quarantine(run_id: str) -> Callable[[DataFrame], DataFrame]:
    """Quarantine rows in the table's column order, stamped with the run and the time."""

    def stamp(rows: DataFrame) -> DataFrame:
        stamped = rows.withColumn("quarantined_at", F.current_timestamp()).withColumn("run_id", F.lit(run_id))
        return stamped.select(*QUARANTINE_COLUMNS)

    return stamp


def quarantine_batch(config: Config, run_id: str) -> Callable[[DataFrame, int], None]:
    """The ``foreachBatch`` function that writes one micro-batch of bronze rows' quarantine rows.

    The append carries the query's id and the batch id as a Delta transaction, so a batch that
    is replayed after a kill is not written twice. Tables are read inside the function, by name,
    so that it also runs in the separate process Spark Connect gives ``foreachBatch``.
    """
    # On Spark Connect the function runs in the server's Python workers, which may not have the
    # zenith package: send the modules it uses by value, as silver does for its Pandas UDF.
    for module in (__name__, tables.__name__, names.__name__, errors.__name__):
        cloudpickle.register_pickle_by_value(sys.modules[module])
    max_age = config.max_event_age_days

    def write(batch: DataFrame, batch_id: int) -> None:
        tagged = batch.transform(with_quarantine_reason(max_age))
        untrusted = tagged.where(F.col("quarantine_reason").isNotNull())
        trusted = tagged.where(F.col("quarantine_reason").isNull())
        days = trusted.agg(
            F.min(F.to_date("event_dt")).alias("low"), F.max(F.to_date("event_dt")).alias("high")
        )
        window = days.first()
        if window["low"] is not None:
            spark = batch.sparkSession
            silver_ids = spark.createDataFrame([], "event_id STRING")
            if table_exists(spark, config, names.SILVER_ACTIVITY):
                silver_ids = silver_ids_near(read_table(spark, config, names.SILVER_ACTIVITY), *window)
            products = read_table(spark, config, names.BRONZE_PRODUCTS).where(F.col("product_id").isNotNull())
            explained = trusted.transform(not_in_silver(silver_ids, products.select("product_id").distinct()))
            untrusted = untrusted.unionByName(explained)
        txn = (f"zenith-{names.SILVER_QUARANTINE.name}", batch_id)
        append_table(
            untrusted.transform(for_quarantine(run_id)),
            config,
            names.SILVER_QUARANTINE,
            txn,
            merge_schema=True,
        )

    return write
