"""Fixtures for the app's tests: a seeded catalog with hostile strings, a frozen clock, helpers.

The catalog is built through the public API with a ticking clock (so events are ordered), then
reopened with a frozen clock for the app, so ages and snapshots never change.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from mltui.core.catalog import Catalog, open_catalog
from tests.conftest import FROZEN_NOW, TickingClock

HOSTILE_RUN_NAME = "[/]"
HOSTILE_TAG = "[bold red]x"
HOSTILE_PARAM = "\x1b[31mred\x1b[0m"
HOSTILE_DOC = "# Notes\n\nSee [link=https://example.com]the report[/link] and [b]this[/b].\n"


def build_tui_catalog(path: Path) -> Path:
    """fraud@1..4 (curves, data, gates, a promotion history), vision@1..2 (hostile strings),
    and one unregistered run."""
    data = path.parent / "data"
    data.mkdir(parents=True, exist_ok=True)
    (data / "train.csv").write_text("amount,label\n1,0\n2,1\n3,0\n")
    (data / "eval.csv").write_text("amount,label\n4,1\n")
    cat = open_catalog(path, create=True, clock=TickingClock(start=FROZEN_NOW - 40 * 86_400,
                                                               step=3_600.0), actor="ana")
    specs = [
        ("baseline", 0.78, 0.52, "0.01", "adam", 1.0),
        ("wider", 0.84, 0.41, "0.01", "adam", 2.0),
        ("more-data", 0.88, 0.35, "0.02", "sgd", 2.0),
        ("distilled", 0.81, 0.44, "0.02", "sgd", 0.5),
    ]
    for index, (name, f1, loss, lr, optimizer, width) in enumerate(specs):
        curve_f1 = [round(f1 * (1 - 0.5 * 0.8 ** step), 4) for step in range(20)]
        curve_loss = [round(loss * (1 + 2 * 0.8 ** step), 4) for step in range(20)]
        run = cat.log_run(name, uid=f"{index + 1:02d}" + "ab" * 15, project="payments",
                          params={"lr": lr, "optimizer": optimizer, "width": width, "epochs": 20},
                          metrics={"f1": curve_f1, "loss": curve_loss,
                                   "latency_ms": 12.0 + 3 * index},
                          tags={"team": "risk"}, datasets=[data / "train.csv"],
                          git_commit=f"{index + 1}" * 7 + "abcdef")
        cat.register("fraud", run=run, base="fraud@1" if index == 3 else None)
    cat.add_gate("fraud", "metrics.f1 >= 0.8")
    cat.add_gate("fraud", "metrics.f1 >= production - 0.02")
    cat.promote("fraud@2", reason="first production model")
    cat.promote("fraud@3", reason="more data, better f1")
    cat.promote("fraud@4", "staging", reason="distillation candidate")
    cat.set_doc("fraud@3", "# fraud v3\n\n## Rationale\nMore data.\n", base_rev=0)
    cat.set_doc("fraud@3", "# fraud v3\n\n## Rationale\nMore data from Q2.\n", base_rev=1)
    for index in range(2):
        run = cat.log_run(HOSTILE_RUN_NAME if index == 0 else "detector",
                          uid=f"{index + 1:02d}" + "cd" * 15, project="vision",
                          params={"cmd": HOSTILE_PARAM, "note": "[i]not italic[/i]"},
                          metrics={"mAP50": [0.4 + 0.1 * index, 0.5 + 0.1 * index]},
                          tags={"label": HOSTILE_TAG})
        cat.register("vision", run=run, tags={"label": HOSTILE_TAG})
    cat.set_doc("vision@1", HOSTILE_DOC, base_rev=0)
    cat.log_run("unregistered-sweep", uid="ee" * 16, project="payments",
                params={"lr": "0.05"}, metrics={"f1": 0.83, "loss": 0.40})
    cat.close()
    return path


@pytest.fixture(autouse=True)
def _colour(monkeypatch) -> None:
    """The app is tested in colour (the root conftest turns colour off for the CLI)."""
    monkeypatch.delenv("NO_COLOR", raising=False)


@pytest.fixture
def tui_catalog_path(tmp_path: Path) -> Path:
    """A fresh seeded catalog file for one test."""
    return build_tui_catalog(tmp_path / "tui" / ".mltui" / "catalog.db")


@pytest.fixture
def tui_catalog(tui_catalog_path: Path) -> Catalog:
    """The seeded catalog, reopened with a frozen clock (what the app sees)."""
    cat = open_catalog(tui_catalog_path, clock=lambda: FROZEN_NOW, actor="tester")
    yield cat
    cat.close()


def make_app(catalog: Catalog, **kwargs):
    """The app on a catalog: no user keymap, no live polling unless asked."""
    from mltui.tui.app import MltuiApp

    kwargs.setdefault("keymap", {})
    kwargs.setdefault("watch", False)
    return MltuiApp(catalog, **kwargs)


async def settle(pilot, rounds: int = 3, timeout: float = 10.0) -> None:
    """Let workers finish, pending one-shot timers fire (the detail pane and the docs preview
    follow after a short rest) and the screen repaint, so assertions and snapshots are
    deterministic however loaded the machine is."""
    for _ in range(rounds):
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
    await pilot.pause(0.05)
    deadline = time.monotonic() + timeout
    while _pending_one_shot_timers(pilot.app) and time.monotonic() < deadline:
        await pilot.pause(0.05)
        await pilot.app.workers.wait_for_complete()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def _pending_one_shot_timers(app) -> bool:
    """Whether a short `set_timer` (repeat=0, under a second: a debounce) on the app, its
    screen or a widget has yet to fire. Intervals never finish, and long timers (a toast's
    timeout) are part of what the screen shows, so neither is waited for."""
    pumps = [app, app.screen, *app.screen.walk_children()]
    for pump in pumps:
        for timer in list(getattr(pump, "_timers", ())):
            task = timer._task
            if (timer._repeat == 0 and timer._interval < 1.0 and task is not None
                    and not task.done()):
                return True
    return False


def screen_text(app) -> str:
    """Everything on the screen as plain text (for 'is it shown literally' assertions)."""
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())
