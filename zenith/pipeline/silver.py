"""Silver: the trusted, deduplicated, enriched activity stream, with every dropped row accounted for.

Bronze events that cannot be trusted (corrupt, no id, no parsable or believable time) are kept
from the watermark and the deduplication. The rest are deduplicated on ``event_id`` within a
3-minute watermark, joined to products (inner, broadcast) and customers (left), and given a region.
Then every bronze row of the run that is not in silver goes to quarantine with its reason
(``zenith.pipeline.quarantine``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from pyspark.sql import DataFrame, SparkSession, Window
from pyspark.sql import functions as F

from zenith.lakehouse import config as names
from zenith.lakehouse.config import Config
from zenith.lakehouse.errors import ZenithError
from zenith.lakehouse.run_metrics import record_metrics
from zenith.lakehouse.streams import (
    observed_metrics,
    require_checkpoint,
    state_operator_metric,
    sum_metrics,
    use_rocksdb_state_store,
    write_available_now,
    write_batches_available_now,
)
from zenith.lakehouse.tables import read_table, table_exists
from zenith.pipeline.quarantine import REASONS, quarantine_batch, trusted_events, with_quarantine_reason
from zenith.pipeline.regions import categorize_region

WATERMARK = "3 minutes"
PRICE_TYPE = "decimal(10,2)"


# --- Transformations --------------------------------------------------------------------------
def dedupe_events(events: DataFrame) -> DataFrame:
    """Drop re-sent events by ``event_id`` alone, within a 3-minute watermark on ``event_dt``.

    A re-send with another timestamp is still a duplicate. Spark keeps an id in state until
    the watermark passes its first time, so state stays bounded. A copy arriving after that is
    dropped as late; the quarantine step then finds its id in silver and counts it a duplicate.
    """
    return events.withWatermark("event_dt", WATERMARK).dropDuplicatesWithinWatermark(["event_id"])


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


def count_conflicts(rows: DataFrame, key: str, values: Sequence[str]) -> int:
    """The number of ``key`` values that appear with more than one set of ``values``."""
    variants = (
        rows.where(F.col(key).isNotNull())
        .groupBy(key)
        .agg(F.count_distinct(F.struct(*values)).alias("variants"))
    )
    return variants.where(F.col("variants") > 1).count()


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


def silver_stream(
    bronze_events: DataFrame, products: DataFrame, customers: DataFrame, max_event_age_days: int
) -> DataFrame:
    """The whole silver transformation of a bronze event stream, with counting points."""
    deduped = (
        bronze_events.transform(count_rows("silver_read"))
        .transform(with_quarantine_reason(max_event_age_days))
        .transform(trusted_events)
        .transform(dedupe_events)
    )
    enriched = deduped.transform(enrich(product_dimension(products), customer_dimension(customers)))
    return enriched.transform(to_silver).transform(count_output)


# --- Run ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SilverReport:
    """What one silver run did; quarantined, duplicates and written add up to ``rows_read``.

    ``late_dropped`` is what Spark's watermark dropped: those rows are in quarantine as ``late``,
    or counted as duplicates when their id is in silver. ``conflicts`` counts, per dimension, the
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


def quarantined_by_run(spark: SparkSession, config: Config, run_id: str, since) -> dict[str, int]:
    """Rows this run put in quarantine, per reason (every reason listed, 0 if none)."""
    quarantine = read_table(spark, config, names.SILVER_QUARANTINE)
    # The time filter lets Delta skip the files of earlier runs.
    mine = quarantine.where((F.col("quarantined_at") >= F.lit(since)) & (F.col("run_id") == run_id))
    counts = dict(mine.groupBy("quarantine_reason").count().collect())
    return {reason: counts.get(reason, 0) for reason in REASONS}


def dimension_conflicts(
    products: DataFrame, customers: DataFrame, log: Callable[[str], None]
) -> dict[str, int]:
    """Count (and report) the product and customer ids whose landed rows disagree."""
    conflicts = {
        "product_id": count_conflicts(products, "product_id", ("product_name", "category", "price")),
        "customer_id": count_conflicts(customers, "customer_id", ("location",)),
    }
    for key, n in conflicts.items():
        if n:
            log(f"silver  warning: {n} {key}(s) have conflicting rows; used the last row of the newest file")
    return conflicts


def run_silver(
    spark: SparkSession, config: Config, run_id: str, log: Callable[[str], None] = print
) -> SilverReport:
    """Stream trusted bronze events into silver, then quarantine every row that did not get there."""
    started = time.monotonic()
    since = spark.range(1).select(F.current_timestamp()).first()[0]
    _require_tables(spark, config)
    for table in (names.SILVER_ACTIVITY, names.SILVER_QUARANTINE):
        require_checkpoint(spark, config, table)
    use_rocksdb_state_store(spark)
    products = read_table(spark, config, names.BRONZE_PRODUCTS)
    customers = read_table(spark, config, names.BRONZE_CUSTOMERS)
    conflicts = dimension_conflicts(products, customers, log)

    events = spark.readStream.table(config.table_name(names.BRONZE_EVENTS))
    query = write_available_now(
        silver_stream(events, products, customers, config.max_event_age_days),
        config,
        names.SILVER_ACTIVITY,
        "silver_sessionized_activity",
        partition_by=("event_date",),  # gold and the quarantine read only the dates they need
    )
    streamed_at = time.monotonic()
    # Second, over the same bronze rows: it must see what the first wrote to silver.
    events = spark.readStream.table(config.table_name(names.BRONZE_EVENTS))
    write_batches_available_now(
        events, config, names.SILVER_QUARANTINE, "silver_quarantine", quarantine_batch(config, run_id)
    )
    read = sum_metrics(observed_metrics(query, "silver_read"), ("rows",))["rows"]
    output = sum_metrics(observed_metrics(query, "silver_output"), ("rows", "no_region"))
    written = output["rows"]
    quarantined = quarantined_by_run(spark, config, run_id, since)
    report = SilverReport(
        rows_read=read,
        quarantined=quarantined,
        duplicates_removed=read - sum(quarantined.values()) - written,
        late_dropped=state_operator_metric(query, "numRowsDroppedByWatermark"),
        rows_written=written,
        no_region=output["no_region"],
        conflicts=conflicts,
        seconds=time.monotonic() - started,
        timings={
            names.SILVER_ACTIVITY.name: streamed_at - started,
            names.SILVER_QUARANTINE.name: time.monotonic() - streamed_at,
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
