"""HF log_history read as columns packs exactly as the point-per-value reading did.

The reference below is the reader as it was: a ``MetricPoint`` per numeric value (``point``
for anything but a finite float).  Every key's packed series and summary must be byte for byte
what the catalog stored from those points.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mltui.core.ingest import _summarise, _summarise_columns
from mltui.core.series import encode, encode_columns
from mltui.importers import hf_trainer
from mltui.importers.common import ImportContext, point

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "hf"
STATES = sorted(FIXTURES.rglob("trainer_state.json"))


def reference_points(history: list) -> dict[str, list]:
    """The old reading: one point per numeric value, in log order, grouped by key."""
    by_key: dict[str, list] = {}
    for entry in history:
        step = hf_trainer._as_int(entry.get("step"))
        epoch = None if entry.get("epoch") is None else float(entry["epoch"])
        for key, value in entry.items():
            if key in ("step", "epoch") or isinstance(value, (dict, list, str, bool)) \
                    or value is None:
                continue
            by_key.setdefault(key, []).append(point(key, value, step=step, epoch=epoch))
    return by_key


def assert_same(history: list) -> None:
    columns = hf_trainer._history_columns(history, Path("trainer_state.json"), json.dumps(history))
    expected = reference_points(history)
    assert [c.key for c in columns] == list(expected)
    for column in columns:
        points = expected[column.key]
        assert encode_columns(column) == encode(points)
        assert _summarise_columns(column.values, column.steps, column.raws) == _summarise(points)


@pytest.mark.parametrize("state", STATES, ids=lambda p: str(p.relative_to(FIXTURES)))
def test_real_trainer_states_pack_as_before(state):
    assert_same(json.loads(state.read_text())["log_history"])


def test_ints_non_finite_values_and_missing_epochs_pack_as_before():
    history = [
        {"epoch": 0, "step": 1, "loss": 2, "grad_norm": float("nan"), "lr": 1e-4},
        {"step": 2, "loss": float("inf"), "report": {"f1": 0.5}, "tag": "x", "flag": True},
        {"epoch": 0.5, "step": 3.0, "loss": -0.0, "big": 10 ** 400, "none": None},
        {"epoch": 1.0, "step": 4, "loss": float("-inf"), "eval_loss": 0.25},
    ]
    assert_same(history)


def test_a_history_key_named_like_a_final_result_stays_one_series(tmp_path):
    folder = tmp_path / "out"
    folder.mkdir()
    state = {"global_step": 2, "epoch": 1.0, "log_history": [
        {"epoch": 0.5, "step": 1, "final/eval_loss": 0.9},
        {"epoch": 1.0, "step": 2, "final/eval_loss": 0.8}]}
    (folder / "trainer_state.json").write_text(json.dumps(state))
    (folder / "eval_results.json").write_text(json.dumps({"eval_loss": 0.7}))
    (run,) = hf_trainer.read(folder, ImportContext(root=folder)).runs
    assert run.metric_columns == []
    assert [(p.step, p.value) for p in run.metrics if p.key == "final/eval_loss"] == \
        [(1, 0.9), (2, 0.8), (2, 0.7)]
