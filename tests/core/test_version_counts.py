"""Each model's stored version count (schema 6) equals a live count after every kind of write.

The first screen lists models with their version counts; on 1,000,000 versions counting them
live cost 43-65 ms of the app's start, so the count is stored and kept by triggers.  These
tests drive every path that writes versions — register, archive, an import with ``--model``, a
registry import, a pull from a remote, raw inserts (the benchmarks' generator), deletes and
moves no API makes — in random order, and compare after each step.
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mltui.core import schema
from mltui.core.catalog import Catalog, open_catalog
from mltui.core.records import ImportSummary
from mltui.core.records import ImportBatch, RegistryModelRecord, RegistryVersionRecord, RunRecord
from mltui.core.remote_writes import PullState
from tests.conftest import TickingClock, new_catalog

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "catalogs"
REPO = Path(__file__).resolve().parents[2]
MODELS = ("fraud", "churn", "rank")


def live_counts(cat: Catalog) -> dict[str, int]:
    """Every model's version count, counted now."""
    return dict(cat._conn().execute(
        "SELECT mo.name, (SELECT count(*) FROM model_versions v WHERE v.model_id = mo.id) "
        "FROM models mo"))


def stored_counts(cat: Catalog) -> dict[str, int]:
    """Every model's stored version count; the model list must report the same."""
    stored = dict(cat._conn().execute("SELECT name, version_count FROM models"))
    assert {m["name"]: m["versions"] for m in cat.models()} == stored
    return stored


def a_run(name: str) -> RunRecord:
    """A minimal imported run with a unique uid."""
    return RunRecord(uid=uuid.uuid4().hex, name=name, source_format="api", source_path="")


# -- one operation per write path; each takes the catalog and a model name -----------------------


def register(cat: Catalog, model: str) -> None:
    cat.register(model, run=cat.log_run(f"{model}-run"))


def archive_newest(cat: Catalog, model: str) -> None:
    ids = cat.version_ids(model=model, limit=1, include_archived=False) \
        if model in live_counts(cat) else []
    if ids:
        cat.archive(ids[0], reason="test", force=True)


def import_with_model(cat: Catalog, model: str) -> None:
    batch = ImportBatch("api", "", runs=[a_run("imported-a"), a_run("imported-b")])
    cat.write_import([batch], ImportSummary(), model=model)


def dry_run_import(cat: Catalog, model: str) -> None:
    batch = ImportBatch("api", "", runs=[a_run("dry")])
    cat.write_import([batch], ImportSummary(), model=model, dry_run=True)  # rolled back


def registry_record(model: str) -> RegistryModelRecord:
    """A source registry's model of two versions, new to the catalog each time."""
    created = float(uuid.uuid4().int % 10**9)
    return RegistryModelRecord(model, versions=[
        RegistryVersionRecord(number, created_at=created + number) for number in (1, 2)])


def registry_import(cat: Catalog, model: str) -> None:
    batch = ImportBatch("mlflow", "/mlruns", models=[registry_record(model)])
    cat.write_import([batch], ImportSummary())


def pull(cat: Catalog, model: str) -> None:
    batch = ImportBatch("mlflow-server", "http://mlflow", models=[registry_record(model)])
    cat.write_pull(PullState("origin", "http://mlflow", None, {}, []), [batch], ImportSummary())


def raw_insert(cat: Catalog, model: str) -> None:
    """What benchmarks/generate.py does: rows straight into the table."""
    with cat._write() as conn:
        model_id = cat._ensure_model(conn, model)
        top = conn.execute("SELECT COALESCE(max(version), 0) FROM model_versions "
                           "WHERE model_id = ?", (model_id,)).fetchone()[0]
        conn.executemany(
            "INSERT INTO model_versions (model_id, version, canonical_name, status) "
            "VALUES (?,?,?,'ready')",
            [(model_id, top + n, f"{model}-raw-{uuid.uuid4().hex}") for n in (1, 2, 3)])
        conn.execute("UPDATE models SET next_version = ? WHERE id = ?", (top + 4, model_id))


def raw_delete(cat: Catalog, model: str) -> None:
    """No API deletes a version; a hand edit of the file still must not make counts drift."""
    with cat._write() as conn:
        conn.execute("DELETE FROM version_tags WHERE version_id IN (SELECT v.id FROM "
                     "model_versions v JOIN models mo ON mo.id = v.model_id WHERE mo.name = ? "
                     "AND v.id NOT IN (SELECT version_id FROM stages))", (model,))
        conn.execute("DELETE FROM model_versions WHERE id = (SELECT max(v.id) FROM model_versions "
                     "v JOIN models mo ON mo.id = v.model_id WHERE mo.name = ? AND v.id NOT IN "
                     "(SELECT version_id FROM stages) AND v.id NOT IN (SELECT version_id FROM "
                     "version_tags) AND v.id NOT IN (SELECT version_id FROM remote_versions))",
                     (model,))


def raw_move(cat: Catalog, model: str) -> None:
    """A version moved to another model by hand: one count down, the other up."""
    with cat._write() as conn:
        target = cat._ensure_model(conn, "moved")
        conn.execute("UPDATE model_versions SET model_id = ?, version = 1000000 + id "
                     "WHERE id = (SELECT min(v.id) FROM model_versions v JOIN models mo ON "
                     "mo.id = v.model_id WHERE mo.name = ?)", (target, model))


OPERATIONS = [register, archive_newest, import_with_model, dry_run_import, registry_import, pull,
              raw_insert, raw_delete, raw_move]


@pytest.fixture(scope="module")
def shared_catalog(tmp_path_factory) -> Catalog:
    """One catalog the random sequences keep writing to (the counts must hold throughout)."""
    cat = new_catalog(tmp_path_factory.mktemp("counts") / "catalog.db")
    yield cat
    cat.close()


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=st.lists(st.tuples(st.sampled_from(OPERATIONS), st.sampled_from(MODELS)),
                      min_size=1, max_size=8))
def test_stored_counts_equal_live_counts_after_any_sequence_of_writes(shared_catalog, steps):
    for operation, model in steps:
        operation(shared_catalog, model)
        assert stored_counts(shared_catalog) == live_counts(shared_catalog), operation.__name__
    assert shared_catalog.version_count_drift() == []


def test_every_write_path_changes_the_count_it_should(catalog) -> None:
    expected = {"fraud": 1, "churn": 2, "rank": 2, "pulled": 2, "raw": 3}
    register(catalog, "fraud")
    import_with_model(catalog, "churn")
    dry_run_import(catalog, "churn")
    registry_import(catalog, "rank")
    archive_newest(catalog, "rank")  # archived versions still count
    pull(catalog, "pulled")
    raw_insert(catalog, "raw")
    assert stored_counts(catalog) == expected
    raw_move(catalog, "raw")
    raw_delete(catalog, "churn")
    assert stored_counts(catalog) == {**expected, "raw": 2, "moved": 1, "churn": 1}


# -- the schema-6 migration ---------------------------------------------------------------------


def schema5_catalog(path: Path, versions: dict[str, int]) -> None:
    """A catalog at schema 5 (the steps main released) with raw versions per model."""
    import sqlite_utils

    conn = sqlite3.connect(str(path))
    db = sqlite_utils.Database(conn)
    for step in schema.MIGRATIONS[:5]:
        step(db)
    conn.execute("PRAGMA user_version = 5")
    for model_id, (name, count) in enumerate(versions.items(), start=1):
        conn.execute("INSERT INTO models (id, name, next_version) VALUES (?, ?, ?)",
                     (model_id, name, count + 1))
        conn.executemany("INSERT INTO model_versions (model_id, version, canonical_name, status) "
                         "VALUES (?,?,?,'ready')",
                         [(model_id, n, f"{name}_v{n}") for n in range(1, count + 1)])
    conn.commit()
    conn.close()


def test_the_migration_fills_each_models_count(tmp_path) -> None:
    path = tmp_path / "catalog.db"
    wanted = {"big": 250, "small": 1, "empty": 0, "mid": 17}
    schema5_catalog(path, wanted)
    with open_catalog(path, clock=TickingClock()) as cat:
        assert stored_counts(cat) == wanted
        cat.register("empty", run=cat.log_run("first"))  # and the triggers run from now on
        assert stored_counts(cat) == {**wanted, "empty": 1}
        assert cat.version_count_drift() == []
    assert list(tmp_path.glob("catalog.db.bak-v5-*"))  # backed up before


def test_the_released_schema5_fixture_migrates_with_its_counts(tmp_path) -> None:
    path = tmp_path / "catalog.db"
    shutil.copy(FIXTURES / "schema-v5.db", path)
    with open_catalog(path) as cat:
        assert stored_counts(cat) == {"fraud": 3, "churn": 2}
        assert {m["name"]: m["latest"] for m in cat.models()} == {"fraud": 3, "churn": 2}


# -- drift is reported ---------------------------------------------------------------------------


def test_verify_reports_a_drifted_count_and_exits_1(seeded, catalog_path) -> None:
    assert seeded.version_count_drift() == []
    with seeded._write() as conn:  # what only an edit around the triggers can do
        conn.execute("UPDATE models SET version_count = 7 WHERE name = 'fraud'")
    drift = [r for r in seeded.verify() if r["status"] == "changed"]
    assert drift == [{"key": "fraud", "kind": "model", "label": "fraud (version count)",
                      "path": None, "hash_algo": None, "hash": None, "status": "changed",
                      "detail": "stores 7 versions, has 3"}]
    assert seeded.verify("fraud@1") == [r for r in seeded.verify("fraud@1")
                                        if r["kind"] != "model"]  # a reference: its lineage only
    result = subprocess.run([sys.executable, "-m", "mltui", "--catalog", str(catalog_path),
                             "verify"], capture_output=True, text=True, timeout=60,
                            env={**__import__("os").environ, "PYTHONPATH": str(REPO)})
    assert result.returncode == 1, result.stderr
    assert "changed       fraud (version count)  stores 7 versions, has 3" in result.stdout
