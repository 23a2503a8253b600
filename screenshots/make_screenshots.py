"""Regenerate the SVG screenshots in this folder from the sample project's demo catalog.

    python screenshots/make_screenshots.py

The demo catalog is built in a temporary folder with a fixed clock, so the pictures change only
when the app or the sample project does.  Each shot drives the real app with key presses.
"""

from __future__ import annotations

import asyncio
import importlib.util
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

END = 1_795_000_000.0  # 2026-11-18: the demo's history ends here; ages are relative to it

FRAUD = ["tab", "down", "tab"]  # model list: all versions, churn (first selected), fraud

# name, size, keys (after the app has settled), extra settle seconds
SHOTS = [
    ("browse", (120, 40), FRAUD + ["down", "down"]),
    ("browse-80x24", (80, 24), FRAUD + ["down", "down"]),
    ("browse-60x20", (60, 20), FRAUD + ["down", "down"]),
    ("browse-all-versions", (120, 40), ["tab", "home", "tab"]),
    ("filter", (120, 40), FRAUD + ["slash", *"metrics.f1 > 0.5 and metrics.latency_ms < 15",
                                   "enter"]),
    ("detail", (120, 40), FRAUD + ["down", "down", "enter"]),
    ("compare", (120, 40), FRAUD + ["space", "down", "space", "down", "space", "c"]),
    ("compare-80x24", (80, 24), FRAUD + ["space", "down", "space", "down", "space", "c"]),
    ("lineage", (120, 40), FRAUD + ["l", "v"]),
    ("docs", (120, 40), FRAUD + ["down", "down", "e"]),
    ("promote", (120, 40), FRAUD + ["down", "p"]),
    ("promote-blocked", (120, 40), FRAUD + ["end", "p"]),
    ("promote-blocked-80x24", (80, 24), FRAUD + ["end", "p", *"try it", "enter"]),
    ("promote-blocked-60x20", (60, 20), FRAUD + ["end", "p", *"try it", "enter"]),
    ("rollback", (120, 40), FRAUD + ["r"]),
    ("history", (120, 40), FRAUD + ["h"]),
    ("runs", (120, 40), FRAUD + ["R"]),
    ("help", (120, 40), FRAUD + ["question_mark"]),
    ("production", (120, 40), FRAUD + ["P"]),
    ("production-80x24", (80, 24), FRAUD + ["P"]),
]


# Taken after a run caught mid-training is added (see add_live_run); the app is opened on fraud,
# whose production the live view compares with.
LIVE_SHOTS = [
    ("runs-live", (120, 40), ["R"]),
    ("liverun", (120, 40), ["R", "enter"]),
    ("liverun-80x24", (80, 24), ["R", "enter"]),
]


def add_live_run(catalog_path: Path, steps: int = 26, total: int = 40) -> None:
    """A fraud candidate still training: f1 climbing past production's, a point every 3 s."""
    import math

    from mltui.core.catalog import open_catalog
    from mltui.core.records import ImportSummary
    from mltui.core.records import ImportBatch, MetricPoint, RunRecord

    points = []
    for step in range(steps):
        wall = END - 3 * (steps - 1 - step)
        points += [MetricPoint("f1", round(0.22 + 0.16 * (1 - math.exp(-step / 9)), 4), step=step,
                               wall_time=wall),
                   MetricPoint("loss", round(0.69 * math.exp(-step / 30), 4), step=step,
                               wall_time=wall),
                   MetricPoint("latency_ms", 10.9, step=step, wall_time=wall)]
    run = RunRecord(uid="c0ffee" * 5 + "00", source_format="generic",
                    source_path="runs/fraud-focal-loss/metrics.jsonl", name="fraud-focal-loss",
                    project="fraud", params={"max_steps": str(total), "lr": "0.0003"},
                    metrics=points, fingerprint=f"live-{steps}")
    catalog = open_catalog(catalog_path, clock=lambda: END, actor="dana")
    catalog.write_import([ImportBatch("generic", run.source_path, runs=[run])], ImportSummary())
    catalog.close()


def build_demo(folder: Path) -> Path:
    """The sample project's catalog, built with the fixed end time."""
    spec = importlib.util.spec_from_file_location("build_demo", ROOT / "sample_project" / "build_demo.py")
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(module)
    return module.build(folder, end=END, progress=lambda *_: None)


async def settle(pilot) -> None:
    """Let workers finish and timers (the detail pane's pause) fire."""
    for _ in range(3):
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
    await pilot.pause(0.4)
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def shoot(catalog_path: Path, name: str, size: tuple[int, int], keys: list[str],
                start: str | None = None) -> Path:
    """Open the app (on model ``start``), press the keys, save ``name.svg``."""
    from mltui.core.catalog import open_catalog
    from mltui.tui.app import MltuiApp

    catalog = open_catalog(catalog_path, clock=lambda: END, actor="dana")
    app = MltuiApp(catalog, watch=False, keymap={}, start=start)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        for key in keys:
            await pilot.press(key)
            await pilot.pause()
            await pilot.app.workers.wait_for_complete()
        await settle(pilot)
        target = HERE / f"{name}.svg"
        app.save_screenshot(filename=target.name, path=str(HERE))
    catalog.close()
    return target


def main() -> None:
    """Build the demo catalog and take every shot."""
    import os

    os.environ.pop("NO_COLOR", None)
    with tempfile.TemporaryDirectory(prefix="mltui-shots-") as folder:
        catalog = build_demo(Path(folder))  # with its production story: serving logs, a monitor, an alert
        for name, size, keys in SHOTS:
            path = asyncio.run(shoot(catalog, name, size, keys))
            print(path.relative_to(ROOT))
        add_live_run(catalog)
        for name, size, keys in LIVE_SHOTS:
            path = asyncio.run(shoot(catalog, name, size, keys, start="fraud"))
            print(path.relative_to(ROOT))


if __name__ == "__main__":
    main()
