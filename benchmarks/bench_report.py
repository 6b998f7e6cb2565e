"""What ``bench_pipeline.py`` prints: each run's timings, the yardstick ratios against their targets, JSON.

Every ratio is of two whole processes measured in the same benchmark run, so both shared
whatever else the machine was doing; each is printed with its target and whether it is met.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from connect_runs import ConnectRuns
from elt_runs import IncrementalRuns
from process_runs import ProcessRun

JOB_TARGET = 25  # Spark jobs of a run that brings one new event, in a warm session
PEAK_MIB_TARGET = 3 * 1024  # peak memory of a cold run's process tree, at any size up to 10M events
CONNECT_EVENT_SECONDS = 5.0  # a one-event run through a warm Spark Connect server


@dataclass(frozen=True)
class Target:
    """A measured figure, its upper bound, and how to print it."""

    name: str
    value: float
    limit: float
    unit: str = "x"  # "x" for a ratio, "" for a fraction, " jobs" for a count, " MiB" or " s"
    note: str = ""

    @property
    def met(self) -> bool:
        return self.value <= self.limit

    def line(self) -> str:
        """E.g. ``cold run vs plain job (a): 2.10x (target <= 1.30x at 1M events: not met)``."""
        digits = {" jobs": 0, " MiB": 0, " s": 1}.get(self.unit, 2)
        note = f" {self.note}" if self.note else ""
        verdict = "met" if self.met else "not met"
        return (
            f"{self.name}: {self.value:.{digits}f}{self.unit} "
            f"(target <= {self.limit:.{digits}f}{self.unit}{note}: {verdict})"
        )


def cold_targets(events: int, cold: ProcessRun, plain: ProcessRun) -> list[Target]:
    """The cold run against the plain job (a): at most 1.3x at 1M events, 1.5x from 5M, where silver's
    layer may take at most 1.5x the plain job's silver step too; peak memory at most 3 GB.
    """
    from_5m = events >= 5_000_000
    limit, size = (1.5, "5M") if from_5m else (1.3, "1M")
    targets = [
        Target("cold run vs plain job (a)", cold.seconds / plain.seconds, limit, note=f"at {size} events")
    ]
    silver, plain_silver = cold.timings.get("silver"), plain.timings.get("silver s")
    if from_5m and silver and plain_silver:
        targets.append(
            Target(
                "silver layer vs the plain job's silver step", silver / plain_silver, 1.5, note="at 5M events"
            )
        )
    targets.append(
        Target("peak memory of the cold run (PSS, process tree)", cold.peak_rss_mib, PEAK_MIB_TARGET, " MiB")
    )
    return targets


def incremental_targets(
    cold: ProcessRun, series: IncrementalRuns, floor: ProcessRun, plain_new: ProcessRun
) -> list[Target]:
    """The nothing-new run against the Spark floor (b), the +1% run against the cold one and against the
    plain job (a) on the +1% files only, jobs of one event.
    """
    targets = [
        Target("nothing-new run vs Spark floor (b)", series.nothing_new.seconds / floor.seconds, 1.5),
        Target("+1% run as a fraction of the cold run", series.plus_one.seconds / cold.seconds, 0.30, ""),
        Target(
            "+1% run vs plain job (a) on the +1% files only", series.plus_one.seconds / plain_new.seconds, 1.5
        ),
    ]
    if series.one_event.jobs is not None:
        note = "in a warm session; this run was a fresh process, its start-up jobs included"
        targets.append(
            Target("Spark jobs of the 1-event run", series.one_event.jobs, JOB_TARGET, " jobs", note)
        )
    return targets


def connect_targets(connect: ConnectRuns, plain: ProcessRun) -> list[Target]:
    """Whole client processes through the warm server against the plain job (a); jobs of one event."""
    series = connect.series
    return [
        Target(
            "nothing-new run via Connect vs plain job (a)", series.nothing_new.seconds / plain.seconds, 0.10
        ),
        Target("+1% run via Connect vs plain job (a)", series.plus_one.seconds / plain.seconds, 0.25),
        Target(
            "1-event run via Connect",
            series.one_event.seconds,
            CONNECT_EVENT_SECONDS,
            " s",
            "on a warm server",
        ),
        Target(
            "Spark jobs of the 1-event run via Connect",
            series.one_event.jobs or 0,
            JOB_TARGET,
            " jobs",
            "in a warm session",
        ),
    ]


def timing_lines(title: str, elt: ProcessRun) -> list[str]:
    """Session start-up, each layer and each table or query of one ELT.py run, then the rest."""
    timings = dict(elt.timings)
    ready = timings.pop("session_ready", None)
    lines = [title]
    lines.append(
        f"  {'Spark session ready':<44} {ready:>8.1f} s" if ready is not None else "  (no timings file)"
    )
    for name, seconds in timings.items():
        indent = "  " if "." not in name else "    "
        lines.append(f"{indent}{name:<{46 - len(indent)}} {seconds:>8.1f} s")
    layers = sum(seconds for name, seconds in timings.items() if "." not in name)
    if ready is not None:
        rest = elt.seconds - ready - layers
        lines.append(f"  {'analytics, data quality, summary and exit':<44} {rest:>8.1f} s")
    lines.append(f"  {'whole process':<44} {elt.seconds:>8.1f} s")
    return lines


def run_line(run: ProcessRun) -> str:
    """One process: wall and CPU seconds, peak memory of its tree, Spark jobs."""
    jobs = f", {run.jobs} Spark jobs" if run.jobs is not None else ""
    return (
        f"{run.name}: {run.seconds:.1f} s ({run.cpu_seconds:.1f} CPU s), "
        f"peak PSS {run.peak_rss_mib:.0f} MiB{jobs}"
    )


def cold_lines(
    events: int, elt: ProcessRun, duck: ProcessRun, plain: ProcessRun, floor: ProcessRun
) -> list[str]:
    """The cold run by part, its yardsticks, and the ratios between them."""
    return [
        *timing_lines(f"cold run of python ELT.py on {events:,} events", elt),
        f"  {'events/s':<44} {events / elt.seconds:>10,.0f}",
        f"  {'CPU seconds (process tree)':<44} {elt.cpu_seconds:>8.1f} s",
        f"  {'peak RSS (process tree, PSS)':<44} {elt.peak_rss_mib:>8.0f} MiB",
        f"  {'Spark jobs (event log)':<44} {elt.jobs:>8}",
        f"{run_line(duck)}, rows {duck.timings}",
        f"{run_line(plain)}, rows and seconds by step {plain.timings}",
        f"{run_line(floor)}, rows {floor.timings}",
        f"ratio ELT.py / DuckDB (whole processes): {elt.seconds / duck.seconds:.1f}x wall time, "
        f"{elt.cpu_seconds / duck.cpu_seconds:.1f}x CPU time",
        f"ratio ELT.py / plain job (a): {elt.cpu_seconds / plain.cpu_seconds:.2f}x CPU time, "
        f"{elt.peak_rss_mib / plain.peak_rss_mib:.2f}x peak memory",
    ]


def incremental_lines(
    cold: ProcessRun, series: IncrementalRuns, silver_size_mib: float, plain_new: ProcessRun
) -> list[str]:
    """The incremental runs by part, each as a whole process, the plain job on the new files, silver's size."""
    plus_one = series.plus_one
    return [
        *timing_lines(f"incremental run (+1%: {series.new_events:,} new events), by part", plus_one),
        *timing_lines("run with nothing new, by part", series.nothing_new),
        *(run_line(run) for run in (plus_one, series.nothing_new, series.one_event, plain_new)),
        f"ratio incremental / cold run: {plus_one.cpu_seconds / cold.cpu_seconds:.2f} CPU time",
        f"plain job (a) on the +1% files only, as a fraction of the cold run: {plain_new.seconds / cold.seconds:.2f}",
        f"silver table on disk after the runs (the duplicate lookup's input): {silver_size_mib:.1f} MiB",
    ]


def connect_lines(connect: ConnectRuns) -> list[str]:
    """The client processes through the warm Spark Connect server (memory: the client's tree only)."""
    series = connect.series
    return [
        "through a warm Spark Connect server (client processes; jobs from the server's event log)",
        *(
            f"  {run_line(run)}"
            for run in (connect.warm_up, series.plus_one, series.nothing_new, series.one_event)
        ),
    ]


def run_json(run: ProcessRun | None) -> dict | None:
    """A run's figures without its output."""
    return None if run is None else asdict(run) | {"stdout": None}


def series_json(series: IncrementalRuns, floor: ProcessRun, plain: ProcessRun) -> dict:
    """The incremental series, with the +1% run normalised by this benchmark's yardsticks.

    A +1% run on a 5M base and one on a 1M base come from two benchmark runs: compare their
    ``incremental.seconds``, or, on a machine whose load changed in between, ``incremental_vs_floor``.
    """
    return {
        "incremental_events": series.new_events,
        "incremental": run_json(series.plus_one),
        "nothing_new": run_json(series.nothing_new),
        "one_event": run_json(series.one_event),
        "incremental_vs_floor": series.plus_one.seconds / floor.seconds,
        "incremental_vs_plain": series.plus_one.seconds / plain.seconds,
    }
