# Databricks notebook source
# MAGIC %md
# MAGIC # Gold analytics
# MAGIC The three business questions, answered from the gold tables, each ready to chart.
# MAGIC Run `ELT.py` first.

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
