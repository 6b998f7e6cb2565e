"""A local run with nothing new: the stored manifest of the last complete run, kept and repeated.

A complete run records what it saw and printed (``Replay``); the next run, if no landed file,
table or checkpoint changed since, starts no Spark session and repeats it (``NothingNewRun``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from pyspark.sql import DataFrame

from zenith.lakehouse.config import Config
from zenith.lakehouse.manifest import Manifest, fingerprint, unchanged_since, write_manifest
from zenith.lakehouse.run_lock import release_run_lock
from zenith.pipeline.analytics import format_table, show_answers
from zenith.pipeline.health.read import Health, utc_now
from zenith.pipeline.health.status import format_health
from zenith.pipeline.params import RunParams
from zenith.pipeline.run_record import RecordedRun, RunRecord


@dataclass
class Replay:
    """What a run saw and printed, for its manifest: a later run with nothing new repeats it."""

    landing: dict | None  # the landing zone when the run started (None: no manifest, not local)
    steps: list[str] = field(default_factory=list)  # the steps run, in order
    answers: dict[str, dict[str, DataFrame]] = field(default_factory=dict)
    answer_texts: dict[str, str] = field(default_factory=dict)  # the answers' printed text by title
    warnings: list[str] = field(default_factory=list)
    health: Health | None = None  # read for the status at the run's end

    def keep_warning(self, line: str) -> None:
        """Keep a logged line if it is a warning, which a run with nothing new repeats."""
        if "warning:" in line:
            self.warnings.append(line)

    def answered(self, step: str, answers: dict[str, DataFrame]) -> dict[str, DataFrame]:
        """Keep a step's answers for the run manifest; returns them."""
        self.answers[step] = answers
        self.steps.append(step)
        return answers

    def write_if_complete(
        self, config: Config, params: RunParams, run_id: str, log: Callable[[str], None]
    ) -> None:
        """Write the run manifest if every requested step ran (locally); a failed write is a note."""
        if self.landing is None or self.steps != planned_steps(params.layers):
            return
        texts = {step: {title: self.answer_texts.get(title) or format_table(df)
                        for title, df in dfs.items()} for step, dfs in self.answers.items()}  # fmt: skip
        # The tables' state is taken now, after the run's writes.
        state = fingerprint(config, params.recorded(), self.landing)
        health = self.health.to_json() if self.health else None
        manifest = Manifest(run_id, state, texts, self.warnings, health=health)
        try:
            write_manifest(config.run_manifest, manifest)
        except OSError as exc:  # the run itself succeeded; the next one just checks everything
            log(f"note: cannot write the run manifest ({exc.strerror or exc}): the next run checks all")


def planned_steps(layers: tuple[str, ...]) -> list[str]:
    """The steps a complete run takes, in order: the requested layers, then the answers."""
    steps = [layer for layer in ("bronze", "silver", "gold") if layer in layers]
    return steps + ["data_quality"] * ("gold" in layers) + ["analytics"] * ("analytics" in layers)


@dataclass
class NothingNewRun(RecordedRun):
    """A run that repeats ``skipped``, the stored manifest of the last run: no session, no writes.

    It answers as ``PipelineRun`` does: the layers record rows of 0, the answers and the status
    are the stored text.
    """

    config: Config
    params: RunParams
    skipped: Manifest
    record: RunRecord
    spark: None = None

    @classmethod
    def if_unchanged(
        cls,
        config: Config,
        params: RunParams,
        landing: dict | None,
        started: float,
        log: Callable[[str], None],
    ) -> NothingNewRun | None:
        """The run repeating the stored manifest if nothing changed since it (local only); else None."""
        if landing is None or params.full_refresh:
            return None
        stored = unchanged_since(config.run_manifest, config, params.recorded(), landing)
        if stored is None:
            return None
        log(
            f"nothing new since run {stored.run_id} at {stored.finished_at}: no landed file, table "
            "or checkpoint changed; no Spark session started"
        )
        for warning in stored.warnings:
            log(warning)
        return cls(config, params, stored, RunRecord(params.layers, started=started))

    def _skip(self, layer: str) -> None:
        if layer in self.params.layers:
            self.record.skip(layer)

    def bronze(self) -> None:
        """Records bronze's rows of 0, if requested; returns None."""
        return self._skip("bronze")

    def silver(self) -> None:
        """Records silver's rows of 0, if requested; returns None."""
        return self._skip("silver")

    def gold(self) -> None:
        """Records gold's rows of 0, if requested; returns None."""
        return self._skip("gold")

    def data_quality(self) -> dict[str, str]:
        """The data-quality answer's text as the last run stored it (empty if gold was not requested)."""
        return self.skipped.answers.get("data_quality", {}) if "gold" in self.params.layers else {}

    def analytics(self) -> dict[str, str]:
        """The analytics answers' text as the last run stored it (empty if not requested)."""
        return self.skipped.answers.get("analytics", {}) if "analytics" in self.params.layers else {}

    def show_answers(self, answers: dict[str, DataFrame | str], display: Callable | None = None) -> None:
        """``show_answers``: the stored text is printed as it is."""
        show_answers(answers, display)

    def status(self) -> str:
        """The status the last run printed, from the rows it stored (no Spark); says so if none."""
        if self.skipped.health is None:
            return f"no status stored by run {self.skipped.run_id}: 'zenith status' reads it"
        return format_health(Health.from_json(self.skipped.health), utc_now())

    def finish(self) -> None:
        """Release the run lock; the stored manifest stays as it is."""
        release_run_lock(self.config)
