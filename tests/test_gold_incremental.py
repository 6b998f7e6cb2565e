"""Incremental gold: after every kind of new silver data, both gold tables equal a full recompute."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from pyspark.errors import PySparkException

from tests.reliability import table_version
from tests.schemas import assert_exact
from tests.test_gold import EVENTS, SILVER_DDL, silver_row
from zenith.lakehouse import config as names
from zenith.lakehouse import tables
from zenith.lakehouse.config import Config
from zenith.lakehouse.runtime import register_local_tables
from zenith.lakehouse.setup import setup_environment
from zenith.pipeline.gold import writes as gold_writes
from zenith.pipeline.gold.layer import run_gold
from zenith.pipeline.gold.transforms import (
    customer_purchase_summary,
    daily_product_performance,
    null_region_counts,
    summary_from_state,
)

DAY_1 = [e for e in EVENTS if e[1].startswith("2024-03-01")]
DAY_2 = [e for e in EVENTS if e[1].startswith("2024-03-02")]
# New purchases on a new day, by a known and an unknown customer, one of a product already bought.
DAY_3 = [
    ("e21", "2024-03-03 10:00:00", "purchase", 1, 1),
    ("e22", "2024-03-03 10:05:00", "purchase", 1, 2),
    ("e23", "2024-03-03 11:00:00", "view_product", 4, 3),
    ("e24", "2024-03-03 12:00:00", "purchase", 3, 10),
]
# A late purchase for day 1, inside the watermark when silver took it.
LATE_FOR_DAY_1 = [("e25", "2024-03-01 23:58:00", "purchase", 4, 3)]


def append_silver(spark, config, events) -> None:
    rows = spark.createDataFrame([silver_row(*event) for event in events], SILVER_DDL)
    tables.append_table(rows, config, names.SILVER_ACTIVITY)


def assert_gold_equals_full_recompute(spark, config) -> None:
    silver = tables.read_table(spark, config, names.SILVER_ACTIVITY)
    performance = tables.read_table(spark, config, names.GOLD_PRODUCT_PERFORMANCE)
    summary = tables.read_table(spark, config, names.GOLD_CUSTOMER_SUMMARY)
    assert_exact(performance, silver.transform(daily_product_performance()))
    assert_exact(summary, customer_purchase_summary(silver))
    no_region = tables.read_table(spark, config, names.NULL_REGION_USERS).select("user_id", "events")
    assert_exact(no_region, null_region_counts(silver))


def run_gold_killed_after(spark, config, monkeypatch, writer: str, last) -> list[tuple]:
    """Run gold with ``gold_writes.<writer>`` dying just after the call ``last(*args)`` picks, as a kill then would.

    Returns each call's arguments.
    """
    real = getattr(gold_writes, writer)
    calls = []

    def write_then_die(*args):
        calls.append(args)
        real(*args)
        if last(*args):
            raise RuntimeError(f"killed after {writer}")

    monkeypatch.setattr(gold_writes, writer, write_then_die)
    with pytest.raises((PySparkException, RuntimeError)):
        run_gold(spark, config, log=lambda _: None)
    monkeypatch.setattr(gold_writes, writer, real)
    return calls


@pytest.fixture(scope="module")
def day_1_copy(spark, tmp_path_factory) -> tuple[Config, Path]:
    """A lakehouse with gold after day 1, built once, and a copy of its folder as it was then."""
    drop_schemas(spark)
    root = tmp_path_factory.mktemp("gold-day-1")
    config = Config(lakehouse=root / "lakehouse")
    setup_environment(spark, config)
    append_silver(spark, config, DAY_1)
    run_gold(spark, config, log=lambda _: None)
    shutil.copytree(config.lakehouse, root / "copy")
    return config, root / "copy"


@pytest.fixture
def gold_on_day_1(spark, day_1_copy) -> Config:
    """Gold after day 1, as built: the copy is put back at the lakehouse's own path (never moved elsewhere)."""
    config, copy = day_1_copy
    drop_schemas(spark)  # DROP SCHEMA ... CASCADE deletes the folders: the copy is apart
    shutil.rmtree(config.lakehouse, ignore_errors=True)
    shutil.copytree(copy, config.lakehouse)
    setup_environment(spark, config)
    register_local_tables(spark, config)
    return config


def drop_schemas(spark) -> None:
    for schema in names.SCHEMAS:
        spark.sql(f"DROP SCHEMA IF EXISTS {names.quote(schema)} CASCADE")


def test_new_date_is_added_and_equals_a_full_recompute(spark, gold_on_day_1):
    append_silver(spark, gold_on_day_1, DAY_2 + DAY_3)

    report = run_gold(spark, gold_on_day_1, log=lambda _: None)

    assert report.rows_in == len(DAY_2 + DAY_3)
    assert_gold_equals_full_recompute(spark, gold_on_day_1)
    no_region = tables.read_table(spark, gold_on_day_1, names.NULL_REGION_USERS).select("user_id", "events")
    assert [tuple(row) for row in no_region.collect()] == [(3, 7)]  # user 3 is not a customer


def test_a_kill_in_a_new_golds_first_batch_is_replayed_without_counting_twice(
    spark, lakehouse_config, monkeypatch
):
    """The first batch appends (its tables are empty); a replay's appends are skipped by Delta's txn ids."""
    setup_environment(spark, lakehouse_config)
    append_silver(spark, lakehouse_config, DAY_1 + DAY_2 + DAY_3)
    calls = run_gold_killed_after(
        spark, lakehouse_config, monkeypatch, "append_once", lambda *args: args[2] == "state"
    )

    run_gold(spark, lakehouse_config, log=lambda _: None)

    assert [(key, batch) for _, _, key, batch in calls] == [("performance", 0), ("state", 0)]
    assert_gold_equals_full_recompute(spark, lakehouse_config)
    state = tables.read_table(spark, lakehouse_config, names.GOLD_CUSTOMER_STATE)  # each customer once
    silver = tables.read_table(spark, lakehouse_config, names.SILVER_ACTIVITY)
    assert_exact(state.transform(summary_from_state), customer_purchase_summary(silver))


def test_late_event_for_an_old_date_recomputes_that_date(spark, gold_on_day_1):
    append_silver(spark, gold_on_day_1, DAY_2)
    run_gold(spark, gold_on_day_1, log=lambda _: None)
    append_silver(spark, gold_on_day_1, LATE_FOR_DAY_1)

    run_gold(spark, gold_on_day_1, log=lambda _: None)

    assert_gold_equals_full_recompute(spark, gold_on_day_1)
    tablet_day_1 = (
        tables.read_table(spark, gold_on_day_1, names.GOLD_PRODUCT_PERFORMANCE)
        .where("event_date = DATE'2024-03-01' AND product_id = 3")
        .select("total_purchases", "revenue_rank")
        .collect()
    )
    assert [tuple(row) for row in tablet_day_1] == [(2, 3)]  # 600.00 behind the two tied at 1000.00


def test_no_new_silver_rows_writes_no_table_version(spark, gold_on_day_1):
    before = {t: table_version(spark, gold_on_day_1, t) for t in names.TABLES if t.schema == names.GOLD}

    report = run_gold(spark, gold_on_day_1, log=lambda _: None)

    assert report.rows_in == 0
    assert {t: table_version(spark, gold_on_day_1, t) for t in before} == before


def test_untouched_dates_are_never_read_from_silver(spark, gold_on_day_1):
    """Data skipping on event_date: day 1's silver file is gone, yet a day-2 refresh succeeds."""
    day_1_files = set(tables.read_table(spark, gold_on_day_1, names.SILVER_ACTIVITY).inputFiles())
    append_silver(spark, gold_on_day_1, DAY_2)
    for uri in day_1_files:
        path = uri.removeprefix("file:")
        os.remove(path)

    run_gold(spark, gold_on_day_1, log=lambda _: None)

    day_2 = tables.read_table(spark, gold_on_day_1, names.GOLD_PRODUCT_PERFORMANCE).where(
        "event_date = DATE'2024-03-02'"
    )
    silver_day_2 = tables.read_table(spark, gold_on_day_1, names.SILVER_ACTIVITY).where(
        "event_date = DATE'2024-03-02'"
    )
    assert_exact(day_2, silver_day_2.transform(daily_product_performance()))


def test_a_kill_after_the_state_merge_is_replayed_without_counting_twice(spark, gold_on_day_1, monkeypatch):
    append_silver(spark, gold_on_day_1, DAY_2 + DAY_3)
    calls = run_gold_killed_after(
        spark, gold_on_day_1, monkeypatch, "merge", lambda *args: args[2] == "state"
    )

    run_gold(spark, gold_on_day_1, log=lambda _: None)

    assert [key for _, _, key, _, _ in calls] == ["state"]
    assert_gold_equals_full_recompute(spark, gold_on_day_1)
