"""The SQL questions against small gold tables written to a temporary lakehouse, and table printing."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest

from tests.schemas import PERFORMANCE_DDL, SUMMARY_DDL, assert_exact
from zenith.lakehouse import config as names
from zenith.lakehouse import tables
from zenith.lakehouse.setup import setup_environment
from zenith.pipeline.analytics import (
    DAILY_CATEGORY_REVENUE,
    QUESTIONS,
    TOP_CUSTOMERS,
    TOP_PRODUCTS,
    format_table,
    run_analytics,
)

OLD_DAY, LATEST_DAY = date(2024, 3, 1), date(2024, 3, 2)

# (event_date, product_id, category, total_purchases, total_revenue); names, views, carts and
# ranks do not matter to the questions.
PERFORMANCE = [
    (OLD_DAY, 99, "Toys", 100, "500.00"),  # the best seller, but not on the latest day
    (OLD_DAY, 1, "Electronics", 1, "10.00"),
    (LATEST_DAY, 1, "Electronics", 5, "50.00"),
    (LATEST_DAY, 2, "Electronics", 5, "80.00"),
    (LATEST_DAY, 3, "Electronics", 5, "80.00"),
    (LATEST_DAY, 4, "Books", 9, "9.00"),
    (LATEST_DAY, 5, "Books", 1, "10.00"),
    (LATEST_DAY, 6, "Toys", 0, "0.00"),
    (LATEST_DAY, 7, "Toys", 2, "20.00"),
]

# (user_id, region, total_purchase_value, total_purchases)
CUSTOMERS = [
    (5, "EU", "999.99", 3),
    (12, "US", "500.00", 2),
    (1, "EU", "500.00", 5),
    (2, "US", "400.00", 4),
    (3, None, "300.00", 1),
    (4, "EU", "200.00", 2),
    (6, "US", "100.00", 1),
    (7, "EU", "90.00", 1),
    (8, "US", "80.00", 1),
    (10, "EU", "70.00", 1),
    (9, "US", "70.00", 1),  # ties with user 10 for the tenth place and wins on user_id
    (11, None, "60.00", 1),
]


@pytest.fixture
def gold_config(spark, lakehouse_config):
    """A lakehouse holding the two small gold tables above."""
    setup_environment(spark, lakehouse_config)
    performance = spark.createDataFrame(
        [
            (day, product, f"P{product}", category, 0, 0, purchases, Decimal(revenue), 1)
            for day, product, category, purchases, revenue in PERFORMANCE
        ],
        PERFORMANCE_DDL,
    )
    summary = spark.createDataFrame(
        [
            (user, region, Decimal(value), purchases, 1, datetime(2024, 3, 2))
            for user, region, value, purchases in CUSTOMERS
        ],
        SUMMARY_DDL,
    )
    tables.overwrite_table(performance, lakehouse_config, names.GOLD_PRODUCT_PERFORMANCE)
    tables.overwrite_table(summary, lakehouse_config, names.GOLD_CUSTOMER_SUMMARY)
    return lakehouse_config


def test_the_three_questions_are_asked_in_order():
    assert list(QUESTIONS) == [TOP_PRODUCTS, DAILY_CATEGORY_REVENUE, TOP_CUSTOMERS]


def test_top_products_is_latest_day_only_cut_at_five_ties_by_revenue_then_product(spark, gold_config):
    answer = run_analytics(spark, gold_config)[TOP_PRODUCTS]

    expected = spark.createDataFrame(
        [
            (LATEST_DAY, 4, "P4", "Books", 9, Decimal("9.00")),
            (LATEST_DAY, 2, "P2", "Electronics", 5, Decimal("80.00")),
            (LATEST_DAY, 3, "P3", "Electronics", 5, Decimal("80.00")),
            (LATEST_DAY, 1, "P1", "Electronics", 5, Decimal("50.00")),
            (LATEST_DAY, 7, "P7", "Toys", 2, Decimal("20.00")),
        ],
        "event_date DATE, product_id INT, product_name STRING, category STRING, "
        "total_purchases BIGINT, total_revenue DECIMAL(20,2)",
    )
    assert_exact(answer, expected, checkRowOrder=True)


def test_category_revenue_sums_each_day_biggest_category_first(spark, gold_config):
    answer = run_analytics(spark, gold_config)[DAILY_CATEGORY_REVENUE]

    expected = spark.createDataFrame(
        [
            (OLD_DAY, "Toys", Decimal("500.00")),
            (OLD_DAY, "Electronics", Decimal("10.00")),
            (LATEST_DAY, "Electronics", Decimal("210.00")),
            (LATEST_DAY, "Toys", Decimal("20.00")),
            (LATEST_DAY, "Books", Decimal("19.00")),
        ],
        "event_date DATE, category STRING, revenue DECIMAL(30,2)",
    )
    assert_exact(answer, expected, checkRowOrder=True)


def test_top_customers_cut_at_ten_ties_broken_by_user_id(spark, gold_config):
    answer = run_analytics(spark, gold_config)[TOP_CUSTOMERS]

    expected = spark.createDataFrame(
        [
            (5, "EU", Decimal("999.99"), 3),
            (1, "EU", Decimal("500.00"), 5),
            (12, "US", Decimal("500.00"), 2),
            (2, "US", Decimal("400.00"), 4),
            (3, None, Decimal("300.00"), 1),
            (4, "EU", Decimal("200.00"), 2),
            (6, "US", Decimal("100.00"), 1),
            (7, "EU", Decimal("90.00"), 1),
            (8, "US", Decimal("80.00"), 1),
            (9, "US", Decimal("70.00"), 1),
        ],
        "user_id INT, region STRING, total_purchase_value DECIMAL(20,2), total_purchases BIGINT",
    )
    assert_exact(answer, expected, checkRowOrder=True)


def test_format_table_aligns_columns_and_right_aligns_numbers(spark):
    df = spark.createDataFrame(
        [("Books", Decimal("19.00"), 3), ("Electronics", Decimal("210.00"), None)],
        "category STRING, revenue DECIMAL(10,2), orders INT",
    )

    assert format_table(df) == (
        "category     revenue  orders\n"
        "-----------  -------  ------\n"
        "Books          19.00       3\n"
        "Electronics   210.00    NULL"
    )


def test_format_table_says_when_rows_are_left_out(spark):
    df = spark.createDataFrame([(1,), (2,), (3,)], "n INT")

    assert format_table(df, max_rows=2) == "n\n-\n1\n2\n(only the first 2 rows are shown)"
