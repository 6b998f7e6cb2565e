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

from zenith.analytics import format_table
from zenith.config import CATALOG, Config
from zenith.runtime import get_spark

if "dbutils" in globals():
    dbutils.widgets.text("catalog", CATALOG, "Catalog")
    catalog = dbutils.widgets.get("catalog").strip() or CATALOG
else:  # plain Python on a laptop
    catalog = CATALOG
config = Config.from_env(catalog=catalog)
spark = get_spark(config)

if "display" not in globals():  # plain Python: print the first rows as a text table

    def display(df):
        print(format_table(df))


# COMMAND ----------

# MAGIC %md ## The answers
# MAGIC Each question's SQL runs against this catalog's gold tables.

# COMMAND ----------

from zenith.analytics import run_analytics

answers = run_analytics(spark, config)

# COMMAND ----------

# MAGIC %md ## Top products on the most recent day
# MAGIC To chart it: **+** above the table → **Visualization** → *Bar*, X `product_name`, Y `total_purchases`.

# COMMAND ----------

display(answers["Top 5 products by purchases on the most recent day"])

# COMMAND ----------

# MAGIC %md ## Daily revenue per category
# MAGIC To chart it: **+** → **Visualization** → *Line* (or stacked *Bar*), X `event_date`, Y `revenue`,
# MAGIC group by `category`.

# COMMAND ----------

display(answers["Total daily revenue per product category"])

# COMMAND ----------

# MAGIC %md ## Top customers by purchase value
# MAGIC To chart it: *Bar*, X `user_id`, Y `total_purchase_value`, group by `region`.

# COMMAND ----------

display(answers["Top 10 customers by total purchase value"])
