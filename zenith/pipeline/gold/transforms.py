"""Gold's pure transformations: silver rows in, gold rows out, no table read or written.

The product-day performance, the customers' mergeable purchase state and the summary shown from it,
and the counts of the users whose events have no region.
"""

from __future__ import annotations

from collections.abc import Callable

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

# Silver prices are DECIMAL(10,2); Spark sums them into DECIMAL(20,2), which keeps the cents exact.
MONEY = "decimal(20,2)"
PRODUCT_DAY = ("event_date", "product_id", "product_name", "category")
SALT_BUCKETS = 5
# log2 of the HLL sketches' bucket count: 2^12 buckets, about 1.6% relative standard error.
HLL_LG_K = 12


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


def same_customer(left: DataFrame, right: DataFrame) -> Column:
    """Same user and same region, where a NULL region equals a NULL region."""
    return (left["user_id"] == right["user_id"]) & left["region"].eqNullSafe(right["region"])


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


def null_region_counts(silver: DataFrame) -> DataFrame:
    """One row per user with events that have no region: the user and the number of such events."""
    return silver.filter(F.col("region").isNull()).groupBy("user_id").agg(F.count(F.lit(1)).alias("events"))


def with_batch(rows: DataFrame, batch_id: int) -> DataFrame:
    """The rows stamped with the gold batch that adds them (``last_gold_batch``): a replayed batch is not added twice."""
    return rows.withColumn("last_gold_batch", F.lit(batch_id).cast("bigint"))
