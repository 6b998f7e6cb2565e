# Databricks notebook source
# MAGIC %md
# MAGIC # Silver exploration
# MAGIC The trusted activity, the rows that were quarantined and why, and the counts every run recorded.
# MAGIC Run `ELT.py` (at least bronze and silver) first.

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

config, spark, display = open_catalog(globals().get("dbutils"), globals().get("display"))

# COMMAND ----------

# MAGIC %md ## Silver activity
# MAGIC Events per day and action, after quarantine, deduplication and the product join.

# COMMAND ----------

silver = spark.table(config.table_name(names.SILVER_ACTIVITY))
display(silver.groupBy("event_date", "action").count().orderBy("event_date", "action"))

# COMMAND ----------

# MAGIC %md A few enriched rows: product, price and the customer's region (NULL for an unknown customer or one without a location).

# COMMAND ----------

display(silver.limit(20))

# COMMAND ----------

# MAGIC %md ## Quarantine by reason

# COMMAND ----------

quarantine = spark.table(config.table_name(names.SILVER_QUARANTINE))
quarantine_by_reason = quarantine.groupBy("quarantine_reason").count().orderBy("quarantine_reason")
display(quarantine_by_reason)

# COMMAND ----------

# MAGIC %md The quarantined rows themselves, newest first.

# COMMAND ----------

display(quarantine.orderBy(F.desc("quarantined_at"), "source_file").limit(50))

# COMMAND ----------

# MAGIC %md ## Run metrics
# MAGIC Every count a run recorded, one row per run, layer and metric; the newest run first.

# COMMAND ----------

run_metrics = spark.table(config.table_name(names.RUN_METRICS)).orderBy(
    F.desc("recorded_at"), "run_id", "layer", "metric"
)
display(run_metrics)
