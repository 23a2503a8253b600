"""Chosen interleavings: a writer acts between an import's read of a file and its record of it.

Each test runs the writer to its end, imports once more and compares the catalog with what the
writer's own reader (pandas, json) sees: 0 lost, 0 duplicated, 0 leftover runs.
"""

from __future__ import annotations

import pytest

from mltui.services.ingest import import_paths
from tests.race.writers import (CsvAppender, HFWriter, LightningWriter, catalog_counts,
                                compare)


def _finish(writer) -> None:
    while writer.step():
        pass


def _race(cat, root, writer, after_read, name: str) -> int:
    """Import again and again while the writer writes only inside the imports (right after
    each read of ``name``), its last write during the last one; returns how many imports."""
    after_read(lambda path: writer.step() if path.endswith(name) else None)
    imports = 0
    while writer.done < _total(writer):
        import_paths(cat, root)
        imports += 1
    return imports


def _total(writer) -> int:
    return getattr(writer, "rows", None) or writer.steps


def _check(cat, root, writer, runs: int = 1) -> None:
    summary = import_paths(cat, root)
    got, found = catalog_counts(cat, root)
    assert compare(writer.expected(), got) == (0, 0)
    assert found == runs
    again = import_paths(cat, root)
    assert again.nothing_new(), again.one_line()
    assert summary is not None


@pytest.mark.parametrize("name", ["metrics.csv", "metrics.jsonl"])
def test_row_appended_between_read_and_record_is_not_lost(cat, tmp_path, after_read, name):
    """The issue's 200,000-row metrics.csv, small: one row lands during each of 14 imports."""
    (tmp_path / "logs").mkdir()
    writer = CsvAppender(tmp_path / "logs" / name, rows=40, split=False)
    for _ in range(10):
        writer.step()
    assert _race(cat, tmp_path / "logs", writer, after_read, name) == 30
    _check(cat, tmp_path / "logs", writer)


def test_partial_last_row_is_left_for_the_next_import(cat, tmp_path):
    logs = tmp_path / "logs"
    logs.mkdir()
    file = logs / "metrics.csv"
    file.write_text("step,loss,acc\n0,1.0,0.0\n1,0.5,0.5\n2,0.3")  # the writer is mid-line
    summary = import_paths(cat, logs)
    got, _ = catalog_counts(cat, logs)
    assert summary.runs_new == 1 and got[("loss", 2)] == 0 and got[("loss", 1)] == 1
    with open(file, "a") as handle:
        handle.write("3,0.75\n")
    import_paths(cat, logs)
    got, _ = catalog_counts(cat, logs)
    assert got[("loss", 2)] == 1 and got[("acc", 2)] == 1
    assert cat.metric_history(cat.run_ids()[0], "loss")[-1] == (2, 0.33)


@pytest.mark.parametrize("flush_every", [1, 3])
def test_lightning_rewrite_for_a_new_column_between_read_and_record(cat, tmp_path, after_read,
                                                                    flush_every):
    folder = tmp_path / "lightning_logs" / "version_0"
    writer = LightningWriter(folder, steps=24, flush_every=flush_every, val_from=5, seed=1)
    for _ in range(4):
        writer.step()
    _race(cat, tmp_path / "lightning_logs", writer, after_read, "metrics.csv")
    _check(cat, tmp_path / "lightning_logs", writer)


def test_lightning_file_truncated_for_a_rewrite_is_not_ready(cat, tmp_path):
    folder = tmp_path / "lightning_logs" / "version_0"
    writer = LightningWriter(folder, steps=10, val_from=5)
    for _ in range(4):
        writer.step()
    import_paths(cat, folder.parent)
    before, _ = catalog_counts(cat, folder.parent)
    writer.file.write_text("")  # open("w") of the rewrite, caught before the write
    summary = import_paths(cat, folder.parent)
    assert summary.not_ready and "metrics.csv" in summary.not_ready[0]
    assert catalog_counts(cat, folder.parent)[0] == before  # previous state kept
    writer.keys = []
    writer.pending = []
    writer.done = 0
    _finish(writer)
    _check(cat, folder.parent, writer)


def test_hf_state_rewritten_in_place_between_read_and_record(cat, tmp_path, after_read):
    out = tmp_path / "out"
    writer = HFWriter(out, steps=30, save_every=2, seed=3)
    for _ in range(4):
        writer.step()
    _race(cat, out, writer, after_read, "trainer_state.json")
    _check(cat, out, writer)


def test_half_written_trainer_state_is_not_ready_and_keeps_the_run(cat, tmp_path):
    out = tmp_path / "out"
    writer = HFWriter(out, steps=10, save_every=2)
    for _ in range(4):
        writer.step()
    import_paths(cat, out)
    before, runs = catalog_counts(cat, out)
    state = out / "checkpoint-4" / "trainer_state.json"
    text = state.read_text()
    for cut in (0, 1, 40, len(text) // 2, len(text) - 3):
        state.write_text(text[:cut])  # truncate, then a part of the write
        summary = import_paths(cat, out)
        assert summary.not_ready, cut
        assert summary.runs_new == summary.runs_updated == 0
        assert catalog_counts(cat, out) == (before, runs)
    state.write_text(text)
    _finish(writer)
    _check(cat, out, writer)


def test_hf_folder_read_as_tensorboard_before_its_first_checkpoint_ends_as_one_run(cat, tmp_path):
    out = tmp_path / "out"
    writer = HFWriter(out, steps=6, save_every=3)
    writer.step()
    first = import_paths(cat, out)
    assert first.formats == {"tensorboard": 1}  # only runs/<date>_<host>/ so far
    [leftover] = cat.run_ids()
    version = cat.register("clf", run=leftover)
    _finish(writer)
    summary = import_paths(cat, out)
    assert summary.runs_replaced == 1
    [run_id] = cat.run_ids()
    assert run_id == leftover  # same run, so the model version stays attached
    assert cat.runs([run_id])[0]["source_format"] == "hf"
    assert cat.version_detail(version["id"])["run_id"] == run_id
    assert [e["action"] for e in cat.events(action="replace_run")] == ["replace_run"]
    _check(cat, out, writer)


def test_leftover_and_new_run_both_present_are_merged(cat, tmp_path):
    """A catalog from before the fix can hold both: the leftover is deleted, versions move."""
    out = tmp_path / "out"
    writer = HFWriter(out, steps=6, save_every=3)
    _finish(writer)
    import_paths(cat, out, format="hf")
    import_paths(cat, out / "runs")
    tb_run = next(r["id"] for r in cat.runs(cat.run_ids()) if r["source_format"] == "tensorboard")
    version = cat.register("clf", run=tb_run)
    summary = import_paths(cat, out)
    assert summary.runs_replaced == 1
    [run_id] = cat.run_ids()
    assert cat.version_detail(version["id"])["run_id"] == run_id
    _check(cat, out, writer)


def test_lightning_folder_read_as_tensorboard_before_metrics_csv_ends_as_one_run(cat, tmp_path):
    from tests.race.writers import FIXTURES

    folder = tmp_path / "lightning_logs" / "version_0"
    events = FIXTURES / "tensorboard" / "lightning_logs" / "version_0"
    folder.mkdir(parents=True)
    for file in events.iterdir():
        (folder / file.name).write_bytes(file.read_bytes())
    assert import_paths(cat, folder.parent).formats == {"tensorboard": 1}
    writer = LightningWriter(folder, steps=8)
    _finish(writer)
    assert import_paths(cat, folder.parent).runs_replaced == 1
    _check(cat, folder.parent, writer)
