"""A watch reads only the rows appended to a CSV log, for every CSV format: generic CSV,
Lightning CSVLogger ``metrics.csv``, Keras CSVLogger, Ultralytics ``results.csv``.

Each test compares the catalog with a fresh full import of a copy of the final files into
another catalog (same points in the same order, same summaries, tags, status and artifacts),
and counts the bytes of log text parsed per pass (``readstate.BYTES_READ``), never time.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mltui.core.catalog import open_catalog
from mltui.importers import appendlog
from mltui.services.watch import WatchState
from tests.race.writers import CsvAppender, LightningWriter
from tests.watch.follow_helpers import import_copy, poll_bytes


@pytest.fixture(autouse=True)
def fresh_states():
    """Each test starts with nothing remembered (the states are per process)."""
    appendlog.forget()
    yield
    appendlog.forget()


class KerasWriter:
    """``keras.callbacks.CSVLogger``: ``epoch`` + sorted keys, one row per epoch appended and
    flushed, ``NA`` for a validation value not computed that epoch (validation_freq=2)."""

    def __init__(self, root, epochs: int):
        self.folder = root / "keras"
        self.folder.mkdir(parents=True)
        self.file = self.folder / "training.log"
        self.epochs, self.done = epochs, 0
        self.file.write_text("epoch,accuracy,loss,val_loss\n")

    def step(self) -> bool:
        """Append one epoch's row; False once all are written."""
        n = self.done
        val = f"{1.5 / (n + 1):.6f}" if n % 2 else "NA"
        with open(self.file, "a") as handle:
            handle.write(f"{n},{n / (n + 1):.6f},{1 / (n + 1):.6f},{val}\n")
        self.done += 1
        return self.done < self.epochs


class UltralyticsWriter:
    """An Ultralytics 8.3 run dir: ``args.yaml`` first, then one ``results.csv`` row per epoch
    (1-based, a ``time`` column) and ``weights/last.pt`` saved every epoch."""

    HEADER = "epoch,time,train/box_loss,metrics/mAP50(B),val/box_loss\n"

    def __init__(self, root, epochs: int):
        self.folder = root / "detect" / "train"
        (self.folder / "weights").mkdir(parents=True)
        self.file = self.folder / "results.csv"
        self.epochs, self.done = epochs, 0
        (self.folder / "args.yaml").write_text(f"task: detect\nepochs: {epochs}\nmodel: yolov8n.pt\n")
        self.file.write_text(self.HEADER)

    def step(self) -> bool:
        """Append one epoch's row and save last.pt; False once all are written."""
        n = self.done + 1
        with open(self.file, "a") as handle:
            handle.write(f"{n},{12.5 * n},{2 / n:.5f},{n / (n + 3):.5f},{2.5 / n:.5f}\n")
        (self.folder / "weights" / "last.pt").write_bytes(b"weights %d" % n)
        self.done += 1
        return self.done < self.epochs


def make_writer_folder(kind: str, root):
    """The run folder a writer of ``kind`` writes under ``root``."""
    return {"generic": root / "generic", "lightning": root / "lightning_logs" / "version_0",
            "keras": root / "keras", "ultralytics": root / "detect" / "train"}[kind]


def make_writer(kind: str, root, steps: int, *, split: bool = False, val_from: int = 0):
    """A writer of ``kind`` under ``root`` with its first rows written; ``split`` writes
    each row in two halves (a reader can catch a partial last line); a Lightning writer's
    ``val_loss`` first appears at step ``val_from`` (a rewrite of the file)."""
    if kind == "generic":
        (root / "generic").mkdir(parents=True)
        writer = CsvAppender(root / "generic" / "metrics.csv", rows=steps, split=split)
        writer.folder = writer.path.parent
        writer.file = writer.path
    elif kind == "lightning":
        # val_from=0: every key is in the first save, so no later save rewrites the file.
        writer = LightningWriter(make_writer_folder(kind, root), steps=steps, val_from=val_from,
                                 split=split)
    elif kind == "keras":
        writer = KerasWriter(root, steps)
    else:
        writer = UltralyticsWriter(root, steps)
    for _ in range(3):
        writer.step()
    return writer


FORMATS = ["generic", "lightning", "keras", "ultralytics"]


def run_state(cat, folder) -> dict:
    """Everything a watch must get right of the one run under ``folder``: its points in
    order, summaries, tags, params, status and artifacts (paths relative to the folder)."""
    conn = cat._conn()
    (run_id,) = [row["id"] for row in cat.runs(cat.run_ids())
                 if str(row["source_path"]).startswith(str(folder))]
    return {
        "points": [(p.key, p.step, p.epoch, p.value, p.raw, p.wall_time, p.axis, p.seq)
                   for p in cat.metric_points(run_id)],
        "summary": conn.execute("SELECT key, last, last_raw, last_step, min, min_step, max, "
                                "max_step, count FROM metric_summary WHERE run_id = ? "
                                "ORDER BY key", (run_id,)).fetchall(),
        "tags": conn.execute("SELECT key, value FROM run_tags WHERE run_id = ? ORDER BY key",
                             (run_id,)).fetchall(),
        "params": conn.execute("SELECT key, value FROM params WHERE run_id = ? ORDER BY key",
                               (run_id,)).fetchall(),
        "run": conn.execute("SELECT status, start_time, end_time FROM runs WHERE id = ?",
                            (run_id,)).fetchall(),
        "artifacts": [(kind, name, digest) for kind, name, digest in conn.execute(
            "SELECT kind, name, hash FROM run_artifacts WHERE run_id = ? ORDER BY seq",
            (run_id,))],
    }


def fresh_import(tmp_path, root, folder) -> dict:
    """What a full import of a copy of ``root`` gives for ``folder`` (nothing remembered)."""
    return import_copy(tmp_path, root,
                       lambda other, copy: run_state(other, copy / folder.relative_to(root)))


def whole(writer) -> int:
    """The bytes a whole read of the writer's run parses: its log and its yaml files."""
    sides = [writer.folder / name for name in ("hparams.yaml", "args.yaml")]
    return writer.file.stat().st_size + sum(p.stat().st_size for p in sides if p.is_file())


def grow(writer, steps: int) -> int:
    """Let the writer log ``steps`` more; how many bytes its log grew by."""
    size = writer.file.stat().st_size
    for _ in range(steps):
        writer.step()
    return writer.file.stat().st_size - size


@pytest.mark.parametrize("kind", FORMATS)
def test_each_pass_parses_only_the_appended_rows(cat, tmp_path, clock, kind):
    root = tmp_path / "runs"
    writer = make_writer(kind, root, steps=40)
    watch = WatchState(cat, [root], clock=clock)
    assert poll_bytes(watch) == whole(writer)  # the first pass reads it whole
    for steps in (1, 4, 7):
        grown = grow(writer, steps)
        assert grown > 0
        assert poll_bytes(watch) == grown
    assert poll_bytes(watch) == 0  # nothing new: nothing parsed
    assert run_state(cat, writer.folder) == fresh_import(tmp_path, root, writer.folder)


@pytest.mark.parametrize("kind", FORMATS)
def test_rows_arrive_once_in_order_while_a_writer_appends(cat, tmp_path, clock, kind):
    """Rows written in two halves between passes: a partial last row waits for its end."""
    root = tmp_path / "runs"
    writer = make_writer(kind, root, steps=30, split=True)
    watch = WatchState(cat, [root], clock=clock)
    while writer.step():
        watch.poll()
    watch.poll()
    state = run_state(cat, writer.folder)
    assert state == fresh_import(tmp_path, root, writer.folder)
    for key in {point[0] for point in state["points"]}:
        steps = [point[1] for point in state["points"] if point[0] == key]
        assert steps == sorted(steps) and len(steps) == len(set(steps)), key


@pytest.mark.parametrize("kind", FORMATS)
def test_a_writer_process_appending_while_the_watch_runs(cat, tmp_path, clock, kind):
    """A writer in a process of its own (rows split in two writes; Lightning's rewrites for a
    new column included), the watch passing meanwhile with no coordination: every point once."""
    root = tmp_path / "runs"
    root.mkdir()
    script = ("import sys; from pathlib import Path; "
              "from tests.watch.test_append_csv import make_writer; "
              "w = make_writer(sys.argv[1], Path(sys.argv[2]), 150, split=True, val_from=40)\n"
              "while w.step(): print(w.done, flush=True)")
    writer = subprocess.Popen([sys.executable, "-c", script, kind, str(root)],
                              cwd=Path(__file__).resolve().parents[2], stdout=subprocess.PIPE,
                              text=True)
    watch = WatchState(cat, [root], clock=clock)
    for _ in writer.stdout:  # a pass per step written; the writer does not wait for it
        watch.poll()
    assert writer.wait() == 0
    watch.poll()
    folder = make_writer_folder(kind, root)
    assert run_state(cat, folder) == fresh_import(tmp_path, root, folder)


def test_a_lightning_header_that_grows_is_a_rewrite_read_whole(cat, tmp_path, clock):
    """CSVLogger rewrites metrics.csv with a new header when a new key first appears."""
    root = tmp_path / "runs"
    writer = LightningWriter(root / "lightning_logs" / "version_0", steps=30, val_from=10,
                             split=False)
    for _ in range(5):
        writer.step()
    watch = WatchState(cat, [root], clock=clock)
    watch.poll()
    assert grow(writer, 3) == poll_bytes(watch)  # appended rows only
    grow(writer, 3)  # step 10: val_loss appears, the file is rewritten with a wider header
    assert "val_loss" in writer.file.read_text().split("\n", 1)[0]
    assert poll_bytes(watch) == whole(writer)
    assert grow(writer, 4) == poll_bytes(watch)  # and appended to again
    assert run_state(cat, writer.folder) == fresh_import(tmp_path, root, writer.folder)


@pytest.mark.parametrize("kind", FORMATS)
@pytest.mark.parametrize("change", ["truncate", "rewrite", "replace"])
def test_a_truncated_or_rewritten_csv_is_read_whole(cat, tmp_path, clock, kind, change):
    root = tmp_path / "runs"
    writer = make_writer(kind, root, steps=40)
    grow(writer, 10)
    watch = WatchState(cat, [root], clock=clock)
    watch.poll()
    lines = writer.file.read_bytes().split(b"\n")
    if change == "truncate":  # a restarted trainer: the header and two rows, then growing
        data = b"\n".join(lines[:3]) + b"\n"
        writer.file.write_bytes(data)
    elif change == "rewrite":  # same inode, longer, a value of an early row changed in place
        row = lines[2].split(b",")
        row[-1] = b"0.123"
        data = b"\n".join([*lines[:2], b",".join(row), *lines[3:]]) + lines[-2] + b"\n"
        with open(writer.file, "r+b") as handle:
            handle.write(data)
    else:  # a new file renamed over the old one, with the same first rows
        data = writer.file.read_bytes() + lines[-2] + b"\n"
        new = writer.file.with_name("new.tmp")
        new.write_bytes(data)
        os.replace(new, writer.file)
    assert writer.file.read_bytes() == data
    assert poll_bytes(watch) == whole(writer)  # read whole, not appended to
    assert run_state(cat, writer.folder) == fresh_import(tmp_path, root, writer.folder)


@pytest.mark.parametrize("kind", ["lightning", "ultralytics"])
def test_a_changed_side_file_means_a_whole_read(cat, tmp_path, clock, kind):
    """hparams.yaml / args.yaml hold the run's params: an edit of one reads the run whole."""
    root = tmp_path / "runs"
    writer = make_writer(kind, root, steps=40)
    watch = WatchState(cat, [root], clock=clock)
    watch.poll()
    grow(writer, 2)
    side = writer.folder / ("hparams.yaml" if kind == "lightning" else "args.yaml")
    side.write_text(side.read_text() + "extra: 1\n")
    assert poll_bytes(watch) == whole(writer)
    assert ("extra", "1") in run_state(cat, writer.folder)["params"]
    assert run_state(cat, writer.folder) == fresh_import(tmp_path, root, writer.folder)


def test_an_ultralytics_run_finishes_and_its_weights_follow_while_appended(cat, tmp_path, clock):
    """The end marker (last epoch = args.yaml's epochs) and last.pt saved every epoch come
    through appended reads too."""
    root = tmp_path / "runs"
    writer = make_writer("ultralytics", root, steps=6)
    watch = WatchState(cat, [root], clock=clock)
    watch.poll()
    grown = grow(writer, 3)
    assert poll_bytes(watch) == grown
    state = run_state(cat, writer.folder)
    assert state["run"][0][0] == "FINISHED"
    assert state == fresh_import(tmp_path, root, writer.folder)


_cells = st.one_of(st.floats(allow_nan=True, allow_infinity=True, width=64).map(repr),
                   st.sampled_from(["", "NA", "nan", "0.5", "1"]))
_rows = st.lists(st.tuples(st.integers(0, 8), _cells, _cells), min_size=1, max_size=10)


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(chunks=st.lists(_rows, min_size=1, max_size=4), cut=st.integers(1, 40),
       layout=st.sampled_from(["generic", "keras"]))
def test_any_appended_rows_equal_a_full_import(tmp_path_factory, chunks, cut, layout):
    """Chunks of rows (repeated steps and epochs, empty and NA cells, NaN, a repeated header
    line, a row cut mid-way) appended pass after pass: the catalog equals a full import."""
    appendlog.forget()
    tmp = tmp_path_factory.mktemp("csvprop")
    folder = tmp / "logs" / layout
    folder.mkdir(parents=True)
    header = "step,loss,acc\n" if layout == "generic" else "epoch,loss,val_loss\n"
    log = folder / ("metrics.csv" if layout == "generic" else "training.log")
    log.write_text(header + "".join(f"{n},0.5,0.25\n" for n in range(6)))
    cat = open_catalog(tmp / "catalog.db", create=True)
    try:
        watch = WatchState(cat, [tmp / "logs"])
        watch.poll()
        pending = ""
        for index, chunk in enumerate(chunks):
            rows = "".join(f"{step},{a},{b}\n" for step, a, b in chunk)
            # The second chunk: an appending writer that wrote its header again first.
            text = pending + (header if index == 1 else "") + rows
            pending = ""
            if len(chunks) > 1 and cut < len(text) and text[cut - 1] != "\n":
                text, pending = text[:cut], text[cut:]  # the writer caught mid-row
            with open(log, "a") as handle:
                handle.write(text)
            watch.poll()
        with open(log, "a") as handle:
            handle.write(pending)
        watch.poll()
        assert run_state(cat, folder) == fresh_import(tmp, tmp / "logs", folder)
    finally:
        cat.close()


@pytest.mark.parametrize("kind,side", [("lightning", "hparams.yaml"), ("ultralytics", "args.yaml")])
def test_a_side_file_caught_mid_rewrite_is_read_again(cat, tmp_path, clock, monkeypatch, kind, side):
    """A side file rewritten with the same content (Lightning 1.x's hparams.yaml at every
    save) can be parsed while it is empty, yet read the same before and after the parse: the
    run must not keep what the cut read gave (no params) while later rows are appended."""
    from mltui.importers import common

    root = tmp_path / "runs"
    writer = make_writer(kind, root, steps=20)
    real = common._read_head

    def caught_mid_rewrite(path, limit):
        data = real(path, limit)
        return b"" if str(path).endswith(side) else data

    monkeypatch.setattr(common, "_read_head", caught_mid_rewrite)
    watch = WatchState(cat, [root], clock=clock)
    watch.poll()
    monkeypatch.setattr(common, "_read_head", real)
    grow(writer, 2)
    watch.poll()
    assert run_state(cat, writer.folder) == fresh_import(tmp_path, root, writer.folder)


def test_a_checkpoint_rewritten_with_no_new_row_is_listed_again(cat, tmp_path, clock):
    """A weights file caught mid-write (or stripped at the end of training) while the log
    did not grow: the next pass lists the run's artifacts again, as a full import would."""
    root = tmp_path / "runs"
    writer = make_writer("ultralytics", root, steps=20)
    weights = writer.folder / "weights" / "last.pt"
    weights.write_bytes(b"")  # the pass lands between the truncation and the write
    watch = WatchState(cat, [root], clock=clock)
    watch.poll()
    weights.write_bytes(b"weights, complete")
    clock.now += 10
    watch.poll()
    assert run_state(cat, writer.folder) == fresh_import(tmp_path, root, writer.folder)
