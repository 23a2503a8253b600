"""Compare's draw time, this checkout beside another one, round by round.

``python benchmarks/compare_paired.py --before ../main --catalog benchmarks/data/scale-100000.db``
opens Compare on the catalog's 8 ``curves`` versions (1,000-step curves) in fresh processes,
alternately with the other checkout's code and with this one's (``PYTHONPATH`` switches the
code; same Python, same catalog, same measuring code), ``--rounds`` times; each process opens
the screen ``--opens`` times at 120×40, headless.  Per open it records two times from the
screen's creation:

- *chart drawn*: the chart's own stamp at the end of its first full ``render`` (what
  ``run.py``'s compare figure reads), and
- *frame out*: the end of the first screen update after that, with the update turned into the
  terminal's bytes as a real terminal would get them (headless Textual skips that step).

The harness waits on those frames rather than polling with ``Pilot.pause`` (each call of which
forces a repaint: frames a terminal would not get, in the middle of the measured time).

and the CPU time spent from creation to frame out, by the whole process and by the UI thread
alone (CPU moves far less than the wall clock on a shared machine; the database thread works
beside the UI thread).  It prints each round's medians and, per figure, after ÷ before as
the median of the per-round ratios.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

FIGURES = ("drawn", "frame", "cpu", "ui")


def open_compare(catalog: Any, opens: int) -> list[dict[str, Any]]:
    """Open Compare on ``catalog``'s 8 ``curves`` versions ``opens`` times at 120×40, headless;
    per open the times (ms) and whether every point of every curve and every ref was drawn."""
    from textual._compositor import CompositorUpdate
    from textual.app import App

    from mltui.tui.app import MltuiApp
    from mltui.tui.screens.compare import CompareScreen
    from mltui.tui.widgets.curves import CurveChart

    frames: list[float] = []
    frame_out = asyncio.Event()
    original_display = App._display

    def display(self, screen, renderable):  # type: ignore[no-untyped-def]
        """Encode the update as a terminal would receive it, then stamp the frame."""
        if isinstance(renderable, CompositorUpdate):
            renderable.render_segments(self.console)
        original_display(self, screen, renderable)
        frames.append(time.perf_counter())
        frame_out.set()

    ids = catalog.version_ids(model="curves")[:8]
    refs = [catalog.ref_of(i) for i in ids]
    steps = len(catalog.metric_history(catalog.versions(ids[:1])[0]["run_id"], "loss"))

    async def measure() -> list[dict[str, Any]]:
        app = MltuiApp(catalog, watch=False, keymap={})
        results = []
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause()
            await app.workers.wait_for_complete()
            for _ in range(opens):
                await pilot.pause(0.1)  # let the previous screen's frames settle
                cpu, ui_cpu = time.process_time(), time.thread_time()
                screen = CompareScreen(ids)
                app.push_screen(screen)
                # Woken by each frame the app sends, as a terminal would receive them: no
                # polling (Pilot.pause forces a repaint each time it is called).
                shown = drawn = None
                while shown is None:
                    frame_out.clear()
                    await asyncio.wait_for(frame_out.wait(), 30)
                    chart = screen.query_one("#chart", CurveChart)
                    if chart.rendered_at is not None and len(chart.curves) == len(ids):
                        drawn = chart.rendered_at
                        shown = next((f for f in frames if f >= drawn), None)
                cpu_used, ui_used = time.process_time() - cpu, time.thread_time() - ui_cpu
                await app.workers.wait_for_complete()
                await pilot.pause()
                text = "\n".join(s.text for s in app.screen._compositor.render_strips())
                results.append({"drawn": (drawn - screen.opened_at) * 1000,
                                "frame": (shown - screen.opened_at) * 1000,
                                "cpu": cpu_used * 1000, "ui": ui_used * 1000,
                                "all_points": all(len(c.points) == steps for c in chart.curves),
                                "all_refs": all(ref in text for ref in refs)})
                app.pop_screen()
                await pilot.pause()
        return results

    App._display = display  # type: ignore[method-assign]
    try:
        return asyncio.run(measure())
    finally:
        App._display = original_display  # type: ignore[method-assign]


def child(catalog_path: Path, opens: int) -> None:
    """Open Compare ``opens`` times with the code on PYTHONPATH; print the times as JSON."""
    from mltui.core.catalog import open_catalog

    catalog = open_catalog(catalog_path)
    results = open_compare(catalog, opens)
    catalog.close()
    if not all(r["all_points"] and r["all_refs"] for r in results):
        raise SystemExit("compare did not draw every curve's points or every version")
    print(json.dumps(results))


def one(code: Path, catalog: Path, opens: int) -> dict[str, float]:
    """One child process with ``code`` on PYTHONPATH; the medians of its opens."""
    done = subprocess.run([sys.executable, __file__, "--child", "--catalog", str(catalog),
                           "--opens", str(opens)],
                          env=dict(os.environ, PYTHONPATH=str(code)), cwd=code,
                          capture_output=True, text=True, check=False)
    if done.returncode:
        raise SystemExit(done.stderr[-2000:] or done.stdout[-2000:])
    opened = json.loads(done.stdout.strip().splitlines()[-1])
    return {figure: statistics.median(o[figure] for o in opened)
            for figure in FIGURES}


def main() -> None:
    """Parse the options; run the rounds; print each round and the median ratios."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", type=Path, help="the other checkout (e.g. ../main)")
    parser.add_argument("--catalog", type=Path, required=True)
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--opens", type=int, default=5, help="opens per process")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.child:
        child(options.catalog, options.opens)
        return
    here = Path(__file__).resolve().parent.parent
    before = options.before.resolve() if options.before else None
    catalog = options.catalog.resolve()
    ratios: dict[str, list[float]] = {figure: [] for figure in FIGURES}
    afters: dict[str, list[float]] = {figure: [] for figure in FIGURES}
    befores: dict[str, list[float]] = {figure: [] for figure in FIGURES}
    for round_number in range(options.rounds):
        # Alternate which side goes first, so a load change mid-round hits both equally.
        order = [("before", before), ("after", here)] if round_number % 2 == 0 \
            else [("after", here), ("before", before)]
        got: dict[str, dict[str, float]] = {}
        for side, code in order:
            if code is not None:
                got[side] = one(code, catalog, options.opens)
        load = os.getloadavg()[0]
        line = f"round {round_number + 1}, load {load:.1f}:"
        for figure in FIGURES:
            afters[figure].append(got["after"][figure])
            line += f"  {figure} {got['after'][figure]:.1f} ms"
            if "before" in got:
                befores[figure].append(got["before"][figure])
                ratios[figure].append(got["after"][figure] / got["before"][figure])
                line += f" (before {got['before'][figure]:.1f})"
        print(line, flush=True)
    for figure in FIGURES:
        summary = f"{figure}: after median {statistics.median(afters[figure]):.1f} ms"
        if ratios[figure]:
            summary += (f", before {statistics.median(befores[figure]):.1f} ms,"
                        f" after/before {statistics.median(ratios[figure]):.2f}")
        print(summary)


if __name__ == "__main__":
    main()
