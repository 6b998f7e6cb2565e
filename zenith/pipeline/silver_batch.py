"""One silver micro-batch: route each bronze row once, then write silver, quarantine and the counts.

The batch is read from bronze once and persisted; every output comes from that one copy. Silver's
append routes the rows as it writes them and counts every route on the way (``observe``), so no
pass of its own counts them; the quarantine is then read from the rows classified before the
choice among copies of one id, which it does not need. Each of the three writes is an idempotent
Delta append (``txnAppId`` tied to the stream's checkpoint, ``txnVersion`` the batch id), so a
batch replayed after a kill writes nothing twice, and the replay decides every row as the first
attempt did: it reads the watermark of earlier batches only, and leaves its own rows out of the
duplicate lookup. A replayed batch counts its routes first, as its silver append may be skipped.

``_system.silver_batches`` keeps one row per batch: its counts by route and the newest event time
seen so far, which is where the next batch's watermark comes from.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable

from pyspark.sql import Column, DataFrame, Observation, SparkSession, Window
from pyspark.sql import functions as F

from zenith.lakehouse import config as names
from zenith.lakehouse.config import Config
from zenith.lakehouse.errors import ZenithError
from zenith.lakehouse.tables import append_table, read_table, table_exists
from zenith.pipeline.quarantine import REASONS, for_quarantine

SILVER = "silver"
DUPLICATE = "duplicate"
ROUTES = (*REASONS, DUPLICATE, SILVER)
COUNTS = ("rows_read", *ROUTES, "late_dropped", "no_region")

# route(batch, seen, watermark) -> the batch's rows with ``late``, silver's columns and ``route``: final
# for a row that cannot go to silver, NULL for one that may (``with_route`` then picks among copies).
Router = Callable[[DataFrame, DataFrame, "dt.datetime | None"], DataFrame]


def with_route(classified: DataFrame) -> DataFrame:
    """Every row routed: of the rows that may go to silver, the earliest copy of each id does; the rest are
    duplicates."""
    first = Window.partitionBy("event_id").orderBy(
        F.col("route").isNotNull(), "event_dt", "source_file", "ingestion_timestamp"
    )
    chosen = F.when(F.row_number().over(first) == 1, F.lit(SILVER)).otherwise(F.lit(DUPLICATE))
    return classified.withColumn("route", F.coalesce(F.col("route"), chosen))


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
    """Rows read, rows per route, late rows, silver rows without a region, newest trusted time."""
    goes_to_silver = F.col("route") == SILVER
    return [
        F.count(F.lit(1)).alias("rows_read"),
        *[F.count_if(F.col("route") == route).alias(route) for route in ROUTES],
        F.count_if(F.col("late")).alias("late_dropped"),
        F.count_if(goes_to_silver & F.col("region").isNull()).alias("no_region"),
        F.max(F.when(F.col("quarantine_reason").isNull(), F.col("event_dt"))).alias("max_event_dt"),
    ]


def batch_counts(routed: DataFrame) -> DataFrame:
    """One row of ``count_columns``."""
    return routed.agg(*count_columns())


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


def batch_edges(spark: SparkSession, config: Config, app_id: str, batch: DataFrame, batch_id: int) -> dict:
    """``first_ingested``: the batch's earliest ingestion time (None for an empty batch); ``watermark``:
    the newest trusted event time of this stream's batches before ``batch_id`` (None if none);
    ``recorded``: when this batch's own record was written (None if it was not). One job.
    """
    edges = batch.agg(F.lit("first_ingested").alias("edge"), F.min("ingestion_timestamp").alias("at"))
    if table_exists(spark, config, names.SILVER_BATCHES):
        batches = read_table(spark, config, names.SILVER_BATCHES).where(F.col("app_id") == app_id)
        earlier = batches.where(F.col("batch_id") < batch_id)
        itself = batches.where(F.col("batch_id") == batch_id)
        edges = edges.unionByName(
            earlier.agg(F.lit("watermark").alias("edge"), F.max("max_event_dt").alias("at"))
        ).unionByName(itself.agg(F.lit("recorded").alias("edge"), F.max("committed_at").alias("at")))
    return {"watermark": None, "recorded": None} | dict(edges.collect())


def rewound_checkpoint(config: Config, batch_id: int, recorded: dt.datetime) -> ZenithError:
    """The error for a batch planned anew by a checkpoint that had already committed it."""
    return ZenithError(
        f"silver's checkpoint ({config.checkpoint(names.SILVER_ACTIVITY)}) plans batch {batch_id} anew, but "
        f"that batch was written at {recorded:%Y-%m-%d %H:%M:%S} UTC ({config.table_name(names.SILVER_BATCHES)}): "
        "the checkpoint is an older copy, and Delta would skip this batch's writes with any row it adds; "
        "rebuild with --full-refresh --layers silver,gold (the full_refresh and layers widgets on Databricks)"
    )


def silver_batch(
    config: Config,
    run_id: str,
    app_id: str,
    route: Router,
    replayed: int | None = None,
) -> Callable[[DataFrame, int], None]:
    """The ``foreachBatch`` function of silver's query: route one bronze micro-batch and write it.

    ``replayed`` is the id of the batch a restarted query runs again (planned but not committed in
    its checkpoint), if any. Tables are read by name inside the function, so it also runs in the
    separate Python process Spark Connect gives ``foreachBatch``.
    """
    horizon = dt.timedelta(hours=config.dedupe_horizon_hours)

    def write(batch: DataFrame, batch_id: int) -> None:
        spark = batch.sparkSession
        batch = batch.persist()
        edges = batch_edges(spark, config, app_id, batch, batch_id)
        first_ingested, watermark = edges["first_ingested"], edges["watermark"]
        if edges["recorded"] is not None:  # its last write is done: Delta would skip every write again
            batch.unpersist()
            if batch_id != replayed:  # not a replay, yet written: the checkpoint went back in time
                raise rewound_checkpoint(config, batch_id, edges["recorded"])
            return
        if first_ingested is None:  # an empty batch: nothing to route, nothing to commit
            batch.unpersist()
            return
        seen = spark.createDataFrame([], "event_id STRING, seen_at TIMESTAMP")
        if table_exists(spark, config, names.SILVER_ACTIVITY):
            silver = read_table(spark, config, names.SILVER_ACTIVITY)
            seen = seen_ids(silver, batch, first_ingested - horizon)
        classified = route(batch, seen, watermark)
        txn = (app_id, batch_id)
        counts = write_silver(classified.transform(with_route), config, txn, batch_id == replayed)
        if counts["rows_read"] - counts[SILVER] - counts[DUPLICATE]:
            quarantined = classified.where(F.col("route") != DUPLICATE)  # NULL: may go to silver
            rows = quarantined.withColumn("quarantine_reason", F.col("route")).transform(
                for_quarantine(run_id)
            )
            append_table(rows, config, names.SILVER_QUARANTINE, txn, merge_schema=True)
        if watermark is not None and (counts["max_event_dt"] is None or counts["max_event_dt"] < watermark):
            counts["max_event_dt"] = watermark
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        values = [counts[name] for name in RECORDED]
        record = spark.createDataFrame([(app_id, batch_id, run_id, now, *values)], BATCHES_SCHEMA)
        # merge_schema: a table from before a quarantine reason existed gets its count column
        append_table(record, config, names.SILVER_BATCHES, txn, merge_schema=True)
        batch.unpersist()

    return write


def write_silver(routed: DataFrame, config: Config, txn: tuple[str, int], replay: bool) -> dict:
    """Append the batch's silver rows once and return its counts (``count_columns``), read as they are written.

    A replayed batch counts first: Delta skips an append it already committed, and then reads no row.
    A first attempt appends even when no row goes to silver, and its commit records that it ran.
    """
    if replay:
        counts = batch_counts(routed).first().asDict()
        if counts[SILVER]:
            _append_silver(routed, config, txn)
        return counts
    observation = Observation(f"silver_batch_{uuid.uuid4().hex}")
    _append_silver(routed.observe(observation, *count_columns()), config, txn)
    return dict(observation.get)


def _append_silver(routed: DataFrame, config: Config, txn: tuple[str, int]) -> None:
    """Append the rows routed to silver, in silver's schema, once per batch (``txn``)."""
    rows = routed.where(F.col("route") == SILVER).transform(to_silver)
    append_table(rows, config, names.SILVER_ACTIVITY, txn, merge_schema=True, partition_by=("event_date",))


RECORDED = (*COUNTS, "max_event_dt")  # a batch record's counts, in BATCHES_SCHEMA's order
BATCHES_SCHEMA = (
    "app_id STRING, batch_id BIGINT, run_id STRING, committed_at TIMESTAMP, "
    + ", ".join(f"{name} BIGINT" for name in COUNTS)
    + ", max_event_dt TIMESTAMP"
)


def batch_totals(spark: SparkSession, config: Config, app_id: str, batch_ids: list[int]) -> DataFrame:
    """Rows (``metric``, ``value``): each count of these batches of the stream, summed (NULL if none)."""
    batches = read_table(spark, config, names.SILVER_BATCHES).where(
        (F.col("app_id") == app_id) & F.col("batch_id").isin(batch_ids)
    )
    sums = batches.agg(*[F.sum(name).alias(name) for name in COUNTS])
    return sums.unpivot([], list(COUNTS), "metric", "value")
