"""Following growing runs (issue 14): CPU, bytes to the terminal, and write-to-screen latency.

    PYTHONPATH=. python benchmarks/watch.py [--runs 100] [--seconds 60] [--only app|watch]

A project with ``--runs`` generic JSONL logs under ``runs/`` (the config's ``watch:`` block
names it) is followed by, in turn:

- **the app** (``mltui`` in an 80×24 pty, as over SSH, on the Runs screen, then the live run
  view of one run), and
- **``mltui watch runs/``** (its in-place status table, in the same pty).

For each, two phases of ``--seconds``: *growing* (a writer thread appends one line to every
log each second) and *quiet* (nothing is written: the runs are followed but nothing changes on
screen).  CPU is the followed process's own user+system time (``/proc/PID/stat``, every thread)
over the phase, in % of one core; bytes are everything it wrote to the terminal, per second.
Latency: a distinctive value is appended to one run's log and the clock runs until it is on the
screen (the live run view's "last … at step N"; the watch table's step column), and until it
is in the catalog; median of five.  Targets (the issue): ≤ 5 % of one core and ≤ 2 KB/s when
nothing changes on screen, updates within 2 s of the write.

Answers are checked: after the writer stops, every run holds every written line exactly once
(points counted in the catalog), else WRONG ANSWER and exit 1.  Timing lives here, never in
the test suite; ``--seconds 2 --runs 5`` is the smoke the suite runs.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

import terminal  # noqa: E402
from mltui.core.catalog import open_catalog  # noqa: E402

TICKS = os.sysconf("SC_CLK_TCK")
APP_SCRIPT = """
import sys
from mltui.core.catalog import open_catalog
from mltui.tui.app import MltuiApp
MltuiApp(open_catalog(sys.argv[1])).run()
"""


class Writer:
    """Appends one line to every run's log per tick, on a thread; counts what it wrote."""

    def __init__(self, logs: list[Path]):
        self.logs = logs
        self.lines = {log: 0 for log in logs}
        self.lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def append(self, log: Path, loss: float | None = None) -> int:
        """One line to ``log`` (the next step); returns its step."""
        with self.lock:
            step = self.lines[log] + 1
            value = round(1.0 / (step + 1), 6) if loss is None else loss
            with open(log, "a") as handle:
                handle.write(json.dumps({"step": step, "loss": value, "time": time.time()}) + "\n")
            self.lines[log] = step
        return step

    def start(self, every: float = 1.0) -> None:
        """Grow every log once per ``every`` seconds until :meth:`stop`."""
        def run() -> None:
            while not self._stop.wait(every):
                for log in self.logs:
                    self.append(log)

        self._stop.clear()
        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop growing (waits for the current tick)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process so far (all its threads)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def measure(session: terminal.Session, seconds: float) -> tuple[float, float]:
    """(% of one core, bytes/s to the terminal) over ``seconds`` of reading the pty."""
    session.drain(quiet=0.5, limit=10)
    cpu0, bytes0, began = cpu_seconds(session.pid), len(session.output), time.monotonic()
    while time.monotonic() - began < seconds:
        session.read(0.1)
    elapsed = time.monotonic() - began
    return (100 * (cpu_seconds(session.pid) - cpu0) / elapsed,
            (len(session.output) - bytes0) / elapsed)


def catalog_points(catalog: Path) -> dict[str, int]:
    """Points of ``loss`` per run name, read through the public API."""
    cat = open_catalog(catalog)
    try:
        runs = cat.runs(cat.run_ids())
        counts = {}
        for row in runs:
            history = cat.metric_history(row["id"], "loss")
            counts[row["name"]] = len(history)
        return counts
    finally:
        cat.close()


def latency(session: terminal.Session, writer: Writer, log: Path, catalog: Path, shown,
            repeat: int) -> tuple[float, float]:
    """Median seconds from an append to (screen, catalog); ``shown(step, value)`` is the
    pattern of the text that proves the new point is on screen."""
    to_screen, to_catalog = [], []
    for index in range(repeat):
        value = round(0.4321 + index / 10_000, 4)
        session.drain(quiet=0.3, limit=5)
        mark = len(session.output)
        written = time.time()
        step = writer.append(log, value)
        needle = shown(step, value)
        seen = None
        stored = None
        deadline = time.monotonic() + 60
        while (seen is None or stored is None) and time.monotonic() < deadline:
            session.read(0.02)
            if seen is None and re.search(needle, terminal.strip_ansi(bytes(session.output[mark:]))):
                seen = time.time()
            if stored is None and catalog_points(catalog).get(log.stem, 0) >= step:
                stored = time.time()
        if seen is None or stored is None:
            raise SystemExit(f"WRONG ANSWER: {needle!r} never reached the screen/catalog")
        to_screen.append(seen - written)
        to_catalog.append(stored - written)
    return statistics.median(to_screen), statistics.median(to_catalog)


def project(work: Path, runs: int) -> tuple[Path, Writer, dict[str, str]]:
    """A fresh catalog, ``runs`` logs of 3 lines each (the config's watch follows them), their
    writer, and the environment the followed process runs in."""
    catalog = work / ".mltui" / "catalog.db"
    open_catalog(catalog, create=True).close()
    (catalog.parent / "config.yaml").write_text("watch:\n  paths: [runs]\n  stall_after: 600\n")
    (work / "runs").mkdir()
    writer = Writer([work / "runs" / f"run{index:03d}.jsonl" for index in range(runs)])
    for log in writer.logs:
        for _ in range(3):
            writer.append(log)
    return catalog, writer, {"MLTUI_CONFIG": "/nonexistent",
                             "PYTHONPYCACHEPREFIX": str(work / "pycache")}


def growing_then_quiet(session: terminal.Session, catalog: Path, writer: Writer, label: str,
                       runs: int, seconds: float) -> list[str]:
    """The growing phase, the answer check, the quiet phase: two figure lines."""
    writer.start()
    cpu, rate = measure(session, seconds)
    lines = [row(f"{label}, {runs} growing runs", cpu, rate)]
    writer.stop()
    check_answers(catalog, writer)
    cpu, rate = measure(session, seconds)
    return lines + [row(f"{label}, {runs} runs, nothing changes", cpu, rate, True)]


def check_answers(catalog: Path, writer: Writer, wait: float = 60) -> None:
    """Every written line is in the catalog exactly once (waits for the last pass)."""
    expected = {log.stem: count for log, count in writer.lines.items()}
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        if catalog_points(catalog) == expected:
            return
        time.sleep(0.5)
    found = catalog_points(catalog)
    wrong = {k: (found.get(k), v) for k, v in expected.items() if found.get(k) != v}
    raise SystemExit(f"WRONG ANSWER: points (found, written) differ for {len(wrong)} run(s): "
                     f"{dict(list(wrong.items())[:3])}")


def bench_app(work: Path, runs: int, seconds: float, repeat: int) -> list[str]:
    """The app following the config's folder: Runs screen, then one run's live view."""
    catalog, writer, env = project(work, runs)
    session = terminal.spawn([sys.executable, "-c", APP_SCRIPT, str(catalog)], width=80,
                             height=24, env=env)
    lines = []
    try:
        session.wait_for("Runs", timeout=60)
        os.write(session.fd, b"R")
        session.wait_for("LIVE", timeout=60)
        lines += growing_then_quiet(session, catalog, writer, "app, Runs screen", runs, seconds)
        os.write(session.fd, b"\r")  # the top run's live view
        session.wait_for("curve loss", timeout=60)
        cpu, rate = measure(session, seconds)
        lines.append(row(f"app, live run view, {runs} runs, nothing changes", cpu, rate, True))
        top = top_run(catalog)
        shown = lambda step, value: re.escape(f"last {value:g} at step {step}")  # noqa: E731
        lines.append(latency_row("app, write → live run view / → catalog", *latency(
            session, writer, work / "runs" / f"{top}.jsonl", catalog, shown, repeat)))
    finally:
        writer.stop()
        session.close()
    return lines


def top_run(catalog: Path) -> str:
    """The run the Runs screen lists first (newest start): the one enter opens."""
    cat = open_catalog(catalog)
    try:
        return cat.runs(cat.live_run_ids(since=0))[0]["name"]
    finally:
        cat.close()


def bench_watch(work: Path, runs: int, seconds: float, repeat: int) -> list[str]:
    """``mltui watch runs/`` with its live table in the same pty."""
    catalog, writer, env = project(work, runs)
    mltui = Path(sys.executable).with_name("mltui")
    session = terminal.spawn([str(mltui), "--catalog", str(catalog), "watch", str(work / "runs"),
                              "--interval", "1"], width=80, height=24, env=env)
    lines = []
    try:
        session.wait_for("run000", timeout=60)
        lines += growing_then_quiet(session, catalog, writer, "mltui watch", runs, seconds)
        log = writer.logs[0]  # run000: the table's first row (running first, then by name)
        shown = lambda step, value: rf"run000\s+generic\s+{step}\b"  # noqa: E731
        lines.append(latency_row("mltui watch, write → table / → catalog",
                                 *latency(session, writer, log, catalog, shown, repeat)))
    finally:
        writer.stop()
        session.close()
    return lines


def latency_row(name: str, screen: float, stored: float) -> str:
    """One latency line: to the screen, to the catalog."""
    return f"{name:<52} {screen:8.2f} s {stored:8.2f} s   (target <= 2 s)"


def row(name: str, cpu: float, rate: float, quiet: bool = False) -> str:
    """One figure line; the targets apply to the quiet phases."""
    target = "   (target <= 5 %, <= 2,048 B/s)" if quiet else ""
    return f"{name:<52} {cpu:8.1f} % {rate:10,.0f} B/s{target}"


def main() -> None:
    """Print each figure next to its target."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=60.0, help="length of each phase")
    parser.add_argument("--repeat", type=int, default=5, help="latency samples (median)")
    parser.add_argument("--only", choices=("app", "watch"))
    args = parser.parse_args()
    print(f"following {args.runs} runs, {args.seconds:g} s per phase, 80x24 pty")
    with tempfile.TemporaryDirectory(prefix="mltui-watch-bench-") as folder:
        for name, bench in (("app", bench_app), ("watch", bench_watch)):
            if args.only in (None, name):
                for line in bench(Path(folder) / name, args.runs, args.seconds, args.repeat):
                    print(line, flush=True)
    print("all answers right")


if __name__ == "__main__":
    main()
