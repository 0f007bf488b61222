"""detect-secrets plugins for credentials its own plugins do not name (loaded from the baseline)."""

from __future__ import annotations

import re

from detect_secrets.plugins.base import RegexBasedDetector


class DatabricksTokenDetector(RegexBasedDetector):
    """Databricks personal access tokens (`dapi` and 32 hex digits)."""

    secret_type = "Databricks personal access token"  # pragma: allowlist secret (a name)
    denylist = (re.compile(r"\bdapi[0-9a-f]{32}(?:-\d)?\b"),)
