"""`mltui check` and `mltui promote` when exactly one of several gates fails."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mltui.core.catalog import open_catalog
from tests.cli.test_cli import run
from tests.conftest import TickingClock, snapshot_tables

GATES = ["metrics.f1 >= 0.5", "metrics.loss <= 0.5", "metrics.acc > 0.5"]
PASSING = {"f1": 0.5, "loss": 0.5, "acc": 0.75}  # f1 and loss exactly at their boundary
FAILING = {"f1": 0.25, "loss": 0.75, "acc": 0.5}


@pytest.fixture
def gated_path(catalog_path: Path) -> Path:
    """m@1 passes all three gates; m@2..m@4 each fail exactly one (in GATES order)."""
    cat = open_catalog(catalog_path, create=True, clock=TickingClock())
    cat.register("m", run=cat.log_run("r", metrics=PASSING))
    for key in ("f1", "loss", "acc"):
        cat.register("m", run=cat.log_run("r", metrics={**PASSING, key: FAILING[key]}))
    for rule in GATES:
        cat.add_gate("m", rule)
    cat.close()
    return catalog_path


def test_check_passes_when_every_gate_passes(gated_path: Path) -> None:
    result = run(["check", "m@1"], gated_path)
    assert result.exit_code == 0
    assert result.stdout.splitlines()[-1] == "m@1: passed"


@pytest.mark.parametrize("failing", [0, 1, 2], ids=GATES)
def test_check_fails_when_any_one_gate_fails(gated_path: Path, failing: int) -> None:
    ref = f"m@{failing + 2}"
    text = run(["check", ref], gated_path)
    assert text.exit_code == 1
    marks = [line.split()[0] for line in text.stdout.splitlines()[:3]]
    assert marks == ["FAIL" if i == failing else "pass" for i in range(3)]
    assert text.stdout.splitlines()[-1] == f"{ref}: FAILED"
    data = run(["check", ref, "--format", "json"], gated_path)
    assert data.exit_code == 1
    assert [r["passed"] for r in json.loads(data.stdout)["results"]] == [i != failing
                                                                          for i in range(3)]


@pytest.mark.parametrize("failing", [0, 1, 2], ids=GATES)
def test_promote_is_refused_when_any_one_gate_fails(gated_path: Path, failing: int) -> None:
    assert run(["promote", "m@1"], gated_path).exit_code == 0
    before = snapshot_tables(gated_path)
    refused = run(["promote", f"m@{failing + 2}", "--reason", "try"], gated_path)
    assert refused.exit_code == 1
    lines = refused.stderr.strip().splitlines()
    # One line per gate, then the one-line error naming the single failure.
    assert [line.split()[0] for line in lines[:3]] == ["FAIL" if i == failing else "pass"
                                                      for i in range(3)]
    assert len(lines) == 4 and f"1 gate(s) failed: {GATES[failing]} (" in lines[3]
    assert snapshot_tables(gated_path) == before
