"""The EDA report (`lakehouse eda`): runs the exploratory SQL in analyses/, plots it, and checks the
assumptions the marts and the model rely on. A broken assumption fails the command, loudly."""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from lakehouse.reports import html_report as h

ANALYSES = (
    "eda_event_mix",
    "eda_funnel",
    "eda_activity_by_hour_weekday",
    "eda_daily_coverage",
    "eda_price_distribution",
    "eda_nulls_per_column",
    "eda_quarantine_summary",
    "eda_label_balance",
)
MAX_SET_ASIDE_SHARE = 0.10
MAX_POSITIVE_RATE = 0.20
MIN_HOURS_COVERED = 18
# below this many events the hours of the day say nothing about the data (a small delivery)
MIN_EVENTS_FOR_HOURS = 500
# at most this many dates are named in a verdict; the rest are counted
MAX_DATES_SHOWN = 5


@dataclass(frozen=True)
class Assumption:
    """One assumption and its verdict. ``applies`` is False when the data is too small to judge it (the
    verdict reads `n/a`, and it fails nothing)."""

    name: str
    holds: bool
    detail: str
    applies: bool = True

    @property
    def broken(self) -> bool:
        return self.applies and not self.holds


def dates_in_brief(dates: list[str], limit: int = MAX_DATES_SHOWN) -> str:
    """A few dates and a count of the rest: `2019-10-03, 2019-10-09 and 12 more`."""
    shown = ", ".join(dates[:limit])
    return shown if len(dates) <= limit else f"{shown} and {len(dates) - limit:,} more"


class AssumptionsBrokenError(RuntimeError):
    """At least one assumption of the marts or the model does not hold on this data."""


def compiled_analyses(target_path: Path) -> dict[str, str] | None:
    """Each analysis's SQL as a dbt command that compiles every node (`docs generate`, `compile`) just left
    it in ``target_path``; None if one is missing."""
    found = {p.stem: p.read_text() for p in target_path.glob("compiled/*/analyses/*.sql")}
    return {name: found[name] for name in ANALYSES} if all(a in found for a in ANALYSES) else None


def compile_analyses(target_path: Path) -> dict[str, str]:
    """Compile analyses/ with dbt (refs resolved for the current target) and return each one's SQL."""
    from lakehouse.engine.dbt_runner import DbtCommandError, run_dbt

    if not run_dbt(["compile", "--select", "path:analyses", "--target-path", str(target_path), "--quiet"]):
        raise DbtCommandError(
            "dbt could not compile analyses/ (the EDA report's queries): `dbt compile --select path:analyses`"
            " failed; dbt's messages are in its log (logs/dbt.log, or under $DBT_LOG_PATH)"
        )
    found = {p.stem: p.read_text() for p in target_path.glob("compiled/*/analyses/*.sql")}
    missing = [a for a in ANALYSES if a not in found]
    if missing:
        raise DbtCommandError(f"analyses not compiled: {', '.join(missing)}")
    return {name: found[name] for name in ANALYSES}


def run_analyses(spark, sqls: dict[str, str]) -> dict[str, pd.DataFrame]:
    return {name: spark.sql(sql).toPandas() for name, sql in sqls.items()}


def known_event_types(seed: Path) -> set[str]:
    with seed.open(newline="") as handle:
        return {row["event_type"] for row in csv.DictReader(handle)}


def check_assumptions(results: dict[str, pd.DataFrame], event_types: set[str]) -> list[Assumption]:
    """Each assumption with whether it holds here and the numbers behind the verdict."""
    checks: list[Assumption] = []
    mix = results["eda_event_mix"]
    unknown = sorted(set(mix["event_type"]) - event_types)
    checks.append(Assumption("event types are the seed's", not unknown, f"unknown: {unknown or 'none'}"))

    funnel = results["eda_funnel"]
    shape = all((r.views > r.carts) and (r.views > r.purchases) for r in funnel.itertuples())
    detail = "; ".join(
        f"{r.source_system}: {r.views} views, {r.carts} carts, {r.purchases} purchases" for r in funnel.itertuples()
    )
    checks.append(Assumption("views outnumber carts and purchases in every source", shape, detail))

    prices = results["eda_price_distribution"]
    purchases = prices[prices["event_type"] == "purchase"]
    purchase_min = purchases["min_price"].dropna().astype(float)
    unknown = purchases.groupby("source_system")["events_unknown_price"].max()
    known = purchases.groupby("source_system")["events"].sum()
    unknown_detail = "; ".join(
        f"{source}: {int(n):,} of {int(n + known.get(source, 0)):,} purchases of unknown price"
        for source, n in unknown.items()
    )
    lowest = f"{purchase_min.min():,.2f}" if len(purchase_min) else "none"
    checks.append(
        Assumption(
            "every known purchase price is positive (unknown prices stay unknown)",
            bool((purchase_min > 0).all()),
            f"lowest known purchase price: {lowest}; {unknown_detail or 'no purchases'}",
        )
    )

    nulls = results["eda_nulls_per_column"]
    key_columns = ["user_id_null_share", "product_id_null_share", "event_at_null_share"]
    worst = float(nulls[key_columns].astype(float).to_numpy().max())
    checks.append(
        Assumption("keys and times are never null in Silver", worst == 0.0, f"largest null share {worst:.4f}")
    )

    coverage = results["eda_daily_coverage"]
    parts, any_gap = [], False
    for source, days in coverage.groupby("source_system"):
        dates = days.sort_values("event_date")
        gaps = dates.loc[dates["events"] == 0, "event_date"].astype(str).tolist()
        any_gap = any_gap or bool(gaps)
        span = f"{dates['event_date'].min()} to {dates['event_date'].max()} ({len(dates):,} days)"
        parts.append(
            f"{source}: {span}, {f'{len(gaps):,} without events: ' + dates_in_brief(gaps) if gaps else 'no gap'}"
        )
    checks.append(
        Assumption(
            "no day without events within each source's own range (rolling snapshots, daily KPIs)",
            not any_gap,
            "; ".join(parts) or "no events",
        )
    )

    activity = results["eda_activity_by_hour_weekday"]
    hours = activity["hour_of_day"].nunique()
    events = int(activity["events"].sum()) if len(activity) else 0
    checks.append(
        Assumption(
            f"activity spreads over the day (at least {MIN_HOURS_COVERED} UTC hours)",
            hours >= MIN_HOURS_COVERED,
            f"{hours} hours with events"
            + ("" if events >= MIN_EVENTS_FOR_HOURS else f" (n/a: {events:,} events are too few to judge)"),
            applies=events >= MIN_EVENTS_FOR_HOURS,
        )
    )

    quarantine = results["eda_quarantine_summary"]
    share = quarantine.groupby("source_system")["share_of_source"].sum().astype(float)
    too_much = share[share > MAX_SET_ASIDE_SHARE]
    checks.append(
        Assumption(
            f"Silver sets aside under {MAX_SET_ASIDE_SHARE:.0%} of each source",
            too_much.empty,
            "; ".join(f"{s}: {v:.2%}" for s, v in share.items()) or "nothing set aside",
        )
    )

    labels = results["eda_label_balance"]
    rates = labels["positive_rate"].astype(float)
    enough = len(labels) >= 2
    balanced = bool((rates > 0).any()) and bool((rates <= MAX_POSITIVE_RATE).all())
    checks.append(
        Assumption(
            f"labelled snapshots convert, at a positive rate of at most {MAX_POSITIVE_RATE:.0%}",
            enough and balanced,
            f"{len(labels)} labelled snapshots, positive rate {rates.min():.2%} to {rates.max():.2%}"
            if enough
            else f"n/a: {len(labels)} labelled snapshot(s); the model needs 2 (training is skipped until then)",
            applies=enough,
        )
    )
    return checks


def _legend_or_note(ax, note: str) -> None:
    """The legend of what the chart drew, or, when it drew nothing (no rows, or no known price in any
    source), the note in its middle instead of an empty frame."""
    if ax.get_legend_handles_labels()[0]:
        ax.legend(frameon=False)
    else:
        ax.text(0.5, 0.5, note, transform=ax.transAxes, ha="center", va="center", color="#777777")


def _bar(frame: pd.DataFrame, x: str, y: str, title: str, hue: str | None = None) -> str:
    fig, ax = h.figure()
    if hue is None:
        ax.bar(frame[x].astype(str), frame[y].astype(float), color=h.PALETTE[0])
    else:
        wide = frame.pivot_table(index=x, columns=hue, values=y, aggfunc="sum").fillna(0)
        positions = np.arange(len(wide.index))
        width = 0.8 / max(len(wide.columns), 1)
        for i, column in enumerate(wide.columns):
            ax.bar(positions + i * width, wide[column], width, label=str(column), color=h.PALETTE[i % 7])
        ax.set_xticks(positions + width * (len(wide.columns) - 1) / 2, [str(v) for v in wide.index])
        _legend_or_note(ax, "no rows")
    ax.set_title(title)
    plt_labels = ax.get_xticklabels()
    ax.set_xticks(ax.get_xticks(), [t.get_text() for t in plt_labels], rotation=30, ha="right")
    return h.svg(fig)


def _heatmap(activity: pd.DataFrame) -> str:
    grid = activity.pivot_table(index="day_of_week", columns="hour_of_day", values="events", aggfunc="sum")
    grid = grid.reindex(index=range(1, 8), columns=range(24)).fillna(0)
    fig, ax = h.figure(height=3.0)
    ax.grid(False)
    image = ax.imshow(grid.to_numpy(dtype=float), cmap="Oranges", aspect="auto")
    ax.set_yticks(range(7), ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"])
    ax.set_xticks(range(0, 24, 3), [str(v) for v in range(0, 24, 3)])
    ax.set_xlabel("hour of day (UTC)")
    fig.colorbar(image, ax=ax, label="events")
    ax.set_title("Activity by weekday and hour")
    return h.svg(fig)


def _price_histogram(prices: pd.DataFrame) -> str:
    fig, ax = h.figure()
    for i, (source, rows) in enumerate(prices.dropna(subset=["log10_price_bucket"]).groupby("source_system")):
        buckets = rows.groupby("log10_price_bucket")["events"].sum().sort_index()
        ax.plot(
            10 ** buckets.index.astype(float), buckets.to_numpy(), marker="o", ms=3, label=source, color=h.PALETTE[i]
        )
    ax.set_xscale("log")
    ax.set_xlabel("price (log scale)")
    ax.set_ylabel("events")
    _legend_or_note(ax, "no known prices")
    ax.set_title("Price distribution")
    return h.svg(fig)


def _nulls_chart(nulls: pd.DataFrame) -> str:
    columns = [c for c in nulls.columns if c.endswith("_share")]
    long = nulls.melt(id_vars="source_system", value_vars=columns, var_name="column", value_name="share")
    long["column"] = long["column"].str.removesuffix("_null_share").str.removesuffix("_share")
    long["share"] = long["share"].astype(float) * 100
    return _bar(long, "column", "share", "Nulls per column (% of valid events)", hue="source_system")


def render(results: dict[str, pd.DataFrame], checks: list[Assumption]) -> str:
    rows = [
        {
            "assumption": c.name,
            "verdict": "n/a" if not c.applies else "holds" if c.holds else "BROKEN",
            "evidence": c.detail,
        }
        for c in checks
    ]
    verdicts = (
        h.table(rows)
        .replace("<td>holds</td>", '<td class="ok">holds</td>')
        .replace("<td>BROKEN</td>", '<td class="broken">BROKEN</td>')
    )
    funnel = results["eda_funnel"].melt(
        id_vars="source_system",
        value_vars=["viewing_users", "carting_users", "removing_users", "purchasing_users"],
        var_name="step",
        value_name="users",
    )
    quarantine = results["eda_quarantine_summary"]
    cards = "".join(
        [
            h.card("Assumptions", verdicts, "assumptions"),
            h.card(
                "Event mix",
                _bar(results["eda_event_mix"], "event_type", "events", "Events per type", "source_system"),
                "event-mix",
            ),
            h.card("Funnel", _bar(funnel, "step", "users", "Users per funnel step", "source_system"), "funnel"),
            h.card("Activity by hour and weekday", _heatmap(results["eda_activity_by_hour_weekday"]), "activity"),
            h.card("Price distribution", _price_histogram(results["eda_price_distribution"]), "prices"),
            h.card("Nulls per column", _nulls_chart(results["eda_nulls_per_column"]), "nulls"),
            h.card(
                "Quarantine and duplicates",
                _bar(quarantine, "reason", "set_aside_rows", "Rows set aside per reason", "source_system")
                + h.table(quarantine.to_dict("records")),
                "quarantine",
            ),
            h.card(
                "Label balance",
                h.table(results["eda_label_balance"].sort_values("as_of_date").to_dict("records")),
                "labels",
            ),
        ]
    )
    broken = sum(c.broken for c in checks)
    judged = sum(c.applies for c in checks)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    subtitle = f"{judged - broken} of {judged} assumptions hold ({len(checks) - judged} n/a); generated {stamp}"
    return h.page("EDA and validation", subtitle, f'<div class="grid">{cards}</div>')


def build(spark, out: Path, target_path: Path, seed: Path, compiled: dict[str, str] | None = None) -> list[Assumption]:
    """Write the report to ``out`` and return the checks (the caller decides how loudly to fail); the
    analyses are compiled into ``target_path`` unless ``compiled`` holds them already."""
    results = run_analyses(spark, compiled or compile_analyses(target_path))
    checks = check_assumptions(results, known_event_types(seed))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render(results, checks), encoding="utf-8")
    return checks
