"""``mltui doc REF --card``: the model card, checked against a snapshot of the demo catalog's."""

from __future__ import annotations

import json
import os
from pathlib import Path

from click.testing import CliRunner

from mltui.cli import cli
from mltui.core.catalog import open_catalog

SNAPSHOTS = Path(__file__).parent / "snapshots"


def run(args: list[str], catalog: Path):
    return CliRunner().invoke(cli, ["--catalog", str(catalog), *args])


def _normalised(text: str, catalog: Path) -> str:
    # The sample project's runs record the commit of the checkout they were trained in.
    with open_catalog(catalog) as cat:
        commits = {r["git_commit"] for r in cat.runs(cat.run_ids()) if r["git_commit"]}
    for commit in commits:
        text = text.replace(commit[:8], "<commit>")
    return text


def test_card_of_the_demo_matches_the_snapshot(demo_catalog: Path) -> None:
    result = run(["doc", "fraud@5", "--card"], demo_catalog)
    assert result.exit_code == 0, result.stderr
    text = _normalised(result.stdout, demo_catalog)
    snapshot = SNAPSHOTS / "card_fraud_5.md"
    if os.environ.get("MLTUI_UPDATE_SNAPSHOTS"):
        snapshot.write_text(text)
    assert text == snapshot.read_text()


def test_card_compares_with_the_production_holder_before_the_version(demo_catalog: Path) -> None:
    data = json.loads(run(["doc", "fraud@5", "--card", "--json"], demo_catalog).stdout)
    assert data["previous"] == "fraud@3"  # fraud@5 replaced fraud@3 in production
    never = json.loads(run(["doc", "fraud@6", "--card", "--json"], demo_catalog).stdout)
    assert never["previous"] == "fraud@3"  # never promoted: today's holder
    first = json.loads(run(["doc", "fraud@1", "--card", "--json"], demo_catalog).stdout)
    assert first["previous"] is None and first["versus"] is None


def test_card_as_html_file(demo_catalog: Path, tmp_path: Path) -> None:
    out = tmp_path / "card.html"
    result = run(["doc", "fraud@7", "--card", "--format", "html", "--out", str(out)],
                 demo_catalog)
    assert result.exit_code == 0 and result.stdout == ""
    page = out.read_text()
    assert page.startswith("<!DOCTYPE html>") and "<title>Model card: fraud@7</title>" in page
    assert "Stage history" in page


def test_card_options_need_card(demo_catalog: Path) -> None:
    result = run(["doc", "fraud@5", "--format", "html"], demo_catalog)
    assert result.exit_code == 2 and "add --card" in result.stderr


def test_card_shows_what_each_input_was_derived_from(demo_catalog: Path) -> None:
    text = run(["doc", "fraud@7", "--card"], demo_catalog).stdout
    lines = [line for line in text.splitlines() if line.startswith("| features | 1 | md5 ")]
    assert len(lines) == 1 and lines[0].endswith("| input | data:transactions@3 |")
