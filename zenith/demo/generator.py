"""Demo data for the landing volumes: a customers CSV, a products Parquet file and JSON event files.

Every batch of events carries an exact, reported number of each data-quality problem (re-delivered
duplicates, late events, unknown ids, malformed records, missing ids, bad timestamps) so every
quality path of the pipeline has work. Output depends only on the settings: the same seed gives
byte-identical files.

This module holds the customers and products, and the writing of every file; the
events themselves are built in ``zenith.demo.events``; the settings are ``zenith.demo.settings``.
"""

from __future__ import annotations

import math
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from zenith.demo.events import IN_PLACE_ANOMALIES, event_batch, render_events
from zenith.demo.settings import GeneratorSettings
from zenith.lakehouse.config import Config
from zenith.lakehouse.errors import ZenithError
from zenith.lakehouse.landing import landed_files

CUSTOMERS_FILE = "customers.csv"
PRODUCTS_FILE = "products.parquet"
EVENT_FILE = re.compile(r"events-(\d+)\.json")

LOCATIONS = (
    "New York",
    "Los Angeles",
    "Chicago",
    "Houston",
    "Phoenix",
    "Philadelphia",
    "San Antonio",
    "San Diego",
)
PRODUCT_NOUNS = {
    "Furniture": ("Desk", "Chair", "Bookshelf", "Sofa", "Side Table"),
    "Home Decor": ("Lamp", "Rug", "Vase", "Mirror", "Wall Clock"),
    "Electronics": ("Monitor", "Keyboard", "Speaker", "Headphones", "Webcam"),
    "Office Supplies": ("Stapler", "Notebook", "Organizer", "Pen Set", "Whiteboard"),
}
PRODUCT_STYLES = ("Oak", "Walnut", "Modern", "Classic", "Compact", "Deluxe", "Minimal", "Ergonomic")
MIN_PRICE, MAX_PRICE = 15.50, 899.99

POPULAR_PRODUCTS = 5
_STREAMS = {"customers": 0, "products": 1, "popular": 2, "events": 3}


@dataclass(frozen=True)
class GenerationReport:
    """Exact counts of what one ``generate`` call wrote; ``events_written`` includes every anomaly."""

    customers: int
    products: int
    events_written: int
    event_files: tuple[Path, ...]
    duplicates: int = 0
    late: int = 0
    unknown_user: int = 0
    unknown_product: int = 0
    malformed: int = 0
    null_id: int = 0
    bad_timestamp: int = 0


def landing_files(config: Config) -> list[Path]:
    """Every data file in the three landing folders, sub-folders included: what the pipeline would read."""
    folders = (config.customers_landing, config.products_landing, config.events_landing)
    return [path for folder in folders for path in landed_files(folder)]


def landing_is_empty(config: Config) -> bool:
    """True when no landing folder holds a data file, whoever wrote it."""
    return not landing_files(config)


def is_demo_file(config: Config, path: Path) -> bool:
    """True for a path the generator writes: its customers and products files, its numbered event files."""
    if path in (config.customers_landing / CUSTOMERS_FILE, config.products_landing / PRODUCTS_FILE):
        return True
    return path.parent == config.events_landing and EVENT_FILE.fullmatch(path.name) is not None


def users_files(config: Config) -> list[Path]:
    """The landing files the generator does not write: the user's own data."""
    return [path for path in landing_files(config) if not is_demo_file(config, path)]


def generate(
    config: Config, settings: GeneratorSettings, log: Callable[[str], None] = print, force: bool = False
) -> GenerationReport:
    """Write customers, products and ``settings.batches`` batches of event files; return exact counts.

    Event files continue the numbering of those already in the landing volume and are never
    overwritten; batch ``k`` covers ``days`` days from ``start + k * days``, where ``k`` counts the
    batches already written (existing files / ``files``, rounded up). The customers and products
    files are written only if absent or already identical, so a re-run with the same settings
    adds a batch of events and changes nothing else.

    Demo ids overlap any real ones, so a landing zone holding files the generator does not write
    is refused unless ``force`` is set; then the demo files are added beside them, never over them.
    """
    theirs = users_files(config)
    if theirs and not force:
        raise ZenithError(
            f"the landing zone already has {len(theirs)} files of your own (such as {theirs[0]}): "
            "not mixing demo data into them; pass --force to add demo files beside them"
        )
    if theirs:
        log(f"--force: adding demo files beside {len(theirs)} files of your own")
    customers, products = config.customers_landing / CUSTOMERS_FILE, config.products_landing / PRODUCTS_FILE
    done = []
    for count, what, path, data in (
        (settings.customers, "customers", customers, _customers_csv(settings)),
        (settings.products, "products", products, _products_parquet(settings)),
    ):
        wrote = _write_unless_identical(path, data)
        done.append(f"wrote {count} {what} to {path}" if wrote else f"kept the same {count} {what} in {path}")
    log("; ".join(done))
    popular = _popular_products(settings)
    last_number = _last_event_file_number(config.events_landing)
    first_batch = math.ceil(last_number / settings.files)
    totals = dict.fromkeys(("events_written", "duplicates", *IN_PLACE_ANOMALIES), 0)
    written: list[Path] = []
    for offset in range(settings.batches if settings.events else 0):
        if offset:
            time.sleep(settings.interval)
        batch = first_batch + offset
        files, counts = event_batch(_rng(settings, "events", batch), settings, batch, popular)
        paths = [config.events_landing / f"events-{last_number + i + 1:06d}.json" for i in range(len(files))]
        for path, lines in zip(paths, files, strict=True):
            _write_atomic(path, render_events(lines, settings.json_array))
        last_number += len(paths)
        written += paths
        for name, count in counts.items():
            totals[name] += count
        anomalies = ", ".join(f"{count} {name}" for name, count in counts.items() if name != "events_written")
        files = f"{config.events_landing}/{paths[0].name}..{paths[-1].name}"
        log(f"batch {batch}: {counts['events_written']} events in {files} ({anomalies})")
    return GenerationReport(settings.customers, settings.products, event_files=tuple(written), **totals)


def _write_atomic(path: Path, data: bytes) -> None:
    """Write under a hidden name in the same folder, then rename, so readers never see half a file."""
    temporary = path.with_name(f".{path.name}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            temporary.write_bytes(data)
            os.replace(temporary, path)
        finally:
            temporary.unlink(missing_ok=True)
    except OSError as exc:
        raise ZenithError(f"cannot write {path}: {exc.strerror or exc}") from exc


def _write_unless_identical(path: Path, data: bytes) -> bool:
    """Write a demo file (True); keep an identical one (False); refuse to replace other content."""
    if path.exists():
        if path.read_bytes() == data:
            return False
        raise ZenithError(
            f"{path} already exists with other content than these settings write: not replacing it "
            "(move it away, or generate with the settings that wrote it)"
        )
    _write_atomic(path, data)
    return True


def _last_event_file_number(folder: Path) -> int:
    if not folder.is_dir():
        return 0
    numbers = [int(m.group(1)) for p in folder.iterdir() if (m := EVENT_FILE.fullmatch(p.name))]
    return max(numbers, default=0)


def _rng(settings: GeneratorSettings, stream: str, *key: int) -> np.random.Generator:
    """An independent, reproducible random stream per purpose (and per batch)."""
    return np.random.default_rng(np.random.SeedSequence(settings.seed, spawn_key=(_STREAMS[stream], *key)))


def _customers_csv(settings: GeneratorSettings) -> bytes:
    rng = _rng(settings, "customers")
    first_day = np.datetime64(settings.start.date()) - np.timedelta64(3 * 365, "D")
    signup = first_day + rng.integers(0, 3 * 365, settings.customers).astype("timedelta64[D]")
    places = rng.integers(0, len(LOCATIONS), settings.customers)
    rows = zip(np.datetime_as_string(signup, unit="D").tolist(), places.tolist(), strict=True)
    body = "".join(f"{i},{day},{LOCATIONS[p]}\n" for i, (day, p) in enumerate(rows, start=1))
    return ("customer_id,signup_date,location\n" + body).encode()


def _products_parquet(settings: GeneratorSettings) -> bytes:
    rng = _rng(settings, "products")
    categories = list(PRODUCT_NOUNS)
    category = rng.integers(0, len(categories), settings.products).tolist()
    style = rng.integers(0, len(PRODUCT_STYLES), settings.products).tolist()
    noun = rng.integers(0, 5, settings.products).tolist()
    table = pa.table(
        {
            "product_id": pa.array(np.arange(1, settings.products + 1), pa.int32()),
            "product_name": [
                f"{PRODUCT_STYLES[s]} {PRODUCT_NOUNS[categories[c]][n]}"
                for s, c, n in zip(style, category, noun, strict=True)
            ],
            "category": [categories[c] for c in category],
            "price": np.round(rng.uniform(MIN_PRICE, MAX_PRICE, settings.products), 2),
        }
    )
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink)
    return sink.getvalue().to_pybytes()


def _popular_products(settings: GeneratorSettings) -> np.ndarray:
    ids = np.arange(1, settings.products + 1)
    return np.sort(_rng(settings, "popular").choice(ids, min(POPULAR_PRODUCTS, ids.size), replace=False))
