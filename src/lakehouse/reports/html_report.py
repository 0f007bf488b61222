"""Small building blocks for the self-contained HTML pages (dashboard, EDA report): inline SVG figures."""

from __future__ import annotations

import html
import io
from collections.abc import Mapping, Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

PALETTE = ["#2f6db5", "#e07b39", "#3a9d5d", "#c23b4e", "#7b5ea7", "#8c6d31", "#5f9ea0"]

STYLE = """
body { font-family: -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif; margin: 24px; color: #1d2433; }
h1 { font-size: 22px; margin-bottom: 4px; } h2 { font-size: 16px; margin: 0 0 8px; }
.sub { color: #5b6475; margin-bottom: 18px; font-size: 13px; }
.tiles { display: flex; flex-wrap: wrap; gap: 12px; margin-bottom: 18px; }
.tile { border: 1px solid #dde2ea; border-radius: 8px; padding: 10px 16px; min-width: 150px; }
.tile .label { color: #5b6475; font-size: 12px; } .tile .value { font-size: 24px; font-weight: 600; }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(520px, 1fr)); gap: 16px; }
.card { border: 1px solid #dde2ea; border-radius: 8px; padding: 12px; }
.card svg { width: 100%; height: auto; }
table { border-collapse: collapse; font-size: 13px; } td, th { padding: 3px 8px; border-bottom: 1px solid #eef0f4; }
.ok { color: #2e7d32; font-weight: 600; } .broken { color: #c62828; font-weight: 600; }
.tile .note { color: #8a5a00; font-size: 11px; max-width: 190px; }
.panel { margin-bottom: 28px; } .panel > h2 { font-size: 17px; margin-bottom: 10px; }
"""


def svg(fig) -> str:
    """A matplotlib figure as an inline <svg> element (and the figure closed)."""
    buffer = io.StringIO()
    fig.tight_layout()
    fig.savefig(buffer, format="svg")
    plt.close(fig)
    text = buffer.getvalue()
    return text[text.index("<svg") :]


def figure(width: float = 7.0, height: float = 3.2):
    fig, ax = plt.subplots(figsize=(width, height))
    ax.spines[["top", "right"]].set_visible(False)
    ax.grid(axis="y", color="#eef0f4")
    ax.set_axisbelow(True)
    return fig, ax


def count(value: float | int | None) -> str:
    """A count for reading: thousands separators (`12,345`); unknown as `n/a`."""
    return "n/a" if value is None or value != value else f"{value:,.0f}"


def money(value: float | None) -> str:
    """An amount of money: two decimals and thousands separators (`1,234.50`); unknown as `n/a`."""
    return "n/a" if value is None or value != value else f"{value:,.2f}"


def percent(value: float | None, digits: int = 2) -> str:
    """A share as a percentage (`0.0299` -> `2.99%`); unknown as `n/a`."""
    return "n/a" if value is None or value != value else f"{value:.{digits}%}"


def thousands_formatter():
    """An axis formatter with thousands separators (matplotlib's default prints 1e6 as `1.0` with an offset)."""
    from matplotlib.ticker import FuncFormatter

    return FuncFormatter(lambda value, _pos: f"{value:,.0f}")


# how a table column is read, by its name: shares and rates as percentages, money with two decimals
_PERCENT_SUFFIXES = ("_share", "_rate", "share_of_source", "_share_30d")
_MONEY_WORDS = ("price", "revenue", "monetary", "order_value")


def cell(column: str, value: object) -> str:
    """One table value as people read it, by the kind of its column."""
    import datetime as dt
    import numbers

    if value is None or (isinstance(value, float) and value != value):
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dt.date | dt.datetime):
        return str(value)
    if isinstance(value, numbers.Number):
        number = float(value)  # type: ignore[arg-type]
        if column.endswith(_PERCENT_SUFFIXES):
            return percent(number)
        if any(word in column for word in _MONEY_WORDS):
            return money(number)
        if isinstance(value, numbers.Integral) or number.is_integer():
            return count(number)
        return f"{number:,.4g}"
    return str(value)


def card(title: str, body: str, card_id: str) -> str:
    return f'<section class="card" id="{html.escape(card_id)}"><h2>{html.escape(title)}</h2>{body}</section>'


def tile(label: str, value: str, tile_id: str, note: str = "") -> str:
    note_html = f'<div class="note">{html.escape(note)}</div>' if note else ""
    return (
        f'<div class="tile" id="{html.escape(tile_id)}"><div class="label">{html.escape(label)}</div>'
        f'<div class="value">{html.escape(value)}</div>{note_html}</div>'
    )


def section(heading: str, body: str, section_id: str) -> str:
    return f'<section class="panel" id="{html.escape(section_id)}"><h2>{html.escape(heading)}</h2>{body}</section>'


def page(title: str, subtitle: str, body: str) -> str:
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title><style>{STYLE}</style></head><body>"
        f'<h1>{html.escape(title)}</h1><div class="sub">{html.escape(subtitle)}</div>{body}</body></html>'
    )


def table(rows: Sequence[Mapping[str, object]]) -> str:
    if not rows:
        return "<p>(no rows)</p>"
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in rows[0])
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(cell(str(k), v))}</td>" for k, v in r.items()) + "</tr>" for r in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"
