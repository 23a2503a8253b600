"""``safefile.real_path``: the same answer as ``os.path.realpath``, with folders cached per import."""

from __future__ import annotations

import os

from mltui.core.safefile import real_path


def test_real_path_is_realpath_through_symlinks_dots_and_relative_paths(tmp_path, monkeypatch):
    (tmp_path / "data" / "run").mkdir(parents=True)
    (tmp_path / "data" / "run" / "file").write_text("x")
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "data" / "link").symlink_to(tmp_path / "elsewhere")
    (tmp_path / "data" / "run" / "filelink").symlink_to(tmp_path / "data" / "run" / "file")
    monkeypatch.chdir(tmp_path)
    cache: dict[str, str] = {}
    for path in ["data/run/file", tmp_path / "data" / "run" / "file",
                 tmp_path / "data" / "link" / "x", tmp_path / "data" / "link" / ".." / "run",
                 tmp_path / "data" / "run" / "filelink", f"{tmp_path}//data/./run/",
                 tmp_path / "missing" / "deeper"]:
        assert real_path(path, cache) == os.path.realpath(path), path


def test_real_path_asks_each_folder_once(tmp_path, monkeypatch):
    for index in range(3):
        (tmp_path / "runs" / f"r{index}").mkdir(parents=True)
    cache: dict[str, str] = {}
    real_path(tmp_path / "runs" / "r0", cache)
    expected = os.path.realpath(tmp_path / "runs" / "r1")
    calls: list[str] = []
    lstat = os.lstat
    monkeypatch.setattr(os, "lstat", lambda path, *a, **k: calls.append(path) or lstat(path, *a, **k))
    assert real_path(tmp_path / "runs" / "r1", cache) == expected
    assert len(calls) == 1  # the run folder itself; its parents come from the cache
