"""The start of a pipeline run, once its session is open: the lakehouse made ready for its writes."""

from __future__ import annotations

from collections.abc import Callable

from pyspark.sql import SparkSession

from zenith.lakehouse.config import LAYER_TABLES, Config
from zenith.lakehouse.errors import storage_errors
from zenith.lakehouse.manifest import remove_manifest
from zenith.lakehouse.run_lock import acquire_run_lock
from zenith.lakehouse.setup import require_setup
from zenith.lakehouse.tables import drop_table
from zenith.pipeline.health.read import Health, stored_health
from zenith.pipeline.params import RunParams, refreshed_layers


def prepare_lakehouse(
    spark: SparkSession, config: Config, params: RunParams, log: Callable[[str], None]
) -> Health | None:
    """Make the lakehouse ready for the run's writes; returns the health the last run stored, if any.

    Checks the set-up, takes the run lock and removes the last run's manifest; on a full refresh it
    also drops the tables and checkpoints of the refreshed layers. The health is the manifest's
    (``stored_health``: locally, nothing changed since the last run ended), read under the lock, and
    None on a full refresh: the run's status starts from it.
    """
    require_setup(spark, config)
    acquire_run_lock(config)  # held until the process ends or the run's ``finish`` is called
    before = None if params.full_refresh else stored_health(config)  # None on Databricks
    if config.is_local:
        with storage_errors():  # under the lock, before anything is written
            remove_manifest(config.run_manifest)
    if params.full_refresh:
        dropped = refreshed_layers(params.layers)
        with storage_errors():
            for layer in dropped:
                for table in LAYER_TABLES[layer]:
                    drop_table(spark, config, table)
        log(f"full refresh: dropped the tables and checkpoints of {', '.join(dropped)}")
    return before
