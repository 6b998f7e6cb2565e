"""Run a Databricks source-format notebook in this process, cell by cell, as a workspace would.

A notebook file starts with ``# Databricks notebook source`` and separates its cells with
``# COMMAND ----------``; ``# MAGIC`` lines (markdown, ``%run``, ``%pip``) are comments to Python and
are skipped. Every cell runs in one namespace holding stand-ins for what a workspace provides:
``spark``, ``dbutils.widgets`` and ``display``. Tracebacks point at the notebook's own lines.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure
from pyspark.sql import DataFrame, SparkSession

HEADER = "# Databricks notebook source"
SEPARATOR = "# COMMAND ----------"
MAGIC = "# MAGIC"
DISPLAY_ROWS = 1000  # display() shows the first rows of a result, not all of it


class NotebookFormatError(ValueError):
    """The file is not a notebook in Databricks source format."""


@dataclass(frozen=True)
class Cell:
    """One code cell: its position among all cells (1-based) and its first line in the file."""

    number: int
    first_line: int
    source: str

    def compile(self, filename: str):
        """The cell's code, compiled so that errors report the line numbers of the file."""
        return compile("\n" * (self.first_line - 1) + self.source, filename, "exec")


def parse_notebook(text: str, name: str = "<notebook>") -> list[Cell]:
    """The code cells of a Databricks source notebook; markdown-only and empty cells are left out."""
    lines = text.removeprefix("\ufeff").splitlines()
    if not lines or lines[0] != HEADER:
        first = lines[0] if lines else "(empty file)"
        raise NotebookFormatError(f"{name}: the first line must be exactly {HEADER!r}, got {first!r}")
    cells, body, first_line = [], [], 2
    for line_number, line in enumerate([*lines[1:], SEPARATOR], start=2):
        if line.rstrip() == SEPARATOR:
            source = "\n".join(body)
            if source.strip():
                cells.append(Cell(len(cells) + 1, first_line, source))
            body, first_line = [], line_number + 1
            continue
        body.append("" if line.lstrip().startswith(MAGIC) else line)
    return cells


def read_notebook(path: Path) -> list[Cell]:
    """The code cells of a notebook file."""
    return parse_notebook(path.read_text(encoding="utf-8"), str(path))


class WidgetError(Exception):
    """A widget was read before it was created, or given a value it does not offer."""


class FakeWidgets:
    """``dbutils.widgets``: each widget takes its job parameter (``values``) if given, else its default."""

    def __init__(self, values: dict[str, str] | None = None) -> None:
        self.parameters = dict(values or {})
        self.widgets: dict[str, str] = {}

    def _create(self, name: str, default: str, choices: Sequence[str] | None = None) -> None:
        value = str(self.parameters.get(name, default))
        if choices is not None and (default not in choices or value not in choices):
            raise WidgetError(
                f"widget {name!r}: {value!r} (default {default!r}) is not one of {list(choices)}"
            )
        self.widgets.setdefault(name, value)

    def text(self, name: str, defaultValue: str, label: str | None = None) -> None:
        self._create(name, defaultValue)

    def dropdown(
        self, name: str, defaultValue: str, choices: Sequence[str], label: str | None = None
    ) -> None:
        self._create(name, defaultValue, choices)

    def combobox(
        self, name: str, defaultValue: str, choices: Sequence[str], label: str | None = None
    ) -> None:
        self._create(name, defaultValue)

    def multiselect(
        self, name: str, defaultValue: str, choices: Sequence[str], label: str | None = None
    ) -> None:
        self._create(name, defaultValue)

    def get(self, name: str) -> str:
        if name not in self.widgets:
            raise WidgetError(f"widget {name!r} was read before it was created")
        return self.widgets[name]

    def getAll(self) -> dict[str, str]:
        return dict(self.widgets)

    def remove(self, name: str) -> None:
        self.widgets.pop(name, None)

    def removeAll(self) -> None:
        self.widgets.clear()

    def unused_parameters(self) -> set[str]:
        """Parameters no widget was created for: a misspelt name in a test, or a widget that went away."""
        return set(self.parameters) - set(self.widgets)


@dataclass
class FakeDbutils:
    widgets: FakeWidgets


@dataclass(frozen=True)
class Shown:
    """One ``display()`` call: the notebook, the frame (or chart) and the first rows it would show."""

    notebook: str
    frame: DataFrame | pd.DataFrame | Figure
    rows: list[tuple]


@dataclass
class DisplayRecorder:
    """``display()``: runs the frame's query like a workspace does and keeps the first rows."""

    shown: list[Shown] = field(default_factory=list)
    notebook: str = ""

    def __call__(self, frame, *args, **kwargs) -> None:
        if isinstance(frame, DataFrame):
            rows = [tuple(row) for row in frame.limit(DISPLAY_ROWS).collect()]
        elif isinstance(frame, pd.DataFrame):
            rows = list(frame.head(DISPLAY_ROWS).itertuples(index=False, name=None))
        elif isinstance(frame, Figure):
            frame.canvas.draw()  # render it, as a workspace does, so a broken chart fails here
            rows = []
        else:
            raise TypeError(
                f"display() was given a {type(frame).__name__}: expected a Spark or pandas DataFrame or a chart"
            )
        self.shown.append(Shown(self.notebook, frame, rows))

    def of(self, notebook: str) -> list[Shown]:
        """What one notebook displayed, in order."""
        return [shown for shown in self.shown if shown.notebook == notebook]

    def rows_of(self, frame: DataFrame | pd.DataFrame) -> list[tuple]:
        """The rows shown for ``frame`` (the very object a notebook displayed)."""
        matches = [shown.rows for shown in self.shown if shown.frame is frame]
        if not matches:
            raise LookupError("this frame was never displayed")
        return matches[-1]


def run_notebook(path: Path, namespace: dict) -> dict:
    """Run every code cell of ``path`` in ``namespace``, top to bottom; returns the namespace.

    An error keeps its traceback (which names the notebook's lines) and gains a note with the cell.
    """
    namespace.setdefault("__name__", "__main__")
    for cell in read_notebook(path):
        code = cell.compile(str(path))
        try:
            exec(code, namespace)
        except Exception as error:
            error.add_note(f"in cell {cell.number} of notebook {path}")
            raise
    return namespace


def workspace_namespace(
    spark: SparkSession, display: DisplayRecorder, parameters: dict[str, str] | None = None
) -> dict:
    """The globals a Databricks notebook starts with: ``spark``, ``dbutils`` and ``display``."""
    return {"spark": spark, "dbutils": FakeDbutils(FakeWidgets(parameters)), "display": display}
