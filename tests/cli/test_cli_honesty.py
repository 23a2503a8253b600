"""The command line does what the README says, and refuses what would mislead (issue 9, item 11)."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

from mltui.cli import cli
from tests.cli.test_cli import run, seeded_path  # noqa: F401 - the fixture
from tests.conftest import snapshot_tables


def _every_command(group, prefix=()):
    for name, command in group.commands.items():
        if hasattr(command, "commands"):
            yield from _every_command(command, (*prefix, name))
        else:
            yield (*prefix, name)


@pytest.mark.parametrize("path", sorted(_every_command(cli)), ids=" ".join)
def test_every_command_takes_catalog_after_its_name(path):
    command = cli
    for name in path:
        command = command.commands[name]
    assert any("--catalog" in p.opts for p in command.params), f"mltui {' '.join(path)} --catalog"


def test_catalog_after_the_command_is_the_catalog_used(seeded_path, tmp_path):
    result = run(["ls", "models", "--catalog", str(seeded_path), "--json"])
    assert result.exit_code == 0, result.output
    assert "fraud" in result.stdout
    other = tmp_path / "elsewhere.db"
    result = run(["--catalog", str(other), "ls", "models", "--catalog", str(seeded_path), "--json"])
    assert result.exit_code == 0 and "fraud" in result.stdout  # the later one wins
    assert not other.exists()


def test_register_with_neither_run_nor_artifact_is_refused(seeded_path):
    before = snapshot_tables(seeded_path)
    result = run(["register", "fraud"], seeded_path)
    assert result.exit_code == 2
    assert "nothing to register" in result.stderr and "--run" in result.stderr
    assert snapshot_tables(seeded_path) == before


def test_rollback_of_an_unknown_stage_says_so(seeded_path):
    result = run(["rollback", "fraud", "--stage", "nosuchstage", "-r", "x"], seeded_path)
    assert result.exit_code == 2
    assert "no stage 'nosuchstage'" in result.stderr
    assert "has no earlier version" not in result.stderr


def test_parquet_without_pyarrow_says_what_to_install(seeded_path, tmp_path, monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "pyarrow" else real(name, *a))
    out = tmp_path / "out"
    result = run(["export", "--out", str(out), "--format", "parquet"], seeded_path)
    assert result.exit_code == 2
    assert "mltui[parquet]" in result.stderr
    assert not out.exists()  # nothing half-written


def test_parquet_export_works_with_pyarrow(seeded_path, tmp_path):
    pytest.importorskip("pyarrow")
    import pandas as pd

    result = run(["export", "--out", str(tmp_path), "--format", "parquet", "--table", "versions"],
                 seeded_path)
    assert result.exit_code == 0, result.stderr
    assert len(pd.read_parquet(Path(tmp_path) / "versions.parquet")) > 0


def test_readme_command_table_lists_every_command():
    """Every command of the CLI has a row with an example in the README's command table."""
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    listed = set(re.findall(r"^\| `([a-z-]+)` \| `mltui ", readme, re.M))
    listed |= set(re.findall(r"^\| `([a-z-]+)` \| `eval ", readme, re.M))
    missing = sorted(set(cli.commands) - listed)
    assert not missing, f"README's command table lacks {missing}"
