"""Notifications never cover the versions table being read: they sit over the detail pane."""

from __future__ import annotations

from textual.widgets._toast import Toast

from tests.tui.conftest import make_app, settle

LONG = ("the catalog file /home/someone/projects/fraud/.mltui/catalog.db was replaced by "
        "another process while the app was open: reopened, every screen reloaded; " * 2)


async def test_a_long_notification_stays_off_the_versions_table(tui_catalog) -> None:
    app = make_app(tui_catalog)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await settle(pilot)
        for severity in ("information", "warning", "error"):
            app.notify(LONG, title="mltui", severity=severity, markup=False)
        await settle(pilot)
        toasts = list(app.screen.query(Toast))
        assert len(toasts) == 3
        table = app.screen.query_one("#versions").region
        for toast in toasts:
            assert not toast.region.overlaps(table), (toast.region, table)
