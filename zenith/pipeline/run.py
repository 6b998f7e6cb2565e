"""The pipeline run behind ``ELT.py``: the layers in order, their metrics, and a summary.

``ELT.py`` is a Databricks notebook whose cells call this module, so the same file runs as a
notebook, as a Databricks job task and as ``python ELT.py`` on a laptop.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from pyspark.sql import DataFrame, SparkSession

from zenith.lakehouse import config as names
from zenith.lakehouse.config import TIMINGS_FILE_ENV, Config
from zenith.lakehouse.errors import ZenithError, storage_errors
from zenith.lakehouse.run_lock import acquire_run_lock, release_run_lock
from zenith.lakehouse.run_metrics import new_run_id, record_metrics
from zenith.lakehouse.runtime import get_spark
from zenith.lakehouse.tables import drop_table, read_table
from zenith.pipeline import analytics, bronze, gold, silver
from zenith.pipeline.params import LAYERS, RunParams

LAYER_TABLES = {
    "bronze": (names.BRONZE_EVENTS, names.BRONZE_CUSTOMERS, names.BRONZE_PRODUCTS, names.INGESTED_FILES),
    "silver": (names.SILVER_ACTIVITY, names.SILVER_QUARANTINE, names.SILVER_BATCHES),
    "gold": (names.GOLD_PRODUCT_PERFORMANCE, names.GOLD_CUSTOMER_SUMMARY, names.GOLD_CUSTOMER_STATE),
    "analytics": (),
}


def require_setup(spark: SparkSession, config: Config) -> None:
    """Fail in one line if setup has not created the pipeline's schemas."""
    for schema in names.SCHEMAS:
        if not spark.catalog.databaseExists(config.schema_name(schema).replace("`", "")):
            raise ZenithError(
                f"schema {config.schema_name(schema)} does not exist: run 'zenith setup' "
                "(or the utils/setup_environment notebook) first"
            )


def refreshed_layers(layers: tuple[str, ...]) -> tuple[str, ...]:
    """The layers a full refresh of ``layers`` drops: those and every layer downstream of them.

    Each layer streams from the one before it, so a rebuilt layer invalidates what read it.
    """
    first = min(LAYERS.index(layer) for layer in layers)
    return tuple(layer for layer in LAYERS[first:] if LAYER_TABLES[layer])


@dataclass(frozen=True)
class LayerSummary:
    layer: str
    rows_in: int
    rows_out: int
    seconds: float

    def __str__(self) -> str:
        return f"{self.layer:<9} {self.rows_in:>10} {self.rows_out:>10} {self.seconds:>8.1f}s"


@dataclass
class PipelineRun:
    """One run of the pipeline: each method runs a layer if it was requested, then records it."""

    spark: SparkSession
    config: Config
    params: RunParams
    log: Callable[[str], None] = print
    run_id: str = field(default_factory=new_run_id)
    summaries: list[LayerSummary] = field(default_factory=list)
    # Seconds by "layer" and "layer.table_or_query", plus the wall-clock time the session was ready.
    timings: dict[str, float] = field(default_factory=dict)
    # Metrics of the layers run so far, written to ``_system.run_metrics`` in one commit per run.
    pending_metrics: dict[str, dict[str, int]] = field(default_factory=dict)

    @classmethod
    def start(cls, params: RunParams, log: Callable[[str], None] = print) -> PipelineRun:
        """Open the session for ``params`` and, on a full refresh, drop the chosen layers' tables."""
        config = Config.from_env(catalog=params.catalog, lakehouse=params.lakehouse).with_(
            json_array=params.json_array,
            changed_files=params.changed_files,
            max_event_age_days=params.max_event_age_days,
            dedupe_horizon_hours=params.dedupe_horizon_hours,
        )
        spark = get_spark(config, app_name="zenith-elt")
        run = cls(spark, config, params, log, timings={"session_ready_at": time.time()})
        require_setup(spark, config)
        acquire_run_lock(config)  # held until the process ends or ``finish`` is called
        if params.full_refresh:
            dropped = refreshed_layers(params.layers)
            with storage_errors():
                for layer in dropped:
                    for table in LAYER_TABLES[layer]:
                        drop_table(spark, config, table)
            log(f"full refresh: dropped the tables and checkpoints of {', '.join(dropped)}")
        return run

    def finish(self) -> None:
        """Release the run lock so another run can start on this lakehouse."""
        release_run_lock(self.config)

    def wants(self, layer: str) -> bool:
        return layer in self.params.layers

    def _record(
        self,
        layer: str,
        rows_in: int,
        rows_out: int,
        started: float,
        parts: dict[str, float],
        more: dict[str, int] | None = None,
    ) -> None:
        """Keep the layer's counts for the summary and, if it did anything, for ``_system.run_metrics``.

        The metrics of every layer are written in one commit, after the last layer that writes tables.
        """
        summary = LayerSummary(layer, rows_in, rows_out, time.monotonic() - started)
        self.summaries.append(summary)
        metrics = {"rows_in": rows_in, "rows_out": rows_out, **(more or {})}
        if any(metrics.values()):  # a layer that did and saw nothing writes no table version
            self.pending_metrics[layer] = metrics
        last_writer = [name for name in self.params.layers if LAYER_TABLES[name]][-1:]
        if [layer] == last_writer and self.pending_metrics:
            with storage_errors():
                record_metrics(self.spark, self.config, self.run_id, self.pending_metrics)
            self.pending_metrics = {}
        self._time(layer, time.monotonic() - started, parts)

    def _time(self, layer: str, seconds: float, parts: dict[str, float]) -> None:
        """Keep a layer's seconds and its parts'; write them all out if the environment asks."""
        self.timings[layer] = seconds
        self.timings.update({f"{layer}.{part}": value for part, value in parts.items()})
        if path := os.environ.get(TIMINGS_FILE_ENV):
            with open(path, "w") as handle:
                json.dump(self.timings, handle)

    def bronze(self) -> list[bronze.IngestReport] | None:
        if not self.wants("bronze"):
            return None
        started = time.monotonic()
        with storage_errors():
            reports = bronze.run_bronze(self.spark, self.config, self.log)
        rows = sum(report.rows_written for report in reports)
        problems = {f"{r.table}.{problem}": n for r in reports for problem, n in r.problems.items()}
        timings = {report.table: report.seconds for report in reports}
        self._record("bronze", rows, rows, started, timings, problems)
        return reports

    def silver(self) -> silver.SilverReport | None:
        if not self.wants("silver"):
            return None
        started = time.monotonic()
        with storage_errors():
            report = silver.run_silver(self.spark, self.config, self.run_id, self.log, record=False)
        self._record(
            "silver", report.rows_read, report.rows_written, started, report.timings, report.metrics()
        )
        return report

    def gold(self) -> gold.GoldReport | None:
        if not self.wants("gold"):
            return None
        started = time.monotonic()
        with storage_errors():
            report = gold.run_gold(self.spark, self.config, self.log)
        rows_out = report.product_performance_rows + report.customer_summary_rows if report.rows_in else 0
        self._record("gold", report.rows_in, rows_out, started, report.timings)
        return report

    def data_quality(self) -> dict[str, DataFrame]:
        """The users whose events have no region (customer unknown or without a location), if gold ran."""
        if not self.wants("gold"):
            return {}
        silver_activity = read_table(self.spark, self.config, names.SILVER_ACTIVITY)
        title = "Top 10 users whose events have no region (unknown or no location)"
        return {title: gold.null_region_users(silver_activity).limit(10)}

    def analytics(self) -> dict[str, DataFrame]:
        """Each analytics question's answer (empty if the layer was not requested)."""
        if not self.wants("analytics"):
            return {}
        return analytics.run_analytics(self.spark, self.config)

    def summary(self) -> str:
        """A small table: rows in, rows out and time per layer run; says so when nothing was new."""
        lines = [f"{'layer':<9} {'rows in':>10} {'rows out':>10} {'time':>9}", *map(str, self.summaries)]
        if self.summaries and not any(s.rows_in or s.rows_out for s in self.summaries):
            lines.append("nothing new: no input had changed, so no table was written")
        return "\n".join(lines)


def show_answers(answers: dict[str, DataFrame], display: Callable[[DataFrame], None] | None = None) -> None:
    """``display()`` each answer in a notebook; print aligned tables elsewhere."""
    for title, df in answers.items():
        print(f"\n{title}")
        if display is not None:
            display(df)
        else:
            print(analytics.format_table(df))


def run_pipeline(params: RunParams, log: Callable[[str], None] = print) -> PipelineRun:
    """Every requested layer in order, then the answers and the summary (``zenith run``)."""
    run = PipelineRun.start(params, log)
    run.bronze()
    run.silver()
    run.gold()
    show_answers({**run.data_quality(), **run.analytics()})
    log("\n" + run.summary())
    run.finish()
    return run
