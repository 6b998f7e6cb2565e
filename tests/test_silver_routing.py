"""Silver's routing of one micro-batch, on batch DataFrames: every row's route, exactly."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from zenith.lakehouse import config as names
from zenith.lakehouse.streams import txn_app_id
from zenith.pipeline.silver.transforms import route_events

BRONZE_DDL = (
    "event_id STRING, event_timestamp STRING, event_dt TIMESTAMP, user_id INT, event_type STRING, "
    "product_id INT, session_id STRING, _corrupt_record STRING, source_file STRING, "
    "ingestion_timestamp TIMESTAMP"
)
INGESTED = dt.datetime(2026, 3, 2, 12, 0)
WATERMARK = dt.datetime(2026, 3, 1, 10, 0)  # the newest event time of the earlier batches


def bronze_row(
    event_id, at, product_id=10, user_id=1, corrupt=None, source_file="f1.json", action="view_product"
):
    when = dt.datetime.fromisoformat(at) if at else None
    return (event_id, at, when, user_id, action, product_id, "s", corrupt, source_file, INGESTED)


@pytest.fixture(scope="module")
def dimensions(spark):
    products = spark.createDataFrame(
        [(10, "Oak Desk", "Furniture", Decimal("249.99"))],
        "product_id INT, product_name STRING, category STRING, price DECIMAL(10,2)",
    )
    customers = spark.createDataFrame([(1, "East Coast")], "customer_id INT, region STRING")
    return products, customers


def routes(spark, dimensions, rows, seen=(), watermark=WATERMARK, horizon_hours=24):
    products, customers = dimensions
    events = spark.createDataFrame(rows, BRONZE_DDL)
    seen_ids = spark.createDataFrame(list(seen), "event_id STRING, seen_at TIMESTAMP")
    routed = events.transform(route_events(products, customers, seen_ids, watermark, 3650, horizon_hours))
    rows = routed.select("event_id", "event_timestamp", "route", "late", "region").collect()
    return sorted((tuple(r) for r in rows), key=lambda r: tuple(str(v) for v in r))


def test_a_resent_id_within_the_horizon_is_a_duplicate_however_far_its_time_moved(spark, dimensions):
    rows = [
        bronze_row("resent", "2026-03-01T18:00:00"),  # sent again 8 hours later, ingested 5 hours after
        bronze_row("past-horizon", "2026-03-01T18:00:00"),
    ]
    seen = [("resent", INGESTED - dt.timedelta(hours=5)), ("past-horizon", INGESTED - dt.timedelta(hours=25))]

    assert routes(spark, dimensions, rows, seen) == [
        ("past-horizon", "2026-03-01T18:00:00", "silver", False, "East Coast"),
        ("resent", "2026-03-01T18:00:00", "duplicate", False, "East Coast"),
    ]


def test_copies_in_one_batch_keep_the_earliest_and_unknown_products_keep_every_copy(spark, dimensions):
    rows = [
        bronze_row("e1", "2026-03-01T10:00:05"),
        bronze_row("e1", "2026-03-01T10:00:00", source_file="f2.json"),
        bronze_row("e1", "2026-03-01T10:00:09"),
        bronze_row("odd", "2026-03-01T10:01:00", product_id=777),
        bronze_row("odd", "2026-03-01T10:01:00", product_id=777),
    ]

    assert routes(spark, dimensions, rows) == [
        ("e1", "2026-03-01T10:00:00", "silver", False, "East Coast"),
        ("e1", "2026-03-01T10:00:05", "duplicate", False, "East Coast"),
        ("e1", "2026-03-01T10:00:09", "duplicate", False, "East Coast"),
        ("odd", "2026-03-01T10:01:00", "unknown_product", False, "East Coast"),
        ("odd", "2026-03-01T10:01:00", "unknown_product", False, "East Coast"),
    ]


def test_an_event_of_an_unknown_or_missing_type_is_quarantined_before_the_watermark(spark, dimensions):
    rows = [
        bronze_row("refund", "2026-03-01T12:00:00", action="refund"),
        bronze_row("no-type", "2026-03-01T12:00:00", action=None),
        bronze_row("shouted", "2026-03-01T12:00:00", action="PURCHASE"),
        bronze_row("bought", "2026-03-01T10:00:00", action="purchase"),
    ]

    assert routes(spark, dimensions, rows) == [
        ("bought", "2026-03-01T10:00:00", "silver", False, "East Coast"),
        ("no-type", "2026-03-01T12:00:00", "unknown_event_type", False, "East Coast"),
        ("refund", "2026-03-01T12:00:00", "unknown_event_type", False, "East Coast"),
        ("shouted", "2026-03-01T12:00:00", "unknown_event_type", False, "East Coast"),
    ]


def test_rows_behind_the_watermark_are_late_unless_silver_has_their_id(spark, dimensions):
    rows = [
        bronze_row("on-time", "2026-03-01T09:57:00"),  # exactly at the 3-minute watermark
        bronze_row("late", "2026-03-01T09:56:59"),
        bronze_row("late-copy", "2026-03-01T08:00:00"),
        bronze_row("late-unknown", "2026-03-01T08:00:00", product_id=777),
        bronze_row("stranger", "2026-03-01T09:58:00", user_id=99),
        bronze_row(None, "2026-03-01T09:58:00"),
        bronze_row("broken", None, corrupt="{oops"),
    ]
    seen = [("late-copy", INGESTED - dt.timedelta(minutes=1))]

    assert routes(spark, dimensions, rows, seen) == [
        (None, "2026-03-01T09:58:00", "missing_event_id", False, "East Coast"),
        ("broken", None, "corrupt_record", False, "East Coast"),
        ("late", "2026-03-01T09:56:59", "late", True, "East Coast"),
        ("late-copy", "2026-03-01T08:00:00", "duplicate", True, "East Coast"),
        ("late-unknown", "2026-03-01T08:00:00", "unknown_product", True, "East Coast"),
        ("on-time", "2026-03-01T09:57:00", "silver", False, "East Coast"),
        ("stranger", "2026-03-01T09:58:00", "silver", False, None),
    ]


def test_the_first_batch_has_no_watermark_so_nothing_is_late(spark, dimensions):
    rows = [bronze_row("old", "2020-01-01T00:00:00"), bronze_row("new", "2026-03-01T10:00:00")]

    assert [route[2:4] for route in routes(spark, dimensions, rows, watermark=None)] == [
        ("silver", False),
        ("silver", False),
    ]


def test_the_transaction_id_belongs_to_the_checkpoint_and_a_lost_checkpoint_gets_a_new_one(tmp_path):
    config = names.Config(lakehouse=tmp_path)
    first = txn_app_id(config, names.SILVER_ACTIVITY)

    assert txn_app_id(config, names.SILVER_ACTIVITY) == first
    (config.checkpoint(names.SILVER_ACTIVITY) / "zenith_txn_app_id").unlink()
    assert txn_app_id(config, names.SILVER_ACTIVITY) not in ("", first)
