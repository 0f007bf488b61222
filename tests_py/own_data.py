"""Own-data scenarios: the README's "Your own data" steps, literally, in a fresh lakehouse home each.

Each scenario writes files in the public layouts (``realshaped``) into ``<home>/landing/<source>/``, as
the README says, then runs ``lakehouse demo`` (the command ``make demo`` runs) with the vars the README
names for it, and keeps what the tests check: the exit code and output, the pages, and the tables a
test reads, as pandas. The scenarios run one after another in a child process of the test session
(``start``), each in its own home, so one JVM serves them all (a warm JVM builds about 40% faster than a
new one) while the test process builds the shared lakehouse: the two share nothing, and a dbt build on two
cores leaves one of them idle about a third of the time. Beside the second scenario, the killed-run
recovery runs on the first one's files (processes of its own: it is killed).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import os
import pickle
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import realshaped as rs

# a scenario's files: (folder under landing/, file name, header, lines, encoding)
FileSpec = tuple[str, str, str, list[str], str]


@dataclass
class Scenario:
    name: str
    files: list[FileSpec]
    vars: str | None = None  # the dbt vars the README tells this user to pass
    encoding: str = "utf-8"  # the encoding the user's event files are in


@dataclass
class ScenarioRun:
    scenario: Scenario
    home: Path
    exit_code: int
    output: str
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    fingerprints: dict[str, tuple[int, int]] = field(default_factory=dict)
    seconds: float = 0.0  # the demo's wall time

    def landed(self, folder: str, pattern: str = "*.csv") -> list[Path]:
        base = self.home / "landing" / folder
        return sorted(base.glob(pattern)) if base.exists() else []


def _web_lines_cp1252() -> list[str]:
    """A month's web shop rows whose brands are written in cp1252 (`café`, `müller`), one brand with `€`."""
    lines = rs.rees46_lines(3, dt.date(2019, 10, 1), 21)
    out = [line.replace(",samsung,", ",café,").replace(",bosch,", ",müller,") for line in lines]
    euro = next(i for i, line in enumerate(out) if ",xiaomi," in line)
    out[euro] = out[euro].replace(",xiaomi,", ",€co,")
    return out


def scenarios() -> list[Scenario]:
    """Each shape the README promises to take, in as few builds as do not interfere."""
    web = _web_lines_cp1252()
    long_brand = web[1].split(",")
    long_brand[5] = "x" * 1_000_000
    return [
        Scenario(
            # no retailrocket/ and no catalog/ folder; a file with another delimiter, one with an overlong field
            "web shop only, cp1252",
            [
                ("rees46", "2019-Oct.csv", rs.REES46_HEADER, web, "cp1252"),
                (
                    "rees46",
                    "2019-Oct-semicolons.csv",
                    rs.REES46_HEADER.replace(",", ";"),
                    [web[0].replace(",", ";")],
                    "cp1252",
                ),
                ("rees46", "2019-Oct-long.csv", rs.REES46_HEADER, [",".join(long_brand)], "cp1252"),
            ],
            vars="{landing_encodings: {rees46: cp1252}}",
            encoding="cp1252",
        ),
        Scenario(
            # RetailRocket's events.csv alone: no item properties (no prices), no category tree, no web shop
            "app events only",
            [
                (
                    "retailrocket",
                    "events.csv",
                    rs.RR_EVENTS_HEADER,
                    rs.rr_event_lines(5, dt.date(2015, 8, 1), 21),
                    "utf-8",
                )
            ],
        ),
    ]


TABLES = {
    "agg_daily_kpis": "select * from gold.agg_daily_kpis",
    "dim_sources": "select * from gold.dim_sources",
    "files": "select file_name, source_dir, status, problem, delimiter from bronze.brz_landing_files",
    "bronze": (
        "select source_file_name, count(*) as n from ("
        + " union all ".join(
            f"select source_file_name from bronze.{t}" for t in ("brz_rees46__events", "brz_retailrocket__events")
        )
        + ") group by source_file_name"
    ),
    "validated": "select source_file_name, count(*) as n, count_if(is_price_missing) as unknown_price "
    "from silver.int_events_validated group by source_file_name",
    "quarantined": "select source_file_name, quarantine_reason, raw_bytes from silver.int_events_quarantined",
    "duplicates": "select source_file_name, count(*) as n from silver.int_events_duplicates group by 1",
    "brands": "select brand, count(*) as n from gold.fct_events group by brand",
    "training_runs": "select * from ml.ml_conversion_training_runs",
    "predictions": "select as_of_date, source_system, count(*) as n from ml.ml_conversion_predictions group by 1, 2",
    "top": "select * from gold.rpt_top_categories_brands",
}


@contextlib.contextmanager
def in_home(home: Path):  # type: ignore[no-untyped-def]
    """Run with ``home`` as LAKEHOUSE_HOME in this process: the running session is stopped and its home's
    lock given up first, and both are restored (lazily: the next ``get_spark`` opens the old home) after."""
    from lakehouse.engine.runtime import release_home_lock, stop_spark

    keys = ("LAKEHOUSE_HOME", "MLFLOW_TRACKING_URI", "LAKEHOUSE_SPILL_DIR", "DBT_TARGET_PATH", "DBT_LOG_PATH")
    saved = {k: os.environ.get(k) for k in keys}
    stop_spark()
    release_home_lock()
    os.environ["LAKEHOUSE_HOME"] = str(home)
    # dbt's artifacts (the docs site among them) and log beside the scenario's lakehouse, not in the
    # project's target/ and logs/
    os.environ["DBT_TARGET_PATH"] = str(home / "target")
    os.environ["DBT_LOG_PATH"] = str(home / "logs")
    for key in ("MLFLOW_TRACKING_URI", "LAKEHOUSE_SPILL_DIR", "LAKEHOUSE_LANDING"):
        os.environ.pop(key, None)
    try:
        yield
    finally:
        stop_spark()
        release_home_lock()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def run_in_home(scenario: Scenario, home: Path, fingerprint: tuple[str, ...] = ()) -> ScenarioRun:
    """Land the scenario's files as the README says and run `lakehouse demo` in ``home``; keep the
    fingerprints of the tables of the ``fingerprint`` schemas (what a killed run is compared with)."""
    from lakehouse import cli
    from lakehouse.engine.runtime import get_spark
    from lakehouse.ops.reliability import fingerprints

    for folder, name, header, lines, encoding in scenario.files:
        rs.write(home / "landing" / folder / name, header, lines, encoding=encoding)
    args = ["demo", "--quiet", *(["--vars", scenario.vars] if scenario.vars else [])]
    out = io.StringIO()
    with in_home(home):
        started = time.perf_counter()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
            code = cli.main(args)
        spark = get_spark()
        run = ScenarioRun(scenario, home, code, out.getvalue())
        run.seconds = time.perf_counter() - started
        for name, sql in TABLES.items():
            run.tables[name] = spark.sql(sql).toPandas()
        if fingerprint:
            run.fingerprints = fingerprints(spark, fingerprint)
    return run


def run_scenarios(homes: list[Path], killed_work: Path) -> dict[str, Any]:
    """Every scenario in its own home (``homes``, one each, in order), in this process; the killed run
    on a copy of the first scenario's files under ``killed_work``, compared with the first's clean build."""
    import shutil

    from lakehouse.ops import reliability

    first_scenario, *others = scenarios()
    first = run_in_home(first_scenario, homes[0], reliability.KILLED_RUN_SCHEMAS)
    shutil.copytree(first.home / "landing", killed_work / "landing")
    recovery: dict[str, Any] = {}

    def recover() -> None:
        vars_ = ["--vars", first.scenario.vars] if first.scenario.vars else []
        recovery["result"] = reliability.killed_run_recovers(
            killed_work / "landing",
            killed_work,
            [*reliability.KILLED_RUN_ARGS, *vars_],
            first.fingerprints,
            reliability.KILL_AT,
        )

    worker = threading.Thread(target=recover, daemon=True)
    worker.start()
    runs = {first.scenario.name: first}
    for scenario, home in zip(others, homes[1:], strict=True):
        runs[scenario.name] = run_in_home(scenario, home)
    worker.join()
    return {"runs": runs, "recovery": recovery["result"]}


class Started:
    """The own-data scenarios running in a child process; ``result()`` waits for them."""

    def __init__(self, process: subprocess.Popen, out: Path, log: Path) -> None:
        self.process, self.out, self.log = process, out, log
        self._result: dict[str, Any] | None = None

    def result(self) -> dict[str, Any]:
        if self._result is None:
            code = self.process.wait()
            if code != 0 or not self.out.exists():
                tail = self.log.read_text(errors="replace")[-4000:]
                raise RuntimeError(f"the own-data scenarios' process ended with exit {code}:\n{tail}")
            self._result = pickle.loads(self.out.read_bytes())
        return self._result


def start(work: Path, homes: list[Path], killed_work: Path) -> Started:
    """``run_scenarios`` in a child process (its own JVM); what it returns is pickled into ``work``."""
    out, log = work / "scenarios.pickle", work / "scenarios.log"
    code = "import sys, own_data; sys.exit(own_data.main(sys.argv[1:]))"
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(Path(__file__).parent), *filter(None, [env.get("PYTHONPATH")])])
    with log.open("w") as output:
        process = subprocess.Popen(
            [sys.executable, "-c", code, str(out), str(killed_work), *map(str, homes)],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    return Started(process, out, log)


def main(argv: list[str]) -> int:
    """The child process of ``start``: argv is the result file, the killed run's folder, then the homes.
    Each dbt invocation's command and seconds go with the result (the suite prints them)."""
    from dbt.cli.main import dbtRunner

    calls: list[tuple[str, float]] = []
    invoke = dbtRunner.invoke

    def counted_invoke(self, args, **kwargs):  # type: ignore[no-untyped-def]
        began = time.perf_counter()
        try:
            return invoke(self, args, **kwargs)
        finally:
            command = " ".join(a for a in list(args)[:3] if not str(a).startswith("/"))
            calls.append((command, time.perf_counter() - began))

    dbtRunner.invoke = counted_invoke  # type: ignore[method-assign]
    out, killed_work, *homes = map(Path, argv)
    result = run_scenarios(homes, killed_work)
    result["dbt"] = calls
    partial = out.with_suffix(".tmp")
    partial.write_bytes(pickle.dumps(result))
    partial.replace(out)
    return 0
