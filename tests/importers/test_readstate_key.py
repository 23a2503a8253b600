"""The fingerprint's file key is ``os.path.abspath`` whatever shortcut computes it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from mltui.importers.readstate import _key, fingerprint, note_read, read_scope


@pytest.mark.parametrize("path", [
    "/a/b/c", "/a//b", "//a/b", "/a/./b", "/a/../b", "/a/b/", "/a/b/.", "/a/b/..", "/.hidden/x",
    "relative/x", "./x", "x/../y", "/", "/a/b.c/d.", Path("/a/b"), Path("rel/x"),
])
def test_key_is_abspath(path):
    assert _key(path) == os.path.abspath(path)


def test_a_file_read_under_one_spelling_is_found_under_another(tmp_path):
    file = tmp_path / "f"
    file.write_text("x")
    with read_scope():
        note_read(str(tmp_path) + "//f", b"x")
        read_fingerprint = fingerprint([file])
    assert read_fingerprint != fingerprint([file])  # outside the scope: by stat instead
