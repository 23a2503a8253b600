"""MLflow's dataset context (``mlflow.data.context``) is the dataset's role in the run's
lineage, and filterable (issue 8, item 9).  Both fixture stores were written by MLflow, which
logged the pandas dataset with context ``training``."""

from __future__ import annotations

from pathlib import Path

import pytest

from mltui.core.catalog import open_catalog
from mltui.services.ingest import import_paths

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "mlflow"
RUN = "bdff5304b4244dff9d03d950342dfa7f"  # the run that logged the dataset input


@pytest.mark.parametrize("store", [FIXTURES / "filestore" / "mlruns",
                                   FIXTURES / "sqlite" / "mlflow.db"])
def test_dataset_context_is_its_role(tmp_path: Path, store: Path) -> None:
    cat = open_catalog(tmp_path / "c.db", create=True)
    import_paths(cat, [store])
    run_id = cat.resolve_run(f"run:{RUN}")
    roles = {d["name"]: d["role"] for d in cat.run_detail(run_id)["datasets"]}
    assert set(roles.values()) == {"training"}, roles
    assert cat.run_ids(filter="datasets.context = 'training'") == [run_id]
    assert cat.run_ids(filter="datasets.context = 'evaluation'") == []
    graph = cat.lineage(f"run:{RUN}", depth=1)
    assert [b["role"] for b in graph["upstream"] if b["key"].startswith("dataset")] == ["training"]
    cat.close()
