"""Cost growth: the same figures on catalogs of 10k, 100k and (with ``--million``) 1M versions.

For each size: importing a fixed 50,000-point MLflow store into a copy of the catalog (does an
import slow down as the catalog grows?), the app's whole-process start to its first rows beside
the minimal Textual app, filter + sort of the first page, the app's memory with every version
listed, and the catalog's bytes per million metric points.  One table at the end makes
the growth visible; ``growth`` names it (flat, log or linear) from the 10× steps.
"""

from __future__ import annotations

import os
import shutil
import statistics
import sys
import time
from pathlib import Path

import shapes
import startup
import terminal

# Start ratios swing by ±0.2 in 5 pairs on the shared machine: the starts get 9.
START_PAIRS = 9


def app_memory(catalog: Path, work: Path, versions: int) -> float:
    """Resident MB of the app on all versions of all models, once it holds every id.

    The worst case of the first screen: ``--all`` puts the whole ordered id list in the table;
    the title's count loses its ``+`` when the list is complete.
    """
    session = terminal.spawn(startup.mltui_argv("--catalog", str(catalog), "--all"), width=80,
                             height=24, env=startup.process_env(work))
    try:
        session.wait_for(f"all models  {versions:,}", timeout=300)
        session.drain(0.5)
        return session.rss_mb()
    finally:
        session.close()


def import_into(catalog: Path, work: Path, store: Path, points: int, report) -> float:
    """Seconds to import ``store`` into a copy of ``catalog`` (checked)."""
    from mltui.core.catalog import open_catalog
    from mltui.services.ingest import import_paths

    copy = work / "grow.db"
    for sibling in work.glob("grow.db*"):
        sibling.unlink()
    shutil.copyfile(catalog, copy)
    # The copy's pages (4.7 GB at a million versions) are still being written back: timed
    # alongside, they made this import 5× slower (1.1 s instead of 0.22 s at 1 M).
    os.sync()
    with open_catalog(copy) as cat:
        before = cat.summary()["metric_points"]
        started = time.perf_counter()
        summary = import_paths(cat, [store])
        seconds = time.perf_counter() - started
        after = cat.summary()["metric_points"]
    report.check(summary.points == points and after - before == points,
                 f"import into {catalog.name}: {summary.points:,} points counted, "
                 f"{after - before:,} stored, expected {points:,}")
    for sibling in work.glob("grow.db*"):
        sibling.unlink()
    return seconds


def growth(values: list[float]) -> str:
    """Flat, log or linear, from a figure measured at sizes ten times apart."""
    steps = [b / a for a, b in zip(values, values[1:]) if a > 0]
    if not steps:
        return "?"
    worst = max(steps)
    if worst < 1.5:
        return "flat"
    if worst < 4:
        return "log"
    return "linear" if worst < 15 else "worse than linear"


def bench_scale(report, Result, median_time, catalogs: dict[int, Path], work: Path,
                repeat: int) -> None:
    """The growth table over ``catalogs`` (versions → file), each figure also a Result."""
    from mltui.core.catalog import open_catalog

    store = work / "grow-store"
    points = shapes.write_mlflow(store, runs=100, metrics=5, steps=100, git=True, irregular=False,
                                 full_precision=True)
    table: dict[str, list[float]] = {"import 50,000 points into it (s)": [],
                                     "app exec to first rows (s)": [],
                                     "… / minimal Textual app (×)": [],
                                     "filter + sort, first page (ms)": [],
                                     "app memory, all versions listed (MB)": [],
                                     "catalog MB per million points": []}
    sizes = sorted(catalogs)
    for versions in sizes:
        catalog = catalogs[versions]
        label = f"{versions:,} versions"
        table["import 50,000 points into it (s)"].append(
            statistics.median(import_into(catalog, work, store, points, report)
                              for _ in range(max(1, repeat // 2))))
        with open_catalog(catalog) as cat:
            stored = cat.summary()["metric_points"]
            seconds, page = median_time(lambda: cat.version_ids(filter="metrics.acc > 0.5",
                                                            sort="metrics.loss", limit=50), repeat)
            report.check(len(page) == 50, f"filter + sort on {label} did not fill a page")
        table["filter + sort, first page (ms)"].append(seconds * 1000)
        needle = startup.first_row_needle(catalog)
        minimal = work / "minimal_app.py"
        minimal.write_text(startup.MINIMAL_APP)
        env = startup.process_env(work)
        floor, app, ratio, screen = startup.paired(
            lambda: startup.first_screen([sys.executable, str(minimal)], startup.MINIMAL_NEEDLE,
                                         env),
            lambda: startup.first_screen(startup.mltui_argv("--catalog", str(catalog)), needle,
                                         env, timeout=120), START_PAIRS if repeat > 1 else 1)
        report.check(needle in screen, f"the app's first screen on {label} misses {needle!r}")
        table["app exec to first rows (s)"].append(app)
        table["… / minimal Textual app (×)"].append(ratio)
        with open_catalog(catalog) as cat:
            count = cat.summary()["versions"]
        table["app memory, all versions listed (MB)"].append(app_memory(catalog, work, count))
        size = sum(p.stat().st_size for p in catalog.parent.glob(catalog.name + "*"))
        table["catalog MB per million points"].append(size / 1e6 / (stored / 1e6))
        report.add(Result(f"ratio: app start / minimal Textual app ({label})", ratio, "×",
                          1.5 if versions >= 1_000_000 else None, note="median of paired runs"))
        report.add(Result(f"app memory, all versions listed ({label})",
                          table["app memory, all versions listed (MB)"][-1], "MB",
                          300 if versions >= 1_000_000 else None))
        report.add(Result(f"catalog file per million points ({label})",
                          table["catalog MB per million points"][-1], "MB",
                          note=f"{size / 1e6:,.0f} MB for {stored:,} points"))
    header = f"{'figure':<36}" + "".join(f"{f'{v:,}':>12}" for v in sizes) + "   growth"
    print("\ncost growth, versions →\n" + header)
    for name, values in table.items():
        shape = growth(values) if "×" not in name and "per million" not in name else ""
        print(f"{name:<36}" + "".join(f"{v:>12.3g}" for v in values) + f"   {shape}")
    print()



def _alone(report, work: Path, smoke: bool) -> None:
    """The growth table over generated catalogs; with ``MLTUI_BENCH_MILLION=1`` the 1 M one
    too, and every query figure and Compare measured on it (``run.py --million`` runs the
    same, among everything else)."""
    import os

    import generate
    import run

    data = Path(__file__).resolve().parent / "data"
    if smoke:
        catalogs = {}
        for versions in (200, 400):
            catalogs[versions] = work / f"smoke-{versions}.db"
            generate.generate(catalogs[versions], versions=versions, models=4, steps=5,
                              curve_steps=50, progress=lambda *_: None)
    else:
        catalogs = {10_000: data / "scale-10000.db", 100_000: data / "big.db"}
        if os.environ.get("MLTUI_BENCH_MILLION"):
            catalogs[1_000_000] = data / "scale-1000000.db"
        for versions, path in catalogs.items():
            if not path.exists():
                print(f"generating the {versions:,}-version catalog (once)…")
                generate.generate(path, versions=versions)
    biggest = catalogs[max(catalogs)]
    repeat = 1 if smoke else 5
    run.bench_queries(report, biggest, repeat)
    run.bench_compare(report, biggest, repeat)
    bench_scale(report, run.Result, run.median_time, catalogs, work, repeat)


if __name__ == "__main__":
    # This module alone: python benchmarks/scale.py [--smoke]  (MLTUI_BENCH_MILLION=1: 1 M too)
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import run

    sys.exit(run.run_alone(_alone, "cost growth: 10k / 100k (/ 1M) versions"))
