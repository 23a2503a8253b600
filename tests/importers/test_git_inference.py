"""Git commit inference for runs whose log names no commit (issue 8, item 10): only when the
run is not older than HEAD, marked inferred wherever it is shown, one git call per repository."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from mltui.cli import cli
from mltui.core.catalog import open_catalog
from mltui.services import git as git_mod
from mltui.services.discovery import read_paths
from mltui.services.ingest import import_paths

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="needs git")

COMMIT_AT = 1_750_000_000  # seconds: HEAD of the repository below
DAY = 86_400


def _repo(root: Path) -> str:
    env = {**os.environ, "GIT_AUTHOR_DATE": f"@{COMMIT_AT} +0000",
           "GIT_COMMITTER_DATE": f"@{COMMIT_AT} +0000", "GIT_AUTHOR_NAME": "t",
           "GIT_AUTHOR_EMAIL": "t@example.invalid", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@example.invalid"}
    root.mkdir(parents=True, exist_ok=True)
    (root / "train.py").write_text("print('train')\n")
    for args in (["init", "-q", "-b", "main"], ["add", "train.py"], ["commit", "-q", "-m", "c"]):
        subprocess.run(["git", "-C", str(root), *args], check=True, env=env, capture_output=True)
    return subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], check=True, text=True,
                          capture_output=True).stdout.strip()


def _mlflow_run(store: Path, run_id: str, start_s: int) -> None:
    """A minimal MLflow file-store run (as FileStore writes it), without a git tag."""
    exp = store / "1"
    exp.mkdir(parents=True, exist_ok=True)
    (exp / "meta.yaml").write_text("artifact_location: file:///x\nexperiment_id: '1'\n"
                                   "lifecycle_stage: active\nname: exp\n")
    run = exp / run_id
    (run / "metrics").mkdir(parents=True)
    (run / "meta.yaml").write_text(
        f"artifact_uri: file:///x/{run_id}/artifacts\nend_time: {start_s * 1000 + 5000}\n"
        f"experiment_id: '1'\nlifecycle_stage: active\nrun_id: {run_id}\nrun_name: {run_id}\n"
        f"start_time: {start_s * 1000}\nstatus: 3\nuser_id: u\n")
    (run / "metrics" / "loss").write_text(f"{start_s * 1000} 0.5 0\n")


def test_commit_is_inferred_only_for_runs_not_older_than_head(tmp_path: Path) -> None:
    head = _repo(tmp_path / "proj")
    store = tmp_path / "proj" / "mlruns"
    _mlflow_run(store, "a" * 32, COMMIT_AT - 90 * DAY)  # trained months before HEAD
    _mlflow_run(store, "b" * 32, COMMIT_AT + DAY)       # trained on HEAD
    runs = {r.uid[0]: r for b in read_paths([store]).batches for r in b.runs}
    assert runs["a"].git_commit is None and not runs["a"].git_commit_inferred
    assert runs["b"].git_commit == head and runs["b"].git_commit_inferred
    assert runs["b"].git_branch == "main"


def test_git_is_asked_once_per_repository(tmp_path: Path, monkeypatch) -> None:
    _repo(tmp_path / "proj")
    store = tmp_path / "proj" / "mlruns"
    for index in range(30):
        _mlflow_run(store, f"{index:032x}", COMMIT_AT + DAY)
    calls: list[list[str]] = []
    real = subprocess.run

    def counting(args, *rest, **kwargs):
        calls.append(list(args))
        return real(args, *rest, **kwargs)

    monkeypatch.setattr(git_mod.subprocess, "run", counting)
    result = read_paths([store])
    assert sum(len(b.runs) for b in result.batches) == 30
    assert all(r.git_commit_inferred for b in result.batches for r in b.runs)
    assert len([c for c in calls if c[0] == "git"]) <= 2  # not 30 x 3


def test_inferred_commit_is_marked_everywhere(tmp_path: Path) -> None:
    head = _repo(tmp_path / "proj")
    store = tmp_path / "proj" / "mlruns"
    _mlflow_run(store, "b" * 32, COMMIT_AT + DAY)
    catalog = tmp_path / "c.db"
    cat = open_catalog(catalog, create=True)
    import_paths(cat, [store], model="m")
    cat.close()

    def cli_out(*args: str) -> str:
        result = CliRunner().invoke(cli, ["--catalog", str(catalog), *args],
                                    catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return result.stdout

    shown = json.loads(cli_out("show", "run:bbb", "--json"))
    assert shown["git_commit"] == head and shown["git_commit_inferred"] == 1
    assert "inferred" in cli_out("show", "run:bbb")
    assert "inferred" in cli_out("show", "m@1")
    assert "inferred" in cli_out("ls", "-m", "m")
    assert json.loads(cli_out("ls", "runs", "--json"))[0]["git_commit_inferred"] == 1
    assert "code (inferred)" in cli_out("lineage", "m@1")
    assert "(inferred)" in cli_out("compare", "m@1", "m@1")
