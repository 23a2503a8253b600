"""Synthetic trainers that write their logs the way the real ones do, step by step.

Each writer's ``step()`` logs one more record and returns False when training is over, so a
test can interleave writes with imports exactly (a fault hook) or run the writer in a thread.
Each also has ``expected()``: ``{(key, step): count}`` as the library's own reader sees the
finished files (pandas for the CSVs, ``json`` for ``trainer_state.json``), to compare the
catalog with.

File behaviour copied from the libraries:
- ``CsvAppender``: a metrics CSV/JSONL appended row by row with a flush after each, and (when
  ``split``) each row written in two halves, so a reader can catch a partial last line.
- ``LightningWriter``: ``lightning.fabric.loggers.csv_logs._ExperimentWriter.save``: append the
  new rows, but when a new metric key appears rewrite the whole file (open "w" truncates) with
  the sorted union of keys as the header.
- ``HFWriter``: ``TrainerState.save_to_json``: open "w" (truncate) then write the JSON, in place
  and not atomically; TensorBoard files go to ``runs/<date>_<host>/`` from the start, the first
  ``checkpoint-N/trainer_state.json`` only at the first save.
"""

from __future__ import annotations

import csv
import json
import random
import shutil
from collections import Counter
from pathlib import Path

import pandas as pd

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
HF_EVENTS = FIXTURES / "tensorboard" / "hf_output" / "runs" / "May04_21-52-32_fixture-host"


def _split_write(path: Path, mode: str, text: str, rng: random.Random, split: bool) -> None:
    with open(path, mode, newline="") as handle:
        if split and len(text) > 2:
            cut = rng.randrange(1, len(text) - 1)
            handle.write(text[:cut])
            handle.flush()  # a reader may see this half
            text = text[cut:]
        handle.write(text)
        handle.flush()


class CsvAppender:
    """A generic metrics file: ``step,loss,acc`` CSV or JSON lines, appended row by row."""

    def __init__(self, path: Path, rows: int, *, seed: int = 0, split: bool = True):
        self.path, self.rows, self.split = path, rows, split
        self.rng = random.Random(seed)
        self.done = 0
        if path.suffix == ".csv":
            _split_write(path, "w", "step,loss,acc\n", self.rng, False)

    def step(self) -> bool:
        """Append one row; False once all rows are written."""
        if self.done >= self.rows:
            return False
        n = self.done
        loss, acc = round(1 / (n + 1), 6), round(n / (n + 1), 6)
        if self.path.suffix == ".csv":
            line = f"{n},{loss},{acc}\n"
        else:
            line = json.dumps({"step": n, "loss": loss, "acc": acc}) + "\n"
        _split_write(self.path, "a", line, self.rng, self.split)
        self.done += 1
        return self.done < self.rows

    def expected(self) -> Counter:
        """What pandas reads from the finished file."""
        frame = (pd.read_csv(self.path) if self.path.suffix == ".csv"
                 else pd.read_json(self.path, lines=True))
        return _frame_counts(frame)


class LightningWriter:
    """A CSVLogger version dir: ``hparams.yaml`` first, then ``metrics.csv`` saved every
    ``flush_every`` steps; ``val_loss`` first appears at step ``val_from`` (a rewrite)."""

    def __init__(self, folder: Path, steps: int, *, flush_every: int = 1, val_from: int = 3,
                 val_every: int = 2, seed: int = 0, split: bool = True):
        self.folder, self.steps, self.flush_every = folder, steps, flush_every
        self.split = split
        self.val_from, self.val_every = val_from, val_every
        self.rng = random.Random(seed)
        self.pending: list[dict] = []
        self.keys: list[str] = []
        self.done = 0
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "hparams.yaml").write_text("lr: 0.01\nbatch_size: 8\n")

    @property
    def file(self) -> Path:
        return self.folder / "metrics.csv"

    def step(self) -> bool:
        """Log one training step (and sometimes a validation row); save every flush_every."""
        if self.done >= self.steps:
            return False
        n = self.done
        self.pending.append({"epoch": n // 4, "step": n, "train_loss": round(1 / (n + 1), 6)})
        if n >= self.val_from and n % self.val_every == 0:
            self.pending.append({"epoch": n // 4, "step": n, "val_loss": round(2 / (n + 1), 6)})
        self.done += 1
        if self.done % self.flush_every == 0 or self.done == self.steps:
            self._save()
        return self.done < self.steps

    def _save(self) -> None:
        # pytorch_lightning 1.x's ExperimentWriter.save wrote hparams.yaml again (unchanged)
        # first; lightning 2.6 writes it once (recorded in tests/fixtures/lightning/growth_2_6).
        # Rewriting it here keeps the harder case: a side file touched but not changed.
        (self.folder / "hparams.yaml").write_text("lr: 0.01\nbatch_size: 8\n")
        new_keys = sorted({k for row in self.pending for k in row} - set(self.keys))
        rows, self.pending = self.pending, []
        if new_keys and self.file.exists():
            # _rewrite_with_new_header: read what is there, write it all again with the new header.
            with open(self.file, newline="") as handle:
                old = list(csv.DictReader(handle))
            self.keys = sorted(set(self.keys) | set(new_keys))
            self._write("w", old + rows, header=True)
        elif new_keys:
            self.keys = sorted(set(new_keys))
            self._write("w", rows, header=True)
        else:
            self._write("a", rows, header=False)

    def _write(self, mode: str, rows: list[dict], *, header: bool) -> None:
        import io

        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=self.keys)
        if header:
            writer.writeheader()
        writer.writerows(rows)
        _split_write(self.file, mode, buffer.getvalue(), self.rng, self.split)

    def expected(self) -> Counter:
        """What pandas reads from the finished metrics.csv."""
        return _frame_counts(pd.read_csv(self.file), skip=("step", "epoch"))


class HFWriter:
    """An HF Trainer output dir: TensorBoard files first, ``checkpoint-N/trainer_state.json``
    from the first save (every ``save_every`` steps), the root state at the end."""

    def __init__(self, folder: Path, steps: int, *, save_every: int = 3, seed: int = 0):
        self.folder, self.steps, self.save_every = folder, steps, save_every
        self.rng = random.Random(seed)
        self.history: list[dict] = []
        self.done = 0
        runs = folder / "runs" / HF_EVENTS.name
        runs.mkdir(parents=True)
        for file in HF_EVENTS.iterdir():
            shutil.copy(file, runs / file.name)

    def step(self) -> bool:
        """Log one step; save a checkpoint every save_every steps, the root state at the end."""
        if self.done >= self.steps:
            return False
        self.done += 1
        self.history.append({"epoch": self.done / 4, "grad_norm": 0.5, "learning_rate": 0.001,
                             "loss": round(1 / self.done, 6), "step": self.done})
        if self.done % self.save_every == 0:
            checkpoint = self.folder / f"checkpoint-{self.done}"
            checkpoint.mkdir(exist_ok=True)
            self._save(checkpoint / "trainer_state.json")
        if self.done == self.steps:
            self._save(self.folder / "trainer_state.json")
        return self.done < self.steps

    def _save(self, path: Path) -> None:
        state = {"best_metric": None, "epoch": self.done / 4, "global_step": self.done,
                 "log_history": self.history, "max_steps": self.steps, "train_batch_size": 8}
        _split_write(path, "w", json.dumps(state, indent=2, sort_keys=True) + "\n", self.rng, True)

    def expected(self) -> Counter:
        """What ``json.load`` of the final state lists: one point per numeric log entry."""
        state = json.loads((self.folder / "trainer_state.json").read_text())
        counts: Counter = Counter()
        for entry in state["log_history"]:
            for key, value in entry.items():
                if key not in ("step", "epoch") and isinstance(value, (int, float)):
                    counts[(key, entry["step"])] += 1
        return counts


def _frame_counts(frame: pd.DataFrame, skip: tuple[str, ...] = ("step",)) -> Counter:
    counts: Counter = Counter()
    for key in frame.columns:
        if key in skip:
            continue
        for step, value in zip(frame["step"], frame[key]):
            if pd.notna(value):
                counts[(key, int(step))] += 1
    return counts


def catalog_counts(cat, source_path: Path) -> tuple[Counter, int]:
    """``({(key, step): count}, runs)`` in the catalog for runs under ``source_path``."""
    counts: Counter = Counter()
    prefix = str(source_path)
    ids = [row["id"] for row in cat.runs(cat.run_ids())
           if str(row.get("source_path") or "").startswith(prefix)]
    for run_id in ids:
        for point in cat.metric_points(run_id):
            counts[(point.key, point.step)] += 1
    return counts, len(ids)


def compare(expected: Counter, got: Counter) -> tuple[int, int]:
    """``(lost, duplicated)`` points of ``got`` against ``expected``."""
    lost = sum((expected - got).values())
    duplicated = sum((got - expected).values())
    return lost, duplicated
