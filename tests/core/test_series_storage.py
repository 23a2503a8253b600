"""What schema 7 and progression-encoded steps save on disk (pages, not time), and that every
query on ``metric_series`` still finds its rows through an index."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

from mltui.core.catalog import open_catalog
from mltui.core.series import _pack, unpack_steps
from mltui.services.ingest import import_paths

RUNS, METRICS, STEPS = 40, 5, 100


def write_store(root: Path) -> Path:
    """The import benchmark's shape (benchmarks/shapes.py), smaller: RUNS runs of METRICS
    metrics at steps 0..STEPS-1, full-precision values at irregular times."""
    from benchmarks.shapes import write_mlflow

    write_mlflow(root, runs=RUNS, metrics=METRICS, steps=STEPS, git=False, irregular=True,
                 full_precision=True)
    return root / "mlruns"


def page_count(path: Path) -> int:
    """Pages of a compacted copy of the catalog (free pages and the WAL left out)."""
    copy = path.with_name("compact-" + path.name)
    conn = sqlite3.connect(str(path))
    try:
        conn.execute("VACUUM INTO ?", (str(copy),))
    finally:
        conn.close()
    conn = sqlite3.connect(str(copy))
    try:
        return conn.execute("PRAGMA page_count").fetchone()[0]
    finally:
        conn.close()


def as_before_schema_7(path: Path, target: Path) -> None:
    """The same catalog in the layout before schema 7: metric_series WITHOUT ROWID, a full
    int64 steps blob for every series."""
    shutil.copy(path, target)
    conn = sqlite3.connect(str(target))
    conn.create_function("full_steps", 2, lambda blob, count: None if blob is None else
                         _pack("q", list(unpack_steps(blob, count))))
    with conn:
        conn.execute("""
            CREATE TABLE old_series (
                run_id INTEGER NOT NULL REFERENCES runs(id), key TEXT NOT NULL,
                count INTEGER NOT NULL, steps BLOB, vals BLOB NOT NULL, epochs BLOB,
                wall_times BLOB, axis TEXT, axes TEXT, raws TEXT,
                PRIMARY KEY (run_id, key)) WITHOUT ROWID""")
        conn.execute("INSERT INTO old_series SELECT run_id, key, count, full_steps(steps, count),"
                     " vals, epochs, wall_times, axis, axes, raws FROM metric_series")
        conn.execute("DROP TABLE metric_series")
        conn.execute("ALTER TABLE old_series RENAME TO metric_series")
    conn.close()


def test_counting_steps_take_16_bytes_and_the_catalog_fewer_pages(tmp_path) -> None:
    store = write_store(tmp_path / "store")
    path = tmp_path / "catalog.db"
    with open_catalog(path, create=True) as cat:
        assert import_paths(cat, [store]).points == RUNS * METRICS * STEPS
        conn = cat._conn()
        assert conn.execute("SELECT DISTINCT length(steps), count FROM metric_series"
                            ).fetchall() == [(16, STEPS)]
        run = cat.run_ids()[0]
        points = cat.metric_points(run, "metric_0")
        assert [p.step for p in points] == list(range(STEPS))
        assert [step for step, _ in cat.metric_history(run, "metric_0")] == list(range(STEPS))
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    before = tmp_path / "before.db"
    as_before_schema_7(path, before)
    pages, pages_before = page_count(path), page_count(before)
    # 200 series of 2.4 KB took an overflow page each (half empty); at 1.6 KB, two fit a page.
    assert pages < 0.6 * pages_before, (pages, pages_before)


QUERIES = {  # every statement on metric_series that reads or deletes some rows
    "details.metric_history / series_append": (
        "SELECT steps, vals, count FROM metric_series WHERE run_id = ? AND key = ?", (1, "k")),
    "details.metric_points": (
        "SELECT key, count, steps, vals, epochs, wall_times, axis, axes, raws "
        "FROM metric_series WHERE run_id = ? ORDER BY key", (1,)),
    "progress": ("SELECT key, count, steps, vals, epochs, wall_times, axis, axes, raws FROM "
                 "metric_series WHERE run_id = ? ORDER BY count DESC, key LIMIT 1", (1,)),
    "details.export_frame": (
        "SELECT r.uid, s.key, s.count, s.steps, s.vals, s.epochs, s.wall_times, s.axis, s.axes,"
        " s.raws FROM metric_series s JOIN runs r ON r.id = s.run_id ORDER BY s.run_id, s.key",
        ()),
    "ingest (replacing a run)": ("DELETE FROM metric_series WHERE run_id = ?", (1,)),
}


def test_every_query_on_metric_series_uses_its_unique_index(catalog) -> None:
    conn = catalog._conn()
    for name, (sql, params) in QUERIES.items():
        plan = " ".join(row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + sql, params))
        assert "INDEX sqlite_autoindex_metric_series_1" in plan, (name, plan)
        assert "SCAN metric_series " not in plan + " ", (name, plan)
