"""Helpers for the deploy tests: a project config written next to the catalog, and hooks
that are small Python scripts recording what they received."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import seed_fraud  # noqa: F401 - re-exported for the tests here

RECORDER = """
import json, os, sys
out = os.environ["HOOK_OUT"]
with open(out, "a") as f:
    f.write(json.dumps({"argv": sys.argv[1:], "env": {k: v for k, v in os.environ.items()
                        if k.startswith("MLTUI_")}}) + "\\n")
print("hook says hello")
sys.exit(int(os.environ.get("HOOK_EXIT", "0")))
"""


@pytest.fixture
def project(catalog_path: Path, tmp_path: Path, monkeypatch):
    """Write ``.mltui/config.yaml`` from a dict; returns a writer and the recorder's log."""
    script = tmp_path / "recorder.py"
    script.write_text(RECORDER)
    log = tmp_path / "hook-log.jsonl"
    monkeypatch.setenv("HOOK_OUT", str(log))

    class Project:
        # -S: no site-packages (the script needs only the standard library), half the start-up
        # of each hook run; mutation testing runs these tests for many mutants.
        recorder = [sys.executable, "-S", str(script)]
        calls_file = log

        def write(self, config: dict) -> Path:
            path = catalog_path.parent / "config.yaml"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(yaml.safe_dump(config))
            return path

        def calls(self) -> list[dict]:
            if not log.exists():
                return []
            return [json.loads(line) for line in log.read_text().splitlines()]

    return Project()


def run_cli(args: list[str], catalog: Path, input: str | None = None):
    """Run the CLI in-process; returns the click Result (exit_code, stdout, stderr)."""
    from click.testing import CliRunner

    from mltui.cli import cli

    return CliRunner().invoke(cli, ["--catalog", str(catalog), *args], input=input,
                              catch_exceptions=False)
