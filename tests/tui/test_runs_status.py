"""Runs: newest first by default, running / finished / failed each marked, not only coloured."""

from __future__ import annotations

from tests.conftest import FROZEN_NOW
from tests.tui.conftest import make_app, screen_text, settle


async def test_runs_newest_first_with_their_state_marked(tui_catalog) -> None:
    tui_catalog.log_run("live", status="RUNNING", start_time=FROZEN_NOW - 60)
    tui_catalog.log_run("crashed", status="FAILED", start_time=FROZEN_NOW - 120)
    app = make_app(tui_catalog)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("R")
        await settle(pilot)
        lines = screen_text(app).splitlines()
        first = next(i for i, line in enumerate(lines) if " live " in line)
        assert "▶ LIVE" in lines[first]  # still being written: listed first, badged
        assert " crashed " in lines[first + 1] and "✗ failed" in lines[first + 1]
        assert "✓ finished" in lines[first + 2]  # the older runs follow
