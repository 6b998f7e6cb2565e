"""The +1% run on two bases, from two ``bench_pipeline.py --incremental --json`` lines (e.g. 1M and 5M).

``python benchmarks/compare_runs.py BASE.json OTHER.json``: each file holds the JSON line one
benchmark printed last. The two runs are separate processes, maybe minutes apart on a machine
whose load changed, so besides the wall seconds the ratio is also given of each +1% run divided by
the Spark floor (b) measured in its own benchmark run.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def load(path: Path) -> dict:
    """The benchmark figures in ``path`` (its last non-empty line)."""
    result = json.loads(path.read_text().strip().splitlines()[-1])
    if "incremental" not in result:
        sys.exit(f"{path}: no incremental run in it; run bench_pipeline.py with --incremental --json")
    return result


def describe(result: dict) -> str:
    """One benchmark's +1% run in one line."""
    return (
        f"{result['events']:,} events + {result['incremental_events']:,}: "
        f"{result['incremental']['seconds']:.1f} s, {result['incremental_vs_floor']:.2f}x its floor (b)"
    )


def main(base_path: Path, other_path: Path) -> int:
    base, other = load(base_path), load(other_path)
    print(f"+1% run on the base:  {describe(base)}")
    print(f"+1% run on the other: {describe(other)}")
    wall = other["incremental"]["seconds"] / base["incremental"]["seconds"]
    relative = other["incremental_vs_floor"] / base["incremental_vs_floor"]
    print(f"other / base: {wall:.2f}x wall time, {relative:.2f}x in units of each run's Spark floor (b)")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    sys.exit(main(Path(sys.argv[1]), Path(sys.argv[2])))
