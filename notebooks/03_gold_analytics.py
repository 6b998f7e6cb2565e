# Databricks notebook source
# MAGIC %md
# MAGIC # Gold analytics
# MAGIC The three business questions, answered from the gold tables, each ready to chart.
# MAGIC Run `ELT.py` first.

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

from zenith.notebook import open_catalog

config, spark, display = open_catalog(globals().get("dbutils"), globals().get("display"))

# COMMAND ----------

# MAGIC %md ## The answers
# MAGIC Each question's SQL runs against this catalog's gold tables.

# COMMAND ----------

from zenith.pipeline.analytics import DAILY_CATEGORY_REVENUE, TOP_CUSTOMERS, TOP_PRODUCTS, run_analytics

answers = run_analytics(spark, config)

# COMMAND ----------

# MAGIC %md ## Top products on the most recent day
# MAGIC The answer, then a bar chart of purchases per product.

# COMMAND ----------

display(answers[TOP_PRODUCTS])

# COMMAND ----------

from zenith.charts import daily_revenue_chart, top_products_chart

display(top_products_chart(answers[TOP_PRODUCTS].toPandas()))

# COMMAND ----------

# MAGIC %md ## Daily revenue per category
# MAGIC The answer, then a line per category across the days.

# COMMAND ----------

display(answers[DAILY_CATEGORY_REVENUE])

# COMMAND ----------

display(daily_revenue_chart(answers[DAILY_CATEGORY_REVENUE].toPandas()))

# COMMAND ----------

# MAGIC %md ## Top customers by purchase value
# MAGIC To chart it: *Bar*, X `user_id`, Y `total_purchase_value`, group by `region`.

# COMMAND ----------

display(answers[TOP_CUSTOMERS])
