"""Running a structured stream to completion and reading back what it did."""

from __future__ import annotations

import sys
import time
import uuid
from collections.abc import Callable, Sequence
from contextlib import suppress
from types import ModuleType

from pyspark import cloudpickle
from pyspark.errors import PySparkException
from pyspark.sql import DataFrame, Row, SparkSession
from pyspark.sql.streaming import DataStreamWriter, StreamingQuery

from zenith.lakehouse import catalog_docs, config, errors, local_rows, runtime, table_docs, tables
from zenith.lakehouse.config import LAYER_OF_SCHEMA, LAYERS, Config, Table
from zenith.lakehouse.errors import ZenithError, batch_errors, storage_errors
from zenith.lakehouse.table_docs import with_comments
from zenith.lakehouse.tables import (
    created_empty,
    ensure_table,
    path_option,
    read_table,
    table_exists,
)

# A query keeps this many micro-batch progress reports; the run's metrics are read from them.
RECENT_PROGRESS_CONF = "spark.sql.streaming.numRecentProgressUpdates"
RECENT_PROGRESS_KEPT = 10_000
# A query that runs longer than this prints a progress line, then one this often until it ends.
PROGRESS_SECONDS = 10.0


def has_checkpoint(config: Config, table: Table) -> bool:
    """True if the stream that writes ``table`` has committed offsets in its checkpoint."""
    offsets = config.checkpoint(table) / "offsets"
    return offsets.is_dir() and any(not p.name.startswith(".") for p in offsets.iterdir())


def require_checkpoint(spark: SparkSession, config: Config, table: Table, *also: Table) -> None:
    """Fail in one line if a table (or another the same stream writes) has rows but the checkpoint is gone.

    Without its checkpoint a stream starts from the beginning and would append its whole
    source to the table a second time.
    """
    if has_checkpoint(config, table):
        return
    written = [t for t in (table, *also) if table_exists(spark, config, t) and not created_empty(config, t)]
    if any(read_table(spark, config, t).take(1) for t in written):
        layer = LAYER_OF_SCHEMA[table.schema]
        rebuild = ",".join(LAYERS[LAYERS.index(layer) : LAYERS.index("gold") + 1])
        raise ZenithError(
            f"the checkpoint of {config.table_name(table)} ({config.checkpoint(table)}) is missing but the "
            f"table has rows, so a run would read its whole source again: rebuild with --full-refresh "
            f"--layers {rebuild} (the full_refresh and layers widgets on Databricks)"
        )


TXN_APP_ID_FILE = "zenith_txn_app_id"


def txn_app_id(config: Config, table: Table) -> str:
    """The Delta ``txnAppId`` of the stream that writes ``table``: one per checkpoint.

    Kept in a file inside the checkpoint folder, so a lost or deleted checkpoint takes its id with
    it and the restarted stream (whose batch ids start again at 0) gets a new one: Delta never
    skips its batches as ones it already committed.
    """
    path = config.checkpoint(table) / TXN_APP_ID_FILE
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"zenith-{table.name}-{uuid.uuid4().hex}\n")
    return path.read_text().strip()


def _start(writer: DataStreamWriter, spark: SparkSession, config: Config, table: Table, query_name: str):
    """Set the progress history, check the checkpoint, and start a ``writer``'s availableNow run."""
    with suppress(PySparkException):  # a platform that fixes this setting keeps its own value
        spark.conf.set(RECENT_PROGRESS_CONF, str(RECENT_PROGRESS_KEPT))
    require_checkpoint(spark, config, table)
    return (
        writer.queryName(query_name)
        .option("checkpointLocation", str(config.checkpoint(table)))
        .trigger(availableNow=True)
    )


def write_available_now(
    df: DataFrame, config: Config, table: Table, query_name: str, partition_by: Sequence[str] = ()
) -> StreamingQuery:
    """Append a stream to a Delta table with an ``availableNow`` trigger and wait for it to end.

    The checkpoint lives in the ``_system.checkpoints`` volume, so a re-run processes only what
    arrived since the last one. New columns are added to the table's schema, with their comments: the
    docs an existing table gets before the stream starts reach only the columns it has then.
    ``partition_by`` lays out a table the stream creates; an existing table keeps the layout it was
    created with.
    """
    spark = df.sparkSession
    # Created (empty, with its docs) before the stream writes; toTable would not create a table over the
    # files a run killed during the first commit leaves (DELTA_CREATE_TABLE_WITH_NON_EMPTY_LOCATION).
    ensure_table(df, config, table, partition_by)  # the schema only: no row of the stream is read
    writer = (
        with_comments(df, table)
        .writeStream.format("delta")
        .outputMode("append")
        .option("mergeSchema", "true")
    )
    writer = _start(writer, spark, config, table, query_name).options(**path_option(config, table))
    query = writer.toTable(config.table_name(table))
    return _finish(query, spark, query_name, config, table)


def ship_by_value(*modules: ModuleType) -> None:
    """Pickle ``modules``, and the lakehouse modules a batch function reads and writes with, by value.

    Spark Connect runs a ``foreachBatch`` function in the server's own Python, which may lack the
    ``zenith`` package: the code a batch function calls must travel with it. Classic sessions call
    the function in this process, where this changes nothing.
    """
    for module in (*modules, tables, table_docs, catalog_docs, config, errors, local_rows, runtime):
        cloudpickle.register_pickle_by_value(module)


def write_batches_available_now(
    df: DataFrame,
    config: Config,
    table: Table,
    query_name: str,
    write_batch: Callable[[DataFrame, int], None],
) -> StreamingQuery:
    """Run ``write_batch(batch, batch_id)`` on each micro-batch of a stream that writes ``table``."""
    spark = df.sparkSession
    query = _start(df.writeStream.foreachBatch(write_batch), spark, config, table, query_name).start()
    return _finish(query, spark, query_name, config, table)


def _finish(
    query: StreamingQuery, spark: SparkSession, query_name: str, config: Config, table: Table
) -> StreamingQuery:
    """Wait for an availableNow run to end, with progress lines if it is long; warn if its history overflowed.

    A storage failure inside the stream becomes one line naming the table, the path and the cause.
    """
    kept = recent_progress_kept(spark)
    with storage_errors(config.table_name(table)), batch_errors():
        await_with_progress(query, f"{LAYER_OF_SCHEMA.get(table.schema, ''):<7} {query_name}")
    if kept is not None and len(query.recentProgress) >= kept:
        print(
            f"warning: {query_name} ran {kept}+ micro-batches; its counts cover only the last {kept}",
            file=sys.stderr,
        )
    return query


def await_with_progress(query: StreamingQuery, label: str) -> None:
    """Wait for ``query`` to end; while it runs, print a progress line every ``PROGRESS_SECONDS``.

    A cold run over millions of events is then never silent for long. The rows are those of the
    micro-batches done: a batch's rows are known when it ends.
    """
    started = time.monotonic()

    def report(done: bool = False) -> None:
        batches = query.recentProgress
        rows = sum(batch.numInputRows for batch in batches)
        print(progress_line(label, len(batches), rows, time.monotonic() - started, done), flush=True)

    reported = False
    while not query.awaitTermination(PROGRESS_SECONDS):
        report()
        reported = True
    if reported:
        report(done=True)


def progress_line(label: str, batches: int, rows: int, seconds: float, done: bool = False) -> str:
    """``<label>: micro-batch 3 running, 1,200 rows so far (400 rows/s), 3s``, or ``<label>: done, ...``."""
    rate = f"{rows / seconds if seconds > 0 else 0:,.0f} rows/s"
    if done:
        return f"{label}: done, {rows:,} rows in {batches} micro-batch(es) ({rate}), {seconds:.0f}s"
    return f"{label}: micro-batch {batches + 1} running, {rows:,} rows so far ({rate}), {seconds:.0f}s"


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
