"""Gold transformations on a small hand-made silver batch: exact rows, exact cents."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest

from tests.schemas import PERFORMANCE_DDL, SUMMARY_DDL, assert_exact
from zenith.lakehouse import config as names
from zenith.lakehouse import tables
from zenith.lakehouse.setup import setup_environment
from zenith.pipeline.gold.layer import run_gold
from zenith.pipeline.gold.transforms import customer_purchase_summary, daily_product_performance

SILVER_DDL = (
    "event_id STRING, event_dt TIMESTAMP, event_date DATE, action STRING, user_id INT, session_id STRING, "
    "region STRING, product_id INT, product_name STRING, category STRING, price DECIMAL(10,2), "
    "source_file STRING, ingestion_timestamp TIMESTAMP"
)

PRODUCTS = {
    1: ("Laptop", "Electronics", "1000.00"),
    2: ("Phone", "Electronics", "500.00"),
    3: ("Tablet", "Electronics", "300.00"),
    4: ("Cable", "Electronics", "9.99"),
    10: ("Novel", "Books", "12.50"),
    11: ("Bookmark", "Books", "0.10"),
}
REGIONS = {1: "EU", 2: "US", 3: None, 4: "EU"}  # user 3 is unknown to the customer table

# (event_id, event time, action, user_id, product_id)
EVENTS = [
    ("e01", "2024-03-01 09:00:00", "view_product", 1, 1),
    ("e02", "2024-03-01 09:01:00", "view_product", 2, 1),
    ("e03", "2024-03-01 09:02:00", "view_product", 4, 1),
    ("e04", "2024-03-01 09:03:00", "add_to_cart", 1, 1),
    ("e05", "2024-03-01 09:05:00", "purchase", 1, 1),
    ("e06", "2024-03-01 10:00:00", "purchase", 2, 2),
    ("e07", "2024-03-01 10:01:00", "purchase", 2, 2),
    ("e08", "2024-03-01 10:02:00", "view_product", 2, 2),
    ("e09", "2024-03-01 11:00:00", "purchase", 3, 3),
    ("e10", "2024-03-01 12:00:00", "view_product", 4, 4),
    ("e11", "2024-03-01 12:01:00", "view_product", 3, 4),
    ("e12", "2024-03-01 13:00:00", "purchase", 1, 10),
    ("e13", "2024-03-01 13:10:00", "purchase", 3, 11),
    ("e14", "2024-03-01 13:11:00", "purchase", 3, 11),
    ("e15", "2024-03-01 13:12:00", "purchase", 3, 11),
    ("e16", "2024-03-02 23:59:59", "purchase", 1, 1),
    ("e17", "2024-03-02 08:00:00", "view_product", 4, 1),
    ("e18", "2024-03-02 09:00:00", "purchase", 2, 4),
    ("e19", "2024-03-02 09:01:00", "purchase", 2, 4),
    ("e20", "2024-03-02 00:00:00", "add_to_cart", 3, 4),
]

DAY_1, DAY_2 = date(2024, 3, 1), date(2024, 3, 2)


def silver_row(event_id: str, at: str, action: str, user_id: int, product_id: int) -> tuple:
    """A silver row, with the columns this test does not vary filled in from the lookups above."""
    event_dt = datetime.fromisoformat(at)
    name, category, price = PRODUCTS[product_id]
    return (
        event_id,
        event_dt,
        event_dt.date(),
        action,
        user_id,
        f"{user_id}-s1",
        REGIONS[user_id],
        product_id,
        name,
        category,
        Decimal(price),
        "events-0001.json",
        datetime(2024, 3, 3),
    )


@pytest.fixture(scope="module")
def silver(spark):
    return spark.createDataFrame([silver_row(*event) for event in EVENTS], SILVER_DDL)


@pytest.fixture(scope="module")
def expected_performance(spark):
    return spark.createDataFrame(
        [
            # Laptop and Phone tie on revenue: both rank 1, and Tablet comes third.
            (DAY_1, 1, "Laptop", "Electronics", 3, 1, 1, Decimal("1000.00"), 1),
            (DAY_1, 2, "Phone", "Electronics", 1, 0, 2, Decimal("1000.00"), 1),
            (DAY_1, 3, "Tablet", "Electronics", 0, 0, 1, Decimal("300.00"), 3),
            (DAY_1, 4, "Cable", "Electronics", 2, 0, 0, Decimal("0.00"), 4),
            (DAY_1, 10, "Novel", "Books", 0, 0, 1, Decimal("12.50"), 1),
            (DAY_1, 11, "Bookmark", "Books", 0, 0, 3, Decimal("0.30"), 2),
            (DAY_2, 1, "Laptop", "Electronics", 1, 0, 1, Decimal("1000.00"), 1),
            (DAY_2, 4, "Cable", "Electronics", 0, 1, 2, Decimal("19.98"), 2),
        ],
        PERFORMANCE_DDL,
    )


# One bucket is no salting; with 5 buckets and seed 7 every product-day with more than one event
# is spread over several salts (on the test session's local[2]), so the second step must recombine them.
@pytest.mark.parametrize(("salt_buckets", "seed"), [(1, None), (5, 7)])
def test_product_performance_counts_ranks_and_exact_revenue_whatever_the_salting(
    silver, expected_performance, salt_buckets, seed
):
    result = silver.transform(daily_product_performance(salt_buckets=salt_buckets, seed=seed))

    assert_exact(result, expected_performance)


def test_product_performance_rejects_fewer_than_one_salt_bucket():
    with pytest.raises(ValueError, match="salt_buckets"):
        daily_product_performance(salt_buckets=0)


def test_customer_summary_counts_only_purchases_and_keeps_unknown_region(spark, silver):
    result = customer_purchase_summary(silver)

    expected = spark.createDataFrame(
        [
            (1, "EU", Decimal("2012.50"), 3, 2, datetime(2024, 3, 2, 23, 59, 59)),
            (2, "US", Decimal("1019.98"), 4, 2, datetime(2024, 3, 2, 9, 1)),
            (3, None, Decimal("300.30"), 4, 2, datetime(2024, 3, 1, 13, 12)),
        ],
        SUMMARY_DDL,
    )
    assert_exact(result, expected)


def test_run_gold_writes_both_tables_and_reports_counts(
    spark, lakehouse_config, silver, expected_performance
):
    setup_environment(spark, lakehouse_config)
    tables.overwrite_table(silver, lakehouse_config, names.SILVER_ACTIVITY)
    logged: list[str] = []

    report = run_gold(spark, lakehouse_config, log=logged.append)

    written = tables.read_table(spark, lakehouse_config, names.GOLD_PRODUCT_PERFORMANCE)
    assert_exact(written, expected_performance)
    assert (report.rows_in, report.product_performance_rows, report.customer_summary_rows) == (20, 8, 3)
    assert logged[-1].startswith("gold: 20 new silver events -> 8 product-day rows, 3 customers in all, in ")
