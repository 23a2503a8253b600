"""Race suite: writers against imports.  ``slow`` tests (many randomized trials) run with
``pytest -m slow`` (the project's default run deselects them); the default stays under a minute."""

from __future__ import annotations

import pytest

from mltui.core.catalog import open_catalog
from mltui.importers import common


@pytest.fixture
def cat(tmp_path):
    """A catalog in the test's folder (a real file, so import locks apply)."""
    catalog = open_catalog(tmp_path / ".mltui" / "catalog.db", create=True)
    yield catalog
    catalog.close()


@pytest.fixture
def after_read(monkeypatch):
    """A fault hook between reading a file and recording what was read.

    ``after_read(fn)`` calls ``fn(path)`` right after each whole-file read (before the reader
    parses it and before its fingerprint is taken): the chosen interleaving where a writer
    changes the file the import has just read.
    """
    hooks = []
    original = common.note_read

    def hooked(path, data, digest=None):
        for hook in list(hooks):
            hook(str(path))
        original(path, data, digest)

    monkeypatch.setattr(common, "note_read", hooked)
    return hooks.append
