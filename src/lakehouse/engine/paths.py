"""Where the local lakehouse keeps its files: one project-local folder, overridable by LAKEHOUSE_HOME."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class LakehousePaths:
    """All local locations, derived from one home folder."""

    home: Path

    @property
    def landing(self) -> Path:
        """Raw files as delivered by the sources (the landing zone)."""
        return self.home / "landing"

    @property
    def warehouse(self) -> Path:
        """Delta tables managed by the metastore."""
        return self.home / "warehouse"

    @property
    def metastore(self) -> Path:
        """Embedded Derby metastore database (persistent across runs)."""
        return self.home / "metastore_db"

    @property
    def mlflow(self) -> Path:
        """MLflow tracking store (SQLite) and artifacts."""
        return self.home / "mlflow"

    @property
    def mlflow_tracking_uri(self) -> str:
        return f"sqlite:///{self.mlflow / 'mlflow.db'}"

    @property
    def oracle(self) -> Path:
        """The data generator's own truth; no model reads it."""
        return self.home / "oracle"

    @property
    def reports(self) -> Path:
        """Generated pages: the KPI dashboard and the EDA report."""
        return self.home / "reports"

    @property
    def tmp(self) -> Path:
        return self.home / "tmp"


def lakehouse_paths() -> LakehousePaths:
    """Paths under ``$LAKEHOUSE_HOME`` (default: ``./.lakehouse`` in the current directory), absolute."""
    home = Path(os.environ.get("LAKEHOUSE_HOME", ".lakehouse")).expanduser().resolve()
    return LakehousePaths(home=home)
