"""Imports through the catalog: counts equal MLflow's own client, registry stages and aliases
become mltui stages recorded in the history, all-or-nothing, idempotent, growing logs."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from mltui.cli import cli
from mltui.core.errors import ImportFailed
from mltui.importers.common import looks_like_email
from mltui.services.ingest import import_paths
from tests.conftest import snapshot_tables

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
EXPECTED = json.loads((FIXTURES / "mlflow" / "expected.json").read_text())
STORES = [("files", FIXTURES / "mlflow" / "filestore" / "mlruns"),
          ("sqlite", FIXTURES / "mlflow" / "sqlite" / "mlflow.db")]


def _active(store: str) -> dict:
    runs = EXPECTED["stores"][store]["runs"]
    return {uid: r for uid, r in runs.items()
            if r["lifecycle_stage"] == "active" and r["experiment_lifecycle_stage"] == "active"}


@pytest.mark.parametrize("store,path", STORES, ids=[s for s, _ in STORES])
def test_mlflow_counts_equal_what_mlflow_reports(catalog, store, path) -> None:
    summary = import_paths(catalog, [path])
    active = _active(store)
    assert summary.runs_new == len(active)
    assert {r["uid"] for r in catalog.runs(catalog.run_ids())} == set(active)
    total_points = 0
    for uid, expected in active.items():
        run_id = catalog.resolve_run(f"run:{uid}")
        detail = catalog.run_detail(run_id)
        assert detail["params"] == expected["params"], uid
        # Every tag MLflow reports, except e-mail addresses (personal data is not imported).
        kept = {k for k, v in expected["tags"].items() if not looks_like_email(v)}
        assert set(detail["tags"]) == kept, uid
        assert not any(looks_like_email(v) for v in detail["tags"].values())
        for key, metric in expected["metrics"].items():
            points = catalog.metric_points(run_id, key)
            assert len(points) == metric["distinct_len"], (uid, key)
            total_points += metric["distinct_len"]
        assert detail["status"] == expected["status"]
    assert summary.points == total_points == catalog.summary()["metric_points"]
    for name, model in EXPECTED["stores"][store]["registered_models"].items():
        versions = catalog.versions(catalog.version_ids(model=name))
        assert sorted(v["version"] for v in versions) == sorted(int(n) for n in model["versions"])
        for number, version in model["versions"].items():
            row = next(v for v in versions if v["version"] == int(number))
            assert row["run_uid"] == version["run_id"]
            assert row["status"] == ("archived" if version["stage"] == "Archived" else "ready")
            stage = version["stage"].lower()
            if stage not in ("none", "archived"):
                assert catalog.ref_of(catalog.stage_holder(name, stage)) == f"{name}@{number}"
        for alias, number in model["aliases"].items():
            assert catalog.ref_of(catalog.stage_holder(name, alias)) == f"{name}@{number}"


def test_registry_import_is_in_the_history_and_idempotent(catalog) -> None:
    import_paths(catalog, [STORES[0][1]])
    imported = catalog.history(action="import")
    assert imported and all(h["reason"] == "imported from mlflow registry" for h in imported)
    assert {h["stage"] for h in imported} >= {"production", "staging", "champion", "challenger"}
    before = snapshot_tables(catalog.path)
    again = import_paths(catalog, [STORES[0][1]])
    assert (again.runs_new, again.runs_updated, again.versions_new, again.stages_set) == (0, 0, 0, 0)
    assert snapshot_tables(catalog.path) == before


def _tree(tmp_path: Path) -> Path:
    """A folder with an MLflow store, a Lightning run and a generic JSONL log."""
    root = tmp_path / "logs"
    shutil.copytree(STORES[0][1], root / "mlruns")
    shutil.copytree(FIXTURES / "lightning" / "real_2_6", root / "lightning")
    (root / "jsonl").mkdir()
    (root / "jsonl" / "metrics.jsonl").write_text(
        "".join(f'{{"step": {s}, "loss": {1 / (s + 1)}}}\n' for s in range(5)))
    return root


def test_one_invalid_file_anywhere_writes_nothing(catalog, tmp_path) -> None:
    root = _tree(tmp_path)
    bad = root / "jsonl" / "metrics.jsonl"
    bad.write_text(bad.read_text() + '{"step": 5, "loss": 0.1\n{"step": 6, "loss": 0.1}\n')
    before = snapshot_tables(catalog.path)
    with pytest.raises(ImportFailed) as info:
        import_paths(catalog, [root])
    assert info.value.path == str(bad) and info.value.line == 6
    assert "nothing was imported" in info.value.one_line()
    assert snapshot_tables(catalog.path) == before


def test_skip_invalid_lands_the_good_and_lists_the_bad(catalog, tmp_path) -> None:
    root = _tree(tmp_path)
    bad = root / "jsonl" / "metrics.jsonl"
    bad.write_text(bad.read_text() + '{"step": 5, "loss": 0.1\n{"step": 6, "loss": 0.1}\n')
    summary = import_paths(catalog, [root], skip_invalid=True)
    assert len(summary.skipped) == 1 and str(bad) in summary.skipped[0]
    formats = {r["source_format"] for r in catalog.runs(catalog.run_ids())}
    assert formats == {"mlflow", "lightning"}


def test_importing_twice_changes_nothing_and_a_grown_log_updates_its_run(catalog, tmp_path) -> None:
    root = _tree(tmp_path)
    first = import_paths(catalog, [root])
    assert first.runs_new >= 3
    before = snapshot_tables(catalog.path)
    second = import_paths(catalog, [root])
    assert second.runs_new == second.runs_updated == 0
    assert snapshot_tables(catalog.path) == before
    log = root / "jsonl" / "metrics.jsonl"
    log.write_text(log.read_text() + '{"step": 5, "loss": 0.05}\n')  # a resumed run wrote more
    third = import_paths(catalog, [root])
    assert (third.runs_new, third.runs_updated) == (0, 1)
    run_id = next(r["id"] for r in catalog.runs(catalog.run_ids()) if r["source_format"] == "generic")
    assert [p.step for p in catalog.metric_points(run_id, "loss")] == [0, 1, 2, 3, 4, 5]
    assert catalog.summary()["runs"] == first.runs_new


def test_dry_run_writes_nothing(catalog, tmp_path) -> None:
    root = _tree(tmp_path)
    before = snapshot_tables(catalog.path)
    summary = import_paths(catalog, [root], dry_run=True)
    assert summary.dry_run and summary.runs_new >= 3 and summary.points > 0
    assert snapshot_tables(catalog.path) == before


def test_dataset_and_model_options_link_and_register(catalog, tmp_path) -> None:
    data = tmp_path / "train.csv"
    data.write_text("x,y\n1,0\n")
    log = tmp_path / "run" / "metrics.jsonl"
    log.parent.mkdir()
    log.write_text('{"step": 0, "f1": 0.5}\n{"step": 1, "f1": 0.7}\n')
    summary = import_paths(catalog, [log], datasets=[data], model="fraud")
    assert summary.versions_new == 1
    graph = catalog.lineage("fraud@1")
    labels = {n["label"] for n in graph["nodes"].values()}
    assert "data:train@1" in labels
    again = import_paths(catalog, [log], datasets=[data], model="fraud")
    assert again.versions_new == 0  # the same run is not registered twice


def test_cli_import_json_and_formats(catalog, tmp_path) -> None:
    root = _tree(tmp_path)
    result = CliRunner().invoke(cli, ["--catalog", str(catalog.path), "import", str(root), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["runs_new"] >= 3 and set(data["formats"]) >= {"mlflow", "lightning", "generic"}
    forced = CliRunner().invoke(cli, ["--catalog", str(catalog.path), "import", "--format", "nope",
                                      str(root)])
    assert forced.exit_code == 2 and "unknown import format" in forced.stderr
    empty = tmp_path / "empty"
    empty.mkdir()
    nothing = CliRunner().invoke(cli, ["--catalog", str(catalog.path), "import", str(empty)])
    assert nothing.exit_code == 2 and "no run logs found" in nothing.stderr
