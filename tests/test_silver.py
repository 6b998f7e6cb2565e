"""Silver: trusted, deduplicated, enriched events; every row read is accounted for."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pandas as pd
import pytest
from pyspark.sql import functions as F
from pyspark.testing import assertDataFrameEqual

from tests.landing import event, write_customers, write_events, write_products
from zenith.lakehouse import config as names
from zenith.lakehouse.setup import setup_environment
from zenith.lakehouse.tables import read_table
from zenith.pipeline.bronze import layer as bronze
from zenith.pipeline.silver import layer as silver
from zenith.pipeline.silver import regions
from zenith.pipeline.silver.quarantine import QUARANTINE_COLUMNS

SILVER_KEY_COLUMNS = (
    "event_id STRING, event_dt TIMESTAMP, event_date DATE, action STRING, user_id INT, session_id STRING, "
    "region STRING, product_id INT, product_name STRING, category STRING, price DECIMAL(10,2)"
)


# (location, region): the coasts by city, any other non-blank location Central, NULL or blank none.
LOCATIONS = [
    (" new york", "East Coast"),
    ("PHILADELPHIA", "East Coast"),
    ("Los Angeles ", "West Coast"),
    ("\tsan DIEGO\n", "West Coast"),
    ("Chicago", "Central"),
    ("denver", "Central"),
    ("  Boston ", "Central"),
    ("Paris", "Central"),
    ("", None),
    ("   ", None),
    (None, None),
]


def test_regions_of_a_pandas_series_ignore_case_and_spaces_and_put_unlisted_cities_in_central():
    locations = pd.Series([location for location, _ in LOCATIONS], dtype=object)

    result = regions.regions_of(locations)

    assert result.tolist() == [region for _, region in LOCATIONS]
    assert result.index.equals(locations.index)


def test_regions_of_an_all_null_batch_are_all_none():
    assert regions.regions_of(pd.Series([None, None], dtype=object)).tolist() == [None, None]


def test_categorize_region_through_spark_gives_the_same_regions(spark):
    df = spark.createDataFrame([(location,) for location, _ in LOCATIONS], "location STRING")

    result = df.select("location", regions.categorize_region("location").alias("region"))

    expected = spark.createDataFrame(LOCATIONS, "location STRING, region STRING")
    assertDataFrameEqual(result, expected)


def test_customer_dimension_gives_each_valid_customer_its_region_once(spark):
    rows = [(1, " new york"), (1, " new york"), (2, "Paris"), (3, None), (4, " "), (None, "Chicago")]
    customers = spark.createDataFrame(
        [(*row, "customers.csv", dt.datetime(2026, 3, 1), position) for position, row in enumerate(rows)],
        "customer_id INT, location STRING, source_file STRING, source_file_modified TIMESTAMP, source_row BIGINT",
    )

    result = silver.customer_dimension(customers)

    expected = spark.createDataFrame(
        [(1, "East Coast"), (2, "Central"), (3, None), (4, None)], "customer_id INT, region STRING"
    )
    assertDataFrameEqual(result, expected)


@pytest.fixture
def config(spark, lakehouse_config):
    setup_environment(spark, lakehouse_config)
    write_customers(lakehouse_config)
    write_products(lakehouse_config)
    bronze.ingest_customers(spark, lakehouse_config)
    bronze.ingest_products(spark, lakehouse_config)
    return lakehouse_config


def run(spark, config, run_id="r"):
    bronze.ingest_events(spark, config)
    return silver.run_silver(spark, config, run_id, log=lambda _: None)


def silver_rows(spark, config):
    return read_table(spark, config, names.SILVER_ACTIVITY).select(
        *[column.split()[0] for column in SILVER_KEY_COLUMNS.split(", ")]
    )


def ts(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


def test_stream_quarantines_dedupes_joins_and_accounts_for_every_row(spark, config):
    write_events(
        config,
        "events-1.json",
        event("e1", "2026-03-01T10:00:00+00:00", user_id=1, event_type="purchase", product_id=10),
        event("e1", "2026-03-01T10:00:00+00:00", user_id=1, event_type="purchase", product_id=10),
        event("e2", "2026-03-01T23:59:59.5+00:00", user_id=2, event_type="view_product", product_id=20),
        event("e3", "2026-03-01T10:02:00+00:00", user_id=99, event_type="add_to_cart", product_id=20),
        event("e4", "2026-03-01T10:03:00+00:00", user_id=3, product_id=777),
        event(None, "2026-03-01T10:04:00+00:00"),
        event("e5", "not-a-time"),
        '{"event_id": "e6", "event_ti',
    )
    write_events(
        config, "events-2.json", event("e2", "2026-03-01T23:59:59.5+00:00", user_id=2, product_id=20)
    )

    report = run(spark, config)

    expected = spark.createDataFrame(
        [
            ("e1", ts("2026-03-01T10:00:00"), dt.date(2026, 3, 1), "purchase", 1, "s-1", "East Coast", 10,
             "Oak Desk", "Furniture", Decimal("249.99")),
            ("e2", ts("2026-03-01T23:59:59.5"), dt.date(2026, 3, 1), "view_product", 2, "s-1", "West Coast", 20,
             "Desk Lamp", "Home Decor", Decimal("15.50")),
            ("e3", ts("2026-03-01T10:02:00"), dt.date(2026, 3, 1), "add_to_cart", 99, "s-1", None, 20,
             "Desk Lamp", "Home Decor", Decimal("15.50")),
        ],
        SILVER_KEY_COLUMNS,
    )  # fmt: skip
    assertDataFrameEqual(silver_rows(spark, config), expected)
    assert report.metrics() == {
        "rows_read": 9,
        "quarantined_corrupt_record": 1,
        "quarantined_missing_event_id": 1,
        "quarantined_unparsable_timestamp": 1,
        "quarantined_future_timestamp": 0,
        "quarantined_stale_timestamp": 0,
        "quarantined_unknown_event_type": 0,
        "quarantined_unknown_product": 1,
        "quarantined_late": 0,
        "duplicates_removed": 2,
        "late_dropped": 0,
        "rows_written": 3,
        "conflicting_product_ids": 0,
        "conflicting_customer_ids": 0,
    }
    assert report.no_region == 1  # e3: user 99 is not a customer
    assert report.accounted == report.rows_read
    quarantine = read_table(spark, config, names.SILVER_QUARANTINE)
    reasons = sorted(tuple(r) for r in quarantine.select("quarantine_reason", "event_id").collect())
    assert reasons == [
        ("corrupt_record", None),
        ("missing_event_id", None),
        ("unknown_product", "e4"),
        ("unparsable_timestamp", "e5"),
    ]


def test_duplicate_in_a_later_run_is_removed_and_late_event_is_counted_not_lost(spark, config):
    write_events(config, "events-1.json", event("e1", "2026-03-01T11:00:00+00:00"))
    first = run(spark, config, "run-1")
    write_events(
        config,
        "events-2.json",
        event("e1", "2026-03-01T11:00:00+00:00"),  # re-delivered, within the watermark
        event("late", "2026-03-01T10:30:00+00:00"),  # 30 minutes behind a 3-minute watermark
        event("e2", "2026-03-01T11:01:00+00:00"),
    )
    second = run(spark, config, "run-2")

    assert (first.rows_read, first.rows_written) == (1, 1)
    assert (second.rows_read, second.duplicates_removed, second.late_dropped, second.rows_written) == (
        3,
        1,
        1,
        1,
    )
    assert second.accounted == second.rows_read
    assert sorted(r.event_id for r in silver_rows(spark, config).collect()) == ["e1", "e2"]
    # The late event is findable by its id in quarantine, and its drop is in the run metrics.
    late = read_table(spark, config, names.SILVER_QUARANTINE).where(F.col("quarantine_reason") == "late")
    assert [(r.event_id, r.run_id) for r in late.collect()] == [("late", "run-2")]
    assert second.quarantined["late"] == 1
    metrics = read_table(spark, config, names.RUN_METRICS).where("run_id = 'run-2' AND layer = 'silver'")
    assert dict(metrics.select("metric", "value").collect()) == second.metrics()
    # What keeps the next run's cost to its new data: silver's files are by date.
    detail = spark.sql(f"DESCRIBE DETAIL {config.table_name(names.SILVER_ACTIVITY)}").first()
    assert list(detail.partitionColumns) == ["event_date"]


def test_rerun_without_new_bronze_rows_writes_nothing(spark, config):
    write_events(config, "events-1.json", event("e1", "2026-03-01T11:00:00+00:00"))
    run(spark, config)
    quarantine = read_table(spark, config, names.SILVER_QUARANTINE)  # there before its first row
    assert (quarantine.columns, quarantine.collect()) == (list(QUARANTINE_COLUMNS), [])

    again = run(spark, config, run_id="again")

    assert (again.rows_read, again.rows_written, again.accounted) == (0, 0, 0)
    assert silver_rows(spark, config).count() == 1
    recorded = read_table(spark, config, names.RUN_METRICS).select("run_id").distinct().collect()
    assert [row.run_id for row in recorded] == ["r"]
