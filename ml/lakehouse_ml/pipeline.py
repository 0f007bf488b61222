"""Drivers called by the dbt Python models: thin glue between Spark tables, training and MLflow."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd

from lakehouse_ml import plots, registry
from lakehouse_ml.features import (
    FEATURES,
    KEY_COLUMNS,
    LABEL,
    FeatureContractError,
    check_contract,
    feature_matrix,
    split_dates,
    stratified_sample,
    time_split,
)
from lakehouse_ml.metrics import evaluate
from lakehouse_ml.train import prior_baseline, three_feature_baseline, train_model

# the training-runs table, typed explicitly (a first run has no champion yet: all-null columns must not
# be inferred as a void type)
RUN_SCHEMA = {
    "run_id": "string",
    "model_name": "string",
    "model_version": "string",
    "trained_at": "timestamp",
    "train_from": "date",
    "train_to": "date",
    "valid_date": "date",
    "n_train": "bigint",
    "n_valid": "bigint",
    "valid_positive_rate": "double",
    "roc_auc": "double",
    "pr_auc": "double",
    "log_loss": "double",
    "brier": "double",
    "lift_top_decile": "double",
    "baseline_lr3_roc_auc": "double",
    "baseline_prior_roc_auc": "double",
    "champion_version_before": "string",
    "champion_roc_auc_before": "double",
    "promoted": "boolean",
    "n_features": "int",
    "features_left_out": "string",
    "embargo_days": "int",
}
RUN_COLUMNS = list(RUN_SCHEMA)
RUN_SCHEMA_DDL = ", ".join(f"{name} {kind}" for name, kind in RUN_SCHEMA.items())


def _permutation_importance(model: object, x: pd.DataFrame, y: np.ndarray, seed: int = 0) -> np.ndarray:
    from sklearn.inspection import permutation_importance

    n = min(len(x), 20_000)
    idx = np.random.default_rng(seed).choice(len(x), size=n, replace=False)
    result = permutation_importance(
        model, x.iloc[idx], y[idx], scoring="roc_auc", n_repeats=3, random_state=seed, n_jobs=1
    )
    return result.importances_mean


def local_spill_dir(spark) -> str | None:
    """Where a local Spark session can hand a result to this Python process as files, or None.

    Only a ``local[...]`` master outside Databricks qualifies: there Spark's tasks and this process share
    one file system. On a Databricks cluster (single-node ones run a local master too) results travel the
    usual way, through the driver, which is sized for it.
    """
    if os.environ.get("DATABRICKS_RUNTIME_VERSION"):
        return None
    try:
        master = spark.conf.get("spark.master", "")
    except Exception:  # Spark Connect sessions do not expose it
        return None
    if not str(master).startswith("local"):
        return None
    return os.environ.get("LAKEHOUSE_SPILL_DIR") or tempfile.gettempdir()


def to_pandas(sdf, spill_dir: str | None = None, compact: bool = False) -> pd.DataFrame:
    """A Spark DataFrame as pandas; through Parquet files in ``spill_dir`` when one is given.

    ``toPandas`` gathers every Arrow batch in the driver JVM's heap before Python sees any: a million
    sampled pairs with their validation snapshot ran a 4 GiB local driver out of heap (and Spark then
    hung). Written as Parquet by the tasks and read back with pyarrow, the rows never enter the JVM heap;
    the frame is the same (columns, order of columns, dtypes). The folder is removed afterwards.

    ``compact``: strings arrive as Arrow-backed strings (``string[pyarrow]``) and dates as ``datetime64``,
    not as one Python object per value (about 60 bytes each instead of a few), on either route; the values
    and their order are the same.
    """
    if spill_dir is None:
        frame = sdf.toPandas()
        return _compact(frame) if compact else frame
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder = Path(spill_dir) / f"lakehouse-collect-{uuid.uuid4().hex}"
    try:
        sdf.write.mode("overwrite").parquet(folder.as_uri())
        table = pq.read_table(folder).select(sdf.columns)  # the part files; _SUCCESS and .crc are skipped
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    if not compact:
        return table.to_pandas()
    arrow_strings = pd.StringDtype("pyarrow")
    # self_destruct frees each Arrow column once converted, so the table and the frame are not both whole
    return table.to_pandas(
        types_mapper={pa.string(): arrow_strings, pa.large_string(): arrow_strings}.get,
        date_as_object=False,
        split_blocks=True,
        self_destruct=True,
    )


def _compact(frame: pd.DataFrame) -> pd.DataFrame:
    """``to_pandas``'s compact dtypes for a frame that came through ``toPandas``."""
    for name in frame.columns:
        column = frame[name]
        if column.dtype != object:
            continue
        first = column.dropna().head(1)
        if first.empty:
            continue
        value = first.iloc[0]
        if isinstance(value, str):
            frame[name] = column.astype(pd.StringDtype("pyarrow"))
        elif isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            frame[name] = pd.to_datetime(column).astype("datetime64[ms]")  # as pyarrow gives dates
    return frame


def retrain_decision(
    latest_labelled: dt.date | None,
    last_valid: dt.date | None,
    has_champion: bool,
    every_days: int,
    force: bool = False,
) -> tuple[bool, str]:
    """Whether this run trains a candidate, and why (the retraining schedule).

    A candidate is trained when asked (``force``), when there is no champion to score with, when no run
    exists yet, or when the newest labelled snapshot is ``every_days`` or more after the validation snapshot
    of the last run (``every_days`` 0: every run). Otherwise the champion keeps scoring: on the same data a
    candidate cannot beat it, and a refit a day later is mostly the same model at the cost of the training.
    """
    if force:
        return True, "asked for (var ml_retrain)"
    if not has_champion:
        return True, "no champion to score with"
    if last_valid is None:
        return True, "no training run yet"
    if latest_labelled is None:
        return False, "no labelled snapshot"
    age = (latest_labelled - last_valid).days
    if age >= every_days:
        return True, f"{age} new labelled day(s) since the last run (retrain every {every_days})"
    return False, f"{age} new labelled day(s) since the last run; retraining every {every_days}"


def data_shortfall(
    labelled_counts: dict[tuple[dt.date, bool], int], valid_days: int = 1, embargo_days: int = 0
) -> str | None:
    """Why the labelled pairs cannot train a model yet, or None when they can.

    ``labelled_counts`` maps (snapshot date, converted) to the number of label-complete pairs. Training
    needs a purged time split (``split_dates``: ``valid_days`` labelled dates to validate on and at least
    one earlier date whose ``embargo_days`` label window ends before them) with both classes on each
    side: a model fit on one class predicts nothing, and a validation snapshot without a purchase cannot
    judge a candidate against the champion.
    """
    dates = sorted({date for date, _ in labelled_counts})
    if len(dates) < valid_days + 1:
        return (
            f"{len(dates)} label-complete snapshot date(s); a time split needs {valid_days + 1} "
            "(more days of data are needed)"
        )
    last_train, first_valid = split_dates(dates, valid_days, embargo_days)
    if last_train is None:
        return (
            f"no label-complete snapshot ends its {embargo_days}-day label window before the validation "
            f"snapshot {first_valid:%Y-%m-%d} (more days of data are needed)"
        )

    def count(converted: bool, validation: bool) -> int:
        return sum(
            n
            for (date, label), n in labelled_counts.items()
            if label == converted
            and ((pd.Timestamp(date) >= first_valid) if validation else (pd.Timestamp(date) <= last_train))
        )

    for validation, side in ((False, "training"), (True, "validation")):
        if count(True, validation) == 0:
            return f"no purchase among the {side} snapshots' pairs"
        if count(False, validation) == 0:
            return f"every pair of the {side} snapshots converted"
    return None


def training_due(
    mart,
    runs_sdf,
    model_name: str,
    every_days: int,
    force: bool = False,
    tracking_uri: str | None = None,
    registry_uri: str | None = None,
    embargo_days: int = 0,
) -> tuple[bool, str]:
    """Whether this run trains, and why: first whether the mart's labelled pairs can train a model at all
    (``data_shortfall``; if not, no run trains, asked for or not), then ``retrain_decision`` on the run
    log (None on a first run) and the registry."""
    from pyspark.sql import functions as F

    counts = mart.where("is_label_complete").groupBy("as_of_date", LABEL).count().collect()
    shortfall = data_shortfall(
        {(r["as_of_date"], bool(r[LABEL])): int(r["count"]) for r in counts}, embargo_days=embargo_days
    )
    if shortfall:
        return False, f"not enough labelled data: {shortfall}"
    registry.configure(tracking_uri, registry_uri)
    has_champion = registry.champion_version(model_name) is not None
    last_valid = runs_sdf.agg(F.max("valid_date")).first()[0] if runs_sdf is not None else None
    latest = mart.where("is_label_complete").agg(F.max("as_of_date")).first()[0]
    return retrain_decision(latest, last_valid, has_champion, every_days, force)


DRAW_BUCKETS = 1_000_000


def pair_draw_bucket():
    """The bucket (0 to ``DRAW_BUCKETS`` - 1) of a mart row's pair key by which samples are drawn: a row is
    kept when its bucket is below a threshold. The drift check's training profile
    (ml_feature_training_profile) draws with the same expression in SQL."""
    from pyspark.sql import functions as F

    return F.pmod(F.xxhash64("as_of_date", "user_id", "product_id", F.lit(7)), F.lit(DRAW_BUCKETS))


def collect_training_pairs(
    mart, max_train_rows: int = 0, valid_days: int = 1, max_valid_rows: int = 0, embargo_days: int = 0
) -> pd.DataFrame:
    """The labelled pairs ``run_training`` needs, drawn from the Spark feature mart without collecting it.

    Only the model's columns are read. When the training snapshots hold more than ``max_train_rows``
    pairs, a deterministic hash of the pair key keeps about 5% more than that share, and
    ``run_training``'s stratified sample trims it to exactly ``max_train_rows``. The validation snapshots
    (the last ``valid_days`` labelled dates) come whole up to ``max_valid_rows`` pairs (0 = no cap); above
    it the same kind of hash keeps about ``max_valid_rows`` of them, a uniform draw, so the positive rate
    and the metrics estimate those of the whole snapshot (the candidate and the champion are compared on
    the same drawn rows). So the driver receives at most ~1.05 x ``max_train_rows`` + ~``max_valid_rows``
    rows, whatever the mart's size, and the same mart gives the same rows on any cluster layout. On a
    local session the rows come through Parquet files (``to_pandas``), not through the driver's heap.
    The features arrive as float64, the keys in ``to_pandas``'s compact dtypes (Arrow strings, datetime64).
    The training side is purged (``split_dates`` with ``embargo_days``): its snapshots end their label
    window before the first validation snapshot, and the purged ones are not read.
    """
    from pyspark.sql import functions as F

    # the features as the model reads them (float64, ``feature_matrix``), cast where they are read: the
    # mart's decimals would otherwise arrive as one Python Decimal object per value
    labelled = mart.where("is_label_complete").select(
        *KEY_COLUMNS, *(F.col(c).cast("double").alias(c) for c in FEATURES), LABEL
    )
    # one scan gives the snapshot dates and the pairs per date, i.e. both sides' sizes
    pairs_per_date = dict(labelled.groupBy("as_of_date").count().collect())
    dates = sorted(pairs_per_date)
    last_train, first_valid = split_dates(dates, valid_days, embargo_days)
    if last_train is None:
        raise FeatureContractError(
            f"no labelled snapshot ends its {embargo_days}-day label window before {first_valid:%Y-%m-%d}"
        )
    train = labelled.where(F.col("as_of_date") <= F.lit(last_train.date()))
    valid = labelled.where(F.col("as_of_date") >= F.lit(first_valid.date()))
    bucket = pair_draw_bucket()
    train_dates = [d for d in dates if pd.Timestamp(d) <= last_train]
    available = sum(pairs_per_date[d] for d in train_dates) if max_train_rows > 0 else 0
    if available > max_train_rows > 0:
        keep = int(DRAW_BUCKETS * min(1.0, 1.05 * max_train_rows / available)) + 1
        train = train.where(bucket < keep)
    valid_available = sum(pairs_per_date[d] for d in dates[-valid_days:]) if max_valid_rows > 0 else 0
    if valid_available > max_valid_rows > 0:
        valid = valid.where(bucket < int(DRAW_BUCKETS * max_valid_rows / valid_available) + 1)
    frame = to_pandas(train.unionByName(valid), local_spill_dir(mart.sparkSession), compact=True)
    frame.attrs["n_train_available"] = available
    frame.attrs["n_valid_available"] = valid_available
    return frame


def run_training(
    features: pd.DataFrame,
    model_name: str,
    experiment: str | None = None,
    tracking_uri: str | None = None,
    registry_uri: str | None = None,
    max_train_rows: int = 0,
    embargo_days: int = 0,
) -> pd.DataFrame:
    """Split, train, evaluate against baselines and the current champion, log, register, gate.

    ``features`` holds labelled snapshots only. Training rows above ``max_train_rows`` (0 = no cap) are
    sampled, stratified by snapshot and label. Validation is not sampled here (``collect_training_pairs``
    may have drawn it in Spark, above its ``max_valid_rows``). Returns one row describing the run.

    Memory: the frame is dropped once split, so while the model trains this process holds the training
    sample and the validation rows, not the whole frame besides; that needs the caller not to keep a
    reference (pass ``collect_training_pairs(...)`` straight in, as the training model does).
    """
    check_contract(features)
    in_mart = features.attrs.get("n_train_available")  # rows drawn in Spark already (collect_training_pairs)
    valid_in_mart = features.attrs.get("n_valid_available")
    # a stable row order makes the run reproducible: Spark returns rows in no particular order, and the
    # model's early-stopping holdout is drawn by position
    features = features.sort_values(KEY_COLUMNS, kind="stable", ignore_index=True)
    train, valid = time_split(features, embargo_days=embargo_days)
    del features
    available = int(in_mart or len(train))
    train = stratified_sample(train, max_train_rows)
    result = train_model(train, valid)
    result.extra["n_train_available"] = available
    # the validation snapshot's pairs before its draw (its rows when it came whole)
    result.extra["n_valid_available"] = int(valid_in_mart or len(valid))
    if result.left_out:
        print(
            "training: features left out of the fit: "
            + "; ".join(f"{name} ({why})" for name, why in result.left_out.items())
        )
    y_valid = valid[LABEL].astype(int).to_numpy()
    x_valid = feature_matrix(valid, result.features)
    registry.configure(tracking_uri, registry_uri, experiment)

    with mlflow.start_run(run_name=f"train-{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S}") as run:
        mlflow.log_params(result.params)
        mlflow.log_params({"n_train": result.n_train, "n_valid": result.n_valid, **result.extra})
        mlflow.log_param("features_left_out", ",".join(result.left_out) or "none")
        mlflow.log_param("embargo_days", embargo_days)
        if result.left_out:
            mlflow.log_dict(result.left_out, "features_left_out.json")
        mlflow.log_metrics({k: v for k, v in result.metrics.items() if np.isfinite(v)})
        for name, values in result.baselines.items():
            mlflow.log_metrics({f"{name}_{k}": v for k, v in values.items() if np.isfinite(v)})
        curves = {
            "model": result.valid_prob,
            "baseline_lr3": three_feature_baseline(train, valid),
            "baseline_prior": prior_baseline(train, valid),
        }
        if len(np.unique(y_valid)) == 2:
            plots.log_and_close(plots.roc_figure(y_valid, curves), "plots/roc.png")
            plots.log_and_close(plots.pr_figure(y_valid, curves), "plots/pr.png")
            plots.log_and_close(plots.calibration_figure(y_valid, result.valid_prob), "plots/calibration.png")
            importance = _permutation_importance(result.model, x_valid, y_valid)
            plots.log_and_close(plots.importance_figure(result.features, importance), "plots/feature_importance.png")
        champion_before = registry.champion_version(model_name)
        champion_score = None
        if champion_before is not None:
            # every feature of the mart: the champion reads its own list, which may hold some this fit left out
            champion_prob = registry.score_with_version(model_name, champion_before, feature_matrix(valid))
            if champion_prob is not None:
                champion_score = evaluate(y_valid, champion_prob)["roc_auc"]
        valid_metrics = {k: v for k, v in result.metrics.items() if np.isfinite(v)}
        version = registry.log_and_register(result.model, model_name, x_valid, result.valid_prob, valid_metrics)
        promoted = registry.promote_if_better(model_name, version, result.metrics["roc_auc"], champion_score)
        mlflow.set_tags({"promoted": str(promoted), "champion_version_before": str(champion_before)})
        if champion_score is not None:
            mlflow.log_metric("champion_roc_auc_before", champion_score)

    train_dates = pd.to_datetime(train["as_of_date"])
    row = {
        "run_id": run.info.run_id,
        "model_name": model_name,
        "model_version": version,
        "trained_at": pd.Timestamp.now(tz="UTC").tz_localize(None),
        "train_from": train_dates.min().date(),
        "train_to": train_dates.max().date(),
        "valid_date": pd.to_datetime(valid["as_of_date"]).min().date(),
        "n_train": result.n_train,
        "n_valid": result.n_valid,
        "valid_positive_rate": result.metrics["positive_rate"],
        **{k: result.metrics[k] for k in ("roc_auc", "pr_auc", "log_loss", "brier", "lift_top_decile")},
        "baseline_lr3_roc_auc": result.baselines["baseline_lr3"]["roc_auc"],
        "baseline_prior_roc_auc": result.baselines["baseline_prior"]["roc_auc"],
        "champion_version_before": champion_before,
        "champion_roc_auc_before": champion_score,
        "promoted": promoted,
        "n_features": len(result.features),
        "features_left_out": ",".join(result.left_out) or None,
        "embargo_days": embargo_days,
    }
    return pd.DataFrame([row], columns=RUN_COLUMNS)


def dates_to_score(
    snapshot_dates: list[dt.date],
    trained_until: dt.date | None,
    already_scored: set[dt.date],
    latest: list[dt.date] | None = None,
) -> list[dt.date]:
    """Which snapshots the champion scores in this run.

    The latest snapshot of each source always (``latest``; by default the newest date: re-scored, so a new
    champion takes over at once, and a source whose data ended earlier than another's still has its
    current pairs scored), plus every snapshot after the champion's training data that has no prediction
    yet: out-of-time predictions whose labels arrive later, which the monitoring marts compare with what
    happened. A snapshot whose features were computed again after its scoring is left out of
    ``already_scored`` by the caller, so it is scored again.
    """
    if not snapshot_dates:
        return []
    newest = latest or [max(snapshot_dates)]
    after = [d for d in snapshot_dates if trained_until is not None and d > trained_until and d not in already_scored]
    return sorted({*newest, *after})


def probability_udf(model):
    """A Spark pandas UDF: struct of the model's own features (``model_features``: doubles, in that order)
    -> P(converted).

    The fitted scikit-learn model travels with the UDF (pickled in its closure, so it also works where
    there is no SparkContext, as on Databricks serverless) and is unpickled once per task; each task
    predicts with one thread, since Spark already runs one task per core. This is the path
    ``mlflow.pyfunc.spark_udf`` takes minus its per-batch schema conversion: 1.5x the pairs per second here
    (see README, Measured). The model's feature names are checked against the mart's first.
    """
    from pyspark.sql.functions import pandas_udf

    names = model_features(model)
    unknown = [name for name in names if name not in FEATURES]
    if unknown:
        raise ValueError(f"the champion reads features the mart does not have ({', '.join(unknown)}): retrain")

    # (the type hints are resolved in this module's globals: Iterator and pd are imported at the top)
    @pandas_udf("double")
    def probability(batches: Iterator[pd.DataFrame]) -> Iterator[pd.Series]:
        from threadpoolctl import threadpool_limits

        with threadpool_limits(1):
            for batch in batches:
                frame = pd.DataFrame(batch.to_numpy(dtype=np.float64), columns=names)
                yield pd.Series(model.predict_proba(frame)[:, 1])

    return probability


PREDICTION_SCHEMA_DDL = (
    "as_of_date date, user_id string, product_id string, source_system string, probability double, "
    "probability_rank int, probability_decile int, model_name string, model_version string, run_id string, "
    "scored_at timestamp, input_fingerprint bigint"
)


def model_features(model) -> list[str]:
    """The features a fitted model reads, in its order (a fit may leave some of the mart's out)."""
    return list(getattr(model, "feature_names_in_", FEATURES))


def score_snapshots(
    spark,
    features_sdf,
    model_name: str,
    runs_sdf=None,
    scored_sdf=None,
    tracking_uri: str | None = None,
    registry_uri: str | None = None,
):
    """Score snapshots with the champion (see ``dates_to_score``), distributed with a pandas UDF.

    The model is loaded as ``models:/<name>@champion`` and reads its own feature list. ``runs_sdf`` is the
    training-runs table (for the champion's training window), ``scored_sdf`` the predictions already
    written (None on a first run). Returns a Spark DataFrame: keys, source, probability, rank and decile
    within the snapshot, model name/version, run id, scored_at. Without a champion (no model could be
    trained yet) it says so in one line and returns no rows.
    """
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    registry.configure(tracking_uri, registry_uri)
    version = registry.champion_version(model_name)
    if version is None:
        print(f"scoring: skipped, registered model {model_name!r} has no `champion` yet (no model trained)")
        return spark.createDataFrame([], schema=PREDICTION_SCHEMA_DDL)
    mv = mlflow.tracking.MlflowClient().get_model_version(model_name, version)
    trained_until = None
    if runs_sdf is not None:
        trained_until = runs_sdf.where(F.col("run_id") == mv.run_id).agg(F.max("train_to")).first()[0]
    per_source = (
        features_sdf.groupBy("source_system", "as_of_date")
        .agg(F.max("input_fingerprint").alias("input_fingerprint"))
        .collect()
    )
    snapshot_dates = sorted({r.as_of_date for r in per_source})
    fingerprints = {r.as_of_date: r.input_fingerprint for r in per_source}
    already = set()
    if scored_sdf is not None:
        # a snapshot counts as scored while its features are the ones scored: one computed again since
        # (late events in its lookback) is scored again, so predictions and drift describe the stored features
        kept = "input_fingerprint" in scored_sdf.columns
        stored = scored_sdf.groupBy("as_of_date").agg(
            (F.max("input_fingerprint") if kept else F.lit(None).cast("bigint")).alias("input_fingerprint")
        )
        already = {
            r.as_of_date
            for r in stored.collect()
            if not kept or r.input_fingerprint == fingerprints.get(r.as_of_date, r.input_fingerprint)
        }
    newest: dict[str, dt.date] = {}
    for r in per_source:
        newest[r.source_system] = max(r.as_of_date, newest.get(r.source_system, r.as_of_date))
    latest = sorted(set(newest.values()))
    dates = dates_to_score(snapshot_dates, trained_until, already, latest)
    snapshot = features_sdf.where(F.col("as_of_date").isin(dates))
    model = mlflow.sklearn.load_model(registry.champion_uri(model_name))
    udf = probability_udf(model)
    inputs = F.struct(*[F.col(c).cast("double") for c in model_features(model)])
    scored = snapshot.withColumn("probability", udf(inputs))
    ranking = Window.partitionBy("as_of_date").orderBy(F.col("probability").desc(), "user_id", "product_id")
    return scored.select(
        "as_of_date",
        "user_id",
        "product_id",
        "source_system",
        "probability",
        F.row_number().over(ranking).alias("probability_rank"),
        F.ntile(10).over(ranking).alias("probability_decile"),
        F.lit(model_name).alias("model_name"),
        F.lit(str(version)).alias("model_version"),
        F.lit(mv.run_id).alias("run_id"),
        F.current_timestamp().alias("scored_at"),
        "input_fingerprint",
    )
