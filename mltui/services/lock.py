"""One import of a folder at a time: an advisory lock file per imported root, next to the catalog.

Cron can start an import while the last one is still reading a big folder.  The second one
waits (bounded) for the first and then finds nothing new, instead of reading everything again
at the same time.  Correctness never depends on the lock: fingerprints describe the bytes read,
so two imports that overlap anyway lose nothing; the lock only saves the duplicate work.
"""

from __future__ import annotations

import hashlib
import os
import time
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import IO, Callable, Iterable, Iterator

from ..core.errors import MltuiError

try:  # POSIX only; elsewhere imports of the same folder simply overlap (still lose nothing)
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

_POLL_SECONDS = 0.05


class ImportRunning(MltuiError):
    """Another import of the same folder held its lock for longer than we were asked to wait."""

    exit_code = 1


@contextmanager
def import_lock(catalog_path: Path, roots: Iterable[Path], *, wait: float,
                on_wait: Callable[[str], None] | None = None) -> Iterator[None]:
    """Hold the import lock of every root in ``roots`` (resolved) for the ``with`` block.

    Locks are taken in sorted order so two imports of overlapping lists cannot deadlock.  When
    a lock is held, ``on_wait`` gets one line saying so, then we wait up to ``wait`` seconds
    and raise :class:`ImportRunning` (exit 1) if it is still held.
    """
    if fcntl is None or str(catalog_path) == ":memory:":
        yield
        return
    folder = Path(catalog_path).parent / "locks"
    keys = sorted({str(Path(root).resolve()) for root in roots})
    # Folders this lock creates; removed again if the import wrote no catalog, so a failed
    # first import leaves nothing behind (the catalog itself is made on its first write).
    created = [d for d in (folder, *folder.parents) if not d.exists()]
    try:
        with ExitStack() as stack:
            for key in keys:
                stack.enter_context(_hold(folder, key, wait, on_wait))
            yield
    finally:
        if created and not Path(catalog_path).exists():
            for lock in folder.glob("import-*.lock"):
                lock.unlink(missing_ok=True)
            for directory in created:  # innermost first
                try:
                    directory.rmdir()
                except OSError:
                    break  # not empty: another process is using it


@contextmanager
def _hold(folder: Path, key: str, wait: float,
          on_wait: Callable[[str], None] | None) -> Iterator[None]:
    folder.mkdir(parents=True, exist_ok=True)
    name = hashlib.sha256(key.encode()).hexdigest()[:24]
    handle = open(folder / f"import-{name}.lock", "a+")
    try:
        _acquire(handle, key, wait, on_wait)
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")  # so a waiting import can say who holds it
        handle.flush()
        yield
    finally:
        handle.close()  # closing releases the lock


def _acquire(handle: IO[str], key: str, wait: float,
             on_wait: Callable[[str], None] | None) -> None:
    deadline = time.monotonic() + max(wait, 0.0)
    told = False
    while True:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            pass
        holder = _holder(handle)
        if time.monotonic() >= deadline:
            raise ImportRunning(f"another import of {key} is still running{holder}",
                                hint=f"waited {wait:g}s; try again later or pass a longer --wait")
        if not told and on_wait is not None:
            on_wait(f"waiting for another import of {key}{holder} (up to {wait:g}s)")
            told = True
        # Polling, because flock cannot time out; the poll is short next to any import.
        time.sleep(_POLL_SECONDS)


def _holder(handle: IO[str]) -> str:
    try:
        handle.seek(0)
        pid = handle.read().strip()
    except OSError:
        return ""
    return f" (pid {pid})" if pid.isdigit() else ""
