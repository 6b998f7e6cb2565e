"""Running a structured stream to completion and reading back what it did."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from contextlib import suppress

from pyspark.errors import PySparkException
from pyspark.sql import DataFrame, Row, SparkSession
from pyspark.sql.streaming import StreamingQuery

from zenith.lakehouse.config import Config, Table
from zenith.lakehouse.tables import path_option

# A query keeps this many micro-batch progress reports; the run's metrics are read from them.
RECENT_PROGRESS_CONF = "spark.sql.streaming.numRecentProgressUpdates"
RECENT_PROGRESS_KEPT = 10_000


def write_available_now(df: DataFrame, config: Config, table: Table, query_name: str) -> StreamingQuery:
    """Append a stream to a Delta table with an ``availableNow`` trigger and wait for it to end.

    The checkpoint lives in the ``_system.checkpoints`` volume, so a re-run processes only what
    arrived since the last one.
    """
    spark = df.sparkSession
    with suppress(PySparkException):  # a platform that fixes this setting keeps its own value
        spark.conf.set(RECENT_PROGRESS_CONF, str(RECENT_PROGRESS_KEPT))
    kept = recent_progress_kept(spark)
    query = (
        df.writeStream.format("delta")
        .queryName(query_name)
        .outputMode("append")
        .option("checkpointLocation", str(config.checkpoint(table)))
        .options(**path_option(config, table))
        .trigger(availableNow=True)
        .toTable(config.table_name(table))
    )
    query.awaitTermination()
    if kept is not None and len(query.recentProgress) >= kept:
        print(
            f"warning: {query_name} ran {kept}+ micro-batches; its counts cover only the last {kept}",
            file=sys.stderr,
        )
    return query


def recent_progress_kept(spark: SparkSession) -> int | None:
    """How many progress reports a query keeps; None where the platform does not say.

    Serverless answers ``CONFIG_NOT_AVAILABLE`` for settings outside its short list, reads included.
    """
    try:
        return int(spark.conf.get(RECENT_PROGRESS_CONF))
    except (PySparkException, ValueError, TypeError):
        return None


def metrics_dict(metrics: Row) -> dict:
    """One micro-batch's observed metrics by name, whichever shape the session gave them in.

    A classic session gives ``Row(rows=2, ...)``; Spark Connect 4.0 gives
    ``Row(values=[2, ...], schema={"type": "struct", "fields": [{"name": "rows", ...}, ...]})``.
    """
    fields = metrics.asDict()
    schema = fields.get("schema")
    if set(fields) == {"values", "schema"} and isinstance(schema, dict) and "fields" in schema:
        return dict(zip((field["name"] for field in schema["fields"]), fields["values"], strict=True))
    return fields


def observed_metrics(query: StreamingQuery, name: str) -> list[dict]:
    """The ``observe(name, ...)`` metrics of every micro-batch this query ran, as dicts."""
    rows = []
    for progress in query.recentProgress:
        metrics = progress.observedMetrics.get(name) if progress.observedMetrics else None
        if metrics is not None:
            rows.append(metrics_dict(metrics))
    return rows


def sum_metrics(batches: Iterable[dict], keys: Iterable[str]) -> dict[str, int]:
    """Sum numeric metrics over micro-batches (a missing or NULL value counts as 0)."""
    batches = list(batches)
    return {key: sum(int(batch.get(key) or 0) for batch in batches) for key in keys}


def state_operator_metric(query: StreamingQuery, metric: str) -> int:
    """A state-operator metric summed over the query's micro-batches and operators.

    ``numRowsDroppedByWatermark`` is a field of every operator's progress; others, such as the
    deduplication's ``numDroppedDuplicateRows``, are custom metrics.
    """
    total = 0
    for progress in query.recentProgress:
        for operator in progress.stateOperators:
            value = getattr(operator, metric, None)
            total += int(value if value is not None else operator.customMetrics.get(metric, 0))
    return total
