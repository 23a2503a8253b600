"""Shared fixtures: temporary catalogs with a frozen clock, seeded through the public API."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from mltui.core.catalog import Catalog, open_catalog

FROZEN_NOW = 1_790_000_000.0  # 2026-09-21, fixed so ages and canonical names are stable


class TickingClock:
    """A clock that starts at FROZEN_NOW and advances one minute per call (stable ordering)."""

    def __init__(self, start: float = FROZEN_NOW - 30 * 86_400, step: float = 60.0):
        self._counter = itertools.count()
        self.start = start
        self.step = step

    def __call__(self) -> float:
        return self.start + self.step * next(self._counter)


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch, tmp_path):
    """No test sees the developer's catalog, user name or demo folder."""
    monkeypatch.delenv("MLTUI_CATALOG", raising=False)
    monkeypatch.setenv("MLTUI_USER", "tester")
    monkeypatch.setenv("MLTUI_BUSY_TIMEOUT", "0.3")
    monkeypatch.setenv("MLTUI_DEMO_HOME", str(tmp_path / "demo-home"))
    monkeypatch.setenv("NO_COLOR", "1")
    # pytest-xdist's workers inherit COLUMNS=80 (a plain run has none): without this the CLI's
    # human output is wrapped at 80 columns in one kind of run and at 160 in the other.
    monkeypatch.delenv("COLUMNS", raising=False)
    monkeypatch.delenv("LINES", raising=False)


@pytest.fixture
def catalog_path(tmp_path: Path) -> Path:
    """Where a fresh catalog is created."""
    return tmp_path / "proj" / ".mltui" / "catalog.db"


@pytest.fixture
def catalog(catalog_path: Path) -> Catalog:
    """An empty catalog with a ticking frozen clock."""
    cat = open_catalog(catalog_path, create=True, clock=TickingClock())
    yield cat
    cat.close()


def seed_fraud(cat: Catalog) -> dict:
    """Three runs → fraud@1..3 with f1 0.80, 0.90, 0.70, one dataset, gates on f1."""
    runs = []
    for name, f1, loss, lr in (("baseline", 0.80, 0.40, "0.01"), ("better", 0.90, 0.30, "0.02"),
                               ("worse", 0.70, 0.60, "0.05")):
        runs.append(cat.log_run(name, params={"lr": lr, "optimizer": "adam"},
                                metrics={"f1": [f1 - 0.1, f1], "loss": [loss + 0.2, loss]},
                                tags={"team": "risk"}, project="payments",
                                git_commit="abc1234def"))
    versions = [cat.register("fraud", run=run) for run in runs]
    cat.add_gate("fraud", "metrics.f1 >= 0.75")
    cat.add_gate("fraud", "metrics.f1 >= production - 0.05")
    return {"runs": runs, "versions": versions}


@pytest.fixture
def seeded(catalog: Catalog) -> Catalog:
    """The catalog with fraud@1..3 and its gates."""
    seed_fraud(catalog)
    return catalog


def snapshot_tables(path: Path) -> dict:
    """Every row of every table, to prove a failed command changed nothing."""
    import sqlite3

    conn = sqlite3.connect(str(path))
    try:
        tables = [r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'search_text_fts%' "
            "ORDER BY name")]
        return {t: sorted(map(repr, conn.execute(f"SELECT * FROM {t}").fetchall())) for t in tables}
    finally:
        conn.close()
