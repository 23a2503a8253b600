"""Finding run logs under the paths a user names, and reading them with the right importer.

This is the first half of an import (the second, writing, is the catalog's): walk the folders,
let each format's ``detect`` claim what it recognises in priority order, read every claimed log
into plain records, and fill in what the log does not say (the git commit of its work tree,
marked inferred).
Failures are collected as values, one per log, so ``--skip-invalid`` can go on without them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Callable, Iterable

from ..core.errors import ImportFailed, InvalidInput
from ..core.records import ImportBatch
from ..importers import format_modules, module_for
from ..importers.common import ImportContext, gc_paused
from .git import CommitInference

# Folders that never hold run logs and can be huge.
_SKIP_DIRS = {".git", ".hg", ".svn", "__pycache__", "node_modules", ".venv", "venv", ".tox",
              ".mypy_cache", ".pytest_cache", ".ipynb_checkpoints", ".mltui", ".dvc"}


@dataclass
class Failure:
    """A log that could not be read, and why."""

    path: str
    error: ImportFailed

    def one_line(self) -> str:
        """The failure as one readable line."""
        return self.error.one_line()


@dataclass
class ReadResult:
    """What a walk read: batches of records, logs that failed, and warnings."""

    batches: list[ImportBatch] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def discover(paths: Iterable[Path], forced: str | None = None) -> list[tuple[ModuleType, Path]]:
    """Find every recognised log under ``paths``: ``[(module, path)]`` in walk order."""
    return [(module, path) for module, path, _ in _walk(paths, forced)]


def _walk(paths: Iterable[Path], forced: str | None = None) -> list[tuple[ModuleType, Path, Path]]:
    """Like :func:`discover`, with the root each log was found under: ``(module, path, root)``.

    ``root`` is the folder the user named (a named file's folder): paths found inside logs are
    resolved within it and never outside.

    A folder claimed by a ``CONSUMES_SUBTREE`` format is not descended into; files inside a
    claimed folder are not offered to the file formats.
    """
    modules = [module_for(forced)] if forced else format_modules()
    dir_modules = [m for m in modules if m.KIND == "dir"]
    file_modules = [m for m in modules if m.KIND == "file"]
    found: list[tuple[ModuleType, Path, Path]] = []
    for root in paths:
        root = Path(root)
        if not root.exists():
            raise InvalidInput(f"{root}: no such file or directory",
                               hint="check the path you passed to mltui import")
        if root.is_file():
            for module in modules:
                if module.detect(root):
                    found.append((module, root, root.parent))
                    break
            else:
                if forced:
                    found.append((modules[0], root, root.parent))
            continue
        for directory, subdirs, files in os.walk(root):
            subdirs[:] = sorted(d for d in subdirs if d not in _SKIP_DIRS)
            here = Path(directory)
            claimed = False
            for module in dir_modules:
                if module.detect(here):
                    found.append((module, here, root))
                    claimed = True
                    if getattr(module, "CONSUMES_SUBTREE", True):
                        subdirs[:] = []
                    break
            if claimed:
                continue
            for name in sorted(files):
                file = here / name
                for module in file_modules:
                    if module.detect(file):
                        found.append((module, file, root))
                        break
    return found


def read_paths(paths: Iterable[Path], *, forced: str | None = None,
               on_progress: Callable[[int, int, str], None] | None = None) -> ReadResult:
    """Read every log under ``paths`` into records; failures are collected, not raised.

    Paths that a batch lists as consumed (e.g. DVC metrics files) are not read again by a
    later file format.  Runs without a git commit get their work tree's HEAD when they are not
    older than it, marked inferred (:mod:`.git`).
    """
    result = ReadResult()
    commits = CommitInference()  # one per import: git is asked once per repository
    found = _walk(paths, forced)
    consumed: set[str] = set()
    total = len(found)
    for index, (module, path, root) in enumerate(found):
        if on_progress:
            on_progress(index, total, str(path))
        resolved = path.resolve()
        if consumed and (str(resolved) in consumed
                         or any(str(parent) in consumed for parent in resolved.parents)):
            continue  # read already as part of another log (a DVC stage's plots, DVCLive dir)
        ctx = ImportContext(root=root.resolve())
        try:
            with gc_paused():  # readers build many small records and no cycles
                batch = module.read(path, ctx)
        except ImportFailed as exc:
            result.failures.append(Failure(str(path), exc))
            continue
        except (OSError, ValueError, KeyError, TypeError, IndexError, AttributeError) as exc:
            # A reader bug or a shape we did not foresee must still be one line, not a traceback.
            result.failures.append(Failure(str(path), ImportFailed(
                str(path), f"cannot read as {module.FORMAT}: {type(exc).__name__}: {exc}",
                hint="pass --format to choose another reader, or --skip-invalid")))
            continue
        consumed.update(getattr(batch, "consumed_paths", ()) or ())
        for run in batch.runs:
            commits.fill(run)
        result.batches.append(batch)
        result.warnings.extend(ctx.warnings)
    if on_progress:
        on_progress(total, total, "")
    return result
