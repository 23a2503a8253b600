"""Run-log importers: one module per format family, and the directory walk that finds them.

Each format module exposes:

``FORMAT``            the name used by ``mltui import --format``
``KIND``              ``"dir"`` when a folder is one run/store (an ``mlruns/``, an HF output dir),
                      ``"file"`` when a single file is one run (a Keras CSV, a tfevents file)
``CONSUMES_SUBTREE``  (dir formats) True when nothing below a claimed folder is another log
``detect(path)``      cheap sniffing: does this folder/file hold this format?
``read(path, ctx)``   read it into an :class:`~mltui.core.records.ImportBatch` of plain records

Importers never touch the catalog; :meth:`Catalog.import_path` writes what they read in one
transaction.
"""

from __future__ import annotations

import importlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Callable, Iterable

from ..core.errors import ImportFailed, InvalidInput
from ..core.records import ImportBatch
from .common import ImportContext, gc_paused, git_info

# Priority order (SPEC §4): the first module whose detect() accepts a folder claims it.
FORMAT_MODULES = [
    "mlflow_files",
    "mlflow_sqlite",
    "hf_trainer",
    "ultralytics",
    "dvc",
    "lightning",
    "tensorboard",
    "keras",
    "detectron2",
    "generic",
]

# Folders that never hold run logs and can be huge.
_SKIP_DIRS = {".git", ".hg", ".svn", "__pycache__", "node_modules", ".venv", "venv", ".tox",
              ".mypy_cache", ".pytest_cache", ".ipynb_checkpoints", ".mltui", ".dvc"}


def format_modules() -> list[ModuleType]:
    """The importer modules in priority order (imported on first use)."""
    modules = []
    for name in FORMAT_MODULES:
        try:
            modules.append(importlib.import_module(f"{__name__}.{name}"))
        except ModuleNotFoundError as exc:
            if exc.name != f"{__name__}.{name}":
                raise
    return modules


def format_names() -> list[str]:
    """The names accepted by ``--format``."""
    return [module.FORMAT for module in format_modules()]


def module_for(format_name: str) -> ModuleType:
    """The importer module for a ``--format`` name."""
    for module in format_modules():
        if module.FORMAT == format_name or format_name in getattr(module, "ALIASES", ()):
            return module
    raise InvalidInput(f"unknown import format {format_name!r}",
                       hint=f"use one of: {', '.join(format_names())}")


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
    later file format.  Runs without a git commit get the one of the log's work tree.
    """
    result = ReadResult()
    found = _walk(paths, forced)
    consumed: set[str] = set()
    total = len(found)
    for index, (module, path, root) in enumerate(found):
        if on_progress:
            on_progress(index, total, str(path))
        if str(path.resolve()) in consumed:
            continue
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
            if run.git_commit is None:
                source = Path(run.source_path)
                folder = source if source.is_dir() else source.parent
                commit, branch, dirty = git_info(str(folder.resolve()))
                run.git_commit, run.git_branch = commit, run.git_branch or branch
                if run.git_dirty is None:
                    run.git_dirty = dirty
        result.batches.append(batch)
        result.warnings.extend(ctx.warnings)
    if on_progress:
        on_progress(total, total, "")
    return result
