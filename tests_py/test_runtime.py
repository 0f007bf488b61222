"""The local engine: Java check, Spark + Delta configuration, one session."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from urllib.parse import urlparse

import pyarrow.parquet as pq
import pytest

from lakehouse.engine.paths import lakehouse_paths
from lakehouse.engine.runtime import JavaNotFoundError, check_java, java_major_version, spark_conf


def _fake_java(tmp_path: Path, version_line: str) -> str:
    java = tmp_path / "java"
    java.write_text(f"#!/bin/sh\necho '{version_line}' >&2\n")
    java.chmod(java.stat().st_mode | stat.S_IEXEC)
    return str(java)


def test_java_version_is_read_from_modern_and_legacy_formats(tmp_path: Path) -> None:
    assert java_major_version(_fake_java(tmp_path, 'openjdk version "17.0.15" 2025-04-15')) == 17
    assert java_major_version(_fake_java(tmp_path, 'java version "1.8.0_402"')) == 8


def test_missing_or_old_java_is_one_clear_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JAVA_HOME", str(tmp_path / "nowhere"))
    with pytest.raises(JavaNotFoundError, match="no `java` was found"):
        check_java()
    jdk = tmp_path / "jdk8"
    (jdk / "bin").mkdir(parents=True)
    os.rename(_fake_java(tmp_path, 'java version "1.8.0_402"'), jdk / "bin" / "java")
    monkeypatch.setenv("JAVA_HOME", str(jdk))
    with pytest.raises(JavaNotFoundError, match="found Java 8"):
        check_java()


def test_analyses_that_do_not_compile_are_one_clear_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`lakehouse eda` (and the demo's report) when dbt cannot compile analyses/: exit 1 and one error line
    naming what failed and where dbt's messages are, not a traceback."""
    from lakehouse import cli
    from lakehouse.engine import dbt_runner, runtime

    monkeypatch.setattr(dbt_runner, "run_dbt", lambda args: False)
    monkeypatch.setattr(runtime, "get_spark", lambda: None)  # compiling comes before any query
    code = cli.main(["eda", "--out", str(tmp_path / "eda.html")])
    err = capsys.readouterr().err
    assert code == 1
    assert err.startswith("error: dbt could not compile analyses/ (the EDA report's queries)"), err
    assert "logs/dbt.log" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_everything_lives_under_one_overridable_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LAKEHOUSE_HOME", str(tmp_path / "lh"))
    paths = lakehouse_paths()
    conf = spark_conf(paths)
    assert conf["spark.sql.warehouse.dir"] == str(tmp_path / "lh" / "warehouse")
    assert str(tmp_path / "lh" / "metastore_db") in conf["spark.hadoop.javax.jdo.option.ConnectionURL"]
    assert paths.mlflow_tracking_uri == f"sqlite:///{tmp_path / 'lh' / 'mlflow' / 'mlflow.db'}"
    assert conf["spark.sql.extensions"] == "io.delta.sql.DeltaSparkSessionExtension"
    assert conf["spark.jars.packages"].startswith("io.delta:delta-spark_2.13:4.0")
    assert "-XX:+ExitOnOutOfMemoryError" in conf["spark.driver.extraJavaOptions"]  # fail, never hang


def test_the_users_jvm_options_come_after_the_projects(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LAKEHOUSE_HOME", str(tmp_path / "lh"))
    monkeypatch.delenv("LAKEHOUSE_JAVA_OPTIONS", raising=False)
    plain = spark_conf(lakehouse_paths())["spark.driver.extraJavaOptions"]
    recording = "-XX:StartFlightRecording=filename=/tmp/build.jfr -XX:-UseParallelGC"
    monkeypatch.setenv("LAKEHOUSE_JAVA_OPTIONS", f"  {recording} ")
    # the project's options kept, the user's appended last: the JVM takes the last of a flag given twice
    assert spark_conf(lakehouse_paths())["spark.driver.extraJavaOptions"] == f"{plain} {recording}"
    monkeypatch.setenv("LAKEHOUSE_JAVA_OPTIONS", " ")
    assert spark_conf(lakehouse_paths())["spark.driver.extraJavaOptions"] == plain


def test_the_machine_lock_keeps_other_processes_out(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two processes starting their first session at once (two test workers) resolve Delta's jars one at a
    time: while one holds the lock, another process cannot take it, and can once it is given up."""
    import subprocess
    import sys

    from lakehouse.engine.runtime import _machine_lock, user_cache

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    probe = (
        "import fcntl, sys; f = open(sys.argv[1], 'w')\n"
        "try:\n    fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB); print('taken')\n"
        "except BlockingIOError:\n    print('held')"
    )
    lock_file = str(user_cache() / "delta-jars.lock")

    def other_process() -> str:
        return subprocess.run([sys.executable, "-c", probe, lock_file], capture_output=True, text=True).stdout.strip()

    with _machine_lock("delta-jars"):
        assert other_process() == "held"
    assert other_process() == "taken"


def test_session_is_delta_enabled_and_reused(spark) -> None:  # type: ignore[no-untyped-def]
    from lakehouse.engine.runtime import get_spark

    assert get_spark() is get_spark()  # one session per process
    assert spark.conf.get("spark.sql.sources.default") == "delta"
    assert "-XX:+UseParallelGC" in spark.conf.get("spark.driver.extraJavaOptions")
    spark.sql("create schema if not exists scratch")
    spark.sql("create or replace table scratch.t (id int)")
    spark.sql("insert into scratch.t values (1), (2)")
    detail = spark.sql("describe detail scratch.t").first()
    assert detail["format"] == "delta"
    assert spark.table("scratch.t").count() == 2
    # the engine's Parquet codec reaches Delta's writer
    files = list(Path(urlparse(detail["location"]).path).glob("*.parquet"))
    assert files
    assert {pq.ParquetFile(f).metadata.row_group(0).column(0).compression for f in files} == {"ZSTD"}
    spark.sql("drop schema scratch cascade")


def test_replacing_a_table_logs_no_metastore_error(spark) -> None:  # type: ignore[no-untyped-def]
    """The embedded metastore's `ERROR HiveAlterHandler: Failed to alter table` on every replaced table is
    not an error of the run (Spark stores the entry in its own format next): its logger is off, and the
    replace still lands."""
    jvm = spark.sparkContext._jvm
    logger = jvm.org.apache.logging.log4j.LogManager.getLogger("org.apache.hadoop.hive.metastore.HiveAlterHandler")
    assert logger.getLevel().toString() == "OFF"
    spark.sql("create schema if not exists scratch_replace")
    for value in (1, 2):
        spark.sql(f"create or replace table scratch_replace.t as select {value} as id")
    assert [r.id for r in spark.table("scratch_replace.t").collect()] == [2]
    spark.sql("drop schema scratch_replace cascade")


def test_a_second_run_on_the_same_home_refuses_with_one_line(spark, lakehouse_home) -> None:  # type: ignore[no-untyped-def]
    """The test session holds the home; another process must refuse at once, not corrupt the metastore."""
    import os
    import subprocess
    import sys

    spark.sql("select 1").collect()  # this process holds the home from here on
    env = {**os.environ, "LAKEHOUSE_HOME": str(lakehouse_home)}
    done = subprocess.run(
        [sys.executable, "-m", "lakehouse.cli", "summary"], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 3
    [line] = done.stderr.strip().splitlines()  # one line, no stack trace
    assert line.startswith(f"error: {lakehouse_home} is in use by pid {os.getpid()} (started ")
    assert line.endswith("wait for that run to finish (or stop it), or point LAKEHOUSE_HOME elsewhere")


def _listening_addresses(pid: int) -> list[str]:
    """The local addresses of the TCP sockets process ``pid`` listens on, from /proc (hex, as the kernel
    writes them: 0100007F is 127.0.0.1)."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[len("socket:[") : -1])
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for row in Path(table).read_text().splitlines()[1:]:
            cols = row.split()
            if cols[3] == "0A" and cols[9] in inodes:  # 0A: LISTEN
                found.append(cols[1].split(":")[0])
    return found


LOOPBACK = {"0100007F", "00000000000000000000000001000000", "0000000000000000FFFF00000100007F"}


def test_the_local_engine_listens_on_loopback_only(spark) -> None:  # type: ignore[no-untyped-def]
    """Driver RPC and block manager of a local run: nothing of them reachable from the network."""
    spark.sql("select 1").collect()
    assert spark.conf.get("spark.driver.bindAddress") == "127.0.0.1"
    pid = spark.sparkContext._gateway.proc.pid
    addresses = _listening_addresses(pid)
    assert len(addresses) >= 2  # the Py4J gateway, the driver's RPC endpoint (and the block manager)
    assert set(addresses) <= LOOPBACK, addresses


def test_a_cluster_master_keeps_spark_s_own_addresses(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("LAKEHOUSE_HOME", str(tmp_path / "lh"))
    monkeypatch.setenv("LAKEHOUSE_SPARK_MASTER", "spark://cluster:7077")
    assert "spark.driver.bindAddress" not in spark_conf(lakehouse_paths())
    monkeypatch.setenv("LAKEHOUSE_SPARK_MASTER", "local[2]")
    assert spark_conf(lakehouse_paths())["spark.driver.host"] == "127.0.0.1"


def test_small_landing_zones_compile_less(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Below 4 MB the JVM keeps to its client compiler (with room in the code cache) and queries run
    interpreted; above 64 MB both compilers and code generation are on; the settings override either way."""
    from lakehouse.engine.runtime import CLIENT_JIT_MAX_LANDING_BYTES, CODEGEN_MIN_LANDING_BYTES

    monkeypatch.setenv("LAKEHOUSE_HOME", str(tmp_path / "lh"))
    for key in ("LAKEHOUSE_JVM_JIT", "LAKEHOUSE_SPARK_CODEGEN", "LAKEHOUSE_LANDING"):
        monkeypatch.delenv(key, raising=False)
    landing = lakehouse_paths().landing / "rees46"
    landing.mkdir(parents=True)

    def settings() -> tuple[bool, str]:
        conf = spark_conf(lakehouse_paths())
        opts = conf["spark.driver.extraJavaOptions"]
        client = "-XX:TieredStopAtLevel=1" in opts
        assert client == ("-XX:ReservedCodeCacheSize=256m" in opts)
        return client, conf["spark.sql.codegen.wholeStage"]

    (landing / "small.csv").write_bytes(b"x" * (CLIENT_JIT_MAX_LANDING_BYTES - 1))
    assert settings() == (True, "false")
    (landing / "medium.csv").write_bytes(b"x" * 2)
    assert settings() == (False, "false")
    monkeypatch.setenv("LAKEHOUSE_JVM_JIT", "client")
    assert settings() == (True, "false")
    monkeypatch.setenv("LAKEHOUSE_JVM_JIT", "full")
    (landing / "medium.csv").unlink()
    assert settings() == (False, "false")
    (landing / "large.csv").write_bytes(b"x" * CODEGEN_MIN_LANDING_BYTES)
    monkeypatch.setenv("LAKEHOUSE_JVM_JIT", "auto")
    assert settings() == (False, "true")


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="per-thread priorities are Linux's")
def test_yielding_the_cores_lowers_every_thread_and_child_process_and_what_starts_later() -> None:
    """The own-data worker's priority (conftest._yield_cores), in a process of its own: this one's stays."""
    import json
    import subprocess
    import sys

    code = """
import json, os, subprocess, threading
from conftest import _yield_cores
child = subprocess.Popen(["sleep", "30"])
ready, done = threading.Event(), threading.Event()
thread = threading.Thread(target=lambda: (ready.set(), done.wait()))
thread.start(); ready.wait()
base = os.getpriority(os.PRIO_PROCESS, 0)
_yield_cores(3)
later = subprocess.Popen(["sleep", "30"])
tids = [int(t) for t in os.listdir("/proc/self/task")]
print(json.dumps([base, [os.getpriority(os.PRIO_PROCESS, t) for t in tids],
                  os.getpriority(os.PRIO_PROCESS, child.pid), os.getpriority(os.PRIO_PROCESS, later.pid)]))
done.set(); child.kill(); later.kill()
"""
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=Path(__file__).parent, capture_output=True, text=True, check=True
    ).stdout
    base, threads, child, later = json.loads(out)
    assert len(threads) >= 2 and set(threads) == {min(19, base + 3)}
    assert child == later == min(19, base + 3)
