"""The MLflow file store's fast paths (issue 11) give exactly what the general code gives.

Each test here fails if its fast path is wrong: steps read as ``0, 1, 2 ...`` when they are
not, a symlinked run subfolder treated as a plain folder, and so on.
"""

from __future__ import annotations

import os
import random
import shutil
import sys
from pathlib import Path

import pytest

from mltui.core import safefile
from mltui.core.catalog import open_catalog
from mltui.core.errors import ImportFailed
from mltui.core.records import MetricColumns
from mltui.core.safefile import real_path
from mltui.importers import mlflow_files
from mltui.importers.common import ImportContext, decode_log
from mltui.importers.mlflow_files import metrics
from mltui.importers.mlflow_files.metrics import parse_metric_text
from mltui.services.discovery import read_paths
from mltui.services.git import source_folder
from mltui.services.ingest import import_paths

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "mlflow"


def reference(text: str) -> list[tuple[int, float, float]]:
    """(step, value, wall time) per distinct line, parsed line by line in the plainest way."""
    seen, out = set(), []
    for line in text.splitlines():
        if line and line not in seen:
            seen.add(line)
            stamp, value, step = line.split()
            out.append((int(step), float(value), int(stamp) / 1000.0))
    return out


def parsed(text: str) -> list[tuple[int, float, float]]:
    """What the importer's parser makes of ``text`` as (step, value, wall time)."""
    result = parse_metric_text("m", text, "m", [])
    points = result.points() if isinstance(result, MetricColumns) else result
    return [(p.step, p.value, p.wall_time) for p in points]


@pytest.mark.parametrize("steps", [
    list(range(100)),  # the fast path: 0, 1, 2 ...
    list(range(1, 101)),  # starts at 1
    [0, 2, 1, 3],  # out of order
    [0, 1, 1, 2],  # a repeated step, new value
    [5],
    [0],
    list(range(10)) + [10, 10],
])
def test_counting_steps_read_as_the_line_parser_reads_them(steps) -> None:
    text = "".join(f"{1750000000000 + 1000 * i} {0.1 * i + 1 / 3!r} {step}\n"
                   for i, step in enumerate(steps))
    assert parsed(text) == reference(text)
    assert [step for step, _, _ in parsed(text)] == steps


@pytest.mark.parametrize("step_text", ["00 01 02", "0 1 +2", "0 1 2 ", "0 1 2_0"])
def test_step_text_that_only_looks_like_counting_is_parsed_per_token(step_text) -> None:
    tokens = step_text.split()
    text = "".join(f"{1000 + i} 0.5 {token}\n" for i, token in enumerate(tokens))
    assert [step for step, _, _ in parsed(text)] == [int(token) for token in tokens]


def test_repeated_counting_file_keeps_every_distinct_line() -> None:
    # Steps 0..n-1 twice (a resumed run re-logging): not counting, handled by the general path.
    text = "".join(f"{1000 + i} {i / 7!r} {i % 3}\n" for i in range(6))
    assert parsed(text) == reference(text)


def line_by_line(text: str, monkeypatch) -> list[tuple] | str:
    """What the line-by-line parser alone makes of ``text`` (points, or its error)."""
    monkeypatch.setattr(metrics, "_parse_canonical_metric_text", lambda text, key: None)
    try:
        return [(p.step, p.value, p.raw, p.wall_time)
                for p in parse_metric_text("m", text, "m", [])]
    except ImportFailed as exc:
        return exc.one_line()
    finally:
        monkeypatch.undo()


def either_way(text: str) -> list[tuple] | str:
    """What the importer makes of ``text``, fast path allowed (points, or its error)."""
    try:
        result = parse_metric_text("m", text, "m", [])
    except ImportFailed as exc:
        return exc.one_line()
    points = result.points() if isinstance(result, MetricColumns) else result
    return [(p.step, p.value, p.raw, p.wall_time) for p in points]


@pytest.mark.parametrize("text", [
    # A 2-field line (two spaces side by side) and a 4-field line (a tab among its spaces):
    # two spaces a line and six tokens, but the tokens do not sit three to a line.
    "1750000000000  0.5\n1750000001000 5\t3 7\n",
    "1750000000000 \t 0.5\n1750000001000 5\x0b3 7\n",  # a field that is only whitespace
    "1750000000000 0.5 0\r1750000001000 0.25\n1 2\n",  # a lone \r splits a line for split()
    "\u20281750000000000 0.5 0\n1750000001000 0.25\n",  # a Unicode line separator
])
def test_lines_that_only_add_up_to_three_tokens_each_are_not_taken_whole(text, monkeypatch):
    assert either_way(text) == line_by_line(text, monkeypatch)


def test_crlf_metric_file_takes_the_fast_path_and_reads_the_same(monkeypatch) -> None:
    text = "".join(f"{1750000000000 + 7 * i} {i / 3!r} {i}\r\n" for i in range(50))
    assert isinstance(parse_metric_text("m", text, "m", []), MetricColumns)
    assert either_way(text) == line_by_line(text, monkeypatch)


def test_random_whitespace_never_changes_what_a_metric_file_reads(monkeypatch) -> None:
    """Metric files of random fields and random separators: the fast path reads each one as
    the line-by-line parser does, or declines."""
    rng = random.Random(11)
    fields = ["1750000000000", "17", "0.5", "5", "-2", "nan", "1e3", "x", ""]
    gaps = [" ", " ", " ", "  ", "\t", "\r", "\x0b", "\x1c", "\xa0", "\u2028", " \t"]
    for _ in range(3000):
        widths = [rng.choice([2, 3, 3, 4, 5]) for _ in range(rng.randint(1, 4))]
        lines = [rng.choice(gaps).join(rng.choice(fields) for _ in range(width))
                 for width in widths]
        text = rng.choice(["\n", "\r\n"]).join(lines) + rng.choice(["\n", "\n", "\r\n", ""])
        assert either_way(text) == line_by_line(text, monkeypatch), repr(text)


def test_the_collector_is_paused_over_the_whole_import_and_resumed_after(tmp_path,
                                                                        monkeypatch) -> None:
    """Records and rows hold no cycles: a collection while they live walks them all for
    nothing (0.10-0.14 s of a 1,000-run store), so it waits until the import has freed them."""
    import gc

    from mltui.core.catalog import Catalog

    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
    from shapes import write_mlflow  # the benchmark's own store writer

    store = tmp_path / "store"
    write_mlflow(store, runs=3, metrics=2, steps=5, git=False, irregular=True,
                 full_precision=True)
    collector_on_while_writing = []
    write_import = Catalog.write_import

    def watched(self, *args, **kwargs):
        collector_on_while_writing.append(gc.isenabled())
        return write_import(self, *args, **kwargs)

    monkeypatch.setattr(Catalog, "write_import", watched)
    cat = open_catalog(tmp_path / "catalog.db", create=True)
    assert import_paths(cat, [store]).points == 3 * 2 * 5
    assert collector_on_while_writing == [False]
    assert gc.isenabled()


def test_seeded_folders_leave_a_symlinked_subfolder_to_the_full_check(tmp_path) -> None:
    root = tmp_path / "root"
    (root / "plain").mkdir(parents=True)
    (root / "plain" / "f").write_text("inside\n")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "f").write_text("SECRET\n")
    (root / "link").symlink_to(outside, target_is_directory=True)
    with safefile.contained_in(root):
        with os.scandir(root) as scan:
            safefile.note_folders(str(root), list(scan))
        assert safefile.read_bytes(root / "plain" / "f") == b"inside\n"
        with pytest.raises(safefile.UnsafeFile, match="outside the imported folder"):
            safefile.read_bytes(root / "link" / "f")


def test_symlinked_params_folder_outside_the_root_is_refused(tmp_path) -> None:
    store = tmp_path / "store"
    shutil.copytree(FIXTURES / "filestore", store, symlinks=True)
    run = next(p.parent for p in sorted((store / "mlruns").glob("[1-9]*/*/meta.yaml"))
               if (p.parent / "params").is_dir())
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "lr").write_text("SECRET")
    shutil.rmtree(run / "params")
    (run / "params").symlink_to(outside, target_is_directory=True)
    with open_catalog(tmp_path / "c.db", create=True) as cat:
        with pytest.raises(ImportFailed, match="outside the imported folder"):
            import_paths(cat, store)


def _store_with_model(tmp_path: Path) -> tuple[Path, Path]:
    """A copy of the fixture store and a run folder whose artifacts/ holds an MLmodel."""
    store = tmp_path / "store"
    shutil.copytree(FIXTURES / "filestore", store, symlinks=True)
    run = next(p.parent.parent.parent for p in sorted(store.glob("mlruns/[1-9]*/*/artifacts/*/MLmodel")))
    return store, run


def _artifact_paths(store: Path) -> dict[str, list[str | None]]:
    """Each run's artifact paths as an import (contained in ``store``) resolves them."""
    result = read_paths([store])
    assert not result.failures
    return {run.uid: [a.path for a in run.artifacts] for b in result.batches for run in b.runs}


def test_artifacts_found_with_seeded_folders_are_the_ones_found_without(tmp_path) -> None:
    store, run = _store_with_model(tmp_path)
    seeded = _artifact_paths(store)
    # mlflow_files.read outside an import: no containment, no seeded cache, plain is_dir().
    batch = mlflow_files.read(store / "mlruns", ImportContext(root=store))
    assert seeded == {r.uid: [a.path for a in r.artifacts] for r in batch.runs}
    assert any(paths for paths in seeded.values())


def test_symlinked_artifacts_folder_outside_the_root_is_not_resolved(tmp_path) -> None:
    store, run = _store_with_model(tmp_path)
    outside = tmp_path / "outside"
    shutil.move(run / "artifacts", outside)
    (run / "artifacts").symlink_to(outside, target_is_directory=True)
    # Neither the outside folder nor the symlink's own path inside the store is hashed.
    assert all(path is None for path in _artifact_paths(store)[run.name])


def test_artifact_uri_naming_a_file_gives_no_artifact(tmp_path) -> None:
    store, run = _store_with_model(tmp_path)
    shutil.rmtree(run / "artifacts")
    (run / "artifacts").write_text("not a folder")
    assert _artifact_paths(store)[run.name] == []


@pytest.mark.parametrize("data", [b"a b\n", "\ufeffé 1\n".encode(), "é\n".encode("utf-8-sig"),
                                  b"\xef\xbb", b"ok\n\xff\n", b"\xef\xbb\xbfok\n\xc3\n", b""])
def test_log_text_decodes_as_the_utf8_sig_codec_does(data) -> None:
    try:
        expected = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        with pytest.raises(ImportFailed, match="not valid UTF-8") as caught:
            decode_log("f", data)
        assert caught.value.line == line
    else:
        assert decode_log("f", data) == expected


@pytest.mark.parametrize("spelling", ["run/x.csv", "run//x.csv", "run/./x.csv", "./run/x.csv",
                                      "run", "run/", "run/../run/x.csv", "link/x.csv", "x.csv",
                                      "{root}/run/x.csv", "{root}//run/", "{root}/link"])
def test_commit_inference_finds_the_folder_a_path_would(tmp_path, monkeypatch, spelling) -> None:
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "x.csv").write_text("a\n")
    (tmp_path / "x.csv").write_text("a\n")
    (tmp_path / "link").symlink_to(tmp_path / "run", target_is_directory=True)
    monkeypatch.chdir(tmp_path)
    source = spelling.format(root=tmp_path)
    path = Path(source)
    expected = os.path.realpath((path if path.is_dir() else path.parent).absolute())
    assert real_path(source_folder(source), {}) == expected


def _point_uris_at_runs(store: Path) -> None:
    """Rewrite every run's artifact_uri to name its own artifacts folder where it now is (what
    MLflow writes on the machine that logged), so the listed-folder fast path applies."""
    for meta in store.glob("mlruns/[1-9]*/*/meta.yaml"):
        lines = meta.read_text().splitlines(keepends=True)
        uri = (meta.parent / "artifacts").as_uri()
        meta.write_text("".join(f"artifact_uri: {uri}\n" if line.startswith("artifact_uri:")
                                else line for line in lines))


@pytest.mark.parametrize("spelling", ["absolute", "relative"])
def test_listed_artifacts_folder_gives_what_resolving_the_uri_gives(tmp_path, monkeypatch,
                                                                      spelling) -> None:
    from mltui.importers.mlflow_files.artifacts import ArtifactResolver

    store, run = _store_with_model(tmp_path)
    _point_uris_at_runs(store)
    monkeypatch.chdir(tmp_path)
    named = store if spelling == "absolute" else Path("store")
    taken = []
    listed = ArtifactResolver.listed_folder

    def counting(self, raw, folder):
        found = listed(self, raw, folder)
        taken.append(found is not None)
        return found

    monkeypatch.setattr(ArtifactResolver, "listed_folder", counting)
    fast = _artifact_paths(named)
    assert taken and all(taken)  # every run took the fast path
    monkeypatch.setattr(ArtifactResolver, "listed_folder", lambda self, raw, folder: None)
    assert _artifact_paths(named) == fast
    assert fast[run.name] and all(path is not None for path in fast[run.name])


def test_listed_artifacts_folder_that_is_a_symlink_outside_is_not_taken(tmp_path) -> None:
    store, run = _store_with_model(tmp_path)
    _point_uris_at_runs(store)
    outside = tmp_path / "outside"
    shutil.move(run / "artifacts", outside)
    (run / "artifacts").symlink_to(outside, target_is_directory=True)
    assert all(path is None for path in _artifact_paths(store)[run.name])


@pytest.mark.parametrize("spelling", ["run/x.csv", "run//x.csv", "./run/x.csv", "run/../run/x.csv",
                                      "link/x.csv", "run", "link", "missing/y.csv",
                                      "{root}/run/x.csv", "{root}/link/x.csv", "{root}//run/"])
@pytest.mark.parametrize("in_import", [False, True])
def test_resolved_is_what_path_resolve_gives(tmp_path, monkeypatch, spelling, in_import) -> None:
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "x.csv").write_text("a\n")
    (tmp_path / "link").symlink_to(tmp_path / "run", target_is_directory=True)
    monkeypatch.chdir(tmp_path)
    path = spelling.format(root=tmp_path)
    if in_import:  # with the import's cache, seeded as a reader seeds it
        with safefile.contained_in(tmp_path):
            with os.scandir(tmp_path) as scan:
                safefile.note_folders(str(tmp_path), list(scan))
            got = [safefile.resolved(path), safefile.resolved(Path(path))]
    else:
        got = [safefile.resolved(path), safefile.resolved(Path(path))]
    assert got == [str(Path(path).resolve())] * 2
