"""User-given names and paths: Unity Catalog name rules, and no user text spliced into SQL unescaped."""

from __future__ import annotations

import re

import pytest

from tests.landing import event, write_events
from tests.notebook_runner import FakeDbutils, FakeWidgets
from zenith.cli import main
from zenith.lakehouse import config as names
from zenith.lakehouse.config import Config, check_name, sql_string
from zenith.lakehouse.errors import ZenithError
from zenith.lakehouse.runtime import register_local_tables
from zenith.lakehouse.setup import setup_environment
from zenith.lakehouse.tables import read_table
from zenith.pipeline.bronze import layer as bronze
from zenith.pipeline.params import params_from_widgets

HOSTILE_CATALOGS = [
    ("../../escaped", "contains '.'"),
    ("x`; DROP", "contains ' '"),
    ("x'; DROP CATALOG main; --", "contains ' '"),
    ("", "expected a non-empty name"),
    ("a/b", "contains '/'"),
    ("tab\there", "contains '\\t'"),
    ("x" * 256, "at most 255 allowed"),
]


@pytest.mark.parametrize(("catalog", "message"), HOSTILE_CATALOGS)
def test_a_catalog_that_breaks_unity_catalog_rules_is_a_one_line_error(catalog, message):
    with pytest.raises(ZenithError, match=f"^catalog: .*{re.escape(message)}") as raised:
        Config(catalog=catalog)

    assert "\n" not in str(raised.value)


def test_valid_names_pass_unchanged_even_with_quotes_that_are_escaped_later():
    assert check_name("catalog", "dev_zenith-2") == "dev_zenith-2"
    assert check_name("catalog", "x';DROP") == "x';DROP"  # legal in Unity Catalog: quoted wherever used
    assert names.quote("x`y") == "`x``y`"
    assert sql_string("it's a \\ path") == "'it\\'s a \\\\ path'"


def test_sql_string_round_trips_through_spark(spark):
    text = "/data/it's \\ here; DROP TABLE x; --"

    assert spark.sql(f"SELECT {sql_string(text)} AS v").first().v == text


def test_the_catalog_widget_and_the_catalog_flag_are_checked_before_anything_runs(tmp_path):
    widgets = FakeWidgets({"catalog": "x'; DROP CATALOG main; --"})
    with pytest.raises(ZenithError, match=r"^catalog: .*contains ' '"):
        params_from_widgets(FakeDbutils(widgets))

    lakehouse = tmp_path / "lakehouse"
    assert main(["--lakehouse", str(lakehouse), "--catalog", "../../escaped", "setup"]) == 1
    assert not (tmp_path / "escaped").exists()
    assert not lakehouse.exists()


def test_a_lakehouse_path_with_a_quote_sets_up_and_registers_its_tables(spark, tmp_path):
    for schema in names.SCHEMAS:
        spark.sql(f"DROP SCHEMA IF EXISTS {names.quote(schema)} CASCADE")
    config = Config(lakehouse=tmp_path / "it's a lake")
    setup_environment(spark, config)
    write_events(config, "events-1.json", event("e1", "2026-03-01T10:00:00+00:00"))
    bronze.ingest_events(spark, config)
    spark.sql(f"DROP TABLE {config.table_name(names.BRONZE_EVENTS)}")  # as a new process would find it

    registered = [config.table_name(names.BRONZE_EVENTS), config.table_name(names.INGESTED_FILES)]
    assert register_local_tables(spark, config) == registered
    assert [r.event_id for r in read_table(spark, config, names.BRONZE_EVENTS).collect()] == ["e1"]
    detail = spark.sql(f"DESCRIBE DETAIL {config.table_name(names.BRONZE_EVENTS)}").first()
    assert detail.location.endswith(str(config.table_path(names.BRONZE_EVENTS)))
