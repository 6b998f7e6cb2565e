# Databricks notebook source
# MAGIC %md
# MAGIC # Bronze exploration
# MAGIC What landed in bronze: rows per table, a look at the events, and the event rows with a problem that
# MAGIC silver will quarantine. Run `ELT.py` (at least the bronze layer) first.

# COMMAND ----------

# MAGIC %md A workspace notebook runs in its own folder; the `zenith` package sits one level up.

# COMMAND ----------

import os
import sys

if os.path.isdir("../zenith") and os.path.abspath("..") not in sys.path:
    sys.path.append(os.path.abspath(".."))

# COMMAND ----------

# MAGIC %md ## Parameters
# MAGIC The catalog to read; on a laptop the default one in the local lakehouse, printed as text tables.

# COMMAND ----------

from pyspark.sql import functions as F

from zenith.lakehouse import config as names
from zenith.notebook import open_catalog
from zenith.pipeline.bronze import CORRUPT

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
# MAGIC `_corrupt_record` holds the raw text of a line that was not valid JSON for the schema; every other
# MAGIC field of such a row is NULL.

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

from zenith.pipeline.quarantine import with_quarantine_reason

problems = events.transform(with_quarantine_reason(config.max_event_age_days)).where(
    F.col("quarantine_reason").isNotNull()
)
problems_per_file = problems.groupBy("source_file", "quarantine_reason").count()
display(problems_per_file.orderBy("source_file", "quarantine_reason"))
