"""Measure every performance target of SPEC §8, check the answers, compare with MLflow.

    python benchmarks/run.py                      # the full run (generates data the first time)
    python benchmarks/run.py --smoke              # tiny data, correctness only (the test suite)
    python benchmarks/run.py --mlflow-python /path/to/venv/bin/python   # MLflow side by side

Every figure is the median of several runs and is printed next to its target; the exit code
is 1 when one misses (never in ``--smoke``).  Each benchmark also checks its own answer (the
filtered page holds the right ids, the import counted every point, …), so a fast wrong answer
fails whatever the mode.  Timing lives here, never in the test suite.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

import docs_open  # noqa: E402
import generate  # noqa: E402
import make_mlruns  # noqa: E402
import scale  # noqa: E402
import shapes  # noqa: E402
import startup  # noqa: E402
import terminal  # noqa: E402
from mlflow_side import SEARCH_FILTER, SEARCH_ORDER  # noqa: E402

SEARCH_SORT = "metrics." + SEARCH_ORDER.split()[0].split(".", 1)[1]  # mltui spelling of the order


@dataclass
class Result:
    """One measured figure."""

    name: str
    value: float
    unit: str
    target: float | None = None
    higher_is_better: bool = False
    note: str = ""

    @property
    def ok(self) -> bool:
        """Meets its target (or has none)."""
        if self.target is None:
            return True
        return self.value >= self.target if self.higher_is_better else self.value <= self.target

    def line(self) -> str:
        """The figure, its target and the verdict, one line."""
        target = "" if self.target is None else \
            f"{'≥' if self.higher_is_better else '≤'} {_fmt(self.target)} {self.unit}"
        verdict = "" if self.target is None else ("ok" if self.ok else "MISS")
        return f"{self.name:<52} {_fmt(self.value):>10} {self.unit:<9} {target:<20} {verdict:<4} {self.note}"


def _fmt(value: float) -> str:
    """Readable figures: 152,340 · 41.7 · 0.42."""
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.3g}"


@dataclass
class Report:
    """All results of a run."""

    results: list[Result] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    search_page: list[str] | None = None  # run names of mltui's search page (vs MLflow's)
    import_runs: int = 0
    import_bytes: int = 0  # the catalog file after importing the MLflow store

    def add(self, result: Result) -> Result:
        print(result.line(), flush=True)
        self.results.append(result)
        return result

    def check(self, condition: bool, message: str) -> None:
        """A correctness check: a wrong answer is a failure in every mode."""
        if not condition:
            print(f"WRONG ANSWER: {message}", flush=True)
            self.failures.append(message)


def median_time(function, repeat: int) -> tuple[float, object]:
    """Median seconds of ``repeat`` calls, and the last result."""
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


# -- import ------------------------------------------------------------------------------------


def bench_import(report: Report, work: Path, runs: int, repeat: int) -> None:
    """Import an MLflow file store of ``runs`` runs (5 metrics × 100 steps) end to end."""
    from mltui.core.catalog import open_catalog
    from mltui.services.ingest import import_paths

    store = work / "mlruns-store"
    if not store.exists():
        made = make_mlruns.make_mlruns(store, runs=runs)
        print(f"  (made a {runs}-run mlruns/ store: {made})")
    expected_points = runs * 5 * 100
    report.import_runs = runs
    times = []
    for attempt in range(repeat):
        path = work / f"import-{attempt}.db"
        for sibling in work.glob(path.name + "*"):
            sibling.unlink()
        cat = open_catalog(path, create=True)
        started = time.perf_counter()
        summary = import_paths(cat, [store])
        times.append(time.perf_counter() - started)
        report.check(summary.points == expected_points and summary.runs_new == runs,
                     f"import counted {summary.points} points / {summary.runs_new} runs, expected "
                     f"{expected_points} / {runs}")
        report.check(cat.summary()["metric_points"] == expected_points,
                     "the catalog does not hold every imported point")
        again = import_paths(cat, [store])
        report.check(again.runs_new == 0 and again.runs_unchanged == runs,
                     "re-importing the same store changed something")
        if attempt == 0:  # MLflow's search, the same query on the same runs
            search, page = median_time(lambda: cat.run_ids(filter=SEARCH_FILTER,
                                                           sort=SEARCH_SORT, limit=50), 7)
            rows = cat.runs(cat.run_ids(), metric_keys=["acc", "loss"])
            expected = sorted((r for r in rows if (r["metrics"].get("acc") or 0) > 0.1),
                              key=lambda r: r["metrics"]["loss"])[:50]
            report.check(page == [r["id"] for r in expected], "run search page holds the wrong runs")
            report.search_page = [r["name"] for r in cat.runs(page)]
        cat.close()
        if attempt == 0:  # closed: the WAL is checkpointed into the file
            report.import_bytes = sum(p.stat().st_size for p in work.glob(path.name + "*"))
    seconds = statistics.median(times)
    rate = expected_points / seconds
    report.add(Result(f"import mlruns/ ({runs:,} runs, {expected_points:,} points)",
                      rate, "points/s", 150_000, higher_is_better=True, note=f"{seconds:.2f} s"))
    report.add(Result(f"run search, first page ({runs:,} imported runs)", search * 1000, "ms",
                      note=f"{SEARCH_FILTER} ordered by {SEARCH_SORT}, as MLflow's below"))
    keyed = raw_sqlite_rate(work, expected_points, keyed=True)
    plain = raw_sqlite_rate(work, expected_points, keyed=False)
    report.add(Result("raw sqlite3 executemany, point rows keyed (run, key, step)", keyed,
                      "rows/s", note="insert only, one transaction, commit included"))
    report.add(Result("raw sqlite3 executemany, point rows, no key", plain, "rows/s",
                      note="the floor: a heap table, nothing else"))
    report.add(Result("ratio: raw SQLite (keyed rows) / mltui import", keyed / rate, "×", 3,
                      note="SPEC: within 3× of raw SQLite; mltui also reads and parses the files"))


def raw_sqlite_rate(work: Path, rows: int, *, keyed: bool) -> float:
    """Rows/s of plain ``executemany`` of point rows into a fresh table in one transaction,
    commit included: with the key a point table needs (run, key, step), or none at all."""
    import sqlite3

    path = work / "raw.db"
    key = ", PRIMARY KEY (run_id, key, step)" if keyed else ""
    data = [(i // 500, f"metric{(i // 100) % 5}", i % 100, i * 0.5, 1.7e9 + i) for i in range(rows)]
    times = []
    for _ in range(3):
        for sibling in work.glob("raw.db*"):
            sibling.unlink()
        conn = sqlite3.connect(str(path))
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute(f"CREATE TABLE points (run_id INTEGER, key TEXT, step INTEGER, value REAL, "
                     f"wall_time REAL{key})")
        started = time.perf_counter()
        conn.executemany("INSERT INTO points VALUES (?,?,?,?,?)", data)
        conn.commit()
        times.append(time.perf_counter() - started)
        conn.close()
    return rows / statistics.median(times)


# -- the app in a terminal -----------------------------------------------------------------------


def bench_terminal(report: Report, catalog: Path, work: Path, moves: int, sizes) -> None:
    """First screen, memory, key-to-frame time and bytes per cursor move, in a real pty."""
    from mltui.core.catalog import open_catalog

    with open_catalog(catalog) as cat:
        newest = cat.versions(cat.version_ids(limit=2))
        count = cat.summary()["versions"]
    first_ref = f"{newest[0]['model']}@{newest[0]['version']}"  # the table's first row
    first_name = newest[0]["canonical_name"]  # in full only in the detail pane
    for width, height in sizes:
        firsts, completes, memories = [], [], []
        latencies, frame_bytes = [], []
        for attempt in range(3):
            stamp = work / f"stamp-{width}-{attempt}"
            session = terminal.start_app(catalog, width=width, height=height, start="*", stamp=stamp)
            try:
                seen = session.wait_for(first_ref, timeout=60)
                firsts.append(seen - float(stamp.read_text()))
                complete = session.wait_for(first_name, timeout=60)
                completes.append(complete - float(stamp.read_text()))
                screen = terminal.strip_ansi(bytes(session.output))
                report.check("versions of all models" in screen,
                             f"the first screen at {width}x{height} does not show the versions")
                session.drain(0.5)
                memories.append(session.rss_mb())
                if attempt == 0:
                    for _ in range(moves):
                        first_byte, done, size = session.key_frame(b"j")
                        latencies.append(done)
                        frame_bytes.append(size)
                        session.drain(0.4)  # let the detail pane follow before the next key
                    screen = terminal.strip_ansi(bytes(session.output[-20000:]))
                    with open_catalog(catalog) as cat:
                        target = cat.versions(cat.version_ids(limit=moves + 1))[moves]
                    report.check(f"{target['model']}@{target['version']}" in screen,
                                 f"after {moves} moves the detail pane does not show "
                                 f"{target['model']}@{target['version']}")
            finally:
                session.close()
        label = f"{width}x{height}"
        report.add(Result(f"app first screen, {count:,} versions ({label})", statistics.median(firsts),
                          "s", 0.5, note="after imports; the table with its first rows"))
        report.add(Result(f"app detail pane filled too ({label})", statistics.median(completes),
                          "s", note="the pane follows the cursor after a 0.15 s pause"))
        report.add(Result(f"app memory after first screen ({label})", statistics.median(memories),
                          "MB", 250))
        report.add(Result(f"key press to screen update ({label}, median)",
                          statistics.median(latencies) * 1000, "ms", 30))
        report.add(Result(f"bytes per cursor move ({label}, median)", statistics.median(frame_bytes),
                          "bytes", 1024,
                          note=f"mean {statistics.mean(frame_bytes):,.0f}, max {max(frame_bytes):,}"
                               " (half-page jumps)"))
        report.add(Result(f"bytes per cursor move ({label}, mean)", statistics.mean(frame_bytes),
                          "bytes", 1024))


# -- catalog queries -----------------------------------------------------------------------------


def bench_queries(report: Report, catalog: Path, repeat: int) -> None:
    """Filter + sort first page, lineage, promote/rollback, each checked."""
    import sqlite3

    from mltui.core.catalog import open_catalog

    cat = open_catalog(catalog)
    try:
        seconds, page = median_time(lambda: cat.version_ids(filter="metrics.acc > 0.5",
                                                            sort="metrics.loss", limit=50), repeat)
        raw = sqlite3.connect(str(catalog))
        acc = dict(raw.execute("SELECT run_id, last FROM metric_summary WHERE key = 'acc'"))
        loss = dict(raw.execute("SELECT run_id, last FROM metric_summary WHERE key = 'loss'"))
        run_of = dict(raw.execute("SELECT id, run_id FROM model_versions"))
        raw.close()
        expected = sorted((v for v, r in run_of.items() if (acc.get(r) or -1) > 0.5),
                          key=lambda v: (loss.get(run_of[v]) is None, loss.get(run_of[v]) or 0, -v))
        report.check(page == expected[:50], "filter + sort first page holds the wrong ids")
        report.add(Result(f"filter + sort, first page ({len(run_of):,} versions)", seconds * 1000,
                          "ms", 50))

        ids = cat.version_ids(model="model00", limit=5)
        seconds, graph = median_time(lambda: cat.lineage(ids[0], depth=3), repeat)
        kinds = {n["kind"] for n in graph["nodes"].values()}
        report.check({"version", "run", "dataset"} <= kinds, f"lineage misses nodes: {kinds}")
        report.add(Result("lineage of one version, 3 levels each way", seconds * 1000, "ms", 20))

        target = cat.version_ids(model="model00", limit=3)[2]
        before = cat.stage_holder("model00", "production")
        promote_times, rollback_times = [], []
        for _ in range(repeat):
            started = time.perf_counter()
            cat.promote(target, "production", reason="benchmark", force=True)
            promote_times.append(time.perf_counter() - started)
            report.check(cat.stage_holder("model00", "production") == target,
                         "promote did not move production")
            started = time.perf_counter()
            cat.rollback("model00", "production", reason="benchmark")
            rollback_times.append(time.perf_counter() - started)
            report.check(cat.stage_holder("model00", "production") == before,
                         "rollback did not restore production")
        report.check(cat.history(model="model00", limit=1)[0]["reason"] == "benchmark",
                     "the rollback is not in the stage history")
        report.add(Result("promote, committed and recorded", statistics.median(promote_times) * 1000,
                          "ms", 20))
        report.add(Result("rollback, committed and recorded", statistics.median(rollback_times) * 1000,
                          "ms", 20))
    finally:
        cat.close()


def bench_compare(report: Report, catalog: Path, repeat: int) -> None:
    """Open Compare on 8 versions with 1,000-step curves, headless, until the first frame with
    every curve is out (``compare_paired.open_compare``: woken by the app's frames, not by
    polling, which forces extra repaints into the measured time)."""
    from mltui.core.catalog import open_catalog

    try:
        from mltui.tui.screens.compare import CompareScreen  # noqa: F401
    except ImportError:
        print("  (compare screen not available: skipped)")
        return
    import compare_paired

    cat = open_catalog(catalog)
    opened = compare_paired.open_compare(cat, repeat)
    cat.close()
    report.check(all(o["all_points"] for o in opened),
                 "compare did not draw every point of every curve")
    report.check(all(o["all_refs"] for o in opened), "compare does not show all 8 versions")
    report.add(Result("compare 8 versions with 1,000-step curves, drawn",
                      statistics.median(o["frame"] for o in opened), "ms", 150,
                      note=f"chart drawn {statistics.median(o['drawn'] for o in opened):.0f} ms"))


# -- MLflow side by side ---------------------------------------------------------------------------


def bench_mlflow(report: Report, work: Path, python: str, runs: int, mltui_page_ms: float | None) -> None:
    """MLflow's own logging rate and search_runs first page, measured here, next to ours."""
    script = HERE / "mlflow_side.py"
    result = subprocess.run([python, str(script), str(work / "mlflow-side"), "--runs", str(runs)],
                            capture_output=True, text=True, timeout=3600)
    if result.returncode != 0:
        print(f"  (MLflow side failed: {result.stderr.strip().splitlines()[-1:]})")
        return
    data = json.loads(result.stdout.strip().splitlines()[-1])
    if report.search_page is not None and runs == report.import_runs:
        report.check(data["page"] == report.search_page,
                     "MLflow's search page and mltui's differ on the same runs")
    report.add(Result(f"MLflow {data['mlflow_version']}: log_batch into its SQLite store",
                      data["log_rate"], "points/s",
                      note=f"{runs} runs, {data['values']:,} points (+ their params and tags)"))
    report.add(Result("MLflow: fluent log_metrics once per step", data["fluent_rate"], "points/s"))
    report.add(Result("MLflow: log_metric once per value", data["per_call_rate"], "points/s"))
    report.add(Result("MLflow: search_runs first page (filter + order)", data["search_ms"], "ms",
                      note=f"{runs} runs"))
    imported = [r for r in report.results if r.name.startswith("import mlruns/")]
    if imported:
        report.add(Result("ratio: mltui import / MLflow log_batch", imported[0].value / data["log_rate"],
                          "×", 30, higher_is_better=True, note="MLflow's fastest path"))
        report.add(Result("ratio: mltui import / MLflow per-step logging",
                          imported[0].value / data["fluent_rate"], "×", 30, higher_is_better=True))
    if report.import_bytes and data.get("store_bytes") and runs == report.import_runs:
        per_million = 1e6 / data["values"] / 1e6  # MB per million points, from bytes
        report.add(Result("catalog file per million points, mltui", report.import_bytes * per_million,
                          "MB", note=f"the same {runs:,} runs imported"))
        report.add(Result("MLflow SQLite store per million points", data["store_bytes"] * per_million,
                          "MB", note="after log_batch of the same runs"))
    same = next((r.value for r in report.results if r.name.startswith("run search, first page")),
                None)
    if same:
        report.add(Result("ratio: MLflow search / mltui search, same runs", data["search_ms"] / same,
                          "×", note=f"both on the same {runs:,} runs"))
    if mltui_page_ms:
        report.add(Result("ratio: MLflow search / mltui filter+sort page",
                          data["search_ms"] / mltui_page_ms, "×",
                          note="MLflow on its runs, mltui on 100k versions"))


def bench_whole_process(report: Report, args, catalog: Path, work: Path, repeat: int) -> None:
    """What a user waits for: processes from exec, import shapes, cost growth with size."""
    from mltui.demo import build_demo_catalog

    demo = build_demo_catalog(progress=lambda *_: None)
    startup.bench_app_start(report, Result, demo, work, repeat, label="demo catalog", target=1.3)
    startup.bench_read_commands(report, Result, demo, work, repeat)
    docs_open.bench_docs_open(report, Result, demo, work, 1 if args.smoke else 7)
    shapes.bench_shapes(report, Result, work, scale=0.01 if args.smoke else 1.0,
                        repeat=1 if args.smoke else 5)
    if args.smoke:
        small = work / "smaller.db"
        generate.generate(small, versions=200, models=4, steps=5, curve_steps=50,
                          progress=lambda *_: None)
        catalogs = {200: small, 400: catalog}
    else:
        catalogs = {10_000: args.data / "scale-10000.db", 100_000: catalog}
        if args.million:
            catalogs[1_000_000] = args.data / "scale-1000000.db"
        for versions, path in catalogs.items():
            if not path.exists():
                print(f"generating the {versions:,}-version catalog (once)…")
                generate.generate(path, versions=versions)
        if args.million:  # every query figure on the big one too
            bench_queries(report, catalogs[1_000_000], repeat)
            bench_compare(report, catalogs[1_000_000], repeat)
    scale.bench_scale(report, Result, median_time, catalogs, work, repeat)


# -- main -----------------------------------------------------------------------------------------


def run_alone(bench, description: str) -> int:
    """Run one benchmark module alone (``python benchmarks/shapes.py``): its figures, the load
    average beside them (a shared machine), exit 1 on a wrong answer or a missed target."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--smoke", action="store_true", help="tiny data, correctness only")
    args = parser.parse_args()
    print(f"mltui benchmarks — {machine()} — load average {os.getloadavg()}")
    report = Report()
    work = Path(tempfile.mkdtemp(prefix="mltui-bench-"))
    try:
        bench(report, work, args.smoke)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"load average after: {os.getloadavg()}")
    missed = [r.name for r in report.results if not r.ok]
    if report.failures or (missed and not args.smoke):
        print(f"{len(report.failures)} wrong answer(s); missed: {', '.join(missed) or 'none'}")
        return 1
    return 0



def machine() -> dict:
    """Cores, memory, Python and library versions, for BENCHMARKS.md."""
    import sqlite3

    import textual

    memory = "?"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory = f"{int(line.split()[1]) / 1024 / 1024:.0f} GiB"
    except OSError:
        pass
    return {"cores": os.cpu_count(), "memory": memory, "python": platform.python_version(),
            "sqlite": sqlite3.sqlite_version, "textual": textual.__version__,
            "machine": platform.machine(), "date": time.strftime("%Y-%m-%d")}


def main(argv: list[str] | None = None) -> int:
    """Run the benchmarks; returns the exit code."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=HERE / "data", help="where data is kept")
    parser.add_argument("--smoke", action="store_true", help="tiny data, correctness only")
    parser.add_argument("--mlflow-python", default=None,
                        help="a Python with mlflow installed (default: this one, if it has mlflow)")
    parser.add_argument("--json", type=Path, help="also write the results as JSON")
    parser.add_argument("--million", action="store_true",
                        help="also 1,000,000 versions (generated once into --data; long)")
    args = parser.parse_args(argv)

    info = machine()
    print(f"mltui benchmarks — {info}")
    report = Report()
    work = Path(tempfile.mkdtemp(prefix="mltui-bench-"))
    try:
        if args.smoke:
            catalog = work / "smoke.db"
            generate.generate(catalog, versions=400, models=4, steps=5, curve_steps=50,
                              progress=lambda *_: None)
            sizes, moves, repeat, import_runs, mlflow_runs = [(80, 24)], 3, 1, 10, 10
        else:
            catalog = args.data / "big.db"
            if not catalog.exists():
                print("generating the 100,000-version catalog (once, ~40 s)…")
                generate.generate(catalog)
            # MLflow logs the very workload mltui imports: 1,000 runs (about a minute).
            sizes, moves, repeat, import_runs, mlflow_runs = [(80, 24), (120, 40)], 30, 7, 1000, 1000
        bench_import(report, work, import_runs, 1 if args.smoke else 3)
        bench_queries(report, catalog, repeat)
        bench_compare(report, catalog, 1 if args.smoke else 5)
        startup.bench_cli(report, Result, 1 if args.smoke else 5)
        bench_terminal(report, catalog, work, moves, sizes)
        bench_whole_process(report, args, catalog, work, 1 if args.smoke else 5)
        python = args.mlflow_python
        if python is not None and not Path(python).exists():
            print(f"  ({python} does not exist: MLflow side skipped)")
            python = None
        elif python is None:
            has = subprocess.run([sys.executable, "-c", "import mlflow"], capture_output=True)
            python = sys.executable if has.returncode == 0 else None
        if python:
            page = next((r.value for r in report.results if r.name.startswith("filter + sort")), None)
            bench_mlflow(report, work, python, mlflow_runs, page)
        else:
            print("  (mlflow not installed: pip install -e '.[bench]' or pass --mlflow-python)")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    missed = [r for r in report.results if not r.ok]
    if args.json:
        args.json.write_text(json.dumps({"machine": info, "results": [r.__dict__ for r in report.results],
                                         "wrong_answers": report.failures}, indent=2))
    if report.failures:
        print(f"{len(report.failures)} wrong answer(s)")
        return 1
    if missed and not args.smoke:
        print(f"{len(missed)} target(s) missed: {', '.join(r.name for r in missed)}")
        return 1
    print("all answers right" + ("" if args.smoke else ", every target met"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
