"""The command line: the acceptance flow, exit codes, one-line errors, formats."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from mltui.cli import cli
from mltui.core.catalog import open_catalog
from tests.conftest import TickingClock, seed_fraud, snapshot_tables


def run(args: list[str], catalog: Path | None = None, input: str | None = None):
    """Run the CLI in-process; returns the click Result (exit_code, stdout, stderr)."""
    runner = CliRunner()
    full = (["--catalog", str(catalog)] if catalog else []) + args
    return runner.invoke(cli, full, input=input, catch_exceptions=False)


def run_binary(args: list[str], cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run the installed ``mltui`` entry point in a subprocess (a real process, real exit code)."""
    environment = {**os.environ, "NO_COLOR": "1", "MLTUI_BUSY_TIMEOUT": "0.3", **(env or {})}
    return subprocess.run([sys.executable, "-m", "mltui", *args], cwd=cwd, env=environment,
                          capture_output=True, text=True, timeout=60)


@pytest.fixture
def seeded_path(catalog_path: Path) -> Path:
    cat = open_catalog(catalog_path, create=True, clock=TickingClock())
    seed_fraud(cat)
    cat.close()
    return catalog_path


def test_acceptance_flow_from_the_cli(tmp_path: Path) -> None:
    project = tmp_path / "proj"
    project.mkdir()
    result = run_binary(["init"], cwd=project)
    assert result.returncode == 0, result.stderr
    catalog = project / ".mltui" / "catalog.db"
    assert catalog.is_file()
    (project / "train.csv").write_text("amount,label\n1,0\n2,1\n")
    # Training scripts log runs with the Python API.
    script = f"""
import mltui
with mltui.open_catalog({str(catalog)!r}) as cat:
    for name, f1 in (("v1", 0.80), ("v2", 0.88), ("v3", 0.60)):
        run = cat.log_run(name, metrics={{"f1": f1}}, params={{"lr": "0.1"}},
                          datasets=[{str(project / 'train.csv')!r}], git_commit="abc123")
        cat.register("fraud", run=run)
"""
    subprocess.run([sys.executable, "-c", script], check=True, cwd=project)
    assert run_binary(["gate", "add", "fraud", "metrics.f1 >= 0.75"], cwd=project).returncode == 0
    for ref, reason in (("fraud@1", "first release"), ("fraud@2", "better f1")):
        result = run_binary(["promote", ref, "--stage", "production", "--reason", reason], cwd=project)
        assert result.returncode == 0, result.stderr
    result = run_binary(["rollback", "fraud", "--stage", "production", "--reason", "alerts fired"],
                        cwd=project)
    assert result.returncode == 0 and "fraud@2 → fraud@1" in result.stderr
    shown = json.loads(run_binary(["show", "fraud@production", "--json"], cwd=project).stdout)
    assert shown["ref"] == "fraud@1"

    before = snapshot_tables(catalog)
    refused = run_binary(["promote", "fraud@3", "--reason", "try"], cwd=project)
    assert refused.returncode == 1
    assert "refused" in refused.stderr and "Traceback" not in refused.stderr
    assert snapshot_tables(catalog) == before

    forced = run_binary(["promote", "fraud@3", "--force", "--reason", "incident hotfix"], cwd=project)
    assert forced.returncode == 0 and "forced" in forced.stderr

    history = json.loads(run_binary(["history", "--json"], cwd=project).stdout)
    assert [(h["action"], h["to_version"], h["reason"], h["forced"]) for h in history] == [
        ("promote", 3, "incident hotfix", True), ("rollback", 1, "alerts fired", False),
        ("promote", 2, "better f1", False), ("promote", 1, "first release", False)]
    table = run_binary(["history"], cwd=project).stdout
    for reason in ("incident hotfix", "alerts fired", "better f1", "first release"):
        assert reason in table

    run_binary(["rollback", "fraud", "--reason", "back"], cwd=project)
    lineage = run_binary(["lineage", "fraud@production"], cwd=project)
    assert lineage.returncode == 0
    lines = lineage.stdout.splitlines()
    assert lines[0].startswith("fraud@1")
    run_line = next(i for i, line in enumerate(lines) if "run:" in line)
    data_line = next(i for i, line in enumerate(lines) if "data:train@1" in line)
    assert data_line > run_line  # dataset listed under the run that consumed it: data → run → version
    graph = json.loads(run_binary(["lineage", "fraud@production", "--format", "json"], cwd=project).stdout)
    roles = {(graph["nodes"][e["src"]]["kind"], graph["nodes"][e["dst"]]["kind"]): e["role"]
             for e in graph["edges"]}
    assert roles[("dataset", "run")] == "input" and roles[("run", "version")] == "output"


@pytest.mark.parametrize("args,message", [
    (["show", "fraud@9"], "has no version 9"),
    (["show", "frud"], "did you mean fraud"),
    (["show", "bad ref!"], "bad reference"),
    (["promote", "fraud@9", "--reason", "x"], "has no version 9"),
    (["rollback", "nomodel"], "no model named 'nomodel'"),
    (["ls", "--filter", "metrics.f1 >"], "bad filter at column 13"),
    (["ls", "--filter", "metrics.f1 > 'x'"], "compares with numbers"),
    (["ls", "--sort", "colour"], "cannot sort by"),
    (["compare", "fraud@1"], "compare takes 2 to 8 versions"),
    (["lineage", "run:nope"], "no run matches"),
    (["doc", "fraud@1", "--set", "/nonexistent/file.md"], "cannot read"),
    (["gate", "add", "fraud", "metrics.f1 >>= 1"], "bad gate rule"),
    (["promote", "fraud@3", "--force"], "needs a reason"),
    (["import", "/nonexistent/path"], "no such file"),
])
def test_bad_input_is_one_line_exit_2_nothing_changed(seeded_path: Path, args, message) -> None:
    before = snapshot_tables(seeded_path)
    result = run(args, seeded_path)
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert lines[0].startswith("mltui: error:") and message in lines[0]
    assert "Traceback" not in result.stderr and result.stdout == ""
    assert snapshot_tables(seeded_path) == before


def test_missing_catalog_is_exit_2(tmp_path: Path) -> None:
    result = run_binary(["ls"], cwd=tmp_path, env={"MLTUI_CATALOG": ""})
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "mltui init" in result.stderr
    assert "Traceback" not in result.stderr


def test_locked_catalog_is_exit_2_and_unchanged(seeded_path: Path, tmp_path: Path) -> None:
    before = snapshot_tables(seeded_path)
    blocker = sqlite3.connect(str(seeded_path), isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    try:
        result = run_binary(["--catalog", str(seeded_path), "promote", "fraud@2", "--reason", "x"],
                            cwd=tmp_path)
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "locked by another process" in result.stderr
    assert snapshot_tables(seeded_path) == before


def test_corrupt_catalog_is_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "catalog.db"
    bad.write_bytes(b"garbage" * 200)
    result = run_binary(["--catalog", str(bad), "ls"], cwd=tmp_path)
    assert result.returncode == 2 and "not an mltui catalog" in result.stderr
    assert "Traceback" not in result.stderr


def test_usage_errors_are_exit_2(seeded_path: Path) -> None:
    result = run(["promote"], seeded_path)
    assert result.exit_code == 2 and "Missing argument" in result.stderr
    assert run(["nosuchcommand"], seeded_path).exit_code == 2


def test_check_exit_codes_and_markdown(seeded_path: Path) -> None:
    assert run(["check", "fraud@2"], seeded_path).exit_code == 0
    failed = run(["check", "fraud@3", "--format", "markdown"], seeded_path)
    assert failed.exit_code == 1
    assert "### Gates for fraud@3: ❌ failed" in failed.stdout and "**FAIL**" in failed.stdout
    data = json.loads(run(["check", "fraud@3", "--format", "json"], seeded_path).stdout)
    assert data["passed"] is False


def test_read_commands_have_json(seeded_path: Path) -> None:
    for args in (["ls", "models"], ["ls"], ["ls", "runs"], ["ls", "datasets"], ["show", "fraud@1"],
                 ["history"], ["gate", "list", "fraud"], ["doc", "fraud@1"], ["verify"],
                 ["compare", "fraud@1", "fraud@2", "--format", "json"]):
        result = run([*args, "--json"] if args[0] != "compare" else args, seeded_path)
        assert result.exit_code == 0, (args, result.stderr)
        json.loads(result.stdout)


def test_ls_filters_and_sorts(seeded_path: Path) -> None:
    rows = json.loads(run(["ls", "-f", "metrics.f1 > 0.75", "-s", "-metrics.f1", "--json"],
                          seeded_path).stdout)
    assert [r["version"] for r in rows] == [2, 1]
    text = run(["ls", "-m", "fraud"], seeded_path).stdout
    assert "fraud@3" in text and "f1" in text


def test_compare_formats(seeded_path: Path) -> None:
    md = run(["compare", "fraud@1", "fraud@2", "--format", "markdown"], seeded_path).stdout
    assert md.startswith("| | fraud@1 (base) | fraud@2 |") and "**0.9 (+0.1)**" in md
    csv = run(["compare", "fraud@1", "fraud@2", "--format", "csv"], seeded_path).stdout
    assert csv.splitlines()[0] == "field,fraud@1,fraud@2" and "metrics.f1,0.8,0.9" in csv
    table = run(["compare", "fraud@1", "fraud@2", "fraud@3", "--only-diff"], seeded_path).stdout
    assert "params.lr ≠" in table and "params.optimizer" not in table


def test_doc_set_edit_revisions_and_diff(seeded_path: Path, tmp_path: Path, monkeypatch) -> None:
    note = tmp_path / "note.md"
    note.write_text("# fraud v1\n\nTrained on [Q3] data.\n")
    assert run(["doc", "fraud@1", "--set", str(note), "-m", "first"], seeded_path).exit_code == 0
    assert run(["doc", "fraud@1"], seeded_path).stdout == note.read_text()
    assert run(["doc", "fraud@1", "--set", "-"], seeded_path, input="second\n").exit_code == 0
    revisions = json.loads(run(["doc", "fraud@1", "--revisions", "--json"], seeded_path).stdout)
    assert [r["rev"] for r in revisions] == [2, 1] and revisions[1]["message"] == "first"
    assert "+second" in run(["doc", "fraud@1", "--diff", "1", "2"], seeded_path).stdout
    monkeypatch.setattr("click.edit", lambda text, extension: text + "edited\n")
    assert run(["doc", "fraud@1", "--edit"], seeded_path).exit_code == 0
    assert run(["doc", "fraud@1"], seeded_path).stdout == "second\nedited\n"


def test_export_csv_and_parquet(seeded_path: Path, tmp_path: Path) -> None:
    import pandas as pd

    out = tmp_path / "export"
    result = run(["export", "--out", str(out)], seeded_path)
    assert result.exit_code == 0
    versions = pd.read_csv(out / "versions.csv")
    assert list(versions["version"]) == [1, 2, 3]
    run(["export", "--out", str(out), "--format", "parquet", "--table", "points"], seeded_path)
    points = pd.read_parquet(out / "points.parquet")
    assert len(points) == 12  # 3 runs × 2 metrics × 2 steps


def test_register_tag_archive(seeded_path: Path, tmp_path: Path) -> None:
    artifact = tmp_path / "model.pkl"
    artifact.write_bytes(b"\x80weights")
    uid = json.loads(run(["ls", "runs", "--json"], seeded_path).stdout)[0]["uid"]
    result = run(["register", "fraud", "--run", f"run:{uid[:8]}", "--artifact", str(artifact),
                  "--tag", "owner=[risk]"], seeded_path)
    assert result.exit_code == 0 and result.stdout.strip() == "fraud@4"
    shown = json.loads(run(["show", "fraud@4", "--json"], seeded_path).stdout)
    assert shown["tags"] == {"owner": "[risk]"} and shown["artifact_hash_algo"] == "sha256"
    assert run(["tag", "fraud@4", "team", "vision"], seeded_path).exit_code == 0
    assert run(["archive", "fraud@4", "-r", "superseded"], seeded_path).exit_code == 0
    assert run(["promote", "fraud@4", "--reason", "x"], seeded_path).exit_code == 2


def test_user_text_is_printed_literally(catalog_path: Path) -> None:
    cat = open_catalog(catalog_path, create=True)
    run_ = cat.log_run("[bold red]x[/]", params={"cmd": "\x1b[31mred\x1b[0m"},
                       tags={"note": "[link=http://evil]click[/link]"}, metrics={"f1": 0.5})
    cat.register("m", run=run_)
    cat.close()
    shown = run(["show", "m@1"], catalog_path).stdout
    assert "[bold red]x[/]" in shown and "[link=http://evil]click[/link]" in shown
    assert "\x1b" not in shown and "␛[31mred␛[0m" in shown
    runs = run(["ls", "runs"], catalog_path).stdout
    assert "[bold red]x[/]" in runs


def test_non_app_commands_never_import_textual(seeded_path: Path) -> None:
    code = f"""
import sys
from click.testing import CliRunner
from mltui.cli import cli
for args in (["--help"], ["import", "--help"], ["ls"], ["show", "fraud@1"], ["history"],
             ["compare", "fraud@1", "fraud@2"], ["lineage", "fraud@1"], ["check", "fraud@2"]):
    CliRunner().invoke(cli, ["--catalog", {str(seeded_path)!r}, *args])
import mltui, mltui.core.catalog, mltui.importers
leaked = sorted(m for m in sys.modules if m.split(".")[0] in ("textual", "textual_plotext"))
print(",".join(leaked) or "clean")
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.stdout.strip() == "clean", result.stdout + result.stderr


def test_core_never_imports_textual() -> None:
    code = ("import sys, mltui.core.catalog, mltui.core.query, mltui.importers.common, mltui.display;"
            "print([m for m in sys.modules if m.startswith('textual')])")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "[]"


def test_show_dataset_lists_where_it_came_from_and_who_used_it(tmp_path: Path) -> None:
    catalog = tmp_path / "c.db"
    data = tmp_path / "train.csv"
    data.write_text("a\n1\n")
    cat = open_catalog(catalog, create=True)
    cat.log_run("r1", datasets=[data])
    cat.close()
    shown = run(["show", "data:train@1"], catalog).stdout
    assert "data:train@1" in shown and "used by  run:" in shown
    data_json = json.loads(run(["show", "data:train@1", "--json"], catalog).stdout)
    assert data_json["used_by"][0].startswith("run:") and data_json["derived_from"] == []
