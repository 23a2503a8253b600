"""Runs: runs still being written come first with a LIVE badge, steps/s and an ETA when the
log recorded a total; "?" for what it did not record."""

from __future__ import annotations

from mltui.core.progress import live_state, run_speed
from tests.conftest import FROZEN_NOW
from tests.tui.conftest import make_app, screen_text
from tests.tui.live_helpers import press_and_read, write_live_run


def test_speed_comes_from_the_logs_wall_times_and_total(tui_catalog) -> None:
    run_id = write_live_run(tui_catalog, steps=40, max_steps=100)
    speed = run_speed(tui_catalog, [run_id])[run_id]
    assert (speed["unit"], speed["at"], speed["total"]) == ("step", 40, 100)
    assert speed["rate"] == 0.5  # a step every 2 s
    assert speed["eta"] == 120.0  # 60 steps left


def test_no_total_or_no_wall_times_is_unknown_not_guessed(tui_catalog) -> None:
    quiet = write_live_run(tui_catalog, max_steps=None, wall_times=False)
    speed = run_speed(tui_catalog, [quiet])[quiet]
    assert speed["total"] is None and speed["rate"] is None and speed["eta"] is None


def test_live_state_needs_a_recent_change_or_the_writers_word() -> None:
    row = {"status": None, "created_at": FROZEN_NOW - 10, "updated_at": None}
    assert live_state(row, FROZEN_NOW, 300) == "live"
    assert live_state({**row, "created_at": FROZEN_NOW - 3600}, FROZEN_NOW, 300) is None
    assert live_state({**row, "status": "RUNNING", "created_at": FROZEN_NOW - 3600},
                      FROZEN_NOW, 300) == "stalled"
    assert live_state({**row, "status": "FINISHED"}, FROZEN_NOW, 300) is None


async def test_live_run_listed_first_with_badge_rate_and_eta(tui_catalog) -> None:
    write_live_run(tui_catalog, steps=40, max_steps=100)
    write_live_run(tui_catalog, name="no-total", uid="fe" * 16, max_steps=None,
                   wall_times=False)
    app = make_app(tui_catalog)
    async with app.run_test(size=(120, 40)) as pilot:
        lines = await press_and_read(pilot, "R")
        rows = [line for line in lines if "LIVE" in line]
        assert len(rows) == 2, screen_text(app)
        body = screen_text(app)
        assert "LIVE" in lines[2] and "LIVE" in lines[3]  # under the title and the header
        live = next(line for line in rows if "sweep-live" in line)
        assert "40/100" in live and "0.5/s" in live and "eta 2m" in live
        unknown = next(line for line in rows if "no-total" in line)
        assert "40/?" in unknown and "?/s" in unknown and "eta ?" in unknown
        # The finished runs follow the live ones.
        assert body.index("sweep-live") < body.index("distilled")


def test_a_burst_of_points_within_a_second_gives_no_rate(tui_catalog) -> None:
    from mltui.core.records import ImportBatch, ImportSummary, MetricPoint, RunRecord

    points = [MetricPoint("loss", 1 / step, step=step, wall_time=FROZEN_NOW + step / 1000)
              for step in range(1, 4)]
    run = RunRecord(uid="fd" * 16, source_format="generic", source_path="/burst.jsonl",
                    name="burst", metrics=points, fingerprint="b")
    tui_catalog.write_import([ImportBatch("generic", "/burst.jsonl", runs=[run])],
                             ImportSummary())
    run_id = tui_catalog.run_ids(filter="attributes.name = 'burst'")[0]
    assert run_speed(tui_catalog, [run_id])[run_id]["rate"] is None


async def test_a_catalog_change_reloads_the_screen_in_view_and_hidden_ones_on_return(
        tui_catalog) -> None:
    """Following runs changes the catalog every second: the Browse screen under Runs must not
    repaint each time (bytes to the terminal), only when it is back on top."""
    app = make_app(tui_catalog)
    async with app.run_test(size=(80, 24)) as pilot:
        await press_and_read(pilot, "R")
        browse, runs = app.screen_stack[-2], app.screen
        reloads = {"browse": 0, "runs": 0}

        def counting(name, original):
            async def reload() -> None:
                reloads[name] += 1
                await original()
            return reload

        browse.reload = counting("browse", browse.reload)
        runs.reload = counting("runs", runs.reload)
        await app.reload_screens()
        await press_and_read(pilot)
        assert reloads == {"browse": 0, "runs": 1} and browse.stale
        await press_and_read(pilot, "escape")
        assert reloads == {"browse": 1, "runs": 1} and not browse.stale
