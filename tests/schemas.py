"""The gold tables' schemas as DDL, and an exact DataFrame comparison, shared by the gold tests."""

from __future__ import annotations

from functools import partial

from pyspark.testing import assertDataFrameEqual

# rtol/atol default to a relative tolerance that would let 1000.00 equal 1000.01.
assert_exact = partial(assertDataFrameEqual, rtol=0, atol=0)

PERFORMANCE_DDL = (
    "event_date DATE, product_id INT, product_name STRING, category STRING, total_views BIGINT, "
    "total_adds_to_cart BIGINT, total_purchases BIGINT, total_revenue DECIMAL(20,2), revenue_rank INT"
)
SUMMARY_DDL = (
    "user_id INT, region STRING, total_purchase_value DECIMAL(20,2), total_purchases BIGINT, "
    "distinct_products_purchased BIGINT, last_purchase_timestamp TIMESTAMP"
)
