"""The pipeline run behind ``ELT.py``: the layers in order, then the answers, the summary and the status.

``ELT.py`` is a Databricks notebook whose cells call this module, so the same file runs as a
notebook, as a Databricks job task and as ``python ELT.py`` on a laptop. What a run records is in
``run_record``; what it keeps for a later run with nothing new, and that run, in ``nothing_new``.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from pyspark.sql import DataFrame, SparkSession

from zenith.lakehouse.config import Config
from zenith.lakehouse.errors import storage_errors
from zenith.lakehouse.history import commits_tagged
from zenith.lakehouse.manifest import landing_listing
from zenith.lakehouse.run_lock import release_run_lock
from zenith.lakehouse.runtime import conf_set, get_spark, small_run_settings
from zenith.pipeline import analytics
from zenith.pipeline.bronze import layer as bronze
from zenith.pipeline.gold import layer as gold
from zenith.pipeline.health.read import Health, health_after_run, utc_now
from zenith.pipeline.health.status import format_health
from zenith.pipeline.nothing_new import NothingNewRun, Replay
from zenith.pipeline.params import RunParams
from zenith.pipeline.run_record import LayerReport, RecordedRun, RunRecord
from zenith.pipeline.run_start import prepare_lakehouse
from zenith.pipeline.silver import layer as silver

Report = TypeVar("Report", bound=LayerReport)


@dataclass
class PipelineRun(RecordedRun):
    """One run of the pipeline: each method runs a layer, or answers, if it was requested."""

    spark: SparkSession
    config: Config
    params: RunParams
    record: RunRecord
    replay: Replay  # what the run saw and printed, for its manifest
    log: Callable[[str], None] = print
    # Spark settings for the steps after bronze: the small-run ones when bronze loaded few rows.
    settings: dict[str, str] = field(default_factory=dict)
    # The health the last run stored if nothing changed since, and the newest event written to silver.
    before: Health | None = None
    newest_silver_event: dt.datetime | None = None

    @classmethod
    def start(cls, params: RunParams, log: Callable[[str], None] = print) -> PipelineRun | NothingNewRun:
        """Open the session for ``params`` and, on a full refresh, drop the chosen layers' tables.

        Locally, if the run manifest shows nothing changed since the last run, start no session:
        the run returned then does nothing and answers with the stored text.
        """
        started = time.monotonic()
        config = params.config()
        landing = landing_listing(config) if config.is_local else None  # before any layer reads it
        nothing_new = NothingNewRun.if_unchanged(config, params, landing, started, log)
        if nothing_new is not None:
            return nothing_new
        spark = get_spark(config, app_name="zenith-elt")
        record = RunRecord(params.layers, started=started, timings={"session_ready_at": time.time()})
        run = cls(spark, config, params, record, Replay(landing), log)
        run.before = prepare_lakehouse(spark, config, params, log)
        return run

    def bronze(self) -> bronze.BronzeReport | None:
        """Bronze's report, if bronze was requested; the rows it loaded choose the later steps' settings."""
        report = self._run_layer("bronze", lambda: bronze.run_bronze(self.spark, self.config, self._log))
        if report is not None:
            self.settings = small_run_settings(report.rows_in)
        return report

    def silver(self) -> silver.SilverReport | None:
        """Silver's report, if silver was requested (its metrics are written with the run's)."""
        report = self._run_layer(
            "silver", lambda: silver.run_silver(self.spark, self.config, self.run_id, self._log, record=False)
        )
        if report is not None:
            self.newest_silver_event = report.newest_event
        return report

    def gold(self) -> gold.GoldReport | None:
        """Gold's report, if gold was requested."""
        return self._run_layer("gold", lambda: gold.run_gold(self.spark, self.config, self._log))

    def _run_layer(self, layer: str, run: Callable[[], Report]) -> Report | None:
        """``run()``'s report, its commits tagged with the run's id, then recorded; None if not requested."""
        if layer not in self.params.layers:
            return None
        started = time.monotonic()
        with storage_errors(), commits_tagged(self.spark, self.run_id), conf_set(self.spark, self.settings):
            report = run()
        self.record.add(self.spark, self.config, layer, report, started)
        self.replay.steps.append(layer)
        return report

    def _log(self, line: str) -> None:
        """Log a layer's line, kept for the manifest if it is a warning."""
        self.replay.keep_warning(line)
        self.log(line)

    def data_quality(self) -> dict[str, DataFrame]:
        """The users whose events have no region (``analytics.data_quality``), if gold ran."""
        if "gold" not in self.params.layers:
            return {}
        return self.replay.answered("data_quality", analytics.data_quality(self.spark, self.config))

    def analytics(self) -> dict[str, DataFrame]:
        """Each analytics question's answer (empty if the layer was not requested)."""
        if "analytics" not in self.params.layers:
            return {}
        return self.replay.answered("analytics", analytics.run_analytics(self.spark, self.config))

    def show_answers(self, answers: dict[str, DataFrame | str], display: Callable | None = None) -> None:
        """``show_answers``, keeping the printed text for the run manifest (no second query)."""
        with conf_set(self.spark, self.settings):
            self.replay.answer_texts.update(analytics.show_answers(answers, display))

    def status(self) -> str:
        """The pipeline's health as ``zenith status`` prints it (kept for the run manifest; ``health_after_run``)."""
        with conf_set(self.spark, self.settings):
            wrote = self.record.recorded_metrics, self.newest_silver_event
            self.replay.health = health_after_run(self.spark, self.config, self.before, *wrote)
        return format_health(self.replay.health, utc_now())

    def finish(self) -> None:
        """Write the run manifest if every requested step ran, then release the run lock."""
        self.replay.write_if_complete(self.config, self.params, self.run_id, self.log)
        release_run_lock(self.config)


def run_pipeline(params: RunParams, log: Callable[[str], None] = print) -> PipelineRun | NothingNewRun:
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
