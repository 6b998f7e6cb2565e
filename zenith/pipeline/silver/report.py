"""Silver's report: what a run did, summed from its batches' records, with the dimensions' conflicts."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.streaming import StreamingQuery

from zenith.lakehouse import config as names
from zenith.lakehouse.config import Config
from zenith.lakehouse.tables import read_table
from zenith.pipeline.silver.quarantine import REASONS
from zenith.pipeline.silver.transforms import COUNTS, DUPLICATE, NEWEST_SILVER, SILVER, dimension_conflicts

CONFLICT_KEYS = ("product_id", "customer_id")


@dataclass(frozen=True)
class SilverReport:
    """What one silver run did; quarantined, duplicates and written add up to ``rows_read``.

    ``late_dropped`` counts the rows behind the watermark: they are in quarantine as ``late``, or
    counted as duplicates when their id is in silver. ``conflicts`` counts, per dimension, the
    ids whose rows disagree (the last row of the newest file was used).
    """

    rows_read: int
    quarantined: dict[str, int]
    duplicates_removed: int
    late_dropped: int
    rows_written: int
    no_region: int = 0
    conflicts: dict[str, int] = field(default_factory=dict)
    newest_event: dt.datetime | None = None  # the newest event time written to silver (None if none)
    seconds: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)  # seconds by query

    @property
    def rows_in(self) -> int:
        """The bronze events the run read (``rows_read``)."""
        return self.rows_read

    @property
    def rows_out(self) -> int:
        """The events the run wrote to silver (``rows_written``)."""
        return self.rows_written

    @property
    def accounted(self) -> int:
        """Every way a row read can leave: quarantined (any reason), a duplicate, or written."""
        return sum(self.quarantined.values()) + self.duplicates_removed + self.rows_written

    def metrics(self) -> dict[str, int]:
        """The run's counts by metric name, as ``_system.run_metrics`` records them."""
        return {
            "rows_read": self.rows_read,
            **{f"quarantined_{reason}": n for reason, n in self.quarantined.items()},
            "duplicates_removed": self.duplicates_removed,
            "late_dropped": self.late_dropped,
            "rows_written": self.rows_written,
            **{f"conflicting_{key}s": n for key, n in self.conflicts.items()},
        }

    def __str__(self) -> str:
        parts = ", ".join(f"{k}={v}" for k, v in self.metrics().items())
        return f"{names.SILVER_ACTIVITY.name}: {parts} in {self.seconds:.1f}s"


def silver_report(
    spark: SparkSession,
    config: Config,
    app_id: str,
    query: StreamingQuery,
    started: float,
    log: Callable[[str], None],
) -> SilverReport:
    """The report of the run that began at ``started`` (``time.monotonic``) and ran ``query``.

    Its counts are the sums of the records of the query's batches, and its newest event their
    newest; the dimensions' conflicts are counted in the same Spark job, and each dimension with any
    is logged as a warning.
    """
    streamed_at = time.monotonic()
    batch_ids = [progress.batchId for progress in query.recentProgress if progress.numInputRows]
    totals = dict.fromkeys((*COUNTS, *CONFLICT_KEYS), 0)
    newest = None
    if batch_ids:  # the batches' counts and, as they were used, the dimensions' conflicts: one Spark job
        products = read_table(spark, config, names.BRONZE_PRODUCTS)
        customers = read_table(spark, config, names.BRONZE_CUSTOMERS)
        counts = batch_totals(spark, config, app_id, batch_ids).unionByName(
            dimension_conflicts(products, customers), allowMissingColumns=True
        )
        rows = counts.collect()
        totals |= {row.metric: int(row.value or 0) for row in rows if row.metric in totals}
        newest = next(row.at for row in rows if row.metric == NEWEST_SILVER)
    conflicts = {key: totals[key] for key in CONFLICT_KEYS}
    for key, n in conflicts.items():
        if n:
            log(f"silver  warning: {n} {key}(s) have conflicting rows; used the last row of the newest file")
    return SilverReport(
        rows_read=totals["rows_read"],
        quarantined={reason: totals[reason] for reason in REASONS},
        duplicates_removed=totals[DUPLICATE],
        late_dropped=totals["late_dropped"],
        rows_written=totals[SILVER],
        no_region=totals["no_region"],
        conflicts=conflicts,
        newest_event=newest,
        seconds=time.monotonic() - started,
        timings={names.SILVER_ACTIVITY.name: streamed_at - started, "report": time.monotonic() - streamed_at},
    )


def batch_totals(spark: SparkSession, config: Config, app_id: str, batch_ids: list[int]) -> DataFrame:
    """Rows (``metric``, ``value``): each count of these batches of the stream, summed (NULL if none);
    and (``metric``, ``at``): their newest event written to silver (``NEWEST_SILVER``; NULL if none).

    Records written before that column existed (a replayed batch's, at most) have none.
    """
    batches = read_table(spark, config, names.SILVER_BATCHES).where(
        (F.col("app_id") == app_id) & F.col("batch_id").isin(batch_ids)
    )
    sums = batches.agg(*[F.sum(name).alias(name) for name in COUNTS])
    newest = F.col(NEWEST_SILVER) if NEWEST_SILVER in batches.columns else F.lit(None).cast("timestamp")
    at = batches.agg(F.lit(NEWEST_SILVER).alias("metric"), F.max(newest).alias("at"))
    return sums.unpivot([], list(COUNTS), "metric", "value").unionByName(at, allowMissingColumns=True)


def log_report(report: SilverReport, log: Callable[[str], None]) -> None:
    """Log the run's counts and how many of the events it wrote have no region."""
    log(f"silver  {report}")
    log(
        f"silver  data quality: {report.no_region} of {report.rows_written} events written have no region "
        "(customer unknown or without a location)"
    )
