"""Bronze file register: one row per landing file the first time it is seen, with what it holds.

Every file under the landing root (csv / jsonl, optionally gzip) is opened once: its size, modification
time, compression, whether it is empty, whether its gzip stream is complete, its first line and, for a
CSV file whose first line is a header, the normalised column names. The Bronze line models read only
files whose status is `ok`, leave their header line out, and Silver maps CSV fields by these header
names, so a reordered, extra or renamed column is handled per file instead of breaking a positional parse.

A file that cannot be read (a corrupted or truncated gzip) gets status `rejected` and a one-line problem;
the other files are ingested as usual, and `lakehouse` prints every rejected file after the build.
Append-only, like the rest of Bronze: a file is inspected again only if its size or time changes.
"""

import datetime as dt
import gzip
import os
import re
import zlib

SUFFIXES = (".csv", ".csv.gz", ".jsonl", ".jsonl.gz")
CHUNK = 8 << 20


def _normalise(name):
    """Header name -> canonical form: no BOM, trimmed, lower case, runs of non-alphanumerics as `_`."""
    name = name.replace("\ufeff", "").strip().strip('"').strip().lower()
    return re.sub(r"[^0-9a-z]+", "_", name).strip("_")


def _header_columns(line):
    """Normalised, de-duplicated column names of a CSV header line (a repeated name gets `_2`, `_3`)."""
    out = []
    for raw in line.split(","):
        name = _normalise(raw) or f"column_{len(out) + 1}"
        base, n = name, 1
        while name in out:
            n += 1
            name = f"{base}_{n}"
        out.append(name)
    return out


def _looks_like_header(line):
    """A header names columns: letters and no digit (every data line of these feeds has a number)."""
    text = line.replace("\ufeff", "")
    return any(c.isalpha() for c in text) and not any(c.isdigit() for c in text)


def inspect_file(path):
    """What one landing file holds: a dict with status, problem, first line, header columns."""
    compressed = path.endswith(".gz")
    info = {
        "compression": "gzip" if compressed else "none",
        "status": "ok",
        "problem": None,
        "has_bom": False,
        "first_line": None,
        "header_line": None,
        "header_columns": None,
    }
    first = b""
    try:
        opener = gzip.open if compressed else open
        with opener(path, "rb") as handle:
            first = handle.readline()
            # a gzip file is only known to be whole once its last block and checksum are read
            while compressed and handle.read(CHUNK):
                pass
    except (OSError, EOFError, zlib.error) as exc:
        info["status"] = "rejected"
        kind = "corrupt gzip" if compressed else "unreadable file"
        info["problem"] = f"{kind}: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"
        return info
    if not first.strip():
        info["status"] = "empty"
        info["problem"] = "empty file: no lines"
        return info
    line = first.decode("utf-8", errors="replace").rstrip("\r\n")
    info["has_bom"] = line.startswith("\ufeff")
    # without the mark: Hadoop's line reader (the local `text` source) drops it from the first line
    line = line.removeprefix("\ufeff")
    info["first_line"] = line
    if ".csv" in path and _looks_like_header(line):
        info["header_line"] = line
        info["header_columns"] = _header_columns(line)
    return info


def landing_files(root):
    """(source folder, path) of every landing file under ``root``, sorted."""
    found = []
    for folder, _dirs, names in os.walk(root):
        for name in names:
            if name.startswith((".", "_")) or not name.endswith(SUFFIXES):
                continue
            path = os.path.join(folder, name)
            source_dir = os.path.relpath(path, root).split(os.sep)[0]
            found.append((source_dir, path))
    return sorted(found)


def model(dbt, session):
    dbt.config(materialized="incremental", incremental_strategy="append")
    from pyspark.sql import types as T

    root = dbt.config.meta_get("landing_root")
    seen = set()
    if dbt.is_incremental:
        previous = session.table(str(dbt.this)).select("file_path", "file_size", "file_modified_at").collect()
        seen = {(r.file_path, r.file_size, r.file_modified_at) for r in previous}
    inspected_at = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    rows = []
    for source_dir, path in landing_files(root) if os.path.isdir(root) else []:
        stat = os.stat(path)
        modified = dt.datetime.fromtimestamp(stat.st_mtime, dt.UTC).replace(tzinfo=None, microsecond=0)
        if (path, stat.st_size, modified) in seen:
            continue
        info = inspect_file(path)
        rows.append(
            (
                source_dir,
                path,
                os.path.basename(path),
                stat.st_size,
                modified,
                info["compression"],
                info["status"],
                info["problem"],
                info["has_bom"],
                info["header_line"],
                info["header_columns"],
                inspected_at,
            )
        )
    schema = T.StructType(
        [
            T.StructField("source_dir", T.StringType()),
            T.StructField("file_path", T.StringType()),
            T.StructField("file_name", T.StringType()),
            T.StructField("file_size", T.LongType()),
            T.StructField("file_modified_at", T.TimestampType()),
            T.StructField("compression", T.StringType()),
            T.StructField("status", T.StringType()),
            T.StructField("problem", T.StringType()),
            T.StructField("has_bom", T.BooleanType()),
            T.StructField("header_line", T.StringType()),
            T.StructField("header_columns", T.ArrayType(T.StringType())),
            T.StructField("inspected_at", T.TimestampType()),
        ]
    )
    return session.createDataFrame(rows, schema)
