"""Fail on anything in the repository that looks like a committed credential: detect-secrets (Yelp's
scanner, offline) over the files git tracks, with the plugins and filters of `.secrets.baseline`.

A finding that the baseline does not hold fails the check. Audited false positives go into the baseline
(`detect-secrets scan --baseline .secrets.baseline`, then `detect-secrets audit .secrets.baseline`); an
inline `# pragma: allowlist secret` marks one line. Values taken from the environment (`env_var(...)`,
`${...}`) hold no secret and are not reported.
"""

from __future__ import annotations

import json
import os
import subprocess
from contextlib import contextmanager
from pathlib import Path
from typing import Any

BASELINE = ".secrets.baseline"
PROJECT = Path(__file__).resolve().parents[3]


def _tracked_files(root: Path) -> list[str]:
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=root, capture_output=True, check=True, text=True)
    return [name for name in listed.stdout.split("\0") if name and (root / name).is_file()]


def _baseline(root: Path) -> dict[str, Any]:
    return json.loads((root / BASELINE).read_text())


@contextmanager
def _in(folder: Path):
    # the baseline names its custom plugin by a path relative to the project
    before = Path.cwd()
    os.chdir(folder)
    try:
        yield
    finally:
        os.chdir(before)


def scan_text(text: str, root: Path = PROJECT, name: str = "snippet.yml") -> list[tuple[int, str]]:
    """(line number, kind) of every suspected credential in ``text``, scanned as a file called ``name``
    with the baseline's plugins and filters (the file's type steers some filters)."""
    import tempfile

    from detect_secrets import SecretsCollection
    from detect_secrets.settings import transient_settings

    config = _baseline(root)
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / name).write_text(text)
        with _in(root), transient_settings({k: config[k] for k in ("plugins_used", "filters_used")}):
            found = SecretsCollection(root=folder)
            found.scan_file(name)
    return sorted({(secret.line_number, secret.type) for _, secret in found})


def scan(root: Path = PROJECT) -> list[str]:
    """Findings that the baseline does not hold, as `path:line: kind`; empty when the repository is clean."""
    from detect_secrets import SecretsCollection
    from detect_secrets.core import baseline
    from detect_secrets.settings import transient_settings

    config = _baseline(root)
    with _in(root), transient_settings({k: config[k] for k in ("plugins_used", "filters_used")}):
        found = SecretsCollection(root=str(root))
        found.scan_files(*_tracked_files(root), num_processors=1)
        new = found - baseline.load(config, BASELINE)
    return sorted(f"{name}:{secret.line_number}: looks like a {secret.type}" for name, secret in new)


def main() -> int:
    findings = scan()
    for finding in findings:
        print(f"error: {finding}")
    print("secret scan (detect-secrets): " + ("clean" if not findings else f"{len(findings)} new finding(s)"))
    return 1 if findings else 0
