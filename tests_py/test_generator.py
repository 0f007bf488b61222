"""The sample data generator: REES46 and RetailRocket layouts, catalog feed, determinism, rates, oracle."""

from __future__ import annotations

import csv
import datetime as dt
import re
from pathlib import Path

import pandas as pd
import pytest

from lakehouse.datagen.generate import (
    NO_DEFECTS,
    REES46_COLUMNS,
    RETAILROCKET_COLUMNS,
    DefectRates,
    GeneratorConfig,
    write_landing,
)


def _generate(tmp_path: Path, **kwargs) -> tuple:  # type: ignore[no-untyped-def]
    kwargs.setdefault("defects", NO_DEFECTS)
    cfg = GeneratorConfig(events=5_000, days=5, start_date=dt.date(2019, 10, 1), **kwargs)
    return cfg, write_landing(cfg, tmp_path / "landing", tmp_path / "oracle", progress=False)


def test_files_follow_the_rees46_layout(tmp_path: Path) -> None:
    _, generated = _generate(tmp_path)
    result = generated.rees46
    # one file per day; a session running past midnight of the last day spills into one more file
    assert [p.name for p in result.files][:5] == [f"rees46_events_2019-10-0{d}.csv" for d in range(1, 6)]
    assert len(result.files) <= 6
    with result.files[0].open(newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == REES46_COLUMNS
    first = dict(zip(REES46_COLUMNS, rows[1], strict=True))
    assert re.fullmatch(r"2019-10-01 \d\d:\d\d:\d\d UTC", first["event_time"])
    assert first["event_type"] in {"view", "cart", "remove_from_cart", "purchase"}
    assert re.fullmatch(r"\d{19}", first["category_id"])
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", first["user_session"])
    body = [r for p in result.files for r in list(csv.reader(p.open(newline="")))[1:]]
    assert len(body) == result.events
    null_code = sum(1 for r in body if r[4] == "") / len(body)
    null_brand = sum(1 for r in body if r[5] == "") / len(body)
    assert 0.15 < null_code < 0.55 and 0.03 < null_brand < 0.35


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path: Path) -> None:
    _, a = _generate(tmp_path / "a", seed=3)
    _, b = _generate(tmp_path / "b", seed=3)
    _, c = _generate(tmp_path / "c", seed=4)
    written = [*a.rees46.files, *a.retailrocket.files, *a.retailrocket.reference_files, *a.catalog_files]
    again = [*b.rees46.files, *b.retailrocket.files, *b.retailrocket.reference_files, *b.catalog_files]
    assert [p.read_bytes() for p in written] == [p.read_bytes() for p in again]
    assert a.rees46.files[0].read_bytes() != c.rees46.files[0].read_bytes()
    assert a.retailrocket.files[0].read_bytes() != c.retailrocket.files[0].read_bytes()


def test_rates_are_anchored_to_rees46(tmp_path: Path) -> None:
    cfg, generated = _generate(tmp_path)
    assert abs(generated.events - cfg.events) / cfg.events < 0.05
    result = generated.rees46
    purchase_rate = result.counts["purchase"] / result.events
    cart_rate = result.counts["cart"] / result.events
    assert 0.008 < purchase_rate < 0.035  # REES46 October 2019: 1.75%
    assert 0.01 < cart_rate < 0.045  # REES46 October 2019: 2.19%


def test_oracle_is_written_outside_the_landing_zone(tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    cfg, generated = _generate(tmp_path)
    for result in generated.sources.values():
        assert tmp_path / "landing" not in result.oracle_file.parents
        truth = pq.read_table(result.oracle_file).to_pandas()
        assert {"user_id", "product_id", "session_index", "first_event_at", "purchase_prob"} <= set(truth.columns)
        assert set(truth["source_system"]) == {result.source}
        assert truth["purchase_prob"].between(0, 1).all()
        # one row per visit: as many as the sessions' item slots, each within the source's period
        assert truth["session_index"].nunique() == result.sessions
        days = pq.read_table(result.oracle_file.with_name(f"{result.source}_day_weights.parquet")).to_pandas()
        assert days["weight"].sum() == pytest.approx(1.0) and len(days) == cfg.days
        rates = pq.read_table(result.oracle_file.with_name(f"{result.source}_pair_rates.parquet")).to_pandas()
        assert not rates.duplicated(["user_id", "product_id"]).any()
        visited = truth[["user_id", "product_id"]].drop_duplicates()
        assert len(rates) == len(visited) and (rates["browses_expected"] > 0).all()
        assert rates[["revisit_purchase_prob", "browse_purchase_prob"]].stack().between(0, 0.95).all()
        # a revisit is likelier to buy than a browse of the same pair
        assert (rates["revisit_purchase_prob"] >= rates["browse_purchase_prob"]).all()
        # (a session of the last day may run past its midnight)
        first, last = pd.Timestamp(days["day"].min()), pd.Timestamp(days["day"].max()) + pd.Timedelta(days=2)
        assert truth["first_event_at"].between(first, last).all()
    # the app's oracle speaks the app's ids
    app_truth = pq.read_table(generated.retailrocket.oracle_file).to_pandas()
    with generated.retailrocket.files[0].open(newline="") as handle:
        first = dict(zip(RETAILROCKET_COLUMNS, list(csv.reader(handle))[1], strict=True))
    assert int(first["visitorid"]) in set(app_truth["user_id"])


def test_gzip_files_hold_the_same_lines(tmp_path: Path) -> None:
    import gzip

    _, plain = _generate(tmp_path / "plain")
    _, zipped = _generate(tmp_path / "gz", gzip=True)
    for source in ("rees46", "retailrocket"):
        zipped_file, plain_file = zipped.sources[source].files[0], plain.sources[source].files[0]
        assert zipped_file.name.endswith(".csv.gz")
        assert gzip.decompress(zipped_file.read_bytes()) == plain_file.read_bytes()


def test_defects_are_injected_as_configured_and_accounted_for(tmp_path: Path) -> None:
    import json

    rates = DefectRates(
        exact_duplicate=0.01,
        same_second_duplicate=0.01,
        malformed=0.004,
        null_user=0.004,
        zero_price=0.002,
        negative_price=0.002,
        unknown_event_type=0.004,
        future_timestamp=0.002,
        crlf_files=0.5,
        truncated_files=0.2,
        redelivered_files=2,
    )
    cfg, generated = _generate(tmp_path, defects=rates, retailrocket_share=0)
    result = generated.rees46
    n = cfg.events
    assert result.injected["exact_duplicate"] == round(0.01 * sum(result.counts.values()))
    assert result.injected["truncated_line"] >= 1
    manifest = json.loads((tmp_path / "oracle" / "rees46_defects.json").read_text())
    assert manifest["expected"] == result.expected
    assert sum(result.expected.values()) == result.events  # every written line has one expected outcome
    assert result.expected["malformed_line"] == result.injected["malformed"] + result.injected["truncated_line"]
    assert result.expected["duplicate"] >= result.injected["exact_duplicate"] + result.injected["same_second_duplicate"]
    # a zero or negative price does not set an event aside: its price is unknown, the event is valid
    assert result.injected["zero_price"] and result.injected["negative_price"]
    assert not {"non_positive_price", "invalid_price"} & set(result.expected)
    lines = [line for p in result.files for line in p.read_bytes().split(b"\n")[1:] if line]
    assert len(lines) == result.events
    assert sum(b",unexpected_field," in line for line in lines) == result.injected["malformed"]
    crlf = [p for p in result.files if b"\r\n" in p.read_bytes()]
    assert [p.name for p in crlf] == manifest["crlf_files"]
    for name in manifest["truncated_files"]:
        data = (tmp_path / "landing" / "rees46" / name).read_bytes()
        assert not data.endswith(b"\n") and data.rsplit(b"\n", 1)[-1].count(b",") < 8
    assert [p.read_bytes() for p in result.redelivered] == [p.read_bytes() for p in result.files[:2]]
    assert 0.9 * n < result.events < 1.1 * n


def test_app_events_follow_the_retailrocket_layout(tmp_path: Path) -> None:
    _, generated = _generate(tmp_path)
    app = generated.retailrocket
    assert [p.name for p in app.files][:5] == [f"events_2019-10-0{d}.csv" for d in range(1, 6)]
    rows = [r for p in app.files for r in list(csv.reader(p.open(newline="")))]
    assert rows[0] == RETAILROCKET_COLUMNS
    body = [dict(zip(RETAILROCKET_COLUMNS, r, strict=True)) for r in rows if r != RETAILROCKET_COLUMNS]
    assert len(body) == app.events
    assert {r["event"] for r in body} == {"view", "addtocart", "transaction"}
    assert all(re.fullmatch(r"15\d{11}", r["timestamp"]) for r in body)  # epoch milliseconds, 2019
    assert all((r["transactionid"] != "") == (r["event"] == "transaction") for r in body)
    assert max(int(r["visitorid"]) for r in body) < app.users  # its own, small id space
    props, tree = app.reference_files
    assert props.read_text().splitlines()[0] == "timestamp,itemid,property,value"
    assert {line.split(",")[2] for line in props.read_text().splitlines()[1:]} == {
        "categoryid",
        "available",
        "790",
        "888",
    }
    assert tree.read_text().splitlines()[0] == "categoryid,parentid"
    assert 0.1 < app.events / generated.events < 0.3


def test_catalog_feed_is_json_lines_whose_prices_change(tmp_path: Path) -> None:
    import json

    _, generated = _generate(tmp_path)
    first, *later = generated.catalog_files
    products = [json.loads(line) for line in first.read_text().splitlines()]
    assert {"product_id", "category_id", "category_code", "brand", "price", "currency", "updated_at"} == set(
        products[0]
    )
    assert products[0]["updated_at"] == "2019-10-01T00:00:00Z"
    changes = [json.loads(line) for p in later for line in p.read_text().splitlines()]
    before = {p["product_id"]: p for p in products}
    assert changes and all(c["product_id"] in before for c in changes)
    assert any(c["price"] != before[c["product_id"]]["price"] for c in changes)
    assert generated.catalog_records == len(products) + len(changes) and generated.catalog_malformed == 0


def test_app_defects_are_accounted_for(tmp_path: Path) -> None:
    rates = DefectRates(
        exact_duplicate=0.01,
        same_second_duplicate=0.01,
        malformed=0.004,
        null_user=0.004,
        unknown_event_type=0.004,
        future_timestamp=0.004,
        crlf_files=0.5,
        truncated_files=0.2,
        redelivered_files=1,
    )
    _, generated = _generate(tmp_path, defects=rates, retailrocket_share=0.5)
    app = generated.retailrocket
    assert sum(app.expected.values()) == app.events
    assert {"malformed_line", "missing_user_id", "unknown_event_type", "future_event_time"} <= set(app.expected)
    assert "non_positive_price" not in app.expected  # app events carry no price
    assert app.injected["same_second_duplicate"] > 0 and app.redelivered
    assert generated.catalog_malformed == 1
    assert not generated.catalog_files[-1].read_text().endswith("\n")


def test_the_app_can_start_years_before_the_web_shop(tmp_path: Path) -> None:
    """Sources of one landing zone need not share a period: the app's files, timestamps and first item
    properties follow its own first day."""
    _, generated = _generate(tmp_path, app_start_date=dt.date(2015, 8, 3))
    app = generated.retailrocket
    assert [p.name for p in app.files][:2] == ["events_2015-08-03.csv", "events_2015-08-04.csv"]
    first = int(app.files[0].read_text().splitlines()[1].split(",")[0])
    assert dt.datetime(1970, 1, 1) + dt.timedelta(milliseconds=first) < dt.datetime(2015, 8, 4)
    props = app.reference_files[0].read_text().splitlines()
    assert int(props[1].split(",")[0]) == 1438560000000 - 86_400_000  # the day before 2015-08-03, in ms
    assert generated.rees46.files[0].name == "rees46_events_2019-10-01.csv"
