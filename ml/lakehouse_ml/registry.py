"""MLflow: tracking, model registration and the champion gate."""

from __future__ import annotations

import os

import mlflow
import numpy as np
import pandas as pd
from mlflow.exceptions import MlflowException
from mlflow.models import infer_signature
from mlflow.tracking import MlflowClient

CHAMPION = "champion"
# every newly trained candidate: the version the latest training run registered, promoted or not
CHALLENGER = "challenger"
# the sklearn classes inside a fitted HistGradientBoostingClassifier that skops must be told to trust
SKOPS_TRUSTED_TYPES = ["sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor"]
# what a logged model needs to load and predict (skops is its file format), each pinned to the version it
# was trained with; named here because MLflow would infer them by loading the model in a new Python
# process, 10-18 s per logged model on a 2-core machine, and picked up the test runner besides
MODEL_PACKAGES = ("mlflow", "numpy", "pandas", "scikit-learn", "scipy", "skops")


def pip_requirements() -> list[str]:
    """The logged model's requirements: MODEL_PACKAGES at the versions installed here."""
    from importlib.metadata import version

    return [f"{name}=={version(name)}" for name in MODEL_PACKAGES]


def configure(tracking_uri: str | None = None, registry_uri: str | None = None, experiment: str | None = None) -> str:
    """Point MLflow at the configured stores; locally a SQLite file and an artifacts folder.

    Returns the experiment name in use.
    """
    tracking_uri = tracking_uri or os.environ.get("MLFLOW_TRACKING_URI")
    if not tracking_uri:
        # this package ships alone (the wheel), so the local default comes from the engine's environment
        raise ValueError("no MLflow tracking URI: pass one or set MLFLOW_TRACKING_URI (the local engine sets it)")
    if tracking_uri.startswith("sqlite:///"):
        os.makedirs(os.path.dirname(tracking_uri.removeprefix("sqlite:///")), exist_ok=True)
    mlflow.set_tracking_uri(tracking_uri)
    if registry_uri:
        mlflow.set_registry_uri(registry_uri)
    name = experiment or "ecommerce_conversion"
    if mlflow.get_experiment_by_name(name) is None:
        artifact_location = None
        if tracking_uri.startswith("sqlite:///"):
            folder = os.path.join(os.path.dirname(tracking_uri.removeprefix("sqlite:///")), "artifacts")
            artifact_location = "file://" + os.path.abspath(folder)
        mlflow.create_experiment(name, artifact_location=artifact_location)
    mlflow.set_experiment(name)
    return name


def champion_version(model_name: str) -> str | None:
    """The version the `champion` alias points to, or None when there is none yet."""
    return alias_version(model_name, CHAMPION)


def champion_uri(model_name: str) -> str:
    return f"models:/{model_name}@{CHAMPION}"


def score_with_version(model_name: str, version: str, features: pd.DataFrame) -> np.ndarray | None:
    """Probabilities of a registered version on ``features``; None if it needs columns that are absent."""
    model = mlflow.sklearn.load_model(f"models:/{model_name}/{version}")
    needed = list(getattr(model, "feature_names_in_", features.columns))
    if any(c not in features.columns for c in needed):
        return None
    return model.predict_proba(features[needed])[:, 1]


def log_and_register(
    model: object,
    model_name: str,
    sample: pd.DataFrame,
    sample_prob: np.ndarray,
    metrics: dict[str, float] | None = None,
) -> str:
    """Log the sklearn model as an MLflow 3 LoggedModel (predict_proba as the pyfunc output, signature and
    input example), register a new version, point the `challenger` alias at it and attach the validation
    ``metrics`` to the logged model, so the MLflow UI compares candidates side by side."""
    signature = infer_signature(sample, sample_prob)
    info = mlflow.sklearn.log_model(
        sk_model=model,
        name="model",
        signature=signature,
        input_example=sample.head(5),
        registered_model_name=model_name,
        pyfunc_predict_fn="predict_proba",
        skops_trusted_types=SKOPS_TRUSTED_TYPES,
        pip_requirements=pip_requirements(),
    )
    if metrics:
        mlflow.log_metrics({f"validation_{k}": v for k, v in metrics.items()}, model_id=info.model_id)
    version = str(info.registered_model_version)
    MlflowClient().set_registered_model_alias(model_name, CHALLENGER, version)
    return version


def alias_version(model_name: str, alias: str) -> str | None:
    """The version an alias points to, or None when it points nowhere."""
    try:
        return str(MlflowClient().get_model_version_by_alias(model_name, alias).version)
    except MlflowException:
        return None


def promote_if_better(
    model_name: str, candidate_version: str, candidate_score: float, champion_score: float | None
) -> bool:
    """Move the `champion` alias to the candidate (the `challenger`) only if it beats the champion on the
    same validation rows; the `challenger` alias stays on the candidate either way."""
    if champion_score is not None and not candidate_score > champion_score:
        return False
    MlflowClient().set_registered_model_alias(model_name, CHAMPION, candidate_version)
    return True
