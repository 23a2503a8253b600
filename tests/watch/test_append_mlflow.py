"""A watch reads only the lines MLflow appended to a run's metric files (mlruns/<exp>/<run>/
metrics/<key>), with MLflow's own file store writing in another process.

The writer process takes one command a line on stdin and answers ``ok`` once MLflow has
written it, so each test interleaves writes and watch passes exactly (no sleeps).  The catalog
is compared with a fresh full import of a copy of the store; the bytes of log text parsed per
pass are counted (``readstate.BYTES_READ``).
"""

from __future__ import annotations

import textwrap

import pytest

from mltui.importers import appendlog
from mltui.services.watch import FINISHED, WatchState
from tests.watch.follow_helpers import import_copy, poll_bytes
from tests.watch.writer_process import WriterProcess

pytest.importorskip("mlflow")

WRITER = textwrap.dedent('''
    import os, sys, warnings
    os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"
    os.environ["MLFLOW_ENABLE_ASYNC_LOGGING"] = "false"
    os.environ["MLFLOW_DISABLE_TELEMETRY"] = "true"
    os.environ["DO_NOT_TRACK"] = "true"
    warnings.filterwarnings("ignore")
    from mlflow.tracking import MlflowClient
    client = MlflowClient(tracking_uri="file:" + sys.argv[1])
    exp = client.create_experiment("train")
    run = client.create_run(exp).info.run_id
    client.log_param(run, "lr", "0.01")
    step = 0
    print("ok", run, flush=True)
    for line in sys.stdin:
        command, *args = line.split()
        if command in ("log", "stream"):  # N steps of loss (val/acc from step 5: a new file)
            for _ in range(int(args[0])):
                if command == "stream":  # a line per step: the test passes meanwhile
                    print("step", step, flush=True)
                client.log_metric(run, "loss", 1.0 / (step + 1), timestamp=1700000000000 + step,
                                  step=step)
                if step >= 5:
                    client.log_metric(run, "val/acc", step / (step + 1),
                                      timestamp=1700000000000 + step, step=step)
                step += 1
        elif command == "tag":
            client.set_tag(run, args[0], args[1])
        elif command == "end":
            client.set_terminated(run, "FINISHED", end_time=1700000099000)
        print("ok", flush=True)
''')


class MlflowWriter(WriterProcess):
    """MLflow's file store writer in a process of its own, driven one command at a time."""

    def __init__(self, store):
        self.store = store
        super().__init__(WRITER, store)
        self.run_id = self.greeting.split()[1]

    def metric_bytes(self) -> int:
        """The size of every metric file of the run."""
        return sum(path.stat().st_size for path in self.store.glob("*/*/metrics/**/*")
                   if path.is_file())


@pytest.fixture
def writer(tmp_path):
    """A running MLflow writer of one run under ``tmp_path / "mlruns"``."""
    appendlog.forget()
    started = MlflowWriter(tmp_path / "mlruns")
    yield started
    started.close()
    appendlog.forget()


def run_state(cat) -> dict:
    """The points in order, summaries, tags, params and status of the catalog's one run."""
    conn = cat._conn()
    (run_id,) = cat.run_ids()
    return {
        "points": [(p.key, p.step, p.value, p.raw, p.wall_time, p.seq)
                   for p in cat.metric_points(run_id)],
        "summary": conn.execute("SELECT key, last, last_step, min, max, count FROM "
                                "metric_summary ORDER BY key").fetchall(),
        "tags": conn.execute("SELECT key, value FROM run_tags ORDER BY key").fetchall(),
        "params": conn.execute("SELECT key, value FROM params ORDER BY key").fetchall(),
        "run": conn.execute("SELECT uid, status, start_time, end_time FROM runs").fetchall(),
    }


def fresh_import(tmp_path, store) -> dict:
    """What a full import of a copy of the store gives (nothing remembered)."""
    return import_copy(tmp_path, store, lambda other, _: run_state(other))


def experiment_meta(store) -> int:
    """The experiment's meta.yaml, which every pass reads (is the experiment still active?)."""
    return sum(path.stat().st_size for path in store.glob("[0-9]*/meta.yaml"))


def test_each_pass_parses_only_the_appended_metric_lines(cat, tmp_path, clock, writer):
    store = writer.store
    writer.send("log 3")
    watch = WatchState(cat, [store], clock=clock)
    watch.poll()
    for steps in (1, 4, 6):  # val/acc's file appears at step 5: read whole, as a new file
        before = writer.metric_bytes()
        writer.send(f"log {steps}")
        assert poll_bytes(watch) == writer.metric_bytes() - before + experiment_meta(store)
    # Nothing new: a pass parses no metric line (it reads the experiments' meta.yaml when files
    # were written in the last seconds, else it does not even import).
    assert poll_bytes(watch) in (0, experiment_meta(store))
    state = run_state(cat)
    assert state == fresh_import(tmp_path, store)
    assert [step for key, step, *_ in state["points"] if key == "loss"] == list(range(14))
    assert [step for key, step, *_ in state["points"] if key == "val/acc"] == list(range(5, 14))


def test_the_end_marker_and_a_new_tag_come_through_a_whole_read(cat, tmp_path, clock, writer):
    """meta.yaml's status and end_time (and a new tag file) change a side file: that pass
    reads the run whole, so the run is finished exactly as an import would see it."""
    store = writer.store
    writer.send("log 4")
    watch = WatchState(cat, [store], clock=clock)
    watch.poll()
    writer.send("tag phase warmup")
    writer.send("log 2")
    # Whole: the tag file is new (the run's meta.yaml, params and tags are read too).
    assert poll_bytes(watch) > writer.metric_bytes() + experiment_meta(store)
    before = writer.metric_bytes()
    writer.send("log 2")
    assert poll_bytes(watch) == writer.metric_bytes() - before + experiment_meta(store)
    writer.send("log 1")
    writer.send("end")
    changes = watch.poll()
    assert [c.kind for c in changes] == ["grew", "finished"]
    assert next(iter(watch.runs.values())).state == FINISHED
    assert run_state(cat) == fresh_import(tmp_path, store)


@pytest.mark.parametrize("change", ["truncate", "rewrite"])
def test_a_truncated_or_rewritten_metric_file_reads_the_run_whole(cat, tmp_path, clock, writer,
                                                                 change):
    store = writer.store
    writer.send("log 8")
    watch = WatchState(cat, [store], clock=clock)
    watch.poll()
    (loss,) = store.glob("*/*/metrics/loss")
    lines = loss.read_bytes().splitlines(keepends=True)
    if change == "truncate":
        loss.write_bytes(b"".join(lines[:2]))
    else:  # same inode, longer, an early value changed in place
        first = lines[1].split(b" ")
        lines[1] = b" ".join([first[0], b"0.75", first[2]])
        with open(loss, "r+b") as handle:
            handle.write(b"".join(lines) + lines[-1])
    assert poll_bytes(watch) >= writer.metric_bytes()  # every metric file read again
    assert run_state(cat) == fresh_import(tmp_path, store)
    writer.send("log 3")  # MLflow goes on appending: appended reads again
    watch.poll()
    assert run_state(cat) == fresh_import(tmp_path, store)


def test_points_arrive_once_in_order_while_mlflow_writes(cat, tmp_path, clock, writer):
    store = writer.store
    watch = WatchState(cat, [store], clock=clock)
    for _ in range(12):
        writer.send("log 2")
        watch.poll()
    writer.send("end")
    watch.poll()
    state = run_state(cat)
    assert state == fresh_import(tmp_path, store)
    for key in ("loss", "val/acc"):
        steps = [step for name, step, *_ in state["points"] if name == key]
        assert steps == sorted(set(steps))


def test_mlflow_writing_while_the_watch_passes_uncoordinated(cat, tmp_path, clock, writer):
    store = writer.store
    watch = WatchState(cat, [store], clock=clock)
    writer.stream(60, watch.poll)
    watch.poll()
    state = run_state(cat)
    assert state == fresh_import(tmp_path, store)
    assert [step for key, step, *_ in state["points"] if key == "loss"] == list(range(60))
