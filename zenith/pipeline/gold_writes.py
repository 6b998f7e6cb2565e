"""How a gold batch writes its tables: each write once per batch, whatever the replays.

A new gold's first batch appends, each append tagged with gold's checkpoint and the batch id
(Delta's ``txnAppId`` and ``txnVersion``: a replayed batch's append commits nothing). Later batches
replace the touched dates (``replaceWhere``) and merge (MERGE statements that apply a batch at most
once). Locally tables are written by path (see ``tables._save``), on Databricks by name.
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame, SparkSession

from zenith.lakehouse import config as names
from zenith.lakehouse.config import Config

# The tables a gold batch writes, by the key its targets use.
WRITTEN = {
    "performance": names.GOLD_PRODUCT_PERFORMANCE,
    "state": names.GOLD_CUSTOMER_STATE,
    "summary": names.GOLD_CUSTOMER_SUMMARY,
    "null_region": names.NULL_REGION_USERS,
}


def dates_condition(dates: list) -> str:
    """A ``replaceWhere`` predicate selecting exactly ``dates`` of ``event_date``."""
    return "event_date IN (" + ", ".join(f"DATE'{day.isoformat()}'" for day in sorted(dates)) + ")"


def gold_targets(config: Config, app_id: str) -> dict[str, str | None]:
    """The names (and, locally, the paths) a gold batch reads and writes, and its ``txnAppId``.

    Plain strings, so the batch function needs nothing of this package's but gold's modules,
    which it carries with it (pickled by value) to a Spark Connect server's Python.
    """
    targets = {"app_id": app_id}
    for key, table in {"silver": names.SILVER_ACTIVITY, **WRITTEN}.items():
        path = config.table_path(table)
        targets |= {key: config.table_name(table), f"{key}_path": str(path) if path is not None else None}
    return targets


def append_once(rows: DataFrame, targets: dict[str, str | None], key: str, batch_id: int) -> None:
    """Append ``rows`` to a gold table once per batch: Delta skips the commit of a replayed batch."""
    writer = rows.write.format("delta").mode("append")
    writer = writer.option("txnAppId", targets["app_id"]).option("txnVersion", str(batch_id))
    _save(writer, targets, key)


def replace_dates(performance: DataFrame, targets: dict[str, str | None], dates: list) -> None:
    """Replace those dates of the product-performance table with ``performance`` in one commit."""
    writer = (
        performance.write.format("delta").mode("overwrite").option("replaceWhere", dates_condition(dates))
    )
    _save(writer, targets, "performance")


def _save(writer, targets: dict[str, str | None], key: str) -> None:
    """Write by path locally (see tables._save), by name on Databricks."""
    path = targets[f"{key}_path"]
    if path:
        writer.save(path)
    else:
        writer.saveAsTable(targets[key])


def read(spark: SparkSession, targets: dict[str, str | None], key: str) -> DataFrame:
    """A table of the targets as it is now: by path locally (as tables.read_table), by name on Databricks."""
    path = targets[f"{key}_path"]
    return spark.read.format("delta").load(path) if path else spark.read.table(targets[key])


def merge(changes: DataFrame, targets: dict[str, str | None], key: str, statement: str, money: str) -> None:
    """Run ``statement``, a MERGE of ``{changes}`` into ``{target}`` with sums cast to ``{money}``.

    ``{changes}`` is a view of ``changes``; ``{target}`` is the table's path locally, its name on Databricks.
    """
    path = targets[f"{key}_path"]
    target = "delta.`" + path.replace("`", "``") + "`" if path else targets[key]
    view = "zenith_gold_changes"
    changes.createOrReplaceTempView(view)
    changes.sparkSession.sql(statement.format(target=target, changes=view, money=money))
    changes.sparkSession.catalog.dropTempView(view)


def same_customer(left: DataFrame, right: DataFrame) -> Column:
    """Same user and same region, where a NULL region equals a NULL region."""
    return (left["user_id"] == right["user_id"]) & left["region"].eqNullSafe(right["region"])
