"""Issue 19's edge cases, each on a fresh lakehouse: a kill during a first commit."""

from __future__ import annotations

import os
import time
import uuid
from decimal import Decimal

import pytest
from pyspark.sql import functions as F

from tests.landing import event, write_customers, write_events, write_products
from tests.reliability import (
    DAY,
    gold_rows,
    quarantine_rows,
    run_metrics,
    run_pipeline,
    silver_metrics,
    silver_rows,
)
from tests.test_reliability import desk_view
from zenith.lakehouse import config as names
from zenith.lakehouse.runtime import register_local_tables
from zenith.lakehouse.setup import setup_environment
from zenith.lakehouse.tables import read_table

MONTH_AGO = time.time() - 30 * 24 * 3600


@pytest.fixture
def config(spark, lakehouse_config):
    setup_environment(spark, lakehouse_config)
    write_customers(lakehouse_config)
    write_products(lakehouse_config)
    return lakehouse_config


def bronze_files(spark, config) -> list[tuple]:
    """(event_id, file name) of every bronze event, sorted."""
    rows = read_table(spark, config, names.BRONZE_EVENTS).select(
        "event_id", F.regexp_extract("source_file", r"([^/]+)$", 1)
    )
    return sorted(tuple(r) for r in rows.collect())


def land_backfill(config, name: str, *lines: str) -> None:
    """Land an event file with a modification time 30 days back, as ``cp -p`` or ``rsync -a`` do."""
    write_events(config, name, *lines)
    os.utime(config.events_landing / name, (MONTH_AGO, MONTH_AGO))


# Case 4 --------------------------------------------------------------------------------------
def leave_first_commit_shell(config, table) -> None:
    """What a ``kill -9`` during a table's first commit leaves: a ``_delta_log`` without a version.

    An empty ``_staged_commits/``, the commit's temporary file, and a data file no version lists.
    """
    folder = config.table_path(table)
    (folder / "_delta_log" / "_staged_commits").mkdir(parents=True)
    (folder / "_delta_log" / f".{0:020d}.json.{uuid.uuid4()}.tmp").write_text('{"commitInfo":')
    (folder / f"part-00000-{uuid.uuid4()}-c000.snappy.parquet").write_bytes(b"PAR1")


def test_a_kill_during_any_tables_first_commit_leaves_a_folder_the_next_run_makes_the_table(
    spark, config, capsys
):
    for table in names.TABLES:  # the bronze stream's, silver's, gold's and the system tables
        leave_first_commit_shell(config, table)
    write_events(
        config,
        "events-1.json",
        event("e1", "2026-03-01T10:00:00+00:00", event_type="purchase"),
        event("e9", "2026-03-01T10:01:00+00:00", product_id=30),
    )

    assert register_local_tables(spark, config) == []
    notes = capsys.readouterr().err.splitlines()
    path = config.table_path(names.RUN_METRICS)
    assert (
        f"note: {path} holds no committed Delta version (a run stopped during the table's first commit); "
        f"{config.table_name(names.RUN_METRICS)} is created by the next write"
    ) in notes
    assert len([note for note in notes if note.startswith("note: ")]) == len(names.TABLES)

    run, _ = run_pipeline(config)

    assert bronze_files(spark, config) == [("e1", "events-1.json"), ("e9", "events-1.json")]
    assert silver_rows(spark, config) == [desk_view("e1", "2026-03-01T10:00:00")]
    assert quarantine_rows(spark, config) == [("unknown_product", "e9", "2026-03-01T10:01:00+00:00")]
    assert gold_rows(spark, config) == [(DAY, 10, 0, 0, 1, Decimal("249.99"))]
    assert run_metrics(spark, config, run) == silver_metrics(
        rows_read=2, quarantined_unknown_product=1, rows_written=1
    )
    summary = read_table(spark, config, names.GOLD_CUSTOMER_SUMMARY).select(
        "user_id", "region", "total_purchases", "total_purchase_value"
    )
    assert [tuple(r) for r in summary.collect()] == [(1, "East Coast", 1, Decimal("249.99"))]
    ingested = read_table(spark, config, names.INGESTED_FILES).select("rows")
    assert [tuple(r) for r in ingested.collect()] == [(2,)]
    assert sorted(register_local_tables(spark, config)) == sorted(map(config.table_name, names.TABLES))
