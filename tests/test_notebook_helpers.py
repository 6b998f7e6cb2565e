"""The notebooks' shared set-up: widgets read and parsed, without starting Spark."""

from __future__ import annotations

import pytest

from tests.notebook_runner import FakeDbutils, FakeWidgets
from zenith import notebook
from zenith.demo.generator import GeneratorSettings
from zenith.lakehouse.config import CATALOG, LAKEHOUSE_ENV, Config
from zenith.lakehouse.errors import ZenithError
from zenith.lakehouse.setup import SetupStep


@pytest.fixture
def lakehouse(monkeypatch, tmp_path):
    """A local environment whose lakehouse is ``tmp_path``."""
    monkeypatch.delenv("DATABRICKS_RUNTIME_VERSION", raising=False)
    monkeypatch.setenv(LAKEHOUSE_ENV, str(tmp_path))
    return tmp_path.resolve()


@pytest.fixture
def no_spark(monkeypatch):
    """``get_spark`` replaced by a stand-in that records the config it was asked for."""
    asked = []

    def fake_get_spark(config):
        asked.append(config)
        return "session"

    monkeypatch.setattr(notebook, "get_spark", fake_get_spark)
    return asked


def dbutils(**parameters: str) -> FakeDbutils:
    return FakeDbutils(FakeWidgets(parameters))


def test_without_dbutils_the_generator_uses_the_default_catalog_and_settings(lakehouse):
    assert notebook.generator_settings_from_widgets() == (
        Config(catalog=CATALOG, lakehouse=lakehouse),
        GeneratorSettings(),
    )


def test_generator_widgets_are_created_with_the_defaults_and_take_job_parameters(lakehouse):
    given = dbutils(catalog=" demo ", events="500", files="3", interval="1.5", json_array="true")

    config, settings = notebook.generator_settings_from_widgets(given)

    assert config == Config(catalog="demo", lakehouse=lakehouse)
    assert settings == GeneratorSettings(events=500, files=3, interval=1.5, json_array=True)
    assert given.widgets.getAll() == {
        "catalog": " demo ",
        "seed": "42",
        "customers": "200",
        "products": "50",
        "events": "500",
        "files": "3",
        "batches": "1",
        "interval": "1.5",
        "json_array": "true",
    }
    assert given.widgets.unused_parameters() == set()


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("events", "lots", "events: got 'lots', expected a whole number"),
        ("seed", "4.2", "seed: got '4.2', expected a whole number"),
        ("interval", "soon", "interval: got 'soon', expected a number"),
        ("files", "0", "files: expected a whole number >= 1, got 0"),
    ],
)
def test_a_bad_generator_widget_is_a_one_line_error_naming_it(lakehouse, name, text, message):
    with pytest.raises(ZenithError) as error:
        notebook.generator_settings_from_widgets(dbutils(**{name: text}))

    assert str(error.value) == message


def test_parsing_refuses_a_flag_that_is_not_true_or_false_and_an_unknown_setting():
    with pytest.raises(ZenithError) as error:
        notebook.parse_generator_settings({"json_array": "yes"})
    assert str(error.value) == "json_array: got 'yes', expected true or false"

    with pytest.raises(ZenithError) as error:
        notebook.parse_generator_settings({"start": "2026-01-01", "seed": "1"})
    assert str(error.value) == "unknown generator settings: start"


def test_open_catalog_reads_the_catalog_widget_and_keeps_the_workspace_display(lakehouse, no_spark):
    def display(df):
        raise AssertionError("not called here")

    config, spark, shown_with = notebook.open_catalog(dbutils(catalog="demo"), display)

    assert config == Config(catalog="demo", lakehouse=lakehouse)
    assert no_spark == [config]
    assert (spark, shown_with) == ("session", display)


def test_open_catalog_outside_a_workspace_uses_the_default_catalog_and_prints_tables(lakehouse, no_spark):
    config, _, shown_with = notebook.open_catalog()

    assert config == Config(catalog=CATALOG, lakehouse=lakehouse)
    assert shown_with is notebook.show_locally


def test_a_blank_catalog_widget_means_the_default_catalog():
    assert notebook.catalog_from_widgets(dbutils(catalog="  ")) == CATALOG


def test_setup_summary_lists_each_object_then_counts_the_created_ones():
    steps = [SetupStep("catalog", "demo", False), SetupStep("schema", "01_bronze", True)]

    assert notebook.setup_summary(steps) == (
        "exists   catalog demo\ncreated  schema  01_bronze\nsetup: 1 of 2 objects created"
    )
