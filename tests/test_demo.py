"""The sample project and ``mltui demo``: a real catalog built from real logs, once."""

from __future__ import annotations

import json

from click.testing import CliRunner

from mltui.cli import cli
from mltui.core.catalog import open_catalog
from mltui.demo import build_demo_catalog, demo_home


def test_demo_catalog_meets_the_sample_project_spec() -> None:
    path = build_demo_catalog(progress=lambda message: None)
    assert path.is_relative_to(demo_home())
    with open_catalog(path) as cat:
        models = {m["name"]: m for m in cat.models()}
        assert set(models) == {"fraud", "churn"}
        assert sum(m["versions"] for m in models.values()) >= 8
        assert models["fraud"]["stages"]["production"] == 3  # after the rollback
        formats = {r["source_format"] for r in cat.runs(cat.run_ids())}
        assert {"mlflow", "lightning", "dvc"} <= formats
        datasets = cat.datasets()
        assert [d["version"] for d in datasets if d["name"] == "transactions"] == [1, 2, 3]
        derived = cat.lineage("data:features@1")
        assert any(e["role"] == "derived" for e in derived["edges"])
        actions = [h["action"] for h in cat.history(model="fraud")]
        assert "rollback" in actions and actions.count("promote") >= 4
        assert cat.gates("fraud") and not cat.get_doc("fraud@5")["is_template"]
        assert {r["status"] for r in cat.verify()} == {"ok"}
        assert cat.version_count_drift() == []  # the builder's writes kept the stored counts


def test_demo_production_story_deploys_observes_alerts_and_rolls_back() -> None:
    """The after hook deployed each production holder, fraud@5's live f1 fell, its monitor
    fired once and rolled production back to fraud@3 (redeployed), and the alert resolved."""
    path = build_demo_catalog(progress=lambda message: None)
    with open_catalog(path) as cat:
        alerts = cat.alerts("fraud")
        assert len(alerts) == 1 and alerts[0]["resolved_at"] is not None
        rollback = next(h for h in cat.history(model="fraud", stage="production")
                        if h["action"] == "rollback")
        assert (rollback["from_version"], rollback["to_version"]) == (5, 3)
        assert rollback["reason"].startswith(f"alert {alerts[0]['id']}: metrics.f1")
        series = cat.production_series("fraud", "f1")
        served = {p["version"] for p in series["points"]}
        assert served == {"fraud@1", "fraud@3", "fraud@5"}
        assert [c["action"] for c in series["changes"]][-1] == "rollback"
        worst = min(p["mean"] for p in series["points"] if p["version"] == "fraud@5")
        assert worst < series["eval"]["fraud@5"] - 0.05  # the degradation the monitor saw
    manifest = json.loads((path.parent.parent / "serving" / "fraud" / "mltui-manifest.json")
                          .read_text())
    assert manifest["ref"] == "fraud@3"  # the rollback's hook redeployed the restored version
    history = CliRunner().invoke(cli, ["history", "--model", "fraud", "--catalog", str(path)])
    assert history.exit_code == 0 and "alert (resolved)" in history.stdout


def test_demo_is_built_once_and_reused() -> None:
    messages: list[str] = []
    first = build_demo_catalog(progress=messages.append)
    built = len(messages)
    second = build_demo_catalog(progress=messages.append)
    assert first == second and len(messages) == built  # nothing rebuilt
    result = CliRunner().invoke(cli, ["demo", "--no-app"])
    assert result.exit_code == 0 and result.stdout.strip() == str(first)
    assert json.loads((demo_home() / "demo.json").read_text())["fingerprint"]
