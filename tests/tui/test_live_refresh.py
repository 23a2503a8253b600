"""The app follows the catalog live: another process's import and promotion show within a second."""

from __future__ import annotations

import subprocess
import sys
import time

from tests.tui.conftest import make_app, screen_text, settle


async def test_other_process_import_and_promotion_show_within_a_second(tui_catalog,
                                                                       tui_catalog_path,
                                                                       tmp_path) -> None:
    log = tmp_path / "logs" / "metrics.jsonl"
    log.parent.mkdir()
    log.write_text("".join(f'{{"step": {s}, "f1": {0.8 + s / 100}, "loss": {1 - s / 10}}}\n'
                           for s in range(10)))
    app = make_app(tui_catalog, watch=True, poll_seconds=0.25)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        grid = app.screen.grid
        cursor_before = grid.cursor_id
        await pilot.press("down")  # the cursor must survive the refresh
        await settle(pilot)
        cursor_before = grid.cursor_id
        script = f"""
from mltui.core.catalog import open_catalog
from mltui.services.ingest import import_paths
with open_catalog({str(tui_catalog_path)!r}) as cat:
    import_paths(cat, [{str(log)!r}], model="fraud")
    cat.promote("fraud@4", "production", reason="from another process", force=True)
"""
        subprocess.run([sys.executable, "-c", script], check=True, timeout=60)
        written = time.monotonic()
        seen = False
        while time.monotonic() - written < 1.0:
            await pilot.pause(0.05)
            text = screen_text(app)
            if "payments_fraud_v5_" in text or "default_fraud_v5_" in text or "fraud_v5" in text:
                rows = {tui_catalog.ref_of(i): grid.row(i) for i in grid.ids[:3]}
                if rows.get("fraud@4") and "production" in rows["fraud@4"]["stages"]:
                    seen = True
                    break
        elapsed = time.monotonic() - written
        assert seen, f"not shown after {elapsed:.2f}s:\n{screen_text(app)}"
        assert grid.cursor_id == cursor_before
        await settle(pilot)
        models = screen_text(app)
        assert "prod v4" in models
