"""Demo data for the landing volumes: a customers CSV, a products Parquet file and JSON event files.

Every batch of events carries an exact, reported number of each data-quality problem (re-delivered
duplicates, late events, unknown ids, malformed records, missing ids, bad timestamps) so every
quality path of the pipeline has work. Output depends only on the settings: the same seed gives
byte-identical files.
"""

from __future__ import annotations

import json
import math
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from zenith.config import Config
from zenith.errors import ZenithError

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

EVENT_TYPES = ("view_product", "add_to_cart", "purchase")
EVENT_TYPE_SHARES = (0.70, 0.20, 0.10)
POPULAR_PRODUCTS = 5
POPULAR_VIEW_SHARE = 0.75
EVENTS_PER_SESSION = 6
SESSION_LENGTH = timedelta(minutes=30)
LATE_BY = timedelta(minutes=10)  # well past the pipeline's 3-minute watermark
BAD_TIMESTAMP = "not-a-time"
NOT_A_NUMBER = "not-a-number"
# Anomalies that alter an event in place, in the order they are drawn; duplicates are extra copies.
IN_PLACE_ANOMALIES = ("late", "unknown_user", "unknown_product", "malformed", "null_id", "bad_timestamp")

_US = timedelta(microseconds=1)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_STREAMS = {"customers": 0, "products": 1, "popular": 2, "events": 3}


@dataclass(frozen=True)
class GeneratorSettings:
    """What to generate. Field names match the flags of ``zenith generate``.

    Each ``*_rate`` is a share of a batch's ``events`` (rounded down); their sum is at most 1. Late
    events arrive in a later file of their batch, so a batch of one file has none.
    """

    seed: int = 42
    customers: int = 200
    products: int = 50
    events: int = 20_000
    files: int = 10
    batches: int = 1
    interval: float = 0.0
    json_array: bool = False
    start: datetime = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    days: int = 3
    duplicate_rate: float = 0.01
    late_rate: float = 0.005
    unknown_user_rate: float = 0.01
    unknown_product_rate: float = 0.005
    malformed_rate: float = 0.002
    null_id_rate: float = 0.002
    bad_timestamp_rate: float = 0.002

    def __post_init__(self) -> None:
        for name in ("seed", "events", "customers", "products", "files", "batches", "days"):
            _check_whole(name, getattr(self, name), minimum=0 if name in ("seed", "events") else 1)
        if not isinstance(self.interval, int | float) or not self.interval >= 0:
            raise ZenithError(f"interval: expected a number of seconds >= 0, got {self.interval!r}")
        if not isinstance(self.start, datetime):
            raise ZenithError(f"start: expected a datetime, got {self.start!r}")
        if self.start.tzinfo is None:  # a naive start means UTC
            object.__setattr__(self, "start", self.start.replace(tzinfo=UTC))
        rates = [f.name for f in fields(self) if f.name.endswith("_rate")]
        for name in rates:
            value = getattr(self, name)
            if not isinstance(value, int | float) or not 0 <= value <= 1:
                raise ZenithError(f"{name}: expected a rate between 0 and 1, got {value!r}")
        total = sum(getattr(self, name) for name in rates)
        if total > 1:
            raise ZenithError(f"anomaly rates: expected a sum of at most 1, got {total:g}")

    def anomaly_count(self, anomaly: str) -> int:
        """How many events of one batch get ``anomaly``: its rate times ``events``, rounded down."""
        return math.floor(getattr(self, f"{anomaly}_rate") * self.events + 1e-9)


def _check_whole(name: str, value: object, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ZenithError(f"{name}: expected a whole number >= {minimum}, got {value!r}")


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


def landing_is_empty(config: Config) -> bool:
    """True when the landing volumes hold no customers CSV, no products Parquet and no event files."""
    return (
        not (config.customers_landing / CUSTOMERS_FILE).exists()
        and not (config.products_landing / PRODUCTS_FILE).exists()
        and _last_event_file_number(config.events_landing) == 0
    )


def generate(
    config: Config, settings: GeneratorSettings, log: Callable[[str], None] = print
) -> GenerationReport:
    """Write customers, products and ``settings.batches`` batches of event files; return exact counts.

    Event files continue the numbering of those already in the landing volume and are never
    overwritten; batch ``k`` covers ``days`` days from ``start + k * days``, where ``k`` counts the
    batches already written (existing files / ``files``, rounded up).
    """
    _write_atomic(config.customers_landing / CUSTOMERS_FILE, _customers_csv(settings))
    _write_atomic(config.products_landing / PRODUCTS_FILE, _products_parquet(settings))
    log(f"wrote {settings.customers} customers and {settings.products} products")
    popular = _popular_products(settings)
    last_number = _last_event_file_number(config.events_landing)
    first_batch = math.ceil(last_number / settings.files)
    totals = dict.fromkeys(("events_written", "duplicates", *IN_PLACE_ANOMALIES), 0)
    written: list[Path] = []
    for offset in range(settings.batches if settings.events else 0):
        if offset:
            time.sleep(settings.interval)
        files, counts = _event_batch(settings, first_batch + offset, popular)
        paths = [config.events_landing / f"events-{last_number + i + 1:06d}.json" for i in range(len(files))]
        for path, lines in zip(paths, files, strict=True):
            _write_atomic(path, _render(lines, settings.json_array))
        last_number += len(paths)
        written += paths
        for name, count in counts.items():
            totals[name] += count
        anomalies = ", ".join(f"{count} {name}" for name, count in counts.items() if name != "events_written")
        files = f"{paths[0].name}..{paths[-1].name}"
        log(f"batch {first_batch + offset}: {counts['events_written']} events in {files} ({anomalies})")
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


def _uuid4s(rng: np.random.Generator, count: int) -> list[str]:
    """``count`` version-4 UUID strings drawn from ``rng``."""
    raw = np.frombuffer(rng.bytes(16 * count), dtype=np.uint8).reshape(count, 16).copy()
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80
    hex_digits = np.frombuffer(raw.tobytes().hex().encode("ascii"), dtype=np.uint8).reshape(count, 32)
    chars = np.full((count, 36), ord("-"), dtype=np.uint8)
    for dashes, (start, stop) in enumerate(((0, 8), (8, 12), (12, 16), (16, 20), (20, 32))):
        chars[:, start + dashes : stop + dashes] = hex_digits[:, start:stop]
    text = chars.tobytes().decode("ascii")
    return [text[i : i + 36] for i in range(0, 36 * count, 36)]


@dataclass
class _Events:
    """One batch's events before anomalies, one array element per event, in time order."""

    timestamp: np.ndarray  # microseconds since the epoch
    user: np.ndarray
    kind: np.ndarray  # index into EVENT_TYPES
    product: np.ndarray
    session: list[str]


def _event_batch(
    settings: GeneratorSettings, batch: int, popular: np.ndarray
) -> tuple[list[list[str]], dict[str, int]]:
    """The records of each of one batch's event files, and the exact count of each anomaly in them."""
    rng = _rng(settings, "events", batch)
    duplicates = min(settings.anomaly_count("duplicate"), settings.events - 1)
    count = settings.events - duplicates
    files = min(settings.files, count)
    bounds = np.arange(files + 1) * count // files  # file f holds events bounds[f]..bounds[f+1]-1
    events = _timeline(rng, settings, batch, count, popular)
    chosen = _choose_anomalies(rng, settings, bounds, keep_one_clean=duplicates > 0)
    lines = _event_lines(rng, settings, events, chosen, bounds)
    clean = np.ones(count, dtype=bool)
    for positions in chosen.values():
        clean[positions] = False
    clean = np.flatnonzero(clean)
    # A re-delivered copy of a clean event lands in the original's file (after it) or a later one.
    source = np.sort(rng.choice(clean, duplicates, replace=duplicates > clean.size))
    target = rng.integers(_file_of(source, bounds), files)
    per_file = [
        lines[bounds[f] : bounds[f + 1]] + [lines[i] for i in source[target == f]] for f in range(files)
    ]
    counts = {"events_written": settings.events, "duplicates": duplicates}
    return per_file, counts | {name: positions.size for name, positions in chosen.items()}


def _timeline(
    rng: np.random.Generator, settings: GeneratorSettings, batch: int, count: int, popular: np.ndarray
) -> _Events:
    """Sessions of a few events each, scattered over the batch's ``days`` and sorted by time."""
    span = timedelta(days=settings.days) // _US
    sessions = max(1, count // EVENTS_PER_SESSION)
    session = rng.integers(0, sessions, count)
    offset = rng.integers(0, span, sessions)[session] + rng.integers(0, SESSION_LENGTH // _US, count)
    order = np.argsort(offset, kind="stable")
    session = session[order]
    session_ids = _uuid4s(rng, sessions)
    kind = rng.choice(len(EVENT_TYPES), count, p=EVENT_TYPE_SHARES)
    return _Events(
        timestamp=(settings.start - _EPOCH) // _US + batch * span + np.minimum(offset[order], span - 1),
        user=rng.integers(1, settings.customers + 1, sessions)[session],
        kind=kind,
        product=_product_ids(rng, kind, settings.products, popular),
        session=[session_ids[i] for i in session.tolist()],
    )


def _product_ids(
    rng: np.random.Generator, kind: np.ndarray, products: int, popular: np.ndarray
) -> np.ndarray:
    """Carts and purchases pick any product; 75% of views go to the popular ones, the rest elsewhere."""
    ids = rng.integers(1, products + 1, kind.size)
    is_other = np.ones(products + 1, dtype=bool)
    is_other[[0, *popular]] = False
    others = np.flatnonzero(is_other)
    views = kind == EVENT_TYPES.index("view_product")
    to_popular = views & ((rng.random(kind.size) < POPULAR_VIEW_SHARE) | (others.size == 0))
    to_others = views & ~to_popular
    ids[to_popular] = rng.choice(popular, to_popular.sum())
    ids[to_others] = rng.choice(others, to_others.sum())
    return ids


def _choose_anomalies(
    rng: np.random.Generator, settings: GeneratorSettings, bounds: np.ndarray, keep_one_clean: bool
) -> dict[str, np.ndarray]:
    """Disjoint, sorted event positions for each in-place anomaly.

    The last event of every file but the last stays clean: it holds the highest timestamp so far,
    which late events in later files are measured against.
    """
    anchors = bounds[1:-1] - 1
    free = np.ones(bounds[-1], dtype=bool)
    free[anchors if anchors.size or not keep_one_clean else 0] = False
    pool = rng.permutation(np.flatnonzero(free))
    late = np.flatnonzero(pool >= bounds[1])[: settings.anomaly_count("late")]
    chosen = {"late": np.sort(pool[late])}
    rest, taken = np.delete(pool, late), 0
    for name in IN_PLACE_ANOMALIES[1:]:
        count = min(settings.anomaly_count(name), rest.size - taken)
        chosen[name] = np.sort(rest[taken : taken + count])
        taken += count
    return chosen


def _event_lines(
    rng: np.random.Generator,
    settings: GeneratorSettings,
    events: _Events,
    chosen: dict[str, np.ndarray],
    bounds: np.ndarray,
) -> list[str]:
    """One JSON object per event, with the chosen anomalies applied."""
    unknown_user, unknown_product, late = chosen["unknown_user"], chosen["unknown_product"], chosen["late"]
    events.user[unknown_user] = settings.customers + rng.integers(1, 1000, unknown_user.size)
    events.product[unknown_product] = settings.products + rng.integers(1, 1000, unknown_product.size)
    latest_earlier = events.timestamp[bounds[_file_of(late, bounds)] - 1]
    late_by = LATE_BY // _US + rng.integers(0, timedelta(hours=2) // _US, late.size)
    events.timestamp[late] = latest_earlier - late_by
    columns = (
        _uuid4s(rng, events.kind.size),
        np.datetime_as_string(events.timestamp.astype("datetime64[us]"), unit="us").tolist(),
        events.user.tolist(),
        np.array(EVENT_TYPES)[events.kind].tolist(),
        events.product.tolist(),
        events.session,
    )
    lines = [
        f'{{"event_id": "{e}", "event_timestamp": "{t}+00:00", "user_id": {u}, '
        f'"event_type": "{k}", "product_id": {p}, "session_id": "{s}"}}'
        for e, t, u, k, p, s in zip(*columns, strict=True)
    ]
    for half, i in enumerate(chosen["null_id"]):
        lines[i] = _with_field(lines[i], "event_id", None if half % 2 == 0 else _ABSENT)
    for i in chosen["bad_timestamp"]:
        lines[i] = _with_field(lines[i], "event_timestamp", BAD_TIMESTAMP)
    for i in chosen["malformed"]:
        # A truncated line would break a whole JSON array, so arrays get a type error instead.
        is_array = settings.json_array
        lines[i] = (
            _with_field(lines[i], "user_id", NOT_A_NUMBER) if is_array else lines[i][: len(lines[i]) // 2]
        )
    return lines


_ABSENT = object()


def _with_field(line: str, field: str, value: object) -> str:
    """``line`` with one field set to ``value``, or removed when ``value`` is ``_ABSENT``."""
    record = json.loads(line)
    if value is _ABSENT:
        del record[field]
    else:
        record[field] = value
    return json.dumps(record)


def _file_of(positions: np.ndarray, bounds: np.ndarray) -> np.ndarray:
    return np.searchsorted(bounds, positions, side="right") - 1


def _render(lines: list[str], json_array: bool) -> bytes:
    text = "[\n" + ",\n".join(lines) + "\n]\n" if json_array else "\n".join(lines) + "\n"
    return text.encode()
