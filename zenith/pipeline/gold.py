"""Gold layer: daily product performance and a per-customer purchase summary, from silver.

A run costs what its new silver rows cost: it recomputes only the ``event_date``s they touch
(late events included) and merges only the customers with new purchases, whose distinct-product
count comes from an HLL sketch kept in ``_system.gold_customer_state``.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from pyspark import cloudpickle
from pyspark.sql import Column, DataFrame, SparkSession, Window
from pyspark.sql import functions as F

from zenith.lakehouse import config as names
from zenith.lakehouse import tables
from zenith.lakehouse.config import Config
from zenith.lakehouse.streams import require_checkpoint, txn_app_id, write_batches_available_now
from zenith.pipeline import data_quality, gold_writes
from zenith.pipeline.data_quality import NULL_REGION_MERGE, null_region_counts, with_batch

# Silver prices are DECIMAL(10,2); Spark sums them into DECIMAL(20,2), which keeps the cents exact.
MONEY = "decimal(20,2)"
PRODUCT_DAY = ("event_date", "product_id", "product_name", "category")
SALT_BUCKETS = 5
# log2 of the HLL sketches' bucket count: 2^12 buckets, about 1.6% relative standard error.
HLL_LG_K = 12
GOLD_TABLES = (names.GOLD_PRODUCT_PERFORMANCE, names.GOLD_CUSTOMER_SUMMARY)
# The silver columns a gold batch reads: the product-day and customer aggregations and the region check.
BATCH_COLUMNS = (*PRODUCT_DAY, "action", "price", "user_id", "region", "event_dt")


def is_action(action: str) -> Column:
    """True for events of one action: ``view_product``, ``add_to_cart`` or ``purchase``."""
    return F.col("action") == action


def is_purchase() -> Column:
    """True for purchase events."""
    return is_action("purchase")


def purchase_value() -> Column:
    """The price of a purchase event and 0 for any other, so a sum of it is never NULL."""
    return F.when(is_purchase(), F.col("price")).otherwise(F.lit(0))


def salt(buckets: int, seed: int | None) -> Column:
    """A random integer in ``0 .. buckets-1`` that spreads one hot key over several tasks."""
    return F.floor(F.rand(seed) * buckets).cast("int")


def daily_product_performance(
    salt_buckets: int = SALT_BUCKETS, seed: int | None = None
) -> Callable[[DataFrame], DataFrame]:
    """A transformation: silver events -> one row per product and day, ranked by revenue in its category.

    The aggregation runs in two steps over a temporary ``salt`` column so that a product with
    far more events than the others (a skewed key) is summed by several tasks, then recombined.
    ``salt_buckets`` and ``seed`` change how the work is split, never the result.
    """
    if salt_buckets < 1:
        raise ValueError(f"salt_buckets must be at least 1, got {salt_buckets}")

    def transform(silver: DataFrame) -> DataFrame:
        partial = (
            silver.withColumn("salt", salt(salt_buckets, seed))
            .groupBy(*PRODUCT_DAY, "salt")
            .agg(
                F.count_if(is_action("view_product")).alias("views"),
                F.count_if(is_action("add_to_cart")).alias("adds_to_cart"),
                F.count_if(is_purchase()).alias("purchases"),
                F.sum(purchase_value()).alias("revenue"),
            )
        )
        totals = partial.groupBy(*PRODUCT_DAY).agg(
            F.sum("views").alias("total_views"),
            F.sum("adds_to_cart").alias("total_adds_to_cart"),
            F.sum("purchases").alias("total_purchases"),
            F.sum("revenue").alias("total_revenue"),
        )
        by_revenue = Window.partitionBy("event_date", "category").orderBy(F.col("total_revenue").desc())
        return totals.select(
            *PRODUCT_DAY,
            F.col("total_views").cast("bigint"),
            F.col("total_adds_to_cart").cast("bigint"),
            F.col("total_purchases").cast("bigint"),
            F.col("total_revenue").cast(MONEY),
            F.rank().over(by_revenue).alias("revenue_rank"),
        )

    return transform


def customer_purchase_state(silver: DataFrame) -> DataFrame:
    """One mergeable state row per purchasing customer (and region).

    Sums, counts and maxima add up across batches; ``product_sketch`` is an HLL sketch of the
    products bought, which unions across batches, so an update never rescans a customer's history.
    """
    return (
        silver.filter(is_purchase())
        .groupBy("user_id", "region")
        .agg(
            F.sum("price").cast(MONEY).alias("total_purchase_value"),
            F.count(F.lit(1)).alias("total_purchases"),
            F.hll_sketch_agg("product_id", HLL_LG_K).alias("product_sketch"),
            F.max("event_dt").alias("last_purchase_timestamp"),
        )
    )


def summary_from_state(state: DataFrame) -> DataFrame:
    """The visible customer summary of state rows: the sketch becomes an approximate distinct count."""
    return state.select(
        "user_id",
        "region",
        F.col("total_purchase_value").cast(MONEY),
        F.col("total_purchases").cast("bigint"),
        F.hll_sketch_estimate("product_sketch").cast("bigint").alias("distinct_products_purchased"),
        F.col("last_purchase_timestamp").cast("timestamp"),
    )


def customer_purchase_summary(silver: DataFrame) -> DataFrame:
    """One row per purchasing customer (and region): value, count, products and last purchase time."""
    return silver.transform(customer_purchase_state).transform(summary_from_state)


# --- Incremental refresh ------------------------------------------------------------------------
STATE_MERGE = """
MERGE INTO {target} AS s USING {changes} AS c
ON s.user_id = c.user_id AND s.region <=> c.region
WHEN MATCHED AND s.last_gold_batch < c.last_gold_batch THEN UPDATE SET
  total_purchase_value = CAST(s.total_purchase_value + c.total_purchase_value AS {money}),
  total_purchases = s.total_purchases + c.total_purchases,
  product_sketch = hll_union(s.product_sketch, c.product_sketch),
  last_purchase_timestamp = greatest(s.last_purchase_timestamp, c.last_purchase_timestamp),
  last_gold_batch = c.last_gold_batch
WHEN NOT MATCHED THEN INSERT *
"""
SUMMARY_MERGE = """
MERGE INTO {target} AS s USING {changes} AS c
ON s.user_id = c.user_id AND s.region <=> c.region
WHEN MATCHED THEN UPDATE SET *
WHEN NOT MATCHED THEN INSERT *
"""


def refresh_gold_batch(targets: dict[str, str | None]) -> Callable[[DataFrame, int], None]:
    """The ``foreachBatch`` function that folds one batch of new silver rows into the gold tables.

    The touched dates are recomputed from silver (read with data skipping on ``event_date``) and
    replace those dates; the touched customers' state rows take the batch's sums, counts and sketches,
    and the visible summary takes those state rows as they are; the users without a region add their
    counts. The first batch of a new gold (a new lakehouse or a full refresh: the checkpoint check
    makes sure its tables are empty then) has nothing to replace or merge with, so it appends. Each
    write happens once per batch (``gold_writes``), so a batch replayed after a kill is harmless.
    """

    def refresh(new_rows: DataFrame, batch_id: int) -> None:
        spark = new_rows.sparkSession
        # Cached once (the stream's row count stays exact), with only the columns gold reads: a cold
        # run's first batch is all of silver, and the ids and file names are most of its bytes.
        new_rows = new_rows.select(*BATCH_COLUMNS).persist()
        by_date = new_rows.groupBy("event_date").agg(F.count_if(F.col("region").isNull()).alias("no_region"))
        days = by_date.collect()  # the dates to recompute, and whether any row lacks a region
        dates = [day.event_date for day in days]
        first = batch_id == 0  # a new gold: empty tables, nothing to replace or merge with
        if dates:
            # A new gold's first batch reads silver from its start: it holds every row of its dates
            # but those a later batch brings, and that batch recomputes those dates from silver.
            silver = (
                new_rows
                if first
                else gold_writes.read(spark, targets, "silver").where(F.col("event_date").isin(dates))
            )
            touched = silver.transform(daily_product_performance())
            changes = new_rows.transform(customer_purchase_state).withColumn(
                "last_gold_batch", F.lit(batch_id).cast("bigint")
            )
            if first:
                gold_writes.append_once(touched, targets, "performance", batch_id)
                gold_writes.append_once(changes, targets, "state", batch_id)
                gold_writes.append_once(changes.transform(summary_from_state), targets, "summary", batch_id)
            else:
                gold_writes.replace_dates(touched, targets, dates)
                gold_writes.merge(changes, targets, "state", STATE_MERGE, MONEY)
                state = gold_writes.read(spark, targets, "state")
                keys = changes.select("user_id", "region")
                visible = state.join(keys, on=gold_writes.same_customer(state, keys), how="left_semi")
                gold_writes.merge(
                    visible.transform(summary_from_state), targets, "summary", SUMMARY_MERGE, MONEY
                )
        if any(day.no_region for day in days):
            counts = with_batch(new_rows.transform(null_region_counts), batch_id)
            if first:
                gold_writes.append_once(counts, targets, "null_region", batch_id)
            else:
                gold_writes.merge(counts, targets, "null_region", NULL_REGION_MERGE, MONEY)
        new_rows.unpersist()

    return refresh


@dataclass(frozen=True)
class GoldReport:
    """What one gold run read and wrote."""

    rows_in: int
    product_performance_rows: int
    customer_summary_rows: int
    seconds: float
    timings: dict[str, float] = field(default_factory=dict)  # seconds by table or query

    def __str__(self) -> str:
        if not self.rows_in:
            return f"gold: no new silver events; nothing written ({self.seconds:.1f}s)"
        return (
            f"gold: {self.rows_in} new silver events -> {self.product_performance_rows} product-day rows, "
            f"{self.customer_summary_rows} customers in all, in {self.seconds:.1f}s"
        )


def run_gold(spark: SparkSession, config: Config, log: Callable[[str], object] = print) -> GoldReport:
    """Fold the silver rows that arrived since the last run into both gold tables.

    A stream over the silver table (its checkpoint says what gold has seen) hands each batch of new
    rows to ``refresh_gold_batch``; a run with no new silver rows writes nothing.
    """
    started = time.monotonic()
    timings = {}
    create_gold_tables(spark, config)
    # A first batch appends to every gold table: none may have rows without the stream's checkpoint.
    require_checkpoint(spark, config, *gold_writes.WRITTEN.values())
    for module in (sys.modules[__name__], gold_writes, data_quality):
        cloudpickle.register_pickle_by_value(module)
    targets = gold_writes.gold_targets(config, txn_app_id(config, names.GOLD_PRODUCT_PERFORMANCE))
    new_silver = spark.readStream.table(config.table_name(names.SILVER_ACTIVITY))
    query = write_batches_available_now(
        new_silver,
        config,
        names.GOLD_PRODUCT_PERFORMANCE,
        "gold_refresh",
        refresh_gold_batch(targets),
    )
    rows_in = sum(progress.numInputRows for progress in query.recentProgress)
    timings["refresh"] = time.monotonic() - started
    # The report's table sizes; a run that changed nothing needs none.
    sizes = [tables.read_table(spark, config, t).count() if rows_in else 0 for t in GOLD_TABLES]
    timings["counts"] = time.monotonic() - started - timings["refresh"]
    report = GoldReport(
        rows_in=rows_in,
        product_performance_rows=sizes[0],
        customer_summary_rows=sizes[1],
        seconds=time.monotonic() - started,
        timings=timings,
    )
    log(str(report))
    return report


def create_gold_tables(spark: SparkSession, config: Config) -> None:
    """Create the gold tables, the customer state and the users without a region, empty, where they do not exist yet; give them their docs."""
    empty = tables.read_table(spark, config, names.SILVER_ACTIVITY).limit(0)
    state = empty.transform(customer_purchase_state).withColumn("last_gold_batch", F.lit(0).cast("bigint"))
    for table, rows, partition_by in (
        (names.GOLD_PRODUCT_PERFORMANCE, empty.transform(daily_product_performance()), ("event_date",)),
        (names.GOLD_CUSTOMER_STATE, state, ()),
        (names.GOLD_CUSTOMER_SUMMARY, empty.transform(customer_purchase_summary), ()),
        (names.NULL_REGION_USERS, with_batch(empty.transform(null_region_counts), 0), ()),
    ):
        tables.ensure_table(rows, config, table, partition_by)
