"""`make bench`: the whole pipeline at several sizes, the incremental day, and the baselines.

Each size runs in its own process and LAKEHOUSE_HOME (one SparkSession per process, bound to one home):

1. generate D+1 days of events; the last day's event and catalog files are held back;
2. the floor: Spark reads the landing files once (text) and writes one Delta table;
3. the full `dbt build` (Bronze to scoring); per-layer times from run_results.json;
4. the held-back day lands; the daily `dbt build` runs (incremental Bronze, merge facts);
5. the single-machine baseline: pandas reads the same web-shop CSVs and computes per-pair features;
6. peak RSS of the Python process and of the JVM, table sizes on disk.

`lakehouse bench` drives the sizes and prints one table; with `--out BENCHMARKS.md` each size's result is
kept as a file under `benchmarks/results/` and the report is written again whole from those files
(``lakehouse.bench.report``).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

from lakehouse.bench.memwatch import MemoryWatch
from lakehouse.bench.stages import _peak_rss_mib

LAYERS = ("bronze", "silver", "gold", "features", "training", "scoring")


def _layer(node: dict) -> str:
    """The pipeline layer of a run_results node (tests count with the layer of what they test)."""
    uid = node["unique_id"]
    path = node.get("original_file_path") or ""
    name = uid.split(".")[-1]
    if "ml_conversion_training_runs" in name:
        return "training"
    if name.startswith("ml_conversion_predictions") or "python_models/ml" in path:
        return "scoring"
    if "/bronze/" in path or path.startswith("python_models/bronze") or "brz_" in name:
        return "bronze"
    if "/marts/ml/" in path or "ml_" in name:
        return "features"
    if "/marts/" in path or any(k in name for k in ("fct_", "dim_", "agg_", "rpt_")):
        return "gold"
    return "silver"  # staging, intermediate, seeds, snapshots, their tests


def layer_seconds(run_results: Path, manifest: Path) -> dict[str, float]:
    """Node-seconds per layer, summed over the nodes of one dbt invocation: with several dbt threads the
    nodes overlap, so the layers add up to more than the invocation's wall time."""
    nodes = json.loads(manifest.read_text())
    paths = {
        uid: n.get("original_file_path", "")
        for section in ("nodes", "sources", "unit_tests")
        for uid, n in nodes.get(section, {}).items()
    }
    # a test counts with the model it tests
    parents = {uid: n.get("depends_on", {}).get("nodes", []) for uid, n in nodes.get("nodes", {}).items()}
    out = dict.fromkeys(LAYERS, 0.0)
    for result in json.loads(run_results.read_text())["results"]:
        uid = result["unique_id"]
        node = {"unique_id": uid, "original_file_path": paths.get(uid, "")}
        if uid.startswith(("test.", "unit_test.")):
            models = [p for p in parents.get(uid, []) if p.startswith("model.")] or [uid]
            node = {"unique_id": models[-1], "original_file_path": paths.get(models[-1], "")}
            if uid.startswith("unit_test."):
                node = {"unique_id": uid.split(".")[2], "original_file_path": ""}
        out[_layer(node)] += float(result.get("execution_time") or 0.0)
    return out


def slowest_nodes(run_results: Path, count: int = 8) -> list[list]:
    """The ``count`` nodes of one dbt invocation that ran longest, as [name, seconds], longest first: where
    the next saving is."""
    results = json.loads(run_results.read_text())["results"]
    timed = sorted(results, key=lambda r: -float(r.get("execution_time") or 0.0))[:count]
    return [[_short(r["unique_id"]), round(float(r.get("execution_time") or 0.0), 1)] for r in timed]


def _du_mib(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 2**20 if path.exists() else 0.0


_FILE_DAY = re.compile(r"(\d{4}-\d{2}-\d{2})")


def _hold_back_last_day(landing: Path, held: Path, last_day: dt.date) -> list[Path]:
    """Move the last day's event and catalog files out of the landing zone (they land later), and every file
    of a day after it: the generator writes the events of sessions that run past the last midnight into a
    file of the next day, and left in place they would put the held-back day before data already built,
    a late day instead of a new one."""
    moved = []
    for f in sorted(landing.rglob("*")):
        day = _FILE_DAY.search(f.name)
        if not (f.is_file() and day and "redelivery" not in f.relative_to(landing).parts):
            continue
        if dt.date.fromisoformat(day.group(1)) >= last_day:
            target = held / f.relative_to(landing)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(str(f), target)
            moved.append(target)
    return moved


def pandas_baseline(landing: Path) -> dict[str, float]:
    """The single-machine approach: pandas reads the web-shop CSVs and computes per (user, product) the
    counts per event type, the interaction score (seed weights) and the last interaction time."""
    import pandas as pd

    started = time.perf_counter()
    files = sorted((landing / "rees46").rglob("*.csv*"))
    frames = [
        pd.read_csv(
            f,
            usecols=["event_time", "event_type", "product_id", "user_id"],
            engine="pyarrow",
            on_bad_lines="skip",
        )
        for f in files
    ]
    events = pd.concat(frames, ignore_index=True)
    read_s = time.perf_counter() - started
    events = events.dropna(subset=["user_id", "product_id"]).drop_duplicates()
    events["event_time"] = pd.to_datetime(events["event_time"].str.replace(" UTC", ""), errors="coerce")
    weights = {"view": 1, "cart": 3, "remove_from_cart": -1, "purchase": 5}
    events["w"] = events["event_type"].map(weights).fillna(0)
    for name in ("view", "cart", "purchase"):
        events[name] = (events["event_type"] == name).astype("int32")
    pairs = events.groupby(["user_id", "product_id"], sort=False).agg(
        views=("view", "sum"),
        carts=("cart", "sum"),
        purchases=("purchase", "sum"),
        interaction_score=("w", "sum"),
        last_interaction_at=("event_time", "max"),
    )
    return {
        "pandas_seconds": time.perf_counter() - started,
        "pandas_read_seconds": read_s,
        "pandas_events": float(len(events)),
        "pandas_pairs": float(len(pairs)),
        "pandas_peak_rss_mib": _peak_rss_mib(),
    }


def run_one(events: int, days: int, work: Path, seed: int = 42) -> dict:
    """One size, in this process (LAKEHOUSE_HOME must be a fresh folder)."""
    from lakehouse.datagen.generate import GeneratorConfig, write_landing
    from lakehouse.engine.dbt_runner import run_dbt, scheduled_build
    from lakehouse.engine.paths import lakehouse_paths
    from lakehouse.engine.runtime import get_spark

    paths = lakehouse_paths()
    if paths.warehouse.exists() and any(paths.warehouse.iterdir()):
        raise RuntimeError(f"{paths.home} already holds a warehouse: point LAKEHOUSE_HOME at an empty folder")
    out: dict = {"events_requested": events, "days": days}
    start = dt.date(2019, 10, 1)
    # one more day than the history: it lands after the full build
    per_day = events / days
    started = time.perf_counter()
    result = write_landing(
        GeneratorConfig(events=round(per_day * (days + 1)), days=days + 1, start_date=start, seed=seed),
        paths.landing,
        paths.oracle,
        progress=False,
    )
    out["generate_seconds"] = time.perf_counter() - started
    held = work / "held_back"
    moved = _hold_back_last_day(paths.landing, held, start + dt.timedelta(days=days))
    out["landing_mib"] = _du_mib(paths.landing)
    out["daily_files"] = len(moved)
    out["events_generated"] = result.events

    spark = get_spark()
    jvm_pid = spark.sparkContext._jvm.java.lang.ProcessHandle.current().pid()

    # the floor: read every landing file once, write one Delta table
    started = time.perf_counter()
    lines = spark.read.option("recursiveFileLookup", "true").text(str(paths.landing))
    # in snappy whatever the engine's codec: the floor stays the same yardstick across commits
    lines.write.format("delta").option("compression", "snappy").mode("overwrite").save(str(work / "floor_table"))
    out["floor_seconds"] = time.perf_counter() - started
    out["landing_lines"] = spark.read.format("delta").load(str(work / "floor_table")).count()
    shutil.rmtree(work / "floor_table", ignore_errors=True)

    target = work / "target"
    build = scheduled_build()
    out["dbt_build"] = "dbt " + " ".join(build[:-1]) + f" '{build[-1]}'"
    for phase in ("full", "daily"):
        if phase == "daily":
            for f in moved:
                dest = paths.landing / f.relative_to(held)
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.move(str(f), dest)
        started = time.perf_counter()
        with MemoryWatch() as watch:
            ok = run_dbt([*build, "--target-path", str(target)], callbacks=[watch.on_event])
        out[f"{phase}_build_seconds"] = time.perf_counter() - started
        out[f"{phase}_memory"] = watch.summary()
        out[f"{phase}_build_ok"] = ok
        out[f"{phase}_layers"] = layer_seconds(target / "run_results.json", target / "manifest.json")
        out[f"{phase}_slowest"] = slowest_nodes(target / "run_results.json")
        if phase == "full":
            out["events_in_fct"] = spark.table("gold.fct_events").count()
            out["labelled_pairs"] = (
                spark.table("ml.ml_user_item_features").where("is_label_complete").count()
                if spark.catalog.tableExists("ml.ml_user_item_features")
                else 0
            )
    out["sizes_mib"] = {d.name.removesuffix(".db"): _du_mib(d) for d in sorted(paths.warehouse.glob("*.db"))}
    out["python_peak_rss_mib"] = _peak_rss_mib()
    out["jvm_peak_rss_mib"] = _peak_rss_mib(jvm_pid)
    # its own process, so its peak memory is its own
    code = "import json,sys; from pathlib import Path; from lakehouse.bench.pipeline import pandas_baseline; "
    code += "print(json.dumps(pandas_baseline(Path(sys.argv[1]))))"
    done = subprocess.run([sys.executable, "-c", code, str(paths.landing)], capture_output=True, text=True)
    if done.returncode == 0:
        out.update(json.loads(done.stdout.strip().splitlines()[-1]))
    else:
        out.update(pandas_seconds=float("nan"), pandas_read_seconds=float("nan"), pandas_peak_rss_mib=0.0)
        out["pandas_error"] = (done.stderr.strip().splitlines() or ["failed"])[-1]
    return out


def _row(r: dict) -> list[str]:
    n = r["events_generated"]
    full, daily = r["full_build_seconds"], r["daily_build_seconds"]
    layers = r["full_layers"]
    return [
        f"{n:,}",
        f"{r['generate_seconds']:.0f}",
        *(f"{layers[k]:.0f}" for k in LAYERS),
        f"{full:.0f}",
        f"{n / full:,.0f}",
        f"{full / (n / 1e6):.1f}",
        f"{daily:.0f} ({daily / full:.0%})",
        f"{r['floor_seconds']:.0f} ({full / r['floor_seconds']:.1f}x)",
        f"{r['pandas_seconds']:.0f}",
        f"{max(r['python_peak_rss_mib'], r['jvm_peak_rss_mib']) / 1024:.1f} / "
        f"{(r['python_peak_rss_mib'] + r['jvm_peak_rss_mib']) / 1024:.1f} / {_sampled_peak(r)}",
        f"{sum(r['sizes_mib'].values()):,.0f}",
        "yes" if r["full_build_ok"] and r["daily_build_ok"] else "NO",
    ]


def _sampled_peak(r: dict) -> str:
    """The highest sampled RSS of the whole process tree over both builds (older results lack it)."""
    peaks = [r[k]["tree_peak_mib"] for k in ("full_memory", "daily_memory") if k in r]
    return f"{max(peaks) / 1024:.1f}" if peaks else "-"


def _short(uid: str) -> str:
    """A node's name without its resource type and package (``model.ecommerce_lakehouse.x`` -> ``x``)."""
    return uid.split(".")[2] if uid.count(".") >= 2 else uid


def memory_lines(r: dict) -> list[str]:
    """Where each build's memory peaked: the node running when the sampled peak was reached."""
    lines = []
    for phase in ("full", "daily"):
        m = r.get(f"{phase}_memory")
        if not m:
            continue
        lines.append(
            f"{r['events_generated']:,} events, {phase} build: run {m['tree_peak_mib'] / 1024:.1f} GiB during "
            f"{_short(m['tree_peak_node'])}; Python {m['python_peak_mib'] / 1024:.1f} GiB during "
            f"{_short(m['python_peak_node'])}; JVM {m['jvm_peak_mib'] / 1024:.1f} GiB during "
            f"{_short(m['jvm_peak_node'])}"
        )
    return lines


HEADER = [
    "events",
    "generate s",
    *(f"{k} s" for k in LAYERS),
    "full build s",
    "events/s",
    "s per 1M",
    "daily build s (of full)",
    "floor s (pipeline/floor)",
    "pandas s",
    "peak RSS GiB (max / py+JVM / run)",
    "tables MiB",
    "build ok",
]


def render(results: list[dict]) -> str:
    rows = [HEADER, *[_row(r) for r in results]]
    widths = [max(len(row[i]) for row in rows) for i in range(len(HEADER))]
    fmt = lambda row: " | ".join(c.rjust(w) for c, w in zip(row, widths, strict=True))  # noqa: E731
    table = [fmt(rows[0]), "-+-".join("-" * w for w in widths), *map(fmt, rows[1:])]
    return "\n".join(table + [line for r in results for line in memory_lines(r)])


def _cpu_model() -> str:
    """The processor's name (machines of one size differ: the same 5M build took 2,324 s on one and 1,021 s
    on another)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "processor unknown"


def _commit() -> str:
    """The checkout's commit, marked ``-dirty`` when tracked files differ from it."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], capture_output=True, text=True)
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head.stdout.strip() + ("-dirty" if dirty.stdout.strip() else "")


def machine_facts() -> dict[str, object]:
    """What a figure depends on besides the code: the processor, cores, memory, Python, and the commit."""
    return {
        "processor": _cpu_model(),
        "cores": os.cpu_count(),
        "mem_gib": round(_mem_gib()),
        "python": platform.python_version(),
        "commit": _commit(),
        "measured": dt.date.today().isoformat(),
    }


def _mem_gib() -> float:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 2**20
    except OSError:
        pass
    return 0.0


def run_sizes(sizes: list[int], days: int, work: Path) -> list[dict]:
    """Each size in a child process with its own LAKEHOUSE_HOME under ``work``."""
    results = []
    for events in sizes:
        folder = work / f"events_{events}"
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        env = dict(os.environ, LAKEHOUSE_HOME=str(folder / "home"), DBT_TARGET="local")
        env.pop("LAKEHOUSE_LANDING", None)
        env.pop("MLFLOW_TRACKING_URI", None)
        out = folder / "result.json"
        print(f"bench: {events:,} events over {days} days in {folder} ...", flush=True)
        cmd = [sys.executable, "-m", "lakehouse.cli", "bench-one", "--events", str(events), "--days", str(days)]
        done = subprocess.run([*cmd, "--work-dir", str(folder), "--json", str(out)], env=env, check=False)
        if done.returncode != 0 or not out.exists():
            raise RuntimeError(f"the {events:,}-event run failed (exit {done.returncode}); see its output above")
        result = json.loads(out.read_text())
        result.update(machine_facts(), days=days, command=f"lakehouse bench --sizes {events} --days {days}")
        results.append(result)
        print(render(results), flush=True)
    return results
