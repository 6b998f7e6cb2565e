"""Names and paths: two-level local names, three-level Unity Catalog names, and where files live."""

from __future__ import annotations

from pathlib import Path

import pytest

from zenith.lakehouse import config as names
from zenith.lakehouse.config import Config, quote


@pytest.fixture
def local_env(monkeypatch):
    """A local (not Databricks) environment with no lakehouse override."""
    monkeypatch.delenv("DATABRICKS_RUNTIME_VERSION", raising=False)
    monkeypatch.delenv(names.LAKEHOUSE_ENV, raising=False)


@pytest.fixture
def databricks(monkeypatch) -> Config:
    monkeypatch.setenv("DATABRICKS_RUNTIME_VERSION", "16.4")
    return Config.from_env()


def test_quote_wraps_each_part_in_backticks_and_doubles_backticks_inside():
    assert quote("01_bronze") == "`01_bronze`"
    assert quote("zenith_online", "01_bronze") == "`zenith_online`.`01_bronze`"
    assert quote("we`ird", "x") == "`we``ird`.`x`"


def test_local_tables_have_quoted_two_level_names(tmp_path):
    config = Config(lakehouse=tmp_path)

    assert config.table_name(names.BRONZE_EVENTS) == "`01_bronze`.`bronze_user_events`"
    assert config.table_name(names.RUN_METRICS) == "`_system`.`run_metrics`"
    assert config.schema_name(names.GOLD) == "`03_gold`"


def test_databricks_tables_have_quoted_three_level_names(databricks):
    assert databricks.lakehouse is None
    assert databricks.catalog == "zenith_online"
    assert databricks.table_name(names.BRONZE_EVENTS) == "`zenith_online`.`01_bronze`.`bronze_user_events`"
    assert databricks.schema_name(names.SILVER) == "`zenith_online`.`02_silver`"


def test_databricks_paths_are_unity_catalog_volumes(databricks):
    assert databricks.volumes_root == Path("/Volumes/zenith_online")
    assert databricks.customers_landing == Path("/Volumes/zenith_online/00_landing/batch/customers")
    assert databricks.products_landing == Path("/Volumes/zenith_online/00_landing/batch/products")
    assert databricks.events_landing == Path("/Volumes/zenith_online/00_landing/streaming/user_events")
    assert databricks.checkpoint(names.SILVER_ACTIVITY) == Path(
        "/Volumes/zenith_online/_system/checkpoints/02_silver/silver_sessionized_activity"
    )


def test_databricks_tables_are_managed_so_they_have_no_path(databricks):
    assert databricks.table_path(names.BRONZE_PRODUCTS) is None
    assert databricks.schema_path(names.BRONZE) is None


def test_databricks_ignores_a_lakehouse_folder(databricks, monkeypatch, tmp_path):
    monkeypatch.setenv(names.LAKEHOUSE_ENV, str(tmp_path))

    assert Config.from_env(lakehouse=tmp_path).lakehouse is None


def test_custom_catalog_changes_names_and_volume_paths(databricks):
    config = Config.from_env(catalog="dev_zenith")

    assert (
        config.table_name(names.GOLD_CUSTOMER_SUMMARY) == "`dev_zenith`.`03_gold`.`customer_purchase_summary`"
    )
    assert config.events_landing == Path("/Volumes/dev_zenith/00_landing/streaming/user_events")


def test_local_lakehouse_comes_from_the_environment_variable(local_env, monkeypatch, tmp_path):
    monkeypatch.setenv(names.LAKEHOUSE_ENV, str(tmp_path / "lh"))
    config = Config.from_env()

    assert config.lakehouse == tmp_path.resolve() / "lh"
    assert config.customers_landing == config.lakehouse / "Volumes/zenith_online/00_landing/batch/customers"
    assert (
        config.events_landing == config.lakehouse / "Volumes/zenith_online/00_landing/streaming/user_events"
    )


def test_local_lakehouse_defaults_to_lakehouse_in_the_working_folder_resolved(
    local_env, monkeypatch, tmp_path
):
    monkeypatch.chdir(tmp_path)

    assert Config.from_env().lakehouse == tmp_path.resolve() / "lakehouse"


def test_explicit_lakehouse_wins_over_the_environment_variable(local_env, monkeypatch, tmp_path):
    monkeypatch.setenv(names.LAKEHOUSE_ENV, str(tmp_path / "from_env"))
    monkeypatch.chdir(tmp_path)

    assert Config.from_env(lakehouse="given").lakehouse == tmp_path.resolve() / "given"


def test_local_checkpoints_and_schema_locations_sit_in_the_system_volumes(tmp_path):
    config = Config(lakehouse=tmp_path)
    system = tmp_path / "Volumes" / "zenith_online" / "_system"

    assert config.checkpoint(names.BRONZE_EVENTS) == system / "checkpoints/01_bronze/bronze_user_events"
    assert config.schema_location(names.BRONZE_EVENTS) == system / "schemas/01_bronze/bronze_user_events"


def test_local_tables_live_under_the_warehouse_folder_of_their_schema(tmp_path):
    config = Config(lakehouse=str(tmp_path))

    assert config.lakehouse == tmp_path
    assert config.schema_path(names.BRONZE) == tmp_path / "warehouse" / "01_bronze"
    assert config.table_path(names.BRONZE_PRODUCTS) == tmp_path / "warehouse/01_bronze/bronze_product_details"
