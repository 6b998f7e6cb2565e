"""How fast the generator writes events: ``python benchmarks/bench_generator.py [--events N]``.

Writes into a temporary lakehouse, prints events per second and the process's peak memory.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

from zenith.demo.generator import GeneratorSettings, generate
from zenith.lakehouse.config import Config


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=500_000, help="events in the one batch")
    parser.add_argument("--files", type=int, default=10)
    parser.add_argument("--json-array", action="store_true")
    args = parser.parse_args()
    settings = GeneratorSettings(events=args.events, files=args.files, json_array=args.json_array)
    with tempfile.TemporaryDirectory() as folder:
        config = Config(lakehouse=Path(folder) / "lakehouse")
        generate(
            config.with_(lakehouse=Path(folder) / "warm-up"),
            GeneratorSettings(events=1_000),
            log=lambda _: None,
        )
        began = time.perf_counter()
        report = generate(config, settings, log=lambda _: None)
        seconds = time.perf_counter() - began
        size = sum(path.stat().st_size for path in report.event_files)
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux
    print(
        f"{report.events_written:,} events in {len(report.event_files)} files ({size / 2**20:.0f} MiB) "
        f"in {seconds:.2f} s: {report.events_written / seconds:,.0f} events/s, peak memory {peak_mib:.0f} MiB"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
