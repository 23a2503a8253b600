"""The CI recipes in examples/ci run as written: every ``mltui`` command in each file, in order,
against a temporary catalog fed with the sample project's training logs."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
RECIPES = {"github-actions.yml": "steps", "gitlab-ci.yml": "script"}


def mltui_commands(recipe: Path) -> tuple[dict[str, str], list[str]]:
    """The recipe's variables and its ``mltui`` commands in order (shell conditions dropped:
    the test plays a push to the main branch, where every step runs)."""
    data = yaml.safe_load(recipe.read_text())
    if "jobs" in data:  # GitHub Actions
        env = dict(data.get("env", {}))
        scripts = [step["run"] for job in data["jobs"].values() for step in job["steps"]
                   if "run" in step]
    else:  # GitLab CI
        env = dict(data.get("variables", {}))
        job = data["model"]
        scripts = [*job.get("before_script", []), *job["script"], *job.get("after_script", [])]
    commands = []
    for script in scripts:
        for part in re.split(r";|&&|\bthen\b|\bfi\b|\n", script):
            part = part.strip()
            if part.startswith("mltui "):
                commands.append(part)
    return {k: str(v) for k, v in env.items()}, commands


def train(project: Path, run_name: str, lr: str, data: str) -> None:
    """A training step: the sample project's script writes an MLflow run into ./mlruns."""
    subprocess.run([sys.executable, str(ROOT / "sample_project" / "train.py"), "--data", data,
                    "--target", "is_fraud", "--lr", lr, "--epochs", "20", "--out", ".",
                    "--run-name", run_name], cwd=project, check=True, capture_output=True,
                   timeout=120)


@pytest.mark.parametrize("name", sorted(RECIPES))
def test_recipe_runs_every_mltui_command_in_order(name: str, tmp_path: Path) -> None:
    env_vars, commands = mltui_commands(ROOT / "examples" / "ci" / name)
    assert [c.split()[1] for c in commands] == ["import", "check", "promote"]
    project = tmp_path / "project"
    (project / "data").mkdir(parents=True)
    shutil.copyfile(ROOT / "sample_project" / "data" / "v2" / "transactions.csv",
                    project / env_vars["DATASET"])
    summary = tmp_path / "step-summary.md"
    env = {**os.environ, **env_vars, "GITHUB_STEP_SUMMARY": str(summary), "GITHUB_SHA": "abc123",
           "CI_COMMIT_SHA": "abc123",
           "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    mltui = f'"{sys.executable}" -m mltui'
    reports = []
    for job, (run_name, lr) in enumerate([("first", "0.05"), ("second", "0.3")]):
        train(project, run_name, lr, env_vars["DATASET"])
        if job == 1:  # the team set a regression gate between the two pipelines
            subprocess.run(f'{mltui} gate add "$MODEL" "metrics.f1 >= production - 0.5"',
                           shell=True, cwd=project, env=env, check=True, timeout=60)
        for command in commands:
            result = subprocess.run(["bash", "-c", command.replace("mltui ", mltui + " ", 1)],
                                    cwd=project, env=env, check=False, capture_output=True, text=True,
                                    timeout=120)
            assert result.returncode == 0, f"{command}: {result.stderr}"
        reports.append((project / "mltui-report.md").read_text())
    assert "no version holds production" in reports[0]
    assert "| metric | fraud@1 | fraud@2 | Δ |" in reports[1]
    assert "metrics.f1 \\>= production - 0.5 | pass" in reports[1]
    # check appended each job's report to the job summary itself
    assert summary.read_text() == reports[0] + reports[1]
    assert (project / ".mltui" / "catalog.db").is_file()
    history = subprocess.run(f"{mltui} history --json", shell=True, cwd=project, env=env,
                             check=False, capture_output=True, text=True, timeout=60)
    assert '"to_version": 2' in history.stdout and '"reason": "CI abc123"' in history.stdout
