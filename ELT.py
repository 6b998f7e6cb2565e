# Databricks notebook source
# MAGIC %md
# MAGIC # Zenith Online ELT
# MAGIC Bronze → silver → gold → analytics, in order. Runs as a notebook, as a Databricks job task
# MAGIC (parameters `catalog`, `layers`, `full_refresh`, `json_array`, `changed_files`, `max_event_age_days`) and locally as
# MAGIC `python ELT.py [--layers ...] [--full-refresh] [--json-array] [--changed-files ...] [--max-event-age-days N]`.
# MAGIC The logic lives in the `zenith` package; each cell makes one call into it.

# COMMAND ----------

# MAGIC %md ## Configuration
# MAGIC Widgets in a workspace, command-line flags on a laptop.

# COMMAND ----------

from zenith.cli import elt_params
from zenith.pipeline.run import PipelineRun, show_answers

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

show_answers(run.data_quality(), globals().get("display"))

# COMMAND ----------

# MAGIC %md ## Analytics
# MAGIC Top products on the latest day, daily revenue per category, top customers.

# COMMAND ----------

show_answers(run.analytics(), globals().get("display"))

# COMMAND ----------

# MAGIC %md ## Summary

# COMMAND ----------

print(run.summary())
