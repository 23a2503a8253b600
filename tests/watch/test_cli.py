"""``mltui watch``: --once passes, one line per change off a terminal, Ctrl-C exits 0,
bad input is one line with exit 2, the status table shows user text as text."""

from __future__ import annotations

import json

from click.testing import CliRunner
from rich.console import Console

from mltui.cli import cli
from mltui.cli import watch as watch_cli
from mltui.services.watch import WatchState


def run(args, catalog):
    return CliRunner().invoke(cli, ["--catalog", str(catalog), *args], catch_exceptions=False)


def _jsonl(path, rows, start=0):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as handle:
        for i in range(start, start + rows):
            handle.write(json.dumps({"step": i, "loss": 1.0 / (i + 1)}) + "\n")


def test_once_prints_one_line_per_run_and_sees_growth(tmp_path):
    catalog = tmp_path / ".mltui" / "catalog.db"
    log = tmp_path / "runs" / "[bold]a.jsonl"
    _jsonl(log, 3)
    first = run(["watch", str(tmp_path / "runs"), "--once"], catalog)
    assert first.exit_code == 0, first.output
    assert first.stdout == "[bold]a: new generic run, 3 points, step 2\n"
    _jsonl(log, 2, start=3)
    grown = run(["watch", str(tmp_path / "runs"), "--once"], catalog)
    # A new watch meets the run for the first time again: it is new to it, with 5 points.
    assert grown.stdout == "[bold]a: new generic run, 5 points, step 4\n"


def test_ctrl_c_ends_the_loop_with_exit_0(tmp_path, monkeypatch):
    catalog = tmp_path / ".mltui" / "catalog.db"
    _jsonl(tmp_path / "runs" / "a.jsonl", 2)

    def interrupt(_seconds):
        raise KeyboardInterrupt

    monkeypatch.setattr(watch_cli.time, "sleep", interrupt)
    result = run(["watch", str(tmp_path / "runs"), "--interval", "5"], catalog)
    assert result.exit_code == 0
    assert result.stdout == "a: new generic run, 2 points, step 1\n"


def test_bad_input_is_one_line_exit_2_and_no_catalog(tmp_path):
    catalog = tmp_path / ".mltui" / "catalog.db"
    missing = run(["watch", str(tmp_path / "nope"), "--once"], catalog)
    assert missing.exit_code == 2
    assert missing.stderr.strip().splitlines() == [
        f"mltui: error: no such file or directory: {tmp_path / 'nope'}"]
    (tmp_path / "runs").mkdir()
    bad_model = run(["watch", str(tmp_path / "runs"), "--model", "no good", "--once"], catalog)
    assert bad_model.exit_code == 2
    assert "Traceback" not in bad_model.output
    assert not catalog.exists()


def test_status_table_lists_running_first_and_names_as_text(cat, tmp_path):
    _jsonl(tmp_path / "runs" / "[red]b.jsonl", 2)
    _jsonl(tmp_path / "runs" / "a.jsonl", 2)
    state = WatchState(cat, [tmp_path / "runs"])
    state.poll()
    state.runs[min(state.runs)].state = "finished"
    console = Console(width=80, record=True, color_system=None)
    console.print(watch_cli.status_table(state))
    text = console.export_text()
    lines = [line.rstrip() for line in text.splitlines()]
    assert lines[0].split() == ["state", "run", "format", "step", "points", "steps/s", "version"]
    assert [line.split()[0] for line in lines[1:]] == ["running", "finished"]
    assert "[red]b" in text  # user text, never markup
