"""Finding run logs under the paths a user names, and reading them with the right importer.

This is the first half of an import (the second, writing, is the catalog's): walk the folders,
let each format's ``detect`` claim what it recognises in priority order, read every claimed log
into plain records, and fill in what the log does not say (the git commit of its work tree,
marked inferred).
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
from ..core.safefile import (checked_path, contained_in, current_refusals,
                             import_real_paths, noting_refusals)
from ..importers import format_modules, module_for
from ..importers.common import (ImportContext, NotReady, gc_paused, read_scope,
                               redact_secret_params)
from .git import CommitInference

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
    """What a walk read: batches of records, logs that failed, logs caught mid-write, warnings,
    and the sources that were merged into another's run or left out for a better one."""

    batches: list[ImportBatch] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    not_ready: list[str] = field(default_factory=list)  # one line each; read again next time
    warnings: list[str] = field(default_factory=list)
    merged: list[str] = field(default_factory=list)


def discover(paths: Iterable[Path], forced: str | None = None) -> list[tuple[ModuleType, Path]]:
    """Find every recognised log under ``paths``: ``[(module, path)]`` in walk order."""
    return [(module, path) for module, path, _ in _walk(paths, forced)[0]]


def _is_exact(module: ModuleType) -> bool:
    # A format whose values are lossy copies (TensorBoard's float32) says EXACT = False.
    return getattr(module, "EXACT", True)


def _claim(modules: list[ModuleType], accepts: Callable[[ModuleType], bool]
           ) -> tuple[ModuleType | None, list[ModuleType]]:
    """The format that reads a folder several formats accept, and the ones it displaces.

    Priority order decides, except that an exact text source (detectron2's ``metrics.json``)
    wins over a lossy copy of the same run (its TensorBoard events file).  Once an exact format
    has claimed the folder only the lossy formats are still asked, so that the copy it leaves
    out can be reported, and the walk stays cheap.
    """
    claimants: list[ModuleType] = []
    exact = None
    for module in modules:
        if exact is not None and _is_exact(module):
            continue
        if accepts(module):
            claimants.append(module)
            if exact is None and _is_exact(module):
                exact = module
    if not claimants:
        return None, []
    winner = exact or claimants[0]
    return winner, [module for module in claimants if module is not winner]


def _left_out(path: Path, winner: ModuleType, losers: list[ModuleType]) -> list[str]:
    return [f"{path}: read as {winner.FORMAT}, not as {loser.FORMAT}: the same run's exact "
            f"text log wins over the {loser.FORMAT} copy" for loser in losers]


def _walk(paths: Iterable[Path], forced: str | None = None,
          displaced: dict[Path, list[str]] | None = None
          ) -> tuple[list[tuple[ModuleType, Path, Path]], dict[str, str]]:
    """Like :func:`discover`, with the root each log was found under: ``(module, path, root)``.

    ``root`` is the folder the user named (a named file's folder): paths found inside logs are
    resolved within it and never outside, and detection opens nothing outside it either.  A
    named file that belongs to a folder format (detectron2's ``metrics.json``, HF's
    ``trainer_state.json``) is read as its folder.  Also returns the candidates detection could
    not open (``{path: reason}``), unreadable or refused (a symlink out of the folder, a FIFO),
    that no format claimed otherwise.

    A folder claimed by a ``CONSUMES_SUBTREE`` format is not descended into; files inside a
    claimed folder are not offered to the file formats.  Formats displaced from a folder by a
    better source of the same run are noted in ``displaced``, by the path that was claimed.
    """
    modules = [module_for(forced)] if forced else format_modules()
    found: list[tuple[ModuleType, Path, Path]] = []
    displaced = displaced if displaced is not None else {}
    with noting_refusals() as refused:
        _walk_roots(paths, modules, forced, found, displaced)
    claimed = [str(path) for _, path, _ in found]
    unread = {path: reason for path, reason in refused.items()
              if not any(path == c or path.startswith(c.rstrip(os.sep) + os.sep) for c in claimed)}
    return found, unread


def _walk_roots(paths: Iterable[Path], modules: list[ModuleType], forced: str | None,
                found: list[tuple[ModuleType, Path, Path]],
                displaced: dict[Path, list[str]]) -> None:
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
                module, path, folder = _named_file(root, modules, dir_modules, forced, displaced)
            if module is not None:
                found.append((module, path, folder))
            continue
        with contained_in(root):
            _walk_folder(root, dir_modules, file_modules, found, displaced)


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
                 found: list[tuple[ModuleType, Path, Path]],
                 displaced: dict[Path, list[str]]) -> None:
    """Let the formats claim folders and files under ``root`` (see :func:`_walk`)."""
    for directory, subdirs, files in os.walk(root):
        subdirs[:] = sorted(d for d in subdirs if d not in _SKIP_DIRS)
        here = Path(directory)
        module, losers = _claim(dir_modules, lambda m: _detects(m, here))
        if module is not None:
            found.append((module, here, root))
            if losers:
                displaced[here] = _left_out(here, module, losers)
            if getattr(module, "CONSUMES_SUBTREE", True):
                subdirs[:] = []
            continue
        for name in sorted(files):
            file = here / name
            for module in file_modules:
                if _detects(module, file):
                    found.append((module, file, root))
                    break


def _named_file(file: Path, modules: list[ModuleType], dir_modules: list[ModuleType],
                forced: str | None, displaced: dict[Path, list[str]]
                ) -> tuple[ModuleType | None, Path, Path]:
    """The format and path that read a file named on the command line."""
    folder = file.parent
    module, losers = _claim(dir_modules, lambda m: getattr(m, "owns", None) is not None
                            and m.owns(file) and (forced is not None or _detects(m, folder)))
    if module is not None:
        if losers:
            displaced[folder] = _left_out(folder, module, losers)
        return module, folder, folder
    for module in modules:
        if _detects(module, file):
            return module, file, folder
    return (modules[0] if forced else None), file, folder


def read_paths(paths: Iterable[Path], *, forced: str | None = None,
               on_progress: Callable[[int, int, str], None] | None = None) -> ReadResult:
    """Read every log under ``paths`` into records; failures are collected, not raised.

    Paths that a batch lists as consumed (e.g. DVC metrics files) are not read again by a
    later file format.  Runs without a git commit get their work tree's HEAD when they are not
    older than it, marked inferred (:mod:`.git`).
    """
    result = ReadResult()
    commits = CommitInference()  # one per import: git is asked once per repository
    paths = [Path(p) for p in paths]
    named_files = {p for p in paths if p.is_file()}
    displaced: dict[Path, list[str]] = {}
    found, unread = _walk(paths, forced, displaced)
    for path, reason in unread.items():
        result.failures.append(Failure(path, ImportFailed(path, reason)))
    consumed: set[str] = set()
    total = len(found)
    real_roots: dict[Path, Path] = {}  # a store of many runs is many logs under one root
    for index, (module, path, root) in enumerate(found):
        if on_progress:
            on_progress(index, total, str(path))
        if consumed:
            resolved = path.resolve()
            if str(resolved) in consumed or any(str(parent) in consumed
                                                for parent in resolved.parents):
                continue  # read already as part of another log (a DVC stage's plots, DVCLive)
        if root not in real_roots:
            real_roots[root] = root.resolve()
        ctx = ImportContext(root=real_roots[root])
        try:
            # read_scope: the fingerprints describe the bytes this read consumed; gc paused:
            # readers build many small records and no cycles; contained: nothing outside root.
            with gc_paused(), read_scope(), \
                    contained_in(root, *([path] if path in named_files else [])):
                batch = module.read(path, ctx)
                commits.know(import_real_paths())  # the folders just read: no lstat per run
            _check_values(batch, ctx)
        except NotReady as exc:
            result.not_ready.append(exc.one_line())
            continue
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
        # A folder this reader claims whole: runs another reader made of parts of it earlier
        # (before the writer left the files that let this reader claim it) are leftovers.
        batch.claims_folder = module.KIND == "dir" and getattr(module, "CONSUMES_SUBTREE", True)
        # The reader's own account of what it merged is more precise than the walk's.
        result.merged.extend(batch.merged or displaced.get(path, ()))
        for run in batch.runs:
            # Every format's params pass the same credential filter (keys kept, values hidden).
            run.params = redact_secret_params(run.params)
            commits.fill(run)
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


def _extreme(values: list | range) -> int | float | None:
    """The value of largest magnitude in ``values`` (Nones ignored), or None."""
    if type(values) is range:  # a progression's extremes are its ends: no walk over it
        return (values[0] if abs(values[0]) > abs(values[-1]) else values[-1]) if values else None
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
