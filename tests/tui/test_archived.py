"""Archived versions in the app: shown as such, `p` greyed with the reason, `u` unarchives."""

from __future__ import annotations

from mltui.tui.screens.confirm import ConfirmDialog
from mltui.tui.screens.promote import PromoteDialog
from tests.tui.conftest import make_app, screen_text, settle


async def test_archived_version_is_marked_cannot_be_promoted_and_can_be_unarchived(
        tui_catalog) -> None:
    tui_catalog.archive("fraud@2", reason="superseded")
    app = make_app(tui_catalog)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("down", "down")  # fraud@2
        await pilot.pause(0.3)
        await settle(pilot)
        text = screen_text(app)
        row = next(line for line in text.splitlines() if line[20:].startswith(" v2 "))
        assert "archived" in row
        assert "fraud@2  payments_fraud_v2" in text and "  archived" in text.split("fraud@2  ")[1]
        assert "p: fraud@2 is archived and cannot be promoted — u unarchives it" in text
        assert app.screen.check_action("promote", ()) is None
        await pilot.press("p")
        await settle(pilot)
        assert not isinstance(app.screen, PromoteDialog)
        await pilot.press("u")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press("y")
        await settle(pilot)
        assert tui_catalog.versions([tui_catalog.resolve("fraud@2")])[0]["status"] == "ready"
        assert tui_catalog.events(action="unarchive")[0]["ref"] == "fraud@2"
        assert app.screen.check_action("promote", ()) is True
        assert "is archived" not in screen_text(app)

