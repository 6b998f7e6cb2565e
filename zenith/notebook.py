"""The set-up every notebook under ``utils/`` and ``notebooks/`` shares: widgets, session, display.

A notebook passes ``globals().get("dbutils")`` and ``globals().get("display")``: both are None in
plain Python on a laptop, where the defaults apply and tables are printed as text.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from pyspark.sql import DataFrame, SparkSession

from zenith.demo.generator import GeneratorSettings
from zenith.lakehouse.config import CATALOG, DEFAULT_RETENTION_HOURS, Config, parse_managed_location
from zenith.lakehouse.errors import ZenithError
from zenith.lakehouse.runtime import get_spark
from zenith.lakehouse.setup import SetupStep
from zenith.pipeline.analytics import format_table
from zenith.pipeline.params import parse_bool

if TYPE_CHECKING:
    from matplotlib.figure import Figure

Display = Callable[[DataFrame], None]
BOOLEAN_CHOICES = ["false", "true"]
_DEFAULTS = GeneratorSettings()
# The generator settings a notebook offers as widgets, with their labels, in widget order.
GENERATOR_WIDGETS = {
    "seed": "Random seed",
    "customers": "Customers",
    "products": "Products",
    "events": "Events per batch",
    "files": "Event files per batch",
    "batches": "Batches",
    "interval": "Seconds between batches",
    "json_array": "Events as JSON arrays",
}


def show_locally(shown: DataFrame | Figure) -> None:
    """``display()`` outside a workspace: a table as aligned text, a chart saved as a PNG file."""
    if hasattr(shown, "savefig"):
        path = (
            Path(tempfile.gettempdir()) / f"zenith-{shown.axes[0].get_title().replace(' ', '-').lower()}.png"
        )
        shown.savefig(path)
        print(f"chart saved to {path}")
    else:
        print(format_table(shown))


def catalog_from_widgets(dbutils=None) -> str:
    """The ``catalog`` widget's value (the widget is created if missing); the default without dbutils."""
    if dbutils is None:
        return CATALOG
    dbutils.widgets.text("catalog", CATALOG, "Catalog")
    return dbutils.widgets.get("catalog").strip() or CATALOG


def managed_location_from_widgets(dbutils=None) -> str | None:
    """The ``managed_location`` widget (created if missing), checked; None when blank or without dbutils."""
    if dbutils is None:
        return None
    dbutils.widgets.text("managed_location", "", "Managed location (new catalog only)")
    return parse_managed_location(dbutils.widgets.get("managed_location"))


def retention_hours_from_widgets(dbutils=None) -> int:
    """The ``retention_hours`` widget (created if missing) in whole hours; Delta's 168 without dbutils."""
    if dbutils is None:
        return DEFAULT_RETENTION_HOURS
    dbutils.widgets.text("retention_hours", str(DEFAULT_RETENTION_HOURS), "Retention (hours)")
    text = dbutils.widgets.get("retention_hours").strip()
    if not text.isdigit():
        raise ZenithError(f"retention_hours: got {text!r}, expected a whole number of hours, 0 or more")
    return int(text)


def open_catalog(dbutils=None, display: Display | None = None) -> tuple[Config, SparkSession, Display]:
    """The catalog's configuration, the Spark session, and ``display`` (or ``show_locally`` if None)."""
    config = Config.from_env(catalog=catalog_from_widgets(dbutils))
    return config, get_spark(config), display or show_locally


def generator_widget_defaults() -> dict[str, str]:
    """Each generator widget's default as widget text, from ``GeneratorSettings()``."""
    return {name: _as_text(getattr(_DEFAULTS, name)) for name in GENERATOR_WIDGETS}


def _as_text(value: object) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def parse_generator_settings(values: Mapping[str, str]) -> GeneratorSettings:
    """``GeneratorSettings`` from widget text; a value that does not parse is a one-line ZenithError.

    Settings missing from ``values`` keep their defaults; an unknown name is an error too.
    """
    unknown = set(values) - set(GENERATOR_WIDGETS)
    if unknown:
        raise ZenithError(f"unknown generator settings: {', '.join(sorted(unknown))}")
    return GeneratorSettings(**{name: _parse(name, text) for name, text in values.items()})


def _parse(name: str, text: str) -> bool | int | float:
    """One widget's text as the type of the setting's default."""
    default = getattr(_DEFAULTS, name)
    if isinstance(default, bool):
        return parse_bool(name, text)
    parse, expected = (int, "a whole number") if isinstance(default, int) else (float, "a number")
    try:
        return parse(str(text).strip())
    except ValueError:
        raise ZenithError(f"{name}: got {text!r}, expected {expected}") from None


def generator_settings_from_widgets(dbutils=None) -> tuple[Config, GeneratorSettings]:
    """The catalog's configuration and the settings from the generator widgets (created if missing).

    Without ``dbutils`` (plain Python), the default catalog and ``GeneratorSettings()``.
    """
    catalog = catalog_from_widgets(dbutils)
    values = generator_widget_defaults()
    if dbutils is not None:
        for name, label in GENERATOR_WIDGETS.items():
            if isinstance(getattr(_DEFAULTS, name), bool):
                dbutils.widgets.dropdown(name, values[name], BOOLEAN_CHOICES, label)
            else:
                dbutils.widgets.text(name, values[name], label)
        values = {name: dbutils.widgets.get(name) for name in GENERATOR_WIDGETS}
    return Config.from_env(catalog=catalog), parse_generator_settings(values)


def setup_summary(steps: Sequence[SetupStep]) -> str:
    """One line per object setup looked at, then how many of them this run created."""
    created = sum(step.created for step in steps)
    return "\n".join([*map(str, steps), f"setup: {created} of {len(steps)} objects created"])
