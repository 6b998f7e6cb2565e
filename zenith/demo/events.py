"""The events of one batch: sessions on a timeline, uuid4 ids, the chosen anomalies, and JSON lines.

``event_batch`` turns a random stream and the settings into the records of each event file, with an
exact count of every data-quality problem it put in them; ``render_events`` makes a file of them.
``zenith.demo.generator`` decides the random streams, numbers the files and writes them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import numpy as np

from zenith.lakehouse.config import EVENT_TYPES

if TYPE_CHECKING:
    from zenith.demo.settings import GeneratorSettings

EVENT_TYPE_SHARES = (0.70, 0.20, 0.10)  # of EVENT_TYPES, in order
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


def event_batch(
    rng: np.random.Generator, settings: GeneratorSettings, batch: int, popular: np.ndarray
) -> tuple[list[list[str]], dict[str, int]]:
    """The records of each of one batch's event files, and the exact count of each anomaly in them."""
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


def render_events(lines: list[str], json_array: bool) -> bytes:
    """The bytes of an event file: one JSON object a line, or with ``json_array`` one JSON array."""
    text = "[\n" + ",\n".join(lines) + "\n]\n" if json_array else "\n".join(lines) + "\n"
    return text.encode()
