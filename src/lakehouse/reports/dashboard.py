"""The KPI dashboard: one self-contained HTML page built from the Gold marts (`lakehouse dashboard`).

Each source is shown over its own range, in a panel of its own (sources can be years apart); the sources
are added up only over the days they all have data. Money adds known values: purchases of unknown price
and orders of unknown value are counted and said so, never drawn as zero. A partial first or last day
(`is_partial_day`) is drawn hatched and left out of the daily rates.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd

from lakehouse.reports import html_report as h

# what the page reads; each is a public mart with a contract (models/marts/kpis), and dim_sources
MARTS = (
    "gold.agg_daily_kpis",
    "gold.agg_funnel_daily",
    "gold.rpt_top_categories_brands",
    "gold.rpt_cohort_retention_weekly",
    "gold.rpt_rfm_segments",
    "gold.dim_sources",
)
SOURCE_LABELS = {"rees46": "web shop", "retailrocket": "app"}


def load_marts(spark) -> dict[str, pd.DataFrame]:
    """The marts the page shows, as pandas (they are small aggregates)."""
    return {name.split(".")[1]: spark.table(name).toPandas() for name in MARTS}


def headline(kpis: pd.DataFrame) -> dict[str, float]:
    """Totals over the given days, each ratio recomputed from the summed counts (never an average of ratios).

    Revenue adds the known values (null days count as none known); the average order value divides the
    known order revenue by the orders of known value (orders less those of unknown value).
    """
    total = {c: float(kpis[c].astype(float).sum()) for c in ("orders", "sessions", "purchases")}
    total["revenue"] = float(kpis["revenue"].astype(float).fillna(0).sum())
    total["purchases_unknown_price"] = float(kpis["purchases_unknown_price"].sum())
    total["orders_unknown_value"] = float(kpis["orders_unknown_value"].sum())
    converting = float(kpis["converting_sessions"].sum())
    carts = float(kpis["cart_sessions"].sum())
    abandoned = float(kpis["abandoned_cart_sessions"].sum())
    known_orders = total["orders"] - total["orders_unknown_value"]
    order_revenue = float(kpis["order_revenue"].astype(float).fillna(0).sum())
    return {
        **total,
        "session_conversion_rate": converting / total["sessions"] if total["sessions"] else float("nan"),
        "cart_abandonment_rate": abandoned / carts if carts else float("nan"),
        "average_order_value": order_revenue / known_orders if known_orders else float("nan"),
    }


def overlap(sources: pd.DataFrame) -> tuple[dt.date, dt.date] | None:
    """The days every source has data, or None when their ranges do not meet."""
    if len(sources) < 2:
        return None
    first, last = max(sources["first_event_date"]), min(sources["last_event_date"])
    return (first, last) if first <= last else None


def _daily_chart(kpis: pd.DataFrame, title: str) -> str:
    fig, ax = h.figure()
    days = pd.to_datetime(kpis["event_date"])
    partial = kpis["is_partial_day"].fillna(False).astype(bool).to_numpy()
    revenue = kpis["revenue"].astype(float)
    ax.bar(days[~partial], revenue[~partial].fillna(0), color=h.PALETTE[0], label="revenue")
    if partial.any():
        ax.bar(
            days[partial],
            revenue[partial].fillna(0),
            color="white",
            edgecolor=h.PALETTE[0],
            hatch="//",
            label="revenue, partial day",
        )
    unknown = kpis["revenue"].isna() & (kpis["purchases"] > 0)
    if unknown.any():
        ax.scatter(days[unknown], np.zeros(int(unknown.sum())), marker="x", color=h.PALETTE[3], label="revenue unknown")
    ax.set_ylabel("revenue (known prices)")
    ax.yaxis.set_major_formatter(h.thousands_formatter())
    ax2 = ax.twinx()
    ax2.plot(days, kpis["orders"], color=h.PALETTE[1], marker="o", ms=3, label="orders")
    ax2.set_ylabel("orders")
    ax2.yaxis.set_major_formatter(h.thousands_formatter())
    ax.legend(loc="upper left", frameon=False, fontsize=8)
    ax.set_title(title)
    fig.autofmt_xdate()
    return h.svg(fig)


def _rates_chart(kpis: pd.DataFrame, title: str) -> str:
    fig, ax = h.figure()
    full = kpis[~kpis["is_partial_day"].fillna(False).astype(bool)]
    days = pd.to_datetime(full["event_date"])
    ax.plot(days, full["session_conversion_rate"] * 100, color=h.PALETTE[2], label="session conversion %")
    ax.plot(days, full["cart_abandonment_rate"] * 100, color=h.PALETTE[3], label="cart abandonment %")
    ax.set_ylabel("%")
    ax.legend(loc="upper left", frameon=False)
    ax.set_title(title)
    fig.autofmt_xdate()
    return h.svg(fig)


def _funnel_chart(funnel: pd.DataFrame) -> str:
    steps = ["viewing_users", "carting_users", "purchasing_users"]
    values = [float(funnel[s].sum()) for s in steps]
    fig, ax = h.figure(height=2.6)
    bars = ax.barh(["viewed", "carted", "purchased"][::-1], values[::-1], color=h.PALETTE[:3][::-1])
    for bar, value in zip(bars, values[::-1], strict=True):
        ax.text(bar.get_width(), bar.get_y() + bar.get_height() / 2, f" {h.count(value)}", va="center", fontsize=9)
    ax.xaxis.set_major_formatter(h.thousands_formatter())
    ax.set_title("Funnel: user-days per step (day x category x brand)")
    return h.svg(fig)


def _top_chart(top: pd.DataFrame, kind: str, color: str) -> str:
    rows = top[(top["dimension_type"] == kind) & top["revenue"].notna()].sort_values("revenue_rank").head(10)
    fig, ax = h.figure(height=3.0)
    names = rows["display_name"].fillna(rows["dimension_value"]).astype(str)
    ax.barh(names[::-1], rows["revenue"].astype(float)[::-1], color=color)
    ax.xaxis.set_major_formatter(h.thousands_formatter())
    ax.set_title(f"Top {'categories' if kind == 'category' else 'brands'} by revenue (known prices)")
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
    counts = rfm.groupby("rfm_segment").agg(buyers=("user_id", "count")).sort_values("buyers")
    fig, ax = h.figure(height=2.8)
    ax.barh(counts.index, counts["buyers"], color=h.PALETTE[4])
    ax.xaxis.set_major_formatter(h.thousands_formatter())
    ax.set_title("Buyers per RFM segment")
    return h.svg(fig)


def _tiles(kpis: pd.DataFrame, suffix: str) -> str:
    top = headline(kpis)
    revenue_note = (
        f"{h.count(top['purchases_unknown_price'])} purchases of unknown price not included"
        if top["purchases_unknown_price"]
        else ""
    )
    aov_note = (
        f"{h.count(top['orders_unknown_value'])} orders of unknown value not included"
        if top["orders_unknown_value"]
        else ""
    )
    return "".join(
        [
            h.tile("Revenue", h.money(top["revenue"]), f"tile-revenue-{suffix}", revenue_note),
            h.tile("Orders", h.count(top["orders"]), f"tile-orders-{suffix}"),
            h.tile("Sessions", h.count(top["sessions"]), f"tile-sessions-{suffix}"),
            h.tile("Session conversion", h.percent(top["session_conversion_rate"]), f"tile-conversion-{suffix}"),
            h.tile("Cart abandonment", h.percent(top["cart_abandonment_rate"]), f"tile-abandonment-{suffix}"),
            h.tile("Average order value", h.money(top["average_order_value"]), f"tile-aov-{suffix}", aov_note),
        ]
    )


def _source_panel(marts: dict[str, pd.DataFrame], source: pd.Series) -> str:
    code = str(source["source_system"])
    label = SOURCE_LABELS.get(code, code)
    kpis = marts["agg_daily_kpis"]
    kpis = kpis[kpis["source_system"] == code].sort_values("event_date")

    def of(mart: str) -> pd.DataFrame:
        frame = marts[mart]
        return frame[frame["source_system"] == code]

    partial = kpis.loc[kpis["is_partial_day"].fillna(False).astype(bool), "event_date"].astype(str).tolist()
    note = f"; partial day(s) {', '.join(partial)} drawn hatched, left out of the rates" if partial else ""
    cards = [
        h.card(
            "Revenue and orders",
            _daily_chart(kpis, f"{label}: revenue (bars) and orders (line) per day"),
            f"chart-daily-{code}",
        ),
        h.card(
            "Conversion and cart abandonment",
            _rates_chart(kpis, f"{label}: conversion and abandonment"),
            f"chart-rates-{code}",
        ),
        h.card("Funnel", _funnel_chart(of("agg_funnel_daily")), f"chart-funnel-{code}"),
        h.card(
            "Top categories",
            _top_chart(of("rpt_top_categories_brands"), "category", h.PALETTE[0]),
            f"chart-categories-{code}",
        ),
    ]
    brands = of("rpt_top_categories_brands")
    if (brands["dimension_type"] == "brand").any():
        cards.append(h.card("Top brands", _top_chart(brands, "brand", h.PALETTE[1]), f"chart-brands-{code}"))
    if len(of("rpt_cohort_retention_weekly")):
        cards.append(
            h.card("Cohort retention", _cohort_chart(of("rpt_cohort_retention_weekly")), f"chart-cohorts-{code}")
        )
    if len(of("rpt_rfm_segments")):
        cards.append(h.card("RFM segments", _rfm_chart(of("rpt_rfm_segments")), f"chart-rfm-{code}"))
    heading = (
        f"{label} ({code}): {source['first_event_date']} to {source['last_event_date']}, "
        f"{h.count(len(kpis))} days{note}"
    )
    return h.section(
        heading,
        f'<div class="tiles">{_tiles(kpis, code)}</div><div class="grid">{"".join(cards)}</div>',
        f"source-{code}",
    )


def render(marts: dict[str, pd.DataFrame], generated_at: dt.datetime | None = None) -> str:
    """The page's HTML from the marts' rows."""
    kpis = marts["agg_daily_kpis"].sort_values("event_date")
    if kpis.empty:
        raise ValueError("gold.agg_daily_kpis is empty: build the project first (`make demo`)")
    sources = marts["dim_sources"].sort_values("first_event_date")
    panels = []
    shared = overlap(sources)
    if shared is not None:
        first, last = shared
        both = kpis[(kpis["event_date"] >= first) & (kpis["event_date"] <= last)]
        combined = both.groupby("event_date", as_index=False).agg(
            revenue=("revenue", lambda v: v.astype(float).sum(min_count=1)),
            orders=("orders", "sum"),
            purchases=("purchases", "sum"),
            is_partial_day=("is_partial_day", "max"),
        )
        body = f'<div class="tiles">{_tiles(both, "all")}</div>' + h.card(
            "Revenue and orders, all sources",
            _daily_chart(combined, "all sources: revenue (bars) and orders (line) per day"),
            "chart-daily-all",
        )
        panels.append(h.section(f"All sources, over the days they share: {first} to {last}", body, "source-all"))
    panels += [_source_panel(marts, source) for _, source in sources.iterrows()]
    stamp = (generated_at or dt.datetime.now(dt.UTC)).strftime("%Y-%m-%d %H:%M UTC")
    ranges = "; ".join(
        f"{SOURCE_LABELS.get(r.source_system, r.source_system)} {r.first_event_date} to {r.last_event_date}"
        for r in sources.itertuples()
    )
    subtitle = f"{ranges}; from gold.* marts; generated {stamp}"
    return h.page("E-commerce KPIs", subtitle, "".join(panels))


def build(spark, out: Path) -> Path:
    """Write the dashboard page to ``out``."""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render(load_marts(spark)), encoding="utf-8")
    return out
