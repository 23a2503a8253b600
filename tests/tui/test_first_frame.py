"""The first screen's rows come with the first frame: one catalog call, read while Textual starts.

Timing itself lives in benchmarks/startup.py (whole process, beside a minimal Textual app);
these tests check the path that makes it short: Browse reads what it shows first in one call
(``browse_data``), the CLI's app reads it before the screen is mounted (``prefetch=True``), and
the versions table draws its first frame at its real width (not at the minimums).
"""

from __future__ import annotations

from mltui.tui.screens.browse import BrowseScreen
from mltui.tui.widgets.grid import Column, VirtualGrid
from tests.tui.conftest import make_app, screen_text, settle

FIRST_SCREEN_CALLS = {"models", "alerts", "key_metrics", "metric_keys", "configured_columns"}


def recording(app) -> list[str]:
    """Names of the catalog calls the app's screens make from now on."""
    names: list[str] = []
    run_db = app.run_db

    async def record(function, *args, **kwargs):
        names.append(getattr(function, "__name__", repr(function)))
        return await run_db(function, *args, **kwargs)

    app.run_db = record
    return names


async def test_first_screen_is_one_catalog_call(tui_catalog) -> None:
    app = make_app(tui_catalog)
    calls = recording(app)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert "payments_fraud_v4_" in screen_text(app)
    assert calls[0] == "browse_data"
    assert not FIRST_SCREEN_CALLS & set(calls), calls


async def test_prefetched_rows_are_on_the_first_frame(tui_catalog) -> None:
    app = make_app(tui_catalog, prefetch=True)
    app._prefetched.result(timeout=30)  # read before Textual starts, as `mltui` does
    calls = recording(app)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()  # the first frame: no worker has read anything yet
        screen = app.screen
        assert isinstance(screen, BrowseScreen)
        assert "browse_data" not in calls and not FIRST_SCREEN_CALLS & set(calls), calls
        assert screen.grid.ids and screen.grid.row(screen.grid.ids[0]) is not None
        assert "payments_fraud_v4_" in screen_text(app)
        await settle(pilot)
        assert tui_catalog.ref_of(screen.grid.cursor_id) == "fraud@4"


async def test_prefetch_is_for_the_start_it_was_read_for(tui_catalog) -> None:
    app = make_app(tui_catalog, prefetch=True, start="vision")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert app.screen.model == "vision"
        assert app.take_prefetched("vision") is None  # taken once, by the first screen


def test_columns_set_before_layout_are_measured_at_the_first_draw() -> None:
    grid = VirtualGrid([])
    grid.set_columns([Column("name", "name", lambda row: row["name"], width=0, min_width=12)])
    assert grid._widths == []  # no width yet: the first draw computes them, at the real width


async def test_an_empty_catalog_says_how_to_fill_it(tmp_path) -> None:
    from mltui.core.catalog import open_catalog

    catalog = open_catalog(tmp_path / "empty.db", create=True)
    app = make_app(catalog, prefetch=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)  # the detail pane's own update must not hide the hint
        assert "The catalog is empty" in screen_text(app)
        assert "mltui import PATH --model NAME" in screen_text(app)
    catalog.close()


async def test_browse_starts_without_row_containers_or_a_filter_prompt(tui_catalog) -> None:
    # Every node is styled, mounted, laid out and painted before the first frame: the key bar
    # and the models column are split off the screen's edges instead of sitting in rows and
    # columns of containers, and the ``/`` prompt is mounted at its first use.
    from textual.containers import Horizontal

    from mltui.tui.widgets.filterbar import FilterPrompt

    app = make_app(tui_catalog)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert not screen.query(Horizontal) and not screen.query(FilterPrompt)
        assert [type(node).__name__ for node in screen.children] == [
            "KeyBar", "Vertical", "Static", "VirtualGrid", "VerticalScroll"]
        await pilot.press("slash")
        await settle(pilot)
        assert screen.query_one("#filter", FilterPrompt).has_class("open")
        await pilot.press("escape", "slash")  # the same prompt opens again
        await settle(pilot)
        assert len(screen.query(FilterPrompt)) == 1


async def test_the_versions_table_takes_the_focus_first(tui_catalog, monkeypatch) -> None:
    # Focusing the model list (the first focusable) and then the table restyled both twice.
    from textual.screen import Screen

    focused: list[str | None] = []
    set_focus = Screen.set_focus

    def recording(self, widget, *args, **kwargs):
        focused.append(getattr(widget, "id", None))
        return set_focus(self, widget, *args, **kwargs)

    monkeypatch.setattr(Screen, "set_focus", recording)
    app = make_app(tui_catalog)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert focused and set(focused) == {"versions"}, focused


async def test_on_first_rows_is_called_once_the_rows_are_painted(tui_catalog) -> None:
    # The CLI turns the garbage collector back on there (cli/app_start.first_rows_shown).
    seen: list[bool] = []
    app = make_app(tui_catalog, prefetch=True, on_first_rows=lambda: seen.append(
        bool(app.screen.grid.ids) and "payments_fraud_v4_" in screen_text(app)))
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
    assert seen == [True]


async def test_on_first_rows_is_called_without_rows_too(tmp_path, monkeypatch) -> None:
    import mltui.tui.app as app_module
    from mltui.core.catalog import open_catalog

    monkeypatch.setattr(app_module, "FIRST_ROWS_LIMIT", 0.05)
    catalog = open_catalog(tmp_path / "empty.db", create=True)
    seen: list[str] = []
    app = make_app(catalog, on_first_rows=lambda: seen.append("called"))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.pause(0.1)
    assert seen == ["called"]
    catalog.close()


async def test_the_start_styles_each_node_once(tui_catalog, monkeypatch) -> None:
    # Textual restyles every node of a screen when it resumes; at the start they were styled
    # as they mounted a moment before, so Browse's first resume skips it (~18 % of the
    # Python calls to the first frame).  Later resumes are Textual's as usual.
    from textual.css.stylesheet import Stylesheet

    passes: list[int] = []
    update_nodes = Stylesheet.update_nodes

    def recording(self, nodes, animate=False):
        nodes = list(nodes)
        passes.append(len(nodes))
        return update_nodes(self, nodes, animate)

    monkeypatch.setattr(Stylesheet, "update_nodes", recording)
    app = make_app(tui_catalog, prefetch=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert passes and max(passes) <= 2, passes
