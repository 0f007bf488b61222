"""The KPI dashboard: one self-contained HTML page built from the Gold marts (`lakehouse dashboard`)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd

from lakehouse import html_report as h

# what the page reads; each is a public mart with a contract (models/marts/kpis)
MARTS = (
    "gold.agg_daily_kpis",
    "gold.agg_funnel_daily",
    "gold.rpt_top_categories_brands",
    "gold.rpt_cohort_retention_weekly",
    "gold.rpt_rfm_segments",
)


def load_marts(spark) -> dict[str, pd.DataFrame]:  # type: ignore[no-untyped-def]
    """The marts the page shows, as pandas (they are small aggregates)."""
    return {name.split(".")[1]: spark.table(name).toPandas() for name in MARTS}


def headline(kpis: pd.DataFrame) -> dict[str, float]:
    """Totals over all days, each ratio recomputed from the summed counts (never an average of ratios)."""
    total = {c: float(kpis[c].astype(float).sum()) for c in ("revenue", "orders", "sessions", "active_users")}
    converting = float(kpis["converting_sessions"].sum())
    carts = float(kpis["cart_sessions"].sum())
    abandoned = float(kpis["abandoned_cart_sessions"].sum())
    orders = total["orders"]
    return {
        **total,
        "session_conversion_rate": converting / total["sessions"] if total["sessions"] else float("nan"),
        "cart_abandonment_rate": abandoned / carts if carts else float("nan"),
        # over all days an order's revenue is the revenue of its purchases, so revenue / orders
        "average_order_value": total["revenue"] / orders if orders else float("nan"),
    }


def _daily_chart(kpis: pd.DataFrame) -> str:
    fig, ax = h.figure()
    days = pd.to_datetime(kpis["event_date"])
    ax.bar(days, kpis["revenue"].astype(float), color=h.PALETTE[0], label="revenue")
    ax.set_ylabel("revenue")
    ax2 = ax.twinx()
    ax2.plot(days, kpis["orders"], color=h.PALETTE[1], marker="o", ms=3, label="orders")
    ax2.set_ylabel("orders")
    ax.set_title("Revenue (bars) and orders (line) per day")
    fig.autofmt_xdate()
    return h.svg(fig)


def _rates_chart(kpis: pd.DataFrame) -> str:
    fig, ax = h.figure()
    days = pd.to_datetime(kpis["event_date"])
    ax.plot(days, kpis["session_conversion_rate"] * 100, color=h.PALETTE[2], label="session conversion %")
    ax.plot(days, kpis["cart_abandonment_rate"] * 100, color=h.PALETTE[3], label="cart abandonment %")
    ax.set_ylabel("%")
    ax.legend(loc="upper left", frameon=False)
    ax.set_title("Session conversion and cart abandonment per day")
    fig.autofmt_xdate()
    return h.svg(fig)


def _funnel_chart(funnel: pd.DataFrame) -> str:
    steps = ["viewing_users", "carting_users", "purchasing_users"]
    values = [float(funnel[s].sum()) for s in steps]
    fig, ax = h.figure(height=2.6)
    bars = ax.barh(["viewed", "carted", "purchased"][::-1], values[::-1], color=h.PALETTE[:3][::-1])
    for bar, value in zip(bars, values[::-1], strict=True):
        ax.text(bar.get_width(), bar.get_y() + bar.get_height() / 2, f" {value:,.0f}", va="center", fontsize=9)
    ax.set_title("Funnel: user-days per step (day x category x brand)")
    return h.svg(fig)


def _top_chart(top: pd.DataFrame, kind: str, color: str) -> str:
    rows = top[top["dimension_type"] == kind].sort_values("revenue_rank").head(10)
    fig, ax = h.figure(height=3.0)
    ax.barh(rows["dimension_value"][::-1], rows["revenue"].astype(float)[::-1], color=color)
    ax.set_title(f"Top {'categories' if kind == 'category' else 'brands'} by revenue")
    return h.svg(fig)


def _cohort_chart(cohorts: pd.DataFrame) -> str:
    table = cohorts.pivot_table(index="cohort_week", columns="weeks_since_first", values="retention_rate")
    fig, ax = h.figure(height=3.0)
    ax.grid(False)
    image = ax.imshow(table.to_numpy(dtype=float) * 100, cmap="Blues", vmin=0, vmax=100, aspect="auto")
    ax.set_yticks(range(len(table.index)), [str(i) for i in table.index])
    ax.set_xticks(range(len(table.columns)), [f"w{c}" for c in table.columns])
    for (i, j), value in np.ndenumerate(table.to_numpy(dtype=float)):
        if not np.isnan(value):
            color = "white" if value > 0.6 else "#102040"
            ax.text(j, i, f"{value:.0%}", ha="center", va="center", fontsize=8, color=color)
    fig.colorbar(image, ax=ax, label="% of cohort active")
    ax.set_title("Weekly cohort retention")
    return h.svg(fig)


def _rfm_chart(rfm: pd.DataFrame) -> str:
    counts = rfm.groupby("rfm_segment").agg(buyers=("user_id", "count"), revenue=("monetary", "sum"))
    counts = counts.sort_values("buyers")
    fig, ax = h.figure(height=2.8)
    ax.barh(counts.index, counts["buyers"], color=h.PALETTE[4])
    ax.set_title("Buyers per RFM segment")
    return h.svg(fig)


def render(marts: dict[str, pd.DataFrame], generated_at: dt.datetime | None = None) -> str:
    """The page's HTML from the marts' rows."""
    kpis = marts["agg_daily_kpis"].sort_values("event_date")
    if kpis.empty:
        raise ValueError("gold.agg_daily_kpis is empty: build the project first (`make demo`)")
    top = headline(kpis)
    first, last = kpis["event_date"].min(), kpis["event_date"].max()
    tiles = "".join(
        [
            h.tile("Revenue", f"{top['revenue']:,.0f}", "tile-revenue"),
            h.tile("Orders", f"{top['orders']:,.0f}", "tile-orders"),
            h.tile("Sessions", f"{top['sessions']:,.0f}", "tile-sessions"),
            h.tile("Session conversion", f"{top['session_conversion_rate']:.2%}", "tile-conversion"),
            h.tile("Cart abandonment", f"{top['cart_abandonment_rate']:.1%}", "tile-abandonment"),
            h.tile("Average order value", f"{top['average_order_value']:,.2f}", "tile-aov"),
        ]
    )
    cards = "".join(
        [
            h.card("Revenue and orders", _daily_chart(kpis), "chart-daily"),
            h.card("Conversion and cart abandonment", _rates_chart(kpis), "chart-rates"),
            h.card("Funnel", _funnel_chart(marts["agg_funnel_daily"]), "chart-funnel"),
            h.card(
                "Top categories",
                _top_chart(marts["rpt_top_categories_brands"], "category", h.PALETTE[0]),
                "chart-categories",
            ),
            h.card("Top brands", _top_chart(marts["rpt_top_categories_brands"], "brand", h.PALETTE[1]), "chart-brands"),
            h.card("Cohort retention", _cohort_chart(marts["rpt_cohort_retention_weekly"]), "chart-cohorts"),
            h.card("RFM segments", _rfm_chart(marts["rpt_rfm_segments"]), "chart-rfm"),
        ]
    )
    stamp = (generated_at or dt.datetime.now(dt.UTC)).strftime("%Y-%m-%d %H:%M UTC")
    subtitle = f"{first} to {last}, {len(kpis)} days; from gold.* marts; generated {stamp}"
    return h.page("E-commerce KPIs", subtitle, f'<div class="tiles">{tiles}</div><div class="grid">{cards}</div>')


def build(spark, out: Path) -> Path:  # type: ignore[no-untyped-def]
    """Write the dashboard page to ``out``."""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render(load_marts(spark)), encoding="utf-8")
    return out
