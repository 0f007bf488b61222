"""Scoring with the champion: the snapshots due, a pandas UDF over the mart, ranks and deciles per snapshot."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import mlflow
import numpy as np
import pandas as pd

from lakehouse_ml import registry
from lakehouse_ml.features import FEATURES
from lakehouse_ml.schedule import dates_to_score


def probability_udf(model):
    """A Spark pandas UDF: struct of the model's own features (``model_features``: doubles, in that order)
    -> P(converted).

    The fitted scikit-learn model travels with the UDF (pickled in its closure, so it also works where
    there is no SparkContext, as on Databricks serverless) and is unpickled once per task; each task
    predicts with one thread, since Spark already runs one task per core. This is the path
    ``mlflow.pyfunc.spark_udf`` takes minus its per-batch schema conversion, about 1.5x the pairs per second
    here. The model's feature names are checked against the mart's first.
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
    "scored_at timestamp, input_fingerprint bigint, draw_share double"
)


def model_features(model) -> list[str]:
    """The features a fitted model reads, in its order (a fit may leave some of the mart's out)."""
    return list(getattr(model, "feature_names_in_", FEATURES))


def score_snapshots(
    spark,
    features_sdf,
    model_name: str,
    latest_sdf=None,
    runs_sdf=None,
    scored_sdf=None,
    tracking_uri: str | None = None,
    registry_uri: str | None = None,
):
    """Score snapshots with the champion (see ``dates_to_score``), distributed with a pandas UDF.

    ``features_sdf`` is the feature mart, whose snapshots are drawn (``draw_share``); ``latest_sdf`` holds
    each source's latest snapshot whole, and its rows replace the mart's for those (source, date) pairs, so
    the latest snapshot is scored for every pair while an earlier one scored for monitoring is a draw.
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
    if latest_sdf is not None:
        # (a row per source at most: broadcast)
        whole = latest_sdf.select("source_system", "as_of_date").distinct()
        snapshot = snapshot.join(F.broadcast(whole), ["source_system", "as_of_date"], "left_anti").unionByName(
            latest_sdf.where(F.col("as_of_date").isin(dates))
        )
    model = mlflow.sklearn.load_model(registry.champion_uri(model_name))
    udf = probability_udf(model)
    inputs = F.struct(*[F.col(c).cast("double") for c in model_features(model)])
    scored = snapshot.withColumn("probability", udf(inputs))
    ranking = Window.partitionBy("as_of_date").orderBy(F.col("probability").desc(), "user_id", "product_id")
    # deciles of the pairs the scored rows stand for (1 / draw_share each; a snapshot scored whole counts
    # one a row): a row's decile is the tenth its share of the snapshot ends in, counted from the top
    pairs = 1 / F.coalesce(F.col("draw_share"), F.lit(1.0))
    upto = F.sum(pairs).over(ranking.rowsBetween(Window.unboundedPreceding, Window.currentRow))
    total = F.sum(pairs).over(Window.partitionBy("as_of_date"))
    decile = F.least(F.lit(10), F.greatest(F.lit(1), F.ceil(F.lit(10) * upto / total - F.lit(1e-9))))
    return scored.select(
        "as_of_date",
        "user_id",
        "product_id",
        "source_system",
        "probability",
        F.row_number().over(ranking).alias("probability_rank"),
        decile.cast("int").alias("probability_decile"),
        F.lit(model_name).alias("model_name"),
        F.lit(str(version)).alias("model_version"),
        F.lit(mv.run_id).alias("run_id"),
        F.current_timestamp().alias("scored_at"),
        "input_fingerprint",
        "draw_share",
    )
