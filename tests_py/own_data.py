"""Own-data scenarios: the README's "Your own data" steps, literally, in a fresh lakehouse home each.

Each scenario writes files in the public layouts (``realshaped``) into ``<home>/landing/<source>/``, as
the README says, then runs ``lakehouse demo`` (the command ``make demo`` runs) with the vars the README
names for it, and keeps what the tests check: the exit code and output, the pages, and the tables a
test reads, as pandas. The scenarios run one after another in a Python process of their own
(``Background``), one JVM for both (a warm JVM builds about 40% faster than a new one), while the test
process builds the shared lakehouse: one small build keeps about three quarters of two cores busy, two
side by side fill them. After the scenarios, that process runs the killed-run recovery on the first
scenario's files.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
import os
import pickle
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

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

    saved = {k: os.environ.get(k) for k in ("LAKEHOUSE_HOME", "MLFLOW_TRACKING_URI", "LAKEHOUSE_SPILL_DIR")}
    stop_spark()
    release_home_lock()
    os.environ["LAKEHOUSE_HOME"] = str(home)
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


def run_in_home(scenario: Scenario, home: Path) -> ScenarioRun:
    """Land the scenario's files as the README says and run `lakehouse demo` in ``home``."""
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
        run.fingerprints = fingerprints(spark, ("silver", "gold"))
    return run


def run_all(work: Path) -> None:
    """Every scenario, each in a fresh home under ``work``; their runs (and this process' dbt invocations
    and Spark sessions) pickled to ``work/runs.pickle`` once all have ended. Meanwhile, from the first
    scenario's end on, the killed-run recovery on its files; its verdict in ``work/recovery.json``."""
    import accounting

    from lakehouse.ops import reliability

    account = accounting.install()
    runs: dict[str, ScenarioRun] = {}
    recovery: dict[str, object] = {}
    worker = None
    for number, scenario in enumerate(scenarios()):
        home = work / f"home-{number}"
        home.mkdir()
        runs[scenario.name] = run_in_home(scenario, home)
        if worker is None:
            first = runs[scenario.name]
            killed = work / "killed-run"
            shutil.copytree(first.home / "landing", killed / "landing")

            def recover(first: ScenarioRun = first, killed: Path = killed) -> None:
                vars_ = ["--vars", first.scenario.vars] if first.scenario.vars else []
                args = [*reliability.KILLED_RUN_ARGS, *vars_]
                recovery["result"] = reliability.killed_run_recovers(
                    killed / "landing", killed, args, first.fingerprints, kill_at="model gold.fct_events"
                )

            worker = threading.Thread(target=recover, daemon=True)
            worker.start()
    partial = work / "runs.pickle.partial"
    partial.write_bytes(pickle.dumps({"runs": runs, "account": account}))
    partial.rename(work / "runs.pickle")
    if worker is not None:
        worker.join()
    (work / "recovery.json").write_text(json.dumps(recovery.get("result", [False, "the recovery did not run"])))


# the own-data process: argv[1] this folder (for the imports), argv[2] its work folder
PROCESS = """
import sys
from pathlib import Path
sys.path.insert(0, sys.argv[1])
import own_data
own_data.run_all(Path(sys.argv[2]))
"""


class Background:
    """``run_all`` in a process of its own, started now; ``runs()`` and ``recovery()`` wait for its results."""

    def __init__(self, work: Path) -> None:
        self.work = work
        env = {**os.environ, "LAKEHOUSE_HOME": str(work / "no-home"), "DBT_LOG_PATH": str(work / "dbt-logs")}
        for key in ("LAKEHOUSE_LANDING", "MLFLOW_TRACKING_URI", "LAKEHOUSE_SPILL_DIR"):
            env.pop(key, None)
        self.log = work / "process.log"
        with self.log.open("w") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-c", PROCESS, str(Path(__file__).parent), str(work)],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: stop() ends the killed run's processes too
            )
        self._runs: dict | None = None

    def _ended_without(self, name: str) -> str:
        tail = self.log.read_text(errors="replace")[-3000:]
        return f"the own-data process ended (exit {self.process.returncode}) without {name}:\n{tail}"

    def results(self) -> dict:
        """{"runs": {scenario name: ScenarioRun}, "account": that process' dbt invocations and sessions}."""
        done = self.work / "runs.pickle"
        while self._runs is None:
            if done.exists():
                self._runs = pickle.loads(done.read_bytes())
            elif self.process.poll() is not None and not done.exists():
                raise AssertionError(self._ended_without("its scenarios' runs"))
            else:
                time.sleep(0.5)
        return self._runs

    def recovery(self, timeout: float = 900) -> tuple[bool, str]:
        """The killed-run recovery's verdict: (passed, what happened)."""
        self.process.wait(timeout=timeout)
        verdict = self.work / "recovery.json"
        if not verdict.exists():
            raise AssertionError(self._ended_without("the recovery's verdict"))
        ok, outcome = json.loads(verdict.read_text())
        return bool(ok), str(outcome)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
