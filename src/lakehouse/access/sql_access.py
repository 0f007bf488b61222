"""Analysts' SQL access to the local lakehouse: an interactive SQL shell and a Thrift (JDBC/ODBC) server.

Both run on the one local SparkSession (Delta tables, persistent metastore), so they hold the lakehouse
home's lock like any other run.
"""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path
from typing import TextIO

PROMPT = "lakehouse-sql> "
CONTINUATION = "           ...> "
MAX_ROWS = 200
HELP = """Statements end with ';' (several lines are fine). Examples:
  show schemas;   show tables in gold;   describe gold.agg_daily_kpis;
  select * from gold.agg_daily_kpis order by event_date desc limit 7;
Type `quit;` (or Ctrl-D) to leave."""


def split_statements(text: str) -> tuple[list[str], str]:
    """Complete statements (ended by ';' outside quotes and comments) and the unfinished rest."""
    statements: list[str] = []
    current: list[str] = []
    quote: str | None = None
    i = 0
    while i < len(text):
        ch = text[i]
        if quote:
            current.append(ch)
            if ch == "\\" and i + 1 < len(text):
                current.append(text[i + 1])
                i += 1
            elif ch == quote:
                quote = None
        elif ch in ("'", '"', "`"):
            quote = ch
            current.append(ch)
        elif ch == "-" and text[i : i + 2] == "--":
            end = text.find("\n", i)
            i = len(text) if end == -1 else end
            continue
        elif ch == ";":
            statement = "".join(current).strip()
            if statement:
                statements.append(statement)
            current = []
        else:
            current.append(ch)
        i += 1
    return statements, "".join(current)


def format_rows(columns: list[str], rows: list[tuple[object, ...]], truncated: bool) -> str:
    """A plain text table, as a SQL client prints it."""
    cells = [[("NULL" if v is None else str(v)) for v in row] for row in rows]
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(columns)]
    line = "+" + "+".join("-" * (w + 2) for w in widths) + "+"
    out = [line, "| " + " | ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)) + " |", line]
    out += ["| " + " | ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)) + " |" for r in cells]
    out.append(line)
    more = f" (first {len(rows)} shown)" if truncated else ""
    out.append(f"{len(rows)} row{'s' if len(rows) != 1 else ''}{more}")
    return "\n".join(out)


def execute(spark, statement: str, max_rows: int = MAX_ROWS) -> str:
    """Run one statement; a result set comes back as a text table, an error as one line (no stack trace)."""
    try:
        frame = spark.sql(statement)
        rows = frame.limit(max_rows + 1).collect()
    except Exception as exc:
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return f"error: {message}"
    if not frame.columns:
        return "OK"
    truncated = len(rows) > max_rows
    return format_rows(frame.columns, [tuple(r) for r in rows[:max_rows]], truncated)


def run_shell(spark, stdin: TextIO = sys.stdin, stdout: TextIO = sys.stdout, interactive: bool = True) -> int:
    """Read statements from ``stdin`` until `quit;`/EOF, print each result. Returns the number of errors."""
    errors = 0
    pending = ""
    if interactive:
        print(HELP, file=stdout)
    while True:
        if interactive:
            stdout.write(CONTINUATION if pending.strip() else PROMPT)
            stdout.flush()
        line = stdin.readline()
        if not line:
            break
        statements, pending = split_statements(pending + line)
        for statement in statements:
            if statement.lower() in ("quit", "exit", "\\q"):
                return errors
            result = execute(spark, statement)
            errors += result.startswith("error: ")
            print(result, file=stdout)
    if pending.strip():
        result = execute(spark, pending.strip())
        errors += result.startswith("error: ")
        print(result, file=stdout)
    return errors


LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
# The endpoint's sessions: no SQL on file paths (`select * from text.`/etc/passwd``), no ${env:...}
# substitution, and the read-only check of lakehouse.sql.ReadOnlyExtension (writes, scripts, reflection).
# Static settings, so they are given when the endpoint's SparkSession is created.
ENDPOINT_CONF = {
    "spark.sql.runSQLOnFiles": "false",
    "spark.sql.variable.substitute": "false",
    "spark.sql.extensions": "io.delta.sql.DeltaSparkSessionExtension,lakehouse.sql.ReadOnlyExtension",
}
AUTHENTICATOR = "lakehouse.thrift.TokenAuthenticator"


def endpoint_refusal(host: str, password: str | None) -> str | None:
    """Why the endpoint must not start on ``host`` (one line), or None."""
    if host not in LOOPBACK_HOSTS and not password:
        return (
            f"error: --host {host} would serve the lakehouse to the network without a password; set"
            " LAKEHOUSE_SQL_PASSWORD (and LAKEHOUSE_SQL_USER, default analyst) in the server's environment,"
            " or keep the default --host 127.0.0.1"
        )
    return None


def start_thrift_server(spark, port: int = 10000, host: str = "127.0.0.1", require_password: bool = False):
    """Start Spark's Thrift server (HiveServer2 protocol) inside this session; returns it (call .stop()).

    Clients connect with JDBC `jdbc:hive2://<host>:<port>/default` (Hive or Spark JDBC driver) or ODBC and
    see the same metastore and Delta tables as dbt. With ``require_password`` the server checks every sign-in
    against LAKEHOUSE_SQL_USER and LAKEHOUSE_SQL_PASSWORD (HiveServer2 CUSTOM authentication).
    """
    jvm = spark.sparkContext._jvm
    if require_password:
        spark.conf.set("hive.server2.authentication", "CUSTOM")
        spark.conf.set("hive.server2.custom.authentication.class", AUTHENTICATOR)
        # Hive's CUSTOM provider reads its class from a new HiveConf, i.e. from system properties
        jvm.java.lang.System.setProperty("hive.server2.custom.authentication.class", AUTHENTICATOR)
    else:
        spark.conf.set("hive.server2.authentication", "NONE")
    spark.conf.set("hive.server2.thrift.port", str(port))
    spark.conf.set("hive.server2.thrift.bind.host", host)
    spark.conf.set("hive.server2.transport.mode", "binary")
    server_class = jvm.org.apache.spark.sql.hive.thriftserver.HiveThriftServer2
    return server_class.startWithContext(spark._jsparkSession.sqlContext())


def wait_for_port(host: str, port: int, timeout: float = 60.0) -> bool:
    import socket
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            sock.settimeout(1.0)
            if sock.connect_ex((host, port)) == 0:
                return True
        time.sleep(0.5)
    return False


def analyst_queries(guide: str) -> list[str]:
    """The SQL blocks of the analysts' guide's (docs/analysts.md) "Analyst queries" section, without
    trailing semicolons."""
    import re

    section = guide.split("## Analyst queries", 1)[1].split("\n## ", 1)[0]
    return [q.strip().rstrip(";") for q in re.findall(r"```sql\n(.*?)```", section, flags=re.S)]


def load_test(
    port: int,
    queries: list[str],
    sessions: int = 16,
    seconds: float = 120.0,
    host: str = "127.0.0.1",
    user: str = "analyst",
    password: str | None = None,
) -> dict[str, object]:
    """``sessions`` concurrent HiveServer2 sessions (PyHive, the protocol JDBC and ODBC clients speak) run
    ``queries`` round-robin against the endpoint on ``host``:``port`` until ``seconds`` have passed; each
    session runs at least one query, however long it took to sign in, and finishes the query it is in.
    Loopback only: it refuses any other host. Returns the count of queries answered and failed, the
    failures' first lines, and latency percentiles in seconds."""
    import statistics
    import threading
    import time

    from pyhive import hive

    if host not in LOOPBACK_HOSTS:
        raise ValueError(f"the load test sends traffic to this machine only, not to {host}")
    deadline = time.monotonic() + seconds
    latencies: list[float] = []
    failures: list[str] = []
    close_failures: list[str] = []
    per_session = [0] * sessions
    lock = threading.Lock()

    def session(index: int) -> None:
        try:
            connection = hive.connect(
                host=host, port=port, username=user, password=password, auth="CUSTOM" if password else "NONE"
            )
        except Exception as exc:  # a refused sign-in or a full server: reported, not raised
            with lock:
                failures.append(f"session {index}: connect: {str(exc).splitlines()[0][:200]}")
            return
        cursor = connection.cursor()
        turn = index  # sessions start at different queries
        try:
            while turn == index or time.monotonic() < deadline:
                query = queries[turn % len(queries)]
                turn += 1
                started = time.perf_counter()
                try:
                    cursor.execute(query)
                    cursor.fetchall()
                except Exception as exc:
                    with lock:
                        failures.append(f"session {index}: {str(exc).splitlines()[0][:200]}")
                    continue
                with lock:
                    latencies.append(time.perf_counter() - started)
                    per_session[index] += 1
        finally:
            try:
                connection.close()
            except Exception as exc:  # the answers stand; a session the server failed to close is reported
                with lock:
                    close_failures.append(f"session {index}: close: {str(exc).splitlines()[0][:200]}")

    threads = [threading.Thread(target=session, args=(i,), daemon=True) for i in range(sessions)]
    for thread in threads:
        thread.start()
    # a query still running at the deadline gets one bounded grace for all; a session stuck past it fails
    give_up = deadline + 300
    for thread in threads:
        thread.join(timeout=max(0.0, give_up - time.monotonic()))
    stuck = sum(thread.is_alive() for thread in threads)
    failures += [f"{stuck} session(s) still waiting 300 s after the deadline"] if stuck else []
    ordered = sorted(latencies)
    return {
        "sessions": sessions,
        "answered": len(latencies),
        "failed": len(failures),
        "failures": failures[:10],
        "close_failures": close_failures[:10],
        "sessions_answered": sum(1 for n in per_session if n),
        "median_s": statistics.median(ordered) if ordered else float("nan"),
        "p95_s": ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))] if ordered else float("nan"),
    }


def render_load(result: dict[str, object], seconds: float) -> str:
    lines = [
        f"{result['sessions']} sessions for {seconds:.0f} s: {result['answered']:,} queries answered, "
        f"{result['failed']} failed; latency median {result['median_s']:.2f} s, 95th percentile "
        f"{result['p95_s']:.2f} s",
        *[f"  failure: {f}" for f in result["failures"]],  # type: ignore[attr-defined]
        *[f"  session not closed by the server: {f}" for f in result.get("close_failures", [])],  # type: ignore[attr-defined]
    ]
    return "\n".join(lines)


def serve(host: str, port: int) -> int:
    """Serve the lakehouse read-only over JDBC/Thrift until SIGTERM or Ctrl-C (`lakehouse sql-server`)."""
    import signal
    import threading

    import pyspark

    from lakehouse.engine.runtime import get_spark, lakehouse_jar

    password = os.environ.get("LAKEHOUSE_SQL_PASSWORD") or None
    refusal = endpoint_refusal(host, password)
    if refusal:
        print(refusal, file=sys.stderr)
        return 2
    if lakehouse_jar() is None:
        print(
            "error: the SQL endpoint's read-only check is Java compiled here: install a JDK with javac", file=sys.stderr
        )
        return 2
    spark = get_spark(ENDPOINT_CONF)
    server = start_thrift_server(spark, port, host, require_password=bool(password))
    if not wait_for_port(host, port):
        print(f"error: the Thrift server did not open {host}:{port}", file=sys.stderr)
        return 1
    user = os.environ.get("LAKEHOUSE_SQL_USER", "analyst")
    url = f"jdbc:hive2://{host}:{port}/default"
    beeline = Path(pyspark.__file__).parent / "bin" / "beeline"
    print(f"Thrift server (HiveServer2 protocol) on {host}:{port}, read-only; stop it with Ctrl-C or SIGTERM")
    if password:
        print(f"  JDBC URL: {url}  (user {user}, the password in LAKEHOUSE_SQL_PASSWORD)")
        print(f"  beeline:  {beeline} -u {url} -n {user} -p <password>")
    else:
        print(f"  JDBC URL: {url}  (no password, loopback only; set LAKEHOUSE_SQL_PASSWORD to require one)")
        print(f"  beeline:  {beeline} -u {url}")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with contextlib.suppress(KeyboardInterrupt):
        stop.wait()
    server.stop()
    print("Thrift server stopped")
    return 0
