"""Gold layer: daily product performance and a per-customer purchase summary, from silver.

Both tables are rebuilt in full from the silver batch on every run (overwrite), so a rerun gives
the same tables and late events already merged into silver are always counted.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from pyspark.sql import Column, DataFrame, SparkSession, Window
from pyspark.sql import functions as F

from zenith.lakehouse import config as names
from zenith.lakehouse import tables
from zenith.lakehouse.config import Config

# Silver prices are DECIMAL(10,2); Spark sums them into DECIMAL(20,2), which keeps the cents exact.
MONEY = "decimal(20,2)"
PRODUCT_DAY = ("event_date", "product_id", "product_name", "category")
SALT_BUCKETS = 5


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


def customer_purchase_summary(silver: DataFrame) -> DataFrame:
    """One row per purchasing customer (and region): value, count, products and last purchase time."""
    return (
        silver.filter(is_purchase())
        .groupBy("user_id", "region")
        .agg(
            F.sum("price").alias("total_purchase_value"),
            F.count("*").alias("total_purchases"),
            F.approx_count_distinct("product_id").alias("distinct_products_purchased"),
            F.max("event_dt").alias("last_purchase_timestamp"),
        )
        .select(
            "user_id",
            "region",
            F.col("total_purchase_value").cast(MONEY),
            F.col("total_purchases").cast("bigint"),
            F.col("distinct_products_purchased").cast("bigint"),
            F.col("last_purchase_timestamp").cast("timestamp"),
        )
        .orderBy(F.col("total_purchase_value").desc(), "user_id")
    )


def count_null_regions(silver: DataFrame) -> int:
    """The number of events whose region is NULL: their customer is unknown or has no location."""
    return silver.filter(F.col("region").isNull()).count()


def null_region_users(silver: DataFrame) -> DataFrame:
    """The users behind the NULL-region events (unknown, or without a location), most events first."""
    return (
        silver.filter(F.col("region").isNull())
        .groupBy("user_id")
        .agg(F.count(F.lit(1)).alias("events"))
        .orderBy(F.col("events").desc(), "user_id")
    )


@dataclass(frozen=True)
class GoldReport:
    """What one gold run read and wrote."""

    rows_in: int
    product_performance_rows: int
    customer_summary_rows: int
    null_region_events: int
    seconds: float

    def __str__(self) -> str:
        return (
            f"gold: {self.rows_in} silver events -> {self.product_performance_rows} product-day rows, "
            f"{self.customer_summary_rows} customers in {self.seconds:.1f}s"
        )


def run_gold(spark: SparkSession, config: Config, log: Callable[[str], object] = print) -> GoldReport:
    """Rebuild both gold tables from the silver table; returns the row counts of the run."""
    started = time.monotonic()
    silver = tables.read_table(spark, config, names.SILVER_ACTIVITY)
    rows_in = silver.count()
    null_regions = count_null_regions(silver)
    log(
        f"gold: data quality: {null_regions} of {rows_in} silver events have no region "
        "(customer unknown or without a location)"
    )

    tables.overwrite_table(
        silver.transform(daily_product_performance()),
        config,
        names.GOLD_PRODUCT_PERFORMANCE,
        partition_by=("event_date",),
    )
    tables.overwrite_table(silver.transform(customer_purchase_summary), config, names.GOLD_CUSTOMER_SUMMARY)

    report = GoldReport(
        rows_in=rows_in,
        product_performance_rows=tables.read_table(spark, config, names.GOLD_PRODUCT_PERFORMANCE).count(),
        customer_summary_rows=tables.read_table(spark, config, names.GOLD_CUSTOMER_SUMMARY).count(),
        null_region_events=null_regions,
        seconds=time.monotonic() - started,
    )
    log(str(report))
    return report
