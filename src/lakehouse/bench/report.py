"""BENCHMARKS.md, written whole from the result files the bench keeps (one per size and machine).

Nothing in the report is written by hand: the method is this module's text, the figures and the targets'
measured side come from ``benchmarks/results/*.json``, so running the bench again replaces them all.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from lakehouse.bench.pipeline import HEADER, LAYERS, _row, memory_lines

RESULTS = Path("benchmarks") / "results"

METHOD = """\
What one machine does with this pipeline and how the cost grows with the data. `make bench` (not part of
`make test`; `BENCH_SIZES=1000000 make bench` for one size) runs each size in a fresh lakehouse:

1. `lakehouse generate` for 30 days plus one: the last day's event and catalog files are held back;
2. **the floor**: Spark reads every landing file once (text) and writes one Delta table (in snappy whatever
   the engine's codec, so that the yardstick stays the same), the least any pipeline must do with that data;
3. the **full `dbt build`** (Bronze to scoring) as a scheduled run makes it: the data tests included, the
   dbt unit tests left to CI (`--exclude-resource-type unit_test`), the large tables' data tests reading the
   rows the run wrote (`--vars '{test_scope: run}'`, docs/data-quality.md; each run below names its command), with
   per-layer node-seconds from `run_results.json` (a test counts with the layer of the model it tests;
   dbt's 4 local threads overlap, so the layers add up to more than the build's wall time);
4. the held-back day lands and the **daily `dbt build`** runs, the same command;
5. **pandas**, the single-machine approach of many public projects: read the same web-shop CSVs and compute
   per (user, product) the counts per event type, the interaction score and the last interaction time;
6. memory: peak RSS (VmHWM) of the Python process and of the JVM, and the resident memory of the whole run
   (dbt, its JVM and Spark's Python workers) sampled every 0.25 s and at each node's start and end, with
   the node running at each peak; table sizes on disk per schema.

Machines of one size differ (the same build took 2.3x longer on one than on another), so every row names
its processor and commit, and the targets are ratios to the floor measured in the same run.

Columns: `generate s` is not part of the pipeline; `bronze s` to `scoring s` are the layers (`features` the
ML marts, `training` and `scoring` the dbt Python models); `full build s` is the full build's wall time,
`s per 1M` per million events; `daily build s (of full)` the incremental day and its share of the full
build; `floor s (pipeline/floor)` the floor and how many floors the full build takes; `peak RSS` the larger
of the two processes, their sum (an upper bound: the peaks can come at different moments) and the sampled
peak of the whole run."""

# the targets the pipeline is held to: (figure, target, size in events, how to read the result)
TARGETS = (
    ("full build, 10M events", "<= 60x the floor", 10_000_000, "full"),
    ("daily build, 10M events", "<= 18x the floor", 10_000_000, "daily"),
    ("full build, 1M events", "<= 20x the floor", 1_000_000, "full"),
    ("ml schema on disk, 1M events", "<= 75 MiB", 1_000_000, "ml_mib"),
    ("whole-run memory, sampled", "<= 8 GB at every size", None, "memory"),
    ("a month: 42.4M events over 31 days, full build", "<= 45 min and 8 GB", 42_400_000, "month"),
)


def result_path(folder: Path, result: dict) -> Path:
    """Where a result is kept: one file per size and machine (a new run of both replaces it)."""
    machine = re.sub(r"[^a-z0-9]+", "-", str(result.get("processor", "unknown")).lower()).strip("-")
    return folder / f"{result['events_requested']}-events-{result.get('cores', 0)}-cores-{machine}.json"


def save(folder: Path, results: list[dict]) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for result in results:
        path = result_path(folder, result)
        path.write_text(json.dumps(result, indent=1, sort_keys=True, default=str) + "\n")
        written.append(path)
    return written


def load(folder: Path) -> list[dict]:
    """The kept results, ordered by machine, then size."""
    results = [json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))]
    return sorted(results, key=lambda r: (str(r.get("processor")), int(r["events_requested"])))


def _run_peak_gb(r: dict) -> float | None:
    peaks = [r[k]["tree_peak_mib"] for k in ("full_memory", "daily_memory") if r.get(k)]
    return max(peaks) * 2**20 / 1e9 if peaks else None


def _where(r: dict) -> str:
    return f"{r.get('processor', 'unknown processor')}, commit {r.get('commit', 'unknown')}"


def _measured(kind: str, results: list[dict]) -> tuple[str, str]:
    """The measured side of a target, and which run it comes from."""
    if kind == "memory":
        peaks = [(p, r) for r in results if (p := _run_peak_gb(r)) is not None]
        if not peaks:
            return "-", "no run with the sampled memory"
        peak, run = max(peaks, key=lambda x: x[0])
        sizes = ", ".join(f"{r['events_generated']:,}" for r in results)
        return f"{peak:.1f} GB at most ({run['events_generated']:,} events)", f"runs of {sizes} events"
    if not results:
        return "-", "not run"
    r = max(results, key=lambda x: str(x.get("measured", "")))
    if kind == "month":
        run_peak = _run_peak_gb(r)
        memory = f", run {run_peak:.1f} GB at most" if run_peak is not None else ""
        return f"{r['full_build_seconds'] / 60:.1f} min{memory}", _where(r)
    if kind == "ml_mib":
        return f"{r['sizes_mib'].get('ml', 0):,.0f} MiB", _where(r)
    seconds = r[f"{kind}_build_seconds"]
    return f"{seconds / r['floor_seconds']:.1f}x ({seconds:,.0f} s, floor {r['floor_seconds']:.0f} s)", _where(r)


def targets_table(results: list[dict]) -> str:
    lines = ["| figure | target | measured | run |", "|---|---|---|---|"]
    for figure, target, events, kind in TARGETS:
        chosen = [r for r in results if events is None or int(r["events_requested"]) == events]
        measured, where = _measured(kind, chosen)
        lines.append(f"| {figure} | {target} | {measured} | {where} |")
    return "\n".join(lines)


def figures_table(results: list[dict]) -> str:
    header = [*HEADER, "processor (cores, RAM)", "commit", "measured"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for r in results:
        machine = f"{r.get('processor', 'unknown')} ({r.get('cores', '?')}, {r.get('mem_gib', '?')} GiB)"
        cells = [*_row(r), machine, str(r.get("commit", "unknown")), str(r.get("measured", "unknown"))]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _detail(r: dict) -> str:
    # a result without the key comes from a bench that ran a plain `dbt build`
    build = r.get("dbt_build", "dbt build, unit tests included")
    parts = [f"{r['events_generated']:,} events ({r.get('command', 'lakehouse bench')}; {build})"]
    if "labelled_pairs" in r:
        parts.append(f"labelled pairs {r['labelled_pairs']:,}")
    parts.append("daily layers " + ", ".join(f"{k} {r['daily_layers'][k]:.0f}s" for k in LAYERS))
    # optional: a kept result file need not list its slowest nodes
    for phase in ("full", "daily"):
        if r.get(f"{phase}_slowest"):
            slowest = ", ".join(f"{name} {seconds:.0f}s" for name, seconds in r[f"{phase}_slowest"])
            parts.append(f"{phase} build's slowest nodes {slowest}")
    parts.append("tables per schema MiB " + ", ".join(f"{k} {v:,.0f}" for k, v in r["sizes_mib"].items()))
    parts.append(
        f"pandas read {r['pandas_read_seconds']:.0f}s of {r['pandas_seconds']:.0f}s, "
        f"peak RSS {r['pandas_peak_rss_mib'] / 1024:.1f} GiB"
    )
    parts.extend(line.split(", ", 1)[1] for line in memory_lines(r))
    return "- " + "; ".join(parts)


def render(results: list[dict]) -> str:
    """The whole BENCHMARKS.md."""
    figures = figures_table(results) if results else "No result is kept yet: run `make bench`."
    details = "\n".join(_detail(r) for r in results)
    text = (
        "# Benchmarks\n\n"
        f"<!-- written by `lakehouse bench --out BENCHMARKS.md` from {RESULTS.as_posix()}/*.json; "
        "edits here are overwritten -->\n\n"
        f"{METHOD}\n\n"
        "## Targets\n\n"
        "The latest run of each size. The month is REES46 October 2019's size, generated: `lakehouse bench "
        "--sizes 42400000 --days 31`; its full build is the end-to-end time of a month landed at once (the "
        "generator's own memory is not the pipeline's).\n\n"
        f"{targets_table(results)}\n\n"
        "## Figures\n\n"
        f"{figures}\n"
    )
    if details:
        text += (
            "\nPer run, the daily build's layers, each build's slowest nodes, the tables on disk, pandas and where"
            f" memory peaked:\n\n{details}\n"
        )
    return text


def write(path: Path, results_folder: Path) -> None:
    path.write_text(render(load(results_folder)))
