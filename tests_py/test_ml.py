"""ML building blocks: metrics, time split, champion gate (on a throwaway MLflow store)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lakehouse_ml.features import FEATURES, LABEL, FeatureContractError, check_contract, time_split
from lakehouse_ml.metrics import evaluate, lift_at_top


def _frame(n_days: int = 4, per_day: int = 400, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = n_days * per_day
    frame = pd.DataFrame({c: rng.poisson(2.0, rows).astype(float) for c in FEATURES})
    frame["as_of_date"] = np.repeat(pd.date_range("2019-10-10", periods=n_days).date, per_day)
    frame["user_id"] = rng.integers(1, 10_000, rows)
    frame["product_id"] = rng.integers(1, 500, rows)
    signal = frame["interaction_score"] + 2 * frame["carts_30d"]
    frame[LABEL] = rng.random(rows) < 1 / (1 + np.exp(-(signal - 9)))
    return frame


def feature_contract() -> list[dict]:
    """The feature mart's columns as its yml declares them (name, data_type, config with meta)."""
    import yaml

    path = Path(__file__).resolve().parents[1] / "models" / "marts" / "ml" / "_ml__models.yml"
    [model] = [m for m in yaml.safe_load(path.read_text())["models"] if m["name"] == "ml_user_item_feature_snapshots"]
    return list(model["columns"])


def test_the_model_s_features_are_the_contract_s_in_its_order() -> None:
    columns = feature_contract()
    assert [c["name"] for c in columns if c.get("config", {}).get("meta", {}).get("feature")] == FEATURES
    # the draw's share depends on the label window: a weight, never a feature
    assert "draw_share" in [c["name"] for c in columns] and "draw_share" not in FEATURES
    assert all(c.get("data_type") for c in columns)  # every column typed: the built table is checked against it


def test_lift_and_metrics_on_known_values() -> None:
    y = np.array([1, 0, 0, 0, 0, 0, 0, 0, 0, 1])
    score = np.array([0.9, 0.1, 0.2, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.05])
    assert lift_at_top(y, score, 0.1) == pytest.approx(5.0)  # top 1 of 10 is a buyer; base rate 0.2
    metrics = evaluate(y, score)
    assert metrics["roc_auc"] == pytest.approx(0.5)
    assert metrics["positive_rate"] == pytest.approx(0.2)
    assert evaluate(np.array([0, 1]), np.array([0.0, 1.0]))["log_loss"] < 1e-5


def test_weighted_metrics_are_those_of_the_pairs_each_row_stands_for() -> None:
    """A drawn row stands for 1 / draw_share pairs: the weighted metrics equal the unweighted ones of the
    rows repeated that many times, and the top decile is a tenth of the pairs (here two of twenty: the
    first row's two, a buyer)."""
    y = np.array([1, 0, 0, 1, 0])
    score = np.array([0.9, 0.1, 0.5, 0.3, 0.2])
    weight = np.array([2, 8, 4, 2, 4])
    weighted = evaluate(y, score, weight)
    expanded = evaluate(np.repeat(y, weight), np.repeat(score, weight))
    assert weighted == pytest.approx(expanded)
    assert weighted["lift_top_decile"] == pytest.approx(5.0) and weighted["positive_rate"] == pytest.approx(0.2)
    # a boundary inside a row counts that row in part: the top 15% is row 0 (2) and 1 of row 2's 4 pairs
    assert lift_at_top(y, score, 0.15, weight) == pytest.approx((2 / 3) / 0.2)


def test_a_drawn_row_weighs_as_the_pairs_it_stands_for() -> None:
    """The mart's draw keeps converters at a higher share than the others: a row weighs 1 / draw_share
    (scaled to a mean of 1 for the fit), and the popularity prior's base rate is that of the pairs the
    rows stand for: the same as on the rows repeated that many times."""
    from lakehouse_ml.features import pair_weights
    from lakehouse_ml.train import prior_baseline

    frame = _frame()
    assert (pair_weights(frame) == 1).all()  # no draw column: every pair kept
    drawn = frame.assign(draw_share=np.where(frame[LABEL], 1.0, 0.25))
    weights = pair_weights(drawn)
    assert weights.mean() == pytest.approx(1.0)
    assert set(np.round(weights / weights.min(), 9)) == {1.0, 4.0}
    expanded = frame.loc[frame.index.repeat(np.where(frame[LABEL], 1, 4))]
    valid = frame.head(50)
    assert prior_baseline(drawn, valid) == pytest.approx(prior_baseline(expanded, valid))
    assert not np.allclose(prior_baseline(frame, valid), prior_baseline(drawn, valid))


def test_time_split_validates_on_the_latest_snapshot_only() -> None:
    frame = _frame()
    train, valid = time_split(frame)
    assert pd.to_datetime(train["as_of_date"]).max() < pd.to_datetime(valid["as_of_date"]).min()
    assert valid["as_of_date"].nunique() == 1 and len(train) + len(valid) == len(frame)
    with pytest.raises(FeatureContractError, match="at least 2 labelled snapshot dates"):
        time_split(frame[frame["as_of_date"] == frame["as_of_date"].max()])


def test_purged_split_keeps_every_training_label_day_before_validation() -> None:
    """With a 7-day label horizon, a training snapshot's label days [as_of_date, as_of_date + 7) all fall
    before the first validation snapshot; the six snapshots in between belong to neither side."""
    frame = _frame(n_days=12, per_day=50)
    train, valid = time_split(frame, embargo_days=7)
    first_valid = pd.to_datetime(valid["as_of_date"]).min()
    last_label_day = pd.to_datetime(train["as_of_date"]).max() + pd.Timedelta(days=7 - 1)
    assert last_label_day < first_valid
    assert pd.to_datetime(train["as_of_date"]).nunique() == 12 - 1 - 6
    assert len(train) + len(valid) == len(frame) - 6 * 50
    with pytest.raises(FeatureContractError, match="no training snapshot ends its 7-day label window"):
        time_split(_frame(n_days=7, per_day=10), embargo_days=7)


def test_data_shortfall_counts_only_the_snapshots_past_the_embargo() -> None:
    import datetime as dt

    from lakehouse_ml.schedule import data_shortfall

    days = [dt.date(2019, 10, d) for d in range(1, 10)]
    counts = {(d, label): 5 for d in days for label in (False, True)}
    assert data_shortfall(counts, embargo_days=7) is None  # Oct 1-2 train, Oct 9 validates
    # the only purchases before validation are on the embargoed days
    counts[(days[0], True)] = counts[(days[1], True)] = 0
    assert data_shortfall(counts, embargo_days=7) == "no purchase among the training snapshots' pairs"
    assert data_shortfall(counts) is None  # without the embargo, Oct 3-8 would train
    assert data_shortfall({(d, label): 5 for d in days[:7] for label in (False, True)}, embargo_days=7) == (
        "no label-complete snapshot ends its 7-day label window before the validation snapshot 2019-10-07 "
        "(more days of data are needed)"
    )


def test_contract_names_missing_columns() -> None:
    with pytest.raises(FeatureContractError, match="lacks columns: carts_30d"):
        check_contract(_frame().drop(columns=["carts_30d"]))


@pytest.fixture(autouse=True)
def _own_mlflow_store():  # type: ignore[no-untyped-def]
    """These tests use throwaway stores; mlflow.set_tracking_uri also sets MLFLOW_TRACKING_URI, so put both
    back, or later tests (and dbt's Python models) would read and write the throwaway store."""
    import os

    import mlflow

    saved_env = os.environ.get("MLFLOW_TRACKING_URI")
    saved_uri = mlflow.get_tracking_uri()
    yield
    mlflow.set_tracking_uri(saved_uri)
    if saved_env is None:
        os.environ.pop("MLFLOW_TRACKING_URI", None)
    else:
        os.environ["MLFLOW_TRACKING_URI"] = saved_env


def test_champion_moves_only_when_beaten_on_the_same_data(tmp_path: Path) -> None:
    import matplotlib.pyplot as plt
    import mlflow

    from lakehouse_ml import registry
    from lakehouse_ml.training_run import run_training

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    first = run_training(_frame(seed=1), "gate_test", experiment="gate_test", tracking_uri=uri)
    assert bool(first.loc[0, "promoted"]) and first.loc[0, "champion_version_before"] is None
    # the diagnostic figures are in the run, and none is left open in the process
    logged = {a.path for a in mlflow.MlflowClient().list_artifacts(first.loc[0, "run_id"], "plots")}
    assert logged == {f"plots/{n}.png" for n in ("roc", "pr", "calibration", "feature_importance")}
    assert plt.get_fignums() == []
    # the candidate is the challenger too; its validation metrics are on its LoggedModel (MLflow 3)
    assert registry.alias_version("gate_test", "challenger") == first.loc[0, "model_version"]
    version = mlflow.MlflowClient().get_model_version("gate_test", first.loc[0, "model_version"])
    logged_model = mlflow.get_logged_model(version.model_id or version.source.removeprefix("models:/"))
    metrics = {m.key: m.value for m in logged_model.metrics}
    assert metrics["validation_roc_auc"] == pytest.approx(first.loc[0, "roc_auc"])
    # its requirements are the packages it loads with, at this environment's versions, nothing else
    requirements = Path(mlflow.artifacts.download_artifacts(f"{logged_model.artifact_location}/requirements.txt"))
    from importlib.metadata import version as installed

    pins = [f"{name}=={installed(name)}" for name in ("mlflow", "numpy", "pandas", "scikit-learn", "scipy", "skops")]
    assert requirements.read_text().split() == pins
    loaded = mlflow.sklearn.load_model(logged_model.model_uri)
    assert loaded.predict_proba(_frame(seed=1)[list(loaded.feature_names_in_)]).shape == (1600, 2)
    second = run_training(_frame(seed=1), "gate_test", experiment="gate_test", tracking_uri=uri)
    assert not bool(second.loc[0, "promoted"])  # a tie is not a win
    assert registry.champion_version("gate_test") == first.loc[0, "model_version"]
    # the challenger moved to the new candidate, the champion stayed
    assert registry.alias_version("gate_test", "challenger") == second.loc[0, "model_version"]
    assert registry.promote_if_better("gate_test", second.loc[0, "model_version"], 0.9, 0.8)
    assert registry.champion_version("gate_test") == second.loc[0, "model_version"]
    assert not registry.promote_if_better("gate_test", first.loc[0, "model_version"], 0.7, 0.8)


def test_training_does_not_depend_on_row_order(tmp_path: Path) -> None:
    from lakehouse_ml.training_run import run_training

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    frame = _frame(seed=2)
    a = run_training(frame, "order_test", experiment="order_test", tracking_uri=uri)
    b = run_training(frame.sample(frac=1.0, random_state=5), "order_test", experiment="order_test", tracking_uri=uri)
    assert a.loc[0, "roc_auc"] == b.loc[0, "roc_auc"]
    assert not bool(b.loc[0, "promoted"])


def test_small_fits_run_on_one_thread_and_larger_ones_on_every_core(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Under SINGLE_THREAD_MAX_ROWS training rows the model fits with one OpenMP thread (its threads slow
    each other down when a core is busy elsewhere); at or above it, with as many as the process has."""
    from threadpoolctl import threadpool_info

    from lakehouse_ml import training_run

    def openmp_threads() -> int:
        return max(info["num_threads"] for info in threadpool_info() if info["user_api"] == "openmp")

    class Fitted(Exception):
        pass

    seen = []

    def fit(train, valid):  # type: ignore[no-untyped-def]
        seen.append((len(train), openmp_threads()))
        raise Fitted

    monkeypatch.setattr(training_run, "train_model", fit)
    frame = _frame()
    for limit in (10**9, 10):
        monkeypatch.setattr(training_run, "SINGLE_THREAD_MAX_ROWS", limit)
        with pytest.raises(Fitted):
            training_run.run_training(frame, "threads_test")
    rows = seen[0][0]
    assert rows > 10 and seen == [(rows, 1), (rows, openmp_threads())]


def test_training_on_compact_keys_is_the_run_on_python_objects(tmp_path: Path) -> None:
    """Keys as Arrow strings and datetime64 (what ``collect_training_pairs`` hands over) sort like Python
    strings and dates: the same rows in the same order, so the same model and the same run row."""
    from lakehouse_ml.training_run import run_training
    from lakehouse_ml.transfer import _compact

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    frame = _frame(seed=4)
    frame["user_id"] = [f"u{i % 997}" for i in range(len(frame))]  # string order differs from numeric order
    frame["product_id"] = frame["product_id"].astype(str)
    compact = _compact(frame.copy())
    assert str(compact["user_id"].dtype) == "string" and compact["as_of_date"].dtype == "datetime64[ms]"
    a = run_training(frame, "compact_test", experiment="compact_test", tracking_uri=uri, max_train_rows=900)
    b = run_training(compact, "compact_test", experiment="compact_test", tracking_uri=uri, max_train_rows=900)
    same = ["train_from", "train_to", "valid_date", "n_train", "n_valid", "roc_auc", "pr_auc", "log_loss", "brier"]
    assert a.loc[0, same].tolist() == b.loc[0, same].tolist()
    assert frame["user_id"].dtype == object  # the caller's frame is not changed


def test_references_follow_the_generators_rates_and_its_visits(tmp_path: Path) -> None:
    """The Bayes oracle and the clairvoyant bound on hand-written truth, against the closed forms.

    Ten days of equal weight, snapshot 2019-10-04, a 2-day horizon: the window holds 0.2 of the period.
    Pair (1, 9) expects 5 revisits at p 0.1 and 10 browses at p 0.02 of its user's 100 visits over the
    period, in sessions of geometric length. Its visits: one on 10-04 (p 0.5, in the window), one on 10-07 (outside)
    and one on 10-02 (before the snapshot): clairvoyant 0.5. Pair (1, 8) has no visit in the window and
    no rate; pair (2, 9) is none the generator made."""
    import datetime as dt

    import pyarrow as pa
    import pyarrow.parquet as pq

    from lakehouse_ml.oracle import comparison_table, load_truth, reference_probabilities

    at = pd.to_datetime
    pq.write_table(
        pa.table(
            {
                "source_system": ["rees46"] * 3,
                "user_id": [1, 1, 1],
                "product_id": [9, 9, 9],
                "session_index": [10, 11, 12],
                "first_event_at": at(["2019-10-04 00:05", "2019-10-07 12:00", "2019-10-02 08:00"]),
                "purchase_prob": [0.5, 0.2, 0.4],
            }
        ),
        tmp_path / "rees46_visit_truth.parquet",
    )
    pq.write_table(
        pa.table(
            {
                "source_system": ["rees46"],
                "user_id": [1],
                "product_id": [9],
                "user_visits_expected": [100.0],
                "session_break_prob": [0.5],
                "revisits_expected": [5.0],
                "revisit_purchase_prob": [0.1],
                "browses_expected": [10.0],
                "browse_purchase_prob": [0.02],
            }
        ),
        tmp_path / "rees46_pair_rates.parquet",
    )
    days = pd.date_range("2019-10-01", periods=10)
    pq.write_table(
        pa.table({"source_system": ["rees46"] * 10, "day": days.date, "weight": np.full(10, 0.1)}),
        tmp_path / "rees46_day_weights.parquet",
    )
    pairs = pd.DataFrame(
        {
            "as_of_date": [dt.date(2019, 10, 4)] * 3,
            "user_id": ["rees46:1", "rees46:1", "rees46:2"],
            "product_id": ["rees46:9", "rees46:8", "rees46:9"],
        }
    )
    refs = reference_probabilities(pairs, load_truth(tmp_path), horizon_days=2)
    # one of the user's visits is no purchase of the pair with x; sessions of geometric length (b 0.5),
    # 100 * 0.5 of them over the period, 0.2 of those in the window
    x = 1 - (5 * 0.1 + 10 * 0.02) / 100
    no_purchase_in_session = 0.5 * x / (1 - 0.5 * x)
    assert refs["bayes"] == pytest.approx([1 - np.exp(-100 * 0.5 * 0.2 * (1 - no_purchase_in_session)), 0.0, 0.0])
    # about the expected purchases in the window when they are few: 0.2 * (0.5 + 0.2)
    assert refs["bayes"][0] == pytest.approx(0.2 * 0.7, rel=0.15)
    assert refs["clairvoyant"] == pytest.approx([0.5, 0.0, 0.0])
    y = np.array([1, 0, 0])
    table = comparison_table(y, {"model": np.array([0.9, 0.1, 0.2]), "bayes_oracle": refs["bayes"]}, bootstrap=20)
    assert table.loc["bayes_oracle", "roc_auc_share"] == 1.0
    assert table.loc["model", "log_loss_share"] == pytest.approx(
        table.loc["bayes_oracle", "log_loss"] / table.loc["model", "log_loss"]
    )
    assert table.loc["model", "roc_auc_low"] <= table.loc["model", "roc_auc"] <= table.loc["model", "roc_auc_high"]


def test_scoring_covers_the_latest_and_unscored_out_of_time_snapshots() -> None:
    import datetime as dt

    from lakehouse_ml.schedule import dates_to_score

    days = [dt.date(2019, 10, d) for d in range(1, 8)]
    trained_until = dt.date(2019, 10, 4)
    assert dates_to_score(days, trained_until, set()) == days[4:]
    # scored before: only the latest again (a new champion takes over the newest list at once)
    assert dates_to_score(days, trained_until, set(days[4:])) == [days[-1]]
    assert dates_to_score(days, None, set()) == [days[-1]]  # no known training window
    assert dates_to_score([], trained_until, set()) == []


def test_stratified_sample_keeps_the_positive_rate_and_every_snapshot() -> None:
    from lakehouse_ml.features import stratified_sample

    frame = _frame(n_days=4, per_day=2_000, seed=3)
    sample = stratified_sample(frame, 2_000)
    assert abs(len(sample) - 2_000) <= 8  # rounding per stratum
    assert sample[LABEL].mean() == pytest.approx(frame[LABEL].mean(), abs=0.005)
    assert sample["as_of_date"].value_counts().sort_index().tolist() == pytest.approx([500] * 4, abs=2)
    assert sample.index.is_monotonic_increasing  # original order kept (the run sorts before splitting)
    # drawn from the strata's columns only: the rows a draw from the whole frame gives
    strata = frame.groupby(["as_of_date", LABEL], group_keys=False, sort=False)
    whole = strata.sample(frac=2_000 / len(frame), random_state=7)
    assert sample.index.equals(frame.index[frame.index.isin(whole.index)])
    assert stratified_sample(frame, 0) is frame and stratified_sample(frame, len(frame)) is frame


def _labelled_mart(n_days: int, per_day: int) -> pd.DataFrame:
    """A feature-mart frame: unique pairs (as in the mart), every label complete."""
    frame = _frame(n_days=n_days, per_day=per_day)
    frame["user_id"] = [f"u{i}" for i in range(len(frame))]
    frame["product_id"] = frame["product_id"].astype(str)
    frame["is_label_complete"] = True
    # the mart's draw: converters kept whole, the other users at a share (here by the pair's own label)
    frame["draw_share"] = np.where(frame[LABEL], 1.0, 0.5)
    return frame


def test_training_pairs_are_sampled_in_spark_with_validation_whole(spark) -> None:  # type: ignore[no-untyped-def]
    """The driver gets about the capped share of the training snapshots, all validation rows, only the
    model's columns, and the same rows on every call."""
    from decimal import Decimal

    from lakehouse_ml.sampling import collect_training_pairs

    frame = _labelled_mart(n_days=4, per_day=2_000)
    frame["extra_column"] = 1.0
    # the mart's counts are integers, its ratios decimals
    frame["views_30d"] = frame["views_30d"].astype("int64")
    frame["price_to_category_median"] = [Decimal(f"{v:.3f}") for v in frame["price_to_category_median"]]
    late = frame.iloc[:50].assign(as_of_date=pd.Timestamp("2019-10-20").date(), is_label_complete=False)
    mart = spark.createDataFrame(pd.concat([frame, late], ignore_index=True))
    assert dict(mart.dtypes)["price_to_category_median"].startswith("decimal")

    got = collect_training_pairs(mart, max_train_rows=1_200)
    valid_date = pd.Timestamp(frame["as_of_date"].max())  # keys arrive compact: dates as datetime64
    assert "extra_column" not in got.columns and "is_label_complete" not in got.columns
    assert set(got["draw_share"]) == {1.0, 0.5}  # each row's weight comes with it
    assert (got[FEATURES].dtypes == "float64").all()  # cast in Spark, as the model reads them
    assert str(got["user_id"].dtype) == "string" and got["as_of_date"].dtype == "datetime64[ms]"
    assert (got["as_of_date"] == valid_date).sum() == 2_000  # validation: every row
    n_train = int((got["as_of_date"] < valid_date).sum())
    assert 1_000 <= n_train <= 1.05 * 1_200 * 1.15  # ~5% over the cap, hash-drawn
    assert got.attrs["n_train_available"] == 6_000
    again = collect_training_pairs(mart, max_train_rows=1_200)
    assert sorted(again["user_id"]) == sorted(got["user_id"])
    whole = collect_training_pairs(mart)  # no cap: every labelled row
    assert len(whole) == 8_000


def test_validation_pairs_above_their_cap_are_a_uniform_deterministic_draw(spark) -> None:  # type: ignore[no-untyped-def]
    """Above ``max_valid_rows`` the validation snapshot is drawn by a hash of the pair key: about the cap,
    the positive rate kept, the same rows on every call; training rows are not touched by it."""
    from lakehouse_ml.sampling import collect_training_pairs

    frame = _labelled_mart(n_days=3, per_day=4_000)
    mart = spark.createDataFrame(frame)
    valid_rate = frame.loc[frame["as_of_date"] == frame["as_of_date"].max(), LABEL].mean()
    valid_date = pd.Timestamp(frame["as_of_date"].max())  # as the keys arrive (datetime64)

    got = collect_training_pairs(mart, max_valid_rows=1_000)
    valid = got[got["as_of_date"] == valid_date]
    assert 850 <= len(valid) <= 1_150  # a hash draw of about the cap out of 4,000
    assert valid[LABEL].mean() == pytest.approx(valid_rate, abs=0.06)
    assert (got["as_of_date"] < valid_date).sum() == 8_000  # no training cap given: every training row
    assert got.attrs["n_valid_available"] == 4_000
    again = collect_training_pairs(mart, max_valid_rows=1_000)
    assert sorted(again.loc[again["as_of_date"] == valid_date, "user_id"]) == sorted(valid["user_id"])
    under = collect_training_pairs(mart, max_valid_rows=4_000)  # at the cap: whole
    assert (under["as_of_date"] == valid_date).sum() == 4_000


def test_results_travel_as_files_on_a_local_session_and_arrive_unchanged(spark, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The file route gives the frame ``toPandas`` gives (values, nulls, column order, dtypes) and leaves
    no folder behind; a local session uses it, Databricks never does."""
    import datetime as dt

    from lakehouse_ml.transfer import local_spill_dir, to_pandas

    rows = [
        (dt.date(2019, 10, 1 + i % 3), f"u{i}", i, float(i) / 7 if i % 5 else None, i % 2 == 0, i if i % 4 else None)
        for i in range(500)
    ]
    sdf = spark.createDataFrame(
        rows, "as_of_date date, user_id string, product_id bigint, score double, label boolean, n int"
    ).repartition(3)
    sdf = sdf.select("n", "label", "score", "product_id", "user_id", "as_of_date")  # not the creation order
    expected = sdf.toPandas()
    got = to_pandas(sdf, str(tmp_path))
    pd.testing.assert_frame_equal(
        got.sort_values("product_id").reset_index(drop=True), expected.sort_values("product_id").reset_index(drop=True)
    )
    assert list(tmp_path.iterdir()) == []  # the Parquet folder is removed
    # compact: strings as Arrow strings and dates as datetime64, the same values, on both routes
    compact = to_pandas(sdf, str(tmp_path), compact=True)
    assert str(compact["user_id"].dtype) == "string" and compact["as_of_date"].dtype == "datetime64[ms]"
    assert compact["score"].dtype == "float64" and compact["label"].dtype == bool
    by_product = compact.sort_values("product_id").reset_index(drop=True)
    assert by_product["user_id"].tolist() == expected.sort_values("product_id")["user_id"].tolist()
    assert [d.date() for d in by_product["as_of_date"]] == expected.sort_values("product_id")["as_of_date"].tolist()
    pd.testing.assert_frame_equal(
        to_pandas(sdf, None, compact=True).sort_values("product_id").reset_index(drop=True), by_product
    )
    assert local_spill_dir(spark) is not None  # the test session runs a local master
    monkeypatch.setenv("DATABRICKS_RUNTIME_VERSION", "16.4")
    assert local_spill_dir(spark) is None


def test_retraining_follows_the_schedule() -> None:
    """A candidate every `every_days` new labelled days; always when asked, without a champion or a run."""
    import datetime as dt

    from lakehouse_ml.schedule import retrain_decision

    last = dt.date(2019, 10, 20)
    assert retrain_decision(last, last, True, 7) == (
        False,
        "0 new labelled day(s) since the last run; retraining every 7",
    )
    assert not retrain_decision(last + dt.timedelta(days=6), last, True, 7)[0]
    assert retrain_decision(last + dt.timedelta(days=7), last, True, 7)[0]
    assert retrain_decision(last, last, True, 0)[0]  # 0: every run
    assert retrain_decision(last, last, True, 7, force=True) == (True, "asked for (var ml_retrain)")
    assert retrain_decision(last, last, False, 7) == (True, "no champion to score with")
    assert retrain_decision(last, None, True, 7) == (True, "no training run yet")
    assert retrain_decision(None, last, True, 7)[0] is False


def test_features_null_or_constant_everywhere_are_left_out_of_the_fit(tmp_path: Path) -> None:
    """A source without prices: the price feature is null in every training pair; a feature that never
    varies says nothing either. Both are left out (named, with why), the model trains on the rest and its
    own feature list says what it reads."""
    from lakehouse_ml.features import usable_features
    from lakehouse_ml.registry import configure
    from lakehouse_ml.scoring import model_features
    from lakehouse_ml.training_run import run_training

    frame = _frame(seed=5)
    frame["price_to_category_median"] = np.nan
    frame["removes_30d"] = 0.0
    frame.loc[frame.index[:3], "views_1d"] = np.nan  # some nulls and values: information, kept
    kept, left_out = usable_features(frame)
    assert left_out == {
        "removes_30d": "the same value (0) in every training pair",
        "price_to_category_median": "null in every training pair",
    }
    assert "views_1d" in kept and len(kept) == len(FEATURES) - 2
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    row = run_training(frame, "left_out_test", experiment="left_out_test", tracking_uri=uri)
    assert row.loc[0, "n_features"] == len(FEATURES) - 2
    assert row.loc[0, "features_left_out"] == "removes_30d,price_to_category_median"
    import mlflow

    configure(uri)
    run = mlflow.get_run(row.loc[0, "run_id"])
    assert run.data.params["features_left_out"] == "removes_30d,price_to_category_median"
    model = mlflow.sklearn.load_model(f"models:/left_out_test/{row.loc[0, 'model_version']}")
    assert model_features(model) == kept


def test_too_little_labelled_data_skips_training_with_a_reason() -> None:
    import datetime as dt

    from lakehouse_ml.schedule import data_shortfall

    d1, d2, d3 = (dt.date(2019, 10, d) for d in (1, 2, 3))
    assert (
        data_shortfall({}) == "0 label-complete snapshot date(s); a time split needs 2 (more days of data are needed)"
    )
    assert data_shortfall({(d1, False): 50, (d1, True): 2}).startswith("1 label-complete snapshot date(s)")
    assert data_shortfall({(d1, False): 50, (d2, False): 40, (d2, True): 1}) == (
        "no purchase among the training snapshots' pairs"
    )
    assert data_shortfall({(d1, False): 50, (d1, True): 3, (d2, False): 40}) == (
        "no purchase among the validation snapshots' pairs"
    )
    assert (
        data_shortfall({(d1, True): 5, (d2, False): 4, (d2, True): 1})
        == "every pair of the training snapshots converted"
    )
    assert data_shortfall({(d1, False): 9, (d1, True): 1, (d2, False): 9, (d3, True): 1, (d3, False): 3}) is None


def test_scoring_reads_the_champions_own_features(spark, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A champion fit on fewer features than the mart has scores with its own list, in its order; one that
    needs a feature the mart lacks is a clear error."""
    from pyspark.sql import functions as F
    from sklearn.ensemble import HistGradientBoostingClassifier

    from lakehouse_ml.scoring import probability_udf

    frame = _frame(n_days=1, per_day=300, seed=6).reset_index(drop=True)
    frame["row"] = frame.index
    columns = ["views_30d", "carts_30d", "interaction_score"]  # fewer than the mart's, in another order
    model = HistGradientBoostingClassifier(max_iter=5).fit(frame[columns], frame[LABEL].astype(int))
    sdf = spark.createDataFrame(frame[["row", *FEATURES]])
    udf = probability_udf(model)
    got = sdf.select("row", udf(F.struct(*[F.col(c).cast("double") for c in columns])).alias("p")).toPandas()
    expected = model.predict_proba(frame[columns])[:, 1]
    assert got.sort_values("row")["p"].to_numpy() == pytest.approx(expected)
    stranger = HistGradientBoostingClassifier(max_iter=2).fit(
        frame[["views_30d"]].rename(columns={"views_30d": "no_such_feature"}), frame[LABEL].astype(int)
    )
    with pytest.raises(ValueError, match=r"reads features the mart does not have \(no_such_feature\): retrain"):
        probability_udf(stranger)


def test_scoring_covers_each_sources_latest_snapshot() -> None:
    import datetime as dt

    from lakehouse_ml.schedule import dates_to_score

    web = [dt.date(2019, 10, d) for d in range(1, 8)]
    app = [dt.date(2015, 8, d) for d in range(1, 8)]
    got = dates_to_score([*app, *web], dt.date(2019, 10, 4), set(), latest=[app[-1], web[-1]])
    assert got == [app[-1], *web[4:]]  # the app's current pairs too, though its data ended years before
