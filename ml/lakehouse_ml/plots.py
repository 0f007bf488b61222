"""Diagnostic figures logged with every training run."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from sklearn.metrics import precision_recall_curve, roc_curve


def log_and_close(fig, artifact_file: str) -> None:
    """Log ``fig`` to the active MLflow run, then close it: pyplot keeps every figure it made open (and in
    memory) until closed, so a process that trains many times would gather them."""
    import mlflow

    try:
        mlflow.log_figure(fig, artifact_file)
    finally:
        plt.close(fig)


def roc_figure(y: np.ndarray, scores: dict[str, np.ndarray], weight: np.ndarray | None = None):
    fig, ax = plt.subplots(figsize=(5, 5))
    for name, s in scores.items():
        fpr, tpr, _ = roc_curve(y, s, sample_weight=weight)
        ax.plot(fpr, tpr, label=name)
    ax.plot([0, 1], [0, 1], "k--", lw=0.8)
    ax.set(xlabel="false positive rate", ylabel="true positive rate", title="ROC (validation)")
    ax.legend(loc="lower right")
    return fig


def pr_figure(y: np.ndarray, scores: dict[str, np.ndarray], weight: np.ndarray | None = None):
    fig, ax = plt.subplots(figsize=(5, 5))
    for name, s in scores.items():
        precision, recall, _ = precision_recall_curve(y, s, sample_weight=weight)
        ax.plot(recall, precision, label=name)
    ax.axhline(float(np.average(y, weights=weight)), color="k", ls="--", lw=0.8)
    ax.set(xlabel="recall", ylabel="precision", title="Precision-recall (validation)")
    ax.legend(loc="upper right")
    return fig


def calibration_figure(y: np.ndarray, prob: np.ndarray, weight: np.ndarray | None = None):
    """Observed conversion against the mean probability per decile of the (weighted) pairs."""
    fig, ax = plt.subplots(figsize=(5, 5))
    if weight is None:
        weight = np.ones(len(y))
    order = np.argsort(prob, kind="stable")
    # deciles of the pairs the rows stand for (sklearn's calibration_curve takes no weights)
    position = np.cumsum(weight[order]) / weight.sum()
    bins = np.minimum((position * 10).astype(int), 9)
    groups = [(order[bins == b], weight[order][bins == b]) for b in np.unique(bins)]
    frac = np.array([np.average(y[rows], weights=w) for rows, w in groups])
    mean_pred = np.array([np.average(prob[rows], weights=w) for rows, w in groups])
    ax.plot(mean_pred, frac, "o-", label="model")
    hi = max(float(mean_pred.max()), float(frac.max()), 1e-3)
    ax.plot([0, hi], [0, hi], "k--", lw=0.8)
    ax.set(xlabel="mean predicted probability", ylabel="observed conversion", title="Calibration")
    return fig


def importance_figure(names: list[str], importance: np.ndarray):
    order = np.argsort(importance)
    fig, ax = plt.subplots(figsize=(6, max(3, 0.3 * len(names))))
    ax.barh(np.array(names)[order], importance[order])
    ax.set(xlabel="drop in ROC-AUC when permuted", title="Permutation importance (validation)")
    fig.tight_layout()
    return fig
