"""One path for failures in background work: a failing catalog call in any screen's worker is
one notification, the app keeps running."""

from __future__ import annotations

import pytest

from tests.tui.conftest import make_app, settle

# Keys from browse to each screen whose workers read the catalog, and the worker to re-run
# (``reload`` is what live refresh calls when another process writes).
SCREENS = {
    "browse": ((), "reload"),
    "compare": (("space", "space", "c"), "reload"),
    "lineage": (("l",), "reload"),
    "docs": (("e",), "load"),
    "revisions": (("e", "ctrl+r"), "reload"),
    "history": (("h",), "reload"),
    "runs": (("R",), "reload"),
    "promote": (("p",), "evaluate"),
    "rollback": (("r",), "evaluate"),
}


@pytest.mark.parametrize("screen", list(SCREENS))
async def test_a_failing_worker_is_one_notice_and_the_app_keeps_running(tui_catalog, screen) -> None:
    app = make_app(tui_catalog)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        keys, worker = SCREENS[screen]
        for key in keys:
            await pilot.press(key)
            await settle(pilot)
        opened = app.screen

        async def broken(function, *args, **kwargs):
            raise RuntimeError("disk on fire")

        app.run_db = broken  # every catalog call of every worker now fails
        result = getattr(opened, worker)()
        if result is not None and hasattr(result, "__await__"):
            await result
        await settle(pilot)
        assert app.is_running and app.screen is opened
        assert any(n.message == "RuntimeError: disk on fire" for n in app._notifications)
