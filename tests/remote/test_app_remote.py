"""``mltui --remote NAME``: the app shows the local catalog at once and follows the server."""

from __future__ import annotations

import asyncio

from mltui.core.catalog import open_catalog
from tests.remote.conftest import own_model
from tests.tui.conftest import make_app, settle


async def wait_for(predicate, pilot, timeout: float = 60.0) -> None:
    """Wait for the app's state to satisfy ``predicate`` (the pull runs on its own thread)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        assert loop.time() < deadline, pilot.app.sub_title
        await pilot.pause(0.1)


async def test_the_app_pulls_in_the_background_and_writes_through(project, server):
    client = own_model(server.url, "app-follow")
    cat = open_catalog(project)
    from mltui.services.remote import apply_write

    cat.write_through = lambda write: apply_write(cat, write)  # as the CLI's _open wires it
    app = make_app(cat, remote="team", watch=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(lambda: app.follower.online is True, pilot)
        assert "team: synced" in app.sub_title
        await settle(pilot)
        assert cat.stage_holder("app-follow", "production") is not None
        # What the app promotes goes to the server (the dialog calls the same method).
        await app.run_db(cat.promote, "app-follow@2", "production", reason="from the app")
        assert client.get_registered_model("app-follow").aliases["production"] == "2"
    cat.close()


async def test_a_lost_connection_is_a_status_line_and_writes_are_refused(project, server,
                                                                          monkeypatch):
    own_model(server.url, "app-offline")
    cat = open_catalog(project)
    from mltui.services import remote_fetch
    from mltui.services.remote import apply_write, pull

    pull(cat, "team")
    real = remote_fetch.client  # then the network goes: every request is refused
    monkeypatch.setattr(remote_fetch, "client", lambda url: real("http://127.0.0.1:9"))
    cat.write_through = lambda write: apply_write(cat, write)
    app = make_app(cat, remote="team")
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(lambda: app.follower.online is False, pilot)
        assert "team: offline since" in app.sub_title
        assert any("cannot connect" in n.message for n in app._notifications)
        holder = cat.stage_holder("app-offline", "production")
        try:
            await app.run_db(cat.promote, "app-offline@3", "production", reason="x")
        except Exception as exc:  # noqa: BLE001 - the app shows it as one line
            assert "cannot connect" in str(exc)
        else:
            raise AssertionError("a promotion of a synced model went through offline")
        assert cat.stage_holder("app-offline", "production") == holder
        assert app.is_running  # calm: the screen still answers
    cat.close()
