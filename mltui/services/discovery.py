"""Finding run logs under the paths a user names, and reading them with the right importer.

This is the first half of an import (the second, writing, is the catalog's): walk the folders,
let each format's ``detect`` claim what it recognises in priority order, read every claimed log
into plain records, and fill in what the log does not say (the git commit of its work tree).
Failures are collected as values, one per log, so ``--skip-invalid`` can go on without them.
"""

from __future__ import annotations

import math
import os
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Callable, Iterable

from ..core.errors import ImportFailed, InvalidInput
from ..core.records import ImportBatch
from ..core.safefile import checked_path, contained_in, current_refusals, noting_refusals
from ..importers import format_modules, module_for
from ..importers.common import ImportContext, gc_paused, git_info

# What a reader may raise on hostile input beyond ImportFailed: each becomes one skipped log.
# (RecursionError: nesting deeper than the stack; OverflowError: a number past float or
# datetime range; MemoryError: a log that does not fit; sqlite3.Error: a broken store.)
_READER_ERRORS = (OSError, ValueError, KeyError, TypeError, IndexError, AttributeError,
                  ArithmeticError, RecursionError, MemoryError, UnicodeError, sqlite3.Error)
# SQLite stores integers up to 2^63 - 1; a stored time must also be a date Python can show.
_INT_MAX = 2 ** 63 - 1
_TIME_MAX = 253_402_300_799.0  # 9999-12-31 23:59:59 UTC, the last second datetime can show


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
    return [(module, path) for module, path, _ in _walk(paths, forced)[0]]


def _walk(paths: Iterable[Path], forced: str | None = None
          ) -> tuple[list[tuple[ModuleType, Path, Path]], dict[str, str]]:
    """Like :func:`discover`, with the root each log was found under: ``(module, path, root)``.

    ``root`` is the folder the user named (a named file's folder): paths found inside logs are
    resolved within it and never outside, and detection opens nothing outside it either.
    Also returns the candidates detection could not open (``{path: reason}``), unreadable or
    refused (a symlink out of the folder, a FIFO), that no format claimed otherwise.

    A folder claimed by a ``CONSUMES_SUBTREE`` format is not descended into; files inside a
    claimed folder are not offered to the file formats.
    """
    modules = [module_for(forced)] if forced else format_modules()
    found: list[tuple[ModuleType, Path, Path]] = []
    with noting_refusals() as refused:
        _walk_roots(paths, modules, found)
    claimed = [str(path) for _, path, _ in found]
    unread = {path: reason for path, reason in refused.items()
              if not any(path == c or path.startswith(c.rstrip(os.sep) + os.sep) for c in claimed)}
    return found, unread


def _walk_roots(paths: Iterable[Path], modules: list[ModuleType],
                found: list[tuple[ModuleType, Path, Path]]) -> None:
    dir_modules = [m for m in modules if m.KIND == "dir"]
    file_modules = [m for m in modules if m.KIND == "file"]
    for root in paths:
        root = Path(root)
        if not root.exists():
            raise InvalidInput(f"{root}: no such file or directory",
                               hint="check the path you passed to mltui import")
        if not root.is_dir() and not root.is_file():
            try:
                checked_path(root)  # a FIFO, a device: say so rather than find nothing
            except OSError as exc:
                raise InvalidInput(f"{root}: {exc}") from None
        if root.is_file():
            with contained_in(*_roots_of(root)):
                for module in modules:
                    if _detects(module, root):
                        found.append((module, root, root.parent))
                        break
                else:
                    if forced:
                        found.append((modules[0], root, root.parent))
            continue
        with contained_in(root):
            _walk_folder(root, dir_modules, file_modules, found)


def _roots_of(named: Path) -> tuple[Path, ...]:
    """Where reading a log found under ``named`` may go: its folder, and a file the user named.

    A file the user named is read even when it is a symlink to elsewhere: the user chose it.
    """
    if named.is_file():
        return (named.parent, named)
    return (named,)


def _detects(module: ModuleType, path: Path) -> bool:
    """``module.detect(path)``; a sniffing failure on hostile content is noted, not raised."""
    try:
        return module.detect(path)
    except _READER_ERRORS as exc:
        noted = current_refusals()
        if noted is not None:
            noted.setdefault(str(path), f"cannot tell whether this is {module.FORMAT}: "
                                        f"{type(exc).__name__}: {str(exc)[:120]}")
        return False


def _walk_folder(root: Path, dir_modules: list[ModuleType], file_modules: list[ModuleType],
                 found: list[tuple[ModuleType, Path, Path]]) -> None:
    """Let the formats claim folders and files under ``root`` (see :func:`_walk`)."""
    for directory, subdirs, files in os.walk(root):
        subdirs[:] = sorted(d for d in subdirs if d not in _SKIP_DIRS)
        here = Path(directory)
        claimed = False
        for module in dir_modules:
            if _detects(module, here):
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
                if _detects(module, file):
                    found.append((module, file, root))
                    break


def read_paths(paths: Iterable[Path], *, forced: str | None = None,
               on_progress: Callable[[int, int, str], None] | None = None) -> ReadResult:
    """Read every log under ``paths`` into records; failures are collected, not raised.

    Paths that a batch lists as consumed (e.g. DVC metrics files) are not read again by a
    later file format.  Runs without a git commit get the one of the log's work tree.
    """
    result = ReadResult()
    paths = [Path(p) for p in paths]
    named_files = {p for p in paths if p.is_file()}
    found, unread = _walk(paths, forced)
    for path, reason in unread.items():
        result.failures.append(Failure(path, ImportFailed(path, reason)))
    consumed: set[str] = set()
    total = len(found)
    for index, (module, path, root) in enumerate(found):
        if on_progress:
            on_progress(index, total, str(path))
        if str(path.resolve()) in consumed:
            continue
        ctx = ImportContext(root=root.resolve())
        try:
            # gc paused: readers build many small records and no cycles.
            with gc_paused(), contained_in(root, *([path] if path in named_files else [])):
                batch = module.read(path, ctx)
            _check_values(batch, ctx)
        except ImportFailed as exc:
            result.failures.append(Failure(str(path), exc))
            continue
        except _READER_ERRORS as exc:
            # A reader bug or a shape we did not foresee must still be one line, not a traceback.
            result.failures.append(Failure(str(path), ImportFailed(
                str(path), f"cannot read as {module.FORMAT}: {type(exc).__name__}: "
                           f"{str(exc)[:200]}",
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


def _check_values(batch: ImportBatch, ctx: ImportContext) -> None:
    """Refuse integers SQLite cannot store; clear times no calendar can show (with a warning).

    Logs are hostile input: a 400-digit step would end the write transaction, and a start time
    in the year 10^12 would be stored and then break every screen that shows it.
    """
    for run in batch.runs:
        for name in ("start_time", "end_time"):
            value = getattr(run, name)
            if value is not None and not (math.isfinite(value) and 0 <= value <= _TIME_MAX):
                setattr(run, name, None)
                ctx.warn(f"{run.source_path}: {name} {str(value)[:40]} is not a date; not stored")
        numbers = [_extreme([p.step for p in run.metrics])]
        numbers += [_extreme(columns.steps) for columns in run.metric_columns]
        numbers += [r.size for r in (*run.datasets, *run.artifacts)]
        numbers += [r.row_count for r in run.datasets]
        for value in numbers:
            if value is not None and abs(value) > _INT_MAX:
                raise ImportFailed(run.source_path, f"number {str(value)[:30]}… is too large to "
                                                    "store (over 2^63)")
    for model in batch.models:
        model.created_at = _clear_time(model.created_at)
        for version in model.versions:
            version.created_at = _clear_time(version.created_at)
            if abs(version.source_version) > _INT_MAX:
                raise ImportFailed(batch.source_path, "model version number too large to store")


def _extreme(values: list) -> int | float | None:
    """The value of largest magnitude in ``values`` (Nones ignored), or None."""
    try:
        low, high = min(values), max(values)  # C speed for the usual list without None
    except TypeError:
        present = [v for v in values if v is not None]
        if not present:
            return None
        low, high = min(present), max(present)
    except ValueError:
        return None  # empty
    return low if abs(low) > abs(high) else high


def _clear_time(value: float | None) -> float | None:
    if value is None or (math.isfinite(value) and 0 <= value <= _TIME_MAX):
        return value
    return None
