"""The test session's shared lakehouse: everything that changes it happens here, once, in this order.

1. Landing: generated data of both sources, years apart (web shop October 2019, app August 2015), the
   web shop's catalog, every bad-input scenario of ``lakehouse.ops.reliability`` and the public RetailRocket
   files' own quirks, all delivered in the first drop.
2. ``dbt build`` of the seeds, models and the snapshot (the tests come in step 4): the first build; then
   a retrain asked for on the same data (it must not be promoted).
3. Marks on stored rows that the next run must leave alone or rewrite, then the second drop: a new day
   (purchases that complete earlier snapshots' labels, a late view two days back), a re-delivered copy
   of an ingested file, a re-delivered event of each source, an app event between two sessions of a user,
   a catalog price change. The same build again: the incremental one; what became of each mark is kept.
4. A rerun with nothing new, a whole ``dbt build``: no table may change and nothing trains, and its every
   data test and dbt unit test checks the incrementally built state.
5. A critical gate forced to fail on the smallest selection.

Tests only read what this leaves behind (or run read-only dbt commands), so they pass in any order.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from lakehouse.datagen.generate import REES46_COLUMNS, GeneratorConfig, GeneratorResult, write_landing

# four weeks: with the purged split (a 7-day embargo) the first build still trains on a week of web
# snapshots before its validation snapshot
SAMPLE = GeneratorConfig(
    events=20_000, days=28, start_date=dt.date(2019, 10, 1), app_start_date=dt.date(2015, 8, 3), seed=7
)
SNAPSHOT_MAX_PAIRS = 2000
SNAPSHOT_MAX_CONVERTER_PAIRS = 50
# The app's events exactly as the public RetailRocket events.csv has them (epoch milliseconds, a purchase
# without an add-to-cart, 2015), with one row per defect class, CRLF line ends and a last line cut off.
APP_LINES = [
    "timestamp,visitorid,event,itemid,transactionid",
    "1439200000000,990001,view,880001,",
    "1439200000000,990001,view,880001,",  # exact duplicate
    "1439200000450,990001,view,880001,",  # the same view again within the same second
    "1439200060000,990001,transaction,880001,77001",  # a purchase with no add-to-cart before it
    "1439200070000,990001,wishlist,880001,",
    "1439200080000,,view,880001,",
    "1917340800000,990001,view,880001,",  # 2030: in the future
    "1262304000000,990001,view,880001,",  # 2010: before the app existed
    "1439200090000,990001,view,880001,,surplus",
    "yesterday,990001,view,880001,",
    "1439200200000,990003,transaction,880002,77002",  # an item with no item_properties: price unknown
    "1439200100000,990002,add",  # a last line cut off mid-write, no line end
]
APP_EXPECTED_REASONS = {
    "unknown_event_type": 1,
    "missing_user_id": 1,
    "future_event_time": 1,
    "before_shop_opened": 1,
    "malformed_line": 2,
    "invalid_event_time": 1,
}
APP_PROPERTIES = (
    "timestamp,itemid,property,value\n"
    "1439000000000,880001,categoryid,7001\n"
    "1439000000000,880001,790,n120.000\n"
    "1439200050000,880001,790,n99.500\n"
    "1439000000000,880001,888,1154859 n48.000 102161\n"
)
# the incremental models whose full rebuild must equal what the runs built (compiled and evaluated)
INCREMENTAL = (
    "brz_rees46__events",
    "brz_retailrocket__events",
    "brz_retailrocket__item_properties",
    "brz_retailrocket__category_tree",
    "brz_catalog__products",
    "int_events_ranked",
    "int_events_validated",
    "int_events_quarantined",
    "int_events_duplicates",
    "fct_events",
    "fct_sessions",
    "dim_users",
    "agg_daily_product_stats",
    "agg_funnel_daily",
    "ml_user_item_daily",
    "ml_user_item_feature_snapshots",
    "ml_user_item_labels",
)

# the columns agg_daily_product_stats gained after its first release (see the mark before the second run)
PRODUCT_DAY_COLUMNS = ("events", "first_event_at", "last_event_at", "last_event")

FIRST_RUN_FEATURES = "test_state.features_after_first_run"


@dataclass
class MainLakehouse:
    home: Path
    generated: GeneratorResult
    scenarios: list[Any]
    # (batch, path) of every delivered event file per source: batch 0 the first drop, 1 the second
    event_files: dict[str, list[tuple[int, Path]]] = field(default_factory=dict)
    second_drop: dict[str, Any] = field(default_factory=dict)
    marks: dict[str, Any] = field(default_factory=dict)
    steps: dict[str, bool] = field(default_factory=dict)
    test_results: dict[str, str] = field(default_factory=dict)
    declared_tests: set[str] = field(default_factory=set)  # every data and unit test in the manifest
    rerun: dict[str, Any] = field(default_factory=dict)
    gate: dict[str, str] = field(default_factory=dict)


def land_first_drop(home: Path) -> tuple[GeneratorResult, list[Any]]:
    from lakehouse.ops import reliability

    landing = home / "landing"
    generated = write_landing(SAMPLE, landing, home / "oracle", progress=False)
    scenarios = reliability.bad_input_scenarios()
    for sc in scenarios:
        (landing / sc.source_dir).mkdir(parents=True, exist_ok=True)
        (landing / sc.source_dir / (sc.file_name or "")).write_bytes(sc.content)
    public = landing / "retailrocket" / "public"
    public.mkdir()
    (public / "events.csv").write_bytes("\r\n".join(APP_LINES).encode())
    (public / "item_properties_part1.csv").write_text(APP_PROPERTIES)
    return generated, scenarios


def _mark_before_the_second_run(spark, house: MainLakehouse) -> None:  # type: ignore[no-untyped-def]
    """Stored rows the incremental run must keep as they are, or rewrite: each marked, to tell them apart."""
    snapshots, labels = "ml.ml_user_item_feature_snapshots", "ml.ml_user_item_labels"
    newest = spark.table(snapshots).agg({"as_of_date": "max"}).first()[0]  # the day after the web data ends
    kept, refingerprinted = newest - dt.timedelta(days=9), newest - dt.timedelta(days=10)
    # the second drop changes the snapshots whose lookback window holds its late view (two days before the
    # data's last day), the label-complete ones whose label window holds it (their draw keeps their
    # converters) and the one whose label window its new day closes: all from 8 days before the newest on.
    # The one before those keeps its stored features (marked: +1000 views, kept as stored); the one before
    # it is marked too, and its stored input fingerprint made wrong, so it must be computed again and lose
    # the mark
    spark.sql(f"update {snapshots} set views_1d = views_1d + 1000 where as_of_date = date'{kept}'")
    spark.sql(
        f"update {snapshots} set views_1d = views_1d + 1000, input_fingerprint = input_fingerprint ^ 1"
        f" where as_of_date = date'{refingerprinted}'"
    )
    # a snapshot's labels are computed again when a day of its window [as_of_date, +7) changed: the drop's
    # late views two days before the data's last day reach the windows from 8 days before the newest
    # snapshot on (that one loses its mark); the one before keeps it
    untouched, relabelled = newest - dt.timedelta(days=9), newest - dt.timedelta(days=8)
    spark.sql(
        f"update {labels} set purchases_in_horizon = purchases_in_horizon + 100"
        f" where as_of_date in (date'{untouched}', date'{relabelled}')"
    )
    # drift and predictions: an older scored snapshot is not computed again (only the new scorings are)
    preds = "ml.ml_conversion_predictions"
    # the oldest scored snapshot that is no source's latest (each source's latest is scored again every run)
    older = spark.sql(
        f"select min(as_of_date) from {preds} where as_of_date not in"
        " (select date_add(last_event_date, 1) from gold.dim_sources)"
    ).first()[0]
    house.marks["drift_statuses"] = {
        r.feature_name: r.psi_status
        for r in spark.sql(
            f"select feature_name, psi_status from ml.ml_feature_drift where as_of_date = date'{older}'"
        ).collect()
    }
    spark.sql(f"update ml.ml_feature_drift set psi_status = 'not read again' where as_of_date = date'{older}'")
    spark.sql(f"update {preds} set run_id = 'not rewritten' where as_of_date = date'{older}'")
    # a lakehouse built before agg_daily_product_stats had these columns: its next run recomputes every day
    # (the pre-hook recompute_days_without_columns), so old and new days hold the same columns, filled
    product_days = "gold.agg_daily_product_stats"
    # (the whole table: dbt's insert_overwrite leaves the session's partition overwrite mode dynamic)
    spark.table(product_days).drop(*PRODUCT_DAY_COLUMNS).write.format("delta").mode("overwrite").options(
        overwriteSchema="true", partitionOverwriteMode="static"
    ).partitionBy("event_date").saveAsTable(product_days)
    house.marks.update(
        kept=kept,
        refingerprinted=refingerprinted,
        untouched=untouched,
        relabelled=relabelled,
        older_scored=older,
        newest_before=newest,
        latest_scored_at=spark.sql(f"select max(scored_at) from {preds}").first()[0],
        predictions_before=spark.sql(f"select as_of_date, count(*) as n from {preds} group by 1").toPandas(),
    )


def _read_marks(spark, house: MainLakehouse) -> None:  # type: ignore[no-untyped-def]
    """What the incremental run left of each mark, then the marks taken off again."""
    m = house.marks
    snapshots, labels = "ml.ml_user_item_feature_snapshots", "ml.ml_user_item_labels"
    product_days = "gold.agg_daily_product_stats"

    def share(table: str, date: dt.date, condition: str) -> tuple[int, int]:
        row = spark.sql(f"select count(*), count_if({condition}) from {table} where as_of_date = date'{date}'").first()
        return int(row[0]), int(row[1])

    m["kept_marked"] = share(snapshots, m["kept"], "views_1d >= 1000")
    m["refingerprinted_marked"] = share(snapshots, m["refingerprinted"], "views_1d >= 1000")
    m["untouched_marked"] = share(labels, m["untouched"], "purchases_in_horizon > 100")
    m["relabelled_marked"] = share(labels, m["relabelled"], "purchases_in_horizon > 100")
    m["drift_older_statuses"] = {
        r[0]
        for r in spark.sql(
            f"select psi_status from ml.ml_feature_drift where as_of_date = date'{m['older_scored']}'"
        ).collect()
    }
    m["predictions_older_run_ids"] = {
        r[0]
        for r in spark.sql(
            f"select distinct run_id from ml.ml_conversion_predictions where as_of_date = date'{m['older_scored']}'"
        ).collect()
    }
    m["predictions_after"] = spark.sql(
        "select as_of_date, count(*) as n, max(scored_at) as scored_at from ml.ml_conversion_predictions group by 1"
    ).toPandas()
    m["last_write"] = spark.sql("describe history ml.ml_conversion_predictions limit 1").first().asDict()
    filled = ", ".join(f"count({c})" for c in PRODUCT_DAY_COLUMNS)
    m["product_days_upgraded"] = tuple(spark.sql(f"select count(*), {filled} from {product_days}").first())
    spark.sql(f"update {snapshots} set views_1d = views_1d - 1000 where as_of_date = date'{m['kept']}'")
    spark.sql(
        f"update {labels} set purchases_in_horizon = purchases_in_horizon - 100"
        f" where as_of_date = date'{m['untouched']}'"
    )
    run_id = spark.sql("select max(run_id) from ml.ml_conversion_predictions where run_id != 'not rewritten'").first()[
        0
    ]
    spark.sql(f"update ml.ml_conversion_predictions set run_id = '{run_id}' where run_id = 'not rewritten'")
    for feature, status in m["drift_statuses"].items():
        spark.sql(
            f"update ml.ml_feature_drift set psi_status = '{status}'"
            f" where as_of_date = date'{m['older_scored']}' and feature_name = '{feature}'"
        )


def land_second_drop(spark, house: MainLakehouse) -> None:  # type: ignore[no-untyped-def]
    """The second delivery (see the module's docstring), built from what the first build holds."""
    landing = house.home / "landing"
    mart = "ml.ml_user_item_features"
    newest = house.marks["newest_before"]
    relabel_date = newest - dt.timedelta(days=5)  # its label window reaches the new day
    last_day = newest - dt.timedelta(days=1)
    source_columns = ["source_user_id", "source_product_id", "category_id", "category_code", "brand", "price"]
    latest = ", ".join(f"cast(max_by({c}, event_at) as string) as {c}" for c in source_columns)
    pairs = spark.sql(
        f"""
        select features.as_of_date, features.user_id, features.product_id, features.views_7d, events.*
        from {mart} as features
        inner join (
            select user_id as event_user_id, product_id as event_product_id, {latest}
            from silver.int_events_validated
            where source_system = 'rees46' and source_file_name like 'rees46_events_%'
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
    assert len(buyers) == 3 and len(late) == 2, (newest, relabel_date, len(pairs), pairs["as_of_date"].value_counts())

    def line(at: dt.datetime, kind: str, row: pd.Series, session: int) -> str:
        product = [row[c] or "" for c in ("source_product_id", "category_id", "category_code", "brand", "price")]
        session_id = f"00000000-0000-4000-8000-{session:012d}"
        return ",".join([f"{at:%Y-%m-%d %H:%M:%S} UTC", kind, *product, row["source_user_id"], session_id])

    new_day = dt.datetime.combine(newest, dt.time(9))
    lines = [line(new_day, "purchase", row, i) for i, (_, row) in enumerate(buyers.iterrows())]
    two_days_back = dt.datetime.combine(last_day - dt.timedelta(days=1), dt.time(23))
    lines += [line(two_days_back, "view", row, 10 + i) for i, (_, row) in enumerate(late.iterrows())]
    new_file = landing / "rees46" / f"rees46_drop2_{newest}.csv"
    new_file.write_text(",".join(REES46_COLUMNS) + "\n" + "\n".join(lines) + "\n")

    # an app user whose two consecutive derived sessions are 31-59 minutes apart: an event between them
    gap = spark.sql(
        """
        select *, (unix_millis(event_at) + unix_millis(next_at)) div 2 as mid_ms,
            unix_millis(event_at) as at_ms, unix_millis(next_at) as next_ms
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
    kept = {
        source: spark.table("silver.int_events_ranked")
        .where(f"source_system = '{source}' and duplicate_rank = 1 and source_file_name like '{prefix}%'")
        .orderBy("event_at", "raw_line")
        .first()
        .raw_line
        for source, prefix in (("rees46", "rees46_events_"), ("retailrocket", "events_2"))
    }
    (landing / "rees46" / "redelivered.csv").write_text(",".join(REES46_COLUMNS) + "\n" + kept["rees46"] + "\n")
    (landing / "retailrocket" / "events_late.csv").write_text(
        "timestamp,visitorid,event,itemid,transactionid\n"
        + kept["retailrocket"]
        + "\n"
        + f"{gap.mid_ms},{gap.source_user_id},view,{gap.source_product_id},\n"
    )
    # a copy of an ingested file, delivered again into another folder: nothing of it may be ingested twice
    base = sorted((landing / "rees46").glob("rees46_events_2019-10-0*.csv"))[0]
    copy = landing / "rees46" / "redelivery-2" / base.name
    copy.parent.mkdir()
    copy.write_bytes(base.read_bytes())
    # the catalog: a product's price and brand change
    snapshot = spark.table("silver.snp_catalog_products")
    current = snapshot.where("dbt_valid_to is null").orderBy("product_id").first()
    change = {
        "product_id": current.source_product_id,
        "category_id": int(current.category_id.split(":")[1]),
        "category_code": current.category_code,
        "brand": "newbrand",
        "price": float(current.price) + 1.0,
        "currency": "USD",
        "updated_at": "2019-11-15T08:00:00Z",
    }
    (landing / "catalog" / "products_2019-11-15.jsonl").write_text(json.dumps(change) + "\n")
    house.second_drop.update(
        buyers=buyers,
        late=late,
        relabel_date=relabel_date,
        gap=gap.asDict(),
        new_file=new_file,
        copy=copy,
        copy_lines=len(base.read_text().splitlines()) - 1,
        catalog_product=current.asDict(),
        valid_before=spark.table("silver.int_events_validated").count(),
        bronze_before=spark.table("bronze.brz_rees46__events").count(),
    )
    house.event_files["rees46"].append((1, new_file))
    house.event_files["rees46"].append((1, landing / "rees46" / "redelivered.csv"))
    house.event_files["retailrocket"].append((1, landing / "retailrocket" / "events_late.csv"))


def _test_statuses(target: Path) -> dict[str, str]:
    results = json.loads((target / "run_results.json").read_text())["results"]
    return {r["unique_id"]: r["status"] for r in results}


def build(home: Path, spark, run, target: Path) -> MainLakehouse:  # type: ignore[no-untyped-def]
    """Steps 1-5 of the module's docstring; ``run`` is the session's dbt runner (returns success)."""
    from lakehouse.ops.reliability import fingerprints

    # caps on the feature mart's snapshots this small sample exceeds on most web days and few app days, so
    # the lakehouse holds drawn and whole snapshots in both strata; set for the rest of the session, since
    # the tests compile and compare the mart's SQL against what these runs stored
    os.environ["LAKEHOUSE_ML_SNAPSHOT_MAX_PAIRS"] = str(SNAPSHOT_MAX_PAIRS)
    os.environ["LAKEHOUSE_ML_SNAPSHOT_MAX_CONVERTER_PAIRS"] = str(SNAPSHOT_MAX_CONVERTER_PAIRS)
    generated, scenarios = land_first_drop(home)
    house = MainLakehouse(home, generated, scenarios)
    landing = home / "landing"
    house.event_files = {
        "rees46": [(0, p) for p in sorted((landing / "rees46").glob("*.csv*")) if p.parent == landing / "rees46"],
        "retailrocket": [(0, p) for p in sorted((landing / "retailrocket").rglob("events*.csv"))],
    }
    models = (
        "build",
        "--exclude-resource-type",
        "test",
        "--exclude-resource-type",
        "unit_test",
    )  # and seeds, snapshots
    house.steps["first run"] = run(*models)
    # the mart as the first build left it: what the training profile was computed from (the second drop
    # changes later app snapshots inside the training window)
    spark.sql("create schema if not exists test_state")
    spark.sql(f"create or replace table {FIRST_RUN_FEATURES} as select * from ml.ml_user_item_features")
    # a retrain asked for on the data the champion was trained on: it must not be promoted
    house.steps["retrain"] = run("run", "--select", "ml_conversion_training_runs", "--vars", "{ml_retrain: true}")
    _mark_before_the_second_run(spark, house)
    land_second_drop(spark, house)
    house.steps["second run"] = run(*models)
    _read_marks(spark, house)
    before = fingerprints(spark, ("bronze", "silver", "gold", "ml"))
    runs_before = spark.table("ml.ml_conversion_training_runs").count()
    preds_before = spark.table("ml.ml_conversion_predictions").count()
    # the rerun with nothing new is a whole `dbt build`: it changes no table (checked below), so its data
    # tests and unit tests check the state the incremental run left, in the same invocation
    house.steps["rerun"] = run("build")
    house.rerun.update(
        before=before,
        after=fingerprints(spark, ("bronze", "silver", "gold", "ml")),
        training_runs=(runs_before, spark.table("ml.ml_conversion_training_runs").count()),
        predictions=(preds_before, spark.table("ml.ml_conversion_predictions").count()),
    )
    # the tests' verdicts, and the on-run-end hook's (an operation)
    statuses = _test_statuses(target)
    house.test_results = {k: v for k, v in statuses.items() if k.startswith(("test.", "unit_test.", "operation."))}
    # what the project declares, from the manifest this very step wrote (later commands rewrite it); the
    # generic tests' fixture tests are in it too, disabled (they run only with var test_fixtures)
    manifest = json.loads((target / "manifest.json").read_text())
    house.declared_tests = {
        k
        for k, n in (*manifest["nodes"].items(), *manifest["unit_tests"].items())
        if n["resource_type"] in ("test", "unit_test") and n["config"].get("enabled", True)
    }
    # the critical gate forced to fail: the models after it are skipped, nothing is written
    gate_target = target / "gate"
    run(
        "build",
        "--select",
        "assert_quarantine_share_within_limit int_events_validated fct_events",
        "--vars",
        "{max_quarantine_share: -1}",  # a limit no batch meets, whatever its quarantined share
        "--target-path",
        str(gate_target),
        expect_success=False,
    )
    house.gate = {k.split(".")[2]: v for k, v in _test_statuses(gate_target).items()}
    return house
