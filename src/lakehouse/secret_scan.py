"""Fail on anything in the repository that looks like a committed credential.

Scans the files git tracks (or, outside a git checkout, every file under the project except caches and
virtual environments) for token shapes (Databricks, GitHub, AWS, Slack, private keys) and for
password/token/secret settings with a literal value. Values taken from the environment
(`env_var(...)`, `${...}`, `$VAR`, `secrets.`) are fine.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

PATTERNS = {
    "Databricks personal access token": re.compile(r"\bdapi[0-9a-f]{32}(-\d)?\b"),
    "GitHub token": re.compile(r"\bgh[pousr]_[A-Za-z0-9]{36,}\b"),
    "AWS access key id": re.compile(r"\b(AKIA|ASIA)[0-9A-Z]{16}\b"),
    "Slack token": re.compile(r"\bxox[abpors]-[A-Za-z0-9-]{10,}\b"),
    "private key": re.compile(r"-----BEGIN ([A-Z]+ )?PRIVATE KEY-----"),
    "literal credential setting": re.compile(
        r"""(?i)\b(password|passwd|secret|token|api_key|apikey|access_key)\b["']?\s*[:=]\s*["']?"""
        r"""(?!\s*(\{\{|\$|env_var|os\.environ|secrets\.|<|\.\.\.|null|none|""|''))([^\s"'#,]{8,})"""
    ),
}
SKIP_PARTS = {".git", ".venv", "target", "logs", ".lakehouse", "__pycache__", ".ruff_cache", ".pytest_cache"}
SKIP_SUFFIXES = {".png", ".jpg", ".whl", ".gz", ".parquet", ".db", ".jar", ".lock"}
SKIP_FILES = {"src/lakehouse/secret_scan.py"}  # this file: its patterns describe credentials


def _files(root: Path) -> list[Path]:
    try:
        listed = subprocess.run(
            ["git", "ls-files", "-z"], cwd=root, capture_output=True, check=True, text=True
        ).stdout.split("\0")
        files = [root / name for name in listed if name]
    except (OSError, subprocess.CalledProcessError):
        files = [p for p in root.rglob("*") if p.is_file()]
    return [
        p
        for p in files
        if p.is_file()
        and not SKIP_PARTS.intersection(p.relative_to(root).parts)
        and p.suffix not in SKIP_SUFFIXES
        and p.relative_to(root).as_posix() not in SKIP_FILES
    ]


def scan_text(text: str) -> list[tuple[int, str]]:
    """(line number, kind) of every suspected credential in ``text``."""
    hits = []
    for number, line in enumerate(text.splitlines(), start=1):
        if "secret-scan: ignore" in line:
            continue
        hits += [(number, kind) for kind, pattern in PATTERNS.items() if pattern.search(line)]
    return hits


def scan(root: Path) -> list[str]:
    """Findings as `path:line: kind`; empty when the repository is clean."""
    findings = []
    for path in _files(root):
        try:
            text = path.read_text()
        except (UnicodeDecodeError, OSError):
            continue
        findings += [f"{path.relative_to(root)}:{n}: looks like a {kind}" for n, kind in scan_text(text)]
    return findings


def main() -> int:
    from lakehouse.dbt_runner import project_dir

    findings = scan(project_dir())
    for finding in findings:
        print(f"error: {finding}")
    print("secret scan: " + ("clean" if not findings else f"{len(findings)} finding(s)"))
    return 1 if findings else 0
