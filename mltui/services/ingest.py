"""One import, as a user asks for it: find the logs, read them, write them in one transaction.

``import_paths`` is what ``mltui import`` and the app call.  It checks the arguments, lets
:mod:`.discovery` find and read every log (importers produce plain records), decides what an
invalid log means (stop, or skip it with ``skip_invalid``) and hands the records to
:meth:`Catalog.write_import`, which writes all of them or none.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterable

from ..core.errors import ImportFailed, InvalidInput
from ..core.hashing import dataset_for
from ..core.records import ImportSummary
from ..core.refs import MODEL_NAME_RE
from ..core.series_append import StaleAppend
from ..importers import appendlog
from ..importers.common import gc_paused
from .discovery import read_paths
from .lock import import_lock

if TYPE_CHECKING:  # pragma: no cover
    from ..core.catalog import Catalog


def import_paths(cat: "Catalog", paths: Iterable[str | Path] | str | Path, *,
                 format: str | None = None, datasets: Iterable[str | Path] = (),
                 model: str | None = None, skip_invalid: bool = False, dry_run: bool = False,
                 on_progress: Callable[[int, int, str], None] | None = None,
                 wait: float = 300.0, on_wait: Callable[[str], None] | None = None
                 ) -> ImportSummary:
    """Import every recognised run log under ``paths`` into ``cat`` in one transaction.

    On any invalid log nothing is written and the ImportFailed names the file, line and field;
    with ``skip_invalid`` the good logs are written and the bad listed in ``summary.skipped``.
    A log caught mid-write is not an error: it is listed in ``summary.not_ready``, its run keeps
    its previous state and the next import reads it again.  ``datasets`` are hashed and linked
    as inputs of every imported run; ``model`` registers each imported run's model artifact as
    the next version.  While another import of the same folder runs, this one waits up to
    ``wait`` seconds for it (``on_wait`` is told once), then finds only what is new.  This is
    the one path every import takes (CLI, app, and a future ``mltui watch``).
    """
    started = time.perf_counter()
    if isinstance(paths, (str, Path)):
        paths = [paths]
    paths = [Path(p) for p in paths]
    if model is not None and not MODEL_NAME_RE.match(model):
        raise InvalidInput(f"bad model name {model!r}", hint="use letters, digits, '_', '.', '-'")
    user_datasets = []
    for path in datasets:
        path = Path(path)
        if not path.exists():
            raise InvalidInput(f"--dataset {path}: no such file or directory")
        try:
            user_datasets.append(dataset_for(path))
        except OSError as exc:  # a FIFO, a device, an unreadable file: refused, never hung on
            raise InvalidInput(f"--dataset {path}: {exc.strerror or exc}") from None
    # The cyclic collector paused for the whole import, read and write: its records and rows
    # hold no cycles, yet each collection walked all of them (0.10-0.14 s of a 1,000-run store,
    # collecting nothing).  They are freed by reference counting when _import returns, before
    # the collector runs again.
    with gc_paused():
        if dry_run:  # reads only: nothing to protect
            return _import(cat, paths, format, user_datasets, model, skip_invalid, dry_run,
                           on_progress, started)
        with import_lock(cat.path, paths, wait=wait, on_wait=on_wait):
            return _import(cat, paths, format, user_datasets, model, skip_invalid, dry_run,
                           on_progress, started)


def _import(cat: "Catalog", paths: list[Path], format: str | None, user_datasets: list,
            model: str | None, skip_invalid: bool, dry_run: bool,
            on_progress: Callable[[int, int, str], None] | None, started: float) -> ImportSummary:
    result = read_paths(paths, forced=format, on_progress=on_progress)
    summary = ImportSummary(dry_run=dry_run, warnings=list(result.warnings),
                            not_ready=list(result.not_ready), merged=list(result.merged))
    if result.failures and not skip_invalid:
        first = result.failures[0]
        more = len(result.failures) - 1
        raise ImportFailed(first.error.path, first.error.reason, line=first.error.line,
                           field=first.error.field,
                           hint=(f"{more} more invalid log(s); " if more else "")
                           + "nothing was imported; fix the file or pass --skip-invalid")
    summary.skipped = [f.one_line() for f in result.failures]
    if not result.batches and not result.failures and not result.not_ready:
        raise InvalidInput(f"no run logs found in {', '.join(str(p) for p in paths)}",
                           hint="supported: mlflow, hf, ultralytics, dvc, lightning, tensorboard,"
                                " keras, detectron2, generic jsonl/csv; or force one with --format")
    for batch in result.batches:
        summary.formats[batch.source_format] = (summary.formats.get(batch.source_format, 0)
                                                + max(1, len(batch.runs)))
    try:
        cat.write_import(result.batches, summary, datasets=user_datasets, model=model,
                         dry_run=dry_run)
    except StaleAppend:
        # Appended points read against a run the catalog no longer holds as it was (another
        # import rewrote it, an earlier write rolled back): nothing was written; read whole.
        appendlog.forget()
        return _import(cat, paths, format, user_datasets, model, skip_invalid, dry_run,
                       on_progress, started)
    summary.seconds = time.perf_counter() - started
    return summary
