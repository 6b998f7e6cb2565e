"""The pipeline's parameters: which catalog, which layers, full refresh, the event format.

The same parameters come from notebook widgets or Databricks job parameters (here) and from
command-line flags (``zenith.cli``).
"""

from __future__ import annotations

from dataclasses import dataclass

from zenith.lakehouse.config import (
    CATALOG,
    CHANGED_FILES,
    LAYER_TABLES,
    LAYERS,
    WIDGET_DEFAULTS,
    WIDGETS,
    Config,
    check_name,
)
from zenith.lakehouse.errors import ZenithError

__all__ = [
    "LAYERS",
    "LAYER_TABLES",
    "STATUS_RUNS",
    "WIDGETS",
    "WIDGET_DEFAULTS",
    "RunParams",
    "params_from_widgets",
    "parse_bool",
    "parse_layers",
    "refreshed_layers",
]

# How many of the last runs that ended a status shows (``zenith status``, the end of a run).
STATUS_RUNS = 5


@dataclass(frozen=True)
class RunParams:
    """What to run: the catalog, which layers (always in pipeline order), and a full refresh."""

    catalog: str = CATALOG
    layers: tuple[str, ...] = LAYERS
    full_refresh: bool = False
    lakehouse: str | None = None
    json_array: bool = False
    changed_files: str = WIDGET_DEFAULTS["changed_files"]
    max_event_age_days: int = int(WIDGET_DEFAULTS["max_event_age_days"])
    dedupe_horizon_hours: int = int(WIDGET_DEFAULTS["dedupe_horizon_hours"])

    def __post_init__(self) -> None:
        if self.changed_files not in CHANGED_FILES:
            raise ZenithError(
                f"changed_files: got {self.changed_files!r}, expected one of {', '.join(CHANGED_FILES)}"
            )
        for name in ("max_event_age_days", "dedupe_horizon_hours"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ZenithError(f"{name}: got {value!r}, expected a whole number >= 1")

    def config(self) -> Config:
        """The configuration of this environment (``Config.from_env``) with these parameters in it."""
        return Config.from_env(catalog=self.catalog, lakehouse=self.lakehouse).with_(
            json_array=self.json_array,
            changed_files=self.changed_files,
            max_event_age_days=self.max_event_age_days,
            dedupe_horizon_hours=self.dedupe_horizon_hours,
        )

    def recorded(self) -> dict:
        """The parameters a run's result depends on, as the run manifest records them (JSON types)."""
        return {
            "catalog": self.catalog,
            "layers": list(self.layers),
            "json_array": self.json_array,
            "changed_files": self.changed_files,
            "max_event_age_days": self.max_event_age_days,
            "dedupe_horizon_hours": self.dedupe_horizon_hours,
        }


def parse_layers(text: str) -> tuple[str, ...]:
    """The requested layers in pipeline order; an unknown name is a one-line error."""
    requested = {part.strip().lower() for part in text.split(",") if part.strip()}
    unknown = requested - set(LAYERS)
    if unknown or not requested:
        raise ZenithError(f"layers: got {text!r}, expected a comma-separated subset of {','.join(LAYERS)}")
    return tuple(layer for layer in LAYERS if layer in requested)


def refreshed_layers(layers: tuple[str, ...]) -> tuple[str, ...]:
    """The layers a full refresh of ``layers`` drops: those and every layer downstream of them.

    Each layer streams from the one before it, so a rebuilt layer invalidates what read it.
    """
    first = min(LAYERS.index(layer) for layer in layers)
    return tuple(layer for layer in LAYERS[first:] if LAYER_TABLES[layer])


def parse_bool(name: str, text: str) -> bool:
    """``true``/``false`` (any case) from a widget or job parameter."""
    value = str(text).strip().lower()
    if value not in ("true", "false"):
        raise ZenithError(f"{name}: got {text!r}, expected true or false")
    return value == "true"


def parse_days(name: str, text: str) -> int:
    """A whole number (of days or hours) >= 1 from a widget or job parameter."""
    try:
        return int(str(text).strip())
    except ValueError:
        raise ZenithError(f"{name}: got {text!r}, expected a whole number >= 1") from None


def params_from_widgets(dbutils) -> RunParams:
    """Parameters from notebook widgets (created with defaults when missing) or job parameters."""
    dbutils.widgets.text("catalog", WIDGET_DEFAULTS["catalog"], "Catalog")
    dbutils.widgets.text("layers", WIDGET_DEFAULTS["layers"], "Layers")
    dbutils.widgets.dropdown(
        "full_refresh", WIDGET_DEFAULTS["full_refresh"], ["false", "true"], "Full refresh"
    )
    dbutils.widgets.dropdown(
        "json_array", WIDGET_DEFAULTS["json_array"], ["false", "true"], "Events as JSON arrays"
    )
    dbutils.widgets.dropdown(
        "changed_files", WIDGET_DEFAULTS["changed_files"], list(CHANGED_FILES), "Changed event files"
    )
    dbutils.widgets.text("max_event_age_days", WIDGET_DEFAULTS["max_event_age_days"], "Max event age (days)")
    dbutils.widgets.text(
        "dedupe_horizon_hours", WIDGET_DEFAULTS["dedupe_horizon_hours"], "Deduplication horizon (hours)"
    )
    return RunParams(
        catalog=check_name("catalog", dbutils.widgets.get("catalog").strip() or CATALOG),
        changed_files=dbutils.widgets.get("changed_files").strip().lower(),
        max_event_age_days=parse_days("max_event_age_days", dbutils.widgets.get("max_event_age_days")),
        dedupe_horizon_hours=parse_days("dedupe_horizon_hours", dbutils.widgets.get("dedupe_horizon_hours")),
        layers=parse_layers(dbutils.widgets.get("layers")),
        full_refresh=parse_bool("full_refresh", dbutils.widgets.get("full_refresh")),
        json_array=parse_bool("json_array", dbutils.widgets.get("json_array")),
    )
