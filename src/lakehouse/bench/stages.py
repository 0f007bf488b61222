"""Ingestion benchmark: generation, Bronze and Silver on N generated events; rows/s and peak memory."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path


def _peak_rss_mib(pid: int | str = "self") -> float:
    """Peak resident set size (VmHWM) of a process, in MiB; 0 when unknown."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


@dataclass
class Phase:
    name: str
    seconds: float
    rows: int

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds else float("nan")


def run_ingestion_benchmark(events: int, days: int, seed: int = 42) -> tuple[list[Phase], dict[str, float]]:
    """Generate ``events`` into a fresh LAKEHOUSE_HOME, then build Bronze and Silver with dbt, timed."""
    from lakehouse.datagen.generate import GeneratorConfig, write_landing
    from lakehouse.engine.dbt_runner import run_dbt
    from lakehouse.engine.paths import lakehouse_paths
    from lakehouse.engine.runtime import get_spark

    paths = lakehouse_paths()
    if paths.warehouse.exists() and any(paths.warehouse.iterdir()):
        raise RuntimeError(f"{paths.home} already holds a warehouse: point LAKEHOUSE_HOME at an empty folder")
    phases: list[Phase] = []
    started = time.perf_counter()
    result = write_landing(GeneratorConfig(events=events, days=days, seed=seed), paths.landing, paths.oracle)
    phases.append(Phase("generate (landing CSV)", time.perf_counter() - started, result.events))
    spark = get_spark()
    jvm_pid = spark.sparkContext._jvm.java.lang.ProcessHandle.current().pid()
    if not run_dbt(["seed", "--target-path", str(paths.tmp / "bench_target")]):
        raise RuntimeError("dbt seed failed")
    for name, select in (
        ("bronze (raw lines, all sources)", "path:python_models/bronze path:models/bronze"),
        ("silver (parse, validate, dedup)", "path:models/staging path:models/intermediate"),
    ):
        started = time.perf_counter()
        if not run_dbt(["run", "--select", select, "--target-path", str(paths.tmp / "bench_target")]):
            raise RuntimeError(f"dbt run failed for {name}")
        phases.append(Phase(name, time.perf_counter() - started, result.events))
    memory = {"python_peak_rss_mib": _peak_rss_mib(), "jvm_peak_rss_mib": _peak_rss_mib(jvm_pid)}
    return phases, memory


def render(phases: list[Phase], memory: dict[str, float]) -> str:
    lines = [f"{'phase':34} {'seconds':>9} {'rows':>12} {'rows/s':>12}"]
    lines += [f"{p.name:34} {p.seconds:9.1f} {p.rows:12,} {p.rows_per_second:12,.0f}" for p in phases]
    lines.append(
        f"peak RSS: python {memory['python_peak_rss_mib']:,.0f} MiB, JVM {memory['jvm_peak_rss_mib']:,.0f} MiB "
        f"(cores: {os.cpu_count()})"
    )
    return "\n".join(lines)


def run_ml_benchmark(min_pairs: int, model_name: str = "ecommerce_conversion", train: bool = True) -> list[str]:
    """Time training and scoring on the labelled pairs of an already built lakehouse.

    Training: ``train_model`` (gradient boosting + both baselines, as the dbt model runs it) on the time
    split of every labelled snapshot. Scoring: the model through ``probability_udf`` (the pandas UDF the
    scoring model uses) over all labelled pairs, materialised with Spark's no-op sink, so the figure is
    the distributed scoring path (reading the Delta table included); for comparison, also through
    ``mlflow.pyfunc.spark_udf``.
    """
    import mlflow
    from pyspark.sql import functions as F

    from lakehouse.engine.runtime import get_spark
    from lakehouse_ml import registry
    from lakehouse_ml.features import FEATURES, KEY_COLUMNS, time_split
    from lakehouse_ml.train import train_model

    spark = get_spark()
    labelled = spark.table("ml.ml_user_item_features").where("is_label_complete")
    started = time.perf_counter()
    frame = labelled.toPandas().sort_values(KEY_COLUMNS, kind="stable").reset_index(drop=True) if train else None
    load_s = time.perf_counter() - started
    n_pairs = len(frame) if frame is not None else labelled.count()
    lines = [f"labelled pairs: {n_pairs:,} (load into pandas {load_s:.1f}s)"]
    if n_pairs < min_pairs:
        lines.append(f"warning: fewer than {min_pairs:,} labelled pairs; generate more events for this benchmark")
    if train:
        from lakehouse.reports.model_report import label_horizon_days

        training, valid = time_split(frame, embargo_days=label_horizon_days())
        started = time.perf_counter()
        result = train_model(training, valid)
        train_s = time.perf_counter() - started
        lines.append(
            f"training: {len(training):,} train + {len(valid):,} validation pairs in {train_s:.1f}s "
            f"({len(training) / train_s:,.0f} pairs/s; {result.extra['n_iter']} boosting iterations; "
            f"baselines included); validation ROC-AUC {result.metrics['roc_auc']:.4f}"
        )

    if train:
        # the model just trained, saved as the training run logs it (sklearn flavour, predict_proba)
        import tempfile

        from mlflow.models import infer_signature

        from lakehouse_ml.features import feature_matrix

        model_dir = Path(tempfile.mkdtemp(prefix="lakehouse-bench-model-")) / "model"
        sample = feature_matrix(valid.head(100))
        mlflow.sklearn.save_model(
            result.model,
            str(model_dir),
            signature=infer_signature(sample, result.model.predict_proba(sample)[:, 1]),
            pyfunc_predict_fn="predict_proba",
            serialization_format="skops",
            skops_trusted_types=registry.SKOPS_TRUSTED_TYPES,
        )
        model_uri, label = str(model_dir), "the model trained above"
    else:
        registry.configure()
        version = registry.champion_version(model_name)
        if version is None:
            lines.append("scoring: skipped, no champion registered (run `make demo` first)")
            return lines
        model_uri, label = f"models:/{model_name}/{version}", f"champion v{version}"
    from lakehouse_ml.scoring import probability_udf

    rows = labelled.count()
    features = F.struct(*[F.col(c).cast("double") for c in FEATURES])
    pyfunc = mlflow.pyfunc.spark_udf(spark, model_uri, result_type="array<double>", env_manager="local")
    paths = {
        "pandas UDF, the scoring model's path": probability_udf(mlflow.sklearn.load_model(model_uri))(features),
        "mlflow.pyfunc.spark_udf": F.element_at(pyfunc(*[F.col(c).cast("double").alias(c) for c in FEATURES]), 2),
    }
    for path, column in paths.items():
        scored = labelled.select(*KEY_COLUMNS, column.alias("probability"))
        scored.limit(10_000).write.format("noop").mode("overwrite").save()  # warm-up: workers start
        started = time.perf_counter()
        scored.write.format("noop").mode("overwrite").save()
        score_s = time.perf_counter() - started
        lines.append(f"scoring ({label}, {path}): {rows:,} pairs in {score_s:.1f}s = {rows / score_s:,.0f} pairs/s")
    return lines
