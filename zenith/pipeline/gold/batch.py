"""One gold micro-batch: fold a batch of new silver rows into the gold tables.

The touched dates are recomputed from silver (read with data skipping on ``event_date``) and
replace those dates; the touched customers' state rows take the batch's sums, counts and sketches,
and the visible summary takes those state rows as they are; the users without a region add their
counts. The first batch of a new gold (a new lakehouse or a full refresh: the checkpoint check
makes sure its tables are empty then) has nothing to replace or merge with, so it appends. Each
write happens once per batch (``writes``), so a batch replayed after a kill is harmless. A batch of
few rows is folded in with the small-run settings and one shuffle partition (``small_batch_settings``).
"""

from __future__ import annotations

from collections.abc import Callable

from pyspark.sql import DataFrame, Row
from pyspark.sql import functions as F

from zenith.lakehouse import config as names
from zenith.lakehouse import tables
from zenith.lakehouse.runtime import conf_set, small_batch_settings
from zenith.pipeline.gold import writes
from zenith.pipeline.gold.transforms import (
    MONEY,
    PRODUCT_DAY,
    customer_purchase_state,
    daily_product_performance,
    null_region_counts,
    same_customer,
    summary_from_state,
    with_batch,
)
from zenith.pipeline.gold.writes import NULL_REGION_MERGE, STATE_MERGE, SUMMARY_MERGE, GoldTargets

# The silver columns a gold batch reads: the product-day and customer aggregations and the region check.
BATCH_COLUMNS = (*PRODUCT_DAY, "action", "price", "user_id", "region", "event_dt")


def refresh_gold_batch(targets: GoldTargets) -> Callable[[DataFrame, int], None]:
    """The ``foreachBatch`` function that folds one batch of new silver rows into the gold tables."""

    def refresh(new_rows: DataFrame, batch_id: int) -> None:
        # Cached once (the stream's row count stays exact), with only the columns gold reads: a cold
        # run's first batch is all of silver, and the ids and file names are most of its bytes.
        new_rows = new_rows.select(*BATCH_COLUMNS).persist()
        by_date = new_rows.groupBy("event_date").agg(
            F.count_if(F.col("region").isNull()).alias("no_region"), F.count("*").alias("rows")
        )
        days = by_date.collect()  # the dates to recompute, whether any row lacks a region, and how many rows
        # Batch 0 is a new gold: empty tables, nothing to replace or merge with.
        fold = append_first_batch if batch_id == 0 else merge_later_batch
        with conf_set(new_rows.sparkSession, small_batch_settings(sum(day.rows for day in days))):
            fold(new_rows, days, targets, batch_id)
        new_rows.unpersist()

    return refresh


def append_first_batch(new_rows: DataFrame, days: list[Row], targets: GoldTargets, batch_id: int) -> None:
    """Append a new gold's first batch to its empty tables; returns nothing.

    A new gold's first batch reads silver from its start: it holds every row of its dates but those
    a later batch brings, and that batch recomputes those dates from silver.
    """
    if days:
        performance = new_rows.transform(daily_product_performance())
        changes = with_batch(new_rows.transform(customer_purchase_state), batch_id)
        writes.append_once(performance, targets, "performance", batch_id)
        writes.append_once(changes, targets, "state", batch_id)
        writes.append_once(changes.transform(summary_from_state), targets, "summary", batch_id)
    if any(day.no_region for day in days):
        counts = with_batch(new_rows.transform(null_region_counts), batch_id)
        writes.append_once(counts, targets, "null_region", batch_id)


def merge_later_batch(new_rows: DataFrame, days: list[Row], targets: GoldTargets, batch_id: int) -> None:
    """Replace the batch's dates with a recompute from silver and merge its customers in; returns nothing."""
    spark, config = new_rows.sparkSession, targets.config
    dates = [day.event_date for day in days]
    if dates:
        silver = tables.read_table(spark, config, names.SILVER_ACTIVITY)
        performance = silver.where(F.col("event_date").isin(dates)).transform(daily_product_performance())
        changes = with_batch(new_rows.transform(customer_purchase_state), batch_id)
        writes.replace_dates(performance, targets, dates)
        writes.merge(changes, targets, "state", STATE_MERGE, MONEY)
        # The summary shows the merged state of the batch's customers, read after the merge.
        state = tables.read_table(spark, config, names.GOLD_CUSTOMER_STATE)
        keys = changes.select("user_id", "region")
        visible = state.join(keys, on=same_customer(state, keys), how="left_semi")
        writes.merge(visible.transform(summary_from_state), targets, "summary", SUMMARY_MERGE, MONEY)
    if any(day.no_region for day in days):
        counts = with_batch(new_rows.transform(null_region_counts), batch_id)
        writes.merge(counts, targets, "null_region", NULL_REGION_MERGE, MONEY)
