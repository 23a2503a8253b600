"""The app follows the catalog live: another process's import and promotion show up.

No wall clock here: the test waits on the app's own poll and reload (events), so it neither
flakes on a loaded machine nor passes by luck.  How fast a change shows is a benchmark
(benchmarks/), not a test.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys

from tests.tui.conftest import make_app, screen_text, settle

HANG_GUARD = 60  # seconds; only stops a broken poller from hanging the suite, never asserted


def watch_poller(app) -> tuple[asyncio.Event, asyncio.Event]:
    """Events set after each completed poll and each reload the poller asks for."""
    polled, reloaded = asyncio.Event(), asyncio.Event()
    poll, reload_screens = app._poll, app.reload_screens

    async def counted_poll() -> None:
        await poll()
        polled.set()

    async def counted_reload() -> None:
        await reload_screens()
        reloaded.set()

    # Instance attributes: on_mount schedules self._poll, and _poll calls self.reload_screens.
    app._poll, app.reload_screens = counted_poll, counted_reload
    return polled, reloaded


async def test_other_process_import_and_promotion_show_up(tui_catalog, tui_catalog_path,
                                                          tmp_path) -> None:
    log = tmp_path / "logs" / "metrics.jsonl"
    log.parent.mkdir()
    log.write_text("".join(f'{{"step": {s}, "f1": {0.8 + s / 100}, "loss": {1 - s / 10}}}\n'
                           for s in range(10)))
    app = make_app(tui_catalog, watch=True, poll_seconds=0.05)
    polled, reloaded = watch_poller(app)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        grid = app.screen.grid
        await pilot.press("down")  # the cursor must survive the refresh
        await settle(pilot)
        cursor_before = grid.cursor_id
        # The first poll records the baseline data version; a write before it would be missed.
        polled.clear()
        await asyncio.wait_for(polled.wait(), HANG_GUARD)
        assert not reloaded.is_set()  # nothing changed yet: no reload
        script = f"""
from mltui.core.catalog import open_catalog
from mltui.services.ingest import import_paths
with open_catalog({str(tui_catalog_path)!r}) as cat:
    import_paths(cat, [{str(log)!r}], model="fraud")
    cat.promote("fraud@4", "production", reason="from another process", force=True)
"""
        subprocess.run([sys.executable, "-c", script], check=True, timeout=60)
        await asyncio.wait_for(reloaded.wait(), HANG_GUARD)
        await settle(pilot)
        assert "fraud_v5" in screen_text(app)
        rows = {tui_catalog.ref_of(i): grid.row(i) for i in grid.ids[:3]}
        assert "production" in rows["fraud@4"]["stages"], screen_text(app)
        assert grid.cursor_id == cursor_before
        assert "prod v4" in screen_text(app)
