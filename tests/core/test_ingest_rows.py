"""An import's rows written a table at a time (core/ingest_rows.py) end as run by run would.

The writer keeps new runs' rows back and inserts them per table; whatever reads those tables
in the same transaction must see them: the registry (``--model``), a run read twice in one
import, and the next import of the same logs.
"""

from __future__ import annotations

import pytest

from mltui.core import ingest_rows
from mltui.core.records import (ArtifactRecord, ImportBatch, ImportSummary, MetricColumns,
                                MetricPoint, RunRecord)
from tests.conftest import new_catalog, snapshot_tables


def run(number: int, *, value: float = 0.5, fingerprint: str = "a") -> RunRecord:
    """A run with params, tags, an artifact, points read both ways and a non-finite value."""
    return RunRecord(
        uid=f"run-{number}", source_format="mlflow", source_path=f"/logs/{number}",
        name=f"run {number}", start_time=1_700_000_000 + number, fingerprint=fingerprint,
        params={"lr": str(number)}, tags={"team": "ml"},
        artifacts=[ArtifactRecord(path_raw=f"/logs/{number}/model", hash_algo="sha256",
                                  hash=f"{number:064x}", size=10)],
        metrics=[MetricPoint("acc", value, step=1, seq=0), MetricPoint("acc", None, 2,
                                                                       raw="nan", seq=1)],
        metric_columns=[MetricColumns("loss", [value, value / 2], [0, 1], [1.0, 2.0])])


def written(tmp_path, name: str, batches: list[ImportBatch], **options) -> dict:
    """Every row of a fresh catalog after importing ``batches``."""
    path = tmp_path / name / "catalog.db"
    catalog = new_catalog(path)
    catalog.write_import(batches, ImportSummary(), **options)
    catalog.close()
    return {table: rows for table, rows in snapshot_tables(path).items()
            if table not in ("events", "audit_head", "meta")}


@pytest.mark.parametrize("per_flush", [1, 2, 3, 1000])
def test_rows_equal_those_written_run_by_run(tmp_path, monkeypatch, per_flush):
    expected = written(tmp_path, "one-by-one", [ImportBatch("mlflow", "/logs", runs=[run(n)])
                                                for n in range(5)])
    monkeypatch.setattr(ingest_rows, "RUNS_PER_FLUSH", per_flush)
    got = written(tmp_path, "batched", [ImportBatch("mlflow", "/logs",
                                                    runs=[run(n) for n in range(5)])])
    assert got == expected
    assert len(got["metric_series"]) == 10 and len(got["params"]) == 5


def test_a_run_read_twice_in_one_import_keeps_the_second_reading(tmp_path):
    rows = written(tmp_path, "twice", [
        ImportBatch("mlflow", "/logs", runs=[run(1), run(2)]),
        ImportBatch("mlflow", "/logs", runs=[run(1, value=0.25, fingerprint="b")])])
    once = written(tmp_path, "once", [
        ImportBatch("mlflow", "/logs", runs=[run(1, value=0.25, fingerprint="b"), run(2)])])
    assert len(rows.pop("runs")) == len(once.pop("runs")) == 2  # (its update time differs)
    assert rows == once


def test_registering_reads_the_artifacts_of_runs_still_waiting(tmp_path, monkeypatch):
    monkeypatch.setattr(ingest_rows, "RUNS_PER_FLUSH", 1000)
    rows = written(tmp_path, "model", [ImportBatch("mlflow", "/logs",
                                                   runs=[run(n) for n in range(3)])], model="m")
    hashes = sorted(row for row in rows["model_versions"])
    assert len(hashes) == 3
    assert all(f"{n:064x}" in "".join(hashes) for n in range(3))
