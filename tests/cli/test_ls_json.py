"""``ls runs/versions --json``: every metric key of each row, and references that resolve to
the row they print (issue 8, items 5 and 11)."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from mltui.cli import cli
from mltui.core.catalog import open_catalog
from tests.conftest import TickingClock


def _run(catalog: Path, *args: str):
    return CliRunner().invoke(cli, ["--catalog", str(catalog), *args], catch_exceptions=False)


def _catalog(path: Path) -> Path:
    cat = open_catalog(path, create=True, clock=TickingClock())
    keys = ["acc", "f1", "loss", "precision", "recall"]
    # Row ids 1 and 2; the uids start with the *other* run's row id, as real hex uids may.
    a = cat.log_run("a", uid="2aaa0000", metrics={k: [0.1, 0.5] for k in keys})
    b = cat.log_run("b", uid="1bbb0000", metrics={"f1": 0.7, "only_b": 3.0})
    cat.register("m", run=a)
    cat.register("m", run=b)
    cat.close()
    return path


def test_ls_json_holds_every_metric_key(tmp_path: Path) -> None:
    catalog = _catalog(tmp_path / "c.db")
    runs = json.loads(_run(catalog, "ls", "runs", "--json").stdout)
    by_name = {row["name"]: row for row in runs}
    assert by_name["a"]["metrics"] == {"acc": 0.5, "f1": 0.5, "loss": 0.5, "precision": 0.5,
                                       "recall": 0.5}
    assert by_name["b"]["metrics"] == {"f1": 0.7, "only_b": 3.0}
    versions = json.loads(_run(catalog, "ls", "--json").stdout)
    assert sorted(len(v["metrics"]) for v in versions) == [2, 5]
    # --metrics still chooses the columns.
    chosen = json.loads(_run(catalog, "ls", "runs", "--json", "--metrics", "f1").stdout)
    assert all(set(row["metrics"]) == {"f1"} for row in chosen)


def test_json_references_name_the_row_they_print(tmp_path: Path) -> None:
    catalog = _catalog(tmp_path / "c.db")
    runs = json.loads(_run(catalog, "ls", "runs", "--json").stdout)
    for row in runs:
        assert "id" not in row and row["ref"] == f"run:{row['uid']}"
        shown = json.loads(_run(catalog, "show", row["ref"], "--json").stdout)
        assert shown["uid"] == row["uid"]
        # The short form the table shows resolves to the same run.
        shown = json.loads(_run(catalog, "show", f"run:{row['uid'][:1]}", "--json").stdout)
        assert shown["uid"] == row["uid"]
    for version in json.loads(_run(catalog, "ls", "--json").stdout):
        assert "id" not in version and "run_id" not in version
        shown = json.loads(_run(catalog, "show", version["run_ref"], "--json").stdout)
        assert shown["uid"] == version["run_uid"]
