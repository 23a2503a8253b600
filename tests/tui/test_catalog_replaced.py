"""The catalog file replaced or deleted under the open app: reopened, never written stale."""

from __future__ import annotations

import os
from pathlib import Path

from mltui.core.catalog import open_catalog
from mltui.tui.screens.promote import PromoteDialog
from tests.conftest import FROZEN_NOW
from tests.tui.conftest import make_app, screen_text, settle


def replace_catalog(path: Path) -> None:
    """Put a different catalog at ``path`` (what ``mltui demo --rebuild`` does): one model,
    ``churn@1``, and nobody holds production."""
    fresh = path.parent / "fresh" / "catalog.db"
    with open_catalog(fresh, create=True, clock=lambda: FROZEN_NOW, actor="ci") as cat:
        run = cat.log_run("churn-baseline", uid="77" * 16, project="crm",
                          metrics={"auc": 0.7})
        cat.register("churn", run=run)
        conn = cat._conn()
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    for suffix in ("-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    os.replace(fresh, path)


async def test_a_replaced_catalog_is_reopened_at_the_next_poll(tui_catalog, tui_catalog_path) -> None:
    app = make_app(tui_catalog)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert "fraud" in screen_text(app)
        replace_catalog(tui_catalog_path)
        await app._poll()  # what the live-refresh timer calls every half second
        await settle(pilot)
        text = screen_text(app)
        assert "churn" in text and "fraud" not in text
        assert app.catalog is not tui_catalog
        assert any("was replaced: reopened" in n.message for n in app._notifications)


async def test_a_write_after_the_file_was_replaced_is_refused_and_the_app_reopens(
        tui_catalog, tui_catalog_path) -> None:
    app = make_app(tui_catalog)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("down", "down", "p")  # fraud@2 → production, opened on the old file
        await settle(pilot)
        assert isinstance(app.screen, PromoteDialog)
        replace_catalog(tui_catalog_path)
        await pilot.press(*"again", "ctrl+f", "enter")
        await settle(pilot)
        assert "was replaced: nothing was written" in screen_text(app)
        with open_catalog(tui_catalog_path) as new:
            assert [m["name"] for m in new.models()] == ["churn"]
            assert new.history() == []  # nothing reached the new file either
        assert app.catalog is not tui_catalog  # reopened on the new file


async def test_a_deleted_catalog_refuses_writes_with_one_line(tui_catalog, tui_catalog_path) -> None:
    app = make_app(tui_catalog)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("p")
        await settle(pilot)
        tui_catalog_path.rename(tui_catalog_path.with_suffix(".moved"))
        await pilot.press(*"why", "enter")
        await settle(pilot)
        assert "was deleted: nothing was written" in screen_text(app)
        await app._poll()
        await settle(pilot)
        assert any("was deleted" in n.message for n in app._notifications)
