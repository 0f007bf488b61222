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
    "zero_price": "non_positive_price",
    "negative_price": "non_positive_price",
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


@dataclass
class GeneratorResult:
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
    cum_pop = np.cumsum(cat["popularity"])
    consider_product = np.minimum(np.searchsorted(cum_pop, (pair_rng_u * 7.31) % 1.0), n_products - 1)
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


def _table(chunk: dict[str, np.ndarray]) -> pa.Table:
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
    type_code = np.zeros(event_type.size, dtype=np.int64)
    for code, name in enumerate(("view", "cart", "remove_from_cart", "purchase")):
        type_code[event_type == name] = code
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


def write_landing(cfg: GeneratorConfig, landing: Path, oracle_dir: Path, progress: bool = True) -> GeneratorResult:
    """Generate and write one REES46-layout CSV per day under ``landing/rees46``, with the configured defects.

    The oracle (pair truth), the generator config and the defect manifest go under ``oracle_dir``.
    """
    import json

    import pyarrow.parquet as pq
    from tqdm import tqdm

    clean, oracle, n_users, n_sessions = generate_events(cfg)
    types, type_counts = np.unique(clean["event_type"].astype(str), return_counts=True)
    rng = np.random.default_rng(cfg.seed + 1)
    events = inject_row_defects(clean, cfg.defects, rng)
    order = np.lexsort((events["event_time"], events["file_day"]))
    events = {k: v[order] for k, v in events.items()}
    day = events["file_day"]
    out_dir = landing / "rees46"
    out_dir.mkdir(parents=True, exist_ok=True)
    days = np.unique(day)
    crlf = set(days[rng.random(days.size) < cfg.defects.crlf_files].tolist())
    truncated_days = days[rng.random(days.size) < cfg.defects.truncated_files]
    if cfg.defects.truncated_files > 0 and truncated_days.size == 0:
        truncated_days = days[-1:]
    truncated = set(truncated_days.tolist())
    bounds = np.r_[np.searchsorted(day, days), day.size]
    write_opts = pacsv.WriteOptions(include_header=False, quoting_style="none")
    header = (",".join(REES46_COLUMNS) + "\n").encode()
    files: list[Path] = []
    for i, file_day in enumerate(tqdm(days.tolist(), desc="rees46 days", disable=not progress, unit="file")):
        chunk = {k: v[bounds[i] : bounds[i + 1]] for k, v in events.items()}
        buffer = pa.BufferOutputStream()
        pacsv.write_csv(_table(chunk), buffer, write_options=write_opts)
        body = header + buffer.getvalue().to_pybytes().replace(FIELD_MARK.encode(), b",")
        if file_day in truncated:  # a last record cut off mid-write: fewer fields, no line end
            last = body[:-1].rsplit(b"\n", 1)[-1]
            body += last[: last.index(b",", last.index(b",") + 1) + 4]
        if file_day in crlf:
            body = body.replace(b"\n", b"\r\n")
        path = out_dir / f"rees46_events_{file_day.isoformat()}.csv{'.gz' if cfg.gzip else ''}"
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

    injected = {str(k): int(v) for k, v in zip(*np.unique(events["defect"], return_counts=True), strict=True) if k}
    if truncated:
        injected["truncated_line"] = len(truncated)
    expected = _expected_outcomes(events, extra_malformed=len(truncated))
    oracle_dir.mkdir(parents=True, exist_ok=True)
    oracle_file = oracle_dir / "rees46_pair_truth.parquet"
    pq.write_table(pa.table(oracle), oracle_file)
    manifest = {
        "config": json.loads(json.dumps(asdict(cfg), default=str)),
        "injected": injected,
        "expected": expected,
        "crlf_files": sorted(f"rees46_events_{d.isoformat()}.csv" for d in crlf),
        "truncated_files": sorted(f"rees46_events_{d.isoformat()}.csv" for d in truncated),
        "redelivered_files": [str(p) for p in redelivered],
    }
    (oracle_dir / "rees46_defects.json").write_text(json.dumps(manifest, indent=2))
    return GeneratorResult(
        files=files,
        oracle_file=oracle_file,
        events=int(day.size) + len(truncated),
        users=n_users,
        products=int(np.unique(clean["product_id"]).size),
        sessions=n_sessions,
        counts=dict(zip(types.tolist(), type_counts.astype(int).tolist(), strict=True)),
        injected=injected,
        expected=expected,
        redelivered=redelivered,
    )
