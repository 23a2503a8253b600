"""Acceptance (issue 8): both MLflow stores made by mlflow-skinny (``fixtures/mlflow/
make_fixture.py``), imported through the catalog, against what MLflow's own client returned
(``expected.json``): metric keys, point counts, steps, and last/min/max per key."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from mltui.services.ingest import import_paths

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "mlflow"
EXPECTED = json.loads((FIXTURES / "expected.json").read_text())["stores"]
STORES = [("files", FIXTURES / "filestore" / "mlruns"), ("sqlite", FIXTURES / "sqlite" / "mlflow.db")]
SQL_INF = 1.7976931348623157e308  # how MLflow's SQL store keeps +/-inf (expected.json notes)


def _number(text: str) -> float:
    value = float(text)
    return math.copysign(math.inf, value) if abs(value) == SQL_INF else value


@pytest.mark.parametrize("store,path", STORES, ids=[s for s, _ in STORES])
def test_metric_summaries_equal_mlflow_history(catalog, store, path) -> None:
    import_paths(catalog, [path])
    runs = {uid: r for uid, r in EXPECTED[store]["runs"].items()
            if r["lifecycle_stage"] == "active" and r["experiment_lifecycle_stage"] == "active"}
    for uid, expected in runs.items():
        run_id = catalog.resolve_run(f"run:{uid}")
        summary = {m["key"]: m for m in catalog.run_detail(run_id)["metrics"]}
        assert set(summary) == set(expected["metrics"]), uid
        for key, metric in expected["metrics"].items():
            points = sorted({(s, v, t) for s, v, t in metric["points"]}, key=lambda p: (p[2], p[0]))
            got = summary[key]
            assert got["count"] == metric["distinct_len"], (uid, key)
            finite = [_number(v) for _, v, _ in points if math.isfinite(_number(v))]
            if finite:
                assert math.isclose(got["min"], min(finite)) and math.isclose(got["max"], max(finite))
            # MLflow's latest value: the highest step, then the newest timestamp.
            step, value, _ = max(points, key=lambda p: (p[0], p[2]))
            if not (key == "eval/f1" and store == "files"):  # file store reads step 0 (notes)
                assert got["last_step"] == step, (uid, key)
            last = got["last"] if got["last"] is not None else float(got["last_raw"])
            expected_last = _number(value)
            assert (math.isnan(last) and math.isnan(expected_last)) or last == expected_last, \
                (uid, key, got, value)
