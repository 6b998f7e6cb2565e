"""Issue 14's hostile cases, each on a fresh lakehouse: exact silver, quarantine and gold rows, and metrics."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest

from tests.landing import PRODUCTS, event, write_customers, write_events, write_products
from tests.reliability import (
    DAY,
    gold_rows,
    quarantine_rows,
    run_metrics,
    run_pipeline,
    silver_metrics,
    silver_rows,
    table_version,
    ts,
    views,
)
from zenith.lakehouse import config as names
from zenith.lakehouse import tables
from zenith.lakehouse.config import Config
from zenith.lakehouse.errors import ZenithError
from zenith.lakehouse.run_lock import LOCK_FILE
from zenith.lakehouse.runtime import register_local_tables
from zenith.lakehouse.setup import setup_environment
from zenith.lakehouse.tables import created_empty, read_table, table_exists


def desk_view(event_id: str, at: str) -> tuple:
    """The silver row of a product-10 view by user 1."""
    return (event_id, ts(at), "East Coast", 10, Decimal("249.99"))


# 1 -------------------------------------------------------------------------------------------
def test_bad_clocks_are_quarantined_before_the_watermark_and_late_rows_are_findable(spark, config):
    write_events(
        config,
        "events-1.json",
        event("e1", "2026-03-01T10:00:00+00:00"),
        event("future", "2099-01-01T00:00:00+00:00"),  # would move the watermark to 2099
        event("epoch", "1970-01-01T00:00:00+00:00"),
    )
    run_pipeline(config)
    write_events(
        config,
        "events-2.json",
        event("e2", "2026-03-01T10:01:00+00:00"),
        event("late", "2026-03-01T09:00:00+00:00"),  # behind the 09:57 watermark
    )
    second, _ = run_pipeline(config)

    assert silver_rows(spark, config) == [
        desk_view("e1", "2026-03-01T10:00:00"),
        desk_view("e2", "2026-03-01T10:01:00"),
    ]
    assert quarantine_rows(spark, config) == [
        ("future_timestamp", "future", "2099-01-01T00:00:00+00:00"),
        ("late", "late", "2026-03-01T09:00:00+00:00"),
        ("stale_timestamp", "epoch", "1970-01-01T00:00:00+00:00"),
    ]
    assert gold_rows(spark, config) == [views(10, 2)]
    assert run_metrics(spark, config, second) == silver_metrics(
        rows_read=2, quarantined_late=1, late_dropped=1, rows_written=1
    )


# 2 -------------------------------------------------------------------------------------------
def test_a_resent_event_id_with_another_time_is_a_duplicate_in_one_file_and_in_a_later_run(spark, config):
    write_events(
        config,
        "events-1.json",
        event("e1", "2026-03-01T10:00:00+00:00"),
        event("e1", "2026-03-01T10:00:01+00:00"),  # the same event re-sent one second later
        event("e2", "2026-03-01T10:00:00+00:00", product_id=20),
    )
    first, _ = run_pipeline(config)
    write_events(config, "events-2.json", event("e1", "2026-03-01T10:00:02+00:00"))
    second, _ = run_pipeline(config)

    assert silver_rows(spark, config) == [
        desk_view("e1", "2026-03-01T10:00:00"),
        ("e2", ts("2026-03-01T10:00:00"), "East Coast", 20, Decimal("15.50")),
    ]
    assert quarantine_rows(spark, config) == []
    assert gold_rows(spark, config) == [views(10, 1), views(20, 1)]
    assert run_metrics(spark, config, first) == silver_metrics(
        rows_read=3, duplicates_removed=1, rows_written=2
    )
    assert run_metrics(spark, config, second) == silver_metrics(rows_read=1, duplicates_removed=1)


# 3 -------------------------------------------------------------------------------------------
def test_a_file_changed_in_place_is_warned_about_or_fails_as_chosen(spark, config):
    write_events(config, "events-1.json", event("e1", "2026-03-01T10:00:00+00:00"))
    run_pipeline(config)
    time.sleep(0.01)
    write_events(  # the upstream appends to the file it already delivered
        config,
        "events-1.json",
        event("e1", "2026-03-01T10:00:00+00:00"),
        event("e2", "2026-03-01T10:01:00+00:00"),
    )
    size_before = len(event("e1", "2026-03-01T10:00:00+00:00")) + 1

    second, lines = run_pipeline(config)

    warning = (
        "bronze  warning: 1 landed event file(s) changed after bronze ingested them and will not be read "
        f"again: events-1.json (ingested {size_before} bytes, now {2 * size_before}); "
        "land new content under a new file name"
    )
    assert warning in lines
    assert run_metrics(spark, config, second, "bronze")["bronze_user_events.changed_files"] == 1
    assert silver_rows(spark, config) == [desk_view("e1", "2026-03-01T10:00:00")]
    assert quarantine_rows(spark, config) == []
    assert gold_rows(spark, config) == [views(10, 1)]
    assert run_metrics(spark, config, second) == {}  # silver read nothing new, so it records nothing

    versions = {t: table_version(spark, config, t) for t in (names.BRONZE_CUSTOMERS, names.BRONZE_EVENTS)}
    with pytest.raises(
        ZenithError,
        match=r"^1 landed event file\(s\) changed .*events-1\.json.* set changed_files to warn\)$",
    ):
        run_pipeline(config, changed_files="fail")
    assert {t: table_version(spark, config, t) for t in versions} == versions


# 4 -------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def one_event_lakehouse(spark, tmp_path_factory) -> Config:
    """A lakehouse after one run over one event, built once for the cases that must change nothing.

    Each such case checks that its failed run left every table as it was, and undoes its own
    change to the folder (a checkpoint moved away, landing files replaced) before the next case.
    Between cases the folder waits under another name: other tests empty the session catalog
    with DROP SCHEMA ... CASCADE, which deletes a schema's folder. It is used at its own path
    only (bronze's checkpoint holds the landing's absolute path).
    """
    for schema in names.SCHEMAS:
        spark.sql(f"DROP SCHEMA IF EXISTS {names.quote(schema)} CASCADE")
    config = Config(lakehouse=tmp_path_factory.mktemp("one-event") / "lakehouse")
    setup_environment(spark, config)
    write_customers(config)
    write_products(config)
    write_events(config, "events-1.json", event("e1", "2026-03-01T10:00:00+00:00"))
    run_pipeline(config)
    config.lakehouse.rename(parked(config))
    return config


def parked(config: Config) -> Path:
    return config.lakehouse.with_name("parked")


@pytest.fixture
def one_event(spark, one_event_lakehouse) -> Iterator[Config]:
    """The shared one-event lakehouse at its own path, alone in the session catalog; parked after."""
    config = one_event_lakehouse
    for schema in names.SCHEMAS:  # the catalog names another test's lakehouse, or this one parked
        spark.sql(f"DROP SCHEMA IF EXISTS {names.quote(schema)} CASCADE")
    parked(config).rename(config.lakehouse)
    setup_environment(spark, config)  # idempotent: declares the schemas again
    register_local_tables(spark, config)
    yield config
    config.lakehouse.rename(parked(config))


def assert_one_event_tables(spark, config) -> None:
    """The shared lakehouse's tables as its one run left them."""
    assert read_table(spark, config, names.BRONZE_EVENTS).count() == 1
    assert silver_rows(spark, config) == [desk_view("e1", "2026-03-01T10:00:00")]
    assert quarantine_rows(spark, config) == []
    assert gold_rows(spark, config) == [views(10, 1)]


@pytest.mark.parametrize(
    ("table", "layers", "fix"),
    [
        (names.BRONZE_EVENTS, ("bronze",), "--full-refresh --layers bronze,silver,gold"),
        (names.SILVER_ACTIVITY, ("silver",), "--full-refresh --layers silver,gold"),
        (names.GOLD_PRODUCT_PERFORMANCE, ("gold",), "--full-refresh --layers gold"),
    ],
    ids=["bronze", "silver", "gold"],
)
def test_a_lost_checkpoint_with_rows_in_the_table_stops_with_the_fix(spark, one_event, table, layers, fix):
    config = one_event
    checkpoint = config.checkpoint(table)
    kept = checkpoint.with_name(checkpoint.name + ".kept")
    checkpoint.rename(kept)  # lost, as far as the run can tell
    try:
        with pytest.raises(ZenithError) as raised:
            run_pipeline(config, layers=layers)
        assert not checkpoint.exists()
    finally:
        shutil.rmtree(checkpoint, ignore_errors=True)
        kept.rename(checkpoint)

    message = str(raised.value)
    assert message.startswith(f"the checkpoint of {config.table_name(table)} ({checkpoint}) is missing")
    assert fix in message
    assert "\n" not in message
    assert_one_event_tables(spark, config)


def test_only_a_table_whose_one_commit_added_no_data_is_known_empty_without_a_spark_job(spark, config):
    schema = "user_id INT, events BIGINT, last_gold_batch BIGINT"
    tables.ensure_table(spark.createDataFrame([], schema), config, names.NULL_REGION_USERS)
    assert created_empty(config, names.NULL_REGION_USERS)
    tables.append_table(spark.createDataFrame([(1, 2, 0)], schema), config, names.NULL_REGION_USERS)
    assert not created_empty(config, names.NULL_REGION_USERS)
    first_commit_with_rows = config.table_path(names.RUN_METRICS)
    spark.createDataFrame([(1, 2, 0)], schema).write.format("delta").save(str(first_commit_with_rows))
    assert not created_empty(config, names.RUN_METRICS)
    assert not created_empty(config, names.SILVER_BATCHES)  # no table at all


# 5 -------------------------------------------------------------------------------------------
def test_a_pretty_printed_json_array_in_json_lines_mode_is_refused_naming_the_setting(spark, config):
    records = [event("a1", "2026-03-01T10:00:00+00:00"), event("a2", "2026-03-01T10:01:00+00:00")]
    config.events_landing.mkdir(parents=True, exist_ok=True)
    path = config.events_landing / "events-1.json"
    path.write_text("[\n  " + ",\n  ".join(records) + "\n]\n")

    with pytest.raises(ZenithError) as raised:
        run_pipeline(config)

    assert str(raised.value) == (
        f"{path}: the file is a JSON array over several lines but the JSON-array setting is off: "
        "turn it on (--json-array, or the json_array widget) for such files"
    )
    assert not any(table_exists(spark, config, t) for t in names.TABLES)


# 6 -------------------------------------------------------------------------------------------
def test_a_second_run_on_the_same_lakehouse_stops_in_one_line_until_the_first_dies(spark, config):
    write_events(config, "events-1.json", event("e1", "2026-03-01T10:00:00+00:00"))
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(config.lakehouse / LOCK_FILE)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(ZenithError) as raised:
            run_pipeline(config)
    finally:
        holder.kill()  # kill -9: the operating system releases the lock
        holder.wait()

    assert str(raised.value) == (
        f"another run is in progress since 2026-11-26 23:00:00 UTC (pid {holder.pid}) on {config.lakehouse}: "
        "wait for it to end"
    )
    assert not table_exists(spark, config, names.BRONZE_EVENTS)
    run, _ = run_pipeline(config)
    assert silver_rows(spark, config) == [desk_view("e1", "2026-03-01T10:00:00")]
    assert quarantine_rows(spark, config) == []
    assert gold_rows(spark, config) == [views(10, 1)]
    assert run_metrics(spark, config, run) == silver_metrics(rows_read=1, rows_written=1)


HOLD_LOCK = """
import fcntl, os, sys, time
handle = open(sys.argv[1], "a+")
fcntl.flock(handle, fcntl.LOCK_EX)
handle.write(f"2026-11-26 23:00:00 UTC (pid {os.getpid()})\\n")
handle.flush()
print("locked", flush=True)
time.sleep(120)
"""


# 7 -------------------------------------------------------------------------------------------
def test_events_of_an_unknown_product_are_quarantined_and_join_silver_after_a_full_refresh(spark, config):
    write_events(
        config,
        "events-1.json",
        event("e1", "2026-03-01T10:00:00+00:00"),
        event("e9", "2026-03-01T10:01:00+00:00", product_id=30),
    )
    first, _ = run_pipeline(config)
    assert quarantine_rows(spark, config) == [("unknown_product", "e9", "2026-03-01T10:01:00+00:00")]
    assert run_metrics(spark, config, first) == silver_metrics(
        rows_read=2, quarantined_unknown_product=1, rows_written=1
    )

    with_chair = pd.concat([PRODUCTS, pd.DataFrame({"product_id": [30], "product_name": ["Chair"],
                                                    "category": ["Furniture"], "price": [80.0]})])  # fmt: skip
    write_products(config, with_chair)
    run_pipeline(config)  # a plain re-run does not revisit quarantine
    assert silver_rows(spark, config) == [desk_view("e1", "2026-03-01T10:00:00")]

    refreshed, _ = run_pipeline(config, layers=("silver", "gold"), full_refresh=True)

    assert silver_rows(spark, config) == [
        desk_view("e1", "2026-03-01T10:00:00"),
        ("e9", ts("2026-03-01T10:01:00"), "East Coast", 30, Decimal("80.00")),
    ]
    assert quarantine_rows(spark, config) == []
    assert gold_rows(spark, config) == [views(10, 1), views(30, 1)]
    assert run_metrics(spark, config, refreshed) == silver_metrics(rows_read=2, rows_written=2)


# 8 -------------------------------------------------------------------------------------------
def test_conflicting_dimension_rows_keep_the_last_row_of_the_newest_file_and_are_counted(spark, config):
    write_customers(
        config, "customer_id,signup_date,location\n1,2025-01-05,Philadelphia\n1,2025-01-05,Los Angeles\n"
    )
    old = PRODUCTS.assign(price=[219.99, 15.5])
    write_products(config, old, "products-a.parquet")
    write_products(config, PRODUCTS.assign(price=[999.99, 15.5]), "products-b.parquet")
    os.utime(config.products_landing / "products-b.parquet", (1, 1))  # b is the older file
    (config.products_landing / "products.parquet").unlink()
    write_events(config, "events-1.json", event("e1", "2026-03-01T10:00:00+00:00", event_type="purchase"))

    run, lines = run_pipeline(config)

    assert silver_rows(spark, config) == [
        ("e1", ts("2026-03-01T10:00:00"), "West Coast", 10, Decimal("219.99"))
    ]
    assert quarantine_rows(spark, config) == []
    assert gold_rows(spark, config) == [(DAY, 10, 0, 0, 1, Decimal("219.99"))]
    assert run_metrics(spark, config, run) == silver_metrics(
        rows_read=1, rows_written=1, conflicting_product_ids=1, conflicting_customer_ids=1
    )
    assert (
        "silver  warning: 1 customer_id(s) have conflicting rows; used the last row of the newest file"
        in lines
    )


def test_a_bad_products_file_fails_the_run_before_any_table_changes(spark, one_event, tmp_path):
    config = one_event
    versions = {t: table_version(spark, config, t) for t in names.TABLES if table_exists(spark, config, t)}
    landed = tmp_path / "landed"  # the shared lakehouse's landing files, put back after the case
    shutil.copytree(config.customers_landing.parent, landed)
    try:
        write_customers(config, "customer_id,signup_date,location\n1,2025-01-05,Houston\n")
        write_products(config, PRODUCTS.assign(price=["cheap", "free"]))
        write_events(config, "events-2.json", event("e2", "2026-03-01T10:01:00+00:00"))

        with pytest.raises(ZenithError, match=r"products\.parquet: column price has type string"):
            run_pipeline(config)
    finally:
        (config.events_landing / "events-2.json").unlink()
        shutil.copytree(landed, config.customers_landing.parent, dirs_exist_ok=True)

    assert {t: table_version(spark, config, t) for t in versions} == versions
    assert_one_event_tables(spark, config)
