"""An idle watch does not read its logs again: a pass over an unchanged tree skips the import;
any change (a grown log, a new file, a log still settling, one caught mid-write) reads again."""

from __future__ import annotations

import json
import os
import time

import mltui.services.watch as watch_module
from mltui.services.watch import WatchState


def _write(path, steps, age=60.0):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as handle:
        for step in steps:
            handle.write(json.dumps({"step": step, "loss": 1 / (step + 1)}) + "\n")
    past = time.time() - age  # settled: written a while ago
    os.utime(path, (past, past))
    os.utime(path.parent, (past, past))


def test_unchanged_tree_skips_the_import_and_a_change_reads_again(cat, tmp_path, clock,
                                                                   monkeypatch):
    log = tmp_path / "runs" / "a.jsonl"
    _write(log, range(3))
    imports = []
    real = watch_module.import_paths
    monkeypatch.setattr(watch_module, "import_paths",
                        lambda *a, **k: imports.append(1) or real(*a, **k))
    state = WatchState(cat, [tmp_path / "runs"], clock=clock)
    assert [c.kind for c in state.poll()] == ["new"]
    state.poll()
    state.poll()
    assert len(imports) == 1  # nothing changed: no read
    _write(log, range(3, 5))
    assert [c.kind for c in state.poll()] == ["grew"]
    assert len(imports) == 2
    _write(tmp_path / "runs" / "b.jsonl", range(2))
    assert [c.kind for c in state.poll()] == ["new"]


def test_a_freshly_written_log_is_read_every_pass_until_it_settles(cat, tmp_path, clock,
                                                                   monkeypatch):
    log = tmp_path / "runs" / "a.jsonl"
    _write(log, range(3), age=0.0)  # just written: its stat may not show a same-size rewrite
    imports = []
    real = watch_module.import_paths
    monkeypatch.setattr(watch_module, "import_paths",
                        lambda *a, **k: imports.append(1) or real(*a, **k))
    state = WatchState(cat, [tmp_path / "runs"], clock=clock)
    state.poll()
    state.poll()
    assert len(imports) == 2
