"""Metrics for a probability score against a binary label, each row weighted by the pairs it stands for."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import average_precision_score, brier_score_loss, log_loss, roc_auc_score


def lift_at_top(
    y_true: np.ndarray, score: np.ndarray, fraction: float = 0.1, weight: np.ndarray | None = None
) -> float:
    """Conversion rate in the top ``fraction`` by score divided by the overall rate.

    With ``weight`` (the pairs each row stands for) the top is that share of the weighted pairs, and both
    rates are weighted; the row that crosses the boundary counts in part.
    """
    y_true = np.asarray(y_true, dtype=float)
    w = np.ones(len(y_true)) if weight is None else np.asarray(weight, dtype=float)
    total = w.sum()
    base = float((w * y_true).sum() / total) if total > 0 else 0.0
    if base == 0:
        return float("nan")
    order = np.argsort(-np.asarray(score), kind="stable")
    if weight is None:
        # unweighted: the top k rows, as many as the fraction rounds to (at least one)
        k = max(1, round(len(y_true) * fraction))
        return float(y_true[order[:k]].mean() / base)
    w_sorted, y_sorted = w[order], y_true[order]
    room = fraction * total
    before = np.concatenate([[0.0], np.cumsum(w_sorted)[:-1]])
    taken = np.clip(room - before, 0, w_sorted)
    return float(((taken * y_sorted).sum() / taken.sum()) / base)


def evaluate(y_true: np.ndarray, prob: np.ndarray, weight: np.ndarray | None = None) -> dict[str, float]:
    """ROC-AUC, PR-AUC, log loss, Brier score, lift in the top decile and the positive rate.

    ``weight``: the candidate pairs each row stands for (1 / ``draw_share``; None = one each), so that the
    metrics of a drawn snapshot estimate those of the whole one.
    """
    y_true = np.asarray(y_true).astype(int)
    prob = np.clip(np.asarray(prob, dtype=float), 1e-7, 1 - 1e-7)
    w = None if weight is None else np.asarray(weight, dtype=float)
    two_classes = len(np.unique(y_true)) == 2
    return {
        "roc_auc": float(roc_auc_score(y_true, prob, sample_weight=w)) if two_classes else float("nan"),
        "pr_auc": float(average_precision_score(y_true, prob, sample_weight=w)) if two_classes else float("nan"),
        "log_loss": float(log_loss(y_true, prob, labels=[0, 1], sample_weight=w)),
        "brier": float(brier_score_loss(y_true, prob, sample_weight=w)),
        "lift_top_decile": lift_at_top(y_true, prob, 0.1, w),
        "positive_rate": float(np.average(y_true, weights=w)),
    }
