"""One MLflow training run: split, fit, evaluate against the baselines and the champion, log, register, gate."""

from __future__ import annotations

import datetime as dt

import mlflow
import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from lakehouse_ml import plots, registry
from lakehouse_ml.features import (
    KEY_COLUMNS,
    LABEL,
    check_contract,
    feature_matrix,
    pair_weights,
    stratified_sample,
    time_split,
)
from lakehouse_ml.metrics import evaluate
from lakehouse_ml.train import prior_baseline, three_feature_baseline, train_model

# Below this many training rows the fit, the importances and the champion's scores run on one thread: the
# histogram model's OpenMP threads wait for each other at every step, and a core busy elsewhere (a build's
# other nodes, another process) slows them several times over (measured in CHANGELOG.md).
SINGLE_THREAD_MAX_ROWS = 50_000

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


def _permutation_importance(
    model: object, x: pd.DataFrame, y: np.ndarray, weight: np.ndarray, seed: int = 0
) -> np.ndarray:
    from sklearn.inspection import permutation_importance

    n = min(len(x), 20_000)
    idx = np.random.default_rng(seed).choice(len(x), size=n, replace=False)
    result = permutation_importance(
        model,
        x.iloc[idx],
        y[idx],
        scoring="roc_auc",
        n_repeats=3,
        random_state=seed,
        n_jobs=1,
        sample_weight=weight[idx],
    )
    return result.importances_mean


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
    with threadpool_limits(1 if len(train) < SINGLE_THREAD_MAX_ROWS else None):
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
        w_valid = pair_weights(valid)
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
                plots.log_and_close(plots.roc_figure(y_valid, curves, w_valid), "plots/roc.png")
                plots.log_and_close(plots.pr_figure(y_valid, curves, w_valid), "plots/pr.png")
                plots.log_and_close(
                    plots.calibration_figure(y_valid, result.valid_prob, w_valid), "plots/calibration.png"
                )
                importance = _permutation_importance(result.model, x_valid, y_valid, w_valid)
                plots.log_and_close(
                    plots.importance_figure(result.features, importance), "plots/feature_importance.png"
                )
            champion_before = registry.champion_version(model_name)
            champion_score = None
            if champion_before is not None:
                # every feature of the mart: the champion reads its own list, which may hold some this fit left out
                champion_prob = registry.score_with_version(model_name, champion_before, feature_matrix(valid))
                if champion_prob is not None:
                    champion_score = evaluate(y_valid, champion_prob, w_valid)["roc_auc"]
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
