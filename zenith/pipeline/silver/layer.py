"""Silver: the trusted, deduplicated, enriched activity stream, with every dropped row accounted for.

One streaming query reads the new bronze events once. Each micro-batch is routed row by row
(``transforms.route_events``): to quarantine with a reason, to silver, or out as a duplicate of a
silver event; then silver, quarantine and the batch's counts are written (``batch.silver_batch``).
The run's report sums the batches' counts (``report.silver_report``). Bronze is read once, and a
run with nothing new in bronze starts the query, finds no batch, and commits nothing.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from pyspark.sql import SparkSession

from zenith.lakehouse import config as names
from zenith.lakehouse import tables
from zenith.lakehouse.config import Config
from zenith.lakehouse.errors import ZenithError
from zenith.lakehouse.run_metrics import record_metrics
from zenith.lakehouse.stream_backlog import replayed_batch
from zenith.lakehouse.streams import require_checkpoint, txn_app_id, write_batches_available_now
from zenith.lakehouse.tables import read_table, table_exists
from zenith.pipeline.silver.batch import silver_batch
from zenith.pipeline.silver.quarantine import for_quarantine, with_quarantine_reason
from zenith.pipeline.silver.report import SilverReport, log_report, silver_report

# Reached through this module by tests, as the layer's dimension of customers and their regions.
from zenith.pipeline.silver.transforms import customer_dimension as customer_dimension


def run_silver(
    spark: SparkSession, config: Config, run_id: str, log: Callable[[str], None] = print, record: bool = True
) -> SilverReport:
    """Route the new bronze events to silver or quarantine in one streaming query, and count them.

    Each micro-batch reads bronze once and writes silver, quarantine and its counts, each write
    idempotent, so a batch replayed after a kill changes nothing twice. ``record`` writes the
    report's metrics to ``_system.run_metrics`` (a pipeline run writes every layer's at once).
    """
    started = time.monotonic()
    _require_tables(spark, config)
    require_checkpoint(spark, config, names.SILVER_ACTIVITY, names.SILVER_QUARANTINE)
    app_id = txn_app_id(config, names.SILVER_ACTIVITY)
    events = spark.readStream.table(config.table_name(names.BRONZE_EVENTS))
    replayed = replayed_batch(config.checkpoint(names.SILVER_ACTIVITY))
    write_batch = silver_batch(config, run_id, app_id, replayed)
    query = write_batches_available_now(
        events, config, names.SILVER_ACTIVITY, "silver_sessionized_activity", write_batch
    )
    ensure_quarantine(spark, config, run_id)  # if no batch has quarantined a row yet
    report = silver_report(spark, config, app_id, query, started, log)
    if record and report.rows_read:
        record_metrics(spark, config, run_id, {"silver": report.metrics()})
    log_report(report, log)
    return report


def _require_tables(spark: SparkSession, config: Config) -> None:
    for table in (names.BRONZE_EVENTS, names.BRONZE_CUSTOMERS, names.BRONZE_PRODUCTS):
        if not table_exists(spark, config, table):
            raise ZenithError(f"table {config.table_name(table)} does not exist: run the bronze layer first")


def ensure_quarantine(spark: SparkSession, config: Config, run_id: str) -> None:
    """Create the quarantine empty if it does not exist, so that readers find it before its first row.

    A batch that quarantines rows creates it with them (``tables.append_table``).
    """
    reasons = with_quarantine_reason(config.max_event_age_days)
    empty = read_table(spark, config, names.BRONZE_EVENTS).limit(0).transform(reasons)
    tables.ensure_table(empty.transform(for_quarantine(run_id)), config, names.SILVER_QUARANTINE)
