"""Deterministic generator of REES46-layout clickstream with a latent purchase truth (the oracle).

Behaviour model (pair first, then sessions):

* users have a latent purchase intent (Beta) and an activity level (log-normal) that sets their sessions;
* products have Zipf popularity, a category (dotted code, ~1/3 null as in REES46) and a brand (~15% null);
* each user has a small consideration set of products with a pair intent ``q`` (user intent, category
  affinity, price sensitivity); sessions mix revisits of that set with browsing of popular products;
* in every visit (a session-item slot) the user views, may cart (probability ~ q), may remove, and may buy
  (probability ~ q, mostly after a cart; a few purchases have no cart, as in the real data).

The truth per visit (its session, first event time and purchase probability) and the weights the session
days were drawn with go to a separate oracle folder that no model reads.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

REES46_COLUMNS = [
    "event_time",
    "event_type",
    "product_id",
    "category_id",
    "category_code",
    "brand",
    "price",
    "user_id",
    "user_session",
]
CATEGORY_CODES = [
    "electronics.smartphone",
    "electronics.audio.headphone",
    "electronics.video.tv",
    "electronics.clocks",
    "computers.notebook",
    "computers.desktop",
    "appliances.kitchen.washer",
    "appliances.kitchen.refrigerators",
    "appliances.environment.vacuum",
    "appliances.sewing_machine",
    "apparel.shoes",
    "apparel.shoes.keds",
    "furniture.living_room.sofa",
    "furniture.bedroom.bed",
    "kids.toys",
    "sport.bicycle",
    "auto.accessories.player",
    "construction.tools.drill",
    "accessories.bag",
    "country_yard.cultivator",
]
BRANDS = [
    "samsung",
    "apple",
    "xiaomi",
    "huawei",
    "lg",
    "sony",
    "bosch",
    "lenovo",
    "acer",
    "janome",
    "nike",
    "adidas",
    "creed",
    "respect",
    "lucente",
    "indesit",
    "philips",
    "oppo",
    "hp",
    "asus",
]
# share of sessions starting in each UTC hour: quiet nights, busy late afternoon and evening
HOUR_WEIGHTS = np.array(
    [
        1.0,
        0.7,
        0.5,
        0.4,
        0.5,
        0.9,
        1.6,
        2.4,
        3.2,
        3.8,
        4.2,
        4.4,
        4.5,
        4.6,
        4.8,
        5.2,
        5.6,
        6.0,
        6.2,
        5.8,
        4.8,
        3.6,
        2.4,
        1.5,
    ]
)
WEEKDAY_WEIGHTS = np.array([1.0, 0.98, 0.97, 1.0, 1.05, 1.12, 1.15])  # Monday .. Sunday


@dataclass(frozen=True)
class DefectRates:
    """How much bad input to inject: shares of rows (row defects) or of files (file defects)."""

    exact_duplicate: float = 0.002  # the same line delivered twice
    same_second_duplicate: float = 0.001  # the same event again in the same second, from another session
    malformed: float = 0.0005  # a line with an extra field
    null_user: float = 0.0005  # empty user_id
    zero_price: float = 0.0003
    negative_price: float = 0.0002
    unknown_event_type: float = 0.0003
    future_timestamp: float = 0.0002  # event_time years after the delivery
    missing_session: float = 0.0005  # empty user_session (a quirk of the real data; the row stays valid)
    crlf_files: float = 0.1  # files written with CRLF line endings
    truncated_files: float = 0.05  # files whose last line was cut off mid-write (at least one when > 0)
    redelivered_files: int = 1  # files delivered a second time, byte for byte, into landing/.../redelivery/


# stands for an extra field separator inside a value (the CSV writer refuses a bare comma there)
FIELD_MARK = "\x1f"
NO_DEFECTS = DefectRates(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)

# where each injected row defect must end up in Silver (the quarantine reason, or "duplicate")
DEFECT_OUTCOME = {
    "exact_duplicate": "duplicate",
    "same_second_duplicate": "duplicate",
    "malformed": "malformed_line",
    "truncated_line": "malformed_line",
    "null_user": "missing_user_id",
    # a price that is not positive is unknown: the event is kept with price null
    "zero_price": "valid",
    "negative_price": "valid",
    "unknown_event_type": "unknown_event_type",
    "future_timestamp": "future_event_time",
    "missing_session": "valid",
}


@dataclass(frozen=True)
class GeneratorConfig:
    """Size and behaviour knobs. Defaults reproduce REES46 October 2019 rates at a small scale."""

    events: int = 200_000
    days: int = 28
    start_date: dt.date = dt.date(2019, 10, 1)
    seed: int = 42
    events_per_user: float = 14.1  # 42.4M events / 3.0M users
    products_per_user: float = 0.12  # catalogue size relative to users
    cart_rate: float = 926.5e3 / 42.4e6  # carts per event
    purchase_rate: float = 742.8e3 / 42.4e6  # purchases per event
    remove_rate: float = 0.25  # share of carts later removed, when not bought
    no_cart_purchase_share: float = 0.15  # purchases without a cart event
    gzip: bool = False
    defects: DefectRates = DefectRates()
    # share of the events that come from the app (RetailRocket layout, its own id space); 0 = web only
    retailrocket_share: float = 0.2
    # the app's first day, when its history is not the web shop's (sources can be years apart); None: the same
    app_start_date: dt.date | None = None
    catalog: bool = True  # write the product catalog feed (JSON lines) of the web shop


@dataclass
class SourceResult:
    """What was written for one event source."""

    source: str
    files: list[Path]
    oracle_file: Path
    events: int  # data lines written (every file once; re-deliveries not counted)
    users: int
    products: int
    sessions: int
    counts: dict[str, int]  # event types of the clean stream, before defects
    injected: dict[str, int]  # row defects injected, by class
    expected: dict[str, int]  # where the lines must end up: valid, duplicate, and each quarantine reason
    redelivered: list[Path]
    reference_files: list[Path] = field(default_factory=list)  # e.g. item properties, category tree


@dataclass
class GeneratorResult:
    sources: dict[str, SourceResult]
    catalog_files: list[Path]
    catalog_records: int
    catalog_malformed: int

    @property
    def rees46(self) -> SourceResult:
        return self.sources["rees46"]

    @property
    def retailrocket(self) -> SourceResult:
        return self.sources["retailrocket"]

    @property
    def events(self) -> int:
        return sum(s.events for s in self.sources.values())


def _uuid_strings(rng: np.random.Generator, n: int) -> np.ndarray:
    """Random version-4 UUID strings, reproducible from the generator state."""
    raw = rng.integers(0, 256, size=(n, 16), dtype=np.uint8)
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80
    hexes = [row.tobytes().hex() for row in raw]
    return np.array([f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}" for h in hexes], dtype=object)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _catalogue(rng: np.random.Generator, n_products: int, days: int) -> dict[str, np.ndarray]:
    n_cat = len(CATEGORY_CODES)
    category_ids = 2053013552000000000 + rng.choice(10**9, size=n_cat, replace=False).astype(np.int64)
    category = rng.zipf(1.6, size=n_products) % n_cat
    code = np.array(CATEGORY_CODES, dtype=object)[category]
    code[rng.random(n_products) < 1 / 3] = None  # about a third null, as in REES46
    brand = np.array(BRANDS, dtype=object)[rng.zipf(1.4, size=n_products) % len(BRANDS)]
    brand[rng.random(n_products) < 0.15] = None
    cat_price = np.exp(rng.normal(4.5, 1.0, size=n_cat))
    price = np.round(cat_price[category] * np.exp(rng.normal(0.0, 0.5, size=n_products)), 2)
    popularity = 1.0 / np.arange(1, n_products + 1) ** 1.1  # Zipf over a random product order
    popularity = popularity[rng.permutation(n_products)]
    # the catalogue changes over time: a price change for ~30% of products, a new brand for ~2%
    # (day index from the start; -1 = no change), as the catalog feed and the events both show
    price_change_day = np.where(rng.random(n_products) < 0.3, rng.integers(1, max(days, 2), n_products), -1)
    new_price = np.maximum(np.round(price * np.exp(rng.normal(0.0, 0.12, size=n_products)), 2), 0.77)
    brand_change_day = np.where(rng.random(n_products) < 0.02, rng.integers(1, max(days, 2), n_products), -1)
    new_brand = np.array(BRANDS, dtype=object)[rng.integers(0, len(BRANDS), n_products)]
    return {
        "product_id": 1000000 + rng.choice(9 * 10**7, size=n_products, replace=False).astype(np.int64),
        "category": category,
        "category_id": category_ids[category],
        "category_code": code,
        "brand": brand,
        "price": np.maximum(price, 0.77),
        "popularity": popularity / popularity.sum(),
        "price_change_day": price_change_day,
        "new_price": new_price,
        "brand_change_day": brand_change_day,
        "new_brand": new_brand,
    }


@dataclass
class Simulation:
    """The simulated stream of one source, before defects and before any file is written."""

    events: dict[str, np.ndarray]
    # per visit (session-item slot): user, product, session, first event time, purchase probability
    oracle: dict[str, np.ndarray]
    # per day of the period: the weight by which each session's day was drawn
    day_weights: dict[str, np.ndarray]
    # per (user, product) pair with a visit: expected visits of each kind and their purchase probabilities
    pair_rates: dict[str, np.ndarray]
    catalogue: dict[str, np.ndarray]  # per product, including its price and brand changes
    users: int
    sessions: int


REVISIT_SHARE = 0.55  # the share of visits that revisit the user's consideration set
SESSION_BREAK_PROB = 1 / 2.8  # a user's next visit starts a new session: sessions of 2.8 visits on average


def _consideration_sets(
    consider_size: np.ndarray, favourite: np.ndarray, cat: dict[str, np.ndarray]
) -> tuple[np.ndarray, np.ndarray]:
    """Every user's consideration set: the product of each (user, k) slot of it, k < the set's size, as
    one flat array, and the index of each user's first entry in it. A deterministic product per
    (user, k): popular products, biased to the user's favourite category."""
    n_users, n_products = consider_size.size, cat["product_id"].size
    first_pick = np.cumsum(consider_size) - consider_size
    users = np.repeat(np.arange(n_users), consider_size).astype(np.int64)
    k = np.arange(users.size) - np.repeat(first_pick, consider_size)
    key = users * 7919 + k * 104729
    pair_rng_u = (np.sin(key.astype(np.float64)) * 43758.5453) % 1.0
    cum_pop = np.cumsum(cat["popularity"])
    products = np.minimum(np.searchsorted(cum_pop, (pair_rng_u * 7.31) % 1.0), n_products - 1)
    in_fav = pair_rng_u < 0.6
    for c in range(len(CATEGORY_CODES)):
        members = np.flatnonzero(cat["category"] == c)
        if len(members) == 0:
            continue
        sel = in_fav & (favourite[users] == c)
        products[sel] = members[((pair_rng_u[sel] * 13.7) % 1.0 * len(members)).astype(np.int64)]
    return first_pick, products


def generate_events(cfg: GeneratorConfig) -> Simulation:
    """Simulate the event stream of the web shop (not yet written)."""
    rng = np.random.default_rng(cfg.seed)
    n_users = max(10, int(cfg.events / cfg.events_per_user))
    n_products = max(20, int(n_users * cfg.products_per_user))
    cat = _catalogue(rng, n_products, cfg.days)

    # users: latent intent, activity, favourite category, price sensitivity
    intent = rng.beta(1.3, 6.0, size=n_users)
    activity = np.exp(rng.normal(0.0, 0.8, size=n_users))
    favourite = rng.integers(0, len(CATEGORY_CODES), size=n_users)
    price_sens = rng.gamma(2.0, 0.25, size=n_users)
    user_ids = 510000000 + rng.choice(8 * 10**7, size=n_users, replace=False).astype(np.int64)

    # visits (session-item slots): 1.6 views per slot on average -> slots needed for the target events
    views_per_slot = 1.6
    n_slots = int(cfg.events / (views_per_slot + cfg.cart_rate * 2.5))
    slot_user = rng.choice(n_users, size=n_slots, p=activity / activity.sum())

    # consideration sets: every user revisits a few products; the rest of the slots browse by popularity
    consider_size = 1 + rng.poisson(2.0, size=n_users)
    revisit = rng.random(n_slots) < REVISIT_SHARE
    pick = (rng.random(n_slots) * consider_size[slot_user]).astype(np.int64)
    browse_product = rng.choice(n_products, size=n_slots, p=cat["popularity"])
    first_pick, considered = _consideration_sets(consider_size, favourite, cat)
    slot_product = np.where(revisit, considered[first_pick[slot_user] + pick], browse_product)

    # pair intent q: user intent, consideration, favourite category, price sensitivity
    def intent_q(users: np.ndarray, products: np.ndarray, revisits: np.ndarray) -> np.ndarray:
        affinity = (cat["category"][products] == favourite[users]).astype(float)
        log_price = np.log(cat["price"][products])
        pair_noise = ((np.cos((users * 31 + products * 17).astype(np.float64)) * 9631.17) % 1.0) - 0.5
        logit_q = (
            -3.2
            + 5.0 * intent[users]
            + 1.3 * revisits
            + 0.8 * affinity
            - price_sens[users] * (log_price - 4.5)
            + 1.2 * pair_noise
        )
        return _sigmoid(logit_q)

    q = intent_q(slot_user, slot_product, revisit)

    # calibrate per-slot probabilities so that rates match the REES46 figures
    scale = (cfg.purchase_rate * cfg.events / n_slots) / q.mean()
    p_purchase = np.clip(q * scale, 0, 0.95)
    p_cart = np.clip(q * (cfg.cart_rate * cfg.events / n_slots) / q.mean(), 0, 0.95)
    bought = rng.random(n_slots) < p_purchase
    no_cart = bought & (rng.random(n_slots) < cfg.no_cart_purchase_share)
    carted = (bought & ~no_cart) | (~bought & (rng.random(n_slots) < np.clip(p_cart - p_purchase, 0, 1)))
    removed = carted & ~bought & (rng.random(n_slots) < cfg.remove_rate)
    n_views = 1 + rng.poisson(views_per_slot - 1, size=n_slots)

    # sessions: slots of a user grouped into sessions of ~2.8 slots, each with a start time
    order = np.argsort(slot_user, kind="stable")
    slot_user, slot_product = slot_user[order], slot_product[order]
    bought, carted, removed, n_views = bought[order], carted[order], removed[order], n_views[order]
    sess_break = rng.random(n_slots) < SESSION_BREAK_PROB
    sess_break[0] = True
    sess_break[1:] |= slot_user[1:] != slot_user[:-1]
    slot_session = np.cumsum(sess_break) - 1
    n_sessions = int(slot_session[-1] + 1)
    day_p = np.array([WEEKDAY_WEIGHTS[(cfg.start_date + dt.timedelta(d)).weekday()] for d in range(cfg.days)])
    sess_day = rng.choice(cfg.days, size=n_sessions, p=day_p / day_p.sum())
    sess_hour = rng.choice(24, size=n_sessions, p=HOUR_WEIGHTS / HOUR_WEIGHTS.sum())
    start0 = np.datetime64(cfg.start_date, "s")
    sess_start = start0 + (sess_day * 86400 + sess_hour * 3600 + rng.integers(0, 3600, n_sessions)).astype(
        "timedelta64[s]"
    )
    sess_uuid = _uuid_strings(rng, n_sessions)

    # expand slots to events: views, then cart, remove, purchase
    n_ev = n_views + carted + removed + bought
    ev_slot = np.repeat(np.arange(n_slots), n_ev)
    within = np.arange(ev_slot.size) - np.repeat(np.cumsum(n_ev) - n_ev, n_ev)
    kind = np.zeros(ev_slot.size, dtype=np.int8)  # 0 view, 1 cart, 2 remove, 3 purchase
    nv = n_views[ev_slot]
    after = within - nv  # 0.. for the non-view events of the slot
    c, r, b = carted[ev_slot], removed[ev_slot], bought[ev_slot]
    kind[(after == 0) & c] = 1
    kind[(after == 1) & c & r] = 2
    kind[(after >= 0) & b & (after == c.astype(int) + (c & r).astype(int))] = 3
    # seconds since the session start: strictly increasing gaps of 4 to 90 s within a session
    gaps = rng.integers(4, 90, size=ev_slot.size)
    ev_session = slot_session[ev_slot]
    first_of_session = np.r_[True, ev_session[1:] != ev_session[:-1]]
    gaps[first_of_session] = 0
    cum = np.cumsum(gaps)
    offsets = cum - np.maximum.accumulate(np.where(first_of_session, cum, 0))
    ev_time = sess_start[ev_session] + offsets.astype("timedelta64[s]")
    prod = slot_product[ev_slot]
    # prices and brands as the catalogue had them at the event's day
    ev_day = (ev_time - start0).astype("timedelta64[D]").astype(np.int64)
    price_changed = (cat["price_change_day"][prod] >= 0) & (ev_day >= cat["price_change_day"][prod])
    brand_changed = (cat["brand_change_day"][prod] >= 0) & (ev_day >= cat["brand_change_day"][prod])
    events = {
        "event_time": ev_time,
        "event_type": np.array(["view", "cart", "remove_from_cart", "purchase"], dtype=object)[kind],
        "product_id": cat["product_id"][prod],
        "category_id": cat["category_id"][prod],
        "category_code": cat["category_code"][prod],
        "brand": np.where(brand_changed, cat["new_brand"][prod], cat["brand"][prod]),
        "price": np.where(price_changed, cat["new_price"][prod], cat["price"][prod]),
        "user_id": user_ids[slot_user[ev_slot]],
        "user_session": sess_uuid[slot_session[ev_slot]],
        "session_index": ev_session,
    }
    # the truth behind the purchases, per visit: which session it belongs to (a session's visits share its
    # day), when its first event happened and its purchase probability
    first_event = np.cumsum(n_ev) - n_ev
    # and per pair that has a visit, the process' own parameters: how many visits of each kind (a revisit
    # from the consideration set, a browse by popularity) it expects over the period, and the purchase
    # probability of each kind
    pair_key = slot_user.astype(np.int64) * n_products + slot_product
    pairs = np.unique(pair_key)
    pair_user, pair_product = pairs // n_products, pairs % n_products
    user_share = activity / activity.sum()
    member_keys = np.repeat(np.arange(n_users), consider_size).astype(np.int64) * n_products + considered
    member_pairs, member_count = np.unique(member_keys, return_counts=True)
    slot_in_set = np.zeros(pairs.size)
    found = np.searchsorted(member_pairs, pairs)
    hit = (found < member_pairs.size) & (member_pairs[np.minimum(found, member_pairs.size - 1)] == pairs)
    slot_in_set[hit] = member_count[found[hit]] / consider_size[pair_user[hit]]
    rates = {
        "user_id": user_ids[pair_user],
        "product_id": cat["product_id"][pair_product],
        "user_visits_expected": n_slots * user_share[pair_user],
        "session_break_prob": np.full(pairs.size, SESSION_BREAK_PROB),
        "revisits_expected": n_slots * user_share[pair_user] * REVISIT_SHARE * slot_in_set,
        "revisit_purchase_prob": np.clip(intent_q(pair_user, pair_product, np.ones(pairs.size)) * scale, 0, 0.95),
        "browses_expected": n_slots * user_share[pair_user] * (1 - REVISIT_SHARE) * cat["popularity"][pair_product],
        "browse_purchase_prob": np.clip(intent_q(pair_user, pair_product, np.zeros(pairs.size)) * scale, 0, 0.95),
    }
    oracle = {
        "user_id": user_ids[slot_user],
        "product_id": cat["product_id"][slot_product],
        "session_index": slot_session.astype(np.int64),
        "first_event_at": ev_time[first_event],
        "purchase_prob": p_purchase[order],
    }
    day_weights = {
        "day": np.array([cfg.start_date + dt.timedelta(d) for d in range(cfg.days)], dtype="datetime64[D]"),
        "weight": day_p / day_p.sum(),
    }
    return Simulation(events, oracle, day_weights, rates, cat, n_users, n_sessions)


def inject_row_defects(
    events: dict[str, np.ndarray], rates: DefectRates, rng: np.random.Generator
) -> dict[str, np.ndarray]:
    """Copy or alter rows to inject the row defects; each altered row is labelled in ``defect``.

    Defects go to disjoint rows, so each row has one expected outcome. Also adds ``file_day`` (the day
    file a row is delivered in, kept when its timestamp is pushed into the future) and ``user_null``.
    """
    n = events["event_time"].size
    out = dict(events)
    out["file_day"] = events["event_time"].astype("datetime64[D]")
    out["defect"] = np.full(n, "", dtype=object)
    out["user_null"] = np.zeros(n, dtype=bool)
    out["event_type"] = events["event_type"].copy()
    out["price"] = events["price"].copy()
    out["event_time"] = events["event_time"].copy()
    pool = rng.permutation(n)
    taken = 0

    def take(rate: float) -> np.ndarray:
        nonlocal taken
        k = round(rate * n)
        idx = pool[taken : taken + k]
        taken += k
        return idx

    altered = {
        "malformed": take(rates.malformed),
        "null_user": take(rates.null_user),
        "zero_price": take(rates.zero_price),
        "negative_price": take(rates.negative_price),
        "unknown_event_type": take(rates.unknown_event_type),
        "future_timestamp": take(rates.future_timestamp),
        "missing_session": take(rates.missing_session),
    }
    for name, idx in altered.items():
        out["defect"][idx] = name
    out["event_type"][altered["malformed"]] = out["event_type"][altered["malformed"]] + FIELD_MARK + "unexpected_field"
    out["user_null"][altered["null_user"]] = True
    out["price"][altered["zero_price"]] = 0.0
    out["price"][altered["negative_price"]] = -out["price"][altered["negative_price"]]
    unknown = np.array(["wishlist", "share", "VIEW_ITEM"], dtype=object)
    out["event_type"][altered["unknown_event_type"]] = unknown[
        rng.integers(0, unknown.size, altered["unknown_event_type"].size)
    ]
    out["event_time"][altered["future_timestamp"]] += np.timedelta64(12 * 365, "D")
    out["user_session"] = events["user_session"].copy()
    out["user_session"][altered["missing_session"]] = None

    copies = []
    for name in ("exact_duplicate", "same_second_duplicate"):
        idx = take(getattr(rates, name))
        dup = {k: v[idx].copy() for k, v in out.items()}
        dup["defect"][:] = name
        if name == "same_second_duplicate":
            dup["user_session"] = _uuid_strings(rng, idx.size)
        copies.append(dup)
    return {k: np.concatenate([out[k]] + [c[k] for c in copies]) for k in out}


def _rees46_table(chunk: dict[str, np.ndarray]) -> pa.Table:
    import pyarrow.compute as pc

    iso = pa.array(np.datetime_as_string(chunk["event_time"], unit="s"))  # 2019-10-01T00:00:00
    event_time = pc.binary_join_element_wise(pc.replace_substring(iso, "T", " "), " UTC", "")
    return pa.table(
        {
            "event_time": event_time,
            "event_type": pa.array(chunk["event_type"], type=pa.string()),
            "product_id": pa.array(chunk["product_id"]),
            "category_id": pa.array(chunk["category_id"]),
            "category_code": pa.array(chunk["category_code"], type=pa.string()),
            "brand": pa.array(chunk["brand"], type=pa.string()),
            "price": pa.array(chunk["price"]),
            "user_id": pa.array(chunk["user_id"], mask=chunk["user_null"]),
            "user_session": pa.array(chunk["user_session"], type=pa.string()),
        }
    )


def _retailrocket_table(chunk: dict[str, np.ndarray]) -> pa.Table:
    millis = chunk["event_time"].astype("datetime64[ms]").astype(np.int64) + chunk["millis"]
    return pa.table(
        {
            "timestamp": pa.array(millis),
            "visitorid": pa.array(chunk["user_id"], mask=chunk["user_null"]),
            "event": pa.array(chunk["event_type"], type=pa.string()),
            "itemid": pa.array(chunk["product_id"]),
            "transactionid": pa.array(chunk["transaction_id"], mask=chunk["transaction_id"] < 0),
        }
    )


def _expected_outcomes(events: dict[str, np.ndarray], extra_malformed: int) -> dict[str, int]:
    """Where every written line must end up in Silver, computed from the labels and the dedup key."""
    defect = events["defect"]
    expected: dict[str, int] = {}
    for name, target in DEFECT_OUTCOME.items():
        if target not in ("duplicate", "valid"):
            expected[target] = expected.get(target, 0) + int((defect == name).sum())
    expected["malformed_line"] += extra_malformed
    expected = {k: v for k, v in expected.items() if v}
    # valid rows and injected duplicates: count rows sharing the dedup key (user, product, type, second)
    keep = np.isin(defect, [name for name, target in DEFECT_OUTCOME.items() if target in ("valid", "duplicate")])
    keep |= defect == ""
    event_type = events["event_type"][keep]
    type_code = np.unique(event_type.astype(str), return_inverse=True)[1].astype(np.int64)
    key = (
        events["event_time"][keep].astype("int64"),
        type_code,
        events["product_id"][keep],
        events["user_id"][keep],
    )
    order = np.lexsort(key)
    same_as_previous = np.ones(max(order.size - 1, 0), dtype=bool)
    for column in key:
        ordered = column[order]
        same_as_previous &= ordered[1:] == ordered[:-1]
    expected["duplicate"] = int(same_as_previous.sum())
    expected["valid"] = int(keep.sum()) - expected["duplicate"]
    return expected


@dataclass
class _Written:
    files: list[Path]
    crlf: list[str]
    truncated: list[str]
    redelivered: list[Path]


def _write_daily_csv(
    events: dict[str, np.ndarray],
    to_table,
    columns: list[str],
    out_dir: Path,
    prefix: str,
    cfg: GeneratorConfig,
    rng: np.random.Generator,
    progress: bool,
) -> _Written:
    """One CSV file per delivery day (header first), with the file-level defects of ``cfg.defects``."""
    from tqdm import tqdm

    order = np.lexsort((events["event_time"], events["file_day"]))
    events = {k: v[order] for k, v in events.items()}
    day = events["file_day"]
    out_dir.mkdir(parents=True, exist_ok=True)
    days = np.unique(day)
    crlf = set(days[rng.random(days.size) < cfg.defects.crlf_files].tolist())
    truncated_days = days[rng.random(days.size) < cfg.defects.truncated_files]
    if cfg.defects.truncated_files > 0 and truncated_days.size == 0:
        truncated_days = days[-1:]
    truncated = set(truncated_days.tolist())
    bounds = np.r_[np.searchsorted(day, days), day.size]
    write_opts = pacsv.WriteOptions(include_header=False, quoting_style="none")
    header = (",".join(columns) + "\n").encode()
    suffix = ".csv.gz" if cfg.gzip else ".csv"
    files: list[Path] = []
    for i, file_day in enumerate(tqdm(days.tolist(), desc=f"{prefix} days", disable=not progress, unit="file")):
        chunk = {k: v[bounds[i] : bounds[i + 1]] for k, v in events.items()}
        buffer = pa.BufferOutputStream()
        pacsv.write_csv(to_table(chunk), buffer, write_options=write_opts)
        body = header + buffer.getvalue().to_pybytes().replace(FIELD_MARK.encode(), b",")
        if file_day in truncated:  # a last record cut off mid-write: fewer fields, no line end
            last = body[:-1].rsplit(b"\n", 1)[-1]
            body += last[: last.index(b",", last.index(b",") + 1) + 4]
        if file_day in crlf:
            body = body.replace(b"\n", b"\r\n")
        path = out_dir / f"{prefix}_{file_day.isoformat()}{suffix}"
        with pa.CompressedOutputStream(str(path), "gzip") if cfg.gzip else pa.OSFile(str(path), "wb") as sink:
            sink.write(body)
        files.append(path)
    redelivered: list[Path] = []
    if cfg.defects.redelivered_files > 0:
        (out_dir / "redelivery").mkdir(exist_ok=True)
        for path in files[: cfg.defects.redelivered_files]:
            copy = out_dir / "redelivery" / path.name
            copy.write_bytes(path.read_bytes())
            redelivered.append(copy)
    names = {d: f"{prefix}_{d.isoformat()}{suffix}" for d in days.tolist()}
    return _Written(files, sorted(names[d] for d in crlf), sorted(names[d] for d in truncated), redelivered)


def _source_result(
    source: str,
    sim: Simulation,
    clean_event_types: np.ndarray,
    events: dict[str, np.ndarray],
    written: _Written,
    oracle_dir: Path,
    cfg: GeneratorConfig,
) -> SourceResult:
    """Count what was written, and write the source's oracle and defect manifest under ``oracle_dir``."""
    import json

    types, type_counts = np.unique(clean_event_types.astype(str), return_counts=True)
    injected = {str(k): int(v) for k, v in zip(*np.unique(events["defect"], return_counts=True), strict=True) if k}
    if written.truncated:
        injected["truncated_line"] = len(written.truncated)
    expected = _expected_outcomes(events, extra_malformed=len(written.truncated))
    oracle_dir.mkdir(parents=True, exist_ok=True)
    oracle_file = write_truth(oracle_dir, source, sim)
    manifest = {
        "config": json.loads(json.dumps(asdict(cfg), default=str)),
        "injected": injected,
        "expected": expected,
        "crlf_files": written.crlf,
        "truncated_files": written.truncated,
        "redelivered_files": [str(p) for p in written.redelivered],
    }
    (oracle_dir / f"{source}_defects.json").write_text(json.dumps(manifest, indent=2))
    return SourceResult(
        source=source,
        files=written.files,
        oracle_file=oracle_file,
        events=int(events["event_time"].size) + len(written.truncated),
        users=sim.users,
        products=int(np.unique(sim.events["product_id"]).size),
        sessions=sim.sessions,
        counts=dict(zip(types.tolist(), type_counts.astype(int).tolist(), strict=True)),
        injected=injected,
        expected=expected,
        redelivered=written.redelivered,
    )


def write_truth(
    oracle_dir: Path,
    source: str,
    sim: Simulation,
    visits: dict[str, np.ndarray] | None = None,
    rates: dict[str, np.ndarray] | None = None,
) -> Path:
    """The source's visit truth (``<source>_visit_truth.parquet``, ids as delivered), its pairs' rates
    (``<source>_pair_rates.parquet``) and the weights its session days were drawn with
    (``<source>_day_weights.parquet``); the references of the model report are computed from them
    (lakehouse_ml.oracle). Returns the visit truth's path."""
    visits = visits or sim.oracle
    rates = rates or sim.pair_rates
    path = oracle_dir / f"{source}_visit_truth.parquet"
    pq.write_table(pa.table({"source_system": [source] * visits["user_id"].size, **visits}), path)
    pq.write_table(
        pa.table({"source_system": [source] * rates["user_id"].size, **rates}),
        oracle_dir / f"{source}_pair_rates.parquet",
    )
    pq.write_table(
        pa.table({"source_system": [source] * sim.day_weights["day"].size, **sim.day_weights}),
        oracle_dir / f"{source}_day_weights.parquet",
    )
    return path


def _write_rees46(
    cfg: GeneratorConfig, landing: Path, oracle_dir: Path, progress: bool
) -> tuple[SourceResult, Simulation]:
    sim = generate_events(cfg)
    rng = np.random.default_rng(cfg.seed + 1)
    events = inject_row_defects(sim.events, cfg.defects, rng)
    written = _write_daily_csv(
        events, _rees46_table, REES46_COLUMNS, landing / "rees46", "rees46_events", cfg, rng, progress
    )
    return _source_result("rees46", sim, sim.events["event_type"], events, written, oracle_dir, cfg), sim


RETAILROCKET_COLUMNS = ["timestamp", "visitorid", "event", "itemid", "transactionid"]
RETAILROCKET_EVENT = {"view": "view", "cart": "addtocart", "purchase": "transaction"}  # no remove event


def _retailrocket_category_tree(rng: np.random.Generator) -> tuple[dict[str, int], list[tuple[int, int | None]]]:
    """Numeric category ids for every prefix of the dotted codes, and the (categoryid, parentid) edges."""
    prefixes = sorted(
        {".".join(code.split(".")[: i + 1]) for code in CATEGORY_CODES for i in range(len(code.split(".")))}
    )
    ids = dict(zip(prefixes, (rng.choice(1700, size=len(prefixes), replace=False)).tolist(), strict=True))
    edges = [(ids[p], ids[p.rsplit(".", 1)[0]] if "." in p else None) for p in prefixes]
    return ids, edges


def _write_retailrocket(cfg: GeneratorConfig, landing: Path, oracle_dir: Path, progress: bool) -> SourceResult:
    """App events in the RetailRocket layout: events, item properties and the category tree.

    Its own id space (visitor and item ids are small integers), epoch-millisecond timestamps, no session
    ids and no remove-from-cart event; purchases carry a transaction id; price and category of an item
    are item properties that change over time.
    """
    rr_cfg = replace(
        cfg,
        events=max(100, round(cfg.events * cfg.retailrocket_share)),
        seed=cfg.seed + 1000,
        defects=replace(cfg.defects, zero_price=0.0, negative_price=0.0, missing_session=0.0),
        start_date=cfg.app_start_date or cfg.start_date,
    )
    sim = generate_events(rr_cfg)
    rng = np.random.default_rng(rr_cfg.seed + 1)
    ev = sim.events
    keep = ev["event_type"] != "remove_from_cart"
    ev = {k: v[keep] for k, v in ev.items()}
    # own id space: visitor ids 0..n, item ids below 470k
    users, user_idx = np.unique(ev["user_id"], return_inverse=True)
    visitor_of = rng.permutation(users.size).astype(np.int64)
    cat = sim.catalogue
    n_products = cat["product_id"].size
    item_of = rng.choice(470_000, size=n_products, replace=False).astype(np.int64)
    by_id = np.argsort(cat["product_id"])

    def to_item(product_ids: np.ndarray) -> np.ndarray:
        return item_of[by_id[np.searchsorted(cat["product_id"], product_ids, sorter=by_id)]]

    purchase = ev["event_type"] == "purchase"
    # one transaction per session with purchases
    transaction = np.full(purchase.size, -1, dtype=np.int64)
    sessions_with_purchase, txn = np.unique(ev["session_index"][purchase], return_inverse=True)
    transaction[purchase] = rng.permutation(max(sessions_with_purchase.size, 1))[txn] + 1
    rr = {
        "event_time": ev["event_time"],
        "event_type": np.array([RETAILROCKET_EVENT[t] for t in ev["event_type"]], dtype=object),
        "product_id": to_item(ev["product_id"]),
        "user_id": visitor_of[user_idx],
        "transaction_id": transaction,
        "millis": rng.integers(0, 1000, size=purchase.size),
        # carried through defect injection, not written
        "price": ev["price"],
        "user_session": ev["user_session"],
    }
    events = inject_row_defects(rr, rr_cfg.defects, rng)
    same_second = events["defect"] == "same_second_duplicate"  # the same event again, other milliseconds
    events["millis"][same_second] = (events["millis"][same_second] + 1 + rng.integers(0, 998, same_second.sum())) % 1000
    out_dir = landing / "retailrocket"
    written = _write_daily_csv(
        events, _retailrocket_table, RETAILROCKET_COLUMNS, out_dir, "events", rr_cfg, rng, progress
    )

    # category tree and item properties (category, availability, price as property 790, one hashed property)
    ids, edges = _retailrocket_category_tree(rng)
    tree = out_dir / "category_tree.csv"
    tree.write_text("categoryid,parentid\n" + "".join(f"{c},{'' if p is None else p}\n" for c, p in edges))
    code = np.array(CATEGORY_CODES, dtype=object)[cat["category"]]
    categoryid = np.array([ids[c] for c in code], dtype=np.int64)
    start_ms = int(np.datetime64(rr_cfg.start_date, "ms").astype(np.int64))
    day_ms = 86_400_000
    first_seen = start_ms - day_ms  # the first snapshot, the day before the events start
    changed = cat["price_change_day"] >= 0
    rows_ts = np.r_[np.full(n_products * 4, first_seen), start_ms + cat["price_change_day"][changed] * day_ms]
    rows_item = np.r_[np.tile(item_of, 4), item_of[changed]]
    rows_prop = np.r_[
        np.repeat(np.array(["categoryid", "available", "790", "888"], dtype=object), n_products),
        np.full(int(changed.sum()), "790", dtype=object),
    ]
    hashed = np.char.add(np.char.add(rng.integers(10**5, 10**6, n_products).astype(str), " n"), "48.000")
    rows_value = np.r_[
        categoryid.astype(str),
        np.full(n_products, "1"),
        np.char.add("n", np.char.mod("%.3f", cat["price"])),
        hashed,
        np.char.add("n", np.char.mod("%.3f", cat["new_price"][changed])),
    ].astype(object)
    props = pa.table(
        {"timestamp": rows_ts, "itemid": rows_item, "property": rows_prop.astype(str), "value": rows_value.astype(str)}
    )
    props = props.take(np.lexsort((rows_item, rows_ts)))
    properties = out_dir / "item_properties.csv"
    pacsv.write_csv(props, str(properties), write_options=pacsv.WriteOptions(quoting_style="needed"))
    properties.write_text(properties.read_text().replace('"', ""))  # RetailRocket's header is unquoted

    result = _source_result("retailrocket", sim, rr["event_type"], events, written, oracle_dir, rr_cfg)
    # the truth in the app's id space
    write_truth(
        oracle_dir,
        "retailrocket",
        sim,
        {
            **sim.oracle,
            "user_id": visitor_of[np.searchsorted(users, sim.oracle["user_id"])],
            "product_id": to_item(sim.oracle["product_id"]),
        },
        {
            **sim.pair_rates,
            "user_id": visitor_of[np.searchsorted(users, sim.pair_rates["user_id"])],
            "product_id": to_item(sim.pair_rates["product_id"]),
        },
    )
    result.reference_files = [properties, tree]
    return result


def _write_catalog(cfg: GeneratorConfig, sim: Simulation, landing: Path) -> tuple[list[Path], int, int]:
    """The web shop's product catalog feed: JSON lines, one file per day.

    The first file holds every product; later files hold the products whose price or brand changed that
    day (``updated_at`` = the change). One line of the last file is cut off mid-write when defects are on.
    """
    import json

    cat = sim.catalogue
    out_dir = landing / "catalog"
    out_dir.mkdir(parents=True, exist_ok=True)
    files: list[Path] = []
    records = 0
    malformed = 0
    price = cat["price"].copy()
    brand = cat["brand"].copy()
    for d in range(cfg.days):
        day = cfg.start_date + dt.timedelta(days=d)
        if d == 0:
            rows = np.arange(price.size)
        else:
            p_change = cat["price_change_day"] == d
            b_change = cat["brand_change_day"] == d
            price[p_change] = cat["new_price"][p_change]
            brand[b_change] = cat["new_brand"][b_change]
            rows = np.flatnonzero(p_change | b_change)
        if rows.size == 0:
            continue
        updated_at = f"{day.isoformat()}T00:00:00Z"
        lines = [
            json.dumps(
                {
                    "product_id": int(cat["product_id"][i]),
                    "category_id": int(cat["category_id"][i]),
                    "category_code": cat["category_code"][i],
                    "brand": brand[i],
                    "price": float(price[i]),
                    "currency": "USD",
                    "updated_at": updated_at,
                },
                separators=(",", ":"),
            )
            for i in rows
        ]
        records += len(lines)
        path = out_dir / f"products_{day.isoformat()}.jsonl"
        files.append(path)
        path.write_text("\n".join(lines) + "\n")
    if files and cfg.defects.truncated_files > 0:  # a feed cut off mid-write: the last line is not JSON
        text = files[-1].read_text()
        last_start = text.rstrip("\n").rfind("\n") + 1
        files[-1].write_text(text[: last_start + (len(text) - last_start) // 2])
        malformed = 1
    return files, records, malformed


def write_landing(cfg: GeneratorConfig, landing: Path, oracle_dir: Path, progress: bool = True) -> GeneratorResult:
    """Generate and write the landing zone of every source, with the configured defects.

    * ``landing/rees46``: web events, one REES46-layout CSV per day;
    * ``landing/retailrocket``: app events (``events_<day>.csv``), ``item_properties.csv`` and
      ``category_tree.csv`` in the RetailRocket layout (when ``retailrocket_share`` > 0);
    * ``landing/catalog``: the web shop's product catalog feed, JSON lines (when ``catalog``).

    Each source's oracle (pair truth) and defect manifest go under ``oracle_dir``, which no model reads.
    """
    web_cfg = replace(cfg, events=round(cfg.events * (1 - cfg.retailrocket_share)))
    rees46, web = _write_rees46(web_cfg, landing, oracle_dir, progress)
    sources = {"rees46": rees46}
    if cfg.retailrocket_share > 0:
        sources["retailrocket"] = _write_retailrocket(cfg, landing, oracle_dir, progress)
    catalog_files, records, malformed = _write_catalog(cfg, web, landing) if cfg.catalog else ([], 0, 0)
    return GeneratorResult(sources, catalog_files, records, malformed)
