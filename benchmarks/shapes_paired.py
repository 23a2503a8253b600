"""Import speed per data shape, this checkout beside another one, round by round.

``python benchmarks/shapes_paired.py --before ../main`` writes each shape of
``benchmarks/shapes.py`` once, then imports it in fresh processes, alternately with the other
checkout's code and with this one's (``PYTHONPATH`` switches the code; same Python, same
files), ``--rounds`` times; each process imports twice and parses the files with the C parsers
(the floor).  It prints, per shape, points/s before and after by wall clock and by the
process's own CPU time, the floor, and after ÷ before as the median of the per-round ratios.

On a shared machine the wall clock of one import swings 2× between consecutive runs; the
process's CPU time moves by about ±10 %, so its ratios are the figures to read there.  CPU
time counts the process and the children it waited for (the MLflow reader's one fork), so a
second process shows as the CPU it costs, not as CPU saved.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def cpu_seconds() -> float:
    """CPU time of this process and of the children it has waited for (a reader's fork)."""
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


def child(number: int, data: Path, attempts: int) -> None:
    """Import shape ``number`` from ``data`` ``attempts`` times with the code on PYTHONPATH."""
    sys.path.insert(0, str(HERE))
    import shapes

    from mltui.core.catalog import open_catalog
    from mltui.services.ingest import import_paths

    shape = shapes.shapes(1.0)[number]
    walls, cpus, points = [], [], 0
    for _ in range(attempts):
        folder = Path(tempfile.mkdtemp())
        try:
            catalog = open_catalog(folder / "catalog.db", create=True)
            shapes.cold_caches()
            started, cpu = time.perf_counter(), cpu_seconds()
            summary = import_paths(catalog, [data])
            walls.append(time.perf_counter() - started)
            cpus.append(cpu_seconds() - cpu)
            points = catalog.summary()["metric_points"]
            if points != summary.points:
                raise SystemExit(f"{shape.name}: stored {points}, imported {summary.points}")
            catalog.close()
        finally:
            shutil.rmtree(folder)
    cpu = cpu_seconds()
    floor = shapes.parse_floor(data, shape.floor)
    print(json.dumps({"shape": shape.name, "points": points, "wall": walls, "cpu": cpus,
                      "floor": floor, "floor_cpu": cpu_seconds() - cpu}))


def one(code: Path, number: int, data: Path) -> dict:
    """One child process with ``code`` on PYTHONPATH; its JSON answer."""
    done = subprocess.run([sys.executable, __file__, "--child", str(number), "--data", str(data)],
                          env=dict(os.environ, PYTHONPATH=str(code)), cwd=code,
                          capture_output=True, text=True, check=False)
    if done.returncode:
        raise SystemExit(done.stderr[-2000:])
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    """Parse the options; run every shape paired; print one line per shape."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", type=Path, help="the other checkout (e.g. ../main)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--shapes", default="0,1,2,3,4,5,6", help="shape numbers, comma-separated")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.child is not None:
        child(options.child, options.data, attempts=2)
        return
    if options.before is None:
        parser.error("--before is required")
    sys.path.insert(0, str(HERE))
    import shapes

    trees = {"before": options.before.resolve(), "after": HERE.parent}
    print(f"load average {os.getloadavg()}", flush=True)
    with tempfile.TemporaryDirectory() as work:
        for number in (int(n) for n in options.shapes.split(",")):
            data = Path(work) / f"shape-{number}"
            shapes.shapes(1.0)[number].write(data)
            runs: dict[str, list[dict]] = {"before": [], "after": []}
            for round_ in range(options.rounds):
                for side in ("before", "after") if round_ % 2 == 0 else ("after", "before"):
                    runs[side].append(one(trees[side], number, data))
            print(report(runs), flush=True)
            shutil.rmtree(data)


def report(runs: dict[str, list[dict]]) -> str:
    """One shape's line: wall and CPU points/s before and after, the floor, the ratios."""
    points = runs["after"][0]["points"]
    line = runs["after"][0]["shape"] + ":"
    for clock, floor_key in (("wall", "floor"), ("cpu", "floor_cpu")):
        per = {side: [statistics.median(r[clock]) for r in found] for side, found in runs.items()}
        floor = statistics.median(r[floor_key] for found in runs.values() for r in found)
        ratios = [b / a for b, a in zip(per["before"], per["after"])]
        before, after = statistics.median(per["before"]), statistics.median(per["after"])
        line += (f" [{clock}] before {points / before:,.0f}/s, after {points / after:,.0f}/s, "
                 f"floor {points / floor:,.0f}/s, after ÷ floor time {after / floor:.2f}×, "
                 f"speed-up {statistics.median(ratios):.2f} ({', '.join(f'{r:.2f}' for r in ratios)});")
    return line + f" load {os.getloadavg()[0]:.1f}"


if __name__ == "__main__":
    main()
