"""Deterministic generator of REES46-layout clickstream with a latent purchase truth (the oracle).

Behaviour model (pair first, then sessions):

* users have a latent purchase intent (Beta) and an activity level (log-normal) that sets their sessions;
* products have Zipf popularity, a category (dotted code, ~1/3 null as in REES46) and a brand (~15% null);
* each user has a small consideration set of products with a pair intent ``q`` (user intent, category
  affinity, price sensitivity); sessions mix revisits of that set with browsing of popular products;
* in every visit (a session-item slot) the user views, may cart (probability ~ q), may remove, and may buy
  (probability ~ q, mostly after a cart; a few purchases have no cart, as in the real data).

The truth per (user, product) pair goes to a separate oracle file that no model reads.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

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


@dataclass
class GeneratorResult:
    files: list[Path]
    oracle_file: Path
    events: int
    users: int
    products: int
    sessions: int
    counts: dict[str, int]


def _uuid_strings(rng: np.random.Generator, n: int) -> np.ndarray:
    """Random version-4 UUID strings, reproducible from the generator state."""
    raw = rng.integers(0, 256, size=(n, 16), dtype=np.uint8)
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80
    hexes = [row.tobytes().hex() for row in raw]
    return np.array([f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}" for h in hexes], dtype=object)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _catalogue(rng: np.random.Generator, n_products: int) -> dict[str, np.ndarray]:
    n_cat = len(CATEGORY_CODES)
    category_ids = 2053013552000000000 + rng.choice(10**9, size=n_cat, replace=False).astype(np.int64)
    category = rng.zipf(1.6, size=n_products) % n_cat
    code = np.array(CATEGORY_CODES, dtype=object)[category]
    code = np.where(rng.random(n_products) < 1 / 3, None, code)  # about a third null, as in REES46
    brand = np.array(BRANDS, dtype=object)[rng.zipf(1.4, size=n_products) % len(BRANDS)]
    brand = np.where(rng.random(n_products) < 0.15, None, brand)
    cat_price = np.exp(rng.normal(4.5, 1.0, size=n_cat))
    price = np.round(cat_price[category] * np.exp(rng.normal(0.0, 0.5, size=n_products)), 2)
    popularity = 1.0 / np.arange(1, n_products + 1) ** 1.1  # Zipf over a random product order
    popularity = popularity[rng.permutation(n_products)]
    return {
        "product_id": 1000000 + rng.choice(9 * 10**7, size=n_products, replace=False).astype(np.int64),
        "category": category,
        "category_id": category_ids[category],
        "category_code": code,
        "brand": brand,
        "price": np.maximum(price, 0.77),
        "popularity": popularity / popularity.sum(),
    }


def generate_events(cfg: GeneratorConfig) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], int, int]:
    """Simulate the event stream (not yet written). Returns (events, oracle pairs, n_users, n_sessions)."""
    rng = np.random.default_rng(cfg.seed)
    n_users = max(10, int(cfg.events / cfg.events_per_user))
    n_products = max(20, int(n_users * cfg.products_per_user))
    cat = _catalogue(rng, n_products)

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
    revisit = rng.random(n_slots) < 0.55
    pick = (rng.random(n_slots) * consider_size[slot_user]).astype(np.int64)
    # a deterministic per-(user, k) product: popular products, biased to the user's favourite category
    fav_products = {c: np.flatnonzero(cat["category"] == c) for c in range(len(CATEGORY_CODES))}
    key = slot_user.astype(np.int64) * 7919 + pick * 104729
    pair_rng_u = (np.sin(key.astype(np.float64)) * 43758.5453) % 1.0
    in_fav = pair_rng_u < 0.6
    browse_product = rng.choice(n_products, size=n_slots, p=cat["popularity"])
    consider_product = browse_product.copy()
    cum_pop = np.cumsum(cat["popularity"])
    consider_product[:] = np.minimum(np.searchsorted(cum_pop, (pair_rng_u * 7.31) % 1.0), n_products - 1)
    for c, members in fav_products.items():
        if len(members) == 0:
            continue
        sel = revisit & in_fav & (favourite[slot_user] == c)
        idx = ((pair_rng_u[sel] * 13.7) % 1.0 * len(members)).astype(np.int64)
        consider_product[sel] = members[idx]
    slot_product = np.where(revisit, consider_product, browse_product)

    # pair intent q: user intent, consideration, favourite category, price sensitivity
    affinity = (cat["category"][slot_product] == favourite[slot_user]).astype(float)
    log_price = np.log(cat["price"][slot_product])
    pair_noise = ((np.cos((slot_user * 31 + slot_product * 17).astype(np.float64)) * 9631.17) % 1.0) - 0.5
    logit_q = (
        -3.2
        + 5.0 * intent[slot_user]
        + 1.3 * revisit
        + 0.8 * affinity
        - price_sens[slot_user] * (log_price - 4.5)
        + 1.2 * pair_noise
    )
    q = _sigmoid(logit_q)

    # calibrate per-slot probabilities so that rates match the REES46 figures
    p_purchase = np.clip(q * (cfg.purchase_rate * cfg.events / n_slots) / q.mean(), 0, 0.95)
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
    sess_break = rng.random(n_slots) < 1 / 2.8
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
    slot_rank = np.arange(n_slots) - np.flatnonzero(sess_break)[slot_session]

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
    offsets = slot_rank[ev_slot] * 95 + within * rng.integers(4, 40, size=ev_slot.size)
    ev_time = sess_start[slot_session[ev_slot]] + offsets.astype("timedelta64[s]")
    prod = slot_product[ev_slot]
    events = {
        "event_time": ev_time,
        "event_type": np.array(["view", "cart", "remove_from_cart", "purchase"], dtype=object)[kind],
        "product_id": cat["product_id"][prod],
        "category_id": cat["category_id"][prod],
        "category_code": cat["category_code"][prod],
        "brand": cat["brand"][prod],
        "price": cat["price"][prod],
        "user_id": user_ids[slot_user[ev_slot]],
        "user_session": sess_uuid[slot_session[ev_slot]],
    }
    # oracle: per pair, the purchase probability per visit and the visit rate per day
    pair_key = slot_user.astype(np.int64) * n_products + slot_product
    uniq, inverse, visits = np.unique(pair_key, return_inverse=True, return_counts=True)
    pp = np.zeros(uniq.size)
    np.maximum.at(pp, inverse, p_purchase[order])
    oracle = {
        "user_id": user_ids[uniq // n_products],
        "product_id": cat["product_id"][uniq % n_products],
        "purchase_prob_per_visit": np.round(pp, 6),
        "visits_per_day": np.round(visits / cfg.days, 6),
    }
    return events, oracle, n_users, n_sessions


def write_landing(cfg: GeneratorConfig, landing: Path, oracle_dir: Path, progress: bool = True) -> GeneratorResult:
    """Generate and write one REES46-layout CSV per day under ``landing/rees46``; oracle under ``oracle_dir``."""
    from tqdm import tqdm

    events, oracle, n_users, n_sessions = generate_events(cfg)
    order = np.argsort(events["event_time"], kind="stable")
    events = {k: v[order] for k, v in events.items()}
    day = events["event_time"].astype("datetime64[D]")
    out_dir = landing / "rees46"
    out_dir.mkdir(parents=True, exist_ok=True)
    files: list[Path] = []
    bounds = np.searchsorted(day, np.arange(day.min(), day.max() + np.timedelta64(1, "D")))
    bounds = np.append(bounds, day.size)
    write_opts = pacsv.WriteOptions(include_header=False, quoting_style="none")
    header = (",".join(REES46_COLUMNS) + "\n").encode()
    for i in tqdm(range(len(bounds) - 1), desc="rees46 days", disable=not progress, unit="file"):
        lo, hi = bounds[i], bounds[i + 1]
        if lo == hi:
            continue
        chunk = {k: v[lo:hi] for k, v in events.items()}
        text_time = np.datetime_as_string(chunk["event_time"], unit="s")
        table = pa.table(
            {
                "event_time": pa.array([t.replace("T", " ") + " UTC" for t in text_time]),
                "event_type": pa.array(chunk["event_type"], type=pa.string()),
                "product_id": pa.array(chunk["product_id"]),
                "category_id": pa.array(chunk["category_id"]),
                "category_code": pa.array(chunk["category_code"], type=pa.string()),
                "brand": pa.array(chunk["brand"], type=pa.string()),
                "price": pa.array(chunk["price"]),
                "user_id": pa.array(chunk["user_id"]),
                "user_session": pa.array(chunk["user_session"], type=pa.string()),
            }
        )
        name = f"rees46_events_{day[lo]!s}.csv"
        path = out_dir / (name + ".gz" if cfg.gzip else name)
        with pa.CompressedOutputStream(str(path), "gzip") if cfg.gzip else pa.OSFile(str(path), "wb") as sink:
            sink.write(header)
            pacsv.write_csv(table, sink, write_options=write_opts)
        files.append(path)
    oracle_dir.mkdir(parents=True, exist_ok=True)
    oracle_file = oracle_dir / "rees46_pair_truth.parquet"
    import pyarrow.parquet as pq

    pq.write_table(pa.table(oracle), oracle_file)
    meta = {k: str(v) for k, v in asdict(cfg).items()}
    pq.write_table(pa.table({"key": list(meta), "value": list(meta.values())}), oracle_dir / "generator_config.parquet")
    types, counts = np.unique(events["event_type"].astype(str), return_counts=True)
    return GeneratorResult(
        files=files,
        oracle_file=oracle_file,
        events=int(day.size),
        users=n_users,
        products=int(np.unique(events["product_id"]).size),
        sessions=n_sessions,
        counts=dict(zip(types.tolist(), counts.astype(int).tolist(), strict=True)),
    )
