"""kill -9 at any moment of promote, rollback or a documentation save loses nothing committed and
leaves nothing half-done.

A worker process loops over the three writes and prints ``ok <n> <what>`` after each one has
returned (so after its commit).  The test kills it at a random moment, then checks the catalog:
SQLite's integrity check passes, every acknowledged write is there (0 lost), at most one more
than acknowledged is there (the one committed while its line was being printed), every stage
pointer equals the replay of its stage history, and every documentation revision is whole.

The default run does a handful of trials; ``pytest -m slow tests/reliability`` does 100.
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mltui.core.catalog import open_catalog
from mltui.core.registry import stage_stack
from tests.conftest import seed_fraud

WORKER = """
import sys
from mltui.core.catalog import open_catalog
with open_catalog(sys.argv[1]) as cat:
    print("ready", flush=True)
    # Numbered on from the trials before: a doc save repeating an earlier trial's text would be
    # "unchanged", acknowledged with no new revision, and counted as lost.
    n = int(sys.argv[2])
    while True:
        n += 1
        kind = n % 3
        if kind == 0:
            result = cat.promote(f"fraud@{1 + (n // 3) % 3}", "staging", reason=f"r{n}", force=True)
            print(f"ok {n} promote" if result["changed"] else f"skip {n} unchanged", flush=True)
        elif kind == 1:
            cat.set_doc("fraud@1", f"# rev {n}\\n" + f"line {n}\\n" * 2000, base_rev=None)
            print(f"ok {n} doc", flush=True)
        else:
            try:
                cat.rollback("fraud", "staging", reason=f"r{n}")
                print(f"ok {n} rollback", flush=True)
            except Exception as exc:  # nothing to roll back yet: a write that did not happen
                print(f"skip {n} {type(exc).__name__}", flush=True)
"""

DEFAULT_TRIALS = 4
SLOW_TRIALS = 100


def _acknowledged(lines: list[str]) -> dict[str, int]:
    counts = {"promote": 0, "doc": 0, "rollback": 0}
    for line in lines:
        parts = line.split()
        if len(parts) == 3 and parts[0] == "ok":
            counts[parts[2]] += 1
    return counts


def _check(path: Path, before: dict[str, int], acknowledged: dict[str, int]) -> dict[str, int]:
    """Check the catalog after a kill; returns the write counts now (the next trial's base)."""
    conn = sqlite3.connect(str(path))
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        found = {
            "promote": conn.execute("SELECT count(*) FROM stage_history WHERE stage = 'staging' "
                                    "AND action = 'promote'").fetchone()[0],
            "rollback": conn.execute("SELECT count(*) FROM stage_history WHERE stage = 'staging' "
                                     "AND action = 'rollback'").fetchone()[0],
            "doc": conn.execute("SELECT count(*) FROM doc_revisions").fetchone()[0],
        }
        extra = {k: found[k] - before[k] - acknowledged[k] for k in found}
        assert all(v >= 0 for v in extra.values()), f"lost writes: {acknowledged} vs {found}"
        assert sum(extra.values()) <= 1, f"unacknowledged writes: {acknowledged} vs {found}"
        for model_id, stage in conn.execute("SELECT DISTINCT model_id, stage FROM stage_history"):
            rows = conn.execute("SELECT action, to_version_id FROM stage_history WHERE model_id = ? "
                                "AND stage = ? ORDER BY id", (model_id, stage)).fetchall()
            stack = stage_stack(rows)
            holder = conn.execute("SELECT version_id FROM stages WHERE model_id = ? AND stage = ?",
                                  (model_id, stage)).fetchone()
            assert (holder[0] if holder else None) == (stack[-1] if stack else None), stage
        for rev, text in conn.execute("SELECT rev, text FROM doc_revisions"):
            number = int(text.split("\n", 1)[0].split()[-1])
            assert text == f"# rev {number}\n" + f"line {number}\n" * 2000, f"torn revision {rev}"
        return found
    finally:
        conn.close()


def _trials(catalog_path: Path, trials: int, seed: int) -> None:
    with open_catalog(catalog_path, create=True) as cat:
        seed_fraud(cat)
    rng = random.Random(seed)
    env = {**os.environ, "MLTUI_BUSY_TIMEOUT": "10"}
    counts = {"promote": 0, "doc": 0, "rollback": 0}
    for trial in range(trials):
        first = trial * 3_000_000  # a multiple of 3: each trial's writes start with a doc save
        process = subprocess.Popen([sys.executable, "-c", WORKER, str(catalog_path), str(first)],
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        assert process.stdout.readline().strip() == "ready", process.stderr.read()
        time.sleep(rng.uniform(0.0, 0.4))
        process.send_signal(signal.SIGKILL)
        out = process.stdout.read()  # not communicate(): it would skip what readline buffered
        process.wait(timeout=30)
        counts = _check(catalog_path, counts, _acknowledged(out.splitlines()))
    with open_catalog(catalog_path) as cat:  # and it still works afterwards
        cat.promote("fraud@2", "staging", reason="after the crashes", force=True)


def test_kill_during_promote_rollback_and_doc_save(catalog_path: Path) -> None:
    _trials(catalog_path, DEFAULT_TRIALS, seed=7)


@pytest.mark.slow
def test_kill_during_promote_rollback_and_doc_save_100_trials(catalog_path: Path) -> None:
    _trials(catalog_path, SLOW_TRIALS, seed=2026)
