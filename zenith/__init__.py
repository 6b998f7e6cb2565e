"""Zenith Online: a Databricks medallion pipeline that also runs on a laptop."""

__version__ = "0.1.0"
