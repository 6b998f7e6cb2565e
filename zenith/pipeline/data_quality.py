"""The data-quality list: the users whose silver events have no region, kept up to date by gold.

A user's events have no region when the user is not a known customer or has no location. Gold's
batch function adds each batch's counts per user to ``_system.null_region_users`` (at most once a
batch, as the customer state), so the list reads that small table, never all of silver.
"""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

NULL_REGION_MERGE = """
MERGE INTO {target} AS s USING {changes} AS c
ON s.user_id <=> c.user_id
WHEN MATCHED AND s.last_gold_batch < c.last_gold_batch THEN UPDATE SET
  events = s.events + c.events,
  last_gold_batch = c.last_gold_batch
WHEN NOT MATCHED THEN INSERT *
"""


def null_region_counts(silver: DataFrame) -> DataFrame:
    """One row per user with events that have no region: the user and the number of such events."""
    return silver.filter(F.col("region").isNull()).groupBy("user_id").agg(F.count(F.lit(1)).alias("events"))


def with_batch(counts: DataFrame, batch_id: int) -> DataFrame:
    """The counts stamped with the gold batch that adds them: a replayed batch is not added twice."""
    return counts.withColumn("last_gold_batch", F.lit(batch_id).cast("bigint"))


def top_null_region_users(counts: DataFrame) -> DataFrame:
    """Users by their events without a region, most first (``user_id`` breaks ties)."""
    return counts.select("user_id", "events").orderBy(F.col("events").desc(), "user_id")
