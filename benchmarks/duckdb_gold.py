"""The gold tables computed by DuckDB from the landing files: the yardstick of ``bench_pipeline.py``.

``python benchmarks/duckdb_gold.py LANDING OUT`` reads the events (JSON Lines), customers (CSV)
and products (Parquet) under the landing volumes folder ``LANDING``, applies silver's rules
(quarantine, deduplication on id and time, inner product join, left customer join, region) and
writes both gold tables as Parquet files into ``OUT``. It prints one JSON line of row counts.
It runs as its own process so that its whole-process time compares with ``python ELT.py``'s.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import duckdb

# Silver's region rule (zenith.pipeline.silver.regions.regions_of), restated so this process needs only
# DuckDB: the coastal cities by name, any other non-blank location Central.
COASTAL_REGIONS = {
    "new york": "East Coast",
    "philadelphia": "East Coast",
    "los angeles": "West Coast",
    "san diego": "West Coast",
}


def gold_sql(landing: Path) -> str:
    """The SQL that defines the silver view and both gold tables."""
    events = landing / "streaming" / "user_events" / "*.json"
    customers = landing / "batch" / "customers" / "*.csv"
    products = landing / "batch" / "products" / "*.parquet"
    coasts = " ".join(f"WHEN '{city}' THEN '{region}'" for city, region in COASTAL_REGIONS.items())
    return f"""
    CREATE TEMP VIEW events AS
    SELECT event_id, TRY_CAST(event_timestamp AS TIMESTAMPTZ) AS event_dt, user_id, event_type,
           product_id, session_id
    FROM read_json('{events}', format = 'newline_delimited', ignore_errors = true,
                   columns = {{event_id: 'VARCHAR', event_timestamp: 'VARCHAR', user_id: 'INTEGER',
                              event_type: 'VARCHAR', product_id: 'INTEGER', session_id: 'VARCHAR'}});
    CREATE TEMP VIEW silver AS
    WITH trusted AS (
        SELECT * FROM events WHERE event_id IS NOT NULL AND event_dt IS NOT NULL
    ), deduped AS (
        SELECT DISTINCT ON (event_id, event_dt) * FROM trusted
    ), products AS (
        SELECT DISTINCT ON (product_id) product_id, product_name, category,
               CAST(price AS DECIMAL(10, 2)) AS price
        FROM read_parquet('{products}') WHERE product_id IS NOT NULL
    ), customers AS (
        SELECT DISTINCT ON (customer_id) customer_id, location
        FROM read_csv('{customers}', header = true, ignore_errors = true,
                      columns = {{customer_id: 'INTEGER', signup_date: 'VARCHAR', location: 'VARCHAR'}})
        WHERE customer_id IS NOT NULL
    )
    SELECT d.event_id, d.event_dt, CAST(d.event_dt AS DATE) AS event_date, d.event_type AS action,
           d.user_id, d.product_id, p.product_name, p.category, p.price,
           CASE WHEN trim(c.location) <> '' THEN
               CASE lower(trim(c.location)) {coasts} ELSE 'Central' END
           END AS region
    FROM deduped d
    JOIN products p USING (product_id)
    LEFT JOIN customers c ON d.user_id = c.customer_id;
    CREATE TABLE silver_activity AS SELECT * FROM silver;
    CREATE TABLE product_performance AS
    SELECT *, rank() OVER (PARTITION BY event_date, category ORDER BY total_revenue DESC) AS revenue_rank
    FROM (
        SELECT event_date, product_id, product_name, category,
               count_if(action = 'view_product') AS total_views,
               count_if(action = 'add_to_cart') AS total_adds_to_cart,
               count_if(action = 'purchase') AS total_purchases,
               CAST(sum(CASE WHEN action = 'purchase' THEN price ELSE 0 END) AS DECIMAL(20, 2)) AS total_revenue
        FROM silver_activity GROUP BY ALL
    );
    CREATE TABLE customer_summary AS
    SELECT user_id, region, CAST(sum(price) AS DECIMAL(20, 2)) AS total_purchase_value,
           count(*) AS total_purchases, approx_count_distinct(product_id) AS distinct_products_purchased,
           max(event_dt) AS last_purchase_timestamp
    FROM silver_activity WHERE action = 'purchase' GROUP BY ALL;
    """


def main(landing: Path, out: Path) -> int:
    out.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute(gold_sql(landing))
    counts = {}
    for table in ("silver_activity", "product_performance", "customer_summary"):
        if table != "silver_activity":
            con.execute(f"COPY {table} TO '{out / table}.parquet' (FORMAT parquet)")
        counts[table] = con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    print(json.dumps(counts))
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]), Path(sys.argv[2])))
