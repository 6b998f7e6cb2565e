"""Pipeline health: did the last runs work, and how fresh are silver and gold (``zenith status``).

``read_health`` is the Spark edge: the last runs' rows of ``_system.run_metrics``, a bounded recent
slice of every pipeline table's Delta history (which run tagged each commit), the newest event time
in silver and the newest day in gold. ``zenith.pipeline.health.status`` turns those rows into text, so the
text is the same from a live read and from the rows a run stored in its manifest (``stored_health``).
At the end of a run that found the last run's rows stored, ``health_after_run`` gives the same rows
from those and what the run wrote, without reading the metrics or silver.

A run that ended recorded its metrics in one commit after its last write. A run whose tagged
commits have no metrics stopped after writing something (killed, failed, or still running): it is
shown as unfinished, never as a clean run. A run with nothing new writes nothing and is not listed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from zenith.lakehouse import config as names
from zenith.lakehouse.config import Config
from zenith.lakehouse.history import Commit, recent_commits
from zenith.lakehouse.manifest import lakehouse_unchanged, read_manifest
from zenith.lakehouse.tables import read_table, table_exists
from zenith.pipeline.params import STATUS_RUNS

COMMITS_PER_RUN = 4  # history read per table and run shown: a run makes one or two per table
# A run's recorded_at is taken just before its metrics commit; a margin for that and for clocks.
RECORDED_SLACK = dt.timedelta(hours=1)
PIPELINE_TABLES = tuple(table for table in names.TABLES if table != names.RUN_METRICS)


@dataclass(frozen=True)
class Health:
    """What a status is made of, as plain rows: the runs' metrics, tagged commits, and freshness.

    ``metrics`` rows are (run_id, recorded_at, layer, metric, value) of the last ``runs`` runs that
    ended (a few more at most); ``commits`` are the tagged commits of the pipeline tables since the
    oldest of those runs.
    """

    catalog: str
    runs: int
    metrics: tuple[tuple, ...] = ()
    commits: tuple[Commit, ...] = ()
    newest_silver_event: dt.datetime | None = None
    newest_gold_day: dt.date | None = None

    def to_json(self) -> dict:
        """The rows as JSON values (times as ISO text), for the run manifest."""
        return {
            "catalog": self.catalog,
            "runs": self.runs,
            "metrics": [[run, at.isoformat(), *rest] for run, at, *rest in self.metrics],
            "commits": [[c.table, c.version, c.timestamp.isoformat(), c.run_id] for c in self.commits],
            "newest_silver_event": _iso(self.newest_silver_event),
            "newest_gold_day": _iso(self.newest_gold_day),
        }

    @classmethod
    def from_json(cls, data: dict) -> Health:
        """The rows ``to_json`` wrote."""
        event, day = data["newest_silver_event"], data["newest_gold_day"]
        return cls(
            catalog=data["catalog"],
            runs=data["runs"],
            metrics=tuple((run, dt.datetime.fromisoformat(at), *rest) for run, at, *rest in data["metrics"]),
            commits=tuple(
                Commit(table, version, dt.datetime.fromisoformat(at), run)
                for table, version, at, run in data["commits"]
            ),
            newest_silver_event=dt.datetime.fromisoformat(event) if event else None,
            newest_gold_day=dt.date.fromisoformat(day) if day else None,
        )


def _iso(value: dt.date | None) -> str | None:
    return value.isoformat() if value is not None else None


def utc_now() -> dt.datetime:
    """The current time in UTC, without a time zone, like the tables' timestamps."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


# --- Reading (the Spark edge) --------------------------------------------------------------------
def read_health(spark: SparkSession, config: Config, runs: int = STATUS_RUNS) -> Health:
    """The last ``runs`` ended runs' metrics, the tagged commits since, and the freshness of silver and gold.

    Bounded by the runs shown, not by history: the run-metrics commits are one per run, so the
    last ``runs`` of them give the oldest time to read; ``recorded_at`` lets Delta skip older files.
    """
    recorded, since = ended_runs(spark, config, runs)
    metrics = []
    if recorded:
        rows = read_table(spark, config, names.RUN_METRICS)
        if since is not None:
            rows = rows.where(F.col("recorded_at") >= F.lit(since - RECORDED_SLACK))
        metrics = rows.select("run_id", "recorded_at", "layer", "metric", "value").collect()
    freshness = newest_silver_event(spark, config), newest_gold_day(spark, config)
    commits = tagged_commits(spark, config, since, runs)
    return Health(config.catalog, runs, tuple(map(tuple, metrics)), commits, *freshness)


def health_after_run(
    spark: SparkSession,
    config: Config,
    before: Health | None,
    metrics: list[tuple],
    newest_event: dt.datetime | None,
) -> Health:
    """What ``read_health`` reads after a run, from the health ``before`` it and what the run wrote.

    ``before`` is the last run's stored health, and nothing changed between that run's end and this
    run's start (``stored_health``, read under the run lock); ``metrics`` are the rows this run wrote
    to ``_system.run_metrics`` and ``newest_event`` the newest event time it wrote to silver (None if
    none). Silver only grows, so its newest event is the newer of the two. Neither the metrics nor
    silver is read; the commits come from the tables' logs as ``read_health``'s do, and gold's newest
    day from its Delta log (``newest_gold_day``). Without ``before`` (none stored, a full refresh,
    Databricks), it is ``read_health``.
    """
    if before is None:
        return read_health(spark, config)
    runs = before.runs
    _, since = ended_runs(spark, config, runs)
    rows = (row for row in (*before.metrics, *metrics) if since is None or row[1] >= since - RECORDED_SLACK)
    newest = max((t for t in (before.newest_silver_event, newest_event) if t is not None), default=None)
    commits = tagged_commits(spark, config, since, runs)
    return Health(config.catalog, runs, tuple(rows), commits, newest, newest_gold_day(spark, config))


def ended_runs(spark: SparkSession, config: Config, runs: int) -> tuple[list[Commit], dt.datetime | None]:
    """The run metrics' last ``runs`` commits (one per run that ended) and, if there are that many, the
    oldest one's time: the status shows no run that ended before it."""
    recorded = recent_commits(spark, config, names.RUN_METRICS, runs)
    return recorded, recorded[-1].timestamp if len(recorded) == runs else None


def tagged_commits(
    spark: SparkSession, config: Config, since: dt.datetime | None, runs: int
) -> tuple[Commit, ...]:
    """The pipeline tables' commits a run tagged after ``since`` (all if None): each table's last few per run shown."""
    return tuple(
        commit
        for table in PIPELINE_TABLES
        for commit in recent_commits(spark, config, table, runs * COMMITS_PER_RUN)
        if commit.run_id is not None and (since is None or commit.timestamp > since)
    )


def newest_silver_event(spark: SparkSession, config: Config) -> dt.datetime | None:
    """The newest event time in silver (None if there is none).

    The newest ``event_date`` comes from the Delta log alone (silver is partitioned by it); the
    newest time is then read from that one day's files.
    """
    if not table_exists(spark, config, names.SILVER_ACTIVITY):
        return None
    silver = read_table(spark, config, names.SILVER_ACTIVITY)
    last_day = silver.agg(F.max("event_date")).first()[0]
    if last_day is None:
        return None
    return silver.where(F.col("event_date") == F.lit(last_day)).agg(F.max("event_dt")).first()[0]


def newest_gold_day(spark: SparkSession, config: Config) -> dt.date | None:
    """The newest day in gold's product performance, from its Delta log alone (None if there is none)."""
    if not table_exists(spark, config, names.GOLD_PRODUCT_PERFORMANCE):
        return None
    return read_table(spark, config, names.GOLD_PRODUCT_PERFORMANCE).agg(F.max("event_date")).first()[0]


def stored_health(config: Config, runs: int = STATUS_RUNS) -> Health | None:
    """The health the last successful local run stored, if no table or checkpoint changed since.

    None on Databricks, without a manifest, or when the lakehouse moved on: then read it.
    """
    manifest = read_manifest(config.run_manifest) if config.is_local else None
    if manifest is None or manifest.health is None or manifest.health.get("runs", 0) < runs:
        return None
    if not lakehouse_unchanged(manifest, config):
        return None
    return replace(Health.from_json(manifest.health), runs=runs)
