"""Property-based hostile input: no parser, importer or argument ends in a traceback (items 5, 6).

* the filter and reference parsers take any text: a result, or one MltuiError;
* every importer reads its real fixture with one file mutated (huge and negative numbers,
  deep nesting, control characters, markup, truncation, random bytes): each failure is one
  skipped log, and every run that was stored can be listed and shown;
* every CLI argument takes any text, including non-UTF-8 (surrogate-escaped) text: exit 0, 1
  or 2, one line, never "internal error".

The default run keeps to a few examples per case (the whole file runs in well under a minute);
``-m slow`` runs the big version.
"""

from __future__ import annotations

import os
import random
import shutil
import sqlite3
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mltui.cli import cli
from mltui.core.catalog import open_catalog
from mltui.core.errors import MltuiError
from mltui.core.refs import parse_ref
from mltui.services.discovery import read_paths
from mltui.services.ingest import import_paths
from tests.conftest import TickingClock, seed_fraud
from tests.security.hostile import EVIL

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
FAST = settings(max_examples=10, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])
SLOW = settings(FAST, max_examples=400, derandomize=False)
# Each property runs in two sizes: a few derandomized examples by default, many under `slow`.
SIZES = [pytest.param(1, id="fast"), pytest.param(16, id="slow", marks=pytest.mark.slow)]


def _check(examples: int, scale: int, test, **strategies) -> None:
    """Run ``test`` as a Hypothesis property with ``examples`` × ``scale`` examples."""
    base = FAST if scale == 1 else SLOW
    settings(base, max_examples=examples * scale)(given(**strategies)(test))()

# Text that has broken parsers before: every Unicode category (surrogates too), markup,
# escapes, deep nesting, numbers beyond every range.
hostile_text = st.one_of(
    st.text(st.characters(codec=None), max_size=60),
    st.sampled_from([EVIL, "(" * 5000 + "x" + ")" * 5000, "not " * 3000 + "x", "9" * 400,
                     "-" + "9" * 30, "1e999", "nan", "[/x]", "\udcff", "x@" + "9" * 25,
                     "run:" + "\x00", "data:x@" + "9" * 20, "'" * 3, "`" * 3]),
)


@pytest.fixture(scope="module")
def seeded(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("seeded") / "catalog.db"
    with open_catalog(path, create=True, clock=TickingClock()) as cat:
        seed_fraud(cat)
    return path


# --------------------------------------------------------------------------------------------
# Parsers


def _filter_case(path: Path, text: str) -> None:
    with open_catalog(path) as cat:
        for call in (lambda: cat.version_ids(filter=text), lambda: cat.run_ids(filter=text),
                     lambda: cat.version_ids(sort=text), lambda: cat.resolve(text),
                     lambda: parse_ref(text)):
            try:
                call()
            except MltuiError as exc:
                assert "\n" not in exc.one_line()


@pytest.mark.parametrize("scale", SIZES)
def test_filter_sort_and_reference_parsers_take_any_text(seeded, scale) -> None:
    _check(25, scale, lambda text: _filter_case(seeded, text), text=hostile_text)


@pytest.mark.parametrize("depth", [65, 5000])
def test_deep_filters_get_a_clear_error(seeded, depth) -> None:
    with open_catalog(seeded) as cat:
        for text in ("(" * depth + "metrics.f1 > 0" + ")" * depth, "not " * depth + "x"):
            with pytest.raises(MltuiError, match=r"filter too deeply nested \(max 64\)"):
                cat.version_ids(filter=text)
        assert cat.version_ids(filter="(" * 30 + "metrics.f1 > 0" + ")" * 30)


# --------------------------------------------------------------------------------------------
# Importers: a real fixture per format, one file mutated


FORMAT_FIXTURES = {
    "mlflow_files": "mlflow/filestore", "hf_trainer": "hf/v4_rounded",
    "ultralytics": "ultralytics/v8_3_classify", "dvc": "dvc/dvclive_v2",
    "lightning": "lightning/named", "tensorboard": "tensorboard/pytorch_hparams",
    "keras": "keras/tf2_lr", "detectron2": "detectron2/output", "generic": "generic",
}
HOSTILE_NUMBERS = ["9" * 400, "-" + "9" * 400, "1e999", "-1e999", str(2 ** 64), "-1", "1e308",
                   "253402300800000", "-62135596800000", "99999999999999999999"]
MUTATIONS = ["number", "nest", "control", "truncate", "bytes", "empty"]


def _mutate(data: bytes, how: str, rnd: random.Random) -> bytes:
    import re

    if how == "number":
        spans = [m.span() for m in re.finditer(rb"-?\d+(\.\d+)?", data)]
        for start, end in sorted(rnd.sample(spans, min(len(spans), 3)), reverse=True):
            data = data[:start] + rnd.choice(HOSTILE_NUMBERS).encode() + data[end:]
        return data
    if how == "nest":
        depth = rnd.choice([200, 1100, 100_000])
        opener, closer = rnd.choice([(b"[", b"]"), (b'{"a":', b"}"), (b"- ", b"")])
        return opener * depth + b"1" + closer * depth
    if how == "control":
        at = rnd.randrange(len(data) + 1)
        return data[:at] + EVIL.encode() + data[at:]
    if how == "truncate":
        return data[: rnd.randrange(len(data) + 1)]
    if how == "bytes":
        return bytes(rnd.randrange(256) for _ in range(rnd.randrange(1, 400)))
    return b""


def _importer_case(tmp: Path, fmt: str, how: str, seed: int) -> dict:
    rnd = random.Random(seed)
    logs = tmp / "logs"
    shutil.rmtree(logs, ignore_errors=True)
    shutil.copytree(FIXTURES / FORMAT_FIXTURES[fmt], logs)
    files = sorted(p for p in logs.rglob("*") if p.is_file() and p.stat().st_size < 200_000
                   and not p.name.endswith((".py", ".md")))
    target = rnd.choice(files)
    target.write_bytes(_mutate(target.read_bytes(), how, rnd))
    catalog = tmp / "c.db"
    catalog.unlink(missing_ok=True)
    read_paths([logs])  # must not raise: every reader failure is a value
    with open_catalog(catalog, create=True) as cat:
        try:
            import_paths(cat, logs, skip_invalid=True)
        except MltuiError:
            pass  # one clear error (no run logs found): fine
        uids = [row["uid"] for row in cat.runs(cat.run_ids(limit=1000))]
    return {"catalog": catalog, "uids": uids, "target": target}


def _show_every_run(case: dict) -> None:
    runner = CliRunner()
    for args in (["ls", "runs"], ["ls", "runs", "--json"],
                 *[["show", f"run:{uid}"] for uid in case["uids"][:5]]):
        result = runner.invoke(cli, ["--catalog", str(case["catalog"]), *args])
        assert result.exit_code == 0, (args, result.stderr, case["target"])
        assert "internal error" not in result.stderr


@pytest.mark.parametrize("scale", SIZES)
@pytest.mark.parametrize("fmt", sorted(FORMAT_FIXTURES))
def test_every_importer_survives_hostile_files(tmp_path, fmt, scale) -> None:
    _check(8, scale, lambda how, seed: _show_every_run(_importer_case(tmp_path, fmt, how, seed)),
           how=st.sampled_from(MUTATIONS), seed=st.integers(0, 2 ** 32))


@pytest.mark.parametrize("column,value", [
    ("runs.start_time", 10 ** 17), ("runs.start_time", -10 ** 15), ("runs.end_time", 10 ** 18),
    ("experiments.creation_time", 10 ** 17), ("registered_models.creation_time", 10 ** 17),
    ("model_versions.creation_time", 10 ** 17), ("metrics.step", 2 ** 62),
    ("metrics.timestamp", 10 ** 17),
])
def test_mlflow_sqlite_with_out_of_range_values_imports_and_shows(tmp_path, column, value) -> None:
    store = tmp_path / "sqlite"
    shutil.copytree(FIXTURES / "mlflow" / "sqlite", store)
    table, field = column.split(".")
    conn = sqlite3.connect(str(store / "mlflow.db"))
    with conn:
        conn.execute(f"UPDATE {table} SET {field} = ?", (value,))
    conn.close()
    catalog = tmp_path / "c.db"
    with open_catalog(catalog, create=True) as cat:
        import_paths(cat, store, skip_invalid=True)
        uids = [row["uid"] for row in cat.runs(cat.run_ids(limit=100))]
    _show_every_run({"catalog": catalog, "uids": uids, "target": column})
    result = CliRunner().invoke(cli, ["--catalog", str(catalog), "ls", "models"])
    assert result.exit_code == 0, result.stderr


# --------------------------------------------------------------------------------------------
# Every CLI argument


CLI_TEMPLATES = [
    ["show", "{}"], ["ls", "-m", "{}"], ["ls", "-f", "{}"], ["ls", "-s", "{}"], ["ls", "-n", "{}"],
    ["ls", "runs", "--metrics", "{}"], ["compare", "fraud@1", "{}"], ["gate", "list", "{}"],
    ["gate", "add", "fraud", "{}"], ["gate", "remove", "fraud", "{}"], ["check", "{}"],
    ["check", "fraud@1", "--stage", "{}"], ["promote", "{}", "--stage", "staging"],
    ["promote", "fraud@1", "--stage", "{}"], ["promote", "fraud@1", "-r", "{}"],
    ["rollback", "fraud", "--stage", "{}"], ["history", "-m", "{}"], ["lineage", "{}"],
    ["doc", "{}"], ["doc", "fraud@1", "--rev", "{}"], ["verify", "{}"], ["tag", "fraud@1", "{}", "v"],
    ["tag", "fraud@1", "k", "{}"], ["tag", "{}", "k", "v"], ["archive", "{}"],
    ["register", "{}"], ["register", "fraud", "--run", "{}"], ["import", "{}"],
    ["import", ".", "--model", "{}"], ["import", ".", "--format", "{}"],
    ["export", "--out", "{}"], ["ls", "{}"], ["--catalog", "{}", "ls"],
]


@contextmanager
def _in_folder(folder: Path) -> Iterator[None]:
    """Relative paths (export --out, import .) land in the test's own folder."""
    before = os.getcwd()
    os.chdir(folder)
    try:
        yield
    finally:
        os.chdir(before)


def _cli_case(seeded: Path, tmp: Path, template: list[str], text: str) -> None:
    args = [text if part == "{}" else part for part in template]
    if template[0] != "--catalog":
        args = ["--catalog", str(seeded), *args]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code in (0, 1, 2), (args, result.exception, result.stderr)
    assert "internal error" not in result.stderr, (args, result.stderr)
    assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit)
    if result.exit_code == 2:
        assert result.stderr.startswith("mltui:"), (args, result.stderr)


@pytest.mark.parametrize("scale", SIZES)
@pytest.mark.parametrize("template", CLI_TEMPLATES, ids=lambda t: "-".join(t[:2]))
def test_every_cli_argument_takes_any_text(seeded, tmp_path, template, scale) -> None:
    with _in_folder(tmp_path):
        _check(6, scale, lambda text: _cli_case(seeded, tmp_path, template, text),
               text=hostile_text)


KNOWN_HOSTILE_ARGUMENTS = [EVIL, "\udcff", "\ud800", "fraud@" + "9" * 25, "9" * 25,
                           "(" * 5000 + "x" + ")" * 5000, "not " * 3000 + "x", "٣"]


@pytest.mark.parametrize("template", CLI_TEMPLATES, ids=lambda t: "-".join(t[:2]))
def test_known_hostile_arguments(seeded, tmp_path, template) -> None:
    """The cases that once ended in "internal error", for every argument, every run."""
    with _in_folder(tmp_path):
        for text in KNOWN_HOSTILE_ARGUMENTS:
            _cli_case(seeded, tmp_path, template, text)


@pytest.mark.parametrize("env,value", [("MLTUI_BUSY_TIMEOUT", "inf"),
                                       ("MLTUI_BUSY_TIMEOUT", "nan"), ("COLUMNS", "abc")])
def test_hostile_environment_is_one_line(seeded, monkeypatch, env, value) -> None:
    monkeypatch.setenv(env, value)
    result = CliRunner().invoke(cli, ["--catalog", str(seeded), "ls"])
    assert result.exit_code in (0, 2) and "internal error" not in result.stderr, result.stderr


def test_catalog_under_a_file_and_a_deleted_working_folder(tmp_path, monkeypatch) -> None:
    (tmp_path / "file").write_text("x")
    result = CliRunner().invoke(cli, ["--catalog", str(tmp_path / "file" / "c.db"), "init"])
    assert result.exit_code == 2 and result.stderr.startswith("mltui: error: "), result.stderr
    assert str(tmp_path / "file") in result.stderr and len(result.stderr.splitlines()) == 1
    gone = tmp_path / "gone"
    gone.mkdir()
    monkeypatch.chdir(gone)
    gone.rmdir()
    result = CliRunner().invoke(cli, ["ls"])
    assert result.exit_code == 2 and "current folder no longer exists" in result.stderr
