"""Bytes parsed per watch pass of a grown log, for every format a watch reads appended bytes of.

    PYTHONPATH=. python benchmarks/grown_logs.py [--lines 100000] [--grow 100] [--passes 5]

For each format a run is written with ``--lines`` records (JSONL and CSV lines, Lightning /
Keras / Ultralytics rows, MLflow metric lines over 4 metric files, TensorBoard scalar records
written by tensorboardX), a ``WatchState`` reads it once, then ``--passes`` times ``--grow``
records are appended and one pass runs.  Measured per pass: the bytes of log data parsed
(``readstate.BYTES_READ``), the bytes read to check the remembered prefix and side files
(``appendlog.CHECKED``), and the pass's wall time (median).  *Whole* is the same with
nothing remembered before each pass (every pass reads the grown log whole, as before issue
14's appended reads), so both columns come from the same code on the same files.

Answers are checked: after the last pass the catalog's run holds exactly the points a fresh
full import of the files gives, else WRONG ANSWER and exit 1.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from mltui.core.catalog import open_catalog  # noqa: E402
from mltui.importers import appendlog  # noqa: E402
from mltui.importers.readstate import BYTES_READ  # noqa: E402
from mltui.services.ingest import import_paths  # noqa: E402
from mltui.services.watch import WatchState  # noqa: E402


class Log:
    """One run of a format: ``write(start, count)`` appends records ``start..start+count``."""

    def __init__(self, root: Path, kind: str):
        self.root, self.kind = root, kind
        self.tb = None
        if kind == "jsonl":
            self.file = root / "train.jsonl"
        elif kind == "csv":
            self.file = root / "metrics.csv"
            self.file.write_text("step,loss,acc\n")
        elif kind == "lightning":
            folder = root / "lightning_logs" / "version_0"
            folder.mkdir(parents=True)
            (folder / "hparams.yaml").write_text("lr: 0.01\n")
            self.file = folder / "metrics.csv"
            self.file.write_text("epoch,step,train_loss,val_loss\n")
        elif kind == "keras":
            self.file = root / "training.log"
            self.file.write_text("epoch,accuracy,loss,val_loss\n")
        elif kind == "ultralytics":
            folder = root / "detect" / "train"
            folder.mkdir(parents=True)
            (folder / "args.yaml").write_text("task: detect\nepochs: 100000000\n")
            self.file = folder / "results.csv"
            self.file.write_text("epoch,time,train/box_loss,metrics/mAP50(B),val/box_loss\n")
        elif kind == "mlflow":
            run = root / "mlruns" / "1" / "0123456789abcdef0123456789abcdef"
            (root / "mlruns" / "1").mkdir(parents=True)
            (root / "mlruns" / "1" / "meta.yaml").write_text(
                "artifact_location: file:///tmp/x\nexperiment_id: '1'\nlifecycle_stage: active\n"
                "name: bench\n")
            (run / "metrics").mkdir(parents=True)
            (run / "meta.yaml").write_text(
                "artifact_uri: file:///tmp/x/artifacts\nend_time: null\nexperiment_id: '1'\n"
                "lifecycle_stage: active\nrun_id: 0123456789abcdef0123456789abcdef\n"
                "run_name: bench\nstart_time: 1700000000000\nstatus: 1\nuser_id: bench\n")
            self.file = run / "metrics"
        else:
            from tensorboardX import SummaryWriter
            self.tb = SummaryWriter(str(root / "tb"), flush_secs=3600)
            events = self.tb._get_file_writer().event_writer
            events.add_event = events._ev_writer.write_event  # synchronous, see tests/watch
            self.file = root / "tb"

    def write(self, start: int, count: int) -> None:
        """Append records ``start .. start+count-1``."""
        steps = range(start, start + count)
        if self.kind == "tensorboard":
            for n in steps:
                self.tb.add_scalar("loss", 1.0 / (n + 1), n, walltime=1.7e9 + n)
            self.tb.flush()
            return
        if self.kind == "mlflow":
            for key in ("loss", "acc", "lr", "val_loss"):
                with open(self.file / key, "a") as handle:
                    handle.write("".join(f"{1700000000000 + n} {1.0 / (n + 1)!r} {n}\n"
                                         for n in range(start // 4, (start + count) // 4)))
            return
        line = {
            "jsonl": lambda n: json.dumps({"step": n, "loss": 1.0 / (n + 1), "acc": n / (n + 1)}),
            "csv": lambda n: f"{n},{1.0 / (n + 1)!r},{n / (n + 1)!r}",
            "lightning": lambda n: f"{n // 100},{n},{1.0 / (n + 1)!r},",
            "keras": lambda n: f"{n},{n / (n + 1)!r},{1.0 / (n + 1)!r},NA",
            "ultralytics": lambda n: f"{n + 1},{n * 1.5},{1.0 / (n + 1)!r},{n / (n + 2)!r},0.5",
        }[self.kind]
        with open(self.file, "a") as handle:
            handle.write("".join(line(n) + "\n" for n in steps))

    def close(self) -> None:
        """Close the TensorBoard writer."""
        if self.tb is not None:
            self.tb.close()


def points(cat) -> list:
    """Every point of the catalog's runs, in order."""
    return [(p.key, p.step, p.value, p.raw) for run_id in cat.run_ids()
            for p in cat.metric_points(run_id)]


def measure(kind: str, work: Path, lines: int, grow: int, passes: int, whole: bool) -> dict:
    """Write a run of ``lines``, follow it for ``passes`` passes of ``grow`` more each."""
    root = work / f"{kind}-{'whole' if whole else 'appended'}"
    (root / "logs").mkdir(parents=True)
    log = Log(root / "logs", kind)
    log.write(0, lines)
    cat = open_catalog(root / "catalog.db", create=True)
    watch = WatchState(cat, [root / "logs"])
    appendlog.forget()
    watch.poll()
    parsed, checked, seconds = [], [], []
    for index in range(passes):
        log.write(lines + index * grow, grow)
        if whole:
            appendlog.forget()
        before, check = BYTES_READ["bytes"], appendlog.CHECKED["bytes"]
        started = time.perf_counter()
        watch.poll()
        seconds.append(time.perf_counter() - started)
        parsed.append(BYTES_READ["bytes"] - before)
        checked.append(appendlog.CHECKED["bytes"] - check)
    log.close()
    got = points(cat)
    cat.close()
    appendlog.forget()
    fresh = open_catalog(root / "fresh.db", create=True)
    import_paths(fresh, watch.paths)
    expected = points(fresh)
    fresh.close()
    return {"parsed": statistics.median(parsed), "checked": statistics.median(checked),
            "seconds": statistics.median(seconds), "right": got == expected}


def main() -> None:
    """Measure every format; print one table row each."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--grow", type=int, default=100)
    parser.add_argument("--passes", type=int, default=5)
    parser.add_argument("--only", nargs="*", default=None)
    args = parser.parse_args()
    kinds = args.only or ["jsonl", "csv", "lightning", "keras", "ultralytics", "mlflow",
                          "tensorboard"]
    work = Path(tempfile.mkdtemp(prefix="mltui-grown-"))
    wrong = False
    print(f"| format ({args.lines:,} records, +{args.grow} a pass) | whole: parsed, s a pass "
          "| appended: parsed + checked, s a pass |")
    print("|---|---|---|")
    try:
        with appendlog.following():
            for kind in kinds:
                whole = measure(kind, work, args.lines, args.grow, args.passes, True)
                appended = measure(kind, work, args.lines, args.grow, args.passes, False)
                for result in (whole, appended):
                    if not result["right"]:
                        wrong = True
                        print(f"WRONG ANSWER: {kind}: the followed run differs from a full import")
                print(f"| {kind} | {whole['parsed']:,.0f} B, {whole['seconds']:.3f} s "
                      f"| {appended['parsed']:,.0f} + {appended['checked']:,.0f} B, "
                      f"{appended['seconds']:.3f} s |")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if wrong:
        sys.exit(1)
    print("all answers right")


if __name__ == "__main__":
    main()
