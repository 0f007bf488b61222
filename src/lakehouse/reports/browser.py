"""Headless Chromium for checking pages as people see them: the rendered DOM and a screenshot."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
# no background traffic: this project's machines have a closed network, and a test must not wait on it
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
]


class BrowserMissingError(RuntimeError):
    """No Chromium on this machine."""


def chromium_binary() -> str:
    """The Chromium to use: $LAKEHOUSE_CHROMIUM, else the first of the usual names on PATH."""
    configured = os.environ.get("LAKEHOUSE_CHROMIUM")
    if configured:
        return configured
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    raise BrowserMissingError(
        "no Chromium found: install it (Debian: `apt-get install chromium`; `make browser` does it) "
        "or set LAKEHOUSE_CHROMIUM to its path"
    )


def _run(args: list[str], timeout: float) -> subprocess.CompletedProcess[str]:
    with tempfile.TemporaryDirectory(prefix="lakehouse-chromium-") as profile:
        command = [chromium_binary(), *FLAGS, f"--user-data-dir={profile}", *args]
        return subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)


def rendered_dom(url: str, wait_ms: int = 8000, timeout: float = 120) -> str:
    """The page's DOM after its scripts ran (up to ``wait_ms`` of virtual time)."""
    done = _run([f"--virtual-time-budget={wait_ms}", "--dump-dom", url], timeout)
    if done.returncode != 0 or "<html" not in done.stdout:
        raise RuntimeError(f"chromium could not render {url}: {done.stderr.strip()[-500:]}")
    return done.stdout


def screenshot(url: str, out: Path, width: int = 1400, height: int = 1800, wait_ms: int = 8000) -> Path:
    """A PNG of the page as rendered."""
    out.parent.mkdir(parents=True, exist_ok=True)
    done = _run(
        [f"--virtual-time-budget={wait_ms}", f"--window-size={width},{height}", f"--screenshot={out}", url], 120
    )
    if done.returncode != 0 or not out.exists():
        raise RuntimeError(f"chromium could not screenshot {url}: {done.stderr.strip()[-500:]}")
    return out
