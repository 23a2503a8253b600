"""A watch decodes only the TFRecords appended to a run's event files, with tensorboardX's
``SummaryWriter`` writing in another process.

The writer process takes one command a line on stdin and answers ``ok`` once the records are
flushed to the file, so each test interleaves writes and watch passes exactly (no sleeps).
The catalog is compared with a fresh full import of a copy of the log dir; the bytes of log
data parsed per pass are counted (``readstate.BYTES_READ``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap

import pytest

from mltui.core.catalog import open_catalog
from mltui.importers import appendlog
from mltui.importers.readstate import BYTES_READ
from mltui.services.ingest import import_paths
from mltui.services.watch import WatchState

pytest.importorskip("tensorboardX")

WRITER = textwrap.dedent('''
    import sys
    from tensorboardX import SummaryWriter

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
        if command == "log":  # N steps of loss, and of val/acc from step 5 on
            for _ in range(int(args[0])):
                writer.add_scalar("loss", 1.0 / (step + 1), step, walltime=1.7e9 + step)
                if step >= 5:
                    writer.add_scalar("val/acc", step / (step + 1), step, walltime=1.7e9 + step)
                step += 1
            writer.flush()
        elif command == "restart":  # a resumed job: a new writer, a new events file
            writer.close()
            writer = synchronous(SummaryWriter(logdir, flush_secs=3600,
                                               filename_suffix=".resumed"))
        print("ok", flush=True)
    writer.close()
''')


class TensorBoardWriter:
    """tensorboardX in a process of its own, driven one command at a time."""

    def __init__(self, logdir):
        self.logdir = logdir
        self.process = subprocess.Popen([sys.executable, "-c", WRITER, str(logdir)],
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self._answer()

    def _answer(self) -> None:
        line = self.process.stdout.readline()
        assert line.startswith("ok"), line

    def send(self, command: str) -> None:
        """Send one command and wait until its records are in the file."""
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()
        self._answer()

    def files(self) -> list:
        """The event files, oldest first."""
        return sorted(self.logdir.glob("events.out.tfevents.*"))

    def size(self) -> int:
        """The bytes of every event file."""
        return sum(file.stat().st_size for file in self.files())

    def close(self) -> None:
        """End the writer process."""
        self.process.stdin.close()
        self.process.wait(timeout=60)


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
    appendlog.forget()
    copy = tmp_path / "fresh" / logdir.name
    shutil.rmtree(copy.parent, ignore_errors=True)
    shutil.copytree(logdir, copy)
    other = open_catalog(tmp_path / "fresh.db", create=True)
    try:
        import_paths(other, [copy])
        return run_state(other)
    finally:
        other.close()
        os.remove(tmp_path / "fresh.db")


def poll_bytes(watch: WatchState) -> int:
    """Poll once; the bytes of log data the pass parsed."""
    before = BYTES_READ["bytes"]
    watch.poll()
    return BYTES_READ["bytes"] - before


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
