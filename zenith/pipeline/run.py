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
from zenith.lakehouse.errors import storage_errors
from zenith.lakehouse.history import commits_tagged
from zenith.lakehouse.manifest import (
    Manifest,
    fingerprint,
    landing_listing,
    remove_manifest,
    unchanged_since,
    write_manifest,
)
from zenith.lakehouse.run_lock import acquire_run_lock, release_run_lock
from zenith.lakehouse.run_metrics import RUN_LAYER, new_run_id, record_metrics
from zenith.lakehouse.runtime import get_spark
from zenith.lakehouse.setup import require_setup
from zenith.lakehouse.tables import drop_table, read_table
from zenith.pipeline import analytics, bronze, gold, silver
from zenith.pipeline.analytics import show_answers
from zenith.pipeline.data_quality import top_null_region_users
from zenith.pipeline.health import Health, read_health, utc_now
from zenith.pipeline.params import LAYER_TABLES, RunParams, refreshed_layers
from zenith.pipeline.status import format_health


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
    """One run of the pipeline: each method runs a layer if it was requested, then records it.

    ``skipped`` is the manifest of the run this one repeats when nothing was new (no session then).
    """

    spark: SparkSession | None
    config: Config
    params: RunParams
    log: Callable[[str], None] = print
    run_id: str = field(default_factory=new_run_id)
    summaries: list[LayerSummary] = field(default_factory=list)
    # Seconds by "layer" and "layer.table_or_query", plus the wall-clock time the session was ready.
    timings: dict[str, float] = field(default_factory=dict)
    # Metrics of the layers run so far, written to ``_system.run_metrics`` in one commit per run.
    pending_metrics: dict[str, dict[str, int]] = field(default_factory=dict)
    skipped: Manifest | None = None
    started: float = field(default_factory=time.monotonic)  # for the run's duration in its metrics
    health: Health | None = None  # read for the status at the run's end, kept for the manifest
    # For the run manifest: the landing zone when the run started, the steps run in order, the
    # answers (and their printed text) and the warnings logged.
    landing: dict | None = None
    steps: list[str] = field(default_factory=list)
    answers: dict[str, dict[str, DataFrame]] = field(default_factory=dict)
    answer_texts: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    @classmethod
    def start(cls, params: RunParams, log: Callable[[str], None] = print) -> PipelineRun:
        """Open the session for ``params`` and, on a full refresh, drop the chosen layers' tables.

        Locally, if the run manifest shows nothing changed since the last run, start no session:
        the layers then do nothing and the answers are the stored ones.
        """
        started = time.monotonic()
        config = Config.from_env(catalog=params.catalog, lakehouse=params.lakehouse).with_(
            json_array=params.json_array,
            changed_files=params.changed_files,
            max_event_age_days=params.max_event_age_days,
            dedupe_horizon_hours=params.dedupe_horizon_hours,
        )
        landing = landing_listing(config) if config.is_local else None  # before any layer reads it
        if landing is not None and not params.full_refresh:
            stored = unchanged_since(config.run_manifest, config, params.recorded(), landing)
            if stored is not None:
                log(
                    f"nothing new since run {stored.run_id} at {stored.finished_at}: no landed file, table "
                    "or checkpoint changed; no Spark session started"
                )
                for warning in stored.warnings:
                    log(warning)
                return cls(None, config, params, log, skipped=stored, started=started)
        spark = get_spark(config, app_name="zenith-elt")
        ready = {"session_ready_at": time.time()}
        run = cls(spark, config, params, log, timings=ready, landing=landing, started=started)
        require_setup(spark, config)
        acquire_run_lock(config)  # held until the process ends or ``finish`` is called
        if config.is_local:
            with storage_errors():  # under the lock, before anything is written
                remove_manifest(config.run_manifest)
        if params.full_refresh:
            dropped = refreshed_layers(params.layers)
            with storage_errors():
                for layer in dropped:
                    for table in LAYER_TABLES[layer]:
                        drop_table(spark, config, table)
            log(f"full refresh: dropped the tables and checkpoints of {', '.join(dropped)}")
        return run

    def finish(self) -> None:
        """Write the run manifest if every requested step ran, then release the run lock."""
        if self.skipped is None and self.landing is not None and self.steps == self._planned_steps():
            self._write_manifest()
        release_run_lock(self.config)

    def _planned_steps(self) -> list[str]:
        """The steps a complete run takes, in order: the requested layers, then the answers."""
        steps = [layer for layer in ("bronze", "silver", "gold") if self.wants(layer)]
        return steps + ["data_quality"] * self.wants("gold") + ["analytics"] * self.wants("analytics")

    def _write_manifest(self) -> None:
        """Record what this run saw and printed; the tables' state is taken now, after its writes."""
        texts = {step: {title: self.answer_texts.get(title) or analytics.format_table(df)
                        for title, df in dfs.items()} for step, dfs in self.answers.items()}  # fmt: skip
        state = fingerprint(self.config, self.params.recorded(), self.landing)
        health = self.health.to_json() if self.health else None
        manifest = Manifest(self.run_id, state, texts, self.warnings, health=health)
        try:
            write_manifest(self.config.run_manifest, manifest)
        except OSError as exc:  # the run itself succeeded; the next one just checks everything
            self.log(f"note: cannot write the run manifest ({exc.strerror or exc}): the next run checks all")

    def _log(self, line: str) -> None:
        """Log a line; keep a warning, which a run with nothing new repeats."""
        if "warning:" in line:
            self.warnings.append(line)
        self.log(line)

    def _skip(self, layer: str) -> None:
        """Record a layer the run had nothing to do for (the run manifest said nothing changed)."""
        self.summaries.append(LayerSummary(layer, 0, 0, 0.0))
        self._time(layer, 0.0, {})

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
            self.pending_metrics[RUN_LAYER] = self._milliseconds()
            with storage_errors(), commits_tagged(self.spark, self.run_id):
                record_metrics(self.spark, self.config, self.run_id, self.pending_metrics)
            self.pending_metrics = {}
        self._time(layer, time.monotonic() - started, parts)

    def _milliseconds(self) -> dict[str, int]:
        """The run's time so far and each layer's, for ``_system.run_metrics``."""
        layers = {f"{s.layer}_milliseconds": round(s.seconds * 1000) for s in self.summaries}
        return {"milliseconds": round((time.monotonic() - self.started) * 1000), **layers}

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
        if self.skipped:
            return self._skip("bronze")
        started = time.monotonic()
        with storage_errors(), commits_tagged(self.spark, self.run_id):
            reports = bronze.run_bronze(self.spark, self.config, self._log)
        rows = sum(report.rows_written for report in reports)
        problems = {f"{r.table}.{problem}": n for r in reports for problem, n in r.problems.items()}
        timings = {report.table: report.seconds for report in reports}
        self._record("bronze", rows, rows, started, timings, problems)
        self.steps.append("bronze")
        return reports

    def silver(self) -> silver.SilverReport | None:
        if not self.wants("silver"):
            return None
        if self.skipped:
            return self._skip("silver")
        started = time.monotonic()
        with storage_errors(), commits_tagged(self.spark, self.run_id):
            report = silver.run_silver(self.spark, self.config, self.run_id, self._log, record=False)
        self._record(
            "silver", report.rows_read, report.rows_written, started, report.timings, report.metrics()
        )
        self.steps.append("silver")
        return report

    def gold(self) -> gold.GoldReport | None:
        if not self.wants("gold"):
            return None
        if self.skipped:
            return self._skip("gold")
        started = time.monotonic()
        with storage_errors(), commits_tagged(self.spark, self.run_id):
            report = gold.run_gold(self.spark, self.config, self._log)
        rows_out = report.product_performance_rows + report.customer_summary_rows if report.rows_in else 0
        self._record("gold", report.rows_in, rows_out, started, report.timings)
        self.steps.append("gold")
        return report

    def data_quality(self) -> dict[str, DataFrame | str]:
        """The users whose events have no region (customer unknown or without a location), if gold ran.

        Read from the counts gold keeps (``_system.null_region_users``), not from all of silver. After a
        run with nothing new, the answer is the printed text the last run stored.
        """
        if not self.wants("gold"):
            return {}
        if self.skipped:
            return self.skipped.answers.get("data_quality", {})
        counts = read_table(self.spark, self.config, names.NULL_REGION_USERS)
        title = "Top 10 users whose events have no region (unknown or no location)"
        return self._answered("data_quality", {title: top_null_region_users(counts).limit(10)})

    def analytics(self) -> dict[str, DataFrame | str]:
        """Each analytics question's answer (empty if the layer was not requested; text if nothing was new)."""
        if not self.wants("analytics"):
            return {}
        if self.skipped:
            return self.skipped.answers.get("analytics", {})
        return self._answered("analytics", analytics.run_analytics(self.spark, self.config))

    def _answered(self, step: str, answers: dict[str, DataFrame]) -> dict[str, DataFrame]:
        """Keep a step's answers for the run manifest."""
        self.answers[step] = answers
        self.steps.append(step)
        return answers

    def show_answers(self, answers: dict[str, DataFrame | str], display: Callable | None = None) -> None:
        """``show_answers``, keeping the printed text for the run manifest (no second query)."""
        self.answer_texts.update(show_answers(answers, display))

    def summary(self) -> str:
        """A small table: rows in, rows out and time per layer run; says so when nothing was new."""
        lines = [f"{'layer':<9} {'rows in':>10} {'rows out':>10} {'time':>9}", *map(str, self.summaries)]
        if self.summaries and not any(s.rows_in or s.rows_out for s in self.summaries):
            lines.append("nothing new: no input had changed, so no table was written")
        return "\n".join(lines)

    def status(self) -> str:
        """The pipeline's health as ``zenith status`` prints it; the stored one if nothing was new (no Spark)."""
        if self.skipped is not None and self.skipped.health is None:
            return f"no status stored by run {self.skipped.run_id}: 'zenith status' reads it"
        stored = self.skipped.health if self.skipped else None
        self.health = Health.from_json(stored) if stored else read_health(self.spark, self.config)
        return format_health(self.health, utc_now())


def run_pipeline(params: RunParams, log: Callable[[str], None] = print) -> PipelineRun:
    """Every requested layer in order, then the answers and the summary (``zenith run``)."""
    run = PipelineRun.start(params, log)
    run.bronze()
    run.silver()
    run.gold()
    run.show_answers({**run.data_quality(), **run.analytics()})
    log("\n" + run.summary())
    log("\n" + run.status())
    run.finish()
    return run
