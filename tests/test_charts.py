"""The analytics charts: one line per category, one bar per top product, from small pandas frames."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pandas as pd

from zenith.charts import daily_revenue_chart, top_products_chart


def test_daily_revenue_chart_draws_one_line_per_category_with_its_revenue():
    daily = pd.DataFrame(
        {
            "event_date": [date(2026, 3, 1), date(2026, 3, 1), date(2026, 3, 2)],
            "category": ["Furniture", "Electronics", "Furniture"],
            "revenue": [Decimal("100.50"), Decimal("20.00"), Decimal("75.25")],
        }
    )

    axes = daily_revenue_chart(daily).axes[0]

    lines = {line.get_label(): list(line.get_ydata()) for line in axes.get_lines()}
    assert set(lines) == {"Electronics", "Furniture"}
    assert lines["Furniture"] == [100.5, 75.25]
    assert lines["Electronics"][0] == 20.0
    assert axes.get_title() == "Daily revenue by category"


def test_top_products_chart_puts_the_best_seller_on_top():
    top = pd.DataFrame(
        {
            "event_date": [date(2026, 3, 4)] * 3,
            "product_name": ["Oak Desk", "Desk Lamp", "Rug"],
            "total_purchases": [9, 5, 2],
        }
    )

    axes = top_products_chart(top).axes[0]

    bars = [
        (label.get_text(), patch.get_width())
        for label, patch in zip(axes.get_yticklabels(), axes.patches, strict=True)
    ]
    assert bars == [("Rug", 2), ("Desk Lamp", 5), ("Oak Desk", 9)]  # drawn bottom-up
    assert axes.get_title() == "Top products by purchases on 2026-03-04"
