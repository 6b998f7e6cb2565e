"""Silver: the trusted, deduplicated, enriched activity stream, with every dropped row accounted for.

One streaming query reads the new bronze events once. Each micro-batch is routed row by row
(``route_events``): to quarantine with a reason, to silver, or out as a duplicate of a silver
event; then silver, quarantine and the batch's counts are written (``silver_batch``). Bronze is
read once, and a run with nothing new in bronze starts the query, finds no batch, and commits nothing.
"""

from __future__ import annotations

import datetime as dt
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from pyspark import cloudpickle
from pyspark.sql import Column, DataFrame, SparkSession, Window
from pyspark.sql import functions as F

from zenith.lakehouse import catalog_docs, errors, tables
from zenith.lakehouse import config as names
from zenith.lakehouse.config import Config
from zenith.lakehouse.errors import ZenithError
from zenith.lakehouse.run_metrics import record_metrics
from zenith.lakehouse.stream_backlog import replayed_batch
from zenith.lakehouse.streams import require_checkpoint, txn_app_id, write_batches_available_now
from zenith.lakehouse.tables import read_table, table_exists
from zenith.pipeline import quarantine, regions
from zenith.pipeline import silver_batch as silver_batch_module
from zenith.pipeline.quarantine import REASONS, for_quarantine, with_quarantine_reason
from zenith.pipeline.regions import categorize_region
from zenith.pipeline.silver_batch import (
    COUNTS,
    DUPLICATE,
    SILVER,
    Router,
    batch_totals,
    silver_batch,
    with_route,
)

WATERMARK_MINUTES = 3
# What silver's batch function needs besides this module, shipped by value to a Connect server's Python.
SHIPPED_MODULES = (quarantine, silver_batch_module, regions, tables, catalog_docs, names, errors)
PRICE_TYPE = "decimal(10,2)"
CONFLICT_KEYS = ("product_id", "customer_id")


# --- Transformations --------------------------------------------------------------------------
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


def is_late(newest_event_dt: dt.datetime | None) -> Column:
    """True for an event more than 3 minutes older than ``newest_event_dt`` (never when it is None)."""
    if newest_event_dt is None:
        return F.lit(False)
    return F.col("event_dt") < F.lit(newest_event_dt - dt.timedelta(minutes=WATERMARK_MINUTES))


def is_seen(horizon_hours: int) -> Column:
    """True when silver has a copy of the row's id ingested at most ``horizon_hours`` before it."""
    horizon = F.make_dt_interval(hours=F.lit(horizon_hours))
    return F.col("seen_at").isNotNull() & (F.col("seen_at") >= F.col("ingestion_timestamp") - horizon)


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


def router(config: Config) -> Router:
    """``route(batch, seen, watermark)`` for this configuration: ``classify_events`` with both dimensions.

    The dimensions are read inside the batch, through the batch's session, so the function also
    runs in the Python process Spark Connect gives ``foreachBatch``; they are small, broadcast, and
    read once a batch. The modules it needs travel with it (pickled by value): the server's Python
    may lack ``zenith``.
    """
    for module in (sys.modules[__name__], *SHIPPED_MODULES):
        cloudpickle.register_pickle_by_value(module)
    max_age, horizon = config.max_event_age_days, config.dedupe_horizon_hours

    def route(batch: DataFrame, seen: DataFrame, watermark: dt.datetime | None) -> DataFrame:
        spark = batch.sparkSession
        products = product_dimension(read_table(spark, config, names.BRONZE_PRODUCTS))
        customers = customer_dimension(read_table(spark, config, names.BRONZE_CUSTOMERS))
        return batch.transform(classify_events(products, customers, seen, watermark, max_age, horizon))

    return route


# --- Run ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SilverReport:
    """What one silver run did; quarantined, duplicates and written add up to ``rows_read``.

    ``late_dropped`` counts the rows behind the watermark: they are in quarantine as ``late``, or
    counted as duplicates when their id is in silver. ``conflicts`` counts, per dimension, the
    ids whose rows disagree (the last row of the newest file was used).
    """

    rows_read: int
    quarantined: dict[str, int]
    duplicates_removed: int
    late_dropped: int
    rows_written: int
    no_region: int = 0
    conflicts: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)  # seconds by query

    @property
    def accounted(self) -> int:
        """Every way a row read can leave: quarantined (any reason), a duplicate, or written."""
        return sum(self.quarantined.values()) + self.duplicates_removed + self.rows_written

    def metrics(self) -> dict[str, int]:
        return {
            "rows_read": self.rows_read,
            **{f"quarantined_{reason}": n for reason, n in self.quarantined.items()},
            "duplicates_removed": self.duplicates_removed,
            "late_dropped": self.late_dropped,
            "rows_written": self.rows_written,
            **{f"conflicting_{key}s": n for key, n in self.conflicts.items()},
        }

    def __str__(self) -> str:
        parts = ", ".join(f"{k}={v}" for k, v in self.metrics().items())
        return f"{names.SILVER_ACTIVITY.name}: {parts} in {self.seconds:.1f}s"


def _require_tables(spark: SparkSession, config: Config) -> None:
    for table in (names.BRONZE_EVENTS, names.BRONZE_CUSTOMERS, names.BRONZE_PRODUCTS):
        if not table_exists(spark, config, table):
            raise ZenithError(f"table {config.table_name(table)} does not exist: run the bronze layer first")


def ensure_quarantine(spark: SparkSession, config: Config, run_id: str) -> None:
    """Create the quarantine empty if it does not exist, so that readers find it before its first row."""
    reasons = with_quarantine_reason(config.max_event_age_days)
    empty = read_table(spark, config, names.BRONZE_EVENTS).limit(0).transform(reasons)
    tables.ensure_table(empty.transform(for_quarantine(run_id)), config, names.SILVER_QUARANTINE)


def dimension_conflicts(products: DataFrame, customers: DataFrame) -> DataFrame:
    """Rows (``metric``, ``value``): the product and the customer ids whose landed rows disagree."""
    products = conflicting_keys(products, "product_id", ("product_name", "category", "price"))
    return products.unionByName(conflicting_keys(customers, "customer_id", ("location",)))


def run_silver(
    spark: SparkSession, config: Config, run_id: str, log: Callable[[str], None] = print, record: bool = True
) -> SilverReport:
    """Route the new bronze events to silver or quarantine in one streaming query, and count them.

    Each micro-batch reads bronze once and writes silver, quarantine and its counts, each write
    idempotent, so a batch replayed after a kill changes nothing twice. ``record`` writes the
    report's metrics to ``_system.run_metrics`` (a pipeline run writes every layer's at once).
    """
    started = time.monotonic()
    _require_tables(spark, config)
    require_checkpoint(spark, config, names.SILVER_ACTIVITY, names.SILVER_QUARANTINE)
    ensure_quarantine(spark, config, run_id)
    app_id = txn_app_id(config, names.SILVER_ACTIVITY)
    events = spark.readStream.table(config.table_name(names.BRONZE_EVENTS))
    replayed = replayed_batch(config.checkpoint(names.SILVER_ACTIVITY))
    write_batch = silver_batch(config, run_id, app_id, router(config), replayed)
    query = write_batches_available_now(
        events, config, names.SILVER_ACTIVITY, "silver_sessionized_activity", write_batch
    )
    streamed_at = time.monotonic()
    batch_ids = [progress.batchId for progress in query.recentProgress if progress.numInputRows]
    totals = dict.fromkeys((*COUNTS, *CONFLICT_KEYS), 0)
    if batch_ids:  # the batches' counts and, as they were used, the dimensions' conflicts: one Spark job
        products = read_table(spark, config, names.BRONZE_PRODUCTS)
        customers = read_table(spark, config, names.BRONZE_CUSTOMERS)
        counts = batch_totals(spark, config, app_id, batch_ids).unionByName(
            dimension_conflicts(products, customers)
        )
        totals |= {metric: int(value or 0) for metric, value in counts.collect()}
    conflicts = {key: totals[key] for key in CONFLICT_KEYS}
    for key, n in conflicts.items():
        if n:
            log(f"silver  warning: {n} {key}(s) have conflicting rows; used the last row of the newest file")
    report = SilverReport(
        rows_read=totals["rows_read"],
        quarantined={reason: totals[reason] for reason in REASONS},
        duplicates_removed=totals[DUPLICATE],
        late_dropped=totals["late_dropped"],
        rows_written=totals[SILVER],
        no_region=totals["no_region"],
        conflicts=conflicts,
        seconds=time.monotonic() - started,
        timings={names.SILVER_ACTIVITY.name: streamed_at - started, "report": time.monotonic() - streamed_at},
    )
    if record and report.rows_read:
        record_metrics(spark, config, run_id, {"silver": report.metrics()})
    log(f"silver  {report}")
    log(
        f"silver  data quality: {report.no_region} of {report.rows_written} events written have no region "
        "(customer unknown or without a location)"
    )
    return report
