"""Finding run logs under the paths a user names, and reading them with the right importer.

This is the first half of an import (the second, writing, is the catalog's): walk the folders,
let each format's ``detect`` claim what it recognises in priority order, read every claimed log
into plain records, and fill in what the log does not say (the git commit of its work tree).
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
from ..importers.common import (ImportContext, NotReady, gc_paused, git_info, read_scope,
                               redact_secret_params)

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
    return [(module, path) for module, path, _ in _walk(paths, forced)]


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
          displaced: dict[Path, list[str]] | None = None) -> list[tuple[ModuleType, Path, Path]]:
    """Like :func:`discover`, with the root each log was found under: ``(module, path, root)``.

    ``root`` is the folder the user named (a named file's folder): paths found inside logs are
    resolved within it and never outside.  A named file that belongs to a folder format
    (detectron2's ``metrics.json``, HF's ``trainer_state.json``) is read as its folder.

    A folder claimed by a ``CONSUMES_SUBTREE`` format is not descended into; files inside a
    claimed folder are not offered to the file formats.  Formats displaced from a folder by a
    better source of the same run are noted in ``displaced``, by the path that was claimed.
    """
    modules = [module_for(forced)] if forced else format_modules()
    dir_modules = [m for m in modules if m.KIND == "dir"]
    file_modules = [m for m in modules if m.KIND == "file"]
    found: list[tuple[ModuleType, Path, Path]] = []
    displaced = displaced if displaced is not None else {}
    for root in paths:
        root = Path(root)
        if not root.exists():
            raise InvalidInput(f"{root}: no such file or directory",
                               hint="check the path you passed to mltui import")
        if root.is_file():
            module, path, folder = _named_file(root, modules, dir_modules, forced, displaced)
            if module is not None:
                found.append((module, path, folder))
            continue
        for directory, subdirs, files in os.walk(root):
            subdirs[:] = sorted(d for d in subdirs if d not in _SKIP_DIRS)
            here = Path(directory)
            module, losers = _claim(dir_modules, lambda m: m.detect(here))
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
                    if module.detect(file):
                        found.append((module, file, root))
                        break
    return found


def _named_file(file: Path, modules: list[ModuleType], dir_modules: list[ModuleType],
                forced: str | None, displaced: dict[Path, list[str]]
                ) -> tuple[ModuleType | None, Path, Path]:
    """The format and path that read a file named on the command line."""
    folder = file.parent
    module, losers = _claim(dir_modules, lambda m: getattr(m, "owns", None) is not None
                            and m.owns(file) and (forced is not None or m.detect(folder)))
    if module is not None:
        if losers:
            displaced[folder] = _left_out(folder, module, losers)
        return module, folder, folder
    for module in modules:
        if module.detect(file):
            return module, file, folder
    return (modules[0] if forced else None), file, folder


def read_paths(paths: Iterable[Path], *, forced: str | None = None,
               on_progress: Callable[[int, int, str], None] | None = None) -> ReadResult:
    """Read every log under ``paths`` into records; failures are collected, not raised.

    Paths that a batch lists as consumed (e.g. DVC metrics files) are not read again by a
    later file format.  Runs without a git commit get the one of the log's work tree.
    """
    result = ReadResult()
    displaced: dict[Path, list[str]] = {}
    found = _walk(paths, forced, displaced)
    consumed: set[str] = set()
    total = len(found)
    for index, (module, path, root) in enumerate(found):
        if on_progress:
            on_progress(index, total, str(path))
        if str(path.resolve()) in consumed:
            continue
        ctx = ImportContext(root=root.resolve())
        try:
            # read_scope: the fingerprints describe the bytes this read consumed.
            with gc_paused(), read_scope():  # readers build many small records and no cycles
                batch = module.read(path, ctx)
        except NotReady as exc:
            result.not_ready.append(exc.one_line())
            continue
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
        # A folder this reader claims whole: runs another reader made of parts of it earlier
        # (before the writer left the files that let this reader claim it) are leftovers.
        batch.claims_folder = module.KIND == "dir" and getattr(module, "CONSUMES_SUBTREE", True)
        # The reader's own account of what it merged is more precise than the walk's.
        result.merged.extend(batch.merged or displaced.get(path, ()))
        for run in batch.runs:
            # Every format's params pass the same credential filter (keys kept, values hidden).
            run.params = redact_secret_params(run.params)
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
