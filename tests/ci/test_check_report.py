"""``mltui check``'s reviewer report: gates, deltas against the stage holder, changed params,
data and code, a verdict; ``$GITHUB_STEP_SUMMARY`` written when set and never when not."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from mltui.cli import cli


def run(args: list[str], catalog: Path, env: dict | None = None):
    return CliRunner().invoke(cli, ["--catalog", str(catalog), *args], env=env)


def test_check_appends_to_the_step_summary_when_set(demo_catalog: Path, tmp_path: Path) -> None:
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n")
    first = run(["check", "fraud@7"], demo_catalog, env={"GITHUB_STEP_SUMMARY": str(summary)})
    assert first.exit_code == 0
    markdown = run(["check", "fraud@7", "--format", "markdown"], demo_catalog,
                   env={"GITHUB_STEP_SUMMARY": None}).stdout
    assert summary.read_text() == "earlier step\n" + markdown
    run(["check", "fraud@6"], demo_catalog, env={"GITHUB_STEP_SUMMARY": str(summary)})
    assert summary.read_text().count("### Gates for") == 2


def test_check_never_writes_a_summary_when_unset(demo_catalog: Path, tmp_path: Path,
                                                 monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    before = sorted(tmp_path.rglob("*"))
    for fmt in ("table", "markdown", "json"):
        assert run(["check", "fraud@7", "--format", fmt], demo_catalog).exit_code == 0
    assert run(["check", "fraud@7"], demo_catalog, env={"GITHUB_STEP_SUMMARY": ""}).exit_code == 0
    assert sorted(tmp_path.rglob("*")) == before


def test_report_file_is_the_markdown_report(demo_catalog: Path, tmp_path: Path) -> None:
    out = tmp_path / "comment.md"
    out.write_text("stale")
    result = run(["check", "fraud@5", "--report", str(out)], demo_catalog)
    assert result.exit_code == 0
    assert out.read_text() == run(["check", "fraud@5", "--format", "markdown"], demo_catalog).stdout
    bad = run(["check", "fraud@5", "--report", str(tmp_path / "no" / "such" / "dir.md")],
              demo_catalog)
    assert bad.exit_code == 2 and bad.stderr.startswith("mltui: error: cannot write the report")


def test_report_compares_with_the_holder(demo_catalog: Path) -> None:
    data = json.loads(run(["check", "fraud@5", "--format", "json"], demo_catalog).stdout)
    assert data["holder"] == "fraud@3" and data["passed"]
    cmp = data["versus"]
    f1 = next(m for m in cmp["metrics"] if m["key"] == "f1")
    loss = next(m for m in cmp["metrics"] if m["key"] == "loss")
    assert f1["value"] > f1["base"] and f1["better"] == "candidate"
    assert loss["value"] > loss["base"] and loss["better"] == "base"  # lower loss is better
    assert {p["key"] for p in cmp["params"]} == {"class_weight", "epochs", "l2", "lr", "seed"}
    [data_row] = cmp["data"]
    assert data_row["changed"] and data_row["base"].startswith("transactions@2 (sha256 ")
    assert data["verdict"].startswith("fraud@5 may take production: 3 of 3 gate(s) passed; ")
    assert "5 param(s) changed, data changed" in data["verdict"]
    markdown = run(["check", "fraud@5", "--format", "markdown"], demo_catalog).stdout
    assert "| f1 | 0.3468 | **0.5505** | +0.2036 better |" in markdown
    assert "| loss | **0.5131** | 0.747 | +0.234 worse |" in markdown
    assert "| params.lr | 0.1 | 0.2 |" in markdown


def test_table_is_the_default_and_text_its_alias(demo_catalog: Path) -> None:
    table = run(["check", "fraud@5"], demo_catalog)
    assert table.stdout == run(["check", "fraud@5", "--format", "text"], demo_catalog).stdout
    lines = table.stdout.splitlines()
    assert [line.split()[0] for line in lines[:3]] == ["pass", "pass", "pass"]
    assert any(line.split()[:4] == ["f1", "0.3468", "0.5505", "+0.2036"] for line in lines)
    assert "params.lr: 0.1 → 0.2" in table.stdout
    assert lines[-2].startswith("fraud@5 may take production") and lines[-1] == "fraud@5: passed"


def test_failing_check_says_why_and_exits_1(demo_catalog: Path) -> None:
    assert run(["gate", "add", "fraud", "metrics.latency_ms <= 1"], demo_catalog).exit_code == 0
    result = run(["check", "fraud@5", "--format", "json"], demo_catalog)
    assert result.exit_code == 1
    verdict = json.loads(result.stdout)["verdict"]
    assert verdict.startswith("fraud@5 cannot take production: 1 of 4 gate(s) failed "
                              "(metrics.latency_ms <= 1)")


def test_holder_itself_and_no_holder(demo_catalog: Path) -> None:
    own = json.loads(run(["check", "fraud@3", "--format", "json"], demo_catalog).stdout)
    assert own["versus"] is None and own["verdict"].endswith("it already holds production")
    none = json.loads(run(["check", "fraud@5", "--stage", "qa", "--format", "json"],
                          demo_catalog).stdout)
    assert none["holder"] is None and "no version holds qa" in none["verdict"]
