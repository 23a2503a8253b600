"""End to end: the real ``mltui`` in tmux at 80×24 follows a run while a separate writer
process appends to its log — the Runs screen lists it live, the live run view's last value
moves.  Waits poll the pane text with a generous bound; nothing asserts on timing."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from mltui.core.catalog import open_catalog
from tests.e2e.test_tmux import MLTUI, Pane, pytestmark, terminal_env  # noqa: F401 - skip rule

WRITER = textwrap.dedent("""
    import json, sys, time
    from pathlib import Path
    log, go = Path(sys.argv[1]), Path(sys.argv[2])
    def write(step, value):
        with open(log, "a") as handle:
            handle.write(json.dumps({"step": step, "val_f1": value, "time": time.time()}) + "\\n")
    for step in (1, 2, 3):
        write(step, round(0.5 + step / 1000, 3))
    while not go.exists():  # the test says when the run goes on
        time.sleep(0.1)
    write(4, 0.777)
""")


def test_the_app_follows_a_growing_log_written_by_another_process(tmp_path: Path) -> None:
    project = tmp_path / "proj"
    catalog = project / ".mltui" / "catalog.db"
    open_catalog(catalog, create=True).close()
    (project / "runs").mkdir()
    (catalog.parent / "config.yaml").write_text("watch:\n  paths: [runs]\n")
    log, go = project / "runs" / "sweep.jsonl", tmp_path / "go"
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(log), str(go)])
    pane = Pane([str(MLTUI), "--catalog", str(catalog)], terminal_env(tmp_path))
    try:
        pane.wait_for("Runs", timeout=30)
        pane.keys("R")
        screen = pane.wait_for("LIVE", timeout=30)
        assert "sweep" in screen and "0.503" in screen
        pane.keys("Enter")
        pane.wait_for("last 0.503 at step 3", timeout=30)
        go.touch()  # the writer appends step 4
        screen = pane.wait_for("last 0.777 at step 4", timeout=30)
        assert "no model to compare with" in screen
        pane.keys("Escape")
        pane.wait_for("0.777", timeout=30)
        pane.keys("q")
    finally:
        pane.close()
        go.touch()
        writer.wait(timeout=30)
