"""Gold layer: daily product performance and a per-customer purchase summary, from silver.

A run costs what its new silver rows cost: it recomputes only the ``event_date``s they touch
(late events included) and merges only the customers with new purchases, whose distinct-product
count comes from an HLL sketch kept in ``_system.gold_customer_state``. The transformations are in
``transforms``, one micro-batch's steps in ``batch`` and its writes in ``writes``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from pyspark.sql import SparkSession

from zenith.lakehouse import config as names
from zenith.lakehouse import tables
from zenith.lakehouse.config import Config
from zenith.lakehouse.streams import (
    require_checkpoint,
    ship_by_value,
    txn_app_id,
    write_batches_available_now,
)
from zenith.pipeline.gold import batch, transforms, writes
from zenith.pipeline.gold.transforms import (
    customer_purchase_state,
    customer_purchase_summary,
    daily_product_performance,
    null_region_counts,
    with_batch,
)

GOLD_TABLES = (names.GOLD_PRODUCT_PERFORMANCE, names.GOLD_CUSTOMER_SUMMARY)


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

    @property
    def rows_out(self) -> int:
        """The rows of both gold tables after a run that read new rows; 0 after one that wrote nothing."""
        return self.product_performance_rows + self.customer_summary_rows if self.rows_in else 0

    def metrics(self) -> dict[str, int]:
        """Gold's metrics beyond its rows in and out: none, so an empty dict."""
        return {}


def run_gold(spark: SparkSession, config: Config, log: Callable[[str], object] = print) -> GoldReport:
    """Fold the silver rows that arrived since the last run into both gold tables; returns the report.

    A stream over the silver table (its checkpoint says what gold has seen) hands each batch of new
    rows to ``batch.refresh_gold_batch``; a run with no new silver rows writes nothing.
    """
    started = time.monotonic()
    timings = {}
    # A first batch appends to every gold table: none may have rows without the stream's checkpoint.
    require_checkpoint(spark, config, *writes.WRITTEN.values())
    # The batch function's code travels with it to a Spark Connect server, whose Python may lack zenith.
    ship_by_value(transforms, writes, batch)
    targets = writes.GoldTargets(config, txn_app_id(config, names.GOLD_PRODUCT_PERFORMANCE))
    new_silver = spark.readStream.table(config.table_name(names.SILVER_ACTIVITY))
    query = write_batches_available_now(
        new_silver,
        config,
        names.GOLD_PRODUCT_PERFORMANCE,
        "gold_refresh",
        batch.refresh_gold_batch(targets),
    )
    rows_in = sum(progress.numInputRows for progress in query.recentProgress)
    # The tables a new gold's first batch did not create (it had no rows for them), or all on a run with none.
    create_gold_tables(spark, config)
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
    """Create the gold tables, the customer state and the users without a region, empty, where they do not exist yet; give them their docs.

    A new gold's first batch creates the tables it writes rows to; this makes the others, so that
    readers find every gold table after a run.
    """
    empty = tables.read_table(spark, config, names.SILVER_ACTIVITY).limit(0)
    state = with_batch(empty.transform(customer_purchase_state), 0)
    for table, rows in (
        (names.GOLD_PRODUCT_PERFORMANCE, empty.transform(daily_product_performance())),
        (names.GOLD_CUSTOMER_STATE, state),
        (names.GOLD_CUSTOMER_SUMMARY, empty.transform(customer_purchase_summary)),
        (names.NULL_REGION_USERS, with_batch(empty.transform(null_region_counts), 0)),
    ):
        tables.ensure_table(rows, config, table, writes.PARTITIONED_BY.get(table, ()))
