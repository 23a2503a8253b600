"""No command lets catalog data reach the terminal as control sequences (issue 10 items 2, 3).

Every read command runs against a catalog whose names, keys, params, tags, docs, dataset names
and gate rules are full of escape sequences and Rich markup; neither stdout nor stderr may hold
a raw ESC, BEL, C1 CSI/OSC or bidi override, and no command may fail on markup.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from mltui.cli import cli
from tests.security.hostile import EVIL, raw_controls, seed_hostile


@pytest.fixture(scope="module")
def hostile(tmp_path_factory) -> tuple[Path, dict[str, str], Path]:
    tmp = tmp_path_factory.mktemp("hostile")
    path = tmp / "catalog.db"
    refs = seed_hostile(path, tmp)
    bad_logs = tmp / "logs"
    bad_logs.mkdir()
    (bad_logs / f"m{EVIL.replace('/', '')}.jsonl").write_text('{"step": 0, "loss": 1}\n{"step": }\n')
    return path, refs, bad_logs


def commands(refs: dict[str, str], bad_logs: Path) -> list[list[str]]:
    """Every command that prints catalog data, in every output mode."""
    run = f"run:{refs['run'][:8]}"
    return [
        ["ls"], ["ls", "-m", "fraud"], ["ls", "runs"], ["ls", "models"], ["ls", "datasets"],
        ["ls", "runs", "--metrics", refs["key"]], ["ls", "--json"],
        ["show", "fraud@1"], ["show", run], ["show", "fraud@1", "--json"],
        ["show", f"data:{refs['dataset']}@1"],
        ["compare", "fraud@1", "fraud@2"], ["compare", "fraud@1", "fraud@2", "--format", "csv"],
        ["compare", "fraud@1", "fraud@2", "--format", "markdown"],
        ["compare", "fraud@1", "fraud@2", "--format", "json"],
        ["gate", "list", "fraud"], ["check", "fraud@2"],
        ["check", "fraud@2", "--format", "markdown"], ["check", "fraud@2", "--format", "json"],
        ["promote", "fraud@2", "--stage", "staging", "--reason", "ok"],
        ["history"], ["history", "-m", "fraud"], ["history", "--json"],
        ["lineage", "fraud@1"], ["lineage", "fraud@1", "--format", "mermaid"],
        ["lineage", "fraud@1", "--format", "dot"], ["lineage", "fraud@1", "--format", "json"],
        ["doc", "fraud@1"], ["doc", "fraud@1", "--history"], ["doc", "fraud@1", "--rev", "1"],
        ["doc", "fraud@1", "--diff", "1", "2"], ["verify", "fraud@1"], ["verify"],
        ["import", str(bad_logs)], ["import", str(bad_logs), "--skip-invalid", "--dry-run"],
        ["show", f"fraud@{EVIL}"], ["ls", "-f", f"tags.x = '{EVIL}'"],
    ]


def test_no_command_writes_raw_control_characters(hostile) -> None:
    path, refs, bad_logs = hostile
    runner = CliRunner()
    leaks, internal = [], []
    cases = commands(refs, bad_logs)
    for args in cases:
        result = runner.invoke(cli, ["--catalog", str(path), *args], catch_exceptions=False)
        found = raw_controls(result.stdout) + raw_controls(result.stderr)
        if found:
            leaks.append((args[:2], found))
        if "internal error" in result.stderr or "Traceback" in result.stderr:
            internal.append((args[:2], result.stderr.strip()[:200]))
    assert len(cases) == 37
    assert not leaks, leaks
    assert not internal, internal


def test_the_data_is_shown_not_dropped(hostile) -> None:
    path, refs, _ = hostile
    result = CliRunner().invoke(cli, ["--catalog", str(path), "ls", "runs", "--metrics", refs["key"]])
    assert result.exit_code == 0, result.stderr
    header = result.stdout.splitlines()[0]
    # The key is printed with its escapes made visible, its markup as literal text.
    assert "f1␛]0;PWN\\x07␛[2J\\x9b31m" in header


def test_metric_key_markup_is_literal_in_ls_headers(tmp_path: Path) -> None:
    """Item 3: a key `[/x]` used to end `ls` with MarkupError, `[bold]` rendered bold."""
    from mltui.core.catalog import open_catalog

    path = tmp_path / "c.db"
    with open_catalog(path, create=True) as cat:
        cat.log_run("r", metrics={"[/x]": 1.0, "[bold]loss": 2.0})
    result = CliRunner().invoke(cli, ["--catalog", str(path), "ls", "runs", "--metrics",
                                      "[/x],[bold]loss"])
    assert result.exit_code == 0, result.stderr
    assert "[/x]" in result.stdout and "[bold]loss" in result.stdout


def test_diagram_and_report_formats_escape_by_their_own_rules() -> None:
    from mltui.core.lineage import to_dot, to_mermaid
    from mltui.report import _csv_cell, _md

    graph = {"nodes": {"a": {"label": f'x"]{EVIL}', "kind": "run"},
                       "b": {"label": "y", "kind": "version", "detail": "<script>"}},
             "edges": [{"src": "a", "dst": "b", "role": "produced"}]}
    mermaid = to_mermaid(graph)
    assert not raw_controls(mermaid) and '"]' not in mermaid.split("\n")[1][:-2]
    assert "<script>" not in mermaid and "#27;" in mermaid  # ESC as a Mermaid entity code
    dot = to_dot(graph)
    assert not raw_controls(dot) and "U+001B" in dot and '\\"' in dot
    assert not raw_controls(_md(EVIL)) and not raw_controls(_csv_cell(EVIL))
    assert _csv_cell("=HYPERLINK(1)") == "'=HYPERLINK(1)" and _csv_cell("-0.5") == "-0.5"
