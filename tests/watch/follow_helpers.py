"""What the appended-reading tests of every format measure a watch against."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from mltui.core.catalog import Catalog, open_catalog
from mltui.importers import appendlog
from mltui.importers.readstate import BYTES_READ
from mltui.services.ingest import import_paths
from mltui.services.watch import WatchState

T = TypeVar("T")


def poll_bytes(watch: WatchState) -> int:
    """Poll once; the bytes of log data the pass parsed."""
    before = BYTES_READ["bytes"]
    watch.poll()
    return BYTES_READ["bytes"] - before


def import_copy(tmp_path: Path, source: Path, state: Callable[[Catalog, Path], T]) -> T:
    """What a full import of a copy of ``source`` (a log or a folder) gives, read by
    ``state(catalog, copy)`` from a fresh catalog, with nothing remembered by the process."""
    appendlog.forget()
    copy = tmp_path / "fresh" / source.name
    shutil.rmtree(copy.parent, ignore_errors=True)
    copy.parent.mkdir(parents=True)
    if source.is_dir():
        shutil.copytree(source, copy)
    else:
        shutil.copyfile(source, copy)
    other = open_catalog(tmp_path / "fresh.db", create=True)
    try:
        import_paths(other, [copy])
        return state(other, copy)
    finally:
        other.close()
        os.remove(tmp_path / "fresh.db")
