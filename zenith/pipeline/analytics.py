"""The business questions, as Spark SQL over the gold tables, and a plain-text table to print them.

Beside them, the data-quality answer: the users whose events have no region, from the counts gold
keeps. Each question is SQL text with ``{product_performance}`` / ``{customer_summary}`` placeholders
that ``render_sql`` fills with this environment's table names; ties are always broken by a
unique column, so a question gives the same rows on every run.
"""

from __future__ import annotations

from collections.abc import Callable

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import NumericType

from zenith.lakehouse import config as names
from zenith.lakehouse.config import Config
from zenith.lakehouse.tables import read_table

# The questions' titles: the keys of ``QUESTIONS`` and of ``run_analytics``'s answers.
TOP_PRODUCTS = "Top 5 products by purchases on the most recent day"
DAILY_CATEGORY_REVENUE = "Total daily revenue per product category"
TOP_CUSTOMERS = "Top 10 customers by total purchase value"
# The title of ``data_quality``'s one answer.
USERS_WITHOUT_REGION = "Top 10 users whose events have no region (unknown or no location)"

QUESTIONS: dict[str, str] = {
    TOP_PRODUCTS: """
        SELECT event_date, product_id, product_name, category, total_purchases, total_revenue
        FROM {product_performance}
        WHERE event_date = (SELECT max(event_date) FROM {product_performance})
        ORDER BY total_purchases DESC, total_revenue DESC, product_id
        LIMIT 5
    """,
    DAILY_CATEGORY_REVENUE: """
        SELECT event_date, category, sum(total_revenue) AS revenue
        FROM {product_performance}
        GROUP BY event_date, category
        ORDER BY event_date, revenue DESC, category
    """,
    TOP_CUSTOMERS: """
        SELECT user_id, region, total_purchase_value, total_purchases
        FROM {customer_summary}
        ORDER BY total_purchase_value DESC, user_id
        LIMIT 10
    """,
}


def render_sql(template: str, config: Config) -> str:
    """A question's SQL with the gold table names of this environment filled in."""
    return template.format(
        product_performance=config.table_name(names.GOLD_PRODUCT_PERFORMANCE),
        customer_summary=config.table_name(names.GOLD_CUSTOMER_SUMMARY),
    )


def run_analytics(spark: SparkSession, config: Config) -> dict[str, DataFrame]:
    """Each question's title mapped to its (lazy) answer, in the order of ``QUESTIONS``."""
    return {title: spark.sql(render_sql(template, config)) for title, template in QUESTIONS.items()}


def data_quality(spark: SparkSession, config: Config) -> dict[str, DataFrame]:
    """The users whose events have no region (customer unknown or without a location), by title.

    Read from the counts gold keeps (``_system.null_region_users``), not from all of silver.
    """
    counts = read_table(spark, config, names.NULL_REGION_USERS)
    return {USERS_WITHOUT_REGION: top_null_region_users(counts).limit(10)}


def top_null_region_users(counts: DataFrame) -> DataFrame:
    """Users by their events without a region, most first (``user_id`` breaks ties)."""
    return counts.select("user_id", "events").orderBy(F.col("events").desc(), "user_id")


def format_table(df: DataFrame, max_rows: int = 50) -> str:
    """An aligned plain-text table of the first ``max_rows`` rows: header, dashes, rows.

    Numbers are right-aligned, NULL is spelled out, and a last line says when rows were left out.
    """
    rows = df.limit(max_rows + 1).collect()
    shown = rows[:max_rows]
    numeric = [isinstance(field.dataType, NumericType) for field in df.schema.fields]
    cells = [["NULL" if value is None else str(value) for value in row] for row in shown]
    widths = [max([len(name), *(len(line[i]) for line in cells)]) for i, name in enumerate(df.columns)]

    def line(values: list[str]) -> str:
        padded = (
            value.rjust(width) if right else value.ljust(width)
            for value, width, right in zip(values, widths, numeric, strict=True)
        )
        return "  ".join(padded).rstrip()

    lines = [line(df.columns), line(["-" * width for width in widths]), *(line(values) for values in cells)]
    if len(rows) > max_rows:
        lines.append(f"(only the first {max_rows} rows are shown)")
    return "\n".join(lines)


def show_answers(
    answers: dict[str, DataFrame | str], display: Callable[[DataFrame], None] | None = None
) -> dict[str, str]:
    """``display()`` each answer in a notebook; print aligned tables elsewhere. Returns the text printed.

    An answer that is already text (stored by an earlier run) is printed as it is.
    """
    printed = {}
    for title, answer in answers.items():
        print(f"\n{title}")
        if display is not None and not isinstance(answer, str):
            display(answer)
            continue
        printed[title] = answer if isinstance(answer, str) else format_table(answer)
        print(printed[title])
    return printed
