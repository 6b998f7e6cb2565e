"""One silver micro-batch: route each bronze row once, then write silver, quarantine and the counts.

The batch is read from bronze once and persisted; every output comes from that one copy, and its
lookups (both dimensions and the ids silver has seen) are read once too (``batch_lookups``). Silver's
append routes the rows as it writes them and counts every route on the way (``observe``), so no
pass of its own counts them; the quarantine is then read from the rows classified before the
choice among copies of one id, which it does not need. Each of the three writes is an idempotent
Delta append (``txnAppId`` tied to the stream's checkpoint, ``txnVersion`` the batch id), so a
batch replayed after a kill writes nothing twice, and the replay decides every row as the first
attempt did: it reads the watermark of earlier batches only, and leaves its own rows out of the
duplicate lookup. A replayed batch counts its routes first, as its silver append may be skipped.
A batch of few rows runs with the small-run settings and one shuffle partition (``small_batch_settings``).

``_system.silver_batches`` keeps one row per batch: its counts by route, the newest event time
seen so far, which is where the next batch's watermark comes from, and the newest it wrote to silver.
"""

from __future__ import annotations

import datetime as dt
import sys
import uuid
from collections.abc import Callable

from pyspark.sql import DataFrame, Observation, SparkSession
from pyspark.sql import functions as F

from zenith.lakehouse import config as names
from zenith.lakehouse import history
from zenith.lakehouse.config import Config
from zenith.lakehouse.errors import ZenithError
from zenith.lakehouse.history import recent_commits
from zenith.lakehouse.local_rows import local_rows
from zenith.lakehouse.runtime import conf_set, small_batch_settings
from zenith.lakehouse.streams import ship_by_value
from zenith.lakehouse.tables import append_table, ensure_table, read_table, table_exists
from zenith.pipeline.silver import quarantine, regions, transforms
from zenith.pipeline.silver.quarantine import for_quarantine
from zenith.pipeline.silver.transforms import (
    COUNTS,
    DUPLICATE,
    NEWEST_SILVER,
    SILVER,
    batch_counts,
    classify_events,
    count_columns,
    customer_dimension,
    product_dimension,
    seen_ids,
    to_silver,
    with_route,
)

SILVER_PARTITIONS = ("event_date",)  # silver's layout: a folder per event date
RECORDED = (*COUNTS, "max_event_dt", NEWEST_SILVER)  # a batch record's counts, in BATCHES_SCHEMA's order
BATCHES_SCHEMA = (
    "app_id STRING, batch_id BIGINT, run_id STRING, committed_at TIMESTAMP, "
    + ", ".join(f"{name} BIGINT" for name in COUNTS)
    + f", max_event_dt TIMESTAMP, {NEWEST_SILVER} TIMESTAMP"
)


def silver_batch(
    config: Config, run_id: str, app_id: str, replayed: int | None = None
) -> Callable[[DataFrame, int], None]:
    """The ``foreachBatch`` function of silver's query: route one bronze micro-batch and write it.

    ``replayed`` is the id of the batch a restarted query runs again (planned but not committed in
    its checkpoint), if any. Tables are read by name inside the function, so it also runs in the
    separate Python process Spark Connect gives ``foreachBatch``; the modules it needs travel with
    it (pickled by value), as the server's Python may lack ``zenith``.
    """
    ship_by_value(sys.modules[__name__], transforms, quarantine, regions, history)
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
        with conf_set(spark, small_batch_settings(edges["rows"])):
            lookups = batch_lookups(spark, config, batch, first_ingested - horizon)
            try:
                classified = classify_batch(batch, config, lookups, watermark)
                txn = (app_id, batch_id)
                counts = write_silver(classified.transform(with_route), config, txn, batch_id == replayed)
                if counts["rows_read"] - counts[SILVER] - counts[DUPLICATE]:
                    write_quarantine(classified, config, txn, run_id)
                write_record(spark, config, txn, run_id, counts, watermark)
            finally:
                for frame in (batch, *lookups):
                    frame.unpersist()

    return write


def batch_edges(spark: SparkSession, config: Config, app_id: str, batch: DataFrame, batch_id: int) -> dict:
    """``first_ingested``: the batch's earliest ingestion time (None for an empty batch); ``rows``: its
    row count; ``watermark``: the newest trusted event time of this stream's batches before ``batch_id``
    (None if none); ``recorded``: when this batch's own record was written (None if it was not). One job.
    """
    edges = batch.agg(
        F.lit("first_ingested").alias("edge"),
        F.min("ingestion_timestamp").alias("at"),
        F.count("*").alias("rows"),
    )
    if table_exists(spark, config, names.SILVER_BATCHES):
        batches = read_table(spark, config, names.SILVER_BATCHES).where(F.col("app_id") == app_id)
        earlier = batches.where(F.col("batch_id") < batch_id)
        itself = batches.where(F.col("batch_id") == batch_id)
        others = earlier.agg(F.lit("watermark").alias("edge"), F.max("max_event_dt").alias("at")).unionByName(
            itself.agg(F.lit("recorded").alias("edge"), F.max("committed_at").alias("at"))
        )
        edges = edges.unionByName(others, allowMissingColumns=True)
    found = {row.edge: row for row in edges.collect()}
    at = {edge: row.at for edge, row in found.items()}
    return {"watermark": None, "recorded": None} | at | {"rows": found["first_ingested"].rows}


def rewound_checkpoint(config: Config, batch_id: int, recorded: dt.datetime) -> ZenithError:
    """The error for a batch planned anew by a checkpoint that had already committed it."""
    return ZenithError(
        f"silver's checkpoint ({config.checkpoint(names.SILVER_ACTIVITY)}) plans batch {batch_id} anew, but "
        f"that batch was written at {recorded:%Y-%m-%d %H:%M:%S} UTC ({config.table_name(names.SILVER_BATCHES)}): "
        "the checkpoint is an older copy, and Delta would skip this batch's writes with any row it adds; "
        "rebuild with --full-refresh --layers silver,gold (the full_refresh and layers widgets on Databricks)"
    )


def silver_ids_since(spark: SparkSession, config: Config, batch: DataFrame, since: dt.datetime) -> DataFrame:
    """``seen_ids`` of the batch in silver's newest version since ``since``; none (id, ``seen_at``) before silver exists."""
    newest = recent_commits(spark, config, names.SILVER_ACTIVITY, 1)
    if not newest:
        return local_rows(spark, [], "event_id STRING, seen_at TIMESTAMP")
    return seen_ids(read_table(spark, config, names.SILVER_ACTIVITY, newest[0].version), batch, since)


def batch_lookups(
    spark: SparkSession, config: Config, batch: DataFrame, since: dt.datetime
) -> tuple[DataFrame, DataFrame, DataFrame]:
    """The batch's lookups, persisted: the products, the customers, and the ids silver has seen since ``since``.

    Silver's append and the quarantine's both classify the batch: each lookup is read once for both.
    Silver is read at its newest version by number: Spark drops a cached plan that reads a table's
    current version when it writes that table, as silver's append does, and keeps one of a numbered
    version. The lookups are read through the batch's session (a Connect server gives
    ``foreachBatch`` its own); the dimensions are small and broadcast, the seen ids at most one per
    id of the batch. They are unpersisted after the batch.
    """
    products = product_dimension(read_table(spark, config, names.BRONZE_PRODUCTS))
    customers = customer_dimension(read_table(spark, config, names.BRONZE_CUSTOMERS))
    seen = silver_ids_since(spark, config, batch, since)
    return products.persist(), customers.persist(), seen.persist()


def classify_batch(
    batch: DataFrame,
    config: Config,
    lookups: tuple[DataFrame, DataFrame, DataFrame],
    watermark: dt.datetime | None,
) -> DataFrame:
    """The batch's rows with ``late``, silver's columns and ``route`` (``classify_events`` with ``lookups``)."""
    products, customers, seen = lookups
    max_age, horizon = config.max_event_age_days, config.dedupe_horizon_hours
    return batch.transform(classify_events(products, customers, seen, watermark, max_age, horizon))


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
    """Append the rows routed to silver, in silver's schema, once per batch (``txn``).

    A new silver is created empty first: a write that creates its table does not report the metrics
    observed on its rows, which ``write_silver`` reads.
    """
    rows = routed.where(F.col("route") == SILVER).transform(to_silver)
    if not table_exists(rows.sparkSession, config, names.SILVER_ACTIVITY):
        ensure_table(rows, config, names.SILVER_ACTIVITY, SILVER_PARTITIONS)
    append_table(rows, config, names.SILVER_ACTIVITY, txn, merge_schema=True, partition_by=SILVER_PARTITIONS)


def write_quarantine(classified: DataFrame, config: Config, txn: tuple[str, int], run_id: str) -> None:
    """Append the batch's quarantined rows, each with its route as the reason, once per batch (``txn``)."""
    quarantined = classified.where(F.col("route") != DUPLICATE)  # NULL: may go to silver
    rows = quarantined.withColumn("quarantine_reason", F.col("route")).transform(for_quarantine(run_id))
    append_table(rows, config, names.SILVER_QUARANTINE, txn, merge_schema=True)


def write_record(
    spark: SparkSession,
    config: Config,
    txn: tuple[str, int],
    run_id: str,
    counts: dict,
    watermark: dt.datetime | None,
) -> None:
    """Append the batch's row to ``_system.silver_batches``: its counts, the newest event time so far and
    the newest it wrote to silver."""
    if watermark is not None and (counts["max_event_dt"] is None or counts["max_event_dt"] < watermark):
        counts["max_event_dt"] = watermark
    app_id, batch_id = txn
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    values = [counts[name] for name in RECORDED]
    record = local_rows(spark, [(app_id, batch_id, run_id, now, *values)], BATCHES_SCHEMA)
    # merge_schema: a table from before a quarantine reason existed gets its count column
    append_table(record, config, names.SILVER_BATCHES, txn, merge_schema=True)
