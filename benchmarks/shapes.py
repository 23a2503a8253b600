"""Import speed across data shapes and formats, each beside the floor of merely parsing its files.

Every shape is written here, deterministically, then imported end to end with
``services.ingest.import_paths`` into a fresh catalog; the answer (points counted and stored)
is checked.  The floor reads the very same files and parses them with C parsers only (numpy's
``fromstring``, pandas' ``read_csv``, ``json.loads``; TensorBoard frames have no C parser
without TensorFlow, so its floor is reading the bytes) — what no importer can beat.
Subprocesses started during each import are counted: reading a log must not fork per run.
"""

from __future__ import annotations

import json
import os
import random
import statistics
import struct
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

T0_MS = 1_750_000_000_000


@dataclass
class Shape:
    """One data shape: how to write it, how many points it holds, its format's target."""

    name: str
    format: str
    write: Callable[[Path], int]  # writes the logs under the folder; returns the point count
    target: float  # points/s
    floor: str  # "numbers" (numpy), "csv" (pandas), "json", "bytes"


# -- writers ---------------------------------------------------------------------------------------


def write_mlflow(root: Path, *, runs: int, metrics: int, steps: int, git: bool, irregular: bool,
                 full_precision: bool, seed: int = 1) -> int:
    """An MLflow file store (``mlruns/``) of ``runs`` runs; returns the point count."""
    rng = random.Random(seed)
    experiment = root / "mlruns" / "1"
    experiment.mkdir(parents=True)
    (experiment / "meta.yaml").write_text(
        f"artifact_location: {experiment.as_uri()}\nexperiment_id: '1'\n"
        "lifecycle_stage: active\nname: shapes\n")
    for index in range(runs):
        run_id = f"{rng.getrandbits(128):032x}"
        run = experiment / run_id
        for sub in ("params", "tags", "metrics", "artifacts"):
            (run / sub).mkdir(parents=True)
        start = T0_MS + index * 600_000
        (run / "meta.yaml").write_text(
            f"artifact_uri: {(run / 'artifacts').as_uri()}\nend_time: {start + 300_000}\n"
            f"experiment_id: '1'\nlifecycle_stage: active\nrun_id: {run_id}\n"
            f"run_name: run-{index}\nrun_uuid: {run_id}\nstart_time: {start}\nstatus: 3\n"
            "tags: []\nuser_id: bench\n")
        for p in range(5):
            (run / "params" / f"p{p}").write_text(repr(rng.random()))
        (run / "tags" / "mlflow.runName").write_text(f"run-{index}")
        if git:
            (run / "tags" / "mlflow.source.git.commit").write_text(f"{rng.getrandbits(160):040x}")
        for m in range(metrics):
            stamp, lines = start, []
            for step in range(steps):
                stamp += rng.randint(1, 90_000) if irregular else 1000
                value = rng.random() * 10 ** rng.randint(-3, 3) if full_precision \
                    else round(1.0 / (step + 1 + m), 4)
                lines.append(f"{stamp} {value!r} {step}\n")
            (run / "metrics" / f"metric_{m}").write_text("".join(lines))
    return runs * metrics * steps


def write_lightning(root: Path, *, runs: int, steps: int, val_every: int, seed: int = 2) -> int:
    """Lightning ``CSVLogger`` folders with sparse rows (validation every ``val_every`` steps)."""
    rng = random.Random(seed)
    points = 0
    for index in range(runs):
        folder = root / "lightning_logs" / f"version_{index}"
        folder.mkdir(parents=True)
        (folder / "hparams.yaml").write_text(f"lr: {rng.random()!r}\nbatch_size: 32\n")
        lines = ["epoch,step,train_loss_step,lr,val_loss,val_acc\n"]
        for step in range(steps):
            epoch = step // 100
            lines.append(f"{epoch},{step},{rng.random()!r},{rng.random()!r},,\n")
            points += 2
            if step % val_every == val_every - 1:
                lines.append(f"{epoch},{step},,,{rng.random()!r},{rng.random()!r}\n")
                points += 2
        (folder / "metrics.csv").write_text("".join(lines))
    return points


def write_hf(root: Path, *, runs: int, steps: int, seed: int = 3) -> int:
    """Hugging Face ``trainer_state.json`` files, one per output folder."""
    rng = random.Random(seed)
    for index in range(runs):
        folder = root / f"hf-run-{index}"
        folder.mkdir(parents=True)
        history = [{"epoch": step / steps, "grad_norm": rng.random(), "learning_rate": rng.random(),
                    "loss": rng.random(), "step": step + 1} for step in range(steps)]
        state = {"best_metric": None, "epoch": 1.0, "global_step": steps, "log_history": history,
                 "logging_steps": 1, "max_steps": steps, "num_train_epochs": 1,
                 "train_batch_size": 8, "trial_name": None, "trial_params": None}
        (folder / "trainer_state.json").write_text(json.dumps(state))
    return runs * steps * 3  # grad_norm, learning_rate, loss (epoch is the x axis, not a metric)


def _crc32c(data: bytes, table=[]) -> int:  # noqa: B006 - the table is built once
    if not table:
        for byte in range(256):
            crc = byte
            for _ in range(8):
                crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
            table.append(crc)
    crc = 0xFFFFFFFF
    for byte in data:
        crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    crc ^= 0xFFFFFFFF
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF  # TFRecord's masked CRC


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _field(number: int, payload: bytes) -> bytes:
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def _record(event: bytes) -> bytes:
    header = struct.pack("<Q", len(event))
    return header + struct.pack("<I", _crc32c(header)) + event + struct.pack("<I", _crc32c(event))


def write_tensorboard(root: Path, *, runs: int, steps: int, tags: int, seed: int = 4) -> int:
    """TensorBoard event files (``simple_value`` scalars, one event per step), one dir per run."""
    rng = random.Random(seed)
    for index in range(runs):
        folder = root / "tb" / f"run-{index}"
        folder.mkdir(parents=True)
        chunks = [_record(struct.pack("<Bd", 0x09, 1.75e9) + _field(3, b"brain.Event:2"))]
        for step in range(steps):
            values = b"".join(_field(1, _field(1, f"metric_{t}".encode())
                                     + b"\x15" + struct.pack("<f", rng.random()))
                              for t in range(tags))
            event = struct.pack("<Bd", 0x09, 1.75e9 + step) + b"\x10" + _varint(step) \
                + _field(5, values)
            chunks.append(_record(event))
        (folder / f"events.out.tfevents.1750000000.host.{index}.0").write_bytes(b"".join(chunks))
    return runs * steps * tags


def shapes(scale: float = 1.0) -> list[Shape]:
    """The shapes side by side; ``scale`` shrinks them for the smoke run."""
    n = lambda count: max(2, int(count * scale))  # noqa: E731
    mlflow = 400_000
    return [
        Shape("mlflow: 5 metrics × 100 steps, git tags", "mlflow", lambda root: write_mlflow(
            root, runs=n(1000), metrics=5, steps=100, git=True, irregular=False,
            full_precision=False), mlflow, "numbers"),
        Shape("mlflow: full-precision random floats, no git tags", "mlflow",
              lambda root: write_mlflow(root, runs=n(1000), metrics=5, steps=100, git=False,
                                        irregular=False, full_precision=True), mlflow, "numbers"),
        Shape("mlflow: irregular timestamps", "mlflow", lambda root: write_mlflow(
            root, runs=n(1000), metrics=5, steps=100, git=True, irregular=True,
            full_precision=True), mlflow, "numbers"),
        Shape("mlflow: 10 metrics × 1,000 steps", "mlflow", lambda root: write_mlflow(
            root, runs=n(50), metrics=10, steps=1000, git=True, irregular=False,
            full_precision=True), mlflow, "numbers"),
        Shape("lightning CSV, sparse rows", "lightning",
              lambda root: write_lightning(root, runs=n(200), steps=1000, val_every=50),
              150_000, "csv"),
        Shape("tensorboard event files", "tensorboard",
              lambda root: write_tensorboard(root, runs=n(100), steps=200, tags=5), 150_000,
              "bytes"),
        Shape("hf trainer_state.json", "hf_trainer",
              lambda root: write_hf(root, runs=n(200), steps=1000), 150_000, "json"),
    ]


# -- the floor -------------------------------------------------------------------------------------


def parse_floor(root: Path, kind: str) -> float:
    """Seconds to read every file under ``root`` and parse it with C parsers only."""
    import numpy as np
    import pandas as pd

    files = [path for path in root.rglob("*") if path.is_file()]
    started = time.perf_counter()
    for path in files:
        data = path.read_bytes()
        if kind == "numbers" and path.parent.name == "metrics":
            np.fromstring(data, sep=" ")  # C parser; "deprecated" only for binary mode
        elif kind == "csv" and path.suffix == ".csv":
            pd.read_csv(path, engine="c")
        elif kind == "json" and path.suffix == ".json":
            json.loads(data)
    return time.perf_counter() - started


# -- the benchmark ---------------------------------------------------------------------------------


class _CountForks:
    """Counts processes started through ``subprocess`` while active."""

    def __enter__(self):
        self.count = 0
        self._original = subprocess.Popen.__init__
        counter = self

        def counting(popen, *args, **kwargs):
            counter.count += 1
            return counter._original(popen, *args, **kwargs)

        subprocess.Popen.__init__ = counting
        return self

    def __exit__(self, *exc) -> None:
        subprocess.Popen.__init__ = self._original


def cold_caches() -> None:
    """Empty the readers' in-process caches (git answers per folder, …): every attempt starts
    as a fresh ``mltui import`` process does, so repeats are not served from memory."""
    import sys

    for name, module in list(sys.modules.items()):
        if name.startswith(("mltui.importers", "mltui.services")):
            for value in vars(module).values():
                if callable(getattr(value, "cache_clear", None)):
                    value.cache_clear()


def bench_shapes(report, Result, work: Path, *, scale: float, repeat: int) -> None:
    """Import every shape, checked, beside its parse floor; the spread between shapes.

    Every store is written first; then each round imports every shape once, in turn, so a
    slow minute of the machine (a shared host) falls on all shapes alike rather than on the
    one measured then: the spread compares shapes, not moments.
    """
    from mltui.core.catalog import open_catalog
    from mltui.services.ingest import import_paths

    listed = shapes(scale)
    roots = [work / f"shape-{number}" for number in range(len(listed))]
    expected = [shape.write(root) for shape, root in zip(listed, roots)]
    times: list[list[float]] = [[] for _ in listed]
    forks, runs = [0] * len(listed), [0] * len(listed)
    for attempt in range(repeat):
        for number, (shape, root) in enumerate(zip(listed, roots)):
            path = work / f"shape-{number}-{attempt}.db"
            cat = open_catalog(path, create=True)
            cold_caches()
            # The logs just written and the last attempt's catalog are still being written back
            # to disk; without this the kernel's writeback runs during the timed import (the
            # first attempt after writing a store read up to 15 % slower).  A trainer's logs
            # are long on disk when an import reads them.
            os.sync()
            with _CountForks() as forked:
                started = time.perf_counter()
                summary = import_paths(cat, [root])
                times[number].append(time.perf_counter() - started)
            forks[number], runs[number] = forked.count, summary.runs_new
            stored = cat.summary()["metric_points"]
            cat.close()
            report.check(summary.points == expected[number] and stored == expected[number],
                         f"{shape.name}: imported {summary.points:,} points, stored "
                         f"{stored:,}, expected {expected[number]:,}")
    rates = {}
    for number, (shape, root) in enumerate(zip(listed, roots)):
        seconds = statistics.median(times[number])
        floor = statistics.median(parse_floor(root, shape.floor) for _ in range(repeat))
        rates[shape.name] = rate = expected[number] / seconds
        report.add(Result(f"import {shape.name}", rate, "points/s", shape.target,
                          higher_is_better=True,
                          note=f"{expected[number]:,} points, {runs[number]:,} runs, "
                               f"{seconds:.2f} s (median of {repeat}); parse floor "
                               f"{expected[number] / floor:,.0f} points/s "
                               f"({seconds / floor:.1f}× slower)"))
        report.add(Result(f"subprocesses during import, {shape.name}", forks[number], "", 1,
                          note=f"{runs[number]} runs: at most one per import, none per run"))
    best = max(rates.values())
    worst_name = min(rates, key=rates.get)
    report.add(Result("ratio: fastest shape / slowest shape", best / rates[worst_name], "×", 2,
                      note=f"slowest: {worst_name}"))
    best_name = max(rates, key=rates.get)
    for name in dict.fromkeys((worst_name, best_name)):
        number = next(i for i, shape in enumerate(listed) if shape.name == name)
        bench_import_process(report, Result, work / f"process-{number}", roots[number],
                             expected[number], name, repeat=max(1, repeat // 2 + 1))


def bench_import_process(report, Result, work: Path, root: Path, points: int, name: str, *,
                         repeat: int) -> None:
    """``mltui import`` as a user runs it: the whole process, from exec to exit (interpreter,
    imports, reading, the write, the summary line), its points checked in the catalog.  The
    catalog exists already, as it does for every import but a project's first (whose schema
    set-up loads sqlite-utils and pandas once, ~0.35 s)."""
    import sys

    from mltui.core.catalog import open_catalog

    times = []
    work.mkdir(parents=True, exist_ok=True)
    for attempt in range(repeat):
        catalog = work / f"attempt-{attempt}.db"
        open_catalog(catalog, create=True).close()
        os.sync()
        started = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "mltui", "--catalog", str(catalog), "import",
                               str(root)], capture_output=True, text=True)
        times.append(time.perf_counter() - started)
        with open_catalog(catalog) as cat:
            stored = cat.summary()["metric_points"]
        report.check(done.returncode == 0 and stored == points,
                     f"mltui import of {name}: exit {done.returncode}, {stored:,} points stored "
                     f"of {points:,} {done.stderr[-200:]}")
    seconds = statistics.median(times)
    report.add(Result(f"mltui import as a process, {name}", points / seconds, "points/s",
                      note=f"{seconds:.2f} s from exec to exit (median of {repeat}) into an "
                           f"existing catalog, interpreter start and summary line included"))


def _alone(report, work: Path, smoke: bool) -> None:
    import run

    bench_shapes(report, run.Result, work, scale=0.01 if smoke else 1.0, repeat=1 if smoke else 5)


if __name__ == "__main__":  # this module alone: python benchmarks/shapes.py [--smoke]
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import run

    sys.exit(run.run_alone(_alone, "import speed across data shapes"))
