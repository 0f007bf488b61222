"""Metrics for a probability score against a binary label."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import average_precision_score, brier_score_loss, log_loss, roc_auc_score


def lift_at_top(y_true: np.ndarray, score: np.ndarray, fraction: float = 0.1) -> float:
    """Conversion rate in the top ``fraction`` by score divided by the overall rate."""
    y_true = np.asarray(y_true, dtype=float)
    base = y_true.mean()
    if base == 0:
        return float("nan")
    k = max(1, round(len(y_true) * fraction))
    top = np.argsort(-np.asarray(score), kind="stable")[:k]
    return float(y_true[top].mean() / base)


def evaluate(y_true: np.ndarray, prob: np.ndarray) -> dict[str, float]:
    """ROC-AUC, PR-AUC, log loss, Brier score and lift in the top decile."""
    y_true = np.asarray(y_true).astype(int)
    prob = np.clip(np.asarray(prob, dtype=float), 1e-7, 1 - 1e-7)
    two_classes = len(np.unique(y_true)) == 2
    return {
        "roc_auc": float(roc_auc_score(y_true, prob)) if two_classes else float("nan"),
        "pr_auc": float(average_precision_score(y_true, prob)) if two_classes else float("nan"),
        "log_loss": float(log_loss(y_true, prob, labels=[0, 1])),
        "brier": float(brier_score_loss(y_true, prob)),
        "lift_top_decile": lift_at_top(y_true, prob, 0.1),
        "positive_rate": float(y_true.mean()),
    }
