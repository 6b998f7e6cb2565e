"""Reading a table's documentation back as Spark SQL shows it: comments, quality tier, constraints."""

from __future__ import annotations

from pyspark.sql import functions as F

from zenith.lakehouse import config as names
from zenith.lakehouse.catalog_docs import TABLE_DOCS

TIERS = {names.BRONZE: "bronze", names.SILVER: "silver", names.GOLD: "gold", names.SYSTEM: "system"}
# The Delta operations that set comments, properties or constraints.
DOCS_OPERATIONS = {
    "SET TBLPROPERTIES",
    "ADD CONSTRAINT",
    "DROP CONSTRAINT",
    "CHANGE COLUMN",
    "CHANGE COLUMNS",
}


def describe(spark, config, table) -> tuple[str | None, dict[str, str | None], dict[str, str]]:
    """A table's comment, each column's comment, and its properties."""
    rows = spark.sql(f"DESCRIBE TABLE EXTENDED {config.table_name(table)}").collect()
    end = next(i for i, row in enumerate(rows) if not row.col_name or row.col_name.startswith("#"))
    columns = {row.col_name: row.comment for row in rows[:end]}
    comment = next((row.data_type for row in rows[end:] if row.col_name == "Comment"), None)
    properties = dict(spark.sql(f"SHOW TBLPROPERTIES {config.table_name(table)}").collect())
    return comment, columns, properties


def assert_documented(spark, config, table) -> None:
    """The table has catalog_docs' comment, a comment on every column, its tier and its constraints."""
    docs = TABLE_DOCS[table]
    comment, columns, properties = describe(spark, config, table)
    assert comment == docs.comment, table.name
    assert [column for column, text in columns.items() if not text] == [], f"{table.name}: uncommented"
    assert columns == {column: docs.columns.get(column) for column in columns}, table.name
    assert properties.get("quality") == TIERS[table.schema], table.name
    constraints = {key.removeprefix("delta.constraints.") for key in properties if "constraints." in key}
    assert constraints == set(docs.constraints), table.name


def operations_since(spark, config, versions: dict[str, int]) -> dict[str, list[str]]:
    """The Delta operations each table committed after the versions given by table name."""
    return {
        table.name: [
            row.operation
            for row in spark.sql(f"DESCRIBE HISTORY {config.table_name(table)}")
            .where(F.col("version") > versions[table.name])
            .orderBy("version")
            .collect()
        ]
        for table in names.TABLES
    }
