"""Every name the pipeline uses: catalog, schemas, volumes, tables and paths.

No other module spells a table, schema or volume name. On Databricks tables are
three-level Unity Catalog names; locally they live in Spark's session catalog as
two-level names and every file sits under the local lakehouse folder
(``$ZENITH_LAKEHOUSE``, default ``./lakehouse``).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, replace
from pathlib import Path

from zenith.lakehouse.errors import ZenithError

CATALOG = "zenith_online"

SYSTEM = "_system"
LANDING = "00_landing"
BRONZE = "01_bronze"
SILVER = "02_silver"
GOLD = "03_gold"
SCHEMAS = (SYSTEM, LANDING, BRONZE, SILVER, GOLD)

# (schema, volume)
LANDING_BATCH = (LANDING, "batch")
LANDING_STREAMING = (LANDING, "streaming")
CHECKPOINTS = (SYSTEM, "checkpoints")
SCHEMA_STORE = (SYSTEM, "schemas")
VOLUMES = (LANDING_BATCH, LANDING_STREAMING, CHECKPOINTS, SCHEMA_STORE)


@dataclass(frozen=True)
class Table:
    """A table's schema and name, independent of where it is stored."""

    schema: str
    name: str


BRONZE_EVENTS = Table(BRONZE, "bronze_user_events")
BRONZE_CUSTOMERS = Table(BRONZE, "bronze_customer_profiles")
BRONZE_PRODUCTS = Table(BRONZE, "bronze_product_details")
SILVER_ACTIVITY = Table(SILVER, "silver_sessionized_activity")
SILVER_QUARANTINE = Table(SILVER, "silver_quarantine")
GOLD_PRODUCT_PERFORMANCE = Table(GOLD, "gold_daily_product_performance")
GOLD_CUSTOMER_SUMMARY = Table(GOLD, "customer_purchase_summary")
RUN_METRICS = Table(SYSTEM, "run_metrics")
# Gold's mergeable per-customer state (sums, counts and the HLL sketch of products bought).
GOLD_CUSTOMER_STATE = Table(SYSTEM, "gold_customer_state")
INGESTED_FILES = Table(SYSTEM, "ingested_event_files")
# Gold's running count of each user's silver events without a region: the data-quality list.
NULL_REGION_USERS = Table(SYSTEM, "null_region_users")
# One row per silver micro-batch: its counts by route, the event-time watermark it reached, its newest silver event.
SILVER_BATCHES = Table(SYSTEM, "silver_batches")
TABLES = (
    BRONZE_EVENTS,
    BRONZE_CUSTOMERS,
    BRONZE_PRODUCTS,
    SILVER_ACTIVITY,
    SILVER_QUARANTINE,
    GOLD_PRODUCT_PERFORMANCE,
    GOLD_CUSTOMER_SUMMARY,
    GOLD_CUSTOMER_STATE,
    NULL_REGION_USERS,
    RUN_METRICS,
    INGESTED_FILES,
    SILVER_BATCHES,
)
# The pipeline's streaming queries over its own Delta tables: the table whose checkpoint is the query's
# (``Config.checkpoint``) -> the table it reads. Maintenance keeps the files a query has yet to read.
STREAM_SOURCES = {SILVER_ACTIVITY: BRONZE_EVENTS, GOLD_PRODUCT_PERFORMANCE: SILVER_ACTIVITY}

LAYERS = ("bronze", "silver", "gold", "analytics")
LAYER_OF_SCHEMA = {BRONZE: "bronze", SILVER: "silver", GOLD: "gold"}
# The tables each layer writes (and a full refresh of it drops).
LAYER_TABLES = {
    "bronze": (BRONZE_EVENTS, BRONZE_CUSTOMERS, BRONZE_PRODUCTS, INGESTED_FILES),
    "silver": (SILVER_ACTIVITY, SILVER_QUARANTINE, SILVER_BATCHES),
    "gold": (GOLD_PRODUCT_PERFORMANCE, GOLD_CUSTOMER_SUMMARY, GOLD_CUSTOMER_STATE, NULL_REGION_USERS),
    "analytics": (),
}
# Bronze's column for a record that is not a JSON object (its raw text); silver quarantines such rows.
CORRUPT = "_corrupt_record"
# The pipeline's layers in run order, and the notebook widgets (and Databricks job parameters) ELT.py reads, with their defaults.
WIDGET_DEFAULTS = {
    "catalog": CATALOG,
    "layers": ",".join(LAYERS),
    "full_refresh": "false",
    "json_array": "false",
    "changed_files": "warn",
    "max_event_age_days": "3650",
    "dedupe_horizon_hours": "24",
}
# What bronze does with a landed event file changed after it was ingested; reingest is Auto Loader's
# cloudFiles.allowOverwrites (Databricks only).
CHANGED_FILES = ("warn", "fail", "reingest")
# The actions an event can record; silver quarantines any other ``event_type`` (a NULL one too).
EVENT_TYPES = ("view_product", "add_to_cart", "purchase")
WIDGETS = tuple(WIDGET_DEFAULTS)

DEFAULT_MAX_EVENT_AGE_DAYS = int(WIDGET_DEFAULTS["max_event_age_days"])
DEFAULT_DEDUPE_HORIZON_HOURS = int(WIDGET_DEFAULTS["dedupe_horizon_hours"])
# Table maintenance keeps the files the versions of this many hours read: Delta's default, 7 days.
DEFAULT_RETENTION_HOURS = 168

LAKEHOUSE_ENV = "ZENITH_LAKEHOUSE"
CONNECT_PORT = 15002  # Spark Connect's usual port
DEFAULT_LAKEHOUSE = "lakehouse"
# When set, a pipeline run writes its session start-up time and the seconds of each layer, table
# and query to this JSON file (the benchmark harness reads it).
TIMINGS_FILE_ENV = "ZENITH_TIMINGS_FILE"
# What a successful local run saw and answered (zenith.lakehouse.manifest), in the _system schema's folder.
RUN_MANIFEST = "run_manifest.json"


def on_databricks() -> bool:
    """True inside a Databricks runtime (notebook, job or serverless)."""
    return "DATABRICKS_RUNTIME_VERSION" in os.environ


# A cloud storage URL (s3://, abfss://, gs://): nothing that could end a SQL string literal.
MANAGED_LOCATION = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s'\"\\`;]+")


def parse_managed_location(text: str | None) -> str | None:
    """A catalog's managed storage location from a flag or widget; None when blank.

    Anything but a plain storage URL is a one-line error, so the value can sit in SQL safely.
    """
    value = (text or "").strip()
    if not value:
        return None
    if not MANAGED_LOCATION.fullmatch(value):
        raise ZenithError(
            f"managed location: got {value!r}, expected a storage URL such as "
            "s3://bucket/path, abfss://container@account.dfs.core.windows.net/path or gs://bucket/path"
        )
    return value


def quote(*parts: str) -> str:
    """Backtick-quote a multi-part name: ``01_bronze`` is not a valid bare identifier."""
    return ".".join("`" + part.replace("`", "``") + "`" for part in parts)


def sql_string(value: object) -> str:
    """``value`` as a Spark SQL string literal: a quote or backslash in it stays part of the text."""
    text = str(value).replace("\\", "\\\\").replace("'", "\\'")
    return f"'{text}'"


# Unity Catalog object names: at most 255 characters, none of period, space, forward slash,
# the ASCII control characters (00-1F) or DEL (7F). Locally the name is also a folder name.
_NAME_LIMIT = 255
_FORBIDDEN_IN_NAMES = re.compile(r"[./ \x00-\x1f\x7f]")


def check_name(kind: str, name: object) -> str:
    """``name`` if it is a valid Unity Catalog name, else a one-line ZenithError saying why."""
    if not isinstance(name, str) or not name:
        raise ZenithError(f"{kind}: got {name!r}, expected a non-empty name")
    if len(name) > _NAME_LIMIT:
        raise ZenithError(
            f"{kind}: {name[:40]!r}... is {len(name)} characters long, at most {_NAME_LIMIT} allowed"
        )
    bad = _FORBIDDEN_IN_NAMES.search(name)
    if bad:
        raise ZenithError(
            f"{kind}: {name!r} contains {bad.group()!r}; Unity Catalog names cannot contain a period, "
            "a space, '/' or a control character"
        )
    return name


@dataclass(frozen=True)
class Config:
    """Where everything lives for one deployment: Databricks or a local lakehouse folder.

    ``lakehouse`` is None on Databricks; locally it is the folder that holds volumes and tables.
    ``managed_location`` is where Unity Catalog keeps a catalog that setup creates (None: the
    metastore's default storage; a workspace without one needs it).
    """

    catalog: str = CATALOG
    lakehouse: Path | None = None
    json_array: bool = False
    # Silver quarantines an event dated more than this many days before it was ingested.
    max_event_age_days: int = DEFAULT_MAX_EVENT_AGE_DAYS
    # A landed event file changed after ingestion: warn, fail, or (Auto Loader only) reingest it.
    changed_files: str = "warn"
    # Silver treats an event id as a duplicate if a copy of it was ingested this many hours before.
    dedupe_horizon_hours: int = DEFAULT_DEDUPE_HORIZON_HOURS
    managed_location: str | None = None

    def __post_init__(self) -> None:
        check_name("catalog", self.catalog)
        if self.lakehouse is not None and not isinstance(self.lakehouse, Path):
            object.__setattr__(self, "lakehouse", Path(self.lakehouse))

    @classmethod
    def from_env(cls, catalog: str = CATALOG, lakehouse: str | os.PathLike | None = None) -> Config:
        """The configuration for this environment: Databricks, or the local lakehouse folder."""
        if on_databricks():
            return cls(catalog=catalog)
        root = lakehouse or os.environ.get(LAKEHOUSE_ENV) or DEFAULT_LAKEHOUSE
        return cls(catalog=catalog, lakehouse=Path(root).expanduser().resolve())

    def with_(self, **changes) -> Config:
        """A copy with some fields changed."""
        return replace(self, **changes)

    @property
    def is_local(self) -> bool:
        return self.lakehouse is not None

    # --- Names -----------------------------------------------------------------------------
    def schema_name(self, schema: str) -> str:
        """``catalog.schema`` on Databricks, ``schema`` locally, quoted."""
        return quote(schema) if self.is_local else quote(self.catalog, schema)

    def table_name(self, table: Table) -> str:
        """The quoted name Spark SQL and ``saveAsTable`` accept in this environment."""
        return f"{self.schema_name(table.schema)}.{quote(table.name)}"

    def delta_target(self, table: Table) -> str:
        """The table in a Delta command (OPTIMIZE, VACUUM, DESCRIBE): its path locally, its name on Databricks."""
        path = self.table_path(table)
        return "delta." + quote(str(path)) if path is not None else self.table_name(table)

    # --- Paths -----------------------------------------------------------------------------
    @property
    def volumes_root(self) -> Path:
        """``/Volumes/<catalog>`` on Databricks, ``$ZENITH_LAKEHOUSE/Volumes/<catalog>`` locally."""
        base = self.lakehouse if self.is_local else Path("/")
        return base / "Volumes" / self.catalog

    def volume_path(self, volume: tuple[str, str], *parts: str) -> Path:
        """A path inside a volume, e.g. ``volume_path(LANDING_BATCH, "customers")``."""
        schema, name = volume
        return self.volumes_root.joinpath(schema, name, *parts)

    @property
    def customers_landing(self) -> Path:
        return self.volume_path(LANDING_BATCH, "customers")

    @property
    def products_landing(self) -> Path:
        return self.volume_path(LANDING_BATCH, "products")

    @property
    def events_landing(self) -> Path:
        return self.volume_path(LANDING_STREAMING, "user_events")

    def checkpoint(self, table: Table) -> Path:
        """The streaming checkpoint folder of the query that writes ``table``."""
        return self.volume_path(CHECKPOINTS, table.schema, table.name)

    @property
    def run_manifest(self) -> Path | None:
        """The last successful local run's manifest file; None on Databricks, which always runs in full."""
        return self.volumes_root / SYSTEM / RUN_MANIFEST if self.is_local else None

    def schema_location(self, table: Table) -> Path:
        """Auto Loader's schema-tracking folder for the stream that writes ``table``."""
        return self.volume_path(SCHEMA_STORE, table.schema, table.name)

    def schema_path(self, schema: str) -> Path | None:
        """The folder behind a local schema; None on Databricks."""
        return self.lakehouse / "warehouse" / schema if self.is_local else None

    def table_path(self, table: Table) -> Path | None:
        """Where a local table's Delta files live; None on Databricks (managed tables)."""
        return self.schema_path(table.schema) / table.name if self.is_local else None
