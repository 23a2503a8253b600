"""The app's hold on the catalog *file*: noticing when it is replaced or deleted under it.

SQLite keeps reading the file it opened even after ``mltui demo --rebuild`` (or ``mv``, or a
restore from backup) put another file at that path, while connections opened later reach the
new one: the app would show old data and check gates against an old holder while writing to the
new file.  The file's identity (device, inode) is compared before every catalog call and at
every poll; on a change the app refuses the call and reopens the new file.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..core.errors import MltuiError


class CatalogReplaced(MltuiError):
    """The catalog file changed identity under the app: the call was not made."""


def file_identity(path: Path) -> tuple[int, int] | None:
    """``(device, inode)`` of the file at ``path``, or None when nothing is there."""
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return stat.st_dev, stat.st_ino


def replaced_error(path: Path, now: tuple[int, int] | None) -> CatalogReplaced:
    """The one line a refused call shows."""
    if now is None:
        return CatalogReplaced(f"the catalog file {path} was deleted: nothing was written",
                               hint="the app reopens it as soon as it is back")
    return CatalogReplaced(f"the catalog file {path} was replaced: nothing was written",
                           hint="the app reopened the new file; look again and retry")
