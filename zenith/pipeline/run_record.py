"""The record of a pipeline run: each layer's rows and seconds, its metrics, and the summary table.

The metrics of every layer go to ``_system.run_metrics`` in one commit, after the last layer that
writes tables; the seconds go to the file ``TIMINGS_FILE_ENV`` names, if it is set.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from typing import Protocol

from pyspark.sql import SparkSession

from zenith.lakehouse.config import LAYER_TABLES, TIMINGS_FILE_ENV, Config
from zenith.lakehouse.errors import storage_errors
from zenith.lakehouse.history import commits_tagged
from zenith.lakehouse.run_metrics import RUN_LAYER, new_run_id, record_metrics


class LayerReport(Protocol):
    """What every layer's run reports: rows in and out, seconds by part, and its other metrics."""

    rows_in: int
    rows_out: int
    timings: dict[str, float]

    def metrics(self) -> dict[str, int]: ...


@dataclass(frozen=True)
class LayerSummary:
    layer: str
    rows_in: int
    rows_out: int
    seconds: float

    def __str__(self) -> str:
        return f"{self.layer:<9} {self.rows_in:>10} {self.rows_out:>10} {self.seconds:>8.1f}s"


@dataclass
class RunRecord:
    """The layers a run requested, what each one did, and the metrics not yet written."""

    layers: tuple[str, ...]
    run_id: str = field(default_factory=new_run_id)
    started: float = field(default_factory=time.monotonic)  # for the run's duration in its metrics
    summaries: list[LayerSummary] = field(default_factory=list)
    # Seconds by "layer" and "layer.table_or_query", plus the wall-clock time the session was ready.
    timings: dict[str, float] = field(default_factory=dict)
    # Metrics of the layers run so far, written to ``_system.run_metrics`` in one commit per run.
    pending_metrics: dict[str, dict[str, int]] = field(default_factory=dict)
    # The rows written to ``_system.run_metrics`` (run_id, recorded_at, layer, metric, value), for the status.
    recorded_metrics: list[tuple] = field(default_factory=list)

    def add(
        self, spark: SparkSession, config: Config, layer: str, report: LayerReport, started: float
    ) -> None:
        """Keep the layer's counts for the summary and, if it did anything, for ``_system.run_metrics``.

        The metrics of every layer are written in one commit, after the last layer that writes tables.
        """
        summary = LayerSummary(layer, report.rows_in, report.rows_out, time.monotonic() - started)
        self.summaries.append(summary)
        metrics = {"rows_in": report.rows_in, "rows_out": report.rows_out, **report.metrics()}
        if any(metrics.values()):  # a layer that did and saw nothing writes no table version
            self.pending_metrics[layer] = metrics
        last_writer = [name for name in self.layers if LAYER_TABLES[name]][-1:]
        if [layer] == last_writer and self.pending_metrics:
            self.pending_metrics[RUN_LAYER] = self._milliseconds()
            with storage_errors(), commits_tagged(spark, self.run_id):
                self.recorded_metrics += record_metrics(spark, config, self.run_id, self.pending_metrics)
            self.pending_metrics = {}
        self._time(layer, time.monotonic() - started, report.timings)

    def skip(self, layer: str) -> None:
        """Record a layer the run had nothing to do for (the run manifest said nothing changed)."""
        self.summaries.append(LayerSummary(layer, 0, 0, 0.0))
        self._time(layer, 0.0, {})

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

    def summary(self) -> str:
        """A small table: rows in, rows out and time per layer run; says so when nothing was new."""
        lines = [f"{'layer':<9} {'rows in':>10} {'rows out':>10} {'time':>9}", *map(str, self.summaries)]
        if self.summaries and not any(s.rows_in or s.rows_out for s in self.summaries):
            lines.append("nothing new: no input had changed, so no table was written")
        return "\n".join(lines)


class RecordedRun:
    """What both kinds of run read from their record: the id, summaries, timings and summary text."""

    record: RunRecord

    @property
    def run_id(self) -> str:
        """The run's id, which tags its commits and its rows of ``_system.run_metrics``."""
        return self.record.run_id

    @property
    def summaries(self) -> list[LayerSummary]:
        """Each layer's rows in, rows out and seconds, in the order the layers ran."""
        return self.record.summaries

    @property
    def timings(self) -> dict[str, float]:
        """Seconds by layer and by layer part, as the timings file holds them."""
        return self.record.timings

    def summary(self) -> str:
        """A small table: rows in, rows out and time per layer run; says so when nothing was new."""
        return self.record.summary()
