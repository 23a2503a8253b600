"""End to end: the installed ``mltui`` in a real terminal (tmux, 80×24), driven by keys.

Promote and roll back with keystrokes, read the result back from the screen and from
``mltui history``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from tests.tui.conftest import build_tui_catalog

# A developer without tmux skips these; CI never does (.ci/run installs tmux), so the one test of
# the real binary in a real terminal cannot silently stop running.
pytestmark = pytest.mark.skipif(shutil.which("tmux") is None and not os.environ.get("CI"),
                                reason="tmux is not installed (apt-get install tmux)")

MLTUI = Path(sys.executable).with_name("mltui")


class Pane:
    """A tmux session running one command at a fixed size."""

    def __init__(self, command: list[str], env: dict[str, str], width: int = 80, height: int = 24):
        self.name = f"mltui-e2e-{uuid.uuid4().hex[:8]}"
        exports = " ".join(f"{k}={_quote(v)}" for k, v in env.items())
        shell = f"env {exports} {' '.join(_quote(c) for c in command)}"
        subprocess.run(["tmux", "new-session", "-d", "-s", self.name, "-x", str(width), "-y",
                        str(height), shell], check=True)

    def text(self) -> str:
        """The visible screen as plain text."""
        result = subprocess.run(["tmux", "capture-pane", "-p", "-t", self.name],
                                capture_output=True, text=True)
        return result.stdout

    def keys(self, *keys: str) -> None:
        """Send keys (tmux key names, or literal text with -l)."""
        for key in keys:
            subprocess.run(["tmux", "send-keys", "-t", self.name, key], check=True)
            time.sleep(0.15)

    def type(self, text: str) -> None:
        subprocess.run(["tmux", "send-keys", "-t", self.name, "-l", text], check=True)
        time.sleep(0.2)

    def wait_for(self, needle: str, timeout: float = 20.0) -> str:
        """Wait until ``needle`` is on screen; returns the screen."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            screen = self.text()
            if needle in screen:
                return screen
            time.sleep(0.2)
        raise AssertionError(f"{needle!r} not on screen after {timeout}s:\n{self.text()}")

    def close(self) -> None:
        subprocess.run(["tmux", "kill-session", "-t", self.name], capture_output=True)


def _quote(value: str) -> str:
    return "'" + value.replace("'", "'\\''") + "'"


def terminal_env(tmp_path: Path) -> dict[str, str]:
    """A clean environment for the pane (PYTHONPATH kept: a worktree tests its own code)."""
    env = {"MLTUI_USER": "e2e", "MLTUI_CONFIG": str(tmp_path / "none.yaml"),
           "TERM": "xterm-256color", "HOME": str(tmp_path), "PATH": os.environ.get("PATH", "")}
    if os.environ.get("PYTHONPATH"):
        env["PYTHONPATH"] = os.environ["PYTHONPATH"]
    return env


def test_promote_and_rollback_with_keys_in_a_real_terminal(tmp_path: Path) -> None:
    assert MLTUI.exists(), f"the mltui console script is not installed next to {sys.executable}"
    catalog = build_tui_catalog(tmp_path / "proj" / ".mltui" / "catalog.db")
    env = terminal_env(tmp_path)
    pane = Pane([str(MLTUI), "--catalog", str(catalog)], env)
    try:
        screen = pane.wait_for("versions of")
        assert "fraud" in screen and "Promote" in screen
        # Roll production back: fraud@3 → fraud@2.
        pane.keys("r")
        pane.wait_for("Roll back")
        pane.wait_for("fraud@3 → fraud@2")
        pane.type("canary errors")
        pane.keys("Enter")
        pane.wait_for("rolled back")
        # Promote fraud@3 again: the cursor starts on fraud@4; fraud@3 is one row down.
        pane.keys("Down")
        time.sleep(0.5)
        pane.keys("p")
        screen = pane.wait_for("Promote fraud@3")
        pane.wait_for("is held by fraud@2")
        pane.type("fixed the canary")
        pane.keys("Enter")
        screen = pane.wait_for("promoted")
        pane.keys("q")
    finally:
        pane.close()
    history = subprocess.run([str(MLTUI), "--catalog", str(catalog), "history", "--json"],
                             capture_output=True, text=True, env={**os.environ, **env}, check=True)
    entries = json.loads(history.stdout)
    assert [(e["action"], e["from_version"], e["to_version"], e["reason"], e["actor"])
            for e in entries[:2]] == [("promote", 2, 3, "fixed the canary", "e2e"),
                                      ("rollback", 3, 2, "canary errors", "e2e")]
    table = subprocess.run([str(MLTUI), "--catalog", str(catalog), "history"], capture_output=True,
                           text=True, env={**os.environ, **env}, check=True).stdout
    assert "fixed the canary" in table and "canary errors" in table


def test_a_failing_gate_is_on_screen_at_80x24_without_scrolling(tmp_path: Path) -> None:
    """fraud@5 is compared on thirteen metrics and fails both production gates: after Enter,
    the failing rule, its actual vs required value and the refusal are read straight from the
    terminal, with no scrolling key pressed."""
    from mltui.core.catalog import open_catalog
    from tests.tui.test_promote_fit import add_many_metric_version

    catalog = build_tui_catalog(tmp_path / "proj" / ".mltui" / "catalog.db")
    with open_catalog(catalog, actor="ana") as cat:
        add_many_metric_version(cat)
    pane = Pane([str(MLTUI), "--catalog", str(catalog)], terminal_env(tmp_path))
    try:
        pane.wait_for("versions of")
        pane.keys("p")  # the cursor starts on the newest version, fraud@5
        pane.wait_for("Promote fraud@5")
        pane.wait_for("FAIL")
        pane.type("try it")
        pane.keys("Enter")
        screen = pane.wait_for("refused")
        assert "metrics.f1 >= 0.8" in screen and "0.5 is not >= 0.8" in screen
        assert "ctrl+f" in screen
        assert len(screen.splitlines()) <= 24
        pane.keys("Escape")
        pane.wait_for("versions of")
        pane.keys("q")
    finally:
        pane.close()
    with open_catalog(catalog) as cat:
        assert cat.ref_of(cat.stage_holder("fraud", "production")) == "fraud@3"
