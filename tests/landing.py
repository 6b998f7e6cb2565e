"""Small hand-written landing files for the bronze, silver and pipeline tests."""

from __future__ import annotations

import json

import pandas as pd

from zenith.lakehouse.config import Config

CUSTOMERS_CSV = "customer_id,signup_date,location\n1,2025-01-05,New York\n2,2025-02-11, los angeles \n3,2025-03-20,Chicago\n"
PRODUCTS = pd.DataFrame(
    {
        "product_id": [10, 20],
        "product_name": ["Oak Desk", "Desk Lamp"],
        "category": ["Furniture", "Home Decor"],
        "price": [249.99, 15.5],
    }
)


def event(event_id: str | None, timestamp: str, user_id=1, event_type="view_product", product_id=10) -> str:
    """One JSON Lines record in the generator's vocabulary."""
    record = {
        "event_id": event_id,
        "event_timestamp": timestamp,
        "user_id": user_id,
        "event_type": event_type,
        "product_id": product_id,
        "session_id": "s-1",
    }
    return json.dumps(record)


def write_events(config: Config, name: str, *lines: str) -> None:
    """Land one event file (JSON Lines) under ``name``."""
    config.events_landing.mkdir(parents=True, exist_ok=True)
    (config.events_landing / name).write_text("".join(line + "\n" for line in lines))


def write_customers(config: Config, text: str = CUSTOMERS_CSV, name: str = "customers.csv") -> None:
    config.customers_landing.mkdir(parents=True, exist_ok=True)
    (config.customers_landing / name).write_text(text)


def write_products(config: Config, frame: pd.DataFrame = PRODUCTS, name: str = "products.parquet") -> None:
    config.products_landing.mkdir(parents=True, exist_ok=True)
    frame.to_parquet(config.products_landing / name, index=False)
