"""When to train and what to score: the data a split needs, the retraining schedule, the snapshots due."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from lakehouse_ml import registry
from lakehouse_ml.features import LABEL, split_dates


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
