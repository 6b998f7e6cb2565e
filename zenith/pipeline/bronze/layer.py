"""Bronze: land the raw files in Delta tables unchanged, traceable to their file, nothing lost.

Events arrive as a stream (Auto Loader on Databricks, Spark's file source locally; ``events``);
customers and products are small batch snapshots that overwrite their tables (``snapshots``).
``run_bronze`` below is the plan; the columns every row gains are in ``transforms``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from pyspark.sql import SparkSession

from zenith.lakehouse import config as names
from zenith.lakehouse.config import CORRUPT, Config
from zenith.lakehouse.streams import require_checkpoint
from zenith.pipeline.bronze.event_files import check_event_files
from zenith.pipeline.bronze.events import MAX_FILE_AGE, auto_loader_options, ingest_events
from zenith.pipeline.bronze.report import IngestReport
from zenith.pipeline.bronze.snapshot_files import checked_customer_files, checked_product_files
from zenith.pipeline.bronze.snapshots import ingest_customers, ingest_products
from zenith.pipeline.bronze.transforms import EVENT_COLUMNS, EVENT_SCHEMA, with_event_metadata

# The layer's interface: its plan and steps, and the schemas and transformations they use.
__all__ = [
    "CORRUPT",
    "EVENT_COLUMNS",
    "EVENT_SCHEMA",
    "MAX_FILE_AGE",
    "BronzeReport",
    "IngestReport",
    "auto_loader_options",
    "ingest_customers",
    "ingest_events",
    "ingest_products",
    "run_bronze",
    "with_event_metadata",
]


def run_bronze(spark: SparkSession, config: Config, log: Callable[[str], None] = print) -> BronzeReport:
    """Load customers, products and new events into bronze; log one line per table.

    Every input is listed and checked once, before any table is written, so a bad file leaves all
    of them as they were; the loads are handed the files checked.
    """

    def warn(message: str) -> None:
        log(f"bronze  {message}")

    # Every check before the first write, so a bad file leaves every table as it was.
    customer_files = checked_customer_files(config)
    product_files = checked_product_files(config)
    require_checkpoint(spark, config, names.BRONZE_EVENTS)
    events_checked = check_event_files(spark, config, warn)
    report = BronzeReport(
        (
            ingest_customers(spark, config, customer_files),
            ingest_products(spark, config, product_files),
            ingest_events(spark, config, warn, events_checked),
        )
    )
    for load in report:
        log(f"bronze  {load}")
    return report


@dataclass(frozen=True)
class BronzeReport:
    """What bronze did: one ``IngestReport`` per load (customers, products, events), iterable over them."""

    loads: tuple[IngestReport, ...]

    def __iter__(self) -> Iterator[IngestReport]:
        return iter(self.loads)

    @property
    def rows_in(self) -> int:
        """The rows bronze loaded this run: every load's rows written (none for an unchanged snapshot)."""
        return sum(load.rows_written for load in self.loads)

    @property
    def rows_out(self) -> int:
        """The rows bronze wrote this run: the rows it loaded, as bronze keeps every row."""
        return self.rows_in

    @property
    def timings(self) -> dict[str, float]:
        """Each load's seconds, by table name."""
        return {load.table: load.seconds for load in self.loads}

    def metrics(self) -> dict[str, int]:
        """Each load's problem counts, as ``<table>.<problem>``."""
        return {f"{load.table}.{problem}": n for load in self.loads for problem, n in load.problems.items()}
