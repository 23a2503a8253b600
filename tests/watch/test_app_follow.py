"""The app follows the folders of the project config's ``watch:`` block: new runs and new points
reach the Runs screen without an import by hand; a bad block or a failing pass is one notice."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mltui.core.config import parse_config
from mltui.core.errors import InvalidInput
from tests.tui.conftest import make_app, screen_text, settle


def _config(cat, text: str) -> None:
    (Path(cat.path).parent / "config.yaml").write_text(text)


def _append(path: Path, steps: range) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as handle:
        for step in steps:
            handle.write(json.dumps({"step": step, "val_f1": round(0.5 + step / 100, 3)}) + "\n")


async def _wait_for(pilot, needle: str, passes: int = 200) -> str:
    """Let the app's intervals run until ``needle`` shows (bounded by passes, not by time)."""
    for _ in range(passes):
        await pilot.pause(0.05)
        await pilot.app.workers.wait_for_complete()
        text = screen_text(pilot.app)
        if needle in text:
            return text
    raise AssertionError(f"{needle!r} never showed:\n{screen_text(pilot.app)}")


def test_watch_block_is_validated_with_paths_relative_to_the_project(tmp_path) -> None:
    path = tmp_path / "proj" / ".mltui" / "config.yaml"
    config = parse_config("watch:\n  paths: [runs/]\n  model: fraud\n  stall_after: 60\n", path)
    assert config.watch.paths == (tmp_path / "proj" / "runs",)
    assert (config.watch.model, config.watch.stall_after) == ("fraud", 60.0)
    assert parse_config("hooks: {}\n", path).watch is None
    for text, where in [("watch: {paths: []}", "watch.paths"),
                        ("watch: {paths: [a], stall_after: -1}", "watch.stall_after"),
                        ("watch: {paths: [a], model: 'bad name'}", "watch.model"),
                        ("watch: {paths: [a], every: 3}", "watch.every")]:
        with pytest.raises(InvalidInput, match=where.replace(".", r"\.")):
            parse_config(text, path)


async def test_the_app_follows_a_configured_folder_as_the_log_grows(cat, tmp_path) -> None:
    log = tmp_path / "runs" / "sweep.jsonl"
    _append(log, range(1, 4))
    _config(cat, "watch:\n  paths: [runs]\n")
    app = make_app(cat, watch=True, poll_seconds=0.1)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        assert app.follow is not None
        await pilot.press("R")
        text = await _wait_for(pilot, "LIVE")
        assert "sweep" in text and "0.53" in text
        _append(log, range(4, 9))  # the writer goes on
        await _wait_for(pilot, "0.58")


async def test_a_missing_folder_and_a_failing_pass_are_one_notice_each(cat, tmp_path) -> None:
    _config(cat, "watch:\n  paths: [nowhere]\n")
    app = make_app(cat, watch=True, poll_seconds=0.1)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert app.follow is None
        notices = [n.message for n in app._notifications]
        assert any("not following runs: no such file or directory" in m for m in notices)
    (tmp_path / "runs").mkdir()
    _config(cat, "watch:\n  paths: [runs]\n")
    app = make_app(cat, watch=True, poll_seconds=0.1)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)

        def broken():
            raise RuntimeError("disk on fire")

        app.follow.poll = broken
        for _ in range(3):
            await app._follow_pass()
        notices = [n.message for n in app._notifications if "following runs" in n.message]
        assert notices == ["following runs: RuntimeError: disk on fire (retrying quietly)"]


async def test_a_run_the_watch_finds_quiet_shows_as_stalled_at_the_top(cat, tmp_path) -> None:
    _append(tmp_path / "runs" / "quiet.jsonl", range(1, 4))
    cat.log_run("older-finished")
    _config(cat, "watch:\n  paths: [runs]\n  stall_after: 0.5\n")
    app = make_app(cat, watch=True, poll_seconds=0.1)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        await pilot.press("R")
        text = await _wait_for(pilot, "‖ stalled")
        lines = text.splitlines()
        assert "quiet" in lines[2] and "‖ stalled" in lines[2]
