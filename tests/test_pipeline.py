"""End to end: generated landing files through every layer, checked against plain Python.

The expectations are computed here from the raw files with json, csv and pandas, not with
the pipeline's own functions.
"""

from __future__ import annotations

import csv
import json
from datetime import datetime
from decimal import Decimal

import pandas as pd
import pytest

from tests.catalog import DOCS_OPERATIONS, assert_documented, operations_since
from tests.reliability import table_version
from tests.test_elt import assert_timings_by_layer_table_and_query
from zenith.demo.generator import GeneratorSettings, generate
from zenith.lakehouse import config as names
from zenith.lakehouse.catalog_docs import TABLE_DOCS
from zenith.lakehouse.config import TIMINGS_FILE_ENV
from zenith.lakehouse.setup import setup_environment
from zenith.lakehouse.tables import read_table
from zenith.pipeline.params import LAYER_TABLES
from zenith.pipeline.run import PipelineRun, RunParams

SETTINGS = GeneratorSettings(
    seed=7,
    customers=20,
    products=8,
    events=400,
    files=3,
    duplicate_rate=0.03,
    late_rate=0.01,
    unknown_user_rate=0.03,
    unknown_product_rate=0.03,
    malformed_rate=0.01,
    null_id_rate=0.01,
    bad_timestamp_rate=0.01,
)
COASTS = {
    "new york": "East Coast",
    "philadelphia": "East Coast",
    "los angeles": "West Coast",
    "san diego": "West Coast",
}


def region_of(location):
    """No region for an unknown customer or a blank location; the coasts by city; Central otherwise."""
    if not isinstance(location, str) or not location.strip():
        return None
    return COASTS.get(location.strip().lower(), "Central")


def expected_silver(config) -> pd.DataFrame:
    """Trusted, deduplicated, product-joined events, derived straight from the landing files."""
    with (config.customers_landing / "customers.csv").open() as handle:
        locations = {int(row["customer_id"]): row["location"] for row in csv.DictReader(handle)}
    products = pd.read_parquet(config.products_landing).set_index("product_id")
    events = {}
    for path in sorted(config.events_landing.glob("events-*.json")):
        for line in path.read_text().splitlines():
            try:
                record = json.loads(line)
                when = datetime.fromisoformat(record["event_timestamp"])
            except (ValueError, TypeError):
                continue  # malformed line or unparsable time: quarantined
            if record.get("event_id") is None or record["product_id"] not in products.index:
                continue
            events[(record["event_id"], when)] = record
    rows = []
    for (_, when), record in events.items():
        product = products.loc[record["product_id"]]
        rows.append(
            {
                "event_date": when.date(),
                "event_dt": when.replace(tzinfo=None),
                "product_id": record["product_id"],
                "product_name": product["product_name"],
                "category": product["category"],
                "action": record["event_type"],
                "user_id": record["user_id"],
                "region": region_of(locations.get(record["user_id"])),
                "price": Decimal(str(round(float(product["price"]), 2))),
            }
        )
    return pd.DataFrame(rows)


def expected_product_performance(silver: pd.DataFrame) -> set[tuple]:
    rows = []
    for (day, product_id, name, category), group in silver.groupby(
        ["event_date", "product_id", "product_name", "category"]
    ):
        purchases = group[group["action"] == "purchase"]
        rows.append(
            {
                "event_date": day,
                "product_id": product_id,
                "product_name": name,
                "category": category,
                "views": int((group["action"] == "view_product").sum()),
                "adds": int((group["action"] == "add_to_cart").sum()),
                "purchases": len(purchases),
                "revenue": sum(purchases["price"], Decimal("0.00")),
            }
        )
    frame = pd.DataFrame(rows)
    frame["rank"] = (
        frame.assign(r=frame["revenue"].astype(float))
        .groupby(["event_date", "category"])["r"]
        .rank(method="min", ascending=False)
        .astype(int)
    )
    return {tuple(row) for row in frame.itertuples(index=False)}


def expected_customer_summary(silver: pd.DataFrame) -> set[tuple]:
    purchases = silver[silver["action"] == "purchase"]
    return {
        (int(user_id), region if isinstance(region, str) else None, sum(group["price"], Decimal("0.00")),
         len(group), group["product_id"].nunique(), group["event_dt"].max().to_pydatetime())
        for (user_id, region), group in purchases.groupby(["user_id", "region"], dropna=False)
    }  # fmt: skip


def gold_rows(spark, config):
    performance = {tuple(r) for r in read_table(spark, config, names.GOLD_PRODUCT_PERFORMANCE).collect()}
    summary = {tuple(r) for r in read_table(spark, config, names.GOLD_CUSTOMER_SUMMARY).collect()}
    return performance, summary


def table_versions(spark, config) -> dict[str, int]:
    """Each existing table's latest Delta version."""
    return {
        table.name: table_version(spark, config, table)
        for table in names.TABLES
        if (config.table_path(table) / "_delta_log").is_dir()
    }


def run_pipeline(config) -> PipelineRun:
    run = PipelineRun.start(RunParams(lakehouse=str(config.lakehouse)), log=lambda _: None)
    run.bronze(), run.silver(), run.gold()
    return run


@pytest.fixture
def config(spark, lakehouse_config, monkeypatch):
    setup_environment(spark, lakehouse_config)
    generate(lakehouse_config, SETTINGS, log=lambda _: None)
    return lakehouse_config


def test_pipeline_matches_an_independent_computation_and_is_incremental(spark, config, tmp_path, monkeypatch):
    timings_file = tmp_path / "timings.json"
    with monkeypatch.context() as env:  # the first run also writes its timings when asked
        env.setenv(TIMINGS_FILE_ENV, str(timings_file))
        first = run_pipeline(config)
    assert_timings_by_layer_table_and_query(timings_file)
    assert set(TABLE_DOCS) == set(names.TABLES)
    for table in names.TABLES:  # the first run made every table, each with its docs
        assert_documented(spark, config, table)

    silver = expected_silver(config)
    performance, summary = gold_rows(spark, config)
    assert performance == expected_product_performance(silver)
    assert summary == expected_customer_summary(silver)
    assert read_table(spark, config, names.SILVER_ACTIVITY).count() == len(silver)
    assert first.summaries[1].rows_out == len(silver)

    versions = table_versions(spark, config)
    second = run_pipeline(config)  # no new files: nothing changes, no table gets a new version
    assert table_versions(spark, config) == versions
    assert second.summary().endswith("nothing new: no input had changed, so no table was written")
    assert gold_rows(spark, config) == (performance, summary)
    assert read_table(spark, config, names.SILVER_ACTIVITY).count() == len(silver)

    generate(config, SETTINGS, log=lambda _: None)  # a second batch of new files
    third = run_pipeline(config)
    operations = operations_since(spark, config, versions)  # an incremental run commits data only
    assert operations["silver_sessionized_activity"] == ["WRITE"]
    assert operations["silver_quarantine"] == ["WRITE"]
    assert operations["bronze_user_events"] == ["STREAMING UPDATE"]
    assert not DOCS_OPERATIONS.intersection(*operations.values())

    silver_after = expected_silver(config)
    assert third.summaries[1].rows_out == len(silver_after) - len(silver)
    assert read_table(spark, config, names.SILVER_ACTIVITY).count() == len(silver_after)
    assert gold_rows(spark, config) == (
        expected_product_performance(silver_after),
        expected_customer_summary(silver_after),
    )

    incremental = gold_rows(spark, config)
    refresh = RunParams(lakehouse=str(config.lakehouse), layers=("silver", "gold"), full_refresh=True)
    rebuilt = PipelineRun.start(refresh, log=lambda _: None)
    rebuilt.silver(), rebuilt.gold()
    assert gold_rows(spark, config) == incremental
    for table in (*LAYER_TABLES["silver"], *LAYER_TABLES["gold"]):  # made again, with their docs
        assert_documented(spark, config, table)
