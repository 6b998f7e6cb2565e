# Databricks notebook source
# MAGIC %md
# MAGIC # Setup environment
# MAGIC Creates whatever is missing of the catalog, the pipeline's schemas and its volumes; safe to rerun.
# MAGIC The job runs it before `ELT.py`. On a laptop, `python utils/setup_environment.py` (or `zenith setup`)
# MAGIC does the same under the local lakehouse folder.

# COMMAND ----------

# MAGIC %md A workspace notebook runs in its own folder; the `zenith` package sits one level up.

# COMMAND ----------

import os
import sys

if os.path.isdir("../zenith") and os.path.abspath("..") not in sys.path:
    sys.path.append(os.path.abspath(".."))

# COMMAND ----------

# MAGIC %md ## Parameters
# MAGIC The catalog to create: a widget here, the `catalog` parameter in the job, the default on a laptop.

# COMMAND ----------

from zenith.notebook import open_catalog

config, spark, _ = open_catalog(globals().get("dbutils"))

# COMMAND ----------

# MAGIC %md ## Create what is missing
# MAGIC One line per object: `created` by this run, or `exists` from an earlier one.

# COMMAND ----------

from zenith.lakehouse.setup import setup_environment
from zenith.notebook import setup_summary

steps = setup_environment(spark, config)
print(setup_summary(steps))
