"""The run-metrics table: one row per (run, layer, metric), so every count a run printed stays queryable."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from pyspark.sql import SparkSession

from zenith.lakehouse import config as names
from zenith.lakehouse.config import Config
from zenith.lakehouse.local_rows import local_rows
from zenith.lakehouse.tables import append_table

SCHEMA = "run_id STRING, recorded_at TIMESTAMP, layer STRING, metric STRING, value BIGINT"
# The rows of this "layer" are the run's own: ``milliseconds`` until its metrics were recorded, and
# ``<layer>_milliseconds`` for each layer it ran.
RUN_LAYER = "run"


def new_run_id() -> str:
    """A fresh identifier for one pipeline run."""
    return uuid.uuid4().hex


def record_metrics(
    spark: SparkSession, config: Config, run_id: str, metrics: dict[str, dict[str, int]]
) -> list[tuple]:
    """Append this run's metrics, by layer then name, to ``_system.run_metrics`` in one commit; returns the rows."""
    now = datetime.now(UTC).replace(tzinfo=None)
    rows = [
        (run_id, now, layer, metric, int(value))
        for layer, values in metrics.items()
        for metric, value in values.items()
    ]
    append_table(local_rows(spark, rows, SCHEMA), config, names.RUN_METRICS)
    return rows
