"""A fast smoke of mutation testing: named semantic mutants of the gate, promotion, rollback and
filter code, each applied to a temporary copy of the package, must make the tests fail.

These are the holes mutation testing once found (a promotion with one of several failing gates
went through, grouping parentheses could vanish unnoticed).  The full run is `mutmut run`
(docs/testing.md); this keeps the worst ones from coming back in the default test run.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GATES = "tests/core/test_gates_boundaries.py"
CLI = "tests/cli/test_check_gates.py"
FILTER = "tests/core/test_filter_precedence.py"
TEST_FILES = ["tests/__init__.py", "tests/conftest.py", "tests/core/__init__.py",
              "tests/cli/__init__.py", "tests/cli/test_cli.py", GATES, CLI, FILTER]
# Only the tests that target each hole: every pytest start costs ~2 s of imports.
ONE_FAILING = [f"{GATES}::test_one_failing_gate_of_several_blocks_promotion",
               f"{CLI}::test_promote_is_refused_when_any_one_gate_fails"]
BOUNDARY = [f"{GATES}::test_each_operator_at_its_boundary"]
REGRESSION = [f"{GATES}::test_regression_offsets_in_both_directions"]
MISSING = [f"{GATES}::test_a_candidate_without_the_metric_fails"]
ROLLBACK = [f"{GATES}::test_rollback_with_many_earlier_holders_restores_the_previous_one"]
PRECEDENCE = [f"{FILTER}::test_precedence_matches_the_truth_table"]

# name: (module, original text, mutated text, tests that must fail)
MUTANTS = {
    "promotion-needs-all-gates-to-fail": (
        "mltui/core/registry.py", "if failed and not force:",
        "if failed and len(failed) == len(results) and not force:", ONE_FAILING),
    "check-passes-if-any-gate-passes": (
        "mltui/core/registry.py", '"passed": all(r.passed for r in results)',
        '"passed": any(r.passed for r in results)', ONE_FAILING),
    "at-least-becomes-more-than": (
        "mltui/core/gates.py", '">=": lambda a, b: a >= b', '">=": lambda a, b: a > b',
        BOUNDARY),
    "regression-offset-sign-flipped": (
        "mltui/core/gates.py", "reference + rule.offset", "reference - rule.offset", REGRESSION),
    "missing-candidate-metric-passes": (
        "mltui/core/gates.py", "return GateResult(rule.text, False, None, expected,",
        "return GateResult(rule.text, True, None, expected,", MISSING),
    "rollback-to-the-first-holder": (
        "mltui/core/registry.py", "target = stack[-2]", "target = stack[0]", ROLLBACK),
    "filter-groups-lose-parentheses": (
        "mltui/core/query.py",
        'return "(" + joiner.join(self.node(term) for term in node.terms) + ")"',
        "return joiner.join(self.node(term) for term in node.terms)", PRECEDENCE),
}


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory) -> Path:
    """A copy of the package and the tests these mutants need (one per module run)."""
    root = tmp_path_factory.mktemp("mutants")
    shutil.copytree(ROOT / "mltui", root / "mltui",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for name in TEST_FILES:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, root / name)
    return root


def run_tests(root: Path, tests: list[str]) -> subprocess.CompletedProcess:
    """Run pytest on the copy (its mltui shadows the installed one), first failure stops it."""
    env = {**os.environ, "PYTHONPATH": str(root), "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider",
                           "-p", "no:randomly", "--rootdir", str(root), *tests],
                          cwd=root, env=env, capture_output=True, text=True, timeout=300)


def test_the_unmutated_copy_passes(sandbox: Path) -> None:
    result = run_tests(sandbox, sorted({t for m in MUTANTS.values() for t in m[3]}))
    assert result.returncode == 0, result.stdout[-2000:]


@pytest.mark.parametrize("name", list(MUTANTS))
def test_semantic_mutant_is_killed(sandbox: Path, name: str) -> None:
    module, original, mutated, tests = MUTANTS[name]
    path = sandbox / module
    source = path.read_text()
    # Exactly one match, so a rename in the code breaks this test loudly instead of silently.
    assert source.count(original) == 1, f"{name}: {original!r} not found once in {module}"
    path.write_text(source.replace(original, mutated))
    try:
        result = run_tests(sandbox, tests)
    finally:
        path.write_text(source)
    # Exit 1 is "tests failed"; anything else (collection error, crash) is not a kill.
    assert result.returncode == 1, f"{name} survived:\n{result.stdout[-2000:]}"
