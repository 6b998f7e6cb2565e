"""Silver's pure transformations: the two dimensions, each event's route, silver's schema and the counts.

A bronze event's ``route`` is a quarantine reason, ``silver`` or ``duplicate`` (``route_events``).
Every function here takes and returns DataFrames or Columns; the batch module reads the tables
they are given and writes what they return.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from zenith.pipeline.silver.quarantine import REASONS, with_quarantine_reason
from zenith.pipeline.silver.regions import categorize_region

WATERMARK_MINUTES = 3
PRICE_TYPE = "decimal(10,2)"
SILVER = "silver"
DUPLICATE = "duplicate"
ROUTES = (*REASONS, DUPLICATE, SILVER)
COUNTS = ("rows_read", *ROUTES, "late_dropped", "no_region")
# The newest event time a batch wrote to silver (NULL if it wrote none): the batches' newest is silver's.
NEWEST_SILVER = "newest_silver_dt"


# --- Dimensions ---------------------------------------------------------------------------------
def newest_last(key: str) -> Window:
    """Rows of one key, the row to keep first: newest file, then file name, then last row in the file."""
    return Window.partitionBy(key).orderBy(
        F.col("source_file_modified").desc(), F.col("source_file").desc(), F.col("source_row").desc()
    )


def keep_newest(key: str) -> Callable[[DataFrame], DataFrame]:
    """One row per non-NULL ``key``: the last row of the newest file that has it."""

    def pick(rows: DataFrame) -> DataFrame:
        ranked = rows.where(F.col(key).isNotNull()).withColumn("_rank", F.row_number().over(newest_last(key)))
        return ranked.where(F.col("_rank") == 1).drop("_rank")

    return pick


def conflicting_keys(rows: DataFrame, key: str, values: Sequence[str]) -> DataFrame:
    """One row (``metric``, ``value``): how many ``key`` values appear with more than one set of ``values``."""
    variants = (
        rows.where(F.col(key).isNotNull())
        .groupBy(key)
        .agg(F.count_distinct(F.struct(*values)).alias("variants"))
    )
    return variants.agg(F.lit(key).alias("metric"), F.count_if(F.col("variants") > 1).alias("value"))


def dimension_conflicts(products: DataFrame, customers: DataFrame) -> DataFrame:
    """Rows (``metric``, ``value``): the product and the customer ids whose landed rows disagree."""
    products = conflicting_keys(products, "product_id", ("product_name", "category", "price"))
    return products.unionByName(conflicting_keys(customers, "customer_id", ("location",)))


def product_dimension(products: DataFrame) -> DataFrame:
    """One row per product (the last row of the newest file wins), price as an exact decimal."""
    return products.transform(keep_newest("product_id")).select(
        "product_id", "product_name", "category", F.col("price").cast(PRICE_TYPE).alias("price")
    )


def customer_dimension(customers: DataFrame) -> DataFrame:
    """One row per valid customer id with its region (the last row of the newest file wins).

    Rows that failed to parse have a NULL id; they stay in bronze, counted there. The region
    depends on the customer only, so it is computed here, on the small dimension, rather than on
    every event after the join: the same column for a fraction of the work.
    """
    return customers.transform(keep_newest("customer_id")).select(
        "customer_id", categorize_region(F.col("location")).alias("region")
    )


# --- Routing ------------------------------------------------------------------------------------
def is_late(newest_event_dt: dt.datetime | None) -> Column:
    """True for an event more than 3 minutes older than ``newest_event_dt`` (never when it is None)."""
    if newest_event_dt is None:
        return F.lit(False)
    return F.col("event_dt") < F.lit(newest_event_dt - dt.timedelta(minutes=WATERMARK_MINUTES))


def is_seen(horizon_hours: int) -> Column:
    """True when silver has a copy of the row's id ingested at most ``horizon_hours`` before it."""
    horizon = F.make_dt_interval(hours=F.lit(horizon_hours))
    return F.col("seen_at").isNotNull() & (F.col("seen_at") >= F.col("ingestion_timestamp") - horizon)


def seen_ids(silver: DataFrame, batch: DataFrame, since: dt.datetime) -> DataFrame:
    """Each id of silver events ingested since ``since``, with its newest copy's ingestion time.

    Rows of ``batch``'s own file versions (a file and the time bronze ingested it) are left out:
    they are in silver only if this batch is a replay. ``since`` is a literal, so Delta skips the
    files written before it.
    """
    versions = ["source_file", "ingestion_timestamp"]
    own = batch.select(*versions).distinct()
    recent = silver.where(F.col("ingestion_timestamp") >= F.lit(since)).select("event_id", *versions)
    # Only the batch's ids matter: a small batch is broadcast and filters silver's ids where they are read.
    candidates = recent.join(batch.select("event_id").distinct(), on="event_id", how="left_semi")
    others = candidates.join(F.broadcast(own), on=versions, how="left_anti")
    return others.groupBy("event_id").agg(F.max("ingestion_timestamp").alias("seen_at"))


def route_events(
    products: DataFrame,
    customers: DataFrame,
    seen_ids: DataFrame,
    watermark: dt.datetime | None,
    max_event_age_days: int,
    horizon_hours: int,
) -> Callable[[DataFrame], DataFrame]:
    """A transformation: bronze events -> the same rows with ``route``, ``late`` and silver's columns.

    ``route`` is a quarantine reason, ``silver`` or ``duplicate``. In order: an untrusted row
    (corrupt, no id, no believable time) keeps its reason; a row whose id silver received within
    ``horizon_hours`` before it (``seen_ids``: id, ``seen_at``) is a duplicate, however it is
    dated; an event of an unknown product is ``unknown_product``; one more than 3 minutes older
    than ``watermark`` (the newest event time of earlier batches) is ``late``; of the rest, the
    earliest copy of each id goes to silver and the others are duplicates (``with_route``).
    """
    classify = classify_events(products, customers, seen_ids, watermark, max_event_age_days, horizon_hours)
    return lambda events: events.transform(classify).transform(with_route)


def classify_events(
    products: DataFrame,
    customers: DataFrame,
    seen_ids: DataFrame,
    watermark: dt.datetime | None,
    max_event_age_days: int,
    horizon_hours: int,
) -> Callable[[DataFrame], DataFrame]:
    """``route_events`` up to the choice among copies: ``route`` is NULL for a row that may go to silver.

    Every other row already has its final route, so the quarantine is read from these rows alone.
    """

    def classify(events: DataFrame) -> DataFrame:
        joined = (
            events.transform(with_quarantine_reason(max_event_age_days))
            .join(F.broadcast(products), on="product_id", how="left")
            .join(seen_ids, on="event_id", how="left")
            .join(F.broadcast(customers), on=F.col("user_id") == F.col("customer_id"), how="left")
            .withColumn("_seen", is_seen(horizon_hours))
        )
        trusted = F.col("quarantine_reason").isNull()
        late = trusted & is_late(watermark)
        classified = joined.withColumn("late", late).withColumn(
            "route",
            F.when(~trusted, F.col("quarantine_reason"))
            .when(F.col("_seen"), F.lit(DUPLICATE))
            .when(F.col("product_name").isNull(), F.lit("unknown_product"))
            .when(late, F.lit("late")),
        )
        return classified.drop("_seen", "seen_at", "customer_id")

    return classify


def with_route(classified: DataFrame) -> DataFrame:
    """Every row routed: of the rows that may go to silver, the earliest copy of each id does; the rest are
    duplicates."""
    first = Window.partitionBy("event_id").orderBy(
        F.col("route").isNotNull(), "event_dt", "source_file", "ingestion_timestamp"
    )
    chosen = F.when(F.row_number().over(first) == 1, F.lit(SILVER)).otherwise(F.lit(DUPLICATE))
    return classified.withColumn("route", F.coalesce(F.col("route"), chosen))


# --- Silver's rows and the batch's counts -------------------------------------------------------
def to_silver(routed: DataFrame) -> DataFrame:
    """The silver schema: ``action``, UTC ``event_date``, in a fixed column order."""
    return routed.select(
        "event_id",
        "event_dt",
        F.to_date("event_dt").alias("event_date"),
        F.col("event_type").alias("action"),
        "user_id",
        "session_id",
        "region",
        "product_id",
        "product_name",
        "category",
        "price",
        "source_file",
        "ingestion_timestamp",
    )


def count_columns() -> list[Column]:
    """Rows read, rows per route, late rows, silver rows without a region, newest trusted time, newest silver time."""
    goes_to_silver = F.col("route") == SILVER
    return [
        F.count(F.lit(1)).alias("rows_read"),
        *[F.count_if(F.col("route") == route).alias(route) for route in ROUTES],
        F.count_if(F.col("late")).alias("late_dropped"),
        F.count_if(goes_to_silver & F.col("region").isNull()).alias("no_region"),
        F.max(F.when(F.col("quarantine_reason").isNull(), F.col("event_dt"))).alias("max_event_dt"),
        F.max(F.when(goes_to_silver, F.col("event_dt"))).alias(NEWEST_SILVER),
    ]


def batch_counts(routed: DataFrame) -> DataFrame:
    """One row of ``count_columns``."""
    return routed.agg(*count_columns())
