"""Flags and parameters shared by the ``zenith`` command and ``python ELT.py``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from zenith.lakehouse.config import CATALOG, CHANGED_FILES, check_name
from zenith.lakehouse.errors import ZenithError
from zenith.pipeline.params import WIDGET_DEFAULTS, RunParams, params_from_widgets, parse_layers


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line on stderr and exit code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message}\n")


def _number(convert: Callable[[str], float], low: float, high: float | None = None) -> Callable[[str], float]:
    """An argparse ``type`` that parses with ``convert`` and insists on ``low <= value <= high``."""
    kind = "a whole number" if convert is int else "a number"
    bounds = f"between {low} and {high}" if high is not None else f">= {low}"

    def parse(text: str) -> float:
        try:
            value = convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {kind}, got {text!r}") from None
        if value < low or (high is not None and value > high):
            raise argparse.ArgumentTypeError(f"expected a number {bounds}, got {value}")
        return value

    return parse


non_negative_int = _number(int, 0)
positive_int = _number(int, 1)
rate = _number(float, 0, 1)
non_negative_float = _number(float, 0)


def add_global_arguments(parser: argparse.ArgumentParser) -> None:
    """``--lakehouse`` and ``--catalog``, which every command takes."""
    parser.add_argument(
        "--lakehouse", help="local lakehouse folder (default: $ZENITH_LAKEHOUSE or ./lakehouse)"
    )
    parser.add_argument("--catalog", default=CATALOG, help=f"Unity Catalog catalog (default: {CATALOG})")


def add_run_arguments(parser: argparse.ArgumentParser) -> None:
    """The pipeline's command-line flags, shared by ``zenith run`` and ``python ELT.py``."""
    parser.add_argument(
        "--layers", default=WIDGET_DEFAULTS["layers"], help="comma-separated layers, run in order"
    )
    parser.add_argument(
        "--full-refresh", action="store_true", help="drop the layers' tables and checkpoints first"
    )
    parser.add_argument(
        "--json-array", action="store_true", help="event files are JSON arrays, not JSON Lines"
    )
    parser.add_argument(
        "--changed-files",
        choices=CHANGED_FILES,
        default=WIDGET_DEFAULTS["changed_files"],
        help="a landed event file changed after it was ingested: warn, fail, or reingest (Auto Loader only)",
    )
    parser.add_argument(
        "--max-event-age-days",
        type=positive_int,
        default=int(WIDGET_DEFAULTS["max_event_age_days"]),
        help="quarantine events dated more than this many days before they were ingested",
    )
    parser.add_argument(
        "--dedupe-horizon-hours",
        type=positive_int,
        default=int(WIDGET_DEFAULTS["dedupe_horizon_hours"]),
        help="an event id ingested again within this many hours of a copy is a duplicate, whatever its time",
    )


def params_from_args(args: argparse.Namespace) -> RunParams:
    """Parameters from parsed command-line flags."""
    return RunParams(
        catalog=check_name("catalog", args.catalog),
        layers=parse_layers(args.layers),
        full_refresh=args.full_refresh,
        lakehouse=args.lakehouse,
        json_array=args.json_array,
        changed_files=args.changed_files,
        max_event_age_days=args.max_event_age_days,
        dedupe_horizon_hours=args.dedupe_horizon_hours,
    )


def build_run_parser() -> argparse.ArgumentParser:
    """The parser ``python ELT.py`` uses: the pipeline flags plus the global ones."""
    parser = Parser(prog="ELT.py", description="Run the Zenith Online pipeline on the local lakehouse.")
    add_global_arguments(parser)
    add_run_arguments(parser)
    return parser


def elt_params(dbutils=None, argv: Sequence[str] | None = None) -> RunParams:
    """``ELT.py``'s parameters: widgets in a notebook or job (``dbutils`` given), flags otherwise.

    For a command-line run it also makes an uncaught ZenithError end the script with one line.
    """
    if dbutils is not None:
        return params_from_widgets(dbutils)
    sys.excepthook = _one_line_user_errors
    return params_from_args(build_run_parser().parse_args(argv))


def _one_line_user_errors(kind, error, trace) -> None:
    """For ``python ELT.py``: a ZenithError prints one line; anything else its full traceback."""
    if issubclass(kind, ZenithError):
        print(f"ELT.py: error: {error}", file=sys.stderr)
    else:
        sys.__excepthook__(kind, error, trace)
