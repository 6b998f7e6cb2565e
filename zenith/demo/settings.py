"""What the demo generator writes: sizes, seed, format and the share of each data-quality anomaly."""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from datetime import UTC, datetime

from zenith.lakehouse.errors import ZenithError


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
