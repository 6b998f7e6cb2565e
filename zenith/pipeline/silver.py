"""Silver: the trusted, deduplicated, enriched activity stream, with every dropped row accounted for.

Bronze events that cannot be trusted (corrupt, no id, no parsable time) go to a quarantine table
before they can reach the watermark or the deduplication. The rest are deduplicated within a
3-minute watermark, joined to products (inner, broadcast) and customers (left), and given a region.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import pandas as pd
from pyspark import cloudpickle
from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T
from pyspark.sql.functions import pandas_udf

from zenith.lakehouse import config as names
from zenith.lakehouse.config import Config
from zenith.lakehouse.errors import ZenithError
from zenith.lakehouse.run_metrics import record_metrics
from zenith.lakehouse.streams import (
    observed_metrics,
    state_operator_metric,
    sum_metrics,
    use_rocksdb_state_store,
    write_available_now,
)
from zenith.lakehouse.tables import read_table, table_exists
from zenith.pipeline.bronze import CORRUPT

WATERMARK = "3 minutes"
PRICE_TYPE = "decimal(10,2)"
# Lower-cased locations on the coasts; every other known (non-blank) location is Central.
COASTAL_REGIONS = {
    "new york": "East Coast",
    "philadelphia": "East Coast",
    "los angeles": "West Coast",
    "san diego": "West Coast",
}
INLAND_REGION = "Central"
QUARANTINE_REASONS = ("corrupt_record", "missing_event_id", "unparsable_timestamp")


def regions_of(locations: pd.Series) -> pd.Series:
    """The region of each location: East Coast, West Coast or Central; None for a NULL or blank one.

    Case and surrounding spaces are ignored. A NULL region therefore means exactly an unknown
    customer or one without a location, which is what the gold data-quality count reports.
    """
    keys = locations.astype("string").str.strip().str.lower()
    regions = keys.map(COASTAL_REGIONS).fillna(INLAND_REGION).astype(object)
    return regions.where(keys.notna() & (keys != ""), None)


def categorize_region(location: str | Column) -> Column:
    """The region of each location as a Column: ``regions_of`` run as a Pandas UDF.

    The UDF is made here, on use, rather than at import: only then does a session exist, and
    it must be a UDF of that session's kind (classic or Spark Connect). This module is pickled
    by value, so the UDF carries ``regions_of`` and the regions with it and the server's Python
    workers run it without the ``zenith`` package installed.
    """
    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    return pandas_udf(regions_of, T.StringType())(location)


# --- Transformations --------------------------------------------------------------------------
def quarantine_reason() -> Column:
    """Why a bronze event cannot be trusted, or NULL if it can."""
    return (
        F.when(F.col(CORRUPT).isNotNull(), F.lit("corrupt_record"))
        .when(F.col("event_id").isNull(), F.lit("missing_event_id"))
        .when(F.col("event_dt").isNull(), F.lit("unparsable_timestamp"))
    )


def with_quarantine_reason(bronze_events: DataFrame) -> DataFrame:
    """Bronze events with a ``quarantine_reason`` column (NULL for trusted rows)."""
    return bronze_events.withColumn("quarantine_reason", quarantine_reason())


def count_input(events: DataFrame) -> DataFrame:
    """Observe rows read and rows quarantined per reason in each micro-batch."""
    reason = F.col("quarantine_reason")
    return events.observe(
        "silver_input",
        F.count(F.lit(1)).alias("rows_read"),
        *[F.count_if(reason == r).alias(r) for r in QUARANTINE_REASONS],
    )


def quarantined_events(events: DataFrame) -> DataFrame:
    """The untrusted rows, with their reason and when they were quarantined."""
    return events.where(F.col("quarantine_reason").isNotNull()).withColumn(
        "quarantined_at", F.current_timestamp()
    )


def trusted_events(events: DataFrame) -> DataFrame:
    """The rows with an id, a parsable time and no parse error."""
    return events.where(F.col("quarantine_reason").isNull()).drop("quarantine_reason", CORRUPT)


def dedupe_events(events: DataFrame) -> DataFrame:
    """Drop re-delivered events within a 3-minute watermark on ``event_dt``.

    Keying on ``event_id`` and ``event_dt`` (a re-delivery carries the same time) lets Spark evict
    a key's state once the watermark passes its time, so state stays bounded; ``event_id`` alone
    would be kept for ever. A copy arriving after the watermark has passed is dropped as late
    and counted by the operator, so no duplicate gets through either way.
    """
    return events.withWatermark("event_dt", WATERMARK).dropDuplicates(["event_id", "event_dt"])


def product_dimension(products: DataFrame) -> DataFrame:
    """One row per product, price as an exact decimal."""
    return (
        products.where(F.col("product_id").isNotNull())
        .dropDuplicates(["product_id"])
        .select("product_id", "product_name", "category", F.col("price").cast(PRICE_TYPE).alias("price"))
    )


def customer_dimension(customers: DataFrame) -> DataFrame:
    """One row per valid customer id with its region (rows that failed to parse stay in bronze).

    The region depends on the customer only, so it is computed here, on the small dimension,
    rather than on every event after the join: the same column for a fraction of the work.
    """
    return (
        customers.where(F.col("customer_id").isNotNull())
        .dropDuplicates(["customer_id"])
        .select("customer_id", categorize_region(F.col("location")).alias("region"))
    )


def enrich(products: DataFrame, customers: DataFrame) -> Callable[[DataFrame], DataFrame]:
    """Join events to products (inner) and customers (left), both broadcast: they are small."""

    def join(events: DataFrame) -> DataFrame:
        with_products = events.join(F.broadcast(products), on="product_id", how="inner")
        on_customer = F.col("user_id") == F.col("customer_id")
        return with_products.join(F.broadcast(customers), on=on_customer, how="left")

    return join


def to_silver(enriched: DataFrame) -> DataFrame:
    """The silver schema: ``action``, UTC ``event_date``, in a fixed column order."""
    return enriched.select(
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


def count_rows(name: str) -> Callable[[DataFrame], DataFrame]:
    """Observe the number of rows passing this point of the stream under ``name``."""

    def observe(df: DataFrame) -> DataFrame:
        return df.observe(name, F.count(F.lit(1)).alias("rows"))

    return observe


def count_output(silver: DataFrame) -> DataFrame:
    """Observe the rows written, and how many of them have no region (for the data-quality line)."""
    return silver.observe(
        "silver_output",
        F.count(F.lit(1)).alias("rows"),
        F.count_if(F.col("region").isNull()).alias("no_region"),
    )


def silver_stream(bronze_events: DataFrame, products: DataFrame, customers: DataFrame) -> DataFrame:
    """The whole silver transformation of a bronze event stream, with counting points."""
    deduped = (
        bronze_events.transform(with_quarantine_reason)
        .transform(count_input)
        .transform(trusted_events)
        .transform(dedupe_events)
        .transform(count_rows("silver_deduped"))
    )
    enriched = deduped.transform(enrich(product_dimension(products), customer_dimension(customers)))
    return enriched.transform(to_silver).transform(count_output)


# --- Run ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SilverReport:
    """What one silver run did; the counts add up to ``rows_read``."""

    rows_read: int
    quarantined: dict[str, int]
    duplicates_removed: int
    late_dropped: int
    unknown_product_dropped: int
    rows_written: int
    no_region: int = 0
    seconds: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)  # seconds by query

    @property
    def accounted(self) -> int:
        """Every way a row read can leave: quarantined, deduplicated, late, unknown product, written."""
        return (
            sum(self.quarantined.values())
            + self.duplicates_removed
            + self.late_dropped
            + self.unknown_product_dropped
            + self.rows_written
        )

    def metrics(self) -> dict[str, int]:
        return {
            "rows_read": self.rows_read,
            **{f"quarantined_{reason}": n for reason, n in self.quarantined.items()},
            "duplicates_removed": self.duplicates_removed,
            "late_dropped": self.late_dropped,
            "unknown_product_dropped": self.unknown_product_dropped,
            "rows_written": self.rows_written,
            "rows_without_region": self.no_region,
        }

    def __str__(self) -> str:
        parts = ", ".join(f"{k}={v}" for k, v in self.metrics().items())
        return f"{names.SILVER_ACTIVITY.name}: {parts} in {self.seconds:.1f}s"


def _require_tables(spark: SparkSession, config: Config) -> None:
    for table in (names.BRONZE_EVENTS, names.BRONZE_CUSTOMERS, names.BRONZE_PRODUCTS):
        if not table_exists(spark, config, table):
            raise ZenithError(f"table {config.table_name(table)} does not exist: run the bronze layer first")


def run_silver(
    spark: SparkSession, config: Config, run_id: str, log: Callable[[str], None] = print
) -> SilverReport:
    """Quarantine untrusted bronze events, then stream the rest into silver; record the accounting."""
    started = time.monotonic()
    _require_tables(spark, config)
    use_rocksdb_state_store(spark)
    events = spark.readStream.table(config.table_name(names.BRONZE_EVENTS))
    quarantine = events.transform(with_quarantine_reason).transform(quarantined_events)
    write_available_now(quarantine, config, names.SILVER_QUARANTINE, "silver_quarantine")
    quarantined_at = time.monotonic()

    products = read_table(spark, config, names.BRONZE_PRODUCTS)
    customers = read_table(spark, config, names.BRONZE_CUSTOMERS)
    query = write_available_now(
        silver_stream(events, products, customers),
        config,
        names.SILVER_ACTIVITY,
        "silver_sessionized_activity",
    )
    read = sum_metrics(observed_metrics(query, "silver_input"), ("rows_read", *QUARANTINE_REASONS))
    deduped = sum_metrics(observed_metrics(query, "silver_deduped"), ("rows",))["rows"]
    output = sum_metrics(observed_metrics(query, "silver_output"), ("rows", "no_region"))
    written = output["rows"]
    report = SilverReport(
        rows_read=read["rows_read"],
        quarantined={reason: read[reason] for reason in QUARANTINE_REASONS},
        duplicates_removed=state_operator_metric(query, "numDroppedDuplicateRows"),
        late_dropped=state_operator_metric(query, "numRowsDroppedByWatermark"),
        # The inner join to products is the only step between these two counts.
        unknown_product_dropped=deduped - written,
        rows_written=written,
        no_region=output["no_region"],
        seconds=time.monotonic() - started,
        timings={
            names.SILVER_QUARANTINE.name: quarantined_at - started,
            names.SILVER_ACTIVITY.name: time.monotonic() - quarantined_at,
        },
    )
    if report.rows_read:
        record_metrics(spark, config, run_id, "silver", report.metrics())
    log(f"silver  {report}")
    log(
        f"silver  data quality: {report.no_region} of {report.rows_written} events written have no region "
        "(customer unknown or without a location)"
    )
    return report
