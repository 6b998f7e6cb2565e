"""How a gold batch writes its tables: each write once per batch, whatever the replays.

A new gold's first batch appends, creating its tables, each append tagged with gold's checkpoint and
the batch id (Delta's ``txnAppId`` and ``txnVersion``: a replayed batch's append commits nothing).
Later batches replace the touched dates (``replaceWhere``) and merge (the MERGE statements below apply
a batch at most once). Tables are saved as every table is (``tables.save``: by path locally, by name
on Databricks).
"""

from __future__ import annotations

from dataclasses import dataclass

from pyspark.sql import DataFrame

from zenith.lakehouse import config as names
from zenith.lakehouse import tables
from zenith.lakehouse.config import Config

# The tables a gold batch writes, by the key its writes name them with.
WRITTEN = {
    "performance": names.GOLD_PRODUCT_PERFORMANCE,
    "state": names.GOLD_CUSTOMER_STATE,
    "summary": names.GOLD_CUSTOMER_SUMMARY,
    "null_region": names.NULL_REGION_USERS,
}

# How a gold table that a batch creates is laid out: the product-day rows in a folder per date.
PARTITIONED_BY = {names.GOLD_PRODUCT_PERFORMANCE: ("event_date",)}

# A customer's state takes a batch's sums, counts and sketch once: a replayed batch matches no older one.
STATE_MERGE = """
MERGE INTO {target} AS s USING {changes} AS c
ON s.user_id = c.user_id AND s.region <=> c.region
WHEN MATCHED AND s.last_gold_batch < c.last_gold_batch THEN UPDATE SET
  total_purchase_value = CAST(s.total_purchase_value + c.total_purchase_value AS {money}),
  total_purchases = s.total_purchases + c.total_purchases,
  product_sketch = hll_union(s.product_sketch, c.product_sketch),
  last_purchase_timestamp = greatest(s.last_purchase_timestamp, c.last_purchase_timestamp),
  last_gold_batch = c.last_gold_batch
WHEN NOT MATCHED THEN INSERT *
"""
# The summary takes the touched customers' state rows as they are: a replay writes the same rows.
SUMMARY_MERGE = """
MERGE INTO {target} AS s USING {changes} AS c
ON s.user_id = c.user_id AND s.region <=> c.region
WHEN MATCHED THEN UPDATE SET *
WHEN NOT MATCHED THEN INSERT *
"""
# A user's events without a region add up once per batch, as the customer state does.
NULL_REGION_MERGE = """
MERGE INTO {target} AS s USING {changes} AS c
ON s.user_id <=> c.user_id
WHEN MATCHED AND s.last_gold_batch < c.last_gold_batch THEN UPDATE SET
  events = s.events + c.events,
  last_gold_batch = c.last_gold_batch
WHEN NOT MATCHED THEN INSERT *
"""


@dataclass(frozen=True)
class GoldTargets:
    """Where a gold batch writes (``config``) and the ``txnAppId`` of its appends (gold's checkpoint's)."""

    config: Config
    app_id: str


def dates_condition(dates: list) -> str:
    """A ``replaceWhere`` predicate selecting exactly ``dates`` of ``event_date``."""
    return "event_date IN (" + ", ".join(f"DATE'{day.isoformat()}'" for day in sorted(dates)) + ")"


def append_once(rows: DataFrame, targets: GoldTargets, key: str, batch_id: int) -> None:
    """Append ``rows`` to a gold table once per batch: Delta skips the commit of a replayed batch.

    The append creates a table that does not exist yet, with its docs (``tables.append_table``).
    """
    table = WRITTEN[key]
    txn = (targets.app_id, batch_id)
    tables.append_table(rows, targets.config, table, txn, partition_by=PARTITIONED_BY.get(table, ()))


def replace_dates(performance: DataFrame, targets: GoldTargets, dates: list) -> None:
    """Replace those dates of the product-performance table with ``performance`` in one commit."""
    writer = (
        performance.write.format("delta").mode("overwrite").option("replaceWhere", dates_condition(dates))
    )
    tables.save(writer, targets.config, WRITTEN["performance"])


def merge(changes: DataFrame, targets: GoldTargets, key: str, statement: str, money: str) -> None:
    """Run ``statement``, a MERGE of ``{changes}`` into ``{target}`` with sums cast to ``{money}``.

    ``{changes}`` is a view of ``changes``; ``{target}`` is the table's path locally, its name on Databricks.
    """
    target = targets.config.delta_target(WRITTEN[key])
    view = "zenith_gold_changes"
    changes.createOrReplaceTempView(view)
    changes.sparkSession.sql(statement.format(target=target, changes=view, money=money))
    changes.sparkSession.catalog.dropTempView(view)
