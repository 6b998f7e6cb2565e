"""The status text of ``zenith status`` and of the end of a run: plain Python over a ``Health``'s rows.

Nothing here reads a table, so the text is exact for given rows and a given clock.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field, replace

import pandas as pd

from zenith.lakehouse.history import Commit
from zenith.lakehouse.run_metrics import RUN_LAYER
from zenith.pipeline.health.read import Health

LAYERS = ("bronze", "silver", "gold")
QUARANTINED = "quarantined_"


@dataclass(frozen=True)
class RunStatus:
    """One run: when it recorded its metrics (or, unfinished, made its last commit), and what it did."""

    run_id: str
    at: dt.datetime
    ended: bool
    metrics: dict[str, dict[str, int]] = field(default_factory=dict)  # by layer, then metric
    tables: tuple[str, ...] = ()  # the tables an unfinished run wrote to

    def seconds(self, layer: str | None = None) -> float | None:
        """How long the run (or one of its layers) took, if it recorded it."""
        ms = self.metrics.get(RUN_LAYER, {}).get(f"{layer}_milliseconds" if layer else "milliseconds")
        return ms / 1000 if ms is not None else None


def run_statuses(health: Health) -> list[RunStatus]:
    """The last ``health.runs`` runs that ended and every unfinished run since the oldest, newest first."""
    metrics: dict[str, dict[str, dict[str, int]]] = defaultdict(lambda: defaultdict(dict))
    recorded: dict[str, dt.datetime] = {}
    for run_id, recorded_at, layer, metric, value in health.metrics:
        metrics[run_id][layer][metric] = value
        recorded[run_id] = max(recorded.get(run_id, recorded_at), recorded_at)
    newest = sorted(recorded, key=lambda run: (recorded[run], run), reverse=True)[: health.runs]
    runs = [
        RunStatus(run, recorded[run], True, {k: dict(v) for k, v in metrics[run].items()}) for run in newest
    ]
    oldest = recorded[newest[-1]] if len(newest) == health.runs else None
    unfinished: dict[str, list[Commit]] = defaultdict(list)
    for commit in health.commits:
        if commit.run_id not in recorded and (oldest is None or commit.timestamp > oldest):
            unfinished[commit.run_id].append(commit)
    for run_id, commits in unfinished.items():
        tables = tuple(sorted({commit.table for commit in commits}))
        runs.append(RunStatus(run_id, max(commit.timestamp for commit in commits), False, tables=tables))
    return sorted(runs, key=lambda run: (run.at, run.run_id), reverse=True)


# --- Text ------------------------------------------------------------------------------------------
def format_health(health: Health, now: dt.datetime, shown: int | None = None) -> str:
    """The status: the last successful run and how long ago, silver's and gold's freshness, the last runs.

    ``shown`` lists fewer of the runs that ended than ``health`` holds.
    """
    runs = run_statuses(replace(health, runs=min(shown or health.runs, health.runs)))
    last = next((run for run in runs if run.ended), None)
    event, day = health.newest_silver_event, health.newest_gold_day
    lines = [
        f"Pipeline health of catalog {health.catalog} at {clock(now)}",
        f"Last successful run: {last.run_id}, ended {clock(last.at)} ({duration(now - last.at)} ago)"
        if last
        else "Last successful run: none recorded",
        f"Newest event in silver: {f'{event:%Y-%m-%d %H:%M:%S}' if event else 'none'}; "
        f"newest day in gold: {day or 'none'}",
        "",
        "Last runs, newest first:" if runs else "Last runs: none has written anything yet",
    ]
    for run in runs:
        lines += ended_lines(run) if run.ended else unfinished_lines(run)
    return "\n".join(lines)


def ended_lines(run: RunStatus) -> list[str]:
    """A run that ended: a line for the run, then one per layer it ran."""
    took = run.seconds()
    lines = [
        f"ended       {clock(run.at)}  run {run.run_id}"
        + (f"  took {duration(took)}" if took is not None else "")
    ]
    for layer in LAYERS:
        seconds = run.seconds(layer)
        if layer in run.metrics or seconds is not None:
            timing = f" ({duration(seconds)})" if seconds is not None else ""
            lines.append(f"  {layer:<7} {layer_text(layer, run.metrics.get(layer))}{timing}")
    return lines


def layer_text(layer: str, metrics: dict[str, int] | None) -> str:
    """Rows in and out, as the run's summary counts them; for silver also duplicates and quarantined by reason.

    Bronze's rows out are the rows it wrote, silver's the events it wrote, gold's its tables' rows.
    """
    if metrics is None:
        return "nothing new"
    parts = [f"rows in {metrics.get('rows_in', 0):,}", f"rows out {metrics.get('rows_out', 0):,}"]
    if layer == "silver":
        reasons = {
            k.removeprefix(QUARANTINED): n for k, n in sorted(metrics.items()) if k.startswith(QUARANTINED)
        }
        by_reason = ", ".join(f"{reason} {n:,}" for reason, n in reasons.items() if n)
        parts.append(f"duplicates {metrics.get('duplicates_removed', 0):,}")
        parts.append(f"quarantined {sum(reasons.values()):,}" + (f": {by_reason}" if by_reason else ""))
    return ", ".join(parts)


def unfinished_lines(run: RunStatus) -> list[str]:
    """A run that wrote to tables but recorded no metrics: killed, failed, or still running."""
    return [
        f"UNFINISHED  {clock(run.at)}  run {run.run_id}  recorded no metrics: it stopped (or is still "
        "running) after writing to",
        f"  {', '.join(run.tables)}",
    ]


def clock(moment: dt.datetime) -> str:
    """A UTC wall-clock time, to the second."""
    return f"{moment:%Y-%m-%d %H:%M:%S} UTC"


def duration(span: dt.timedelta | float) -> str:
    """``12.3s``, ``4m 05s``, ``3h 07m`` or ``2d 5h``: a span of time (a negative one counts as 0)."""
    seconds = round(max(span.total_seconds() if isinstance(span, dt.timedelta) else span, 0.0), 1)
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes}m {secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours}h {minutes:02d}m"
    return f"{hours // 24}d {hours % 24}h"


# --- For the chart ---------------------------------------------------------------------------------
def runs_frame(health: Health) -> pd.DataFrame:
    """One row per ended run, oldest first: when, rows out of each layer, quarantined rows per reason."""
    ended = [run for run in reversed(run_statuses(health)) if run.ended]
    reasons = sorted(
        {key for run in ended for key in run.metrics.get("silver", {}) if key.startswith(QUARANTINED)}
    )
    rows = [
        {
            "ended_at": run.at,
            "run_id": run.run_id,
            **{f"{layer}_rows": run.metrics.get(layer, {}).get("rows_out", 0) for layer in LAYERS},
            **{reason: run.metrics.get("silver", {}).get(reason, 0) for reason in reasons},
        }
        for run in ended
    ]
    return pd.DataFrame(
        rows, columns=["ended_at", "run_id", *(f"{layer}_rows" for layer in LAYERS), *reasons]
    )
