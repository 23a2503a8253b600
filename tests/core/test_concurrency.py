"""Several processes writing at once: nothing lost, no 'database is locked' reaching a user,
and a process killed mid-import leaves the catalog consistent."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

from mltui.core.catalog import open_catalog
from mltui.services.ingest import import_paths
from tests.conftest import seed_fraud, snapshot_tables

WRITER = """
import sys
from mltui.core.catalog import open_catalog
path, name, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3])
with open_catalog(path) as cat:
    for i in range(rounds):
        run = cat.log_run(f"{name}-{i}", metrics={"f1": 0.9}, params={"i": i})
        version = cat.register("fraud", run=run)
        cat.promote(version["id"], "staging", reason=f"{name} {i}", force=True)
"""


def test_parallel_writers_lose_nothing(catalog_path: Path) -> None:
    cat = open_catalog(catalog_path, create=True)
    seed_fraud(cat)
    cat.close()
    env = {**os.environ, "MLTUI_BUSY_TIMEOUT": "30"}
    writers = [subprocess.Popen([sys.executable, "-c", WRITER, str(catalog_path), f"w{n}", "15"],
                                stderr=subprocess.PIPE, text=True, env=env) for n in range(4)]
    errors = [w.communicate(timeout=120)[1] for w in writers]
    assert [w.returncode for w in writers] == [0, 0, 0, 0], errors
    assert not any("locked" in e for e in errors)
    with open_catalog(catalog_path) as cat:
        versions = cat.versions(cat.version_ids(model="fraud"))
        assert len(versions) == 3 + 4 * 15
        assert sorted(v["version"] for v in versions) == list(range(1, 64))  # no number reused
        history = cat.history(model="fraud", stage="staging", limit=1000)
        assert len(history) == 60
        assert {h["reason"] for h in history} == {f"w{n} {i}" for n in range(4) for i in range(15)}


KILLED_IMPORT = """
import sys
from mltui.core.catalog import open_catalog
from mltui.services.ingest import import_paths
with open_catalog(sys.argv[1]) as cat:
    import_paths(cat, [sys.argv[2]])
"""


def test_a_killed_import_leaves_a_consistent_catalog(catalog_path: Path, tmp_path: Path) -> None:
    # The fault hook (MLTUI_FAULT, docs/testing.md) kills the importer with SIGKILL right after
    # its first, middle and last run is written: a non-atomic import is caught every time.
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
    import make_mlruns

    runs, steps = 40, 50
    make_mlruns.make_mlruns(tmp_path / "store", runs=runs, steps=steps)
    open_catalog(catalog_path, create=True).close()
    before = snapshot_tables(catalog_path)
    for row in (1, runs // 2, runs):
        env = {**os.environ, "MLTUI_FAULT": f"import-row:{row}"}
        process = subprocess.run([sys.executable, "-c", KILLED_IMPORT, str(catalog_path),
                                  str(tmp_path / "store")], env=env, capture_output=True,
                                 text=True, timeout=120)
        assert process.returncode == -signal.SIGKILL, (row, process.stderr)
        conn = sqlite3.connect(str(catalog_path))
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        conn.close()
        assert snapshot_tables(catalog_path) == before, f"killed after run {row} left rows"
    with open_catalog(catalog_path) as cat:  # and it still imports cleanly afterwards
        summary = import_paths(cat, [tmp_path / "store"])
        assert summary.runs_new == runs
        assert cat.summary()["metric_points"] == runs * steps * 5


CLOSE_DURING_A_READ = """
import sys, threading
from mltui.core.catalog import open_catalog
cat = open_catalog(sys.argv[1], create=True)
cat._conn()
inside, result = threading.Event(), {}
def long_read():
    conn = cat._conn()
    conn.set_progress_handler(lambda: inside.set() or 0, 1000)  # runs inside the statement
    try:
        result["rows"] = conn.execute(
            "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 2000000) "
            "SELECT count(*) FROM c").fetchone()[0]
    except Exception as exc:
        result["error"] = repr(exc)
reader = threading.Thread(target=long_read)
reader.start()
inside.wait()
cat.close()  # from the main thread, while the reader is inside its statement
reader.join()
print(result)
"""


def test_closing_a_catalog_while_another_thread_reads_does_not_crash(tmp_path: Path) -> None:
    """An app that quits while its poll thread is inside a read, and the catalog is closed:
    that crashed the process (SQLite freed the statement under the thread).  The read ends
    as if nothing happened; its connection closes once the thread lets it go."""
    done = subprocess.run([sys.executable, "-c", CLOSE_DURING_A_READ, str(tmp_path / "c.db")],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "{'rows': 2000000}"


def test_closing_a_catalog_closes_the_connections_of_threads_that_ended(tmp_path: Path) -> None:
    import threading

    cat = open_catalog(tmp_path / "c.db", create=True)
    opened = []
    worker = threading.Thread(target=lambda: opened.append(cat._conn()))
    worker.start()
    worker.join()
    mine = cat._conn()
    cat.close()
    for conn in (opened[0], mine):
        try:
            conn.execute("SELECT 1")
        except sqlite3.ProgrammingError as exc:
            assert "closed" in str(exc)
        else:
            raise AssertionError("a connection was left open")
