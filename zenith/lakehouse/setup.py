"""Create the catalog, schemas and volumes, idempotently.

On Databricks this is Unity Catalog DDL (``CREATE ... IF NOT EXISTS``); locally the catalog and
volumes are folders under the lakehouse and the schemas live in Spark's session catalog, backed
by a folder each so that a later process finds them again.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pyspark.sql import SparkSession

from zenith.lakehouse import config as names
from zenith.lakehouse.config import Config, parse_managed_location, quote, sql_string
from zenith.lakehouse.connect import remote_url
from zenith.lakehouse.errors import ZenithError
from zenith.lakehouse.runtime import register_local_schema


@dataclass(frozen=True)
class SetupStep:
    """One object setup looked at, and whether this run created it."""

    kind: str
    name: str
    created: bool

    def __str__(self) -> str:
        return f"{'created' if self.created else 'exists '}  {self.kind:<7} {self.name}"


def setup_environment(spark: SparkSession, config: Config) -> list[SetupStep]:
    """Create whatever of the catalog, schemas and volumes is missing; report each object."""
    if config.is_local:
        return _setup_local(spark, config)
    return _setup_databricks(spark, config)


def _mkdir(path) -> bool:
    """Create a folder; True if it did not exist. An unwritable path is a one-line error."""
    existed = path.is_dir()
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ZenithError(f"cannot create {path}: {exc.strerror or exc}") from None
    return not existed


def _local_objects(config: Config) -> list[tuple[str, str, Path]]:
    """Kind, name and folder of each object local setup makes: the catalog, the schemas, the volumes."""
    return [
        ("catalog", config.catalog, config.volumes_root),
        *(("schema", schema, config.schema_path(schema)) for schema in names.SCHEMAS),
        *(("volume", ".".join(volume), config.volume_path(volume)) for volume in names.VOLUMES),
    ]


def _setup_local(spark: SparkSession, config: Config) -> list[SetupStep]:
    steps = []
    for kind, name, folder in _local_objects(config):
        steps.append(SetupStep(kind, name, _mkdir(folder)))
        if kind == "schema":
            register_local_schema(spark, config, name)
    return steps


def existing_local_setup(config: Config) -> list[SetupStep] | None:
    """Every object as existing if a local setup would change nothing; None if it needs Spark.

    Locally setup makes folders and registers the schemas in the session's in-memory catalog, which
    every new process does again. So when every folder exists and no session outlives this process
    (none active here, no Spark Connect server, whose catalog is shared), there is nothing to do.
    """
    if not config.is_local or remote_url() is not None or SparkSession.getActiveSession() is not None:
        return None
    objects = _local_objects(config)
    if not all(folder.is_dir() for _, _, folder in objects):
        return None
    return [SetupStep(kind, name, created=False) for kind, name, _ in objects]


def create_catalog_sql(catalog: str, managed_location: str | None = None) -> str:
    """``CREATE CATALOG``, with ``MANAGED LOCATION`` when one is given (checked by ``parse_managed_location``)."""
    location = parse_managed_location(managed_location)
    return f"CREATE CATALOG {quote(catalog)}" + (
        f" MANAGED LOCATION {sql_string(location)}" if location else ""
    )


def _setup_databricks(spark: SparkSession, config: Config) -> list[SetupStep]:
    def exists(show_sql: str) -> bool:
        return bool(spark.sql(show_sql).take(1))

    # An existing catalog gets no CREATE CATALOG at all: that needs a privilege on the metastore
    # and, on a workspace without metastore storage, a managed location its owner already chose.
    catalog_exists = config.catalog in {catalog.name for catalog in spark.catalog.listCatalogs()}
    if not catalog_exists:
        spark.sql(create_catalog_sql(config.catalog, config.managed_location))
    steps = [SetupStep("catalog", config.catalog, not catalog_exists)]
    for schema in names.SCHEMAS:
        created = not spark.catalog.databaseExists(f"{config.catalog}.{schema}")
        spark.sql(f"CREATE SCHEMA IF NOT EXISTS {config.schema_name(schema)}")
        steps.append(SetupStep("schema", schema, created))
    for schema, volume in names.VOLUMES:  # the names are the constants above, not user input
        created = not exists(f"SHOW VOLUMES IN {config.schema_name(schema)} LIKE '{volume}'")
        spark.sql(f"CREATE VOLUME IF NOT EXISTS {config.schema_name(schema)}.{quote(volume)}")
        steps.append(SetupStep("volume", f"{schema}.{volume}", created))
    return steps


def require_setup(spark: SparkSession, config: Config) -> None:
    """Fail in one line if setup has not created the pipeline's schemas."""
    for schema in names.SCHEMAS:
        if not spark.catalog.databaseExists(config.schema_name(schema).replace("`", "")):
            raise ZenithError(
                f"schema {config.schema_name(schema)} does not exist: run 'zenith setup' "
                "(or the utils/setup_environment notebook) first"
            )
