"""Docs opens in ≤ 150 ms: from ``e`` on Browse to the editor painted with the document's text.

Measured as a user sees it: the real app in an 80×24 pty, a fresh process for each sample (so
the figure is the *first* open, imports and all), from writing the key to the first bytes that
show the document's first line.  The app waits on the Browse screen (detail pane filled, output
quiet) before the key is sent.

    python benchmarks/docs_open.py [--catalog PATH] [--repeat 7]

(without ``--catalog``: the demo catalog).  ``run.py`` calls :func:`bench_docs_open`.  To
compare two trees, run it from outside both with ``PYTHONPATH=<tree>``: ``python -c`` puts the
current folder first on the app's path.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import startup  # noqa: E402
import terminal  # noqa: E402

TARGET_MS = 150.0


def docs_needles(catalog: Path) -> tuple[str, str, str]:
    """(the model the app opens on, a needle of its first screen, the first line of the docs of
    the first row — what the editor shows once it is painted)."""
    from mltui.core.catalog import open_catalog

    with open_catalog(catalog) as cat:
        model = cat.models()[0]["name"]
        first = cat.versions(cat.version_ids(model=model, limit=1))[0]
        doc = cat.get_doc(f"{model}@{first['version']}")
    line = next(line for line in doc["text"].splitlines() if line.strip())
    return model, first["canonical_name"][:12], line.strip()[:40]


def cpu_seconds(pid: int) -> float:
    """CPU time of every thread of ``pid`` so far (``/proc/PID/task/*/schedstat``, in ns).

    On a shared machine the wall-clock figure swings with other people's load (a key can wait
    50 ms for a core); the CPU the app spends between the key and the painted text does not.
    """
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            total += int((task / "schedstat").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            pass  # a thread that ended meanwhile
    return total / 1e9


def open_docs_once(catalog: Path, work: Path, model: str, first_screen: str,
                   doc_line: str, *, idle: float = 0.5) -> tuple[float, float]:
    """(wall seconds, app CPU seconds) from ``e`` to the document's first line on screen, in a
    fresh app process.

    ``e`` is sent once the first rows are on screen and the output has been quiet for ``idle``
    seconds (0: the moment the first rows show, before any background work of the app).
    """
    session = terminal.start_app(catalog, width=80, height=24, start=model,
                                 stamp=work / "stamp", env=startup.process_env(work))
    try:
        session.wait_for(first_screen, timeout=60)
        if idle:
            session.drain(idle)  # the detail pane filled, the app idle
        mark = len(session.output)
        cpu = cpu_seconds(session.pid)
        os.write(session.fd, b"e")
        sent = time.monotonic()
        deadline = sent + 30
        while time.monotonic() < deadline:
            session.read(0.002)
            if doc_line in terminal.strip_ansi(bytes(session.output[mark:])):
                return time.monotonic() - sent, cpu_seconds(session.pid) - cpu
        raise TimeoutError(f"the docs editor did not show {doc_line!r}")
    finally:
        session.close()


def bench_docs_open(report, Result, catalog: Path, work: Path, repeat: int
                    ) -> dict[str, list[float]]:
    """Report the median first open of Docs at 80×24 (``repeat`` fresh processes + 1 warm-up),
    with ``e`` pressed once Browse is idle, and the moment its first rows show."""
    model, first_screen, doc_line = docs_needles(catalog)
    open_docs_once(catalog, work, model, first_screen, doc_line)  # bytecode, file caches
    ways = {"Browse idle": 0.5, "e the moment the first rows show": 0.0}
    found: dict[str, list[float]] = {}
    for _ in range(repeat):  # alternated: the load of a shared machine hits both alike
        for way, idle in ways.items():
            wall, cpu = open_docs_once(catalog, work, model, first_screen, doc_line, idle=idle)
            found.setdefault(way, []).append(wall * 1000)
            found.setdefault(f"{way}, app CPU", []).append(cpu * 1000)
    if report is not None:
        for way, times in found.items():
            report.add(Result(f"Docs first open, e to the text painted (80x24, {way})",
                              statistics.median(times), "ms",
                              TARGET_MS if idle_way(way) else None,
                              note=f"median of {repeat} fresh processes; min {min(times):.0f}, "
                                   f"max {max(times):.0f}"))
    return found


def idle_way(way: str) -> bool:
    """Whether ``way`` is the measurement the target is about (a user who looked first)."""
    return way == "Browse idle"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--catalog", type=Path, help="a catalog (default: the demo's)")
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    catalog = args.catalog
    if catalog is None:
        from mltui.demo import build_demo_catalog

        catalog = build_demo_catalog(progress=lambda *_: None)
    with tempfile.TemporaryDirectory() as folder:
        found = bench_docs_open(None, None, catalog, Path(folder), args.repeat)
    for way, times in found.items():
        print(f"Docs first open at 80x24 ({way}): median {statistics.median(times):.0f} ms "
              f"(min {min(times):.0f}, max {max(times):.0f}, {len(times)} fresh processes"
              + (f"; target {TARGET_MS:.0f} ms)" if idle_way(way) else ")"))


if __name__ == "__main__":
    main()
