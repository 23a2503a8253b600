"""Writers append while a watch polls: every point arrives once, in order; rewrites are re-read;
quiet runs stall; end markers finish runs; finished runs are registered once."""

from __future__ import annotations

import json
import threading

from mltui.services.watch import FINISHED, RUNNING, STALLED, WatchState
from tests.race.writers import (CsvAppender, HFWriter, LightningWriter, catalog_counts,
                                compare)


class FinishingHFWriter(HFWriter):
    """An HF output dir whose last save carries the summary entry ``train()`` logs on return."""

    def _save(self, path):
        if path == self.folder / "trainer_state.json":
            self.history.append({"epoch": self.done / 4, "step": self.done, "train_runtime": 1.5})
        super()._save(path)


def _writers(root):
    (root / "generic").mkdir(parents=True)
    return [CsvAppender(root / "generic" / "metrics.csv", rows=25, seed=1),
            CsvAppender(root / "generic" / "log.jsonl", rows=25, seed=2),
            LightningWriter(root / "lightning_logs" / "version_0", steps=20, flush_every=2,
                            val_from=4, seed=3),
            FinishingHFWriter(root / "hf_out", steps=12, save_every=3, seed=4)]


def _steps_in_order(cat, root):
    for row in cat.runs(cat.run_ids()):
        if not str(row["source_path"]).startswith(str(root)):
            continue
        for key in cat.metric_keys():
            steps = [s for s, _ in cat.metric_history(row["id"], key)]
            assert steps == sorted(steps), (row["name"], key)


def test_points_arrive_once_in_order_while_writers_append(cat, tmp_path, clock):
    root = tmp_path / "runs"
    writers = _writers(root)
    state = WatchState(cat, [root], stall_after=60, clock=clock)
    active = list(writers)
    for _ in range(40):  # bounded: more passes than any writer has steps
        active = [w for w in active if w.step()]
        clock.now += 1
        state.poll()
        if not active:
            break
    assert not active
    state.poll()
    for writer in writers:
        source = getattr(writer, "folder", None) or writer.path
        lost, duplicated = compare(writer.expected(), catalog_counts(cat, source)[0])
        assert (lost, duplicated) == (0, 0), source
    _steps_in_order(cat, root)
    by_format = {run.format: run for run in state.runs.values()}
    assert by_format["hf"].state == FINISHED
    assert by_format["lightning"].state == RUNNING  # no end marker: running until it stalls


def test_writer_thread_races_the_watch(cat, tmp_path, clock):
    root = tmp_path / "runs"
    writers = _writers(root)
    state = WatchState(cat, [root], clock=clock)

    def write():
        active = list(writers)
        while active:
            active = [w for w in active if w.step()]

    thread = threading.Thread(target=write)
    thread.start()
    for _ in range(200):  # bounded; a pass may land in the middle of any write
        state.poll()
        if not thread.is_alive():
            break
    thread.join()
    state.poll()
    for writer in writers:
        source = getattr(writer, "folder", None) or writer.path
        assert compare(writer.expected(), catalog_counts(cat, source)[0]) == (0, 0), source


def test_truncated_and_rewritten_log_is_read_again(cat, tmp_path, clock):
    log = tmp_path / "run" / "metrics.jsonl"
    log.parent.mkdir()
    log.write_text("".join(json.dumps({"step": i, "loss": 1.0 / (i + 1)}) + "\n" for i in range(8)))
    state = WatchState(cat, [log.parent], clock=clock)
    assert [c.kind for c in state.poll()] == ["new"]
    # The trainer restarted: the file is truncated and written again with other values.
    log.write_text("".join(json.dumps({"step": i, "loss": 5.0 + i}) + "\n" for i in range(3)))
    clock.now += 1
    changes = state.poll()
    assert [c.kind for c in changes] == ["grew"]
    (run_id,) = state.runs
    assert cat.metric_history(run_id, "loss") == [(0, 5.0), (1, 6.0), (2, 7.0)]


def test_quiet_run_stalls_and_resumes(cat, tmp_path, clock):
    writer = CsvAppender(tmp_path / "metrics.csv", rows=10, split=False)
    writer.step()
    state = WatchState(cat, [tmp_path / "metrics.csv"], stall_after=30, clock=clock)
    state.poll()
    clock.now += 29
    assert state.poll() == []  # nothing changed, not yet stalled
    clock.now += 1
    changes = state.poll()
    assert [c.kind for c in changes] == ["stalled"]
    (run,) = state.runs.values()
    assert run.state == STALLED
    clock.now += 100
    assert state.poll() == []  # said once
    writer.step()
    assert [c.kind for c in state.poll()] == ["resumed"]
    assert run.state == RUNNING


def test_finished_run_is_registered_once(cat, tmp_path, clock):
    writer = FinishingHFWriter(tmp_path / "hf_out", steps=6, save_every=2)
    state = WatchState(cat, [tmp_path / "hf_out"], model="fraud", clock=clock)
    registered = []
    while writer.step():
        registered += [c for c in state.poll() if c.kind == "registered"]
    assert registered == []  # not before its end marker
    registered += [c for c in state.poll() if c.kind == "registered"]
    registered += [c for c in state.poll() if c.kind == "registered"]
    # A second watch (or a restarted one) sees the finished run again and registers nothing.
    again = WatchState(cat, [tmp_path / "hf_out"], model="fraud", clock=clock)
    registered += [c for c in again.poll() if c.kind == "registered"]
    assert [c.text for c in registered] == ["hf_out: registered as fraud@1"]
    assert len(cat.version_ids(model="fraud")) == 1
