"""``y`` copies the selected reference, ``Y`` its artifact path (OSC 52, App.copy_to_clipboard)."""

from __future__ import annotations

from tests.tui.conftest import make_app, settle


async def test_y_copies_the_reference_and_Y_the_artifact_path(tui_catalog, tmp_path) -> None:
    artifact = tmp_path / "model [v5].pt"
    artifact.write_bytes(b"weights")
    tui_catalog.register("fraud", artifact=str(artifact))  # fraud@5, first in the list
    app = make_app(tui_catalog)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("y")
        assert app.clipboard == "fraud@5"
        await pilot.press("Y")
        assert app.clipboard.endswith("model [v5].pt")
        await pilot.press("down")  # fraud@4: no artifact path, so nothing is copied
        await settle(pilot)
        await pilot.press("y", "Y")
        assert app.clipboard == "fraud@4"
