# Databricks notebook source
# MAGIC %md
# MAGIC # Bronze exploration
# MAGIC What landed in bronze: rows per table, a look at the events, and the event rows with a problem that
# MAGIC silver will quarantine. Run `ELT.py` (at least the bronze layer) first.

# COMMAND ----------

# MAGIC %md The `zenith` package sits one level up. Its folder is found from this notebook's own path, not from the
# MAGIC working directory, which a job or a bundle deployment does not guarantee.

# COMMAND ----------

import os
import sys


def notebook_folder() -> str:
    """This notebook's folder, from its own path: the file locally, the notebook context in a workspace."""
    if "__file__" in globals():
        return os.path.dirname(os.path.abspath(__file__))
    try:
        path = dbutils.notebook.entry_point.getDbutils().notebook().getContext().notebookPath().get()
    except Exception:  # no notebook context: Databricks Runtime 14+ runs a notebook in its own folder
        return os.getcwd()
    return os.path.dirname(path if path.startswith("/Workspace") else "/Workspace" + path)


repo_root = os.path.normpath(os.path.join(notebook_folder(), ".."))
if repo_root not in sys.path:
    sys.path.insert(0, repo_root)

# COMMAND ----------

# MAGIC %md ## Parameters
# MAGIC The catalog to read; on a laptop the default one in the local lakehouse, printed as text tables.

# COMMAND ----------

from pyspark.sql import functions as F

from zenith.lakehouse import config as names
from zenith.notebook import open_catalog
from zenith.pipeline.bronze.layer import CORRUPT

config, spark, display = open_catalog(globals().get("dbutils"), globals().get("display"))

# COMMAND ----------

# MAGIC %md ## Rows per table

# COMMAND ----------

bronze_tables = (names.BRONZE_EVENTS, names.BRONZE_CUSTOMERS, names.BRONZE_PRODUCTS)
row_counts = spark.sql(
    " UNION ALL ".join(
        f"SELECT '{table.name}' AS table_name, count(*) AS rows FROM {config.table_name(table)}"
        for table in bronze_tables
    )
)
display(row_counts)

# COMMAND ----------

# MAGIC %md ## Events as landed
# MAGIC Raw fields, the parsed `event_dt`, and the file each row came from.

# COMMAND ----------

events = spark.table(config.table_name(names.BRONZE_EVENTS))
display(events.limit(20))

# COMMAND ----------

# MAGIC %md ## Records that failed to parse
# MAGIC `_corrupt_record` holds the raw text of a record that is not a JSON object; every other field of
# MAGIC such a row is NULL. A field that did not fit the schema is in `_rescued_data` instead.

# COMMAND ----------

corrupt_events = events.where(F.col(CORRUPT).isNotNull()).select(CORRUPT, "source_file")
display(corrupt_events)

# COMMAND ----------

# MAGIC %md ## Events without a time
# MAGIC Parsed records whose `event_timestamp` is not a time, so `event_dt` is NULL.

# COMMAND ----------

untimed_events = events.where(F.col(CORRUPT).isNull() & F.col("event_dt").isNull()).select(
    "event_id", "event_timestamp", "user_id", "event_type", "source_file"
)
display(untimed_events)

# COMMAND ----------

# MAGIC %md ## Problems per file
# MAGIC Every problem row, by the reason silver will quarantine it for.

# COMMAND ----------

from zenith.pipeline.silver.quarantine import with_quarantine_reason

problems = events.transform(with_quarantine_reason(config.max_event_age_days)).where(
    F.col("quarantine_reason").isNotNull()
)
problems_per_file = problems.groupBy("source_file", "quarantine_reason").count()
display(problems_per_file.orderBy("source_file", "quarantine_reason"))
