"""Every table documented (comments, quality tier) and guarded by its Delta constraints, cheaply.

That a run documents every table it creates and that later runs commit data only is checked in
``test_pipeline``'s runs, which build that lakehouse anyway.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from tests.catalog import assert_documented, describe
from tests.reliability import table_version
from tests.schemas import PERFORMANCE_DDL, SUMMARY_DDL
from zenith.lakehouse import config as names
from zenith.lakehouse.catalog_docs import QUARANTINE_REASONS, TABLE_DOCS
from zenith.lakehouse.config import Config
from zenith.lakehouse.setup import setup_environment
from zenith.lakehouse.tables import append_table, ensure_table, read_table, register_local_table, table_exists
from zenith.pipeline.silver.quarantine import REASONS


def test_a_table_made_without_docs_gets_them_on_its_next_write_and_then_costs_no_commit(
    spark, lakehouse_config
):
    config = lakehouse_config
    setup_environment(spark, config)
    metrics = spark.createDataFrame(
        [("r1", dt.datetime(2026, 3, 1), "silver", "rows_read", 3)],
        "run_id STRING, recorded_at TIMESTAMP, layer STRING, metric STRING, value BIGINT",
    )
    metrics.write.format("delta").save(str(config.table_path(names.RUN_METRICS)))  # an older lakehouse's
    register_local_table(spark, config, names.RUN_METRICS)
    assert describe(spark, config, names.RUN_METRICS)[0] is None

    append_table(metrics, config, names.RUN_METRICS)

    assert_documented(spark, config, names.RUN_METRICS)
    version = table_version(spark, config, names.RUN_METRICS)
    append_table(metrics, config, names.RUN_METRICS)
    assert table_version(spark, config, names.RUN_METRICS) == version + 1
    assert read_table(spark, config, names.RUN_METRICS).count() == 3


def test_changed_texts_and_constraints_reach_an_existing_table_on_its_next_write(
    spark, lakehouse_config, monkeypatch
):
    config = lakehouse_config
    setup_environment(spark, config)
    rows = spark.createDataFrame([SUMMARY_ROW], SUMMARY_DDL)
    ensure_table(rows, config, names.GOLD_CUSTOMER_SUMMARY)
    old = TABLE_DOCS[names.GOLD_CUSTOMER_SUMMARY]
    new = type(old)(
        "A new table comment.",
        {**old.columns, "total_purchases": "A new column comment."},
        {"purchases_below_a_million": "total_purchases < 1000000"},
        old.quality,
    )
    monkeypatch.setitem(TABLE_DOCS, names.GOLD_CUSTOMER_SUMMARY, new)

    append_table(rows, config, names.GOLD_CUSTOMER_SUMMARY)

    assert_documented(spark, config, names.GOLD_CUSTOMER_SUMMARY)  # the new comments and constraint


def test_the_quarantine_reasons_documented_are_silvers():
    assert QUARANTINE_REASONS == REASONS


# --- One violating write per constraint: it fails naming the constraint, the table keeps its version ---
SILVER_DDL = (
    "event_id STRING, event_dt TIMESTAMP, event_date DATE, action STRING, user_id INT, session_id STRING, "
    "region STRING, product_id INT, product_name STRING, category STRING, price DECIMAL(10,2), "
    "source_file STRING, ingestion_timestamp TIMESTAMP"
)
SILVER_ROW = {
    "event_id": "e1",
    "event_dt": dt.datetime(2026, 3, 1, 10),
    "event_date": dt.date(2026, 3, 1),
    "action": "purchase",
    "user_id": 1,
    "session_id": "s-1",
    "region": "East Coast",
    "product_id": 10,
    "product_name": "Oak Desk",
    "category": "Furniture",
    "price": Decimal("249.99"),
    "source_file": "f.json",
    "ingestion_timestamp": dt.datetime(2026, 3, 1, 10, 1),
}
PERFORMANCE_ROW = (dt.date(2026, 3, 1), 10, "Oak Desk", "Furniture", 3, 2, 1, Decimal("249.99"), 1)
SUMMARY_ROW = (1, "East Coast", Decimal("249.99"), 1, 1, dt.datetime(2026, 3, 1, 10))
NULL_REGION_DDL = "user_id INT, events BIGINT, last_gold_batch BIGINT"
SHAPES = {
    names.SILVER_ACTIVITY: (SILVER_DDL, tuple(SILVER_ROW.values()), ("event_date",)),
    names.GOLD_PRODUCT_PERFORMANCE: (PERFORMANCE_DDL, PERFORMANCE_ROW, ("event_date",)),
    names.GOLD_CUSTOMER_SUMMARY: (SUMMARY_DDL, SUMMARY_ROW, ()),
    names.NULL_REGION_USERS: (NULL_REGION_DDL, (99, 1, 0), ()),
}


def test_a_new_tables_first_write_is_one_commit_with_its_docs_and_a_breaking_row_leaves_no_table(
    spark, lakehouse_config
):
    config = lakehouse_config
    setup_environment(spark, config)
    ddl, row, _ = SHAPES[names.GOLD_CUSTOMER_SUMMARY]
    first = spark.createDataFrame([row], ddl)

    append_table(first, config, names.GOLD_CUSTOMER_SUMMARY, txn=("app", 0))
    append_table(first, config, names.GOLD_CUSTOMER_SUMMARY, txn=("app", 0))  # a replay: the txn was recorded

    assert [tuple(r) for r in read_table(spark, config, names.GOLD_CUSTOMER_SUMMARY).collect()] == [row]
    assert table_version(spark, config, names.GOLD_CUSTOMER_SUMMARY) == 0  # rows and docs in one commit
    assert_documented(spark, config, names.GOLD_CUSTOMER_SUMMARY)

    ddl, row, _ = SHAPES[names.NULL_REGION_USERS]
    bad = spark.createDataFrame([(99, 0, 0)], ddl)
    with pytest.raises(
        Exception, match=r"CHECK constraint events_positive \(.*\) violated by row with values"
    ):
        append_table(bad, config, names.NULL_REGION_USERS)
    assert not table_exists(spark, config, names.NULL_REGION_USERS)  # no committed version

    append_table(spark.createDataFrame([row], ddl), config, names.NULL_REGION_USERS)  # over the leftovers

    assert [tuple(r) for r in read_table(spark, config, names.NULL_REGION_USERS).collect()] == [row]
    assert_documented(spark, config, names.NULL_REGION_USERS)


@pytest.fixture(scope="module")
def constrained(spark, tmp_path_factory):
    """A lakehouse whose constrained tables are created (empty) once for this module's tests."""
    for schema in names.SCHEMAS:
        spark.sql(f"DROP SCHEMA IF EXISTS {names.quote(schema)} CASCADE")
    config = Config(lakehouse=tmp_path_factory.mktemp("constrained") / "lakehouse")
    setup_environment(spark, config)
    for table, (ddl, _, partition_by) in SHAPES.items():
        ensure_table(spark.createDataFrame([], ddl), config, table, partition_by)
    return config


VIOLATIONS = [
    (names.SILVER_ACTIVITY, "event_id_not_null", "event_id", None),
    (names.SILVER_ACTIVITY, "event_dt_not_null", "event_dt", None),
    (names.SILVER_ACTIVITY, "price_not_negative", "price", Decimal("-0.01")),
    (names.SILVER_ACTIVITY, "action_known", "action", "refund"),
    (names.GOLD_PRODUCT_PERFORMANCE, "counts_not_negative", "total_adds_to_cart", -1),
    (names.GOLD_PRODUCT_PERFORMANCE, "revenue_not_negative", "total_revenue", Decimal("-5.00")),
    (names.GOLD_PRODUCT_PERFORMANCE, "revenue_rank_positive", "revenue_rank", 0),
    (names.GOLD_CUSTOMER_SUMMARY, "totals_not_negative", "total_purchase_value", Decimal("-1.00")),
    (names.NULL_REGION_USERS, "events_positive", "events", 0),
]


def test_every_constraint_is_tested_below():
    tested = {(table, constraint) for table, constraint, _, _ in VIOLATIONS}
    assert tested == {(table, c) for table, docs in TABLE_DOCS.items() for c in docs.constraints}


@pytest.mark.parametrize(
    ("table", "constraint", "column", "value"), [pytest.param(*v, id=v[1]) for v in VIOLATIONS]
)
def test_a_write_that_breaks_a_constraint_fails_naming_it_and_commits_nothing(
    spark, constrained, table, constraint, column, value
):
    ddl, row, _ = SHAPES[table]
    columns = spark.createDataFrame([], ddl).columns
    bad = spark.createDataFrame(
        [tuple(value if c == column else v for c, v in zip(columns, row, strict=True))], ddl
    )
    version = table_version(spark, constrained, table)

    with pytest.raises(Exception, match=rf"CHECK constraint {constraint} \(.*\) violated by row with values"):
        append_table(bad, constrained, table)

    assert table_version(spark, constrained, table) == version
    assert read_table(spark, constrained, table).count() == 0
