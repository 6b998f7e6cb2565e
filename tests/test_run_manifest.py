"""Issue 18: a run with nothing new since the last successful one starts no Spark session.

The fingerprint comparison is tested on hand-made folders; one real ELT.py run (plus a second
that must not touch Spark) checks the whole path, and ``start`` with a ``get_spark`` that raises
shows cheaply which changes make the next run take the full path. A third real run, on new events,
closes with a status made from the stored one and what it wrote, equal to a read of the tables.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
from dataclasses import replace
from pathlib import Path

import pytest
from pyspark.sql import SparkSession

from tests.landing import event, write_customers, write_events, write_products
from tests.notebook_runner import FakeDbutils, FakeWidgets, run_notebook
from zenith.cli import main
from zenith.lakehouse import config as names
from zenith.lakehouse import manifest as manifest_module
from zenith.lakehouse.config import Config
from zenith.lakehouse.manifest import (
    Manifest,
    fingerprint,
    landing_listing,
    read_manifest,
    unchanged_since,
    write_manifest,
)
from zenith.lakehouse.setup import existing_local_setup, setup_environment
from zenith.pipeline import run as run_module
from zenith.pipeline.health import read as health_module
from zenith.pipeline.health.read import read_health
from zenith.pipeline.params import RunParams
from zenith.pipeline.run import PipelineRun

REPO = Path(__file__).resolve().parent.parent
PARAMS = RunParams().recorded()
DATA_QUALITY_TITLE = "Top 10 users whose events have no region (unknown or no location)"


# --- The fingerprint, without Spark -----------------------------------------------------------------
@pytest.fixture
def landed(tmp_path) -> Config:
    """A lakehouse folder with landed files, one table's Delta log and one stream checkpoint."""
    config = Config(lakehouse=tmp_path / "lakehouse")
    write_customers(config)
    write_products(config)
    write_events(config, "events-1.json", event("e1", "2026-03-01T10:00:00+00:00"))
    (config.events_landing / "_SUCCESS").write_text("")  # not data: Spark skips it, so does the listing
    log = config.table_path(names.BRONZE_EVENTS) / "_delta_log"
    log.mkdir(parents=True)
    for version in (0, 1):
        (log / f"{version:020d}.json").write_text("{}")
    (log / f"{1:020d}.checkpoint.parquet").write_text("")
    for part in ("offsets", "commits"):
        (config.checkpoint(names.BRONZE_EVENTS) / part).mkdir(parents=True)
        (config.checkpoint(names.BRONZE_EVENTS) / part / "0").write_text("v1")
        (config.checkpoint(names.BRONZE_EVENTS) / part / ".0.crc").write_text("")
    return config


def stored(config: Config, params: dict = PARAMS) -> Manifest:
    """Write the manifest a run would write for the lakehouse as it is now."""
    manifest = Manifest(
        "run-1", fingerprint(config, params, landing_listing(config)), {"analytics": {"Q": "A"}}
    )
    write_manifest(config.run_manifest, manifest)
    return manifest


def still_unchanged(config: Config, params: dict = PARAMS) -> bool:
    return unchanged_since(config.run_manifest, config, params, landing_listing(config)) is not None


def test_the_fingerprint_names_each_landed_file_the_newest_delta_commit_and_checkpoint_batch(landed):
    found = fingerprint(landed, PARAMS, landing_listing(landed))

    events = landed.events_landing / "events-1.json"
    assert found["landing"]["user_events"] == [
        ["events-1.json", events.stat().st_size, events.stat().st_mtime_ns]
    ]
    assert [name for name, _, _ in found["landing"]["customers"]] == ["customers.csv"]
    assert found["tables"]["01_bronze.bronze_user_events"][0] == f"{1:020d}.json"
    assert found["tables"]["02_silver.silver_sessionized_activity"] is None
    assert [batch[0] for batch in found["checkpoints"]["01_bronze.bronze_user_events"]] == ["0", "0"]
    assert found["params"] == PARAMS


def test_an_unchanged_lakehouse_matches_its_manifest(landed):
    manifest = stored(landed)

    assert unchanged_since(landed.run_manifest, landed, PARAMS, landing_listing(landed)) == manifest
    assert read_manifest(landed.run_manifest) == manifest


def new_event_file(config: Config) -> None:
    (config.events_landing / "2026").mkdir()
    write_events(config, "2026/events-2.json", event("e2", "2026-03-01T10:05:00+00:00"))


def touched_customers(config: Config) -> None:
    path = config.customers_landing / "customers.csv"
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000))  # same size, new mtime


def grown_customers(config: Config) -> None:
    with (config.customers_landing / "customers.csv").open("a") as handle:
        handle.write("4,2025-04-01,Boston\n")


def new_delta_version(config: Config) -> None:
    (config.table_path(names.BRONZE_EVENTS) / "_delta_log" / f"{2:020d}.json").write_text("{}")


def deleted_checkpoint(config: Config) -> None:
    shutil.rmtree(config.checkpoint(names.BRONZE_EVENTS))


def new_stream_batch(config: Config) -> None:
    (config.checkpoint(names.BRONZE_EVENTS) / "offsets" / "1").write_text("v1")


def deleted_schema_folder(config: Config) -> None:
    config.schema_path(names.GOLD).rmdir()


@pytest.mark.parametrize(
    "change",
    [
        new_event_file,
        touched_customers,
        grown_customers,
        new_delta_version,
        deleted_checkpoint,
        new_stream_batch,
        deleted_schema_folder,
    ],
)
def test_any_landed_table_or_checkpoint_change_means_a_full_run(landed, change):
    landed.schema_path(names.GOLD).mkdir(parents=True)
    stored(landed)

    change(landed)

    assert not still_unchanged(landed)


def test_a_hidden_file_in_the_landing_zone_changes_nothing(landed):
    stored(landed)

    (landed.events_landing / ".events-3.json.tmp").write_text("half written")
    (landed.customers_landing / "_SUCCESS").write_text("")

    assert still_unchanged(landed)


@pytest.mark.parametrize(
    "params",
    [
        RunParams(json_array=True),
        RunParams(layers=("bronze", "silver")),
        RunParams(catalog="other"),
        RunParams(changed_files="fail"),
        RunParams(max_event_age_days=30),
    ],
)
def test_other_run_parameters_mean_a_full_run(landed, params):
    stored(landed)

    assert not still_unchanged(landed, params.recorded())


@pytest.mark.parametrize("content", ["", "{not json", '{"run_id": "r"}'])
def test_a_missing_or_broken_manifest_means_a_full_run(landed, content):
    assert not still_unchanged(landed)
    landed.run_manifest.write_text(content)

    assert not still_unchanged(landed)


def test_a_run_that_starts_while_the_lakehouse_is_listed_means_a_full_run(landed, monkeypatch):
    """A run deletes the manifest before writing; the check reads it again after listing."""
    stored(landed)
    listing_tables = manifest_module.lakehouse_state

    def listing_while_a_run_starts(config):
        landed.run_manifest.unlink()  # what a run does under the lock, before it writes anything
        return listing_tables(config)

    monkeypatch.setattr(manifest_module, "lakehouse_state", listing_while_a_run_starts)

    assert not still_unchanged(landed)


# --- Real runs: ELT.py twice, then what sends the next run down the full path ------------------------
class SparkStarted(Exception):
    """Raised by the stand-in for ``get_spark``: the run took the full path."""


def no_spark(*args, **kwargs):
    raise SparkStarted


def run_elt(capsys) -> tuple[dict, str]:
    """ELT.py cell by cell with default job parameters, printing its answers as text; its namespace and output."""
    capsys.readouterr()
    namespace = {"dbutils": FakeDbutils(FakeWidgets()), "__file__": str(REPO / "ELT.py")}
    run_notebook(REPO / "ELT.py", namespace)
    return namespace, capsys.readouterr().out


def answers_printed(out: str) -> str:
    """What a run printed from its data-quality answer up to its summary."""
    return out[out.index(DATA_QUALITY_TITLE) : out.index("\nlayer ")]


def status_printed(out: str) -> str:
    """A run's closing status from its freshness on: the runs it lists (no "now" in it)."""
    return out[out.index("\nNewest event in silver: ") :]


def delta_commits(config: Config) -> list[str]:
    return sorted(
        str(path.relative_to(config.lakehouse)) for path in config.lakehouse.rglob("_delta_log/*.json")
    )


def starts_with_spark(config: Config, monkeypatch, **params) -> bool:
    """True if a run with ``params`` would start Spark (the full path), False if it skips."""
    with monkeypatch.context() as patch:
        patch.setattr(run_module, "get_spark", no_spark)
        try:
            run = PipelineRun.start(RunParams(lakehouse=str(config.lakehouse), **params), log=lambda _: None)
        except SparkStarted:
            return True
    assert run.spark is None
    assert run.skipped is not None
    return False


def test_a_second_run_with_nothing_new_starts_no_spark_and_repeats_the_answers(
    spark, lakehouse_config, monkeypatch, capsys
):
    config = lakehouse_config
    monkeypatch.setenv(names.LAKEHOUSE_ENV, str(config.lakehouse))
    monkeypatch.delenv("DATABRICKS_RUNTIME_VERSION", raising=False)
    setup_environment(spark, config)
    write_customers(config)
    write_products(config)
    write_events(
        config, "events-1.json", event("e1", "2026-03-01T10:00:00+00:00"), event("e2", "x", user_id=9)
    )
    first, first_out = run_elt(capsys)
    manifest = read_manifest(config.run_manifest)
    assert manifest is not None
    assert manifest.run_id == first["run"].run_id
    commits = delta_commits(config)

    monkeypatch.setattr(run_module, "get_spark", no_spark)
    second, second_out = run_elt(capsys)

    assert second_out.startswith(
        f"nothing new since run {manifest.run_id} at {manifest.finished_at}: no landed file, table or "
        "checkpoint changed; no Spark session started\n"
    )
    assert answers_printed(second_out) == answers_printed(first_out)
    assert "Top 5 products by purchases on the most recent day" in answers_printed(first_out)
    assert (second["bronze_reports"], second["silver_report"], second["gold_report"]) == (None, None, None)
    assert "nothing new: no input had changed, so no table was written\n\nPipeline health of " in second_out
    assert status_printed(second_out) == status_printed(first_out)  # the stored status, no Spark
    assert f"  run {manifest.run_id}  took " in status_printed(first_out)
    assert delta_commits(config) == commits
    assert read_manifest(config.run_manifest) == manifest
    monkeypatch.undo()
    monkeypatch.setenv(names.LAKEHOUSE_ENV, str(config.lakehouse))

    # Each of these sends the next run down the full path; undone, the fast path is back.
    assert starts_with_spark(config, monkeypatch, full_refresh=True)
    assert starts_with_spark(config, monkeypatch, json_array=True)
    assert starts_with_spark(config, monkeypatch, layers=("bronze", "silver", "gold"))
    write_events(config, "events-2.json", event("e3", "2026-03-01T10:05:00+00:00"))
    assert starts_with_spark(config, monkeypatch)
    (config.events_landing / "events-2.json").unlink()
    customers = config.customers_landing / "customers.csv"
    mtime = customers.stat().st_mtime_ns
    os.utime(customers, ns=(mtime, mtime + 1_000_000))
    assert starts_with_spark(config, monkeypatch)
    os.utime(customers, ns=(mtime, mtime))
    checkpoint = config.checkpoint(names.SILVER_ACTIVITY)
    checkpoint.rename(checkpoint.with_name("moved"))
    assert starts_with_spark(config, monkeypatch)
    checkpoint.with_name("moved").rename(checkpoint)
    assert not starts_with_spark(config, monkeypatch)

    # A run after a complete one: its status is the stored health and what the run wrote, no read of them.
    write_events(
        config,
        "events-3.json",
        event("e3", "2026-03-01T10:05:00+00:00"),
        event("e1", "2026-03-01T10:09:00+00:00"),  # a later copy of e1: a duplicate, not silver's newest
    )
    with monkeypatch.context() as patch:
        patch.setattr(health_module, "read_health", lambda *args: pytest.fail("read the health rows"))
        third, third_out = run_elt(capsys)
    health, live = third["run"].replay.health, read_health(spark, config)
    assert health.newest_silver_event == dt.datetime(2026, 3, 1, 10, 5)
    assert sorted(health.metrics) == sorted(live.metrics)
    assert len({run_id for run_id, *_ in health.metrics}) == 2  # the first run and this one
    assert replace(health, metrics=()) == replace(live, metrics=())
    assert "silver  rows in 2, rows out 1, duplicates 1, quarantined 0" in status_printed(third_out)

    # A run that dies after it started: it removed the manifest before writing anything.
    saved = config.run_manifest.read_text()
    bronze_only = RunParams(layers=("bronze",), lakehouse=str(config.lakehouse))  # other params: full path
    killed = PipelineRun.start(bronze_only, log=lambda _: None)
    assert not config.run_manifest.exists()
    monkeypatch.setattr(run_module.bronze, "run_bronze", lambda *args: no_spark())
    with pytest.raises(SparkStarted):
        killed.bronze()
    killed.finish()  # an incomplete run writes no manifest (and releases the lock)
    assert not config.run_manifest.exists()
    assert starts_with_spark(config, monkeypatch)

    config.run_manifest.write_text(saved)
    assert not starts_with_spark(config, monkeypatch)
    spark.sql(f"INSERT INTO {config.table_name(names.RUN_METRICS)} VALUES ('x', now(), 'bronze', 'n', 1)")
    assert starts_with_spark(config, monkeypatch)


# --- zenith setup -------------------------------------------------------------------------------
def test_setup_starts_no_spark_when_every_local_folder_exists(tmp_path, monkeypatch, capsys):
    for name in ("DATABRICKS_RUNTIME_VERSION", "ZENITH_SPARK_REMOTE", "SPARK_REMOTE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(SparkSession, "getActiveSession", classmethod(lambda cls: None))  # a fresh process
    monkeypatch.setattr("zenith.lakehouse.runtime.get_spark", no_spark)
    config = Config(lakehouse=tmp_path / "lakehouse")
    assert existing_local_setup(config) is None
    for folder in (
        config.volumes_root,
        *(config.schema_path(schema) for schema in names.SCHEMAS),
        *(config.volume_path(volume) for volume in names.VOLUMES),
    ):
        folder.mkdir(parents=True, exist_ok=True)

    assert main(["--lakehouse", str(config.lakehouse), "setup"]) == 0

    out = capsys.readouterr().out.splitlines()
    assert out[0] == "exists   catalog zenith_online"
    assert out[-1] == "setup: everything already exists; nothing changed"
    assert len(out) == 1 + len(names.SCHEMAS) + len(names.VOLUMES) + 1
    monkeypatch.setenv("ZENITH_SPARK_REMOTE", "sc://localhost:15002")  # a server's catalog outlives us
    assert existing_local_setup(config) is None
