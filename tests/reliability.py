"""Helpers for the reliability tests: run the pipeline on a small lakehouse and read back its state."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from pyspark.sql import functions as F

from zenith.lakehouse import config as names
from zenith.lakehouse.tables import read_table, table_exists
from zenith.pipeline.run import PipelineRun, RunParams
from zenith.pipeline.silver import batch as silver_batch

DAY = dt.date(2026, 3, 1)


def ts(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


def run_pipeline(config, layers=("bronze", "silver", "gold"), **params) -> tuple[PipelineRun, list[str]]:
    """Run ``layers`` once; returns the run and the lines it logged."""
    lines: list[str] = []
    run = PipelineRun.start(RunParams(layers=layers, lakehouse=str(config.lakehouse), **params), lines.append)
    run.bronze(), run.silver(), run.gold()
    return run, lines


def die_before_writing(monkeypatch, doomed) -> None:
    """Make the silver batch's write to ``doomed`` fail, as a kill at that moment would."""
    append = silver_batch.append_table

    def append_or_die(df, config, table, *args, **kwargs):
        if table == doomed:
            raise RuntimeError(f"killed before writing {table.name}")
        return append(df, config, table, *args, **kwargs)

    monkeypatch.setattr(silver_batch, "append_table", append_or_die)


def silver_rows(spark, config) -> list[tuple]:
    """(event_id, event_dt, region, product_id, price) of every silver row, sorted."""
    if not table_exists(spark, config, names.SILVER_ACTIVITY):
        return []
    rows = read_table(spark, config, names.SILVER_ACTIVITY).select(
        "event_id", "event_dt", "region", "product_id", "price"
    )
    return sorted(tuple(r) for r in rows.collect())


def quarantine_rows(spark, config) -> list[tuple]:
    """(quarantine_reason, event_id, event_timestamp) of every quarantined row, sorted."""
    if not table_exists(spark, config, names.SILVER_QUARANTINE):
        return []
    rows = read_table(spark, config, names.SILVER_QUARANTINE).select(
        "quarantine_reason", "event_id", "event_timestamp"
    )
    return sorted((tuple(r) for r in rows.collect()), key=lambda r: tuple(str(v) for v in r))


def gold_rows(spark, config) -> list[tuple]:
    """(event_date, product_id, views, adds, purchases, revenue) of every product-day row, sorted."""
    rows = read_table(spark, config, names.GOLD_PRODUCT_PERFORMANCE).select(
        "event_date", "product_id", "total_views", "total_adds_to_cart", "total_purchases", "total_revenue"
    )
    return sorted(tuple(r) for r in rows.collect())


def run_metrics(spark, config, run: PipelineRun, layer: str = "silver") -> dict[str, int]:
    """The metrics one run recorded for one layer."""
    metrics = read_table(spark, config, names.RUN_METRICS).where(
        (F.col("run_id") == run.run_id) & (F.col("layer") == layer)
    )
    return dict(metrics.select("metric", "value").collect())


def silver_metrics(**counts: int) -> dict[str, int]:
    """A silver run's full metrics (and the run summary's rows in and out): every count not given is 0."""
    keys = (
        "rows_read",
        "quarantined_corrupt_record",
        "quarantined_missing_event_id",
        "quarantined_unparsable_timestamp",
        "quarantined_future_timestamp",
        "quarantined_stale_timestamp",
        "quarantined_unknown_event_type",
        "quarantined_unknown_product",
        "quarantined_late",
        "duplicates_removed",
        "late_dropped",
        "rows_written",
        "conflicting_product_ids",
        "conflicting_customer_ids",
    )
    summary = {"rows_in": counts.get("rows_read", 0), "rows_out": counts.get("rows_written", 0)}
    return {key: counts.get(key, 0) for key in keys} | summary


def views(product_id: int, n: int, day: dt.date = DAY) -> tuple:
    """A gold product-day row of ``n`` views and nothing else."""
    return (day, product_id, n, 0, 0, Decimal("0.00"))


def table_version(spark, config, table) -> int:
    """The table's latest Delta version."""
    return spark.sql(f"DESCRIBE HISTORY {config.table_name(table)} LIMIT 1").first()["version"]
