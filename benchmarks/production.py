"""Production metrics benchmark (issue 12): ``observe`` throughput and ``monitor check`` time.

    PYTHONPATH=. python benchmarks/production.py [--observations 200000] [--stored 10000000]

1. ``observe``: a JSONL serving log of N observations (two metrics, one rollback in the
   middle) ingested through ``Catalog.observe``, parsing and attribution included, into a
   fresh catalog.  Target ≥ 200,000 observations/s.  Printed beside a floor measured in the
   same run: one ``json.loads`` of the same lines plus one raw ``executemany`` of the same rows
   into a bare copy of the table (what no reader of this log can beat on this machine).
2. ``monitor check``: a catalog holding ``--stored`` observations (10 M: ten days of two
   metrics at ~6/s each, written straight by SQLite's own generator so setup is quick), three
   monitors with 1 h windows; the median of 5 ``check_monitors`` calls.  Target ≤ 200 ms.
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path

from mltui.core.catalog import open_catalog


def _catalog(folder: Path, now: float):
    clock = iter(range(10**9))
    cat = open_catalog(folder / ".mltui" / "catalog.db", create=True,
                       clock=lambda: now + next(clock) * 1e-3)
    run = cat.log_run("serving", metrics={"f1": [0.9], "latency_ms": [10.0]})
    cat.register("fraud", run=run)
    cat.register("fraud", run=run)
    cat.promote("fraud@1", "production")
    cat.promote("fraud@2", "production")
    return cat


def _serving_log(n: int, start_ts: float) -> list[str]:
    rng = random.Random(1)
    return [json.dumps({"ts": start_ts + i * 0.01, "metric": "f1" if i % 2 else "latency_ms",
                        "value": rng.random()}) + "\n" for i in range(n)]


def _observe_once(lines: list[str], start_ts: float, folder: Path) -> tuple[float, float]:
    """Seconds of one ``observe`` into a fresh catalog, and of the floor on the same log."""
    cat = _catalog(folder, start_ts - 10)
    began = time.perf_counter()
    result = cat.observe("fraud", "production", lines, fmt="jsonl")
    elapsed = time.perf_counter() - began
    assert result["added"] == len(lines), result
    cat.close()
    began = time.perf_counter()
    rows = json.loads("[" + ",".join(lines) + "]")
    parsed = [(1 if row["metric"] == "f1" else 2, row["ts"], row["value"], 0, 2) for row in rows]
    floor = time.perf_counter() - began
    conn = sqlite3.connect(folder / "floor.db")
    conn.execute("CREATE TABLE observations (series_id INTEGER NOT NULL, ts REAL NOT NULL, "
                 "value REAL NOT NULL, n INTEGER NOT NULL, version_id INTEGER, "
                 "PRIMARY KEY (series_id, ts, value, n)) WITHOUT ROWID")
    began = time.perf_counter()
    with conn:
        conn.executemany("INSERT OR IGNORE INTO observations VALUES (?,?,?,?,?)", parsed)
    floor += time.perf_counter() - began
    conn.close()
    return elapsed, floor


def bench_observe(n: int, repeats: int = 3) -> tuple[float, float]:
    """Observations per second for one ``observe`` of ``n`` JSONL rows, and the floor's rate:
    the best of ``repeats`` runs each, since other work on a shared machine only slows a run."""
    start_ts = 1.8e9
    lines = _serving_log(n, start_ts)
    runs = []
    for _ in range(repeats):
        with tempfile.TemporaryDirectory() as tmp:
            runs.append(_observe_once(lines, start_ts, Path(tmp)))
    return n / min(r[0] for r in runs), n / min(r[1] for r in runs)


def bench_check(stored: int) -> tuple[float, int]:
    """Median seconds of ``check_monitors`` over a catalog holding ``stored`` observations."""
    end = 1.8e9
    span = 10 * 86400.0
    with tempfile.TemporaryDirectory() as tmp:
        cat = _catalog(Path(tmp), end - span - 10)
        vid = cat.resolve("fraud@2")
        conn = cat._conn()
        with cat._write() as conn:
            for sid, metric in ((1, "f1"), (2, "latency_ms")):
                conn.execute("INSERT INTO obs_series (id, model_id, stage, metric) VALUES "
                             "(?, 1, 'production', ?)", (sid, metric))
                per = stored // 2
                conn.execute(
                    "WITH RECURSIVE g(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM g WHERE i < ?) "
                    "INSERT INTO observations (series_id, ts, value, n, version_id) "
                    "SELECT ?, ? + i * ?, abs(random() % 1000) / 1000.0, 0, ? FROM g",
                    (per - 1, sid, end - span, span / per, vid))
        count = cat._scalar("SELECT count(*) FROM observations")
        for rule in ("mean(metrics.f1, 1h) >= 0.4", "metrics.latency_ms <= eval.latency_ms + 1",
                     "count(1h) >= 100"):
            cat.add_monitor("fraud", rule)
        times = []
        for _ in range(5):
            began = time.perf_counter()
            cat.check_monitors(at=end)
            times.append(time.perf_counter() - began)
        cat.close()
    return statistics.median(times), count


def main() -> None:
    """Print each figure next to its target."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--observations", type=int, default=200_000)
    parser.add_argument("--stored", type=int, default=10_000_000)
    args = parser.parse_args()
    rate, floor = bench_observe(args.observations)
    print(f"observe            {rate:12,.0f} observations/s   (target >= 200,000; floor "
          f"json.loads + executemany {floor:,.0f}/s)")
    seconds, count = bench_check(args.stored)
    print(f"monitor check      {seconds * 1000:12.1f} ms over {count:,} observations   "
          "(target <= 200 ms)")


if __name__ == "__main__":
    main()
