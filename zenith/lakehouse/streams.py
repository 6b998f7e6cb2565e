"""Running a structured stream to completion and reading back what it did."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from contextlib import suppress

from pyspark.errors import PySparkException
from pyspark.sql import DataFrame, Row, SparkSession
from pyspark.sql.streaming import DataStreamWriter, StreamingQuery

from zenith.lakehouse.config import Config, Table
from zenith.lakehouse.tables import path_option

# A query keeps this many micro-batch progress reports; the run's metrics are read from them.
RECENT_PROGRESS_CONF = "spark.sql.streaming.numRecentProgressUpdates"
RECENT_PROGRESS_KEPT = 10_000
# Keyed state (silver's deduplication) in RocksDB with changelog checkpointing: a run loads only
# the changes since the last snapshot, not every key ever stored (the default HDFS-backed store
# replays its delta files). A checkpoint keeps the provider it was created with.
ROCKSDB_STATE_CONF = {
    "spark.sql.streaming.stateStore.providerClass": (
        "org.apache.spark.sql.execution.streaming.state.RocksDBStateStoreProvider"
    ),
    "spark.sql.streaming.stateStore.rocksdb.changelogCheckpointing.enabled": "true",
}


def use_rocksdb_state_store(spark: SparkSession) -> None:
    """Ask for the RocksDB state store; a platform that fixes these settings keeps its own."""
    for key, value in ROCKSDB_STATE_CONF.items():
        with suppress(PySparkException):
            spark.conf.set(key, value)


def write_available_now(df: DataFrame, config: Config, table: Table, query_name: str) -> StreamingQuery:
    """Append a stream to a Delta table with an ``availableNow`` trigger and wait for it to end.

    The checkpoint lives in the ``_system.checkpoints`` volume, so a re-run processes only what
    arrived since the last one.
    """
    writer = df.writeStream.format("delta").outputMode("append").options(**path_option(config, table))
    return _run(df, writer, config, table, query_name, lambda w: w.toTable(config.table_name(table)))


def run_available_now(
    df: DataFrame,
    config: Config,
    checkpoint_of: Table,
    query_name: str,
    batch_function: Callable[[DataFrame, int], None],
) -> StreamingQuery:
    """Hand each micro-batch of what arrived since the last run to ``batch_function``; wait for the end.

    The checkpoint is the one of ``checkpoint_of``, the table the function writes first.
    """
    writer = df.writeStream.foreachBatch(batch_function)
    return _run(df, writer, config, checkpoint_of, query_name, lambda w: w.start())


def _run(
    df: DataFrame,
    writer: DataStreamWriter,
    config: Config,
    checkpoint_of: Table,
    query_name: str,
    start: Callable[[DataStreamWriter], StreamingQuery],
) -> StreamingQuery:
    """Start ``writer`` with an ``availableNow`` trigger and its checkpoint, and wait for it to end."""
    spark = df.sparkSession
    with suppress(PySparkException):  # a platform that fixes this setting keeps its own value
        spark.conf.set(RECENT_PROGRESS_CONF, str(RECENT_PROGRESS_KEPT))
    kept = recent_progress_kept(spark)
    writer = (
        writer.queryName(query_name)
        .option("checkpointLocation", str(config.checkpoint(checkpoint_of)))
        .trigger(availableNow=True)
    )
    query = start(writer)
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
