# Databricks notebook source
# MAGIC %md
# MAGIC # Silver exploration
# MAGIC The trusted activity, the rows that were quarantined and why, and the counts every run recorded.
# MAGIC Run `ELT.py` (at least bronze and silver) first.

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
