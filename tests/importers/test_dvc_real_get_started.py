"""Acceptance (issue 8): a pipeline made by the real DVC 3.67 (``make_get_started.sh``), shaped
like DVC's get-started (prepare → train → evaluate reading model.pkl, with stage plots),
imported and compared with what DVC's own readers returned (``dvc metrics show``,
``dvc.api.params_show()``, ``dvc plots show``), committed in ``real_get_started.expected.json``."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from click.testing import CliRunner

from mltui.cli import cli
from mltui.core.catalog import open_catalog
from mltui.importers.common import flatten
from mltui.services.ingest import import_paths

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "dvc"
EXPECTED = json.loads((FIXTURES / "real_get_started.expected.json").read_text())


def _import(tmp_path: Path):
    project = tmp_path / "real_get_started"
    shutil.copytree(FIXTURES / "real_get_started", project)
    catalog = tmp_path / "c.db"
    cat = open_catalog(catalog, create=True)
    summary = import_paths(cat, [project], model="m")
    return cat, catalog, summary


def test_runs_params_metrics_and_plots_agree_with_dvc(tmp_path: Path) -> None:
    cat, _, summary = _import(tmp_path)
    assert summary.runs_new == 1 and summary.versions_new == 1, summary.as_dict()
    (run_id,) = cat.run_ids()
    run = cat.run_detail(run_id)
    assert run["params"] == {k: str(v) for k, v in flatten(EXPECTED["params_show"]).items()}
    metrics = {m["key"]: m for m in run["metrics"]}
    expected: dict[str, list[tuple[int | None, float]]] = {}
    for values in EXPECTED["metrics_show"].values():
        for key, value in flatten(values["data"]).items():
            expected[key] = [(None, float(value))]
    for rows in EXPECTED["plots_show"].values():
        for row in rows:
            for key, value in row.items():
                if key != "step":
                    expected.setdefault(key, []).append((row["step"], float(value)))
    assert set(metrics) == set(expected)
    for key, points in expected.items():
        values = [v for _, v in points]
        got = metrics[key]
        assert got["count"] == len(points), key
        assert got["last"] == values[-1] and got["min"] == min(values) and got["max"] == max(values)
        assert got["last_step"] == points[-1][0], key
    assert run["tags"]["dvc.plots"] == ",".join(sorted(EXPECTED["plots_show"]))
    cat.close()


def test_the_trained_model_is_the_artifact_and_verify_checks_it(tmp_path: Path) -> None:
    cat, catalog, _ = _import(tmp_path)
    (version,) = cat.versions(cat.version_ids(model="m"))
    assert version["artifact_path"].endswith("model.pkl")
    assert sorted(d["name"] for d in cat.datasets()) == ["data", "prepared"]
    cat.close()
    result = CliRunner().invoke(cli, ["--catalog", str(catalog), "verify", "m@1", "--json"])
    statuses = {r["label"]: r["status"] for r in json.loads(result.stdout)}
    assert statuses["m@1"] == "ok" and result.exit_code == 0, statuses
