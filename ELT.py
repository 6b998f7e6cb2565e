# Databricks notebook source
# MAGIC %md
# MAGIC # Zenith Online ELT
# MAGIC Bronze → silver → gold → analytics, in order. Runs as a notebook, as a Databricks job task
# MAGIC (parameters `catalog`, `layers`, `full_refresh`, `json_array`, `changed_files`, `max_event_age_days`,
# MAGIC `dedupe_horizon_hours`) and locally as `python ELT.py [--layers ...] [--full-refresh] [--json-array]
# MAGIC [--changed-files ...] [--max-event-age-days N] [--dedupe-horizon-hours N]`.
# MAGIC The logic lives in the `zenith` package; each cell makes one call into it. Locally, a run with nothing new
# MAGIC since the last one starts no Spark session: it repeats that run's answers (see README, "Incremental runs").

# COMMAND ----------

# MAGIC %md The `zenith` package sits beside this notebook. Its folder is found from this notebook's own path, not from the
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


repo_root = os.path.normpath(os.path.join(notebook_folder(), "."))
if repo_root not in sys.path:
    sys.path.insert(0, repo_root)

# COMMAND ----------

# MAGIC %md ## Configuration
# MAGIC Widgets in a workspace, command-line flags on a laptop.

# COMMAND ----------

from zenith.cli import elt_params
from zenith.pipeline.run import PipelineRun

params = elt_params(globals().get("dbutils"))
run = PipelineRun.start(params)
print(f"run {run.run_id}: layers {', '.join(params.layers)}; catalog {run.config.catalog}")

# COMMAND ----------

# MAGIC %md ## Bronze
# MAGIC Auto Loader ingestion of the landed events, customers and products into Delta.

# COMMAND ----------

bronze_reports = run.bronze()

# COMMAND ----------

# MAGIC %md ## Silver
# MAGIC Quarantine, 3-minute watermark, deduplication, product and customer joins, region.

# COMMAND ----------

silver_report = run.silver()

# COMMAND ----------

# MAGIC %md ## Gold
# MAGIC Salted daily product performance with a revenue rank, and the customer purchase summary.

# COMMAND ----------

gold_report = run.gold()

# COMMAND ----------

# MAGIC %md ## Data quality
# MAGIC The gold step counted the silver events with no region: their customer is unknown or has no location.
# MAGIC These are the users behind them.

# COMMAND ----------

run.show_answers(run.data_quality(), globals().get("display"))

# COMMAND ----------

# MAGIC %md ## Analytics
# MAGIC Top products on the latest day, daily revenue per category, top customers.

# COMMAND ----------

run.show_answers(run.analytics(), globals().get("display"))

# COMMAND ----------

# MAGIC %md ## Summary

# COMMAND ----------

print(run.summary())

# COMMAND ----------

# MAGIC %md ## Pipeline health
# MAGIC The last runs (when, how long, what each layer read, wrote and quarantined, whether it ended) and how fresh silver
# MAGIC and gold are: what `zenith status` and `notebooks/04_pipeline_health.py` show. A run with nothing new repeats the
# MAGIC last run's, with no Spark.

# COMMAND ----------

print("\n" + run.status())

# COMMAND ----------

# MAGIC %md ## Done
# MAGIC Locally, a run that took every step records what it saw and answered, so the next run, if nothing landed or
# MAGIC changed, starts no Spark session and repeats these answers; then the run lock is released.

# COMMAND ----------

run.finish()
