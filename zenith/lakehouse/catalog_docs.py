"""What each table is: its comment, its columns' comments, its quality tier and its Delta constraints.

The one place these texts live, keyed by the tables in ``config``. ``tables`` puts them on a table
when it creates it, and on an existing table that lacks them when it next writes it;
``DESCRIBE TABLE EXTENDED`` (or Catalog Explorer on Databricks) shows them. The constraints hold by
construction for every row the pipeline writes; a write that breaks one fails and commits nothing.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

from zenith.lakehouse import config as names
from zenith.lakehouse.config import BRONZE, EVENT_TYPES, GOLD, SILVER, SYSTEM, Table

# The dbdemos convention: a ``quality`` table property naming the table's tier.
QUALITY_PROPERTY = "quality"
QUALITY = {BRONZE: "bronze", SILVER: "silver", GOLD: "gold", SYSTEM: "system"}
# A table whose property holds ``TableDocs.version`` already has these texts; nothing is written.
VERSION_PROPERTY = "zenith.docs_version"
# Silver's quarantine reasons (``zenith.pipeline.silver.quarantine.REASONS``; a test keeps the two equal).
QUARANTINE_REASONS = (
    "corrupt_record",
    "missing_event_id",
    "unparsable_timestamp",
    "future_timestamp",
    "stale_timestamp",
    "unknown_event_type",
    "unknown_product",
    "late",
)


# Delta optimized writes: each write of a table with this property is one file (per partition it
# touches), however many tasks computed it; the tables written a few rows at a time have it.
ONE_FILE_WRITES = {"delta.autoOptimize.optimizeWrite": "true"}
SMALL_WRITES = (
    names.GOLD_PRODUCT_PERFORMANCE,
    names.GOLD_CUSTOMER_SUMMARY,
    names.GOLD_CUSTOMER_STATE,
    names.NULL_REGION_USERS,
    names.RUN_METRICS,
    names.INGESTED_FILES,
    names.SILVER_BATCHES,
)


@dataclass(frozen=True)
class TableDocs:
    """A table's comment, its columns' comments, CHECK constraints (name -> SQL condition) and Delta properties."""

    comment: str
    columns: dict[str, str]
    constraints: dict[str, str] = field(default_factory=dict)
    quality: str = ""
    properties: dict[str, str] = field(default_factory=dict)

    @property
    def version(self) -> str:
        """A short hash of every text here: a table stamped with another one gets these again."""
        texts = [self.comment, self.columns, self.constraints, self.quality]
        texts += [self.properties] if self.properties else []  # tables without any keep their stamp
        return hashlib.sha256(json.dumps(texts, sort_keys=True).encode()).hexdigest()[:16]


def docs(table: Table, comment: str, columns: dict[str, str], **constraints: str) -> TableDocs:
    properties = ONE_FILE_WRITES if table in SMALL_WRITES else {}
    return TableDocs(comment, columns, constraints, QUALITY[table.schema], dict(properties))


SOURCE_FILE = {
    "source_file": "Path of the landed file the row was read from.",
    "source_file_size": "Size of that file in bytes when it was read.",
    "source_file_modified": "Modification time of that file when it was read, UTC.",
}
SNAPSHOT_ROW = {
    **SOURCE_FILE,
    "source_row": "Grows with the row's position in its file: of two rows of one id, the last row of the "
    "newest file wins.",
    "ingestion_timestamp": "When bronze loaded the row, UTC.",
}
RAW_EVENT = {
    "event_id": "Event id as sent; NULL when the record has none. Silver deduplicates on it alone.",
    "event_timestamp": "Event time exactly as sent (ISO-8601 text, any UTC offset).",
    "event_dt": "event_timestamp parsed, in UTC; NULL when it cannot be parsed.",
    "user_id": "Customer who acted, as sent (customer_id of bronze_customer_profiles).",
    "event_type": f"Action as sent; silver accepts {', '.join(EVENT_TYPES)}.",
    "product_id": "Product acted on, as sent (product_id of bronze_product_details).",
    "session_id": "Browsing session of the event, as sent.",
    "_corrupt_record": "Raw text of a record that is not a JSON object (malformed or cut-off JSON, or "
    "another JSON value); NULL for a record that parsed. Rows bronze loaded before it had _rescued_data "
    "also have it for a value of the wrong type.",
    "source_file": SOURCE_FILE["source_file"],
    "ingestion_timestamp": "When bronze ingested the event, UTC; silver's deduplication horizon is "
    "measured on it.",
}
PRODUCT = {
    "product_id": "Product id.",
    "product_name": "Product name, from the products files.",
    "category": "Product category, from the products files (e.g. Furniture).",
}
REGION = (
    "Customer's region from their location: East Coast, West Coast or Central; NULL for an unknown "
    "customer or one without a location."
)
MONEY = "in the products' currency, exact to the cent"
PURCHASE_TOTALS = {
    "user_id": "Customer id (user_id of the events).",
    "region": REGION + " A customer whose region changed has a row per region.",
    "total_purchase_value": f"Sum of the prices of the customer's purchases, {MONEY}.",
    "total_purchases": "Number of the customer's purchase events.",
    "last_purchase_timestamp": "Time of the customer's latest purchase, UTC.",
}
ACTIONS = ", ".join(f"'{action}'" for action in EVENT_TYPES)

TABLE_DOCS = {
    names.BRONZE_EVENTS: docs(
        names.BRONZE_EVENTS,
        "Every record landed in the user_events folder, as sent: one row per JSON record, malformed ones "
        "included, each traceable to its file. Appended by bronze's stream with each run's new files; "
        "rows are never changed.",
        {
            **RAW_EVENT,
            "source_file_size": SOURCE_FILE["source_file_size"],
            "source_file_modified": SOURCE_FILE["source_file_modified"],
            "_rescued_data": "The record's fields that did not fit the schema, as a JSON object: names it "
            "does not hold (even one that differs only in case) and values of another type (their column is "
            "then NULL), with the file under _file_path, as Auto Loader rescues them; NULL when every field "
            "fitted, and for rows loaded before the column existed.",
        },
    ),
    names.BRONZE_CUSTOMERS: docs(
        names.BRONZE_CUSTOMERS,
        "Every line of the customer CSV files, as landed: one row per customer line. Replaced in full by "
        "a run that finds a customer file added, removed or changed; untouched otherwise.",
        {
            "customer_id": "Customer id; NULL when the line's id is not an integer (see _corrupt_record).",
            "signup_date": "Signup date as landed (text, e.g. 2025-01-05).",
            "location": "City as landed; silver derives the customer's region from it.",
            "_corrupt_record": "Raw CSV line when a value did not parse; NULL otherwise.",
            **SNAPSHOT_ROW,
        },
    ),
    names.BRONZE_PRODUCTS: docs(
        names.BRONZE_PRODUCTS,
        "Every row of the product Parquet files, as landed: one row per product row. Replaced in full by "
        "a run that finds a product file added, removed or changed; untouched otherwise.",
        {
            **PRODUCT,
            "price": "Unit price in the product's currency as landed; never NULL, negative or NaN (bronze "
            "refuses such a file). Silver rounds it to the cent.",
            **SNAPSHOT_ROW,
        },
    ),
    names.SILVER_ACTIVITY: docs(
        names.SILVER_ACTIVITY,
        "One row per trusted, deduplicated user event, with its product's name, category and price and "
        "its customer's region. Appended by silver's stream with each run's new bronze events; rows are "
        "never changed. Bronze events not here are in silver_quarantine or were duplicates.",
        {
            "event_id": "Event id; no other row ingested within the deduplication horizon (24 hours by "
            "default) has it.",
            "event_dt": "Event time, UTC.",
            "event_date": "UTC date of event_dt; the table is partitioned by it.",
            "action": f"What the customer did: one of {', '.join(EVENT_TYPES)} (bronze's event_type).",
            "user_id": "Customer who acted; an id with no customer row has a NULL region.",
            "session_id": "Browsing session of the event, as sent.",
            "region": REGION,
            "product_id": "Product acted on; always one bronze_product_details has.",
            "product_name": "Product name (the last row of the newest products file when silver ran).",
            "category": "Product category (the last row of the newest products file when silver ran).",
            "price": f"Product's unit price {MONEY}, when silver ran; a purchase event is one unit.",
            "source_file": "Landed file the event came from.",
            "ingestion_timestamp": RAW_EVENT["ingestion_timestamp"],
        },
        event_id_not_null="event_id IS NOT NULL",
        event_dt_not_null="event_dt IS NOT NULL",
        price_not_negative="price >= 0",
        action_known=f"action IN ({ACTIONS})",
    ),
    names.SILVER_QUARANTINE: docs(
        names.SILVER_QUARANTINE,
        "One row per bronze event that silver did not take, with the reason and the run. Appended by "
        "silver's stream; rows are never changed. A full refresh of silver decides every event again.",
        {
            **RAW_EVENT,
            "quarantine_reason": f"Why the event is not in silver: one of {', '.join(QUARANTINE_REASONS)}.",
            "quarantined_at": "When silver quarantined the event, UTC.",
            "run_id": "Pipeline run that quarantined it (run_id of _system.run_metrics).",
        },
    ),
    names.GOLD_PRODUCT_PERFORMANCE: docs(
        names.GOLD_PRODUCT_PERFORMANCE,
        "One row per product and UTC day with events: views, adds to cart, purchases, revenue, and the "
        "product's revenue rank in its category that day. Each run recomputes and replaces the days its "
        "new silver events fall on.",
        {
            "event_date": "UTC day of the events; the table is partitioned by it.",
            **PRODUCT,
            "total_views": "Number of view_product events of the product that day.",
            "total_adds_to_cart": "Number of add_to_cart events of the product that day.",
            "total_purchases": "Number of purchase events of the product that day.",
            "total_revenue": f"Sum of the prices of the product's purchases that day, {MONEY}.",
            "revenue_rank": "Rank of total_revenue in the category that day: 1 is the highest; ties share "
            "a rank and the ranks after them are skipped.",
        },
        counts_not_negative="total_views >= 0 AND total_adds_to_cart >= 0 AND total_purchases >= 0",
        revenue_not_negative="total_revenue >= 0",
        revenue_rank_positive="revenue_rank >= 1",
    ),
    names.GOLD_CUSTOMER_SUMMARY: docs(
        names.GOLD_CUSTOMER_SUMMARY,
        "One row per customer (and region) with a purchase: purchases, their value, distinct products "
        "and the last purchase time, over all of silver. Each run merges in the customers with new "
        "purchases.",
        {
            **PURCHASE_TOTALS,
            "distinct_products_purchased": "Approximate number of distinct products bought: the estimate "
            "of an HLL sketch (about 1.6% relative standard error).",
        },
        totals_not_negative="total_purchases >= 0 AND distinct_products_purchased >= 0 "
        "AND total_purchase_value >= 0",
    ),
    names.GOLD_CUSTOMER_STATE: docs(
        names.GOLD_CUSTOMER_STATE,
        "Gold's mergeable state behind customer_purchase_summary, one row per customer (and region): "
        "sums, counts and a sketch of the products bought, so a run adds only new purchases. Each run "
        "merges in the customers with new purchases. Not for reporting.",
        {
            **PURCHASE_TOTALS,
            "product_sketch": "HLL sketch (lg_k 12) of the product ids bought; hll_union merges two, "
            "hll_sketch_estimate counts one.",
            "last_gold_batch": "Last gold micro-batch merged into the row: a replayed batch is not added twice.",
        },
    ),
    names.NULL_REGION_USERS: docs(
        names.NULL_REGION_USERS,
        "The users whose silver events have no region (not a known customer, or no location), with how "
        "many such events each: the data-quality list. Each run adds its new silver rows' counts.",
        {
            "user_id": "Id of the user the events name.",
            "events": "Silver events of this user without a region, over all runs.",
            "last_gold_batch": "Last gold micro-batch added into the row: a replayed batch is not added twice.",
        },
        events_positive="events > 0",
    ),
    names.RUN_METRICS: docs(
        names.RUN_METRICS,
        "One row per pipeline run, layer and metric: the counts each run printed. Appended once by every "
        "run that read or wrote something; rows are never changed.",
        {
            "run_id": "Id of the pipeline run.",
            "recorded_at": "When the run recorded its metrics, UTC.",
            "layer": "Layer the metric is about: bronze, silver or gold; run for the run's own timings.",
            "metric": "Metric name, e.g. rows_in, quarantined_late, bronze_user_events.corrupt_records, "
            "milliseconds.",
            "value": "The count (rows, files or ids) or the milliseconds, as the metric's name says.",
        },
    ),
    names.INGESTED_FILES: docs(
        names.INGESTED_FILES,
        "One row per version of an event file bronze ingested, so a file changed after it was read is "
        "noticed. Appended by bronze when it read new files; rows are never changed.",
        {
            **SOURCE_FILE,
            "rows": "Bronze rows read from that version of the file.",
            "ingestion_timestamp": "When bronze ingested that version, UTC.",
            "source_file_fingerprint": "Hash of the file's size and its first and last 4 KiB: tells a "
            "same-size rewrite that kept its modification time.",
        },
    ),
    names.SILVER_BATCHES: docs(
        names.SILVER_BATCHES,
        "One row per silver micro-batch: rows read, rows per route, the newest trusted event time so far, "
        "from which the next batch's watermark comes, and the newest written to silver. Appended by "
        "silver's stream, once per batch.",
        {
            "app_id": "Delta txnAppId of silver's stream; a new checkpoint gets a new one.",
            "batch_id": "Micro-batch id within that stream.",
            "run_id": "Pipeline run that processed the batch.",
            "committed_at": "When the batch's counts were written, UTC.",
            "rows_read": "Bronze rows in the batch.",
            **{reason: f"Rows of the batch quarantined as {reason}." for reason in QUARANTINE_REASONS},
            "duplicate": "Rows of the batch that copy an event silver has: not written.",
            "silver": "Rows of the batch written to silver_sessionized_activity.",
            "late_dropped": "Rows behind the watermark: quarantined as late, or duplicates.",
            "no_region": "Rows written to silver without a region.",
            "max_event_dt": "Newest trusted event time of this batch and the earlier ones, UTC; the next "
            "batch's watermark is 3 minutes before it.",
            "newest_silver_dt": "Newest event time of the rows this batch wrote to silver, UTC (NULL if none).",
        },
    ),
}
