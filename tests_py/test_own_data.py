"""Your own data, as it comes: each own-data scenario (own_data) ran `lakehouse demo` in a fresh home on
files in the public layouts; every delivered row is accounted for and the KPIs equal pandas on the files."""

from __future__ import annotations

import datetime as dt

import independent
import pandas as pd
import pytest

pytestmark = pytest.mark.dbt

WEB, APP = "web shop only, cp1252", "app events only"


def _kpis_match(run, events: pd.DataFrame) -> None:  # type: ignore[no-untyped-def]
    expected = independent.daily_kpis(events)
    kpis = run.tables["agg_daily_kpis"].set_index(["source_system", "event_date"]).sort_index()
    assert list(kpis.index) == list(expected.index)
    for column in ("active_users", "views", "carts", "purchases", "purchases_unknown_price", "sessions", "orders",
                   "orders_unknown_value", "revenue", "order_revenue"):  # fmt: skip
        got = [None if v is None or v != v else float(v) for v in kpis[column]]
        want = [None if v is None or v != v else float(v) for v in expected[column]]
        assert got == pytest.approx(want), column


@pytest.mark.parametrize("name", [WEB, APP])
def test_the_demo_exits_0_with_its_summary_and_pages(own_data, name) -> None:  # type: ignore[no-untyped-def]
    run = own_data["runs"][name]
    assert run.exit_code == 0, run.output[-3000:]
    assert "Traceback" not in run.output
    assert "Tables in the local lakehouse" in run.output
    page = (run.home / "reports" / "kpi_dashboard.html").read_text()
    assert '<section class="panel" id="source-' in page
    assert (run.home / "reports" / "eda.html").exists()
    assert (run.home / "landing").exists() and not (run.home / "oracle").exists()  # no sample data was added


@pytest.mark.parametrize("name", [WEB, APP])
def test_each_missing_feed_is_noted_once_not_an_error(own_data, name) -> None:  # type: ignore[no-untyped-def]
    run = own_data["runs"][name]
    missing = {
        WEB: ["brz_retailrocket__events", "brz_retailrocket__item_properties", "brz_retailrocket__category_tree",
              "brz_catalog__products"],
        APP: ["brz_rees46__events", "brz_retailrocket__item_properties", "brz_retailrocket__category_tree",
              "brz_catalog__products"],
    }[name]  # fmt: skip
    for model in missing:
        notes = [line for line in run.output.splitlines() if f"note: {model}: no " in line]
        assert len(notes) == 1, (model, notes)
        assert "built as an empty input" in notes[0]


def test_web_shop_rows_in_cp1252_keep_their_bytes_as_text(own_data) -> None:  # type: ignore[no-untyped-def]
    run = own_data["runs"][WEB]
    brands = set(run.tables["brands"]["brand"].dropna())
    assert {"café", "müller", "€co"} <= brands
    assert not any("\ufffd" in b for b in brands)  # nothing replaced


def test_web_shop_rows_are_all_accounted_for(own_data) -> None:  # type: ignore[no-untyped-def]
    run = own_data["runs"][WEB]
    files = run.tables["files"].set_index("file_name")
    # the file written with semicolons is rejected, saying which delimiter it has
    assert files.loc["2019-Oct-semicolons.csv", "status"] == "rejected"
    assert files.loc["2019-Oct-semicolons.csv", "problem"].startswith("delimiter ';'")
    assert "2019-Oct-semicolons.csv" in run.output  # the run says so too
    bronze = run.tables["bronze"].set_index("source_file_name")["n"].to_dict()
    month = run.landed("rees46", "2019-Oct.csv")[0]
    lines = len(month.read_bytes().splitlines()) - 1
    assert bronze == {"2019-Oct.csv": lines, "2019-Oct-long.csv": 1}
    validated = run.tables["validated"].set_index("source_file_name")
    quarantined = run.tables["quarantined"]
    duplicates = run.tables["duplicates"].set_index("source_file_name")["n"].to_dict()
    # the overlong brand: quarantined with its reason, not accepted
    assert quarantined["quarantine_reason"].tolist() == ["field_too_long"]
    assert quarantined["source_file_name"].tolist() == ["2019-Oct-long.csv"]
    assert int(validated.loc["2019-Oct.csv", "n"]) + duplicates.get("2019-Oct.csv", 0) == lines
    # views delivered with price 0 keep their event, their price unknown
    zero_views = sum(1 for line in month.read_text("cp1252").splitlines()[1:] if line.split(",")[6] == "0")
    assert zero_views > 0 and int(validated.loc["2019-Oct.csv", "unknown_price"]) == zero_views


def test_web_shop_kpis_equal_pandas_on_the_files(own_data) -> None:  # type: ignore[no-untyped-def]
    run = own_data["runs"][WEB]
    events = independent.web_events(run.landed("rees46"), dt.datetime.now(), encoding="cp1252")
    _kpis_match(run, events)


def test_app_events_without_item_properties_train_without_prices(own_data) -> None:  # type: ignore[no-untyped-def]
    run = own_data["runs"][APP]
    files = run.landed("retailrocket")
    assert run.tables["bronze"].set_index("source_file_name")["n"].to_dict() == {
        "events.csv": len(files[0].read_text().splitlines()) - 1
    }
    events = independent.app_events(files, [], dt.datetime.now())
    _kpis_match(run, events)
    kpis = run.tables["agg_daily_kpis"]
    # no price is known: revenue is unknown on every day with purchases, never 0
    with_purchases = kpis[kpis["purchases"] > 0]
    assert with_purchases["revenue"].isna().all() and (with_purchases["purchases_unknown_price"] > 0).all()
    # the price feature is null in every pair: left out of the fit, said once, and the model still trains
    [line] = [line for line in run.output.splitlines() if line.startswith("training: features left out")]
    assert "price_to_category_median (null in every training pair)" in line
    runs = run.tables["training_runs"]
    assert len(runs) == 1 and bool(runs.iloc[0]["promoted"])
    assert "price_to_category_median" in runs.iloc[0]["features_left_out"]
    assert run.tables["predictions"]["n"].sum() > 0


@pytest.mark.parametrize("name", [WEB, APP])
def test_each_source_is_shown_over_its_own_range(own_data, name) -> None:  # type: ignore[no-untyped-def]
    run = own_data["runs"][name]
    [source] = run.tables["dim_sources"].to_dict("records")
    kpis = run.tables["agg_daily_kpis"]
    assert set(kpis["source_system"]) == {source["source_system"]}
    assert kpis["event_date"].min() == source["first_event_date"]
    assert kpis["event_date"].max() == source["last_event_date"]
    page = (run.home / "reports" / "kpi_dashboard.html").read_text()
    assert f'id="source-{source["source_system"]}"' in page and 'id="source-all"' not in page  # one source
