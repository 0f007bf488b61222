"""The local engine: one in-process SparkSession with Delta Lake, sized for a small machine."""

from __future__ import annotations

import contextlib
import logging
import os
import re
import shutil
import subprocess
import sys
import threading
from pathlib import Path

from lakehouse.engine.paths import LakehousePaths, lakehouse_paths

DELTA_PACKAGE = "io.delta:delta-spark_2.13:4.0.1"
_lock = threading.Lock()


class JavaNotFoundError(RuntimeError):
    """Java is missing or too old for Spark 4."""


class LakehouseBusyError(RuntimeError):
    """Another process is using this LAKEHOUSE_HOME (its metastore and tables)."""


_home_lock = None  # the open lock file of LAKEHOUSE_HOME, held while this process uses it


def acquire_home_lock(paths: LakehousePaths) -> None:
    """Take the exclusive lock of ``paths.home`` for this process, or fail with one clear line.

    The embedded metastore and the Delta tables of one home may be used by one process at a time: a
    second run would otherwise fail deep inside Derby or race the first on the same tables. The lock is an
    OS file lock (released by the OS even when the holder is killed), so it never goes stale.
    """
    import fcntl
    import time

    global _home_lock
    if _home_lock is not None:
        return
    paths.home.mkdir(parents=True, exist_ok=True)
    handle = open(paths.home / ".lock", "a+")  # noqa: SIM115 - held open for the life of the process
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip() or "another process"
        handle.close()
        raise LakehouseBusyError(
            f"{paths.home} is in use by {holder}; wait for that run to finish (or stop it), "
            "or point LAKEHOUSE_HOME elsewhere"
        ) from None
    handle.truncate(0)
    handle.write(f"pid {os.getpid()} (started {time.strftime('%Y-%m-%d %H:%M:%S')})\n")
    handle.flush()
    _home_lock = handle


def release_home_lock() -> None:
    """Give up this process' lock of its LAKEHOUSE_HOME (after ``stop_spark``), so it can open another home."""
    global _home_lock
    if _home_lock is not None:
        _home_lock.close()
        _home_lock = None


def java_major_version(java: str | None = None) -> int:
    """Major version of the ``java`` that Spark will launch (JAVA_HOME first, then PATH)."""
    if java is None:
        java_home = os.environ.get("JAVA_HOME")
        java = os.path.join(java_home, "bin", "java") if java_home else shutil.which("java")
    if not java or not os.path.exists(java):
        raise JavaNotFoundError("Java 17 or 21 is required by Spark 4, but no `java` was found (set JAVA_HOME).")
    out = subprocess.run([java, "-version"], capture_output=True, text=True, check=False)
    match = re.search(r'version "(\d+)(?:\.(\d+))?', out.stderr + out.stdout)
    if not match:
        raise JavaNotFoundError(f"Could not read the Java version from `{java} -version`.")
    major = int(match.group(1))
    return int(match.group(2)) if major == 1 and match.group(2) else major


def check_java() -> int:
    """Fail with one clear line unless Java 17+ is available."""
    major = java_major_version()
    if major < 17:
        raise JavaNotFoundError(f"Java 17 or 21 is required by Spark 4, found Java {major} (set JAVA_HOME).")
    return major


def delta_jars(ivy_home: Path | None = None) -> list[Path]:
    """The jars `spark.jars.packages` resolved for Delta (Delta and its dependencies), where Spark's Ivy
    keeps them; empty until the first resolution on this machine."""
    folder = (ivy_home or Path.home() / ".ivy2.5.2") / "jars"
    if not folder.is_dir():
        return []
    version = DELTA_PACKAGE.rsplit(":", 1)[1]
    jars = sorted(folder.glob(f"io.delta_delta-*{version}.jar")) + sorted(folder.glob("org.antlr_antlr4-runtime-*.jar"))
    return jars if any("delta-spark" in j.name for j in jars) else []


def ensure_delta_jars() -> list[Path]:
    """Resolve the Delta jars once per machine (from Maven Central, in a throwaway Spark) if missing.

    The driver gets them on its class path (`spark.driver.extraClassPath`), not only in Spark's jar class
    loader: threads that switch to the application class loader, such as the Thrift server's sessions,
    must find the Delta catalog too.
    """
    jars = delta_jars()
    if jars:
        return jars
    code = (
        "from pyspark.sql import SparkSession;"
        f"SparkSession.builder.master('local[1]').config('spark.jars.packages', '{DELTA_PACKAGE}')"
        ".config('spark.ui.enabled', 'false').getOrCreate().stop()"
    )
    # one resolution at a time on the machine: Ivy's cache takes no lock of its own, and two processes
    # starting their first session together (two test workers, two homes) would download into it at once
    with _machine_lock("delta-jars"):
        jars = delta_jars()
        if jars:
            return jars
        subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, timeout=900)
    return delta_jars()


def user_cache() -> Path:
    """This user's cache folder for the project (the compiled helper jar, machine-wide locks)."""
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "ecommerce-lakehouse"


@contextlib.contextmanager
def _machine_lock(name: str):
    """An exclusive lock shared by every process of this user on the machine (a file in user_cache())."""
    import fcntl

    folder = user_cache()
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / f"{name}.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


# below this many bytes of landing files, queries run interpreted: compiling each query's generated Java
# (Janino, then the JIT) costs more than it saves on small inputs (a small build ran about a third faster)
CODEGEN_MIN_LANDING_BYTES = 64 << 20


def landing_bytes(paths: LakehousePaths) -> int:
    """The size of every file under the landing zone (0 when there is none)."""
    total = 0
    for folder, _dirs, names in os.walk(os.environ.get("LAKEHOUSE_LANDING") or paths.landing):
        for name in names:
            with contextlib.suppress(OSError):
                total += os.stat(os.path.join(folder, name)).st_size
    return total


def codegen_enabled(paths: LakehousePaths) -> bool:
    """Whole-stage and expression code generation: on, off, or (LAKEHOUSE_SPARK_CODEGEN=auto, the default)
    on once the landing zone holds CODEGEN_MIN_LANDING_BYTES or more."""
    setting = os.environ.get("LAKEHOUSE_SPARK_CODEGEN", "auto").strip().lower()
    if setting in ("on", "true", "1"):
        return True
    if setting in ("off", "false", "0"):
        return False
    return landing_bytes(paths) >= CODEGEN_MIN_LANDING_BYTES


# below this many bytes of landing files the JVM runs with its client compiler only: on a run this short the
# optimising compiler spends more CPU than its faster code saves (a 20k-event demo, 2.4 MB, took 173 s instead
# of 201 s, two runs each), while on larger inputs it pays for itself (at 200k events, 24 MB, the client
# compiler alone made the build half as long again)
CLIENT_JIT_MAX_LANDING_BYTES = 4 << 20


def client_jit_only(paths: LakehousePaths) -> bool:
    """The JVM's client (C1) compiler only: yes, no, or (LAKEHOUSE_JVM_JIT=auto, the default) on landing
    zones under CLIENT_JIT_MAX_LANDING_BYTES."""
    setting = os.environ.get("LAKEHOUSE_JVM_JIT", "auto").strip().lower()
    if setting in ("client", "c1"):
        return True
    if setting in ("full", "tiered"):
        return False
    return landing_bytes(paths) < CLIENT_JIT_MAX_LANDING_BYTES


def spark_conf(paths: LakehousePaths | None = None, driver_jars: list[Path] | None = None) -> dict[str, str]:
    """The Spark configuration of the local lakehouse (every knob in one place, env-overridable)."""
    paths = paths or lakehouse_paths()
    env = os.environ.get
    codegen = codegen_enabled(paths)
    java_opts = (
        f"-Dderby.system.home={paths.home} -Dderby.stream.error.file={paths.home / 'derby.log'}"
        # a driver out of heap ends the run with one line ("Terminating due to java.lang.OutOfMemoryError")
        # instead of leaving Spark's threads hung; raise LAKEHOUSE_DRIVER_MEMORY then
        " -XX:+ExitOnOutOfMemoryError"
        # the throughput collector: on two cores G1's concurrent threads take CPU from the queries (a small
        # build ran about 30% faster with it; see BENCHMARKS.md)
        " -XX:+UseParallelGC"
    )
    if client_jit_only(paths):
        # the code cache is raised because the client compiler fills the default 48 MB and then stops
        java_opts += " -XX:TieredStopAtLevel=1 -XX:ReservedCodeCacheSize=256m"
    # the user's own driver JVM options (a flight recording, GC logs, a heap dump path) come last, so that
    # an option given twice takes the user's value
    extra_opts = env("LAKEHOUSE_JAVA_OPTIONS", "").strip()
    if extra_opts:
        java_opts += " " + extra_opts
    master = env("LAKEHOUSE_SPARK_MASTER", "local[*]")
    # a local engine serves nobody else: its driver RPC and block manager listen on loopback only (Spark
    # would take the machine's network address); a cluster master, or LAKEHOUSE_SPARK_DRIVER_HOST, opts out
    driver_host = env("LAKEHOUSE_SPARK_DRIVER_HOST", "127.0.0.1" if master.startswith("local") else "")
    return {
        "spark.master": master,
        **({"spark.driver.host": driver_host, "spark.driver.bindAddress": driver_host} if driver_host else {}),
        "spark.app.name": "ecommerce-lakehouse",
        # Python workers (pandas UDFs, MLflow's Spark UDF) use this interpreter, i.e. the project's venv
        "spark.pyspark.python": env("PYSPARK_PYTHON", sys.executable),
        "spark.driver.memory": env("LAKEHOUSE_DRIVER_MEMORY", "4g"),
        # results collected to the driver (the training sample travels as Parquet files locally instead)
        "spark.driver.maxResultSize": env("LAKEHOUSE_MAX_RESULT_SIZE", "2g"),
        "spark.driver.extraJavaOptions": java_opts,
        # 4 on two cores: 16 made the 10M-event bench slower (full build 877 s against 826 s, daily 370 s
        # against 356 s) and its Silver tables larger and changed nothing at 1M; 1 or 32 did not change
        # the test data's queries
        "spark.sql.shuffle.partitions": env("LAKEHOUSE_SHUFFLE_PARTITIONS", "4"),
        # dbt's threads share the cores: the adapter puts each node's queries in a pool of its own, named so
        # that the newest node wins ties between pools, so a small test can run beside a large model another
        # thread started first (Spark breaks such ties by name, see join_node_pool)
        "spark.scheduler.mode": env("LAKEHOUSE_SCHEDULER_MODE", "FAIR"),
        "spark.sql.adaptive.enabled": "true",
        "spark.sql.adaptive.coalescePartitions.enabled": "true",
        # AQE broadcasts a join side up to this size (measured at run time): the feature mart's per-product
        # and label sides then join its pair stream without shuffling it (Spark's default is 10 MB)
        "spark.sql.adaptive.autoBroadcastJoinThreshold": env("LAKEHOUSE_BROADCAST_THRESHOLD", "64MB"),
        "spark.sql.session.timeZone": "UTC",
        # Parquet files (every Delta table) in zstd: a quarter to two fifths smaller than Spark's default
        # snappy on the feature mart, the predictions and fct_events, written and read in about the same time
        "spark.sql.parquet.compression.codec": env("LAKEHOUSE_PARQUET_CODEC", "zstd"),
        "spark.sql.sources.default": "delta",
        "spark.sql.warehouse.dir": str(paths.warehouse),
        "spark.sql.extensions": "io.delta.sql.DeltaSparkSessionExtension",
        "spark.sql.catalog.spark_catalog": "org.apache.spark.sql.delta.catalog.DeltaCatalog",
        "spark.jars.packages": DELTA_PACKAGE,
        "spark.databricks.delta.snapshotPartitions": "2",
        "spark.hadoop.javax.jdo.option.ConnectionURL": f"jdbc:derby:;databaseName={paths.metastore};create=true",
        "spark.hadoop.datanucleus.schema.autoCreateAll": "true",
        "spark.hadoop.hive.metastore.schema.verification": "false",
        "spark.ui.enabled": env("LAKEHOUSE_SPARK_UI", "false"),
        "spark.ui.showConsoleProgress": "false",
        "spark.sql.codegen.wholeStage": "true" if codegen else "false",
        "spark.sql.codegen.factoryMode": "FALLBACK" if codegen else "NO_CODEGEN",
        "spark.sql.execution.arrow.pyspark.enabled": "true",
        "spark.sql.execution.arrow.pyspark.fallback.enabled": "true",
        **({"spark.driver.extraClassPath": os.pathsep.join(str(j) for j in driver_jars)} if driver_jars else {}),
    }


JAVA_SOURCES = Path(__file__).parent / "java"
# the local file system classes (lakehouse.hadoop): Hadoop's own file system starts a chmod or readlink
# process for every file it creates and every Delta commit when its native library is absent, as with pyspark.
# The same jar holds the SQL endpoint's password check (lakehouse.thrift) and read-only rule (lakehouse.sql).
LOCAL_FS = {
    "spark.hadoop.fs.file.impl": "lakehouse.hadoop.LakehouseLocalFileSystem",
    "spark.hadoop.fs.AbstractFileSystem.file.impl": "lakehouse.hadoop.LakehouseLocalFs",
}


def lakehouse_jar(cache: Path | None = None) -> Path | None:
    """The jar of this package's Java classes, compiled once per machine with the JDK's javac against
    pyspark's jars; None when no javac is found or it fails (Hadoop's own file system is used then, and the
    SQL endpoint refuses to start)."""
    import hashlib
    import tempfile
    import zipfile

    import pyspark

    sources = sorted(JAVA_SOURCES.rglob("*.java"))
    digest = hashlib.sha256(pyspark.__version__.encode())
    for source in sources:
        digest.update(source.read_bytes())
    folder = cache or user_cache()
    jar = folder / f"lakehouse-java-{digest.hexdigest()[:16]}.jar"
    if jar.exists():
        return jar
    java_home = os.environ.get("JAVA_HOME")
    javac = os.path.join(java_home, "bin", "javac") if java_home else shutil.which("javac")
    if not sources or not javac or not os.path.exists(javac):
        return None
    classpath = os.path.join(os.path.dirname(pyspark.__file__), "jars", "*")
    with tempfile.TemporaryDirectory() as build:
        done = subprocess.run(
            [javac, "-nowarn", "--release", "17", "-d", build, "-cp", classpath, *map(str, sources)],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            return None
        folder.mkdir(parents=True, exist_ok=True)
        # a name of its own per process: two processes may build the same jar at once; the rename is atomic
        partial = jar.with_name(f"{jar.stem}.{os.getpid()}.tmp")
        with zipfile.ZipFile(partial, "w") as archive:
            for path in sorted(Path(build).rglob("*.class")):
                archive.write(path, path.relative_to(build).as_posix())
        partial.replace(jar)
    return jar


def running_session():
    """The process' live SparkSession, or None.

    The session this process built, not the JVM thread's "active" one: that is an inheritable thread-local,
    and a thread can still carry a session stopped earlier (of another home, in the same JVM).
    """
    from pyspark.sql import SparkSession

    session = SparkSession._instantiatedSession
    if session is not None and session._sc._jsc is not None:
        return session
    return None


def get_spark(extra_conf: dict[str, str] | None = None):
    """Return the process' SparkSession, creating the Delta-enabled local one on first call.

    This is the ``session_factory`` of the dbt ``local`` target, so plain ``dbt`` and the CLI share it.
    ``extra_conf`` is added to the configuration of a session this call creates (the SQL endpoint's).
    """
    from pyspark.sql import SparkSession

    with _lock:
        existing = running_session()
        if existing is not None:
            return existing
        check_java()
        paths = lakehouse_paths()
        acquire_home_lock(paths)
        for folder in (paths.home, paths.warehouse, paths.tmp):
            folder.mkdir(parents=True, exist_ok=True)
        os.environ.setdefault("MLFLOW_TRACKING_URI", paths.mlflow_tracking_uri)
        # large results handed from Spark to Python as files (lakehouse_ml.transfer.to_pandas) go here
        os.environ.setdefault("LAKEHOUSE_SPILL_DIR", str(paths.tmp))
        # PySpark picks the Python of its workers from the environment at context start
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        if str(os.environ.get("LAKEHOUSE_SPARK_MASTER", "local")).startswith("local"):
            # the web UI (when enabled) and anything else that asks Spark for "the local address" bind here
            os.environ.setdefault("SPARK_LOCAL_IP", os.environ.get("LAKEHOUSE_SPARK_DRIVER_HOST", "127.0.0.1"))
        builder = SparkSession.builder.enableHiveSupport()
        jars = ensure_delta_jars()
        java_jar = lakehouse_jar()
        conf = spark_conf(paths, [*jars, *([java_jar] if java_jar else [])])
        local_fs = os.environ.get("LAKEHOUSE_LOCAL_FS", "on") != "off"
        if java_jar and local_fs and str(conf.get("spark.master", "")).startswith("local"):
            conf.update(LOCAL_FS)
        conf.update(extra_conf or {})
        for key, value in conf.items():
            builder = builder.config(key, value)
        spark = builder.getOrCreate()
        spark.sparkContext.setLogLevel(os.environ.get("LAKEHOUSE_SPARK_LOG_LEVEL", "ERROR"))
        _quiet_hive_alter_handler(spark)
        # PySpark logs every failed query with its whole JVM stack trace; dbt already reports the error
        logging.getLogger("SQLQueryContextLogger").setLevel(logging.CRITICAL)
        return spark


def _quiet_hive_alter_handler(spark) -> None:
    """Silence the Hive metastore's ERROR line on every replaced table.

    Replacing a Delta table updates its metastore entry; the embedded Hive metastore first tries its own
    (Hive-compatible) schema, logs ``ERROR HiveAlterHandler: Failed to alter table`` when that is refused,
    and Spark then stores the entry in its own format, which succeeds. The line is not an error of the run.
    """
    jvm = spark.sparkContext._jvm
    # a logging tweak never stops the session
    with contextlib.suppress(Exception):
        jvm.org.apache.logging.log4j.core.config.Configurator.setLevel(
            "org.apache.hadoop.hive.metastore.HiveAlterHandler", jvm.org.apache.logging.log4j.Level.OFF
        )


def stop_spark() -> None:
    """Stop the session if one runs (used by the CLI at exit and by tests)."""
    from pyspark.sql import SparkSession

    session = SparkSession._instantiatedSession
    if session is not None:
        # The embedded Hive metastore client is a thread-local of the JVM thread that served this Python
        # thread; left in place, the next session of this process (another LAKEHOUSE_HOME) would read the
        # old home's metastore from this thread. Close it with the session.
        with contextlib.suppress(Exception):
            session._jvm.org.apache.hadoop.hive.ql.metadata.Hive.closeCurrent()  # type: ignore[union-attr]
        metastore_url = session.sparkContext.getConf().get("spark.hadoop.javax.jdo.option.ConnectionURL", "")
        jvm = session._jvm
        session.stop()
        # The embedded Derby database stays booted in this JVM after the session stops, and holds its home's
        # metastore against every other process (`lakehouse sql-server` on that home could not start): it is
        # shut down too. Derby reports a shutdown by raising its SQLState 08006.
        if metastore_url.startswith("jdbc:derby:") and jvm is not None:
            database = ";".join(p for p in metastore_url.split(";") if not p.startswith("create="))
            with contextlib.suppress(Exception):
                jvm.java.sql.DriverManager.getConnection(f"{database};shutdown=true")
