"""Files in the exact public layouts of REES46 and RetailRocket, with their real quirks, written by the tests.

Not the project's generator: a separate, small writer with its own behaviour (users revisit a few products,
some cart, some buy), so the pipeline is tested against data it was not built around. The quirks are the
public files' own: REES46 times as `2019-10-01 00:00:03 UTC`, empty category codes and brands, views
with price 0, sessions as UUIDs; RetailRocket epoch milliseconds, `addtocart` / `transaction` events with
a transaction id only on transactions, item properties as `n12000.000` values (price is property `790`),
hashed properties with several tokens, a category tree whose roots have an empty parent.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

REES46_HEADER = "event_time,event_type,product_id,category_id,category_code,brand,price,user_id,user_session"
RR_EVENTS_HEADER = "timestamp,visitorid,event,itemid,transactionid"
RR_PROPERTIES_HEADER = "timestamp,itemid,property,value"
RR_TREE_HEADER = "categoryid,parentid"
CODES = ["electronics.smartphone", "appliances.kitchen.kettle", "computers.notebook", "apparel.shoes", ""]
BRANDS = ["samsung", "apple", "bosch", "", "xiaomi", "lenovo"]


@dataclass
class Corpus:
    """What was written: the files and the rows as the tests read them back."""

    files: list[Path] = field(default_factory=list)


def _visits(rng: np.random.Generator, start: dt.date, days: int, users: int, products: int):  # type: ignore[no-untyped-def]
    """(time, user, product, kind) of each event: users visit on random days and hours, view products of
    their own few, cart some and buy some of the carted (a buyer viewed and carted before)."""
    out = []
    for user in range(users):
        own = rng.choice(products, size=3, replace=False)
        intent = rng.beta(1.5, 6)
        for day in sorted(rng.choice(days, size=int(rng.integers(2, 8)), replace=False)):
            at = dt.datetime.combine(start + dt.timedelta(days=int(day)), dt.time(int(rng.integers(0, 24))))
            at += dt.timedelta(minutes=int(rng.integers(0, 50)), seconds=int(rng.integers(0, 60)))
            product = int(own[rng.integers(0, 3)])
            out.append((at, user, product, "view"))
            if rng.random() < intent * 1.5:
                out.append((at + dt.timedelta(minutes=2), user, product, "cart"))
                if rng.random() < 0.6:
                    out.append((at + dt.timedelta(minutes=5), user, product, "purchase"))
    return sorted(out)


def rees46_lines(
    seed: int, start: dt.date, days: int, users: int = 300, products: int = 60, user_base: int = 512_000_000
) -> list[str]:
    """Event lines in the REES46 layout (no header), in time order."""
    rng = np.random.default_rng(seed)
    price = np.round(rng.lognormal(4.5, 1.0, products), 2)
    code = [CODES[i % len(CODES)] for i in range(products)]
    brand = [BRANDS[i % len(BRANDS)] for i in range(products)]
    sessions: dict[tuple[int, dt.date, int], str] = {}
    lines = []
    for at, user, product, kind in _visits(rng, start, days, users, products):
        key = (user, at.date(), at.hour)
        session = sessions.setdefault(key, str(uuid.UUID(int=int(rng.integers(0, 2**62)) << 64 | user)))
        shown_price = f"{price[product]:.2f}"
        if kind == "view" and rng.random() < 0.01:
            shown_price = "0"  # a quirk of the real files: some views carry price 0
        lines.append(
            ",".join(
                [
                    f"{at:%Y-%m-%d %H:%M:%S} UTC",
                    kind,
                    str(1_000_000 + product),
                    str(2_053_013_552_000_000_000 + product % 7),
                    code[product],
                    brand[product],
                    shown_price,
                    str(user_base + user),
                    session,
                ]
            )
        )
    return lines


def rr_event_lines(seed: int, start: dt.date, days: int, users: int = 300, products: int = 60) -> list[str]:
    """Event lines in the RetailRocket events.csv layout (no header): epoch ms, a transaction id only on
    transactions, purchases that follow an add to cart."""
    rng = np.random.default_rng(seed)
    epoch = dt.datetime(1970, 1, 1)
    lines = []
    transaction = 4000
    for at, user, product, kind in _visits(rng, start, days, users, products):
        millis = int((at - epoch).total_seconds() * 1000) + int(rng.integers(0, 1000))
        event = {"view": "view", "cart": "addtocart", "purchase": "transaction"}[kind]
        txn = ""
        if kind == "purchase":
            transaction += 1
            txn = str(transaction)
        lines.append(f"{millis},{257_000 + user},{event},{460_000 + product},{txn}")
    return lines


def rr_property_lines(seed: int, start: dt.date, products: int = 60) -> list[str]:
    """Item property lines (no header): each item's category and price (`790`, `n<value>.000`) from before
    the events, one price change for some, availability and a hashed multi-token property."""
    rng = np.random.default_rng(seed)
    epoch = dt.datetime(1970, 1, 1)
    first = int((dt.datetime.combine(start, dt.time()) - dt.timedelta(days=3) - epoch).total_seconds() * 1000)
    later = first + 9 * 86_400_000
    lines = []
    for i in range(products):
        item = 460_000 + i
        lines.append(f"{first},{item},categoryid,{1000 + i % 5}")
        lines.append(f"{first},{item},790,n{int(rng.integers(5, 400)) * 120}.000")
        lines.append(f"{first},{item},available,1")
        lines.append(f"{first},{item},888,1154859 n48.000 {int(rng.integers(100000, 999999))}")
        if i % 4 == 0:
            lines.append(f"{later},{item},790,n{int(rng.integers(5, 400)) * 120}.000")
    return lines


def rr_tree_lines() -> list[str]:
    """The category tree (no header): five leaves under two parents under one root (empty parent)."""
    return ["900,", "901,900", "902,900"] + [f"{1000 + i},{901 + i % 2}" for i in range(5)]


def write(path: Path, header: str, lines: list[str], encoding: str = "utf-8", eol: str = "\n") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes((eol.join([header, *lines]) + eol).encode(encoding))
    return path
