"""The valid events and the daily KPIs of delivered files, computed here with the csv module and pandas.

An implementation of the documented rules written apart from the project's SQL, so the marts can be
checked against it: fields by header name (with the layouts' documented aliases), a line that is not
valid UTF-8, has another field count than its header or a field over 1,000 characters is set aside, as is
a row without a readable time, a known event type, a user or a product, or a time before the source opened
or after delivery; a price that is not positive is unknown; the same event (source, user, product, type,
second) counts once; app prices are the item's price at the event's time; sessions without an id start
after 30 minutes without an event; an order is an app transaction or the purchases of one web session.
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import io
import re
import zlib
from decimal import Decimal, InvalidOperation
from pathlib import Path

import numpy as np
import pandas as pd

EVENT_TYPES = {"view", "cart", "remove_from_cart", "purchase"}
APP_EVENTS = {"view": "view", "addtocart": "cart", "transaction": "purchase"}
OPENED = {"rees46": dt.datetime(2019, 1, 1), "retailrocket": dt.datetime(2015, 1, 1)}
MAX_FIELD = 1000
csv.field_size_limit(1 << 30)  # a delivered field can be far over the limit the rules enforce
WEB_ALIASES = {
    "event_time": ["event_timestamp", "timestamp", "event_ts"],
    "event_type": ["event", "type"],
    "product_id": ["productid", "product", "item_id", "itemid"],
    "category_id": ["categoryid"],
    "category_code": ["category"],
    "price": ["unit_price", "product_price"],
    "user_id": ["userid", "user", "customer_id"],
    "user_session": ["session_id", "user_session_id", "session"],
}
APP_ALIASES = {
    "timestamp": ["event_time", "time"],
    "visitorid": ["visitor_id", "user_id", "userid"],
    "event": ["event_type"],
    "itemid": ["item_id", "product_id", "productid"],
    "transactionid": ["transaction_id"],
}


def _name(raw: str) -> str:
    return re.sub(r"[^0-9a-z]+", "_", raw.replace("\ufeff", "").strip().strip('"').strip().lower()).strip("_")


def _lines(path: Path, encoding: str) -> list[str | None]:
    """The file's lines as text, None for a line whose bytes are not valid in ``encoding``."""
    data = path.read_bytes()
    if path.name.endswith(".gz"):
        try:
            data = gzip.decompress(data)
        except (EOFError, OSError, zlib.error):
            return []  # an unreadable archive: the file register rejects it, no line of it is an event
    out: list[str | None] = []
    for raw in re.split(rb"\r\n|\n|\r", data):
        try:
            text = raw.decode("utf-8") if encoding == "utf-8" else raw.decode(encoding, errors="strict")
        except UnicodeDecodeError:
            text = None
        out.append(text)
    if out and out[-1] == "":
        out.pop()
    return out


def _rows(path: Path, columns: list[str], aliases: dict[str, list[str]], encoding: str, sep: str = ","):  # type: ignore[no-untyped-def]
    """Each data line as a dict of the layout's columns (None for a line that is set aside)."""
    lines = _lines(path, encoding)
    if not lines:
        return
    header = [_name(h) for h in (lines[0] or "").removeprefix("\ufeff").split(sep)]
    position = {}
    for column in columns:
        for name in [column, *aliases.get(column, [])]:
            if name in header:
                position[column] = header.index(name)
                break
    for line in lines[1:]:
        if line is None:
            yield None
            continue
        fields = next(csv.reader(io.StringIO(line), delimiter=sep), [])
        if len(fields) != len(header) or any(len(f) > MAX_FIELD for f in fields):
            yield None
            continue
        row = {c: (fields[i] if c in position else "") for c, i in ((c, position.get(c, -1)) for c in columns)}
        yield {**row, "_line": line}


def _price(text: str) -> Decimal | None:
    try:
        value = Decimal(text.strip())
    except (InvalidOperation, AttributeError):
        return None
    return value.quantize(Decimal("0.01")) if value > 0 else None


def _int(text: str) -> int | None:
    text = (text or "").strip()
    return int(text) if re.fullmatch(r"-?\d+", text) else None


def _order(files: list[Path] | list[tuple[int, Path]]) -> list[tuple[int, Path]]:
    """(batch, file): files delivered in later batches come after earlier ones (plain paths: one batch)."""
    return [f if isinstance(f, tuple) else (0, f) for f in files]


def web_events(files, delivered_at: dt.datetime, encoding: str = "utf-8") -> pd.DataFrame:  # type: ignore[no-untyped-def]
    """Valid web (REES46 layout) events of the files, deduplicated: of the copies of one event, the first
    delivered is kept (earlier batch, then file name, then the line's text)."""
    out = []
    for batch, path in _order(files):
        for row in _rows(path, [*WEB_ALIASES, "brand"], WEB_ALIASES, encoding):
            if row is None:
                continue
            try:
                at = dt.datetime.strptime(row["event_time"].strip(), "%Y-%m-%d %H:%M:%S UTC")
            except ValueError:
                continue
            kind, user, product = row["event_type"].strip().lower(), _int(row["user_id"]), _int(row["product_id"])
            if at > delivered_at or at < OPENED["rees46"] or kind not in EVENT_TYPES or user is None or product is None:
                continue
            out.append(
                {
                    "source_system": "rees46",
                    "event_at": at,
                    "event_type": kind,
                    "user_id": f"rees46:{user}",
                    "product_id": f"rees46:{product}",
                    "price": _price(row["price"]),
                    "brand": row["brand"].strip() or None,
                    "session": row["user_session"].strip() or None,
                    "transaction": None,
                    "order_key": (batch, path.name, row["_line"]),
                }
            )
    frame = pd.DataFrame(out).sort_values("order_key", kind="stable")
    frame = frame.drop_duplicates(["user_id", "product_id", "event_type", "event_at"])
    return frame.drop(columns="order_key").reset_index(drop=True)


def app_events(files, properties: list[Path], delivered_at: dt.datetime, encoding: str = "utf-8") -> pd.DataFrame:  # type: ignore[no-untyped-def]
    """Valid app (RetailRocket layout) events, deduplicated within the second, with the item's price at the
    event's time (the first published price also covers earlier events; none published: unknown)."""
    out = []
    for batch, path in _order(files):
        for row in _rows(path, list(APP_ALIASES), APP_ALIASES, encoding):
            if row is None:
                continue
            millis = _int(row["timestamp"])
            if millis is None:
                continue
            at = dt.datetime(1970, 1, 1) + dt.timedelta(milliseconds=millis)
            kind = APP_EVENTS.get(row["event"].strip().lower(), row["event"].strip().lower())
            user, item = _int(row["visitorid"]), _int(row["itemid"])
            if (
                at > delivered_at
                or at < OPENED["retailrocket"]
                or kind not in EVENT_TYPES
                or user is None
                or item is None
            ):
                continue
            out.append(
                {
                    "source_system": "retailrocket",
                    "event_at": at,
                    "event_type": kind,
                    "user_id": f"retailrocket:{user}",
                    "product_id": f"retailrocket:{item}",
                    "item": item,
                    "brand": None,
                    "session": None,
                    "transaction": (row["transactionid"].strip() or None),
                    "order_key": (batch, path.name, row["_line"]),
                }
            )
    frame = pd.DataFrame(out)
    if frame.empty:
        return frame
    frame["second"] = frame["event_at"].dt.floor("s")
    frame = frame.sort_values("order_key", kind="stable")
    frame = frame.drop_duplicates(["user_id", "product_id", "event_type", "second"]).reset_index(drop=True)
    frame = frame.drop(columns="order_key")
    prices = []
    for path in properties:
        for row in _rows(path, ["timestamp", "itemid", "property", "value"], {}, encoding):
            if row and row["property"].strip() == "790":
                match = re.fullmatch(r"n([0-9]+\.?[0-9]*)", row["value"].strip())
                if match and _int(row["timestamp"]) is not None and _int(row["itemid"]) is not None:
                    prices.append((_int(row["timestamp"]), _int(row["itemid"]), Decimal(match.group(1))))
    frame["millis"] = (frame["event_at"] - dt.datetime(1970, 1, 1)) // dt.timedelta(milliseconds=1)
    if prices:
        table = pd.DataFrame(prices, columns=["millis", "item", "price"]).sort_values("millis")
        frame = pd.merge_asof(frame.sort_values("millis"), table, on="millis", by="item")
        first = table.groupby("item")["price"].first()
        frame["price"] = frame["price"].where(frame["price"].notna(), frame["item"].map(first))
    else:
        frame["price"] = None
    frame["price"] = [None if p is None or p != p else Decimal(p).quantize(Decimal("0.01")) for p in frame["price"]]
    return frame.drop(columns=["second", "millis", "item"])


def sessionise(events: pd.DataFrame, minutes: int = 30) -> pd.DataFrame:
    """Events without a delivered session get one: a new session after ``minutes`` without an event of the
    user."""
    events = events.sort_values(["user_id", "event_at"], kind="stable").copy()
    missing = events["session"].isna()
    derived = events[missing]
    gap = derived.groupby("user_id")["event_at"].diff() > pd.Timedelta(minutes=minutes)
    number = gap.groupby(derived["user_id"]).cumsum()
    events.loc[missing, "session"] = "derived:" + derived["user_id"] + ":" + number.astype(str)
    return events


def daily_kpis(events: pd.DataFrame) -> pd.DataFrame:
    """agg_daily_kpis' counts and money, per source and day, from the valid events."""
    events = sessionise(events)
    events["event_date"] = events["event_at"].dt.date
    kind = {k: (events["event_type"] == k) for k in EVENT_TYPES}
    purchase = events[kind["purchase"]].copy()
    purchase["known"] = purchase["price"].notna()
    daily = events.assign(**{k: v.astype(int) for k, v in kind.items()}).groupby(["source_system", "event_date"])
    out = daily.agg(
        active_users=("user_id", "nunique"),
        views=("view", "sum"),
        carts=("cart", "sum"),
        removes=("remove_from_cart", "sum"),
        purchases=("purchase", "sum"),
    )
    money = purchase.groupby(["source_system", "event_date"]).agg(
        purchases_unknown_price=("known", lambda k: int((~k).sum())),
        revenue=("price", lambda p: sum(p.dropna(), Decimal(0)) if p.notna().any() else None),
    )
    out = out.join(money)
    out["purchases_unknown_price"] = out["purchases_unknown_price"].fillna(0).astype(int)
    out["revenue"] = [Decimal(0) if n == 0 else r for n, r in zip(out["purchases"], out["revenue"], strict=True)]
    sessions = events.groupby("session").agg(source_system=("source_system", "first"), start=("event_at", "min"))
    sessions["date"] = sessions["start"].dt.date
    out = out.join(sessions.groupby(["source_system", "date"]).size().rename("sessions").rename_axis(out.index.names))
    purchase["order"] = np.where(
        purchase["transaction"].notna(),
        "t:" + purchase["transaction"].astype(str),
        "s:" + purchase["session"].astype(str),
    )
    orders = purchase.groupby("order").agg(
        source_system=("source_system", "first"),
        at=("event_at", "min"),
        known=("known", "all"),
        value=("price", lambda p: sum(p.dropna(), Decimal(0))),
    )
    orders["date"] = orders["at"].dt.date
    per_day = orders.groupby(["source_system", "date"]).agg(
        orders=("known", "size"),
        orders_unknown_value=("known", lambda k: int((~k).sum())),
        order_revenue=("value", lambda v: sum(v[orders.loc[v.index, "known"]], Decimal(0))),
    )
    out = out.join(per_day.rename_axis(out.index.names))
    for column in ("sessions", "orders", "orders_unknown_value"):
        out[column] = out[column].fillna(0).astype(int)
    out["order_revenue"] = [Decimal(0) if v != v or v is None else v for v in out["order_revenue"]]
    return out.sort_index()
