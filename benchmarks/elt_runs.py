"""The processes ``bench_pipeline.py`` times: ``python ELT.py`` on a benchmark lakehouse, and its yardsticks.

The landing zone is generated once per seed and size into a cache folder and hard-linked into
each new lakehouse. Each local Spark process gets its own event-log folder, so its Spark jobs
are counted (``process_runs.measure_spark``).
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from process_runs import ProcessRun, measure_spark, python_script, run_measured

from zenith.demo.generator import generate
from zenith.demo.settings import GeneratorSettings
from zenith.lakehouse import config as names
from zenith.lakehouse.config import LAKEHOUSE_ENV, LANDING, TIMINGS_FILE_ENV, Config

READY = ".complete"


def landing_zone(cache: Path, settings: GeneratorSettings) -> Path:
    """The cached landing volumes for ``settings``, generated on first use."""
    key = f"seed{settings.seed}-events{settings.events}-files{settings.files}-c{settings.customers}-p{settings.products}"
    folder = cache / key
    config = Config(lakehouse=folder)
    landing = config.volumes_root / LANDING
    if not (folder / READY).exists():
        shutil.rmtree(folder, ignore_errors=True)
        print(f"generating {settings.events:,} events into {folder} (once)...", file=sys.stderr)
        generate(config, settings, log=lambda _: None)
        (folder / READY).touch()
    return landing


def link_tree(source: Path, target: Path) -> None:
    """Hard-link every file of ``source`` into ``target`` (copy where links are not possible)."""
    for path in source.rglob("*"):
        destination = target / path.relative_to(source)
        if path.is_dir():
            destination.mkdir(parents=True, exist_ok=True)
            continue
        destination.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(path, destination)
        except OSError:
            shutil.copy2(path, destination)


def fresh_lakehouse(workdir: Path, landing: Path) -> tuple[Path, dict[str, str]]:
    """A new lakehouse in ``workdir`` holding (links to) the landing files, and the environment to use it."""
    lakehouse = workdir / "lakehouse"
    link_tree(landing, Config(lakehouse=lakehouse).volumes_root / LANDING)
    env = {**os.environ, LAKEHOUSE_ENV: str(lakehouse), TIMINGS_FILE_ENV: str(workdir / "timings.json")}
    return lakehouse, env


def land_events(lakehouse: Path, settings: GeneratorSettings, events: int) -> None:
    """Land ``events`` more demo events in new files (the next days of the same demo data)."""
    generate(Config(lakehouse=lakehouse), replace(settings, events=events), log=lambda _: None)


def measure_elt(
    name: str, workdir: Path, log_name: str, env: dict[str, str], jobs: bool = True
) -> ProcessRun:
    """Time one ``python ELT.py`` process and read the timings it wrote.

    With ``jobs`` its local Spark logs its events into a folder of its own and its jobs are counted
    (a Spark Connect client has no local Spark: the server's log counts its jobs).
    """
    timings_file = Path(env[TIMINGS_FILE_ENV])
    timings_file.unlink(missing_ok=True)
    command, log = [sys.executable, "ELT.py"], workdir / log_name
    if jobs:
        elt = measure_spark(name, command, log, env, workdir / "event-logs" / Path(log_name).stem)
    else:
        elt = run_measured(name, command, log, env)
    if timings_file.exists():
        elt.timings = json.loads(timings_file.read_text())
        # The child stamps wall-clock times; the session's start-up counts from the process launch.
        ready_at = elt.timings.pop("session_ready_at", None)
        if ready_at is not None:
            elt.timings["session_ready"] = ready_at - (time.time() - elt.seconds)
    return elt


def setup_lakehouse(workdir: Path, env: dict[str, str]) -> None:
    """``zenith setup`` as its own process (not measured)."""
    zenith = Path(sys.executable).with_name("zenith")
    run_measured("zenith setup", [str(zenith), "setup"], workdir / "setup.log", env)


def last_json_line(run: ProcessRun) -> dict:
    """The JSON object a yardstick printed as its last line of output."""
    return json.loads(run.stdout.strip().splitlines()[-1])


def run_duckdb(workdir: Path, landing: Path) -> ProcessRun:
    """The DuckDB yardstick as its own process; its stdout is a JSON line of row counts."""
    command = python_script("duckdb_gold.py", landing, workdir / "duck")
    duck = run_measured("duckdb", command, workdir / "duckdb.log")
    duck.timings = last_json_line(duck)
    return duck


def run_plain_job(
    workdir: Path, landing: Path, name: str = "plain job (a)", tag: str = "plain"
) -> ProcessRun:
    """Yardstick (a): the plain PySpark batch medallion on the same files, into a lakehouse of its own."""
    command = python_script("plain_medallion.py", landing, workdir / f"{tag}-lakehouse")
    plain = measure_spark(
        name, command, workdir / f"{tag}.log", dict(os.environ), workdir / "event-logs" / tag
    )
    plain.timings = last_json_line(plain)
    return plain


def run_spark_floor(workdir: Path, lakehouse: Path) -> ProcessRun:
    """Yardstick (b): start the same local Spark, count the pipeline's bronze events table, stop."""
    table = Config(lakehouse=lakehouse).table_path(names.BRONZE_EVENTS)
    command = python_script("spark_floor.py", table)
    floor = measure_spark(
        "Spark floor (b)", command, workdir / "floor.log", dict(os.environ), workdir / "event-logs" / "floor"
    )
    floor.timings = last_json_line(floor)
    return floor


def folder_mib(folder: Path) -> float:
    """The size of every file under ``folder``, in MiB."""
    return sum(path.stat().st_size for path in folder.rglob("*") if path.is_file()) / 2**20


def silver_mib(lakehouse: Path) -> float:
    """The size of the silver table on disk: the duplicate lookup reads its rows within the horizon."""
    return folder_mib(Config(lakehouse=lakehouse).table_path(names.SILVER_ACTIVITY))


@dataclass
class IncrementalRuns:
    """The runs after a cold one on the same lakehouse: +1% new events, nothing new, one new event."""

    new_events: int
    plus_one: ProcessRun
    nothing_new: ProcessRun
    one_event: ProcessRun
    new_files: list[Path]  # the event files the +1% landed


def incremental_series(
    lakehouse: Path,
    settings: GeneratorSettings,
    measure: Callable[[str, str], ProcessRun],
    label: str = "",
    prefix: str = "elt",
) -> IncrementalRuns:
    """Land 1% more events and time a run, a run with nothing new, then land one event and time a run.

    ``measure(name, log_name)`` times one ``python ELT.py`` on ``lakehouse``; ``label`` ends the
    runs' names and ``prefix`` starts their log files' names.
    """
    new_events = max(1, settings.events // 100)
    events_folder = Config(lakehouse=lakehouse).events_landing
    before = set(events_folder.rglob("*"))
    land_events(lakehouse, settings, new_events)
    new_files = sorted(path for path in set(events_folder.rglob("*")) - before if path.is_file())
    plus_one = measure(f"python ELT.py{label} (+1%)", f"{prefix}-incremental.log")
    nothing_new = measure(f"python ELT.py{label} (nothing new)", f"{prefix}-noop.log")
    land_events(lakehouse, settings, 1)
    one_event = measure(f"python ELT.py{label} (1 new event)", f"{prefix}-one-event.log")
    return IncrementalRuns(new_events, plus_one, nothing_new, one_event, new_files)


def new_files_landing(workdir: Path, lakehouse: Path, new_files: list[Path]) -> Path:
    """A landing zone of the dimensions and only the event files in ``new_files`` (linked)."""
    subset = workdir / "new-files-landing"
    config, subset_config = Config(lakehouse=lakehouse), Config(lakehouse=subset)
    for folder in (config.customers_landing, config.products_landing):
        link_tree(
            folder, subset_config.volumes_root / LANDING / folder.relative_to(config.volumes_root / LANDING)
        )
    for path in new_files:
        target = subset_config.events_landing / path.relative_to(config.events_landing)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.link(path, target)
    return subset_config.volumes_root / LANDING
