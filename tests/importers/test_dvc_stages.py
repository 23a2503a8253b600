"""A DVC pipeline shaped like DVC's own get-started example (prepare → train → evaluate) with
stage plots (issue 8, items 3 and 4): one run; plots and metrics are its curves; the model an
evaluate stage reads is the run's artifact, not a dataset; verify checks something."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from click.testing import CliRunner

from mltui.cli import cli
from mltui.core.catalog import open_catalog
from mltui.services.ingest import import_paths


def _md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def _pipeline(root: Path) -> Path:
    files = {
        "data/raw.csv": "x,label\n1,0\n2,1\n",
        "data/prepared/train.csv": "x,label\n1,0\n",
        "src/prepare.py": "print('prepare')\n",
        "src/train.py": "print('train')\n",
        "src/evaluate.py": "print('evaluate')\n",
        "model.pkl": "\x80weights",
        "eval/metrics.json": json.dumps({"avg_prec": 0.91, "roc_auc": 0.95}),
        "eval/plots/train.csv": "step,loss,acc\n0,0.9,0.5\n1,0.5,0.7\n2,0.3,0.8\n",
        "eval/plots/prc.json": json.dumps({"prc": [{"precision": 1.0, "recall": 0.1,
                                                    "threshold": 0.9}]}),
        "params.yaml": "train:\n  lr: 0.1\n",
    }
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)

    def dep(rel: str) -> str:
        return f"    - path: {rel}\n      hash: md5\n      md5: {_md5(root / rel)}\n"

    (root / "dvc.yaml").write_text("""stages:
  prepare:
    cmd: python src/prepare.py
    deps: [data/raw.csv, src/prepare.py]
    outs: [data/prepared]
  train:
    cmd: python src/train.py
    deps: [data/prepared, src/train.py]
    params: [train]
    outs: [model.pkl]
  evaluate:
    cmd: python src/evaluate.py
    deps: [model.pkl, data/prepared, src/evaluate.py]
    metrics:
    - eval/metrics.json:
        cache: false
    plots:
    - eval/plots/train.csv:
        cache: false
    - eval/plots/prc.json:
        cache: false
""")
    prepared = "    - path: data/prepared\n      hash: md5\n      md5: 0123456789abcdef.dir\n      nfiles: 1\n"
    (root / "dvc.lock").write_text(
        "schema: '2.0'\nstages:\n"
        "  prepare:\n    cmd: python src/prepare.py\n    deps:\n" + dep("data/raw.csv")
        + dep("src/prepare.py") + "    outs:\n" + prepared
        + "  train:\n    cmd: python src/train.py\n    deps:\n" + prepared + dep("src/train.py")
        + "    params:\n      params.yaml:\n        train.lr: 0.1\n    outs:\n" + dep("model.pkl")
        + "  evaluate:\n    cmd: python src/evaluate.py\n    deps:\n" + dep("model.pkl")
        + prepared + dep("src/evaluate.py") + "    outs:\n" + dep("eval/metrics.json")
        + dep("eval/plots/train.csv") + dep("eval/plots/prc.json"))
    return root


def test_stage_plots_are_curves_of_the_one_run(tmp_path: Path) -> None:
    project = _pipeline(tmp_path / "proj")
    cat = open_catalog(tmp_path / "c.db", create=True)
    summary = import_paths(cat, [project], model="m")
    assert summary.runs_new == 1 and summary.versions_new == 1, summary.as_dict()
    (version,) = cat.versions(cat.version_ids(model="m"))
    assert version["version"] == 1 and version["artifact_path"].endswith("model.pkl")
    detail = cat.run_detail(version["run_id"])
    metrics = {m["key"]: m for m in detail["metrics"]}
    assert metrics["loss"]["count"] == 3 and metrics["loss"]["last"] == 0.3
    assert metrics["loss"]["min_step"] == 2 and metrics["acc"]["max"] == 0.8
    assert metrics["roc_auc"]["last"] == 0.95
    assert detail["tags"]["dvc.plots"] == "eval/plots/prc.json,eval/plots/train.csv"
    cat.close()


def test_the_evaluated_model_is_an_artifact_not_a_dataset(tmp_path: Path) -> None:
    project = _pipeline(tmp_path / "proj")
    catalog = tmp_path / "c.db"
    cat = open_catalog(catalog, create=True)
    import_paths(cat, [project], model="m")
    names = [d["name"] for d in cat.datasets()]
    assert "model" not in names and "raw" in names and "prepared" in names
    cat.close()
    runner = CliRunner()
    result = runner.invoke(cli, ["--catalog", str(catalog), "verify", "m@1", "--json"])
    checked = [r for r in json.loads(result.stdout) if r["status"] == "ok"]
    assert any(r["kind"] == "version" for r in checked) and result.exit_code == 0


def test_verify_fails_when_nothing_could_be_checked(tmp_path: Path) -> None:
    catalog = tmp_path / "c.db"
    cat = open_catalog(catalog, create=True)
    run = cat.log_run("r", metrics={"f1": 0.5})
    cat.register("m", run=run)
    cat.close()
    result = CliRunner().invoke(cli, ["--catalog", str(catalog), "verify", "m@1"])
    assert result.exit_code == 1 and "nothing could be verified" in result.output
