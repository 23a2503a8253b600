"""Compare, driven by the real keys from browse; assertions on the screen, files and data."""

from __future__ import annotations

import time

from mltui.core.catalog import open_catalog
from mltui.report import comparison_markdown
from mltui.tui.screens.browse import BrowseScreen
from mltui.tui.screens.compare import CompareScreen, pick_chart_metric, write_new_file
from mltui.tui.widgets.curves import CurveChart, clean_points, step_ticks, thin
from tests.conftest import FROZEN_NOW, TickingClock
from tests.tui.conftest import make_app, screen_text, settle


async def open_compare(pilot, *keys: str) -> CompareScreen:
    """From browse: mark the first two versions (newest first: fraud@4, fraud@3) and press c."""
    await settle(pilot)
    await pilot.press(*keys, "space", "space", "c")
    await settle(pilot)
    assert isinstance(pilot.app.screen, CompareScreen)
    return pilot.app.screen


async def test_marked_versions_open_with_values_deltas_and_best(tui_catalog) -> None:
    app = make_app(tui_catalog)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_compare(pilot)
        assert [tui_catalog.ref_of(i) for i in screen.version_ids] == ["fraud@4", "fraud@3"]
        text = screen_text(app)
        assert "compare fraud@4 (base) · fraud@3" in text
        assert "0.8042" in text                       # baseline value, no delta
        assert "0.8737 (+0.0695) ★" in text           # f1: higher is better, fraud@3 best
        assert "18 (-3) ★" in text                    # latency_ms: lower is better
        assert "0.3601 (-0.0926) ★" in text           # loss: lower is better
        assert "0.8042 (" not in text and "0.8042 ★" not in text
        assert "≠ width" in text and "≠ lr" not in text  # lr is 0.02 in both
        assert "train@1" in text and "4444444abc" in text and "03ababab more-data" in text
        assert "prod" in text and "stg" in text


async def test_delta_colours_follow_the_direction(tui_catalog) -> None:
    app = make_app(tui_catalog)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_compare(pilot)
        table = screen.table
        f1 = table.get_row("m:f1")[2]
        loss = table.get_row("m:loss")[2]
        # a rise in f1 and a fall in loss are both improvements: green
        assert any(span.style == "green" for span in f1.spans)
        assert any(span.style == "green" for span in loss.spans)
        assert "bold" in str(f1.style)  # best of its row
        baseline_f1 = table.get_row("m:f1")[1]
        assert not any(span.style in ("green", "red") for span in baseline_f1.spans)


async def test_d_shows_differences_only(tui_catalog) -> None:
    app = make_app(tui_catalog)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_compare(pilot)
        assert "epochs" in screen_text(app)
        await pilot.press("d")
        await settle(pilot)
        text = screen_text(app)
        assert "epochs" not in text and "optimizer" not in text
        assert "≠ width" in text and "3 equal hidden" in text
        await pilot.press("d")
        await settle(pilot)
        assert "epochs" in screen_text(app)


async def test_m_cycles_the_charted_metric(tui_catalog) -> None:
    app = make_app(tui_catalog)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_compare(pilot)
        chart = screen.query_one("#chart", CurveChart)
        assert screen.chart_key == "loss"  # loss-like first
        assert "curve loss over steps" in screen_text(app)
        await pilot.press("m")
        await settle(pilot)
        assert screen.chart_key == "f1"
        assert "curve f1 over steps · higher is better" in screen_text(app)
        run_id = screen.data["run_ids"][0]
        expected = clean_points(tui_catalog.metric_history(run_id, "f1", max_points=1000))
        assert chart.curves[0].points == expected and len(chart.curves) == 2
        await pilot.press("m", "m")
        await settle(pilot)
        assert screen.chart_key == "loss"  # f1 → latency_ms → loss: round and round
        assert "━━ fraud@4" in screen_text(app) and "━━ fraud@3" in screen_text(app)


async def test_x_exports_markdown_into_the_project_without_overwriting(
        tui_catalog, tui_catalog_path, tmp_path, monkeypatch) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # the app was started outside the project
    project = tui_catalog_path.parent.parent
    app = make_app(tui_catalog)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_compare(pilot)
        await pilot.press("x")
        await settle(pilot)
        first = project / "compare-fraud@4-fraud@3.md"
        expected = comparison_markdown(tui_catalog.compare(screen.version_ids))
        assert first.read_text(encoding="utf-8") == expected
        assert list(elsewhere.iterdir()) == []
        # the notification names the path (a toast wraps it, so read the notice itself)
        assert any(str(first) == n.message for n in app._notifications)
        first.write_text("kept", encoding="utf-8")
        await pilot.press("x")
        await settle(pilot)
        assert first.read_text(encoding="utf-8") == "kept"
        assert (project / "compare-fraud@4-fraud@3-1.md").read_text(encoding="utf-8") == expected


async def test_x_export_honours_differences_only(tui_catalog, tui_catalog_path) -> None:
    app = make_app(tui_catalog)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_compare(pilot)
        await pilot.press("d", "x")
        await settle(pilot)
        text = (tui_catalog_path.parent.parent / "compare-fraud@4-fraud@3.md").read_text()
        assert "params.epochs" not in text  # equal in both: hidden, as on screen
        assert "params.width" in text


async def test_v_cycles_split_table_chart(tui_catalog) -> None:
    app = make_app(tui_catalog)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_compare(pilot)
        table, pane = screen.table, screen.query_one("#chart-pane")
        assert table.display and pane.display and pane.size.height >= 8
        await pilot.press("v")
        await settle(pilot)
        assert not screen.query_one("#chart-pane").display
        assert screen.check_action("next_metric", ()) is None  # no chart shown
        await pilot.press("v")
        await settle(pilot)
        assert not table.display and pane.size.height > 15
        await pilot.press("v")
        await settle(pilot)
        assert table.display and pane.display


async def test_reload_follows_a_promotion_and_keeps_the_cursor(tui_catalog) -> None:
    app = make_app(tui_catalog)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_compare(pilot)
        await pilot.press("m", "down", "down", "down", "down")
        await settle(pilot)
        row = screen.table.cursor_row
        tui_catalog.promote("fraud@4", "production", force=True, reason="another process")
        await screen.reload()
        await settle(pilot)
        assert screen.table.cursor_row == row and screen.chart_key == "f1"
        stages = screen.table.get_row("i:stages")
        assert "prod" in stages[1].plain and "prod" not in stages[2].plain


async def test_escape_goes_back_to_browse(tui_catalog) -> None:
    app = make_app(tui_catalog)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_compare(pilot)
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, BrowseScreen)


async def test_single_metric_greys_m_and_hostile_strings_show_literally(tui_catalog) -> None:
    app = make_app(tui_catalog)
    async with app.run_test(size=(160, 50)) as pilot:
        screen = await open_compare(pilot, "tab", "down", "tab")  # the vision model
        assert screen.data["versions"] == ["vision@2", "vision@1"]
        text = screen_text(app)
        assert "␛[31mred␛[0m" in text              # the ANSI escape in a param, made visible
        assert "[i]not italic[/i]" in text
        assert "label=[bold red]x" in text          # a tag
        assert "01cdcdcd [/]" in text           # the run name
        assert screen.check_action("next_metric", ()) is None  # one metric: nothing to cycle
        assert screen.check_action("export", ()) is True
        assert screen.chart_key == "mAP50"


async def test_versions_without_curves_grey_the_chart(tui_catalog) -> None:
    ids = [tui_catalog.register("bare").get("id"), tui_catalog.register("bare").get("id")]
    app = make_app(tui_catalog)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.push_screen(CompareScreen(ids))
        await settle(pilot)
        screen = app.screen
        assert screen.check_action("next_metric", ()) is None
        assert screen.check_action("differences", ()) is None  # no params either
        assert "no metrics to chart" in screen_text(app)


def test_chart_metric_choice_prefers_shared_loss_then_key_metrics() -> None:
    def data(*rows):
        return {"metrics": [{"key": k, "values": v, "raw": [None] * len(v)} for k, v in rows]}

    assert pick_chart_metric(data(("acc", [1, 2]), ("val_loss", [1, 2])), []) == "val_loss"
    assert pick_chart_metric(data(("acc", [1, 2]), ("loss", [1, None])), ["acc"]) == "acc"
    assert pick_chart_metric(data(("a", [1, 2]), ("b", [1, 2])), ["b"]) == "b"
    assert pick_chart_metric(data(("a", [1, None])), []) == "a"
    assert pick_chart_metric({"metrics": []}, []) is None


def test_curve_helpers() -> None:
    assert clean_points([(None, 1.0), (5, float("nan")), (7, None), (9, 2.0)]) == \
        [(0.0, 1.0), (9.0, 2.0)]
    points = [(float(i), float(i % 50 == 0) * 9) for i in range(1000)]
    thinned = thin(points, 100)
    assert len(thinned) <= 102 and thinned[-1] == points[-1]
    assert sum(1 for p in thinned if p[1] == 9) == 20  # every spike survives
    assert step_ticks(0, 999, 7) == [0, 200, 400, 600, 800]


def test_write_new_file_never_overwrites(tmp_path) -> None:
    paths = [write_new_file(tmp_path, "compare-a@1-a@2", f"v{i}") for i in range(3)]
    assert [p.name for p in paths] == ["compare-a@1-a@2.md", "compare-a@1-a@2-1.md",
                                       "compare-a@1-a@2-2.md"]
    assert [p.read_text() for p in paths] == ["v0", "v1", "v2"]


def seed_eight(path):
    """8 versions × 5 metrics × 1,000 steps (the performance target's workload)."""
    cat = open_catalog(path, create=True, clock=TickingClock())
    for index in range(8):
        metrics = {key: [(1 + index) * 0.01 + (0.5 + 0.5 * ((step * (k + 3)) % 17) / 17) * 0.99
                         ** step for step in range(1000)]
                   for k, key in enumerate(("loss", "val_loss", "acc", "f1", "lr"))}
        run = cat.log_run(f"run-{index}", params={"seed": index}, metrics=metrics)
        cat.register("big", run=run)
    cat.close()


async def test_eight_versions_with_1000_step_curves_are_all_drawn(tmp_path) -> None:
    """The §8 workload (8 versions × 1,000-step curves) draws every point of every curve.

    How fast is measured by benchmarks/run.py, not here: timing does not belong in tests.
    """
    path = tmp_path / ".mltui" / "catalog.db"
    seed_eight(path)
    cat = open_catalog(path, clock=lambda: FROZEN_NOW)
    ids = cat.version_ids(model="big")
    assert len(ids) == 8
    app = make_app(cat)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        for _ in range(3):
            screen = CompareScreen(ids)
            app.push_screen(screen)
            chart = None
            deadline = time.perf_counter() + 10
            while time.perf_counter() < deadline:
                await pilot.pause(0.005)
                chart = screen.query_one("#chart", CurveChart)
                if chart.rendered_at is not None and len(chart.curves) == 8:
                    break
            assert chart.rendered_at is not None and len(chart.curves) == 8
            assert all(len(c.points) == 1000 for c in chart.curves)
            await pilot.press("escape")
            await settle(pilot)
    cat.close()


async def test_opening_compare_is_one_trip_to_the_database(tui_catalog) -> None:
    """Table and chart come from one database call: every trip waits a turn of the UI loop
    behind the frame being drawn (four trips were most of the time to open it when busy)."""
    app = make_app(tui_catalog)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        trips = []
        run_db = app.run_db

        async def counted(function, *args, **kwargs):
            trips.append(getattr(function, "__qualname__", repr(function)))
            return await run_db(function, *args, **kwargs)

        app.run_db = counted
        await pilot.press("space", "space", "c")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, CompareScreen)
        assert screen.query_one("#chart", CurveChart).curves  # the chart is drawn
        # Browse reads too (the cursor moved): only the trips Compare makes are counted.
        ours = [t for t in trips if t.startswith("CompareScreen")
                or t.rsplit(".", 1)[-1] in ("compare", "key_metrics", "read_comparison")]
        assert ours == ["read_comparison"], trips


async def test_compare_starts_reading_when_made_before_it_is_mounted(tui_catalog) -> None:
    """The one read starts in ``__init__``: the database works while the screen is composed
    and mounted, and the mounted screen shows that read (no second trip)."""
    app = make_app(tui_catalog)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        ids = tui_catalog.version_ids(model="fraud")[:2]
        screen = CompareScreen(ids)
        assert screen._first_read is not None and not screen.is_mounted
        data = (await screen._first_read)[0]
        assert data["ids"] == ids
        app.push_screen(screen)
        await settle(pilot)
        assert screen.data is data and screen._first_read is None
        assert screen.query_one("#chart", CurveChart).curves
