"""Two MLflow stores with the same registered model names (issue 8, item 2): neither store's
versions are dropped; the summary says which were numbered on and why."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

from click.testing import CliRunner

from mltui.cli import cli
from mltui.core.catalog import open_catalog
from mltui.services.ingest import import_paths

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "mlflow"


def _second_server(tmp_path: Path) -> Path:
    """A copy of the file store whose registry versions were created at other times (another
    server that registered its own mnist-classifier v1..v4)."""
    store = tmp_path / "server-b" / "mlruns"
    shutil.copytree(FIXTURES / "filestore" / "mlruns", store)
    for meta in (store / "models").glob("*/version-*/meta.yaml"):
        text = meta.read_text()
        meta.write_text(re.sub(r"^creation_timestamp: (\d+)$",
                               lambda m: f"creation_timestamp: {int(m[1]) + 86_400_000}",
                               text, flags=re.M))
    return store


def _versions(cat, model: str) -> list[int]:
    return [r["version"] for r in cat.versions(cat.version_ids(model=model))]


def test_second_store_with_the_same_model_names_keeps_both(tmp_path: Path) -> None:
    first = FIXTURES / "filestore" / "mlruns"
    second = _second_server(tmp_path)
    cat = open_catalog(tmp_path / "c.db", create=True)
    one = import_paths(cat, [first])
    before = sorted(_versions(cat, "mnist-classifier"))
    stages_before = {m["name"]: m["stages"] for m in cat.models()}
    assert one.versions_new == 4 and not one.merged
    two = import_paths(cat, [second])
    assert two.versions_new == one.versions_new  # nothing dropped silently
    after = sorted(_versions(cat, "mnist-classifier"))
    assert len(after) == 2 * len(before)
    kept = [line for line in two.merged if " kept as " in line]
    assert len(kept) == 4, two.merged
    assert all("already holds another version" in line for line in kept)
    # The source number stays as provenance on the renumbered versions.
    newest = cat.version_detail(f"mnist-classifier@{max(after)}")
    assert newest["tags"]["import.source"] == str(second)
    # The first store's stages are not taken over by the second store's versions.
    assert {m["name"]: m["stages"] for m in cat.models()} == stages_before
    assert any("not moved" in line for line in two.merged)
    # Importing either store again adds nothing.
    again = import_paths(cat, [first, second])
    assert again.versions_new == 0 and not [line for line in again.merged if " kept as " in line]
    cat.close()


def test_import_json_lists_merged_sources(tmp_path: Path) -> None:
    catalog = tmp_path / "c.db"
    runner = CliRunner()
    args = ["--catalog", str(catalog), "import", "--json"]
    assert runner.invoke(cli, [*args, str(FIXTURES / "filestore" / "mlruns")]).exit_code == 0
    result = runner.invoke(cli, [*args, str(_second_server(tmp_path))])
    assert result.exit_code == 0, result.output
    merged = json.loads(result.stdout)["merged"]
    kept = [line for line in merged if " kept as " in line]
    assert len(kept) == 4  # mnist-classifier v1..v3 (v4 is deleted in MLflow), text v1
    assert all(("mnist-classifier" in line or "text-classifier" in line) for line in kept)
    other = ["--catalog", str(tmp_path / "d.db"), "import"]
    assert runner.invoke(cli, [*other, str(FIXTURES / "filestore" / "mlruns")]).exit_code == 0
    text = runner.invoke(cli, [*other, str(_second_server(tmp_path / "c"))])
    assert "renumbered or kept" in text.output and "kept as mnist-classifier@" in text.output
