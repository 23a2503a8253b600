"""Shared fixtures: temporary catalogs with a frozen clock, seeded through the public API."""

from __future__ import annotations

import itertools
import os
import sqlite3
import tempfile
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


_DEMO_HOMES = itertools.count()


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch, tmp_path_factory):
    """No test sees the developer's catalog, user name or demo folder."""
    monkeypatch.delenv("MLTUI_CATALOG", raising=False)
    monkeypatch.setenv("MLTUI_USER", "tester")
    monkeypatch.setenv("MLTUI_BUSY_TIMEOUT", "0.3")
    # A folder of its own per test, made only if the test builds the demo: most tests never
    # do, and a tmp_path for each would cost every test a directory.
    demo_home = tmp_path_factory.getbasetemp() / "demo-homes" / str(next(_DEMO_HOMES))
    monkeypatch.setenv("MLTUI_DEMO_HOME", str(demo_home))
    monkeypatch.setenv("NO_COLOR", "1")
    # pytest-xdist's workers inherit COLUMNS=80 (a plain run has none): without this the CLI's
    # human output is wrapped at 80 columns in one kind of run and at 160 in the other.
    monkeypatch.delenv("COLUMNS", raising=False)
    monkeypatch.delenv("LINES", raising=False)


@pytest.fixture
def catalog_path(tmp_path: Path) -> Path:
    """Where a fresh catalog is created."""
    return tmp_path / "proj" / ".mltui" / "catalog.db"


# The bytes of a freshly created catalog, per process (a forked process, such as a mutmut
# worker, builds its own with the code it runs): creating one runs every migration (~25 ms),
# writing the bytes takes under 1 ms, and most tests start from an empty catalog.
_EMPTY_CATALOG: dict[int, bytes] = {}


def _empty_catalog_bytes() -> bytes:
    """The file of ``open_catalog(..., create=True, clock=TickingClock())``, made once a process."""
    pid = os.getpid()
    if pid not in _EMPTY_CATALOG:
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "catalog.db"
            open_catalog(path, create=True, clock=TickingClock()).close()
            conn = sqlite3.connect(str(path))
            try:
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # everything in the main file
            finally:
                conn.close()
            _EMPTY_CATALOG[pid] = path.read_bytes()
    return _EMPTY_CATALOG[pid]


def new_catalog(path: Path) -> Catalog:
    """What ``open_catalog(path, create=True, clock=TickingClock())`` makes, copied from the
    process's empty template: the same schema, WAL mode and ``created_at``."""
    clock = TickingClock()
    clock()  # creating reads the first tick (created_at): later rows get the same times
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(_empty_catalog_bytes())
    return open_catalog(path, clock=clock)


@pytest.fixture
def catalog(catalog_path: Path) -> Catalog:
    """An empty catalog with a ticking frozen clock."""
    cat = new_catalog(catalog_path)
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
    conn = sqlite3.connect(str(path))
    try:
        tables = [r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'search_text_fts%' "
            "ORDER BY name")]
        return {t: sorted(map(repr, conn.execute(f"SELECT * FROM {t}").fetchall())) for t in tables}
    finally:
        conn.close()
