"""A watch decodes only the TFRecords appended to a run's event files, with tensorboardX's
``SummaryWriter`` writing in another process.

The writer process takes one command a line on stdin and answers ``ok`` once the records are
flushed to the file, so each test interleaves writes and watch passes exactly (no sleeps).
The catalog is compared with a fresh full import of a copy of the log dir; the bytes of log
data parsed per pass are counted (``readstate.BYTES_READ``).
"""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest

from mltui.core.catalog import open_catalog
from mltui.importers import appendlog
from mltui.services.ingest import import_paths
from mltui.services.watch import WatchState
from tests.watch.follow_helpers import import_copy, poll_bytes
from tests.watch.writer_process import WriterProcess

pytest.importorskip("tensorboardX")

WRITER = textwrap.dedent('''
    import sys
    import time
    from tensorboardX import SummaryWriter

    # Scalars' wall times: fixed per step, and later than every file header this writer makes
    # (tensorboardX stamps a header with the clock). A run's end is its last event's time in a
    # whole read but the latest time seen in a watch; they differ only when a later event
    # carries an earlier time, as a header stamped after the scalars' synthetic times did when
    # a watch's first pass saw the header alone.
    BASE = time.time() + 1e6

    def synchronous(writer):
        # tensorboardX queues events for a thread that writes them when it gets to them (its
        # flush() does not wait for it): write each one at once with the same record writer,
        # so "ok" means the records are in the file.
        events = writer._get_file_writer().event_writer
        events.add_event = events._ev_writer.write_event
        return writer

    logdir = sys.argv[1]
    writer = synchronous(SummaryWriter(logdir, flush_secs=3600))
    step = 0
    print("ok", flush=True)
    for line in sys.stdin:
        command, *args = line.split()
        if command in ("log", "stream"):  # N steps of loss, and of val/acc from step 5 on
            for _ in range(int(args[0])):
                if command == "stream":  # a line per step: the test passes meanwhile
                    writer.flush()
                    print("step", step, flush=True)
                writer.add_scalar("loss", 1.0 / (step + 1), step, walltime=BASE + step)
                if step >= 5:
                    writer.add_scalar("val/acc", step / (step + 1), step, walltime=BASE + step)
                step += 1
            writer.flush()
        elif command == "repeat":  # the last loss point again, exactly
            writer.add_scalar("loss", 1.0 / step, step - 1, walltime=BASE + step - 1)
            writer.flush()
        elif command == "restart":  # a resumed job: a new writer, a new events file
            writer.close()
            writer = synchronous(SummaryWriter(logdir, flush_secs=3600,
                                               filename_suffix=".resumed"))
        print("ok", flush=True)
    writer.close()
''')


class TensorBoardWriter(WriterProcess):
    """tensorboardX in a process of its own, driven one command at a time."""

    def __init__(self, logdir):
        self.logdir = logdir
        super().__init__(WRITER, logdir)

    def files(self) -> list:
        """The event files, oldest first."""
        return sorted(self.logdir.glob("events.out.tfevents.*"))

    def size(self) -> int:
        """The bytes of every event file."""
        return sum(file.stat().st_size for file in self.files())


@pytest.fixture
def writer(tmp_path):
    """A running tensorboardX writer of the run ``tmp_path / "tb" / "run1"``."""
    appendlog.forget()
    started = TensorBoardWriter(tmp_path / "tb" / "run1")
    yield started
    started.close()
    appendlog.forget()


def run_state(cat) -> dict:
    """The points in order, summaries and times of the catalog's one run."""
    conn = cat._conn()
    (run_id,) = cat.run_ids()
    return {
        "points": [(p.key, p.step, p.value, p.raw, p.wall_time, p.seq)
                   for p in cat.metric_points(run_id)],
        "summary": conn.execute("SELECT key, last, last_step, min, max, count FROM "
                                "metric_summary ORDER BY key").fetchall(),
        "run": conn.execute("SELECT start_time, end_time FROM runs").fetchall(),
    }


def fresh_import(tmp_path, logdir) -> dict:
    """What a full import of a copy of the log dir gives (nothing remembered)."""
    return import_copy(tmp_path, logdir, lambda other, _: run_state(other))


def test_each_pass_decodes_only_the_appended_records(cat, tmp_path, clock, writer):
    writer.send("log 3")
    watch = WatchState(cat, [writer.logdir], clock=clock)
    assert poll_bytes(watch) == writer.size()  # the first pass reads the file whole
    for steps in (1, 4, 6):
        before = writer.size()
        writer.send(f"log {steps}")
        assert poll_bytes(watch) == writer.size() - before
    state = run_state(cat)
    assert state == fresh_import(tmp_path, writer.logdir)
    assert [step for key, step, *_ in state["points"] if key == "loss"] == list(range(14))


def test_a_new_events_file_of_a_resumed_writer_is_read_whole(cat, tmp_path, clock, writer):
    writer.send("log 4")
    watch = WatchState(cat, [writer.logdir], clock=clock)
    watch.poll()
    writer.send("restart")
    writer.send("log 3")
    (first, resumed) = writer.files()
    before = first.stat().st_size
    assert poll_bytes(watch) == resumed.stat().st_size + (first.stat().st_size - before)
    size = resumed.stat().st_size  # and the new file is then followed by its records
    writer.send("log 2")
    assert poll_bytes(watch) == resumed.stat().st_size - size
    assert run_state(cat) == fresh_import(tmp_path, writer.logdir)


def test_an_exact_repeat_is_kept_as_tensorboard_keeps_it(cat, tmp_path, clock, writer):
    writer.send("log 4")
    watch = WatchState(cat, [writer.logdir], clock=clock)
    watch.poll()
    writer.send("repeat")
    writer.send("log 1")
    watch.poll()
    state = run_state(cat)
    assert [step for key, step, *_ in state["points"] if key == "loss"] == [0, 1, 2, 3, 3, 4]
    assert state == fresh_import(tmp_path, writer.logdir)


def test_a_record_cut_mid_write_is_read_once_it_is_whole(cat, tmp_path, clock, writer):
    """The bytes of tensorboardX's records land in the followed file in two parts, the first
    ending inside a record: only whole records are decoded, each once."""
    writer.send("log 12")
    (source,) = writer.files()
    data = source.read_bytes()
    logdir = tmp_path / "tb2" / "run2"
    logdir.mkdir(parents=True)
    followed = logdir / source.name
    followed.write_bytes(data[:len(data) // 3])
    watch = WatchState(cat, [logdir], clock=clock)
    watch.poll()
    cut = len(data) * 2 // 3 + 5
    with open(followed, "ab") as handle:
        handle.write(data[len(data) // 3:cut])
    watch.poll()
    with open(followed, "ab") as handle:
        handle.write(data[cut:])
    watch.poll()
    assert run_state(cat) == fresh_import(tmp_path, logdir)
    assert [step for key, step, *_ in run_state(cat)["points"] if key == "loss"] == list(range(12))


@pytest.mark.parametrize("change", ["truncate", "rewrite", "replace"])
def test_a_truncated_or_rewritten_event_file_is_read_whole(cat, tmp_path, clock, writer, change):
    writer.send("log 8")
    watch = WatchState(cat, [writer.logdir], clock=clock)
    watch.poll()
    writer.send("log 2")
    (file,) = writer.files()
    data = file.read_bytes()
    if change == "truncate":  # shorter: a rewrite, never merged
        data = data[:len(data) // 2]
        file.write_bytes(data)
    elif change == "rewrite":  # same inode, same length, an early record's bytes changed
        copy = tmp_path / "other"
        other = TensorBoardWriter(copy)
        other.send("log 10")
        other.close()
        data = other.files()[0].read_bytes()
        with open(file, "r+b") as handle:
            handle.truncate(0)
            handle.write(data)
    else:  # a copy renamed over the file
        new = file.with_name("new.tmp")
        new.write_bytes(data)
        os.replace(new, file)
    assert poll_bytes(watch) == len(data)  # read whole, not appended to
    assert run_state(cat) == fresh_import(tmp_path, writer.logdir)


FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "tensorboard"


def all_runs(cat) -> list:
    """Every run's name, times, params, tags and points in order."""
    conn = cat._conn()
    found = []
    for row in sorted(cat.runs(cat.run_ids()), key=lambda row: row["name"]):
        run_id = row["id"]
        found.append((row["name"], row["start_time"], row["end_time"],
                      conn.execute("SELECT key, value FROM params WHERE run_id = ? ORDER BY key",
                                   (run_id,)).fetchall(),
                      conn.execute("SELECT key, value FROM run_tags WHERE run_id = ? ORDER BY "
                                   "key", (run_id,)).fetchall(),
                      [(p.key, p.step, p.value, p.raw, p.wall_time)
                       for p in cat.metric_points(run_id)]))
    return found


@pytest.mark.parametrize("fixture", ["keras_tf2", "scalars", "restart", "session_restart",
                                     "pytorch_hparams", "lightning_logs"])
def test_fixture_event_files_replayed_in_parts_equal_a_full_import(cat, tmp_path, clock, fixture):
    """The fixtures' event files (TF2 split writers with tensor scalars, add_scalars runs,
    restarts TensorBoard purges points for, hparams) written again in four parts cut at
    arbitrary bytes, a pass after each: the catalog equals a full import of the files."""
    appendlog.forget()
    source = FIXTURES / fixture
    target = tmp_path / "logs" / fixture
    files = sorted(p for p in source.rglob("events.out.tfevents.*"))
    for part in range(1, 5):
        for file in files:
            data = file.read_bytes()
            copy = target / file.relative_to(source)
            copy.parent.mkdir(parents=True, exist_ok=True)
            have = copy.stat().st_size if copy.exists() else 0
            with open(copy, "ab") as handle:
                handle.write(data[have:len(data) * part // 4])
        if part == 1:
            watch = WatchState(cat, [target], clock=clock)
        watch.poll()
    appendlog.forget()
    other = open_catalog(tmp_path / "fresh.db", create=True)
    try:
        import_paths(other, [source], skip_invalid=True)
        assert all_runs(cat) == all_runs(other)
    finally:
        other.close()


def test_tensorboardx_writing_while_the_watch_passes_uncoordinated(cat, tmp_path, clock, writer):
    watch = WatchState(cat, [writer.logdir], clock=clock)
    writer.stream(60, watch.poll)
    writer.send("log 1")
    watch.poll()
    state = run_state(cat)
    assert state == fresh_import(tmp_path, writer.logdir)
    assert [step for key, step, *_ in state["points"] if key == "loss"] == list(range(61))


def test_a_first_pass_that_sees_only_the_header_then_follows_the_scalars(cat, tmp_path, clock,
                                                                        writer):
    # The uncoordinated test above, with its race made certain: the watch's first pass reads a
    # file holding the writer's header alone.
    writer.send("log 0")  # a flush: the header alone in the file
    assert writer.size() > 0
    watch = WatchState(cat, [writer.logdir], clock=clock)
    watch.poll()
    writer.send("log 7")
    watch.poll()
    state = run_state(cat)
    assert state == fresh_import(tmp_path, writer.logdir)
    assert [step for key, step, *_ in state["points"] if key == "loss"] == list(range(7))
