"""The test session's lakehouses: the shared one (main_lakehouse) and the own-data scenarios (own_data).

`make test` runs pytest in two worker processes (pytest-xdist, ``--dist loadgroup``): the tests of the
own-data scenarios are one group and those of the shared lakehouse another, so the two sets of builds run
side by side, each group in one worker and its one Spark JVM; the tests that need neither fill in where a
worker is free. A build keeps about one and a half of two cores busy (its critical path is one model at a
time), so two of them together finish sooner than one after the other; the own-data worker yields the cores
to the shared one (OWN_DATA_NICENESS). Without workers (plain ``pytest``) the same fixtures run one after
the other in one process.

Spark starts once per worker; ``spark`` always means the session of the worker's own home (it is reopened
after a scenario has used the JVM for its home).
"""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path
from typing import Any

import pytest


class _Session:
    """The SparkSession of the current home, looked up on every use: a scenario stops the session to open
    its own home, and the next use opens the test home's again."""

    def __getattr__(self, name: str) -> Any:
        from lakehouse.engine.runtime import get_spark

        return getattr(get_spark(), name)


@pytest.fixture(scope="session")
def lakehouse_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("lakehouse")
    os.environ["LAKEHOUSE_HOME"] = str(home)
    os.environ.pop("LAKEHOUSE_LANDING", None)
    os.environ.pop("MLFLOW_TRACKING_URI", None)
    os.environ["DBT_TARGET"] = "local"
    return home


@pytest.fixture(scope="session")
def spark(lakehouse_home: Path):  # type: ignore[no-untyped-def]
    from lakehouse.engine.runtime import stop_spark

    yield _Session()
    stop_spark()


@pytest.fixture(scope="session")
def dbt_target_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("dbt_target")
    os.environ["DBT_LOG_PATH"] = str(path / "logs")
    return path


@pytest.fixture(scope="session")
def run_dbt(spark, dbt_target_path: Path):  # type: ignore[no-untyped-def]
    """Run a dbt command in this process on the test home; fail the test with dbt's verdict."""
    from lakehouse.engine.dbt_runner import run_dbt as _run

    def run(*args: str, expect_success: bool = True) -> bool:
        full = [*args] if "--target-path" in args else [*args, "--target-path", str(dbt_target_path)]
        ok = _run(full)
        assert ok or not expect_success, f"dbt {' '.join(args)} failed"
        return ok

    return run


# Two workers keep both cores busy throughout, and the shared lakehouse's builds are followed by about twice
# as many seconds of tests as the own-data scenarios': so the own-data worker runs a little behind on the
# cores. At 6 the two groups end close together (10 gave the shared builds so much that the own-data
# scenarios ended last).
OWN_DATA_NICENESS = 6


def _yield_cores(niceness: int) -> None:
    """Lower the CPU priority of this process and its child processes (Spark's JVM) by ``niceness``. On Linux
    a priority belongs to each thread, and a thread or process inherits its creator's: so every thread of
    the process tree is lowered, and what starts later is too."""
    if not Path("/proc/self/task").is_dir():  # not Linux: a process has one priority, its threads share it
        os.setpriority(os.PRIO_PROCESS, 0, min(19, os.getpriority(os.PRIO_PROCESS, 0) + niceness))
        return
    parents = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:  # the command name (in parentheses) may hold spaces: the parent's pid is the second field after it
            parents[int(stat.parent.name)] = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue  # a process that ended meanwhile
    tree, grew = {os.getpid()}, True
    while grew:
        children = {pid for pid, parent in parents.items() if parent in tree} - tree
        tree |= children
        grew = bool(children)
    for pid in tree:
        for task in Path(f"/proc/{pid}/task").glob("[0-9]*"):
            try:
                tid = int(task.name)
                os.setpriority(os.PRIO_PROCESS, tid, min(19, os.getpriority(os.PRIO_PROCESS, tid) + niceness))
            except (OSError, ValueError):
                continue  # a thread that ended meanwhile


@pytest.fixture(scope="session")
def own_data(lakehouse_home: Path, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """Every own-data scenario run as the README says, each in a fresh home; and, in the background, the
    killed-run recovery on the first scenario's files (a process of its own: it is killed)."""
    import shutil

    from own_data import run_in_home, scenarios

    from lakehouse.ops import reliability

    if os.environ.get("PYTEST_XDIST_WORKER"):
        _yield_cores(OWN_DATA_NICENESS)
    first_scenario, *others = scenarios()
    # the first scenario's clean build is what the killed run is compared with
    first = run_in_home(first_scenario, tmp_path_factory.mktemp("own-data"), reliability.KILLED_RUN_SCHEMAS)
    work = tmp_path_factory.mktemp("killed-run")
    shutil.copytree(first.home / "landing", work / "landing")
    recovery: dict[str, Any] = {}

    def recover() -> None:
        vars_ = ["--vars", first.scenario.vars] if first.scenario.vars else []
        recovery["result"] = reliability.killed_run_recovers(
            work / "landing", work, [*reliability.KILLED_RUN_ARGS, *vars_], first.fingerprints, reliability.KILL_AT
        )

    worker = threading.Thread(target=recover, daemon=True)
    worker.start()
    runs = {first.scenario.name: first}
    for scenario in others:
        runs[scenario.name] = run_in_home(scenario, tmp_path_factory.mktemp("own-data"))
    yield {"runs": runs, "recovery": recovery, "worker": worker}


@pytest.fixture(scope="session")
def lakehouse(spark, run_dbt, lakehouse_home: Path, dbt_target_path: Path):  # type: ignore[no-untyped-def]
    """The shared lakehouse, built once (main_lakehouse)."""
    from main_lakehouse import build

    return build(lakehouse_home, spark, run_dbt, dbt_target_path)


BUILT = {"lakehouse", "own_data", "run_dbt", "eda_run"}
# the xdist group of a test by the lakehouse it reads: each group runs whole in one worker, so each set of
# builds is made once; a test reading both would join the own-data group's worker to the shared builds
GROUPS = (("own-data", {"own_data"}), ("shared-lakehouse", BUILT - {"own_data"}))


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--reverse", action="store_true", help="run the tests in reverse order (they must pass in any order)"
    )


def _group(item: pytest.Item) -> str | None:
    used = set(getattr(item, "fixturenames", ()))
    return next((name for name, fixtures in GROUPS if fixtures & used), None)


# first: an xdist worker reads the groups in its own hook, which would otherwise run before this one
@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """A test that reads a built lakehouse is a `dbt` test, whatever its module says (`make test-quick`
    runs the others), and is in its lakehouse's xdist group. The own-data group comes first, then the
    shared lakehouse's, then the rest, each in file order: with two workers the two groups start at once,
    one in each. With --reverse the order is turned round: a test that relies on another having run first
    fails then."""
    order = {name: i for i, (name, _) in enumerate(GROUPS)}
    for item in items:
        group = _group(item)  # the groups cover BUILT: a test with a group reads a built lakehouse
        if group is not None:
            item.add_marker(pytest.mark.dbt)
            item.add_marker(pytest.mark.xdist_group(group))
    items.sort(key=lambda item: order.get(_group(item) or "", len(order)))
    if config.getoption("--reverse"):
        items.reverse()


GROUPS_IGNORED = pytest.StashKey[str]()


@pytest.hookimpl(trylast=True)
def pytest_collection_finish(session: pytest.Session) -> None:
    """In an xdist worker with --dist loadgroup, after xdist has marked each grouped test's node id with its
    group: note it if it has not (pytest-xdist 3.8 under pytest 9.2 leaves the ids unmarked,
    pytest-dev/pytest-xdist#1386), so that the grouped tests fail at once instead of every worker building
    every lakehouse."""
    if not session.config.getoption("loadgroup", False):
        return
    groups = {item.nodeid: _group(item) for item in session.items}
    unmarked = [nodeid for nodeid, group in groups.items() if group and not nodeid.endswith(f"@{group}")]
    if unmarked:
        session.config.stash[GROUPS_IGNORED] = (
            f"pytest-xdist ignores the xdist groups here ({len(unmarked)} grouped tests would run in any "
            "worker, each building its lakehouse again): install the pinned pytest (make install) or run in "
            "one process (PYTEST_WORKERS=0)"
        )


def pytest_runtest_setup(item: pytest.Item) -> None:
    if _group(item) and GROUPS_IGNORED in item.config.stash:
        pytest.fail(item.config.stash[GROUPS_IGNORED], pytrace=False)


# What the suite spent its time on, printed at its end: each in-process dbt invocation (command, seconds)
# and each Spark session started, per process (a worker's are sent to the controller when it ends).
# Subprocesses (the killed run, the SQL endpoint) count apart: their own JVM each.
ACCOUNT: dict[str, list] = {"dbt": [], "spark_sessions": []}
WORKERS: dict[str, dict[str, list]] = {}


# dbt threads in each worker: two workers keep both cores busy already, and more threads in each only add
# contention (pytest 529.6 s with the default 4, 499.6 s with 2, 493.3 s with 1, one clone, back to back);
# 2 keeps nodes running side by side, the FAIR pools' case
WORKER_DBT_THREADS = "2"


def pytest_configure(config: pytest.Config) -> None:
    if os.environ.get("PYTEST_XDIST_WORKER"):  # the user's own setting wins
        os.environ.setdefault("LAKEHOUSE_DBT_THREADS", WORKER_DBT_THREADS)
    from dbt.cli.main import dbtRunner
    from pyspark.sql import SparkSession

    invoke = dbtRunner.invoke

    def counted_invoke(self, args, **kwargs):  # type: ignore[no-untyped-def]
        started = time.perf_counter()
        try:
            return invoke(self, args, **kwargs)
        finally:
            command = " ".join(a for a in list(args)[:3] if not str(a).startswith("/"))
            ACCOUNT["dbt"].append((command, time.perf_counter() - started))

    dbtRunner.invoke = counted_invoke  # type: ignore[method-assign]
    get_or_create = SparkSession.Builder.getOrCreate

    def counted_get_or_create(self):  # type: ignore[no-untyped-def]
        fresh = SparkSession._instantiatedSession is None
        session = get_or_create(self)
        if fresh:
            ACCOUNT["spark_sessions"].append(os.environ.get("LAKEHOUSE_HOME", ""))
        return session

    SparkSession.Builder.getOrCreate = counted_get_or_create  # type: ignore[method-assign]


def pytest_sessionfinish(session: pytest.Session) -> None:
    output = getattr(session.config, "workeroutput", None)
    if output is not None:  # an xdist worker
        output["account"] = json.dumps(ACCOUNT)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error) -> None:  # type: ignore[no-untyped-def]
    account = getattr(node, "workeroutput", {}).get("account")
    if account:
        WORKERS[node.gateway.id] = json.loads(account)


def pytest_terminal_summary(terminalreporter) -> None:  # type: ignore[no-untyped-def]
    accounts = WORKERS or {"this process": ACCOUNT}
    if not any(a["dbt"] for a in accounts.values()):
        return
    write = terminalreporter.write_line
    terminalreporter.section("where the suite's dbt time went")
    for process, account in sorted(accounts.items()):
        calls = account["dbt"]
        write(f"{process}: {len(calls)} dbt invocations, {sum(s for _, s in calls):.0f} s in all:")
        for command, seconds in calls:
            write(f"  {seconds:7.1f} s  dbt {command}")
        write(f"{process}: {len(account['spark_sessions'])} Spark sessions started")
