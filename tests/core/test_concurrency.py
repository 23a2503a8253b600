"""Several processes writing at once: nothing lost, no 'database is locked' reaching a user,
and a process killed mid-import leaves the catalog consistent."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from mltui.core.catalog import open_catalog
from mltui.services.ingest import import_paths
from tests.conftest import seed_fraud

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
    print("ready", flush=True)
    import_paths(cat, [sys.argv[2]])
"""


def test_a_killed_import_leaves_a_consistent_catalog(catalog_path: Path, tmp_path: Path) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
    import make_mlruns

    make_mlruns.make_mlruns(tmp_path / "store", runs=200)
    open_catalog(catalog_path, create=True).close()
    for delay in (0.2, 0.5, 0.9):
        process = subprocess.Popen([sys.executable, "-c", KILLED_IMPORT, str(catalog_path),
                                    str(tmp_path / "store")], stdout=subprocess.PIPE, text=True)
        assert process.stdout.readline().strip() == "ready"
        time.sleep(delay)
        process.send_signal(signal.SIGKILL)
        process.wait()
        conn = sqlite3.connect(str(catalog_path))
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        runs, points = conn.execute(
            "SELECT (SELECT count(*) FROM runs), "
            "(SELECT COALESCE(SUM(count), 0) FROM metric_series)").fetchone()
        conn.close()
        assert (runs, points) in ((0, 0), (200, 200 * 500)), (delay, runs, points)
    with open_catalog(catalog_path) as cat:  # and it still imports cleanly afterwards
        summary = import_paths(cat, [tmp_path / "store"])
        assert summary.runs_new + summary.runs_unchanged == 200
        assert cat.summary()["metric_points"] == 200 * 500
