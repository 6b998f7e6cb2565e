"""ELT.py's parameters and a full refresh."""

from __future__ import annotations

import json

import pytest

from tests.landing import event, write_customers, write_events, write_products
from tests.notebook_runner import FakeDbutils, FakeWidgets
from zenith.lakehouse import config as names
from zenith.lakehouse.errors import ZenithError
from zenith.lakehouse.setup import setup_environment
from zenith.lakehouse.tables import read_table
from zenith.pipeline.params import RunParams, params_from_widgets, parse_layers, refreshed_layers
from zenith.pipeline.run import PipelineRun


def test_layers_run_in_pipeline_order_whatever_order_they_are_given():
    assert parse_layers(" gold, BRONZE ") == ("bronze", "gold")


@pytest.mark.parametrize("text", ["", "bronze,platinum"])
def test_unknown_or_empty_layers_are_a_one_line_error(text):
    with pytest.raises(
        ZenithError, match="expected a comma-separated subset of bronze,silver,gold,analytics"
    ):
        parse_layers(text)


def test_job_parameters_reach_the_run_through_the_widgets():
    dbutils = FakeDbutils(
        FakeWidgets(
            {"catalog": "demo", "layers": "silver,gold", "full_refresh": "true", "json_array": "true"}
        )
    )

    assert params_from_widgets(dbutils) == RunParams(
        catalog="demo", layers=("silver", "gold"), full_refresh=True, json_array=True
    )


def test_full_refresh_drops_the_layer_and_its_checkpoint_so_every_file_is_read_again(spark, lakehouse_config):
    config = lakehouse_config
    setup_environment(spark, config)
    write_customers(config)
    write_products(config)
    write_events(config, "events-1.json", event("e1", "2026-03-01T10:00:00+00:00"), event("e2", "x"))
    bronze_only = RunParams(layers=("bronze",), lakehouse=str(config.lakehouse))
    PipelineRun.start(bronze_only, log=lambda _: None).bronze()

    refreshed = PipelineRun.start(
        RunParams(**{**vars(bronze_only), "full_refresh": True}), log=lambda _: None
    )
    assert not config.table_path(names.BRONZE_EVENTS).exists()
    assert not config.checkpoint(names.BRONZE_EVENTS).exists()
    reports = refreshed.bronze()

    assert [(r.table, r.rows) for r in reports] == [
        (names.BRONZE_CUSTOMERS.name, 3),
        (names.BRONZE_PRODUCTS.name, 2),
        (names.BRONZE_EVENTS.name, 2),
    ]
    assert read_table(spark, config, names.BRONZE_EVENTS).count() == 2


@pytest.mark.parametrize(
    ("requested", "dropped"),
    [
        (("bronze",), ("bronze", "silver", "gold")),
        (("silver", "analytics"), ("silver", "gold")),
        (("gold",), ("gold",)),
        (("analytics",), ()),
    ],
)
def test_full_refresh_also_drops_every_layer_that_streams_from_a_refreshed_one(requested, dropped):
    assert refreshed_layers(requested) == dropped


def assert_timings_by_layer_table_and_query(timings_file) -> None:
    """What a run writes to the timings file its environment names (checked in test_pipeline's first run)."""
    timings = json.loads(timings_file.read_text())
    assert sorted(timings) == sorted(
        [
            "session_ready_at",
            "bronze",
            *(
                f"bronze.{t.name}"
                for t in (names.BRONZE_CUSTOMERS, names.BRONZE_PRODUCTS, names.BRONZE_EVENTS)
            ),
            "silver",
            f"silver.{names.SILVER_ACTIVITY.name}",  # the one query: silver, quarantine, batch counts
            "silver.report",  # the run's counts and the dimension conflicts
            "gold",
            "gold.refresh",  # both tables, from the new silver rows
            "gold.counts",
        ]
    )
    layers = [timings[layer] for layer in ("bronze", "silver", "gold")]
    assert all(seconds > 0 for seconds in layers)
    assert timings["bronze"] >= sum(v for k, v in timings.items() if k.startswith("bronze."))
