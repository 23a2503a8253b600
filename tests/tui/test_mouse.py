"""The mouse never blocks plain text selection: ``--no-mouse`` and the ``f2`` toggle."""

from __future__ import annotations

from click.testing import CliRunner

from mltui.cli import cli
from mltui.tui.app import MltuiApp
from tests.tui.conftest import make_app, settle


class Switches:
    """Stands in for the terminal driver's mouse switches (the headless driver has none)."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def enable(self) -> None:
        self.calls.append("on")

    def disable(self) -> None:
        self.calls.append("off")


async def test_f2_hands_the_mouse_to_the_terminal_and_back(tui_catalog):
    app = make_app(tui_catalog)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        switches = Switches()
        app._driver._enable_mouse_support = switches.enable
        app._driver._disable_mouse_support = switches.disable
        assert app.mouse_on
        await pilot.press("f2")
        await settle(pilot)
        assert switches.calls == ["off"] and not app.mouse_on
        assert "f2 turns the app's mouse back on" in list(app._notifications)[-1].message
        await pilot.press("f2")
        await settle(pilot)
        assert switches.calls == ["off", "on"] and app.mouse_on
        assert app._driver._mouse  # enabled even when the app was started without the mouse


def test_no_mouse_reaches_app_run(tui_catalog_path, monkeypatch):
    seen: dict[str, object] = {}

    def fake_run(self, **kwargs):
        seen.update(kwargs, mouse_on=self.mouse_on)

    monkeypatch.setattr(MltuiApp, "run", fake_run)
    result = CliRunner().invoke(cli, ["--catalog", str(tui_catalog_path), "--no-mouse"])
    assert result.exit_code == 0, result.output
    assert seen == {"mouse": False, "mouse_on": False}
    result = CliRunner().invoke(cli, ["--catalog", str(tui_catalog_path)])
    assert seen == {"mouse": True, "mouse_on": True}
    result = CliRunner().invoke(cli, ["--catalog", str(tui_catalog_path)],
                                env={"MLTUI_NO_MOUSE": "1"})
    assert seen["mouse"] is False
