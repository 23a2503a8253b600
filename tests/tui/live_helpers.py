"""A training run caught mid-write, for the live views' tests: written as an import would."""

from __future__ import annotations

from mltui.core.catalog import Catalog
from mltui.core.records import ImportBatch, ImportSummary, MetricPoint, RunRecord
from tests.conftest import FROZEN_NOW


def write_live_run(cat: Catalog, *, steps: int = 40, name: str = "sweep-live",
                   max_steps: int | None = 100, wall_times: bool = True,
                   status: str | None = None, uid: str = "ff" * 16,
                   f1_at=lambda step: round(0.5 + 0.4 * (1 - 0.93 ** step), 4)) -> int:
    """A run of ``steps`` steps of f1 and loss (each epoch 10 steps, a step every 2 s of wall
    time), with ``max_steps`` recorded as a param; returns its id.  Calling it again with more
    steps is the log growing."""
    points = []
    for step in range(1, steps + 1):
        wall = FROZEN_NOW - 2 * (steps - step) if wall_times else None
        points.append(MetricPoint("f1", f1_at(step), step=step, epoch=step / 10, wall_time=wall))
        points.append(MetricPoint("loss", round(1.0 * 0.95 ** step, 4), step=step,
                                  epoch=step / 10, wall_time=wall))
    params = {"lr": "0.01"} | ({"max_steps": str(max_steps)} if max_steps else {})
    run = RunRecord(uid=uid, source_format="generic", source_path=f"/runs/{name}/log.jsonl",
                    name=name, project="payments", status=status, params=params,
                    metrics=points, fingerprint=f"{name}-{steps}",
                    start_time=FROZEN_NOW - 2 * steps)
    batch = ImportBatch("generic", run.source_path, runs=[run])
    cat.write_import([batch], ImportSummary())
    return cat.run_ids(filter=f"attributes.name = '{name}'")[0]


async def press_and_read(pilot, *keys: str) -> list[str]:
    """Settle, press ``keys`` (settling after each), and return the screen's lines."""
    from tests.tui.conftest import screen_text, settle

    await settle(pilot)
    for key in keys:
        await pilot.press(key)
        await settle(pilot)
    return screen_text(pilot.app).splitlines()
