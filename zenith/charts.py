"""Charts of the analytics answers and of the pipeline's runs, drawn with matplotlib.

matplotlib comes with every Databricks runtime; locally it is a dev extra, imported only when a
chart is drawn. Each function takes a small pandas frame (an answer's ``toPandas()``, or the runs of
``zenith.pipeline.health.status.runs_frame``) and returns a Figure that ``display()`` shows in a notebook.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def _figure() -> Figure:
    from matplotlib.figure import Figure  # no pyplot: no global state, no GUI backend needed

    return Figure(figsize=(9, 4), layout="constrained")


def daily_revenue_chart(daily_revenue: pd.DataFrame) -> Figure:
    """A line per category: revenue by day (from the daily revenue per category answer)."""
    by_day = daily_revenue.pivot_table(
        index="event_date", columns="category", values="revenue", aggfunc="sum"
    )
    figure = _figure()
    axes = figure.subplots()
    for category in by_day.columns:
        axes.plot(by_day.index, by_day[category].astype(float), marker="o", label=category)
    axes.set(title="Daily revenue by category", xlabel="day", ylabel="revenue")
    axes.legend()
    return figure


def top_products_chart(top_products: pd.DataFrame) -> Figure:
    """Horizontal bars: purchases of the latest day's top products, the best seller on top."""
    figure = _figure()
    axes = figure.subplots()
    ranked = top_products.iloc[::-1]
    axes.barh(ranked["product_name"], ranked["total_purchases"])
    day = top_products["event_date"].iloc[0] if len(top_products) else "no data"
    axes.set(title=f"Top products by purchases on {day}", xlabel="purchases")
    return figure


def runs_chart(runs: pd.DataFrame) -> Figure:
    """Two panels over the runs' end times: each layer's rows out, and quarantined rows per reason seen.

    ``runs`` is ``zenith.pipeline.health.status.runs_frame``: one row per run that ended, oldest first.
    """
    figure = _figure()
    written, quarantined = figure.subplots(2, 1, sharex=True)
    for layer in ("bronze", "silver", "gold"):
        written.plot(runs["ended_at"], runs[f"{layer}_rows"], marker="o", label=layer)
    written.set(title="Rows per run, by layer", ylabel="rows out")
    reasons = [name for name in runs.columns if name.startswith("quarantined_") and runs[name].any()]
    for column in reasons:
        quarantined.plot(
            runs["ended_at"], runs[column], marker="o", label=column.removeprefix("quarantined_")
        )
    quarantined.set(title="Quarantined rows per run, by reason", xlabel="run ended (UTC)", ylabel="rows")
    for axes in (written, quarantined):
        if axes.lines:
            axes.legend(fontsize="small", ncols=2)
    return figure
