"""Bronze file register: one row per landing file the first time it is seen, with what it holds.

Every file under the landing root (csv / jsonl, optionally gzip) is opened once: its size, modification
time, compression, whether it is empty, whether its gzip stream is complete, its first line and, for a
CSV file whose first line is a header, the delimiter that header is written with and the normalised
column names. The Bronze line models read only the `ok` files this register lists (so a feed without
files is an empty input, and no run reads the landing lines to find what is new), leave their header
line out, and Silver maps CSV fields by these header names, so a reordered, extra or renamed column is
handled per file instead of breaking a positional parse.

A file that cannot be read (a corrupted or truncated gzip), or whose header is written with another
delimiter than its feed is read with, gets status `rejected` and a one-line problem; the other files are
ingested as usual, and `lakehouse` prints every rejected file after the build. Append-only, like the rest
of Bronze: a file is inspected again only if its size or time changes.
"""

import datetime as dt
import gzip
import json
import os
import re
import zlib

SUFFIXES = (".csv", ".csv.gz", ".jsonl", ".jsonl.gz")
CHUNK = 8 << 20
# the delimiters a header is recognised in, with the name the problem line gives each
DELIMITERS = {",": "','", ";": "';'", "\t": "tab", "|": "'|'"}


def _normalise(name):
    """Header name -> canonical form: no BOM, trimmed, lower case, runs of non-alphanumerics as `_`."""
    name = name.replace("\ufeff", "").strip().strip('"').strip().lower()
    return re.sub(r"[^0-9a-z]+", "_", name).strip("_")


def _header_columns(line, delimiter=","):
    """Normalised, de-duplicated column names of a CSV header line (a repeated name gets `_2`, `_3`)."""
    out = []
    for raw in line.split(delimiter):
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


def detect_delimiter(header):
    """The delimiter a header line is written with: the candidate that splits it into the most columns
    (a one-column header gives no evidence: None)."""
    counts = {d: header.count(d) for d in DELIMITERS}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] > 0 else None


def inspect_file(path, delimiter=","):
    """What one landing file holds: a dict with status, problem, first line, delimiter, header columns.

    ``delimiter`` is the one the file's feed is read with: a CSV header written with another one rejects
    the file, with the delimiter it has in the problem line.
    """
    compressed = path.endswith(".gz")
    info = {
        "compression": "gzip" if compressed else "none",
        "status": "ok",
        "problem": None,
        "has_bom": False,
        "first_line": None,
        "header_line": None,
        "header_columns": None,
        "delimiter": None,
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
        found = detect_delimiter(line) or delimiter
        info["header_line"] = line
        info["delimiter"] = found
        info["header_columns"] = _header_columns(line, delimiter)
        if found != delimiter:
            info["status"] = "rejected"
            info["problem"] = (
                f"delimiter {DELIMITERS[found]}: the header is written with {DELIMITERS[found]}, this feed is read "
                f"with {DELIMITERS.get(delimiter, repr(delimiter))} (set var csv_delimiters for its folder to read it)"
            )
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


def spark_file_uris(session, root):
    """Each landing file's path as Spark's file sources name it (`_metadata.file_path`, URL-encoded, with
    the scheme), by its plain path. Bronze selects a file's lines by this name; listing with the
    `binaryFile` source reads no content."""
    listed = (
        session.read.format("binaryFile")
        .option("recursiveFileLookup", "true")
        .load(root)
        .select("path", "_metadata.file_path")
        .collect()
    )
    # `path` is the plain path with the scheme (file:/..., dbfs:/Volumes/...)
    return {re.sub(r"^[A-Za-z][A-Za-z0-9+.-]*:(//)?", "", row.path) or row.path: row.file_path for row in listed}


def _plain(path):
    return "/" + path.lstrip("/")


def model(dbt, session):
    dbt.config(materialized="incremental", incremental_strategy="append")
    from pyspark.sql import types as T

    root = dbt.config.meta_get("landing_root")
    # a call of its own: dbt passes a model only the meta_get keys it finds as plain calls when parsing
    delimiters_var = dbt.config.meta_get("csv_delimiters")
    # dbt renders the var's JSON back into a mapping; a string still comes as JSON text
    delimiters = json.loads(delimiters_var) if isinstance(delimiters_var, str) else dict(delimiters_var or {})
    seen = set()
    if dbt.is_incremental:
        previous = session.table(str(dbt.this)).select("file_path", "file_size", "file_modified_at").collect()
        seen = {(r.file_path, r.file_size, r.file_modified_at) for r in previous}
    inspected_at = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    found = landing_files(root) if os.path.isdir(root) else []
    new = []
    for source_dir, path in found:
        stat = os.stat(path)
        modified = dt.datetime.fromtimestamp(stat.st_mtime, dt.UTC).replace(tzinfo=None, microsecond=0)
        if (path, stat.st_size, modified) not in seen:
            new.append((source_dir, path, stat.st_size, modified))
    uris = {_plain(k): v for k, v in spark_file_uris(session, root).items()} if new else {}
    rows = []
    for source_dir, path, size, modified in new:
        info = inspect_file(path, delimiters.get(source_dir, ","))
        uri = uris.get(_plain(os.path.abspath(path)))
        if uri is None and info["status"] == "ok":
            info["status"], info["problem"] = "rejected", "not listed by Spark's file source (a hidden or special file)"
        rows.append(
            (
                source_dir,
                path,
                uri,
                os.path.basename(path),
                size,
                modified,
                info["compression"],
                info["status"],
                info["problem"],
                info["has_bom"],
                info["header_line"],
                info["delimiter"],
                info["header_columns"],
                inspected_at,
            )
        )
    schema = T.StructType(
        [
            T.StructField("source_dir", T.StringType()),
            T.StructField("file_path", T.StringType()),
            T.StructField("file_uri", T.StringType()),
            T.StructField("file_name", T.StringType()),
            T.StructField("file_size", T.LongType()),
            T.StructField("file_modified_at", T.TimestampType()),
            T.StructField("compression", T.StringType()),
            T.StructField("status", T.StringType()),
            T.StructField("problem", T.StringType()),
            T.StructField("has_bom", T.BooleanType()),
            T.StructField("header_line", T.StringType()),
            T.StructField("delimiter", T.StringType()),
            T.StructField("header_columns", T.ArrayType(T.StringType())),
            T.StructField("inspected_at", T.TimestampType()),
        ]
    )
    return session.createDataFrame(rows, schema)
