"""A seeded soak: ``python ELT.py`` killed with ``kill -9`` at random moments, then one clean run.

Not part of the test suite (it takes minutes). Run it as::

    .venv/bin/python -m tests.soak_kills --seed 7 --runs 6

Each round lands a new event file (with one re-sent event) and starts ``python ELT.py`` on a temporary
lakehouse (``ZENITH_LAKEHOUSE``); after a seeded random delay the run's whole process group, Python
and JVM, gets SIGKILL, unless it ended first. A run that was not killed must succeed. After the
rounds one clean run must succeed and the tables must hold exactly what an independent computation
over the landed records says: bronze one row per landed record, silver one row per event id,
quarantine empty, gold's product-day counts and revenue and the customers' purchases.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import astuple, dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

from tests.landing import PRODUCTS, event, write_customers, write_events, write_products
from zenith.lakehouse import config as names
from zenith.lakehouse.config import Config

ROOT = Path(__file__).resolve().parents[1]
START = datetime(2026, 3, 1, 10, 0)
ACTIONS = ("view_product", "add_to_cart", "purchase")
PRICES = {
    int(product): Decimal(str(price)).quantize(Decimal("0.01"))
    for product, price in zip(PRODUCTS.product_id, PRODUCTS.price, strict=True)
}


@dataclass(frozen=True)
class Record:
    event_id: str
    at: datetime
    user_id: int
    action: str
    product_id: int


def land_round(config: Config, rng: random.Random, round_no: int, size: int) -> list[Record]:
    """Land one event file of ``size`` records, the first one re-sent a second later; return them."""
    base = START + timedelta(minutes=10 * round_no)
    records = []
    for i in range(size):
        user, action, product = rng.choice((1, 2, 3)), rng.choice(ACTIONS), rng.choice(tuple(PRICES))
        records.append(Record(f"r{round_no}-{i}", base + timedelta(seconds=5 * i), user, action, product))
    first = records[0]
    records.append(Record(first.event_id, first.at + timedelta(seconds=1), *astuple(first)[2:]))
    lines = [
        event(r.event_id, r.at.isoformat() + "+00:00", r.user_id, r.action, r.product_id) for r in records
    ]
    write_events(config, f"events-{round_no:03d}.json", *lines)
    return records


def run_elt(env: dict[str, str], log: Path, kill_after: float | None) -> str:
    """Run ``python ELT.py``; SIGKILL its process group ``kill_after`` seconds after its session is up.

    The delay counts from the run's first line (its Spark session is ready), so the kills fall in
    the layers' work however long the JVM takes to start on a busy machine.
    """
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "ELT.py"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: the kill reaches the JVM too
        )
        while kill_after is not None and proc.poll() is None and "layers " not in log.read_text():
            time.sleep(0.2)
        try:
            proc.wait(timeout=kill_after)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            return f"killed after {kill_after:.1f}s"
    if proc.returncode != 0:
        tail = log.read_text().strip().splitlines()[-5:]
        raise SystemExit(f"FAIL: a run that was not killed exited {proc.returncode}:\n" + "\n".join(tail))
    return "finished"


def expected_tables(records: list[Record]) -> dict[str, list[tuple]]:
    """Silver ids, gold product-day rows and customer purchases computed from the landed records."""
    unique = {}
    for r in records:
        unique.setdefault(r.event_id, r)
    gold = Counter()
    customers = Counter()
    revenue: dict[tuple, Decimal] = {}
    spent: dict[int, Decimal] = {}
    for r in unique.values():
        key = (r.at.date(), r.product_id)
        gold[(*key, r.action)] += 1
        if r.action == "purchase":
            revenue[key] = revenue.get(key, Decimal("0.00")) + PRICES[r.product_id]
            customers[r.user_id] += 1
            spent[r.user_id] = spent.get(r.user_id, Decimal("0.00")) + PRICES[r.product_id]
    days = sorted({(r.at.date(), r.product_id) for r in unique.values()})
    return {
        "silver": sorted((r.event_id,) for r in unique.values()),
        "gold": [(*k, *(gold[(*k, a)] for a in ACTIONS), revenue.get(k, Decimal("0.00"))) for k in days],
        "customers": sorted((u, n, spent[u]) for u, n in customers.items()),
    }


def actual_tables(config: Config) -> dict[str, list[tuple]]:
    """The same shapes read from the lakehouse, plus the bronze and quarantine row counts."""
    from zenith.lakehouse.runtime import get_spark
    from zenith.lakehouse.tables import read_table, table_exists

    spark = get_spark(config, app_name="zenith-soak-check")

    def rows(table, *columns) -> list[tuple]:
        return sorted(tuple(r) for r in read_table(spark, config, table).select(*columns).collect())

    gold_columns = ("event_date", "product_id", "total_views", "total_adds_to_cart", "total_purchases")
    return {
        "bronze": read_table(spark, config, names.BRONZE_EVENTS).count(),
        # Silver creates its quarantine table with the first quarantined row: none here, no table.
        "quarantine": read_table(spark, config, names.SILVER_QUARANTINE).count()
        if table_exists(spark, config, names.SILVER_QUARANTINE)
        else 0,
        "silver": rows(names.SILVER_ACTIVITY, "event_id"),
        "gold": rows(names.GOLD_PRODUCT_PERFORMANCE, *gold_columns, "total_revenue"),
        "customers": rows(names.GOLD_CUSTOMER_SUMMARY, "user_id", "total_purchases", "total_purchase_value"),
    }


def soak(seed: int, runs: int, max_delay: float, size: int, keep: bool) -> int:
    rng = random.Random(seed)
    folder = Path(tempfile.mkdtemp(prefix=f"zenith-soak-{seed}-"))
    config = Config(lakehouse=folder / "lakehouse")
    env = {**os.environ, names.LAKEHOUSE_ENV: str(config.lakehouse), "PYTHONUNBUFFERED": "1"}
    zenith = str(Path(sys.executable).with_name("zenith"))
    subprocess.run([zenith, "setup"], env=env, check=True, stdout=subprocess.DEVNULL)
    write_customers(config)
    write_products(config)
    landed: list[Record] = []
    started = time.monotonic()
    for round_no in range(runs):
        landed += land_round(config, rng, round_no, size)
        delay = rng.uniform(0.0, max_delay)
        outcome = run_elt(env, folder / f"run-{round_no}.log", delay)
        notes = sum(
            "holds no committed Delta version" in line for line in (folder / f"run-{round_no}.log").open()
        )
        print(f"run {round_no}: {outcome}; {notes} shell note(s)", flush=True)
    print(f"clean run: {run_elt(env, folder / 'run-final.log', None)}", flush=True)
    expected = {"bronze": len(landed), "quarantine": 0, **expected_tables(landed)}
    actual = actual_tables(config)
    bad = [key for key in expected if expected[key] != actual[key]]
    for key in bad:
        print(f"MISMATCH {key}:\n  expected {expected[key]}\n  actual   {actual[key]}")
    print(
        f"seed {seed}: {runs} runs, {len(landed)} landed records, bronze {actual['bronze']} rows, "
        f"silver {len(actual['silver'])} rows, gold {len(actual['gold'])} rows: "
        f"{'FAIL' if bad else 'OK'} in {time.monotonic() - started:.0f}s ({folder})"
    )
    if not bad and not keep:
        shutil.rmtree(folder, ignore_errors=True)
    return 1 if bad else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--runs", type=int, default=6, help="killed (or finished) runs before the clean one")
    parser.add_argument(
        "--max-delay", type=float, default=90.0, help="latest kill, seconds after the session is up"
    )
    parser.add_argument("--records", type=int, default=20, help="events per landed file")
    parser.add_argument("--keep", action="store_true", help="keep the temporary lakehouse and logs")
    args = parser.parse_args()
    return soak(args.seed, args.runs, args.max_delay, args.records, args.keep)


if __name__ == "__main__":
    sys.exit(main())
