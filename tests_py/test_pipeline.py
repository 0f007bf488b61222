"""End to end on the small sample: `dbt build` (SQL and Python models) in the test session's Spark."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from lakehouse.generate import REES46_COLUMNS, RETAILROCKET_COLUMNS

pytestmark = pytest.mark.dbt

LAYERS = ("bronze", "silver", "gold", "ml")


def test_every_table_is_delta_in_a_layer_schema(spark, built) -> None:  # type: ignore[no-untyped-def]
    from lakehouse.summary import table_inventory

    tables = {f"{t.schema}.{t.name}": t for t in table_inventory(spark)}
    expected = {
        "bronze.brz_rees46__events",
        "bronze.brz_retailrocket__events",
        "bronze.brz_retailrocket__item_properties",
        "bronze.brz_retailrocket__category_tree",
        "bronze.brz_catalog__products",
        "silver.stg_rees46__events",
        "silver.stg_retailrocket__events",
        "silver.stg_retailrocket__item_properties",
        "silver.stg_retailrocket__category_tree",
        "silver.stg_catalog__products",
        "silver.int_retailrocket_items_historized",
        "silver.int_retailrocket_categories_flattened",
        "silver.int_catalog_products_current",
        "silver.snp_catalog_products",
        "silver.int_events_validated",
        "silver.int_events_quarantined",
        "silver.int_events_duplicates",
        "silver.event_types",
        "gold.fct_events",
        "gold.dim_products",
        "gold.dim_products_history",
        "gold.dim_categories",
        "gold.dim_users",
        "gold.dim_date",
        "gold.fct_sessions",
        "gold.fct_orders",
        "gold.agg_daily_product_stats",
        "gold.agg_daily_kpis",
        "gold.agg_funnel_daily",
        "gold.rpt_product_performance",
        "gold.rpt_cohort_retention_weekly",
        "gold.rpt_rfm_segments",
        "gold.rpt_top_categories_brands",
        "ml.ml_user_item_daily",
        "ml.ml_user_item_feature_snapshots",
        "ml.ml_user_item_labels",
        "ml.ml_conversion_training_runs",
        "ml.ml_conversion_predictions",
        "ml.ml_targeting_daily",
        "ml.ml_conversion_monitoring",
        "ml.ml_feature_drift",
        "ml.ml_feature_training_profile",
    }
    assert expected <= set(tables)
    assert {t.table_format for t in tables.values()} == {"delta"}
    assert all(t.rows > 0 for t in tables.values())


@pytest.mark.parametrize("source", ["rees46", "retailrocket"])
def test_bronze_holds_every_delivered_line(spark, built, source) -> None:  # type: ignore[no-untyped-def]
    generated = built.sources[source]
    lines = sum(len(p.read_text().splitlines()) - 1 for p in generated.files)  # minus each header
    table = spark.table(f"bronze.brz_{source}__events")
    assert table.count() == lines == generated.events
    files = table.select("source_file_name", "source_file_path").distinct()
    assert {r.source_file_name for r in files.collect()} == {p.name for p in generated.files}
    assert files.count() == len(generated.files)  # a file delivered twice is read once


def test_reference_feeds_keep_every_line(spark, built) -> None:  # type: ignore[no-untyped-def]
    properties, tree = built.retailrocket.reference_files
    for path, table in ((properties, "item_properties"), (tree, "category_tree")):
        lines = len(path.read_text().splitlines()) - 1
        assert spark.table(f"bronze.brz_retailrocket__{table}").count() == lines
        assert spark.table(f"silver.stg_retailrocket__{table}").count() == lines
    catalog = spark.table("silver.stg_catalog__products")
    assert catalog.count() == built.catalog_records
    reasons = {r.quarantine_reason: r["count"] for r in catalog.groupBy("quarantine_reason").count().collect()}
    assert reasons == {None: built.catalog_records - built.catalog_malformed, "malformed_record": 1}


@pytest.mark.parametrize("source", ["rees46", "retailrocket"])
def test_nothing_lost_between_bronze_and_silver(spark, built, source) -> None:  # type: ignore[no-untyped-def]
    bronze = spark.table(f"bronze.brz_{source}__events").count()
    where = f"source_system = '{source}'"
    silver = spark.table("silver.int_events_validated").where(where).count()
    quarantined = spark.table("silver.int_events_quarantined").where(where).count()
    duplicates = spark.table("silver.int_events_duplicates").where(where).count()
    assert bronze == silver + quarantined + duplicates
    assert spark.table("gold.fct_events").where(where).count() == silver


def test_keys_are_namespaced_and_app_events_enriched(spark, built) -> None:  # type: ignore[no-untyped-def]
    events = spark.table("silver.int_events_validated")
    rows = events.groupBy("source_system").agg(
        {"user_id": "min", "product_id": "min", "price": "count", "category_code": "count", "*": "count"}
    )
    by_source = {r.source_system: r for r in rows.collect()}
    for source, row in by_source.items():
        assert row["min(user_id)"].startswith(f"{source}:") and row["min(product_id)"].startswith(f"{source}:")
    app = by_source["retailrocket"]
    # every app item has a price and a category in the item properties: every app event gets both
    assert app["count(price)"] == app["count(category_code)"] == app["count(1)"]
    sessions = events.where("source_system = 'retailrocket'").select("is_session_derived").distinct().collect()
    assert [r.is_session_derived for r in sessions] == [True]  # the app delivers no session ids


def _read_csv_rows(files, width: int) -> list[list[str]]:  # type: ignore[no-untyped-def]
    import csv

    rows = []
    for path in files:
        with path.open(newline="") as handle:
            rows += [r for r in list(csv.reader(handle))[1:] if len(r) == width]
    return rows


def _independent_valid_events(files) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    """The valid, deduplicated web events, computed with the csv module and pandas, not the project's SQL."""
    raw = pd.DataFrame(_read_csv_rows(files, 9), columns=REES46_COLUMNS)
    raw["event_at"] = pd.to_datetime(raw["event_time"].str.removesuffix(" UTC"), errors="coerce")
    raw["price"] = pd.to_numeric(raw["price"], errors="coerce")
    valid = raw[
        raw["event_at"].notna()
        & (raw["event_at"] < pd.Timestamp("2030-01-01"))
        & raw["event_type"].isin(["view", "cart", "remove_from_cart", "purchase"])
        & (raw["user_id"] != "")
        & (raw["price"] > 0)
    ]
    valid = valid.drop_duplicates(["user_id", "product_id", "event_type", "event_at"])
    return valid.assign(event_date=valid["event_at"].dt.date, user_id="rees46:" + valid["user_id"])


def _independent_valid_app_events(files, properties) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    """The valid, deduplicated app events with the price their item had at the time, in pandas."""
    raw = pd.DataFrame(_read_csv_rows(files, 5), columns=RETAILROCKET_COLUMNS)
    raw["millis"] = pd.to_numeric(raw["timestamp"], errors="coerce")
    raw["event_type"] = raw["event"].map({"view": "view", "addtocart": "cart", "transaction": "purchase"})
    valid = raw[
        raw["millis"].notna()
        & (raw["millis"] < pd.Timestamp("2030-01-01").value // 10**6)
        & raw["event_type"].notna()
        & (raw["visitorid"] != "")
    ].copy()
    valid["second"] = valid["millis"] // 1000
    valid = valid.sort_values("millis").drop_duplicates(["visitorid", "itemid", "event_type", "second"])
    props = pd.read_csv(properties)
    prices = props[props["property"] == "790"].assign(
        price=lambda d: d["value"].str.removeprefix("n").astype(float), itemid=lambda d: d["itemid"].astype(str)
    )
    prices = prices.sort_values("timestamp")
    valid = pd.merge_asof(
        valid.sort_values("millis"),
        prices[["timestamp", "itemid", "price"]],
        left_on="millis",
        right_on="timestamp",
        by="itemid",
    )
    first_price = prices.groupby("itemid")["price"].first()  # the first version also covers earlier events
    valid["price"] = valid["price"].fillna(valid["itemid"].map(first_price))
    event_at = pd.to_datetime(valid["millis"], unit="ms")
    return valid.assign(event_date=event_at.dt.date, user_id="retailrocket:" + valid["visitorid"])


def _independent_valid_all(built) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    web = _independent_valid_events(built.rees46.files)
    app = _independent_valid_app_events(built.retailrocket.files, built.retailrocket.reference_files[0])
    columns = ["event_date", "user_id", "event_type", "price"]
    return pd.concat([web[[*columns, "brand"]], app[columns].assign(brand=None)])


def test_daily_kpis_match_an_independent_pandas_computation(spark, built) -> None:  # type: ignore[no-untyped-def]
    """Event counts, active users, revenue and app orders per day, recomputed from the raw files in pandas."""
    valid = _independent_valid_all(built)
    is_type = {t: valid["event_type"] == t for t in ("view", "cart", "remove_from_cart", "purchase")}
    expected = (
        valid.assign(**{t: m.astype(int) for t, m in is_type.items()})
        .groupby("event_date")
        .agg(
            active_users=("user_id", "nunique"),
            views=("view", "sum"),
            carts=("cart", "sum"),
            removes=("remove_from_cart", "sum"),
            purchases=("purchase", "sum"),
        )
    )
    revenue = valid[is_type["purchase"]].groupby("event_date")["price"].sum()
    kpis = spark.table("gold.agg_daily_kpis").toPandas().set_index("event_date")
    assert len(kpis) == len(expected)
    checked = 0
    for day, row in expected.iterrows():
        for metric in ("active_users", "views", "carts", "removes", "purchases"):
            assert kpis.loc[day, metric] == row[metric], (day, metric)
            checked += 1
        assert float(kpis.loc[day, "revenue"]) == pytest.approx(float(revenue.get(day, 0.0)), abs=0.01)
        aov = kpis.loc[day, "average_order_value"]
        if kpis.loc[day, "orders"]:
            assert float(aov) == pytest.approx(float(kpis.loc[day, "revenue"]) / kpis.loc[day, "orders"], rel=0.1)
    assert checked == 5 * len(expected)


def test_kpi_marts_agree_with_pandas_and_with_each_other(spark, built) -> None:  # type: ignore[no-untyped-def]
    """Brand revenue and daily purchasing users recomputed in pandas; orders and sessions add up across marts."""
    valid = _independent_valid_all(built)
    purchases = valid[valid["event_type"] == "purchase"]
    brand_revenue = purchases[purchases["brand"].fillna("") != ""].groupby("brand")["price"].sum()
    brands = (spark.table("gold.rpt_top_categories_brands").where("dimension_type = 'brand'").toPandas()).set_index(
        "dimension_value"
    )
    assert set(brands.index[brands["revenue"] > 0]) == set(brand_revenue.index)
    for brand, value in brand_revenue.items():
        assert float(brands.loc[brand, "revenue"]) == pytest.approx(value, abs=0.01)
    assert brands.sort_values("revenue_rank").index[0] == brand_revenue.idxmax()

    buyers = purchases.groupby("event_date")["user_id"].nunique()
    funnel = (
        spark.sql("select event_date, sum(purchasing_users) as buyers from gold.agg_funnel_daily group by event_date")
        .toPandas()
        .set_index("event_date")["buyers"]
    )
    # a user who bought in two categories or brands on one day counts in each: the funnel's sum is >= buyers
    assert all(funnel.get(day, 0) >= n for day, n in buyers.items())

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


@pytest.mark.parametrize("source", ["rees46", "retailrocket"])
def test_every_injected_defect_ends_where_it_should(spark, built, source) -> None:  # type: ignore[no-untyped-def]
    """The generator's manifest says where each line must go; Silver must agree class by class."""
    generated = built.sources[source]
    assert generated.injected and generated.redelivered  # the sample carries defects and a re-delivered file
    where = f"source_system = '{source}'"
    quarantine = spark.table("silver.int_events_quarantined").where(where).groupBy("quarantine_reason").count()
    reasons = {r.quarantine_reason: r["count"] for r in quarantine.collect()}
    expected = {k: v for k, v in generated.expected.items() if k not in ("valid", "duplicate")}
    assert reasons == expected
    assert spark.table("silver.int_events_duplicates").where(where).count() == generated.expected["duplicate"]
    assert spark.table("silver.int_events_validated").where(where).count() == generated.expected["valid"]
    if source == "rees46":
        assert len(_independent_valid_events(generated.files)) == generated.expected["valid"]
    else:
        assert (
            len(_independent_valid_app_events(generated.files, generated.reference_files[0]))
            == (generated.expected["valid"])
        )


def test_features_see_only_the_past_and_labels_only_the_horizon(spark, built) -> None:  # type: ignore[no-untyped-def]
    """Recompute the interaction score and the label for one snapshot directly from the events."""
    features = spark.table("ml.ml_user_item_features")
    as_of = sorted(r.as_of_date for r in features.select("as_of_date").distinct().collect())[5]
    events = spark.table("gold.fct_events").toPandas()
    past = events[(events["event_date"] < as_of) & (events["event_date"] >= as_of - dt.timedelta(days=30))]
    expected_score = past.groupby(["user_id", "product_id"])["interaction_weight"].sum()
    future = events[
        (events["event_date"] >= as_of)
        & (events["event_date"] < as_of + dt.timedelta(days=7))
        & (events["event_type"] == "purchase")
    ]
    bought = set(zip(future["user_id"], future["product_id"], strict=True))
    snap = features.where(features.as_of_date == as_of).toPandas().set_index(["user_id", "product_id"])
    assert set(snap.index) == set(expected_score.index)  # candidates: pairs active in the lookback window
    assert (snap["interaction_score"] == expected_score.reindex(snap.index)).all()
    assert (snap["days_since_last_interaction"] >= 1).all()
    assert snap["converted"].to_dict() == {k: k in bought for k in snap.index}


def test_no_feature_can_see_events_on_or_after_the_snapshot(spark, built, run_dbt, dbt_target_path) -> None:  # type: ignore[no-untyped-def]
    """Delete every event on or after a snapshot date, rerun the compiled SQL of the mart's features, its
    labels and their input (ml_user_item_daily) on what is left: the features must not move, the labels must.

    A feature that read anything from as_of_date onwards (the label window included) would change. The SQL
    is the full build's (every snapshot computed), compiled here: any dbt command after the build (`docs
    generate` in an earlier test) compiles the incremental variant, which computes only the newest snapshots.
    """
    import re

    from lakehouse_ml.features import FEATURES, KEY_COLUMNS

    models = ("ml_user_item_daily", "ml_user_item_feature_snapshots", "ml_user_item_labels")
    run_dbt("compile", "--full-refresh", "--select", *models)
    daily, compiled, labels = (next(dbt_target_path.glob(f"compiled/**/{model}.sql")).read_text() for model in models)
    assert all("this_run" not in sql for sql in (daily, compiled, labels))  # the full build's variants
    events, pair_days = re.compile(r"`?gold`?\.`?fct_events`?"), re.compile(r"`?ml`?\.`?ml_user_item_daily`?")
    assert len(events.findall(daily)) == 1 and len(pair_days.findall(compiled)) == 1
    assert len(pair_days.findall(labels)) == 1
    dates = sorted(
        r.as_of_date for r in spark.table("ml.ml_user_item_features").select("as_of_date").distinct().collect()
    )
    as_of = dates[len(dates) // 2]
    spark.table("gold.fct_events").where(f"event_date < date'{as_of}'").createOrReplaceTempView("events_before_as_of")
    removed = spark.table("gold.fct_events").where(f"event_date >= date'{as_of}'").count()
    assert removed > 1000  # a real cut: the label window and everything after it are gone
    # the three models on the events before the snapshot only: the pair days, then the features and the
    # labels on those
    spark.sql(events.sub("events_before_as_of", daily)).createOrReplaceTempView("pair_days_before_as_of")
    blind = spark.sql(pair_days.sub("pair_days_before_as_of", compiled)).where(f"as_of_date = date'{as_of}'")
    full = spark.table("ml.ml_user_item_feature_snapshots").where(f"as_of_date = date'{as_of}'")
    columns = [*KEY_COLUMNS, *FEATURES]
    got = blind.select(columns).toPandas().sort_values(KEY_COLUMNS).reset_index(drop=True)
    want = full.select(columns).toPandas().sort_values(KEY_COLUMNS).reset_index(drop=True)
    assert len(want) > 100
    pd.testing.assert_frame_equal(got, want, check_exact=False, rtol=1e-9)
    # only the label moved: no purchase is left in the snapshot's window
    blind_labels = spark.sql(pair_days.sub("pair_days_before_as_of", labels)).where(f"as_of_date = date'{as_of}'")
    converted = spark.table("ml.ml_user_item_features").where(f"as_of_date = date'{as_of}' and converted")
    assert blind_labels.count() == 0 < converted.count()


def test_training_run_registered_and_promoted(spark, built) -> None:  # type: ignore[no-untyped-def]
    runs = spark.table("ml.ml_conversion_training_runs").toPandas()
    assert len(runs) == 1
    run = runs.iloc[0]
    assert bool(run["promoted"]) and run["champion_version_before"] is None
    assert 0.5 < run["roc_auc"] <= 1.0
    assert run["train_to"] < run["valid_date"]
    assert {"baseline_lr3_roc_auc", "baseline_prior_roc_auc", "pr_auc", "brier", "lift_top_decile"} <= set(runs)


def test_python_models_receive_every_config_value_they_read(built, dbt_target_path) -> None:  # type: ignore[no-untyped-def]
    """dbt passes a Python model only the config values whose `dbt.config.meta_get("...")` calls it finds
    when parsing, and it misses calls nested in other expressions (wrapped in `int(... or 0)` a call reads
    None): every key a model reads must be one dbt found."""
    import json
    import re

    manifest = json.loads((dbt_target_path / "manifest.json").read_text())
    read_keys = 0
    for node in manifest["nodes"].values():
        if node["resource_type"] == "model" and node["language"] == "python":
            read = set(re.findall(r"meta_get\(\s*[\"']([^\"']+)", node["raw_code"]))
            assert read <= set(node["config"].get("meta_keys_used") or []), node["name"]
            read_keys += len(read)
    assert read_keys >= 10


def test_predictions_are_probabilities_from_the_champion(spark, built) -> None:  # type: ignore[no-untyped-def]
    import mlflow

    from lakehouse_ml.registry import champion_version, configure

    configure()
    preds = spark.table("ml.ml_conversion_predictions").toPandas()
    run = spark.table("ml.ml_conversion_training_runs").toPandas().iloc[0]
    assert preds["probability"].between(0, 1).all()
    assert preds["probability"].nunique() > 10  # probabilities, not class labels
    assert set(preds["model_version"]) == {champion_version(run["model_name"])}
    assert set(preds["run_id"]) == {run["run_id"]}
    # the latest snapshot, and the snapshots after the champion's training window (the validation one)
    features = spark.table("ml.ml_user_item_features").select("as_of_date").distinct().toPandas()["as_of_date"]
    assert set(preds["as_of_date"]) == {d for d in features if d > run["train_to"]}
    assert max(preds["as_of_date"]) == max(features) and preds["as_of_date"].nunique() >= 2
    for _, snapshot in preds.groupby("as_of_date"):
        assert sorted(snapshot["probability_decile"].unique()) == list(range(1, 11))
        top = snapshot.sort_values("probability_rank").iloc[0]
        assert top["probability"] == snapshot["probability"].max()
    assert mlflow.get_run(run["run_id"]).data.metrics["roc_auc"] == pytest.approx(run["roc_auc"])


def test_targeting_list_is_the_top_of_the_predictions(spark, built) -> None:  # type: ignore[no-untyped-def]
    preds = spark.table("ml.ml_conversion_predictions").toPandas()
    latest = preds["as_of_date"].max()
    preds = preds[preds["as_of_date"] == latest]
    targets = spark.table("ml.ml_targeting_daily").toPandas()
    targets = targets[targets["as_of_date"] == latest].sort_values("probability_rank")
    top = preds.sort_values("probability_rank").head(1000)
    assert len(targets) == len(top) > 0
    assert targets["probability_rank"].tolist() == top["probability_rank"].tolist()
    assert (targets["probability"].to_numpy() == top["probability"].to_numpy()).all()
    assert targets["brand"].notna().any() and targets["category_code"].notna().any()  # product attributes joined


def test_monitoring_meets_predictions_with_their_labels(spark, built) -> None:  # type: ignore[no-untyped-def]
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
    drift = spark.table("ml.ml_feature_drift").toPandas()
    assert set(drift["as_of_date"]) == set(preds["as_of_date"])
    assert drift.groupby("as_of_date")["feature_name"].nunique().eq(7).all()
    assert (drift["psi"] >= 0).all()
    # the reference: each scoring version profiled once, every bucket of every feature, shares adding to 1
    profile = spark.table("ml.ml_feature_training_profile").toPandas()
    assert set(profile["model_version"]) == set(preds["model_version"])
    per_feature = profile.groupby(["model_version", "feature_name"])
    assert per_feature["bucket"].apply(lambda buckets: sorted(buckets) == list(range(-1, 10))).all()
    assert per_feature["training_share"].sum().sub(1).abs().lt(1e-9).all()


def test_feature_drift_computes_only_new_scorings_and_equals_a_rebuild(spark, built, run_dbt) -> None:  # type: ignore[no-untyped-def]
    """The drift table is incremental: a run computes the snapshots scored since its last run (here the
    latest, which every scoring run scores again) and merges them; the other snapshots' rows are not read
    again, and the table then equals a full rebuild."""
    drift = "ml.ml_feature_drift"
    columns = ["as_of_date", "model_version", "feature_name", "psi", "psi_status", "scored_at"]

    def rows() -> list[tuple]:
        return sorted(tuple(r) for r in spark.table(drift).select(*columns).collect())

    dates = sorted({r[0] for r in rows()})
    assert len(dates) >= 2
    older, latest = dates[0], dates[-1]
    scored_before = {r[0]: r[5] for r in rows()}
    # an older snapshot's rows marked: a run that read them again would overwrite the mark
    spark.sql(f"update {drift} set psi_status = 'not read again' where as_of_date = date'{older}'")
    run_dbt("run", "--select", "ml_conversion_predictions", "ml_feature_drift")
    incremental = rows()
    scored_now = spark.sql(
        f"select max(scored_at) from ml.ml_conversion_predictions where as_of_date = date'{latest}'"
    ).first()[0]
    assert scored_now > scored_before[latest]
    assert {r[5] for r in incremental if r[0] == latest} == {scored_now}  # the new scoring, computed
    assert {r[4] for r in incremental if r[0] == older} == {"not read again"}
    assert all(r[5] == scored_before[r[0]] for r in incremental if r[0] != latest)
    run_dbt("run", "--full-refresh", "--select", "ml_feature_drift")
    rebuilt = rows()
    assert len(rebuilt) == len(incremental) == 7 * len(dates)
    kept = [r for r in incremental if r[0] != older]
    again = [r for r in rebuilt if r[0] != older]
    assert [r[:3] + r[4:] for r in again] == [r[:3] + r[4:] for r in kept]
    assert [r[3] for r in again] == pytest.approx([r[3] for r in kept])  # psi (sums in any order)
    assert {r[4] for r in rebuilt} <= {"stable", "watch", "shifted"}


def test_predictions_overwrite_only_the_snapshots_scored_and_survive_repartitioning(spark, built, run_dbt) -> None:  # type: ignore[no-untyped-def]
    """Locally the predictions are partitioned by as_of_date and a scoring run overwrites the partitions of
    the snapshots it scores (the latest, re-scored every run): the other snapshots' files are not rewritten.
    A table an earlier version built unpartitioned is repartitioned in place first, its rows kept."""
    preds = "ml.ml_conversion_predictions"

    def partition_columns() -> list[str]:
        return list(spark.sql(f"describe detail {preds}").first()["partitionColumns"])

    def counts() -> dict:
        return {r[0]: r[1] for r in spark.sql(f"select as_of_date, count(*) from {preds} group by 1").collect()}

    assert partition_columns() == ["as_of_date"]
    before = counts()
    older, latest = min(before), max(before)
    assert older < latest
    original_run_id = spark.sql(f"select max(run_id) from {preds}").first()[0]
    # an older snapshot's rows marked (a run that rewrote them would lose the mark), then the table made
    # unpartitioned, as the merge-based version of the model built it
    spark.sql(f"update {preds} set run_id = 'not rewritten' where as_of_date = date'{older}'")
    spark.sql(f"create or replace table {preds} using delta as select * from {preds}")
    assert partition_columns() == []
    scored_before = spark.sql(f"select max(scored_at) from {preds} where as_of_date = date'{latest}'").first()[0]
    try:
        run_dbt("run", "--select", "ml_conversion_predictions")
        assert partition_columns() == ["as_of_date"]
        assert counts() == before  # every snapshot kept, the re-scored one replaced whole (no duplicates)
        marked = spark.sql(f"select distinct run_id from {preds} where as_of_date = date'{older}'").collect()
        assert [r[0] for r in marked] == ["not rewritten"]
        scored_now = spark.sql(f"select min(scored_at) from {preds} where as_of_date = date'{latest}'").first()[0]
        assert scored_now > scored_before
        last_write = spark.sql(f"describe history {preds} limit 1").first()
        assert last_write["operation"] == "WRITE"
        assert int(last_write["operationMetrics"]["numOutputRows"]) == before[latest]
    finally:
        spark.sql(f"update {preds} set run_id = '{original_run_id}' where run_id = 'not rewritten'")


def test_training_profile_is_the_deciles_of_the_training_pairs_or_of_their_draw(spark, built, run_dbt) -> None:  # type: ignore[no-untyped-def]
    """Each bucket's share is recomputed here from the mart's training pairs and the stored edges (-1 for
    nulls, else the number of edges below the value). Under var drift_profile_max_pairs every pair counts;
    above it, the pairs whose key hashes below a threshold: the draw training samples with."""
    import numpy as np
    from pyspark.sql import functions as F

    from lakehouse_ml.pipeline import DRAW_BUCKETS, pair_draw_bucket

    table = "ml.ml_feature_training_profile"
    features = list(spark.table(table).select("feature_name").distinct().toPandas()["feature_name"])
    runs = spark.table("ml.ml_conversion_training_runs").select("model_version", "train_from", "train_to")

    def check(profile: pd.DataFrame, cap: int = 0) -> None:
        for version, rows in profile.groupby("model_version"):
            run = runs.where(F.col("model_version") == version).first()
            window = spark.table("ml.ml_user_item_features").where(
                F.col("as_of_date").between(run.train_from, run.train_to)
            )
            pairs = window.count()
            assert (rows["training_pairs"] == pairs).all()
            if cap:
                window = window.where(pair_draw_bucket() < int(DRAW_BUCKETS * (cap / pairs)) + 1)
            values = window.select(*features).toPandas()
            assert 0 < len(values) < pairs if cap else len(values) == pairs
            for feature, buckets in rows.groupby("feature_name"):
                edges = np.asarray(buckets["decile_edges"].iloc[0], dtype=float)
                column = values[feature].astype(float).to_numpy()
                expected = np.where(np.isnan(column), -1, (column[:, None] > edges[None, :]).sum(axis=1))
                shares = pd.Series(expected).value_counts(normalize=True).reindex(range(-1, 10), fill_value=0.0)
                assert (buckets["training_values"] == len(values)).all()
                stored = buckets.set_index("bucket")["training_share"].sort_index()
                assert stored.to_numpy() == pytest.approx(shares.to_numpy(), abs=1e-12)

    whole = spark.table(table).toPandas()
    check(whole)
    cap = int(whole["training_pairs"].min()) // 4
    try:
        capped = f"{{drift_profile_max_pairs: {cap}}}"
        run_dbt("run", "--full-refresh", "--select", "ml_feature_training_profile", "--vars", capped)
        check(spark.table(table).toPandas(), cap)
    finally:
        run_dbt("run", "--full-refresh", "--select", "ml_feature_training_profile")
    rebuilt = spark.table(table).toPandas()
    key = ["model_version", "feature_name", "bucket"]
    assert rebuilt.sort_values(key)[["training_values", "training_share"]].to_numpy().tolist() == (
        whole.sort_values(key)[["training_values", "training_share"]].to_numpy().tolist()
    )


def _fingerprints(spark) -> dict[str, tuple[int, int]]:  # type: ignore[no-untyped-def]
    """Row count and an order-independent content checksum of every Bronze, Silver and Gold table and the
    feature mart (the ML run log and predictions carry run times by design)."""
    from lakehouse.reliability import fingerprints

    return fingerprints(spark, ("bronze", "silver", "gold", "ml"))


def test_rebuild_changes_no_table_and_keeps_the_champion(spark, built, run_dbt) -> None:  # type: ignore[no-untyped-def]
    """Idempotency: a second `dbt build` on the same landing zone leaves every table's content as it was and
    trains nothing; a retrain asked for on the same data does not beat the champion."""
    before = _fingerprints(spark)
    preds_before = spark.table("ml.ml_conversion_predictions").count()
    run_dbt("build")
    after = _fingerprints(spark)
    assert len(before) >= 30
    assert {k: v for k, v in after.items() if before.get(k) != v} == {}
    # no new labelled day: no retraining (the champion keeps scoring)
    assert spark.table("ml.ml_conversion_training_runs").count() == 1
    assert spark.table("ml.ml_conversion_predictions").count() == preds_before  # replaced, not appended
    run_dbt("run", "--select", "ml_conversion_training_runs", "--vars", "{ml_retrain: true}")  # asked for
    runs = spark.table("ml.ml_conversion_training_runs").orderBy("trained_at").toPandas()
    assert len(runs) == 2
    second = runs.iloc[1]
    # same data, same validation snapshot: the candidate does not beat the champion, so no promotion
    assert second["champion_version_before"] == runs.iloc[0]["model_version"]
    assert second["champion_roc_auc_before"] == pytest.approx(runs.iloc[0]["roc_auc"])
    assert not bool(second["promoted"])


DEFECT_LINES = [
    "event_time,event_type,product_id,category_id,category_code,brand,price,user_id,user_session",
    "2019-10-05 10:00:00 UTC,view,1000001,2053013552000000001,electronics.smartphone,samsung,100.00,599000001,{s}",
    "2019-10-05 10:00:00 UTC,view,1000001,2053013552000000001,electronics.smartphone,samsung,100.00,599000001,{s}",
    "2019-10-05 10:00:02 UTC,wishlist,1000001,2053013552000000001,electronics.smartphone,samsung,100.00,599000001,{s}",
    "2019-10-05 10:00:03 UTC,view,1000001,2053013552000000001,,,100.00,,{s}",
    "2019-10-05 10:00:04 UTC,view,1000002,2053013552000000001,,,0,599000001,{s}",
    "2019-10-05 10:00:05 UTC,view,1000003,2053013552000000001,,,-5.00,599000001,{s}",
    "2031-01-01 00:00:00 UTC,view,1000001,2053013552000000001,,,100.00,599000001,{s}",
    "2018-06-01 00:00:00 UTC,view,1000001,2053013552000000001,,,100.00,599000001,{s}",
    "garbage line without any separators",
    "not-a-time,view,1000001,2053013552000000001,,,100.00,599000001,{s}",
    # three valid events delivered without a session id: 10 minutes apart, then 40 minutes later
    "2019-10-05 11:00:00 UTC,view,1000004,2053013552000000001,,,10.00,599000002,",
    "2019-10-05 11:10:00 UTC,cart,1000004,2053013552000000001,,,10.00,599000002,",
    "2019-10-05 11:50:00 UTC,view,1000005,2053013552000000001,,,12.00,599000002,",
    "2019-10-05 10:00:09 UTC,view,10000",
]
EXPECTED_REASONS = {
    "unknown_event_type": 1,
    "missing_user_id": 1,
    "non_positive_price": 2,
    "future_event_time": 1,
    "before_shop_opened": 1,
    "malformed_line": 2,
    "invalid_event_time": 1,
}


# Bronze and Silver of the event sources, and the invariant (not Gold: a partial build leaves it stale)
SILVER_EVENTS = (
    "path:python_models/bronze path:models/bronze path:models/staging path:models/intermediate "
    "assert_bronze_reconciles_with_silver"
)
# these batches are defects on purpose, most of their rows quarantined: the quarantine-share gate (which
# would rightly stop Gold for such a delivery) is lifted for them; the reliability report shows it firing
DEFECT_BATCH_VARS = ("--vars", "{max_quarantine_share: 1}")


def test_defective_file_lands_in_quarantine_with_reasons(spark, built, run_dbt) -> None:  # type: ignore[no-untyped-def]
    """CRLF endings, a truncated last line and one row per defect class: each row is accounted for."""
    from lakehouse.paths import lakehouse_paths

    session = "5d0c6c2e-8f1e-4a57-9b0e-3f7c2d9a1b11"
    text = "\r\n".join(line.format(s=session) for line in DEFECT_LINES)  # no newline after the last line
    path = lakehouse_paths().landing / "rees46" / "defects_2019-10-05.csv"
    path.write_bytes(text.encode())
    bronze_before = spark.table("bronze.brz_rees46__events").count()
    valid_before = spark.table("silver.int_events_validated").count()
    run_dbt(
        "build",
        "--select",
        SILVER_EVENTS,
        "--indirect-selection",
        "cautious",  # leave out tests that also read Gold, which this partial build does not refresh
        *DEFECT_BATCH_VARS,
    )
    assert spark.table("bronze.brz_rees46__events").count() == bronze_before + len(DEFECT_LINES) - 1
    quarantine = spark.table("silver.int_events_quarantined").where("source_file_name = 'defects_2019-10-05.csv'")
    reasons = {r.quarantine_reason: r["count"] for r in quarantine.groupBy("quarantine_reason").count().collect()}
    assert reasons == EXPECTED_REASONS
    raw = {r.raw_line for r in quarantine.where("quarantine_reason = 'malformed_line'").collect()}
    assert raw == {"garbage line without any separators", "2019-10-05 10:00:09 UTC,view,10000"}
    duplicates = spark.table("silver.int_events_duplicates").where("source_file_name = 'defects_2019-10-05.csv'")
    assert duplicates.count() == 1
    assert spark.table("silver.int_events_validated").count() == valid_before + 4
    sessions = (
        spark.table("silver.int_events_validated")
        .where("user_id = 'rees46:599000002'")
        .orderBy("event_at")
        .select("user_session_id", "is_session_derived")
        .collect()
    )
    assert all(r.is_session_derived for r in sessions)
    assert sessions[0].user_session_id == sessions[1].user_session_id != sessions[2].user_session_id
    assert sessions[0].user_session_id.startswith("derived-rees46:599000002-")


# The app's events exactly as the public RetailRocket events.csv has them (a quoted-free CSV, epoch
# milliseconds, transactions without an add-to-cart), plus one row per defect class.
APP_LINES = [
    "timestamp,visitorid,event,itemid,transactionid",
    "1570269600000,990001,view,880001,",
    "1570269600000,990001,view,880001,",  # exact duplicate
    "1570269600450,990001,view,880001,",  # the same view again within the same second
    "1570269660000,990001,transaction,880001,77001",  # a purchase with no add-to-cart before it
    "1570269670000,990001,wishlist,880001,",
    "1570269680000,,view,880001,",
    "1917340800000,990001,view,880001,",  # 2030: in the future
    "1262304000000,990001,view,880001,",  # 2010: before the app existed
    "1570269690000,990001,view,880001,,surplus",
    "yesterday,990001,view,880001,",
    "1570269700000,990002,add",  # a last line cut off mid-write, no line end
]
APP_EXPECTED_REASONS = {
    "unknown_event_type": 1,
    "missing_user_id": 1,
    "future_event_time": 1,
    "before_shop_opened": 1,
    "malformed_line": 2,
    "invalid_event_time": 1,
}


def test_public_retailrocket_files_ingest_unchanged(spark, built, run_dbt) -> None:  # type: ignore[no-untyped-def]
    """A user drops events.csv and item_properties_part1.csv (CRLF, truncated last line) into the landing."""
    from lakehouse.paths import lakehouse_paths

    folder = lakehouse_paths().landing / "retailrocket" / "public"
    folder.mkdir()
    (folder / "events.csv").write_bytes("\r\n".join(APP_LINES).encode())
    (folder / "item_properties_part1.csv").write_text(
        "timestamp,itemid,property,value\n"
        "1570000000000,880001,categoryid,7001\n"
        "1570000000000,880001,790,n120.000\n"
        "1570269650000,880001,790,n99.500\n"
        "1570000000000,880001,888,1154859 n48.000 102161\n"
    )
    bronze_before = spark.table("bronze.brz_retailrocket__events").count()
    run_dbt("build", "--select", SILVER_EVENTS, "--indirect-selection", "cautious", *DEFECT_BATCH_VARS)
    assert spark.table("bronze.brz_retailrocket__events").count() == bronze_before + len(APP_LINES) - 1
    quarantine = spark.table("silver.int_events_quarantined").where("source_file_name = 'events.csv'")
    reasons = {r.quarantine_reason: r["count"] for r in quarantine.groupBy("quarantine_reason").count().collect()}
    assert reasons == APP_EXPECTED_REASONS
    assert spark.table("silver.int_events_duplicates").where("source_file_name = 'events.csv'").count() == 2
    valid = spark.table("silver.int_events_validated").where("source_file_name = 'events.csv'").orderBy("event_at")
    rows = valid.collect()
    assert [(r.event_type, r.user_id, r.product_id) for r in rows] == [
        ("view", "retailrocket:990001", "retailrocket:880001"),
        ("purchase", "retailrocket:990001", "retailrocket:880001"),
    ]
    # the price the item had at each event's time (it changed between the view and the purchase)
    assert [float(r.price) for r in rows] == [120.0, 99.5]
    assert rows[1].transaction_id == "retailrocket:77001"
    assert rows[0].user_session_id == rows[1].user_session_id  # one derived session: a minute apart
    assert rows[0].category_id == "retailrocket:7001" and rows[0].category_code == "7001"  # not in the tree


INCREMENTAL_SILVER = (
    "stg_rees46__events stg_retailrocket__events int_events_validated int_events_quarantined int_events_duplicates"
)


def test_incremental_silver_equals_a_full_rebuild(spark, built, run_dbt) -> None:  # type: ignore[no-untyped-def]
    """A later batch re-delivers a kept event of each source and brings an app event between two of a
    user's sessions: the incremental run ranks the copies after the kept ones, merges the two sessions in
    the user's earlier events, and leaves Silver exactly as a full rebuild leaves it."""
    from lakehouse.paths import lakehouse_paths
    from lakehouse.reliability import fingerprints

    # an app user whose two consecutive derived sessions are 31-59 minutes apart
    gap = spark.sql(
        """
        select
            *,
            unix_millis(event_at) as at_ms,
            unix_millis(next_at) as next_ms,
            (unix_millis(event_at) + unix_millis(next_at)) div 2 as mid_ms
        from (
            select
                source_user_id, source_product_id, event_at, user_session_id, user_id,
                lead(event_at) over (partition by user_id order by event_at, event_id) as next_at,
                lead(user_session_id) over (partition by user_id order by event_at, event_id) as next_session
            from silver.int_events_validated
            where source_system = 'retailrocket'
        )
        where next_at between event_at + interval 31 minutes and event_at + interval 59 minutes
        order by user_id, event_at
        limit 1
        """
    ).first()
    assert gap is not None and gap.user_session_id != gap.next_session
    kept = {
        source: spark.table(f"silver.stg_{source}__events")
        .where("duplicate_rank = 1 and source_file_name not like '%defect%' and source_file_name != 'events.csv'")
        .orderBy("event_at")
        .first()
        .raw_line
        for source in ("rees46", "retailrocket")
    }
    landing = lakehouse_paths().landing
    (landing / "rees46" / "redelivered.csv").write_text(
        "event_time,event_type,product_id,category_id,category_code,brand,price,user_id,user_session\n"
        + kept["rees46"]
        + "\n"
    )
    (landing / "retailrocket" / "events_late.csv").write_text(
        "timestamp,visitorid,event,itemid,transactionid\n"
        + kept["retailrocket"]
        + "\n"
        + f"{gap.mid_ms},{gap.source_user_id},view,{gap.source_product_id},\n"
    )
    valid_before = spark.table("silver.int_events_validated").count()
    run_dbt("build", "--select", SILVER_EVENTS, "--indirect-selection", "cautious")

    duplicates = spark.table("silver.int_events_duplicates").where(
        "source_file_name in ('redelivered.csv', 'events_late.csv')"
    )
    assert sorted((r.source_system, r.duplicate_rank) for r in duplicates.collect()) == [
        ("rees46", 2),
        ("retailrocket", 2),
    ]
    assert spark.table("silver.int_events_validated").count() == valid_before + 1
    sessions = {
        r.user_session_id
        for r in spark.table("silver.int_events_validated")
        .where(f"user_id = '{gap.user_id}'")
        .where(f"unix_millis(event_at) between {gap.at_ms} and {gap.next_ms}")
        .collect()
    }
    assert len(sessions) == 1  # the earlier events of both sessions now share one

    silver = ("silver",)
    tables = set(INCREMENTAL_SILVER.split())
    incremental = {k: v for k, v in fingerprints(spark, silver).items() if k.split(".")[1] in tables}
    run_dbt("run", "--full-refresh", "--select", INCREMENTAL_SILVER)
    rebuilt = {k: v for k, v in fingerprints(spark, silver).items() if k.split(".")[1] in tables}
    assert len(incremental) == 5
    assert incremental == rebuilt


def test_catalog_changes_become_product_versions(spark, built, run_dbt) -> None:  # type: ignore[no-untyped-def]
    """SCD2: a later catalog file with a new price closes the product's version and opens a new one."""
    import json

    from lakehouse.paths import lakehouse_paths

    snapshot = spark.table("silver.snp_catalog_products")
    current = snapshot.where("dbt_valid_to is null").orderBy("product_id").first()
    assert snapshot.where(f"product_id = '{current.product_id}'").count() == 1
    change = {
        "product_id": current.source_product_id,
        "category_id": int(current.category_id.split(":")[1]),
        "category_code": current.category_code,
        "brand": "newbrand",
        "price": float(current.price) + 1.0,
        "currency": "USD",
        "updated_at": "2019-11-15T08:00:00Z",
    }
    path = lakehouse_paths().landing / "catalog" / "products_2019-11-15.jsonl"
    path.write_text(json.dumps(change) + "\n")
    run_dbt(
        "build",
        "--select",
        "brz_landing_files brz_catalog__products+",
        "--exclude",
        "path:models/marts path:python_models/ml",
    )
    versions = spark.table("silver.snp_catalog_products").where(f"product_id = '{current.product_id}'")
    rows = versions.orderBy("dbt_valid_from").collect()
    assert len(rows) == 2
    assert rows[0].dbt_valid_to == rows[1].dbt_valid_from == dt.datetime(2019, 11, 15, 8, 0)
    assert rows[1].dbt_valid_to is None and rows[1].brand == "newbrand"
    assert float(rows[1].price) == pytest.approx(float(current.price) + 1.0)
    assert spark.table("silver.snp_catalog_products").where("dbt_valid_to is null").count() == (
        spark.table("silver.int_catalog_products_current").count()
    )


def test_model_report_compares_champion_baselines_and_oracle(spark, built) -> None:  # type: ignore[no-untyped-def]
    from lakehouse.model_report import build_report
    from lakehouse_ml import oracle
    from lakehouse_ml.features import time_split
    from lakehouse_ml.oracle import render

    table, context = build_report(spark)
    assert [name.split(" ")[0] for name in table.index] == ["champion", "baseline_lr3", "baseline_prior", "oracle"]
    assert table["roc_auc"].between(0.5, 1.0).all()
    assert table.loc["oracle", "share_of_oracle_roc_auc"] == 1.0
    # every validation pair is known to the generator: the oracle's keys match Silver's namespaced keys
    features = spark.table("ml.ml_user_item_features").where("is_label_complete").toPandas()
    _, valid = time_split(features)
    truth = oracle.load_truth(built.rees46.oracle_file.parent)
    assert (oracle.oracle_probability(valid, truth, 7) > 0).all()
    assert len(valid) == context["n_rows"]
    assert "oracle" in render(table, **context)


def test_incremental_feature_mart_and_daily_aggregates_equal_a_full_rebuild(spark, built, run_dbt) -> None:  # type: ignore[no-untyped-def]
    """A new day lands with purchases that complete earlier snapshots' labels and a late view two days back:
    the daily run recomputes whole the feature snapshots whose input changed (from the day after the late
    view on, and one whose stored input fingerprint is wrong) and leaves the others as they are, recomputes
    the labels of the snapshots whose label windows the recomputed days reach and leaves the older ones, the
    daily Gold aggregates recompute the days fct_events merged, and each table is then exactly what a full
    rebuild makes of the same events. (Last in the file: it adds a day.)"""
    from pyspark.sql import functions as F

    from lakehouse.paths import lakehouse_paths
    from lakehouse.reliability import fingerprints

    mart = "ml.ml_user_item_features"  # the view: features and labels
    snapshots, labels = "ml.ml_user_item_feature_snapshots", "ml.ml_user_item_labels"
    newest = spark.table(mart).agg({"as_of_date": "max"}).first()[0]  # the day after the data ends
    last_day = newest - dt.timedelta(days=1)
    relabel_date = newest - dt.timedelta(days=5)  # features kept, label window reaches the new day
    # rees46 pairs of two snapshots, with the source's ids and product fields of their latest event
    source_columns = ["source_user_id", "source_product_id", "category_id", "category_code", "brand", "price"]
    latest = ", ".join(f"cast(max_by({c}, event_at) as string) as {c}" for c in source_columns)
    pairs = spark.sql(
        f"""
        select features.as_of_date, features.user_id, features.product_id, features.views_7d, events.*
        from {mart} as features
        inner join (
            select user_id as event_user_id, product_id as event_product_id, {latest}
            from silver.int_events_validated
            where source_system = 'rees46'
            group by user_id, product_id
        ) as events
            on features.user_id = events.event_user_id and features.product_id = events.event_product_id
        where
            features.as_of_date in (date'{relabel_date}', date'{newest}')
            and not features.converted and events.price is not null
        order by features.user_id, features.product_id
        """
    ).toPandas()
    buyers = pairs[pairs["as_of_date"] == relabel_date].head(3)
    late = pairs[pairs["as_of_date"] == newest].tail(2)
    assert len(buyers) == 3 and len(late) == 2

    def line(at: dt.datetime, kind: str, row: pd.Series, session: int) -> str:
        product = [row[c] or "" for c in ("source_product_id", "category_id", "category_code", "brand", "price")]
        session_id = f"00000000-0000-4000-8000-{session:012d}"
        return ",".join([f"{at:%Y-%m-%d %H:%M:%S} UTC", kind, *product, row["source_user_id"], session_id])

    new_day = dt.datetime.combine(newest, dt.time(9))
    lines = [line(new_day, "purchase", row, i) for i, (_, row) in enumerate(buyers.iterrows())]
    two_days_back = dt.datetime.combine(last_day - dt.timedelta(days=1), dt.time(23))
    lines += [line(two_days_back, "view", row, 10 + i) for i, (_, row) in enumerate(late.iterrows())]
    landing = lakehouse_paths().landing / "rees46"
    (landing / f"rees46_events_{newest}.csv").write_text(",".join(REES46_COLUMNS) + "\n" + "\n".join(lines) + "\n")

    before = spark.table(mart).where(f"as_of_date = date'{relabel_date}'").count()
    # the late view (two days back) changes the input of the snapshots from the day after it on; the two
    # stored snapshots before those keep their input and so their features (the run leaves them as stored).
    # Marked to tell the two apart: the first one's stored features are off by 1000 views (kept as they are
    # if it is not computed again); the second one's too, and its stored input fingerprint is wrong (so it
    # must be computed again, and the marks go)
    kept_date, refingerprinted_date = newest - dt.timedelta(days=3), newest - dt.timedelta(days=2)
    spark.sql(f"update {snapshots} set views_1d = views_1d + 1000 where as_of_date = date'{kept_date}'")
    # the labels' run recomputes the snapshots from (its newest stored one) - 9 on (3 days fct_events merges,
    # a 7-day label window): marked, the first of those loses its marks; the one before is not computed
    # again and keeps them
    untouched_date = spark.table(labels).agg({"as_of_date": "max"}).first()[0] - dt.timedelta(days=10)
    relabelled_from = untouched_date + dt.timedelta(days=1)
    spark.sql(
        f"update {labels} set purchases_in_horizon = purchases_in_horizon + 100"
        f" where as_of_date in (date'{untouched_date}', date'{relabelled_from}')"
    )
    spark.sql(
        f"update {snapshots} set views_1d = views_1d + 1000, input_fingerprint = input_fingerprint ^ 1"
        f" where as_of_date = date'{refingerprinted_date}'"
    )
    daily = (
        "ml_user_item_feature_snapshots",
        "ml_user_item_labels",
        "ml_user_item_daily",
        "agg_daily_product_stats",
        "agg_funnel_daily",
    )
    run_dbt("run", "--select", "+ml_user_item_features", *daily[3:])
    features = spark.table(mart)
    marked = {
        r.as_of_date: (r.n, r.marked)
        for r in features.where(f"as_of_date in (date'{kept_date}', date'{refingerprinted_date}')")
        .groupBy("as_of_date")
        .agg(F.count(F.lit(1)).alias("n"), F.sum((F.col("views_1d") >= 1000).cast("int")).alias("marked"))
        .collect()
    }
    assert marked[kept_date][0] > 0 and marked[kept_date][1] == marked[kept_date][0]  # every row kept as stored
    assert marked[refingerprinted_date][0] > 0 and marked[refingerprinted_date][1] == 0  # computed again
    spark.sql(f"update {snapshots} set views_1d = views_1d - 1000 where as_of_date = date'{kept_date}'")
    label_marks = {
        r.as_of_date: (r.n, r.marked)
        for r in spark.table(labels)
        .where(f"as_of_date in (date'{untouched_date}', date'{relabelled_from}')")
        .groupBy("as_of_date")
        .agg(F.count(F.lit(1)).alias("n"), F.sum((F.col("purchases_in_horizon") > 100).cast("int")).alias("marked"))
        .collect()
    }
    assert label_marks[untouched_date][0] > 0 and label_marks[untouched_date][1] == label_marks[untouched_date][0]
    assert label_marks[relabelled_from][0] > 0 and label_marks[relabelled_from][1] == 0  # computed again
    spark.sql(
        f"update {labels} set purchases_in_horizon = purchases_in_horizon - 100"
        f" where as_of_date = date'{untouched_date}'"
    )
    # the relabelled snapshot: same pairs (its features kept), the three purchases now labelled
    relabelled = features.where(f"as_of_date = date'{relabel_date}'")
    assert relabelled.count() == before
    bought = relabelled.join(spark.createDataFrame(buyers[["user_id", "product_id"]]), ["user_id", "product_id"])
    assert [r.converted for r in bought.collect()] == [True] * 3
    # the late view reached the features of the snapshots after it
    seen = features.where(f"as_of_date = date'{newest}'").join(
        spark.createDataFrame(late[["user_id", "product_id"]]), ["user_id", "product_id"]
    )
    expected = sorted((r.user_id, r.product_id, r.views_7d + 1) for r in late.itertuples())
    assert sorted((r.user_id, r.product_id, r.views_7d) for r in seen.collect()) == expected
    assert features.agg({"as_of_date": "max"}).first()[0] == newest + dt.timedelta(days=1)

    def tables() -> dict[str, tuple[int, int]]:
        return {k: v for k, v in fingerprints(spark, ("gold", "ml")).items() if k.split(".")[1] in daily}

    incremental = tables()
    assert spark.table("gold.agg_funnel_daily").where(f"event_date = date'{newest}'").count() > 0  # the new day
    run_dbt("run", "--full-refresh", "--select", *daily)
    assert tables() == incremental and len(incremental) == 5
