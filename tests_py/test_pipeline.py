"""End to end on the shared lakehouse (main_lakehouse): what the two drops and the runs left in every layer.

Every test here reads; the runs happened once, in the fixture. A check that needs a full rebuild compiles
the model with `--full-refresh` and evaluates that SQL on the stored upstream tables: each incremental
model then equals what a full rebuild of it would hold, and, since its upstream tables are checked the same
way, the chain equals a full rebuild without building one.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import independent
import pandas as pd
import pytest
from main_lakehouse import APP_EXPECTED_REASONS, APP_LINES, FIRST_RUN_FEATURES, INCREMENTAL

pytestmark = pytest.mark.dbt


def _unique_deliveries(files: list[tuple[int, Path]]) -> list[tuple[int, Path]]:
    """A file whose name and size came before is not read again (the first copy counts)."""
    seen, out = set(), []
    for batch, path in sorted(files, key=lambda f: (f[0], str(f[1]))):
        key = (path.name, path.stat().st_size)
        if key not in seen:
            seen.add(key)
            out.append((batch, path))
    return out


def _delivered_lines(path: Path) -> int:
    from lakehouse.ops.reliability import rows_in

    return rows_in(path.read_bytes(), path.name) or 0


def _valid_events(house) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    now = dt.datetime.now()
    web = independent.web_events(_unique_deliveries(house.event_files["rees46"]), now)
    properties = sorted((house.home / "landing" / "retailrocket").rglob("item_properties*.csv"))
    app = independent.app_events(_unique_deliveries(house.event_files["retailrocket"]), properties, now)
    return pd.concat([web, app], ignore_index=True)


def test_every_table_is_delta_in_a_layer_schema(spark, lakehouse) -> None:  # type: ignore[no-untyped-def]
    from lakehouse.reports.summary import table_inventory

    tables = {f"{t.schema}.{t.name}": t for t in table_inventory(spark)}
    models = {
        "bronze": "brz_landing_files brz_rees46__events brz_retailrocket__events brz_retailrocket__item_properties "
        "brz_retailrocket__category_tree brz_catalog__products",
        "silver": "event_types quarantine_reasons int_events_ranked "
        "stg_retailrocket__item_properties stg_retailrocket__category_tree stg_catalog__products "
        "int_retailrocket_items_historized int_retailrocket_categories_flattened int_catalog_products_current "
        "snp_catalog_products int_events_validated int_events_quarantined int_events_duplicates",
        "gold": "fct_events dim_products dim_products_history dim_categories dim_users dim_date dim_sources "
        "fct_sessions fct_orders agg_daily_product_stats agg_daily_kpis agg_funnel_daily rpt_product_performance "
        "rpt_cohort_retention_weekly rpt_rfm_segments rpt_top_categories_brands",
        "ml": "ml_user_item_daily ml_user_item_feature_snapshots ml_user_item_latest_features ml_user_item_labels "
        "ml_conversion_training_runs "
        "ml_conversion_predictions ml_targeting_daily ml_conversion_monitoring ml_feature_drift "
        "ml_feature_training_profile",
    }
    expected = {f"{schema}.{name}" for schema, names in models.items() for name in names.split()}
    assert expected <= set(tables)
    assert {t.table_format for t in tables.values()} == {"delta"}
    assert [name for name in sorted(expected) if tables[name].rows == 0] == []


def test_every_run_succeeded_and_every_data_test_passed(lakehouse) -> None:  # type: ignore[no-untyped-def]
    assert lakehouse.steps == {name: True for name in ("first run", "second run", "rerun", "retrain")}
    statuses = lakehouse.test_results
    # tests pass; the on-run-end hook (an operation) succeeds
    assert {k: v for k, v in statuses.items() if v not in ("pass", "success") and "assert_no_rejected" not in k} == {}
    # every data test and dbt unit test of the project ran
    declared = lakehouse.declared_tests
    assert declared == {k for k in statuses if k.startswith(("test.", "unit_test."))}
    assert not any(".fx_" in k for k in declared)  # the generic tests' own fixtures are not the project's
    assert len([k for k in declared if k.startswith("unit_test.")]) >= 17 and len(declared) >= 150
    # the drop holds rejected files on purpose: the warn-level test says so and stores them
    assert [v for k, v in statuses.items() if "assert_no_rejected_landing_files" in k] == ["warn"]


@pytest.mark.parametrize("source", ["rees46", "retailrocket"])
def test_bronze_holds_every_line_of_every_readable_file_once(spark, lakehouse, source) -> None:  # type: ignore[no-untyped-def]
    folder = lakehouse.home / "landing" / source
    delivered = [p for p in folder.rglob("*.csv*") if "events" in p.name or source == "rees46" or "scenario" in p.name]
    if source == "retailrocket":
        delivered = [p for p in delivered if p.name.startswith("events")]
    rejected = {"scenario_corrupted_gzip.csv.gz", "scenario_another_delimiter.csv", "scenario_empty_file.csv"}
    expected = {}
    for _, path in _unique_deliveries([(0, p) for p in delivered]):
        if path.name not in rejected:
            expected[path.name] = expected.get(path.name, 0) + _delivered_lines(path)
    got = {
        r.source_file_name: r.n
        for r in spark.sql(
            f"select source_file_name, count(*) as n from bronze.brz_{source}__events group by 1"
        ).collect()
    }
    assert got == expected
    # the copies (the generator's own re-deliveries, the second drop's copy of a web shop file) added no line
    assert source != "rees46" or (
        lakehouse.second_drop["copy"].name in got
        and got[lakehouse.second_drop["copy"].name] == (lakehouse.second_drop["copy_lines"])
    )


def test_reference_feeds_keep_every_line(spark, lakehouse) -> None:  # type: ignore[no-untyped-def]
    landing = lakehouse.home / "landing"
    for pattern, table in (("item_properties*.csv", "item_properties"), ("category_tree*.csv", "category_tree")):
        lines = sum(_delivered_lines(p) for p in landing.rglob(pattern))
        assert spark.table(f"bronze.brz_retailrocket__{table}").count() == lines
        assert spark.table(f"silver.stg_retailrocket__{table}").count() == lines
    catalog = spark.table("silver.stg_catalog__products")
    records = lakehouse.generated.catalog_records + 1  # the second drop's change
    assert catalog.count() == records
    reasons = {r.quarantine_reason: r["count"] for r in catalog.groupBy("quarantine_reason").count().collect()}
    assert reasons == {None: records - lakehouse.generated.catalog_malformed, "malformed_record": 1}


@pytest.mark.parametrize("source", ["rees46", "retailrocket"])
def test_nothing_lost_between_bronze_and_silver(spark, lakehouse, source) -> None:  # type: ignore[no-untyped-def]
    bronze = spark.table(f"bronze.brz_{source}__events").count()
    where = f"source_system = '{source}'"
    silver = spark.table("silver.int_events_validated").where(where).count()
    quarantined = spark.table("silver.int_events_quarantined").where(where).count()
    duplicates = spark.table("silver.int_events_duplicates").where(where).count()
    assert bronze == silver + quarantined + duplicates
    assert spark.table("gold.fct_events").where(where).count() == silver


def test_keys_are_namespaced_and_app_events_priced_at_their_time(spark, lakehouse) -> None:  # type: ignore[no-untyped-def]
    events = spark.table("silver.int_events_validated")
    rows = events.groupBy("source_system").agg({"user_id": "min", "product_id": "min", "*": "count"}).collect()
    for row in rows:
        source = row.source_system
        assert row["min(user_id)"].startswith(f"{source}:") and row["min(product_id)"].startswith(f"{source}:")
    # an app event has its item's price and category unless no property of the item was ever published
    # (the reliability scenario's item 77001, the public-layout file's item 880002)
    unpriced = events.where("source_system = 'retailrocket' and is_price_missing").select("source_product_id")
    assert {r.source_product_id for r in unpriced.distinct().collect()} == {77001, 880002}
    sessions = events.where("source_system = 'retailrocket'").select("is_session_derived").distinct().collect()
    assert [r.is_session_derived for r in sessions] == [True]  # the app delivers no session ids


def test_sources_keep_their_own_time_ranges(spark, lakehouse) -> None:  # type: ignore[no-untyped-def]
    sources = spark.table("gold.dim_sources").toPandas().set_index("source_system")
    assert sources.loc["retailrocket", "first_event_date"] == dt.date(2015, 8, 3)
    assert sources.loc["retailrocket", "last_event_date"] < dt.date(2015, 9, 1)
    assert sources.loc["rees46", "first_event_date"] == dt.date(2019, 10, 1)
    features = spark.table("ml.ml_user_item_features")
    per_source = (
        features.groupBy("source_system")
        .agg({"as_of_date": "min", "is_label_complete": "max"})
        .toPandas()
        .set_index("source_system")
    )
    for source in ("rees46", "retailrocket"):
        first = sources.loc[source, "first_event_date"] + dt.timedelta(days=7)  # min_history_days
        assert per_source.loc[source, "min(as_of_date)"] == first
    # label complete: the whole window [as_of_date, as_of_date + 7) within the source's own complete days
    dates = features.groupBy("source_system", "as_of_date", "is_label_complete").count().toPandas()
    for source, rows in dates.groupby("source_system"):
        last = sources.loc[source, "last_complete_date"]
        assert (rows["is_label_complete"] == (rows["as_of_date"] <= last - dt.timedelta(days=6))).all(), source
        assert rows["as_of_date"].max() == sources.loc[source, "last_event_date"] + dt.timedelta(days=1)
    # no app snapshot in the years between the sources
    app_dates = dates.loc[dates["source_system"] == "retailrocket", "as_of_date"]
    assert app_dates.max() < dt.date(2016, 1, 1)


def test_daily_kpis_equal_an_independent_pandas_computation(spark, lakehouse) -> None:  # type: ignore[no-untyped-def]
    """Every count and amount of agg_daily_kpis, per source and day, from the delivered files in pandas."""
    expected = independent.daily_kpis(_valid_events(lakehouse))
    kpis = spark.table("gold.agg_daily_kpis").toPandas().set_index(["source_system", "event_date"]).sort_index()
    assert list(kpis.index) == list(expected.index)
    columns = [
        "active_users", "views", "carts", "removes", "purchases", "purchases_unknown_price", "sessions",
        "orders", "orders_unknown_value", "revenue", "order_revenue",
    ]  # fmt: skip
    for column in columns:
        got = [None if v is None or v != v else float(v) for v in kpis[column]]
        want = [None if v is None or v != v else float(v) for v in expected[column]]
        assert got == pytest.approx(want), column
    known = expected["orders"] - expected["orders_unknown_value"]
    # the mart's decimal(18, 2) rounds half up: the expected value in decimals too (a float of 319.515 is
    # 319.51499...)
    cents = [Decimal(f"{float(r):.2f}") for r in expected["order_revenue"]]
    cent = Decimal("0.01")
    aov = [(c / int(k)).quantize(cent, ROUND_HALF_UP) if k else None for c, k in zip(cents, known, strict=True)]
    got_aov = [None if v is None else Decimal(str(v)) for v in kpis["average_order_value"]]
    assert got_aov == aov
    # the app's purchases of the reliability scenario's unpriced item are counted, with revenue unknown
    assert (
        kpis.loc["retailrocket", "purchases_unknown_price"].sum()
        == expected.loc["retailrocket"]["purchases_unknown_price"].sum()
    )


def test_kpi_marts_agree_with_pandas_and_with_each_other(spark, lakehouse) -> None:  # type: ignore[no-untyped-def]
    """Brand revenue recomputed in pandas; orders, sessions, purchases and buyers add up across marts."""
    valid = _valid_events(lakehouse)
    purchases = valid[valid["event_type"] == "purchase"]
    web = purchases[(purchases["source_system"] == "rees46") & purchases["brand"].notna()]
    brand_revenue = web.dropna(subset=["price"]).groupby("brand")["price"].apply(lambda p: float(sum(p)))
    brands = (
        spark.sql(
            "select dimension_value, revenue, revenue_rank from gold.rpt_top_categories_brands "
            "where dimension_type = 'brand' and source_system = 'rees46'"
        )
        .toPandas()
        .set_index("dimension_value")
    )
    assert set(brands.index[brands["revenue"].astype(float) > 0]) == set(brand_revenue.index)
    for brand, value in brand_revenue.items():
        assert float(brands.loc[brand, "revenue"]) == pytest.approx(value, abs=0.01)
    assert brands.sort_values("revenue_rank").index[0] == brand_revenue.idxmax()
    totals = spark.sql(
        """
        select
            (select sum(orders) from gold.agg_daily_kpis) as kpi_orders,
            (select count(*) from gold.fct_orders) as orders,
            (select sum(orders_count) from gold.dim_users) as user_orders,
            (select sum(sessions) from gold.agg_daily_kpis) as kpi_sessions,
            (select count(*) from gold.fct_sessions) as sessions,
            (select count(distinct user_session_id) from gold.fct_events) as event_sessions,
            (select sum(purchases) from gold.rpt_product_performance) as product_purchases,
            (select count(*) from gold.fct_events where event_type = 'purchase') as purchases,
            (select count(*) from gold.rpt_rfm_segments) as rfm_buyers,
            (select count(*) from gold.dim_users where is_buyer) as buyers
        """
    ).first()
    assert totals.kpi_orders == totals.orders == totals.user_orders
    assert totals.kpi_sessions == totals.sessions == totals.event_sessions
    assert totals.product_purchases == totals.purchases == len(purchases)
    assert totals.rfm_buyers == totals.buyers == purchases["user_id"].nunique()


def test_unknown_money_is_never_zero(spark, lakehouse) -> None:  # type: ignore[no-untyped-def]
    """The app's purchases of an item without a published price: revenue null, not 0, in every mart."""
    row = spark.sql(
        """
        select
            (select count(*) from gold.fct_events where event_type = 'purchase' and price is null) as unknown,
            (select count_if(revenue is null) from gold.fct_events where event_type = 'purchase') as null_revenue,
            (select count_if(not is_value_known and order_revenue is null) from gold.fct_orders) as unknown_orders,
            (select count(*) from gold.fct_orders where not is_value_known) as orders_unknown,
            (select sum(orders_unknown_value) from gold.agg_daily_kpis) as kpi_orders_unknown,
            (select sum(purchases_unknown_price) from gold.agg_daily_kpis) as kpi_unknown
        """
    ).first()
    assert row.unknown == row.null_revenue == row.kpi_unknown > 0
    assert row.unknown_orders == row.orders_unknown == row.kpi_orders_unknown > 0


@pytest.mark.parametrize("source", ["rees46", "retailrocket"])
def test_every_injected_defect_ends_where_it_should(spark, lakehouse, source) -> None:  # type: ignore[no-untyped-def]
    """The generator's manifest says where each of its lines must go; Silver agrees class by class."""
    generated = lakehouse.generated.sources[source]
    assert generated.injected and generated.redelivered  # the sample carries defects and a re-delivered file
    names = ", ".join(f"'{p.name}'" for p in generated.files)
    where = f"source_system = '{source}' and source_file_name in ({names})"
    quarantine = spark.table("silver.int_events_quarantined").where(where).groupBy("quarantine_reason").count()
    reasons = {r.quarantine_reason: r["count"] for r in quarantine.collect()}
    assert reasons == {k: v for k, v in generated.expected.items() if k not in ("valid", "duplicate")}
    assert spark.table("silver.int_events_duplicates").where(where).count() == generated.expected["duplicate"]
    valid = spark.table("silver.int_events_validated").where(where).count()
    assert valid == generated.expected["valid"]
    now = dt.datetime.now()
    if source == "rees46":
        assert len(independent.web_events(generated.files, now)) == valid
    else:
        assert len(independent.app_events(generated.files, generated.reference_files[:1], now)) == valid


def test_public_retailrocket_files_ingest_unchanged(spark, lakehouse) -> None:  # type: ignore[no-untyped-def]
    """events.csv (CRLF, a last line cut off, one row per defect class) and item_properties_part1.csv."""
    assert spark.table("bronze.brz_retailrocket__events").where("source_file_name = 'events.csv'").count() == (
        len(APP_LINES) - 1
    )
    quarantine = spark.table("silver.int_events_quarantined").where("source_file_name = 'events.csv'")
    reasons = {r.quarantine_reason: r["count"] for r in quarantine.groupBy("quarantine_reason").count().collect()}
    assert reasons == APP_EXPECTED_REASONS
    assert spark.table("silver.int_events_duplicates").where("source_file_name = 'events.csv'").count() == 2
    rows = spark.table("silver.int_events_validated").where("source_file_name = 'events.csv'").orderBy("event_at")
    rows = rows.collect()
    assert [(r.event_type, r.user_id, r.product_id) for r in rows] == [
        ("view", "retailrocket:990001", "retailrocket:880001"),
        ("purchase", "retailrocket:990001", "retailrocket:880001"),
        ("purchase", "retailrocket:990003", "retailrocket:880002"),
    ]
    # the price the item had at each event's time (it changed between the view and the purchase); an item
    # with no item_properties row has no known price: null, the purchase kept
    assert [None if r.price is None else float(r.price) for r in rows] == [120.0, 99.5, None]
    assert rows[2].is_price_missing and not rows[1].is_price_missing
    assert rows[1].transaction_id == "retailrocket:77001"
    assert rows[0].user_session_id == rows[1].user_session_id  # one derived session: a minute apart
    assert rows[0].category_id == "retailrocket:7001" and rows[0].category_code == "7001"  # not in the tree


def test_second_drop_ranks_redeliveries_and_merges_sessions(spark, lakehouse) -> None:  # type: ignore[no-untyped-def]
    """A re-delivered kept event of each source ranks after the kept copy; an app event between two of a
    user's sessions merges them in the user's earlier events."""
    duplicates = spark.table("silver.int_events_duplicates").where(
        "source_file_name in ('redelivered.csv', 'events_late.csv')"
    )
    assert sorted((r.source_system, r.duplicate_rank) for r in duplicates.collect()) == [
        ("rees46", 2),
        ("retailrocket", 2),
    ]
    drop = lakehouse.second_drop
    # the new day's purchases and late views, and the app's late view
    assert spark.table("silver.int_events_validated").count() == drop["valid_before"] + 3 + 2 + 1
    gap = drop["gap"]
    sessions = {
        r.user_session_id
        for r in spark.table("silver.int_events_validated")
        .where(f"user_id = '{gap['user_id']}'")
        .where(f"unix_millis(event_at) between {gap['at_ms']} and {gap['next_ms']}")
        .collect()
    }
    assert len(sessions) == 1


def test_catalog_changes_become_product_versions(spark, lakehouse) -> None:  # type: ignore[no-untyped-def]
    product = lakehouse.second_drop["catalog_product"]
    versions = spark.table("silver.snp_catalog_products").where(f"product_id = '{product['product_id']}'")
    rows = versions.orderBy("dbt_valid_from").collect()
    assert len(rows) == 2
    assert rows[0].dbt_valid_to == rows[1].dbt_valid_from == dt.datetime(2019, 11, 15, 8, 0)
    assert rows[1].dbt_valid_to is None and rows[1].brand == "newbrand"
    assert float(rows[1].price) == pytest.approx(float(product["price"]) + 1.0)
    assert spark.table("silver.snp_catalog_products").where("dbt_valid_to is null").count() == (
        spark.table("silver.int_catalog_products_current").count()
    )
    current = spark.table("gold.dim_products").where(f"product_id = '{product['product_id']}'").first()
    assert current.brand == "newbrand" and float(current.current_price) == pytest.approx(float(product["price"]) + 1)


@pytest.fixture(scope="module")
def full_sql(lakehouse, run_dbt, dbt_target_path):  # type: ignore[no-untyped-def]
    """Each incremental model's SQL as a full rebuild computes it (compiled with --full-refresh)."""
    models = (*INCREMENTAL, "ml_feature_drift", "ml_feature_training_profile")
    target = dbt_target_path / "full-refresh"
    run_dbt("compile", "--full-refresh", "--select", *models, "--target-path", str(target))
    return {m: next(target.glob(f"compiled/**/{m}.sql")).read_text() for m in models}


def _fingerprint(spark, frame) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    from pyspark.sql import functions as F

    from lakehouse.ops.reliability import RUN_COLUMNS

    cols = [
        F.array_sort(F.map_entries(F.col(f"`{f.name}`"))) if f.dataType.typeName() == "map" else F.col(f"`{f.name}`")
        for f in frame.schema.fields
        if f.name not in RUN_COLUMNS and f.name not in ("source_file_path", "source_file_modified_at")
    ]
    got = frame.agg(F.count(F.lit(1)).alias("n"), F.sum(F.xxhash64(*cols).cast("decimal(38,0)")).alias("h")).first()
    return int(got.n), int(got.h or 0)


@pytest.mark.parametrize("model", INCREMENTAL)
def test_incremental_model_equals_its_full_rebuild(spark, lakehouse, full_sql, model) -> None:  # type: ignore[no-untyped-def]
    """After two drops and three runs, the stored table is what a full rebuild of the same data holds."""
    schema = {"brz": "bronze", "int": "silver", "fct": "gold", "dim": "gold", "agg": "gold", "ml": "ml"}[
        model.split("_")[0]
    ]
    stored = spark.table(f"{schema}.{model}")
    rebuilt = spark.sql(full_sql[model]).select(*stored.columns)
    assert _fingerprint(spark, stored) == _fingerprint(spark, rebuilt)


def test_product_days_stored_without_newer_columns_are_all_recomputed(lakehouse) -> None:  # type: ignore[no-untyped-def]
    # the table was stored without the columns before the incremental run: every day has them filled after
    # it (their values are the full rebuild's: test_incremental_model_equals_its_full_rebuild)
    total, *filled = lakehouse.marks["product_days_upgraded"]
    assert total > 0 and filled == [total] * 4


def test_feature_mart_recomputed_only_the_snapshots_whose_input_changed(spark, lakehouse) -> None:  # type: ignore[no-untyped-def]
    marks = lakehouse.marks
    total, marked = marks["kept_marked"]
    assert total > 0 and marked == total  # input unchanged: every row kept as stored
    total, marked = marks["refingerprinted_marked"]
    assert total > 0 and marked == 0  # its stored fingerprint was wrong: computed again
    total, marked = marks["untouched_marked"]
    assert total > 0 and marked == total  # older than the labels' recompute window: not rewritten
    total, marked = marks["relabelled_marked"]
    assert total > 0 and marked == 0  # inside it: computed again
    features = spark.table("ml.ml_user_item_features")
    drop = lakehouse.second_drop
    bought = features.where(f"as_of_date = date'{drop['relabel_date']}'").join(
        spark.createDataFrame(drop["buyers"][["user_id", "product_id"]]), ["user_id", "product_id"]
    )
    assert [r.converted for r in bought.collect()] == [True] * 3  # the new day's purchases label it
    seen = features.where(f"as_of_date = date'{marks['newest_before']}'").join(
        spark.createDataFrame(drop["late"][["user_id", "product_id"]]), ["user_id", "product_id"]
    )
    expected = sorted((r.user_id, r.product_id, r.views_7d + 1) for r in drop["late"].itertuples())
    assert sorted((r.user_id, r.product_id, r.views_7d) for r in seen.collect()) == expected
    newest = spark.table("ml.ml_user_item_feature_snapshots").agg({"as_of_date": "max"}).first()[0]
    assert newest == marks["newest_before"] + dt.timedelta(days=1)


def test_features_see_only_the_past_and_labels_only_the_horizon(spark, lakehouse) -> None:  # type: ignore[no-untyped-def]
    """Recompute the interaction score and the label of one snapshot of each source from the events."""
    features = spark.table("ml.ml_user_item_features")
    events = spark.table("gold.fct_events").toPandas()
    for source in ("rees46", "retailrocket"):
        dates = sorted(
            r.as_of_date
            for r in features.where(f"source_system = '{source}' and is_label_complete")
            .select("as_of_date").distinct().collect()
        )  # fmt: skip
        as_of = dates[len(dates) // 2]
        mine = events[events["source_system"] == source]
        past = mine[(mine["event_date"] < as_of) & (mine["event_date"] >= as_of - dt.timedelta(days=30))]
        expected_score = past.groupby(["user_id", "product_id"])["interaction_weight"].sum()
        future = mine[
            (mine["event_date"] >= as_of)
            & (mine["event_date"] < as_of + dt.timedelta(days=7))
            & (mine["event_type"] == "purchase")
        ]
        bought = set(zip(future["user_id"], future["product_id"], strict=True))
        snap = features.where(f"as_of_date = date'{as_of}' and source_system = '{source}'").toPandas()
        snap = snap.set_index(["user_id", "product_id"])
        # candidates: the pairs active in the lookback window, all of them counted; the drawn users' pairs kept
        assert (snap["snapshot_pairs"] == len(expected_score)).all()
        drawn = snap.index.get_level_values("user_id").unique()
        assert set(snap.index) == set(expected_score[expected_score.index.isin(drawn, level="user_id")].index)
        assert (snap["interaction_score"] == expected_score.reindex(snap.index)).all()
        assert (snap["days_since_last_interaction"] >= 1).all()
        assert snap["converted"].to_dict() == {k: k in bought for k in snap.index}
        assert snap["converted"].any()


def test_a_snapshot_draws_its_users_and_their_features_are_those_of_the_whole_snapshot(
    spark, lakehouse, run_dbt, dbt_target_path
) -> None:  # type: ignore[no-untyped-def]
    """The test lakehouse caps a snapshot's other users at LAKEHOUSE_ML_SNAPSHOT_MAX_PAIRS pairs and its
    converters at LAKEHOUSE_ML_SNAPSHOT_MAX_CONVERTER_PAIRS bought pairs, so most web snapshots are drawn
    (a snapshot has converters once its label window has closed).
    The mart's SQL compiled without caps computes every snapshot whole: of each, the mart holds exactly the
    pairs of the users whose (as_of_date, user_id) hash is 0 modulo their stratum's power of two (the
    smallest leaving at most the cap on average; a converter's never above the others'), with the whole
    snapshot's features (the user, product and category features are not computed from the drawn pairs
    alone) and one over that power as `draw_share`."""
    from pyspark.sql import functions as F

    cap = int(os.environ["LAKEHOUSE_ML_SNAPSHOT_MAX_PAIRS"])
    converter_cap = int(os.environ["LAKEHOUSE_ML_SNAPSHOT_MAX_CONVERTER_PAIRS"])
    target = dbt_target_path / "whole-mart"
    run_dbt("compile", "--full-refresh", "--select", "ml_user_item_feature_snapshots", "--vars",
            "{ml_snapshot_max_pairs: 0}", "--target-path", str(target))  # fmt: skip
    # computed once: every check below reads it
    whole = spark.sql(next(target.glob("compiled/**/ml_user_item_feature_snapshots.sql")).read_text()).cache()
    mart = spark.table("ml.ml_user_item_feature_snapshots")
    # a snapshot has converters once its label window has closed (before that, its draw is the others')
    complete = spark.table("ml.ml_feature_snapshot_inputs").where("is_label_complete").select("as_of_date")
    labels = spark.table("ml.ml_user_item_labels").join(F.broadcast(complete), "as_of_date")
    converters = (
        labels.groupBy("as_of_date", "user_id")
        .agg(F.count("*").alias("bought"))
        .withColumn("is_converter", F.lit(True))
    )
    bought = converters.groupBy("as_of_date").agg(F.sum("bought").alias("bought")).toPandas()
    counted = whole.groupBy("as_of_date", "source_system").count().toPandas().merge(bought, "left", "as_of_date")
    counted["bought"] = counted["bought"].fillna(0)

    def modulus(pairs: float, most: int) -> int:
        # the smallest power of two leaving at most `most` on average (1 at or below it)
        m = 1
        while pairs / m > most:
            m *= 2
        return m

    counted["others"] = [modulus(p, cap) for p in counted["count"]]
    counted["converters"] = [
        min(modulus(b, converter_cap), o) for b, o in zip(counted["bought"], counted["others"], strict=True)
    ]
    stored = mart.groupBy("as_of_date", "source_system").agg(F.max("snapshot_pairs").alias("pairs")).toPandas()
    merged = stored.merge(counted, on=["as_of_date", "source_system"], how="outer")
    assert (merged["pairs"] == merged["count"]).all()  # every snapshot and source, its candidates counted
    # both strata are drawn in some snapshots and whole in others
    assert (counted["others"] > 1).any() and (counted["others"] == 1).any()
    assert (counted["converters"] > 1).any() and (counted["converters"] == 1).any()
    moduli = spark.createDataFrame(counted[["as_of_date", "source_system", "others", "converters"]])
    expected = (
        whole.join(F.broadcast(moduli), ["as_of_date", "source_system"])
        .join(converters.select("as_of_date", "user_id", "is_converter"), ["as_of_date", "user_id"], "left")
        .withColumn("m", F.when(F.col("is_converter"), F.col("converters")).otherwise(F.col("others")))
        .where(F.pmod(F.xxhash64("as_of_date", "user_id"), F.col("m").cast("bigint")) == 0)
        .withColumn("draw_share", 1 / F.col("m"))
    )
    columns = [c for c in mart.columns if c != "input_fingerprint"]
    got, expected = mart.select(*columns), expected.select(*columns)
    assert got.count() == expected.count() < whole.count()
    assert got.exceptAll(expected).count() == 0  # the same pairs, every column equal, draw_share included
    # the converters' stratum holds converters of both kinds of share, and others below theirs
    shares = mart.join(converters, ["as_of_date", "user_id"], "left").groupBy("is_converter", "draw_share").count()
    assert {(r.is_converter, r.draw_share < 1) for r in shares.collect()} >= {(True, True), (True, False), (None, True)}
    # each source's latest snapshot whole, as scoring reads it: the uncapped SQL's rows of that snapshot
    latest = spark.table("ml.ml_user_item_latest_features")
    assert latest.select("as_of_date", "source_system").distinct().count() == 2  # each source's own latest
    assert latest.where("draw_share != 1").count() == 0
    latest_keys = latest.select("as_of_date", "source_system").distinct()
    assert (
        latest.select(*columns)
        .exceptAll(whole.join(latest_keys, ["as_of_date", "source_system"]).select(*columns))
        .count()
        == 0
    )
    assert latest.count() == whole.join(latest_keys, ["as_of_date", "source_system"]).count()
    whole.unpersist()


def test_the_feature_mart_has_the_contract_s_columns_and_types(spark, lakehouse) -> None:  # type: ignore[no-untyped-def]
    from test_ml import feature_contract

    declared = [(c["name"], c["data_type"].replace(" ", "")) for c in feature_contract()]
    assert spark.table("ml.ml_user_item_feature_snapshots").dtypes == declared


def test_no_feature_can_see_events_on_or_after_the_snapshot(spark, lakehouse, full_sql) -> None:  # type: ignore[no-untyped-def]
    """Delete every event on or after a snapshot date, run the full build's SQL of the mart's features, its
    labels and their input (ml_user_item_daily) on what is left: the features must not move, the labels must."""
    from lakehouse_ml.features import FEATURES, KEY_COLUMNS

    daily, compiled, labels = (full_sql[m] for m in ("ml_user_item_daily", "ml_user_item_feature_snapshots",
                                                      "ml_user_item_labels"))  # fmt: skip
    events, pair_days = re.compile(r"`?gold`?\.`?fct_events`?"), re.compile(r"`?ml`?\.`?ml_user_item_daily`?")
    assert len(events.findall(daily)) == 1 and len(pair_days.findall(compiled)) == 1
    assert len(pair_days.findall(labels)) == 1
    dates = sorted(
        r.as_of_date
        for r in spark.table("ml.ml_user_item_features").where("source_system = 'rees46'").select("as_of_date")
        .distinct().collect()
    )  # fmt: skip
    as_of = dates[len(dates) // 2]
    kept = spark.table("gold.fct_events").where(f"event_date < date'{as_of}'")
    kept.createOrReplaceTempView("events_before_as_of")
    removed = spark.table("gold.fct_events").where(f"event_date >= date'{as_of}'").count()
    assert removed > 1000  # a real cut: the label window and everything after it are gone
    spark.sql(events.sub("events_before_as_of", daily)).createOrReplaceTempView("pair_days_before_as_of")
    blind = spark.sql(pair_days.sub("pair_days_before_as_of", compiled)).where(f"as_of_date = date'{as_of}'")
    full = spark.table("ml.ml_user_item_feature_snapshots").where(f"as_of_date = date'{as_of}'")
    columns = [*KEY_COLUMNS, *FEATURES]
    got = blind.select(columns).toPandas().sort_values(KEY_COLUMNS).reset_index(drop=True)
    want = full.select(columns).toPandas().sort_values(KEY_COLUMNS).reset_index(drop=True)
    assert len(want) > 100
    pd.testing.assert_frame_equal(got, want, check_exact=False, rtol=1e-9)
    blind_labels = spark.sql(pair_days.sub("pair_days_before_as_of", labels)).where(f"as_of_date = date'{as_of}'")
    converted = spark.table("ml.ml_user_item_features").where(f"as_of_date = date'{as_of}' and converted")
    assert blind_labels.count() == 0 < converted.count()


def test_training_run_registered_promoted_and_ahead_of_its_baselines(spark, lakehouse) -> None:  # type: ignore[no-untyped-def]
    runs = spark.table("ml.ml_conversion_training_runs").orderBy("trained_at").toPandas()
    first = runs.iloc[0]
    assert bool(first["promoted"]) and first["champion_version_before"] is None
    assert first["n_train"] > 1000 and first["n_valid"] > 100
    # purged: the last training snapshot's label window [train_to, train_to + 7) ends before validation
    assert first["embargo_days"] == 7 and (first["valid_date"] - first["train_to"]).days >= 7
    # on the same validation rows the model ranks better than the popularity prior; the three-feature
    # logistic baseline is recorded beside it (on this 20k-event sample, a week of web snapshots past the
    # embargo, the two are within noise of each other: the model report's intervals tell them apart)
    assert first["roc_auc"] > first["baseline_prior_roc_auc"]
    assert 0.5 < first["baseline_lr3_roc_auc"] < 1
    assert {"pr_auc", "brier", "lift_top_decile", "n_features", "features_left_out"} <= set(runs)


def test_python_models_receive_every_config_value_they_read(lakehouse, dbt_target_path) -> None:  # type: ignore[no-untyped-def]
    """dbt passes a Python model only the config values whose `dbt.config.meta_get("...")` calls it finds
    when parsing, and it misses calls nested in other expressions: every key a model reads must be one dbt
    found."""

    manifest = json.loads((dbt_target_path / "manifest.json").read_text())
    read_keys = 0
    for node in manifest["nodes"].values():
        if node["resource_type"] == "model" and node["language"] == "python":
            read = set(re.findall(r"meta_get\(\s*[\"']([^\"']+)", node["raw_code"]))
            assert read <= set(node["config"].get("meta_keys_used") or []), node["name"]
            read_keys += len(read)
    assert read_keys >= 10


def test_predictions_are_probabilities_from_the_champion(spark, lakehouse) -> None:  # type: ignore[no-untyped-def]
    import mlflow

    from lakehouse_ml.registry import champion_version, configure

    configure()
    preds = spark.table("ml.ml_conversion_predictions").toPandas()
    run = spark.table("ml.ml_conversion_training_runs").orderBy("trained_at").toPandas().iloc[0]
    assert preds["probability"].between(0, 1).all()
    assert preds["probability"].nunique() > 10  # probabilities, not class labels
    assert set(preds["model_version"]) == {champion_version(run["model_name"])} == {run["model_version"]}
    assert set(preds["run_id"]) == {run["run_id"]}
    # the latest snapshot of each source, and the snapshots after the champion's training window
    snapshots = (
        spark.table("ml.ml_user_item_feature_snapshots").groupBy("source_system").agg({"as_of_date": "max"}).toPandas()
    )
    dates = spark.table("ml.ml_user_item_feature_snapshots").select("as_of_date").distinct().toPandas()["as_of_date"]
    expected = {d for d in dates if d > run["train_to"]} | set(snapshots["max(as_of_date)"])
    assert set(preds["as_of_date"]) == expected
    assert set(preds.groupby("as_of_date")["source_system"].first()) == {"rees46", "retailrocket"}
    for _, snapshot in preds.groupby("as_of_date"):
        assert sorted(snapshot["probability_decile"].unique()) == list(range(1, 11))
        top = snapshot.sort_values("probability_rank").iloc[0]
        assert top["probability"] == snapshot["probability"].max()
    assert mlflow.get_run(run["run_id"]).data.metrics["roc_auc"] == pytest.approx(run["roc_auc"])


def test_predictions_rewrite_only_the_snapshots_they_score(spark, lakehouse) -> None:  # type: ignore[no-untyped-def]
    """Locally partitioned by as_of_date, a run overwrites the partitions of the snapshots it scores (each
    source's latest, new ones, and those whose features were computed again): an older snapshot's rows are
    not rewritten."""
    marks = lakehouse.marks
    assert marks["predictions_older_run_ids"] == {"not rewritten"}
    before = marks["predictions_before"].set_index("as_of_date")["n"]
    after = marks["predictions_after"].set_index("as_of_date")
    assert set(before.index) <= set(after.index)
    rescored = after[after["scored_at"] > marks["latest_scored_at"]]
    assert marks["last_write"]["operation"] == "WRITE"
    assert int(marks["last_write"]["operationMetrics"]["numOutputRows"]) == rescored["n"].sum()
    assert marks["older_scored"] not in set(rescored.index)
    # the late view (two days before the newest snapshot, at 23:00) changed the features of the snapshot
    # after it: scored again. The marked ones kept their true input (the refingerprinted one was computed
    # again from the same days, so its fingerprint is the one its predictions were made from): not rescored
    changed = marks["newest_before"] - dt.timedelta(days=1)
    assert changed in set(rescored.index)
    assert marks["kept"] not in set(rescored.index) and marks["refingerprinted"] not in set(rescored.index)
    fingerprints = "select as_of_date, max(input_fingerprint) as f from {} group by as_of_date"
    stored = spark.sql(fingerprints.format("ml.ml_user_item_feature_snapshots")).toPandas()
    scored = spark.sql(fingerprints.format("ml.ml_conversion_predictions")).toPandas()
    both = stored.merge(scored, on="as_of_date", suffixes=("_features", "_scored"))
    assert len(both) == len(scored)
    # every snapshot scored after the first run's newest training data holds the features it was scored on
    recent = both[both["as_of_date"] >= marks["kept"]]
    assert (recent["f_features"] == recent["f_scored"]).all()


def test_targeting_list_is_the_top_of_the_predictions_by_expected_revenue(spark, lakehouse) -> None:  # type: ignore[no-untyped-def]
    """Per snapshot, the 1,000 pairs of highest probability x current price (unknown prices last), in that
    order; every pair left out is worth no more than the last one in."""
    preds = spark.table("ml.ml_conversion_predictions").toPandas()
    prices = spark.table("gold.dim_products").select("product_id", "current_price").toPandas()
    latest = preds["as_of_date"].max()
    preds = preds[preds["as_of_date"] == latest].merge(prices, on="product_id", how="left")
    preds["expected"] = preds["probability"] * preds["current_price"].astype(float)
    targets = spark.table("ml.ml_targeting_daily").toPandas()
    targets = targets[targets["as_of_date"] == latest].sort_values("target_rank")
    assert targets["target_rank"].tolist() == list(range(1, min(1000, len(preds)) + 1))
    assert (targets["target_rank"] == targets["expected_revenue_rank"]).all()  # the default ranking
    merged = targets.merge(preds, on=["user_id", "product_id"], suffixes=("", "_pred"))
    assert len(merged) == len(targets)
    assert (merged["probability_rank"] == merged["probability_rank_pred"]).all()
    known = merged["expected"].notna()
    got = merged.loc[known, "expected_revenue"].astype(float)
    assert got.to_numpy() == pytest.approx(merged.loc[known, "expected"].to_numpy(), abs=0.0051)
    assert merged["expected_revenue"].isna().eq(~known).all()
    # ordered: non-increasing expected revenue, the unknown ones last
    values = merged["expected_revenue"].astype(float).fillna(-1.0).to_numpy()
    assert (values[:-1] >= values[1:]).all()
    outside = preds[
        ~preds.set_index(["user_id", "product_id"]).index.isin(merged.set_index(["user_id", "product_id"]).index)
    ]
    assert outside["expected"].fillna(-1.0).max() <= values[-1] + 0.0051
    assert merged["brand"].notna().any() and merged["category_code"].notna().any()  # product attributes joined


def test_monitoring_meets_predictions_with_their_labels(spark, lakehouse) -> None:  # type: ignore[no-untyped-def]
    preds = spark.table("ml.ml_conversion_predictions").toPandas()
    labels = spark.table("ml.ml_user_item_features").where("is_label_complete").toPandas()
    labelled = preds.merge(labels, on=["as_of_date", "user_id", "product_id"])
    assert len(labelled) > 0  # the validation snapshot was scored out of time and has its labels
    monitoring = spark.table("ml.ml_conversion_monitoring").toPandas()
    assert monitoring["pairs"].sum() == len(labelled)
    assert monitoring["conversions"].sum() == labelled["converted"].sum()
    by_decile = monitoring.groupby("probability_decile")[["pairs", "conversions"]].sum()
    rate = by_decile["conversions"] / by_decile["pairs"]
    assert rate.loc[1] > rate.loc[10]  # the top decile converts more than the bottom one
    # the rates are those of the pairs the scored ones stand for: each weighs 1 / its draw_share
    key = ["as_of_date", "model_version", "probability_decile"]
    weight = 1 / labelled["draw_share_x"].fillna(1.0)
    sums = labelled.assign(w=weight, c=weight * labelled["converted"], p=weight * labelled["probability"])
    sums = sums.groupby(key)[["w", "c", "p"]].sum()
    stored = monitoring.set_index(key).loc[sums.index]
    assert len(stored) == len(monitoring) and (stored["pairs_represented"] == sums["w"].round()).all()
    assert stored["realised_conversion_rate"].to_numpy() == pytest.approx((sums["c"] / sums["w"]).to_numpy())
    assert stored["mean_predicted_probability"].to_numpy() == pytest.approx((sums["p"] / sums["w"]).to_numpy())
    # realised revenue: the deciles' known revenue adds up to the labelled pairs' purchases in their windows
    events = spark.table("gold.fct_events").where("event_type = 'purchase'").toPandas()
    bought = labelled[labelled["converted"]].merge(events, on=["user_id", "product_id"])
    days = (pd.to_datetime(bought["event_date"]) - pd.to_datetime(bought["as_of_date"])).dt.days
    bought = bought[(days >= 0) & (days < 7)]
    pairs = bought.groupby(["as_of_date", "user_id", "product_id"])["price"]
    unknown = pairs.apply(lambda p: p.isna().any())
    known_revenue = pairs.sum()[~unknown].astype(float).sum()
    assert float(monitoring["realised_revenue"].astype(float).sum()) == pytest.approx(known_revenue)
    assert monitoring["conversions_unknown_revenue"].sum() == unknown.sum()
    drift = spark.table("ml.ml_feature_drift").toPandas()
    assert set(drift["as_of_date"]) == set(preds["as_of_date"])
    assert drift.groupby("as_of_date")["feature_name"].nunique().eq(7).all()
    assert (drift["psi"] >= 0).all()
    profile = spark.table("ml.ml_feature_training_profile").toPandas()
    assert set(profile["model_version"]) == set(preds["model_version"])
    per_feature = profile.groupby(["model_version", "feature_name"])
    assert per_feature["bucket"].apply(lambda buckets: sorted(buckets) == list(range(-1, 10))).all()
    assert per_feature["training_share"].sum().sub(1).abs().lt(1e-9).all()


def test_feature_drift_computes_only_new_scorings_and_equals_a_rebuild(spark, lakehouse, full_sql) -> None:  # type: ignore[no-untyped-def]
    """The drift table is incremental: the second run computed the snapshots scored since the first (an
    older snapshot's marked rows were not read again), and the table equals a full rebuild."""
    assert lakehouse.marks["drift_older_statuses"] == {"not read again"}
    columns = ["as_of_date", "model_version", "feature_name", "psi", "psi_status"]
    stored = spark.table("ml.ml_feature_drift").select(*columns).toPandas()
    rebuilt = spark.sql(full_sql["ml_feature_drift"]).select(*columns).toPandas()
    key = ["as_of_date", "feature_name"]
    stored, rebuilt = (f.sort_values(key).reset_index(drop=True) for f in (stored, rebuilt))
    assert len(stored) == len(rebuilt) == 7 * stored["as_of_date"].nunique()
    pd.testing.assert_frame_equal(stored.drop(columns="psi"), rebuilt.drop(columns="psi"))
    assert stored["psi"].to_numpy() == pytest.approx(rebuilt["psi"].to_numpy())  # sums in any order
    assert set(stored["psi_status"]) <= {"stable", "watch", "shifted"}


def test_training_profile_is_the_deciles_of_the_training_pairs_or_of_their_draw(
    spark, lakehouse, run_dbt, dbt_target_path
) -> None:  # type: ignore[no-untyped-def]
    """Each bucket's share recomputed from the mart's training pairs and the stored edges (-1 for nulls, else
    the number of edges below the value). Under var drift_profile_max_pairs every pair counts; above it,
    the pairs whose key hashes below a threshold (the draw training samples with): that variant is the
    model's SQL compiled with the var and evaluated, not written."""
    import numpy as np
    from pyspark.sql import functions as F

    from lakehouse_ml.sampling import DRAW_BUCKETS, pair_draw_bucket

    table = "ml.ml_feature_training_profile"
    runs = spark.table("ml.ml_conversion_training_runs").select("model_version", "train_from", "train_to")

    def check(profile: pd.DataFrame, mart: str, cap: int = 0) -> None:
        for version, rows in profile.groupby("model_version"):
            run = runs.where(F.col("model_version") == version).first()
            window = spark.table(mart).where(F.col("as_of_date").between(run.train_from, run.train_to))
            pairs = window.count()
            assert (rows["training_pairs"] == pairs).all()
            if cap:
                window = window.where(pair_draw_bucket() < int(DRAW_BUCKETS * (cap / pairs)) + 1)
            features = list(rows["feature_name"].unique())
            values = window.select(*features, "draw_share").toPandas()
            assert 0 < len(values) < pairs if cap else len(values) == pairs
            # each row counts for the pairs it stands for
            weight = 1 / values["draw_share"].to_numpy(dtype=float)
            assert (weight > 1).any()
            for feature, buckets in rows.groupby("feature_name"):
                edges = np.asarray(buckets["decile_edges"].iloc[0], dtype=float)
                column = values[feature].astype(float).to_numpy()
                expected = np.where(np.isnan(column), -1, (column[:, None] > edges[None, :]).sum(axis=1))
                shares = pd.Series(weight).groupby(expected).sum() / weight.sum()
                shares = shares.reindex(range(-1, 10), fill_value=0.0)
                assert (buckets["training_values"] == len(values)).all()
                stored = buckets.set_index("bucket")["training_share"].sort_index()
                assert stored.to_numpy() == pytest.approx(shares.to_numpy(), abs=1e-12)

    # the stored profile against the mart it was computed from (the first build's: the second drop changed
    # app snapshots inside the training window later); the capped variant, evaluated now, against today's
    whole = spark.table(table).toPandas()
    check(whole, FIRST_RUN_FEATURES)
    cap = int(whole["training_pairs"].min()) // 4
    target = dbt_target_path / "capped-profile"
    run_dbt("compile", "--full-refresh", "--select", "ml_feature_training_profile", "--vars",
            f"{{drift_profile_max_pairs: {cap}}}", "--target-path", str(target))  # fmt: skip
    capped = spark.sql(next(target.glob("compiled/**/ml_feature_training_profile.sql")).read_text())
    check(capped.toPandas(), "ml.ml_user_item_features", cap)


def test_a_rerun_on_the_same_data_changes_nothing_and_trains_nothing(spark, lakehouse) -> None:  # type: ignore[no-untyped-def]
    before, after = lakehouse.rerun["before"], lakehouse.rerun["after"]
    assert len(before) >= 38  # every Bronze, Silver and Gold table and the deterministic ML ones
    assert {k: v for k, v in after.items() if before.get(k) != v} == {}
    runs_before, runs_after = lakehouse.rerun["training_runs"]
    assert runs_before == runs_after == 2  # the first training and the retrain asked for; no new one
    preds_before, preds_after = lakehouse.rerun["predictions"]
    assert preds_before == preds_after  # the latest snapshots replaced, not appended
    # a retrain asked for on the same data: same validation snapshot, it does not beat the champion
    runs = spark.table("ml.ml_conversion_training_runs").orderBy("trained_at").toPandas()
    assert len(runs) == 2
    second = runs.iloc[1]
    assert second["champion_version_before"] == runs.iloc[0]["model_version"]
    assert second["champion_roc_auc_before"] == pytest.approx(runs.iloc[0]["roc_auc"])
    assert not bool(second["promoted"])


def test_model_report_bounds_the_champion_by_the_bayes_oracle_and_the_clairvoyant(spark, lakehouse) -> None:  # type: ignore[no-untyped-def]
    """On the mart the champion was validated on (the first build's): the champion's log loss is not
    better than the Bayes oracle's, and the clairvoyant bound's is lower still; every share is of the
    Bayes oracle's, with an interval around it."""
    from lakehouse.reports.model_report import build_report
    from lakehouse_ml.oracle import render

    table, context = build_report(spark, table=FIRST_RUN_FEATURES, bootstrap=50)
    names = [name.split(" ")[0] for name in table.index]
    assert names == ["champion", "baseline_lr3", "baseline_prior", "bayes_oracle", "clairvoyant"]
    champion = table.index[0]
    log_loss = table["log_loss"]
    assert log_loss["clairvoyant"] < log_loss["bayes_oracle"] <= log_loss[champion]
    assert table.loc["bayes_oracle", "roc_auc_share"] == 1.0
    assert table.loc[champion, "roc_auc"] > table.loc["baseline_prior", "roc_auc"]
    for metric in ("roc_auc", "pr_auc", "log_loss_share"):
        assert (table[f"{metric}_low"] <= table[metric]).all() and (table[metric] <= table[f"{metric}_high"]).all()
    run = spark.table("ml.ml_conversion_training_runs").orderBy("trained_at").toPandas().iloc[0]
    assert context["valid_date"] == run["valid_date"] and context["n_rows"] == run["n_valid"]
    assert table.loc[champion, "roc_auc"] == pytest.approx(run["roc_auc"])  # the same rows as training's
    assert "bayes_oracle" in render(table, **context)
