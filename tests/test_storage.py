"""A read-only or full lakehouse: one line naming the path and the cause, then an exact recovery."""

from __future__ import annotations

import subprocess
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.landing import event, write_customers, write_events, write_products
from tests.reliability import (
    gold_rows,
    quarantine_rows,
    run_metrics,
    run_pipeline,
    silver_metrics,
    silver_rows,
    ts,
)
from tests.test_reliability import desk_view
from zenith.lakehouse import config as names
from zenith.lakehouse.config import Config
from zenith.lakehouse.errors import ZenithError, storage_problem
from zenith.lakehouse.setup import setup_environment
from zenith.lakehouse.tables import read_table


def mount(*args: str) -> None:
    done = subprocess.run(["mount", *args], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        pytest.skip(f"mounting needs root: {done.stderr.strip()}")


@contextmanager
def read_only(folder: Path):
    """``folder`` read-only for everyone (root included): a read-only bind mount over itself."""
    mount("--bind", str(folder), str(folder))
    try:
        mount("-o", "remount,ro,bind", str(folder))
        yield
    finally:
        subprocess.run(["umount", "--lazy", str(folder)], check=True)


@contextmanager
def full_disk(folder: Path):
    """The tmpfs at ``folder`` filled up to its last byte."""
    filler = folder / "filler"
    with filler.open("wb", buffering=0) as handle:  # unbuffered: closing it has nothing left to write
        for chunk in (65536, 4096, 1):
            try:
                while True:
                    handle.write(b"\0" * chunk)
            except OSError:
                pass
    try:
        yield
    finally:
        filler.unlink()


@pytest.fixture
def tmpfs(tmp_path):
    folder = tmp_path / "disk"
    folder.mkdir()
    mount("-t", "tmpfs", "-o", "size=16m", "tmpfs", str(folder))
    yield folder
    subprocess.run(["umount", "--lazy", str(folder)], check=True)  # Spark may still hold a file


PROBLEMS = {"read-only": (read_only, "Read-only file system"), "full": (full_disk, "No space left on device")}


def landed_event(config: Config, n: int) -> tuple:
    """Land ``events-<n>.json`` with event ``e<n>`` at 10:0<n-1>; the silver row it becomes."""
    at = f"2026-03-01T10:0{n - 1}:00"
    write_events(config, f"events-{n}.json", event(f"e{n}", at + "+00:00"))
    return desk_view(f"e{n}", at)


def test_a_read_only_or_full_lakehouse_fails_in_one_line_and_a_later_run_recovers(spark, tmpfs):
    """Each problem in turn on one lakehouse: the run fails in one line, the next one recovers exactly."""
    for schema in names.SCHEMAS:
        spark.sql(f"DROP SCHEMA IF EXISTS {names.quote(schema)} CASCADE")
    config = Config(lakehouse=tmpfs / "lakehouse")
    setup_environment(spark, config)
    write_customers(config)
    write_products(config)
    expected = [landed_event(config, 1)]
    run_pipeline(config)
    for n, (problem, (fault, cause)) in enumerate(PROBLEMS.items(), start=2):
        row = landed_event(config, n)

        with fault(tmpfs), pytest.raises(ZenithError) as raised:
            run_pipeline(config)

        message = str(raised.value)
        assert message.startswith(f"cannot write {config.lakehouse}/"), problem
        assert message.endswith(f": {cause}"), problem
        assert "\n" not in message, problem
        recovered, _ = run_pipeline(config)
        expected.append(row)
        assert silver_rows(spark, config) == expected, problem
        assert quarantine_rows(spark, config) == [], problem
        assert [row[:3] for row in gold_rows(spark, config)] == [(ts("2026-03-01T00:00:00").date(), 10, n)]
        assert run_metrics(spark, config, recovered) == silver_metrics(rows_read=1, rows_written=1), problem
        recovered.finish()


def test_a_storage_error_inside_silvers_stream_is_one_line_naming_the_table(spark, lakehouse_config):
    """Each problem in turn on silver's folder (a small tmpfs): one line naming the table, then recovery."""
    config = lakehouse_config
    silver = config.schema_path(names.SILVER)
    silver.mkdir(parents=True)
    mount("-t", "tmpfs", "-o", "size=16m", "tmpfs", str(silver))
    try:
        setup_environment(spark, config)
        write_customers(config)
        write_products(config)
        expected = [landed_event(config, 1)]
        run_pipeline(config)
        for n, (problem, (fault, cause)) in enumerate(PROBLEMS.items(), start=2):
            row = landed_event(config, n)

            with fault(silver), pytest.raises(ZenithError) as raised:
                run_pipeline(config)

            message = str(raised.value)
            assert message.startswith(f"cannot write {config.table_path(names.SILVER_ACTIVITY)}"), problem
            assert message.endswith(f" (table {config.table_name(names.SILVER_ACTIVITY)}): {cause}"), problem
            assert "\n" not in message, problem
            assert read_table(spark, config, names.BRONZE_EVENTS).count() == n, problem  # bronze ran
            assert silver_rows(spark, config) == expected, problem
            recovered, _ = run_pipeline(config)
            expected.append(row)
            assert silver_rows(spark, config) == expected, problem
            assert quarantine_rows(spark, config) == [], problem
            assert run_metrics(spark, config, recovered) == silver_metrics(rows_read=1, rows_written=1), (
                problem
            )
            recovered.finish()
    finally:
        subprocess.run(["umount", "--lazy", str(silver)], check=True)


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (
            RuntimeError(
                "Job aborted.\njava.io.FileNotFoundException: /lh/warehouse/t/part-0.parquet "
                "(Read-only file system)\n\tat java.base/java.io.FileOutputStream.open0"
            ),
            "cannot write /lh/warehouse/t/part-0.parquet: Read-only file system",
        ),
        (
            RuntimeError("java.io.IOException: No space left on device at file:/lh/_delta_log/0001.json"),
            "cannot write /lh/_delta_log/0001.json: No space left on device",
        ),
        (
            RuntimeError(
                "[TASK_WRITE_FAILED] Task failed while writing rows to file:/lh/warehouse/t. SQLSTATE: 58030\n"
                "\tat java.base/java.util.concurrent.ThreadPoolExecutor$Worker.run\n"
                "Caused by: org.apache.hadoop.fs.FSError: java.io.IOException: No space left on device"
            ),
            "cannot write /lh/warehouse/t: No space left on device",
        ),
        (OSError(30, "Read-only file system", "/lh/x"), "cannot write /lh/x: Read-only file system"),
        (RuntimeError("[TABLE_OR_VIEW_NOT_FOUND] missing"), None),
    ],
    ids=["java-read-only", "java-full", "spark-task-full", "python-read-only", "not-storage"],
)
def test_storage_problem_names_the_path_and_the_cause(error, expected):
    assert storage_problem(error) == expected


@pytest.mark.parametrize(
    ("deepest", "expected"),
    [
        (
            "java.io.FileNotFoundException: /lh/t/part-0.parquet (Read-only file system)",
            "cannot write /lh/t/part-0.parquet (table `02_silver`.`t`): Read-only file system",
        ),
        (
            "org.apache.hadoop.fs.FSError: java.io.IOException: No space left on device",
            "cannot write /lh/t (table `02_silver`.`t`): No space left on device",
        ),
    ],
    ids=["read-only", "full"],
)
def test_storage_problem_finds_the_cause_under_a_failed_stream_and_names_the_table(deepest, expected):
    failed = RuntimeError("[STREAM_FAILED] Query terminated with exception: [TASK_WRITE_FAILED] file:/lh/t.")
    failed._cause = RuntimeError("org.apache.spark.SparkException: [TASK_WRITE_FAILED] file:/lh/t.")
    failed._cause._cause = RuntimeError(deepest)

    assert storage_problem(failed, "`02_silver`.`t`") == expected
