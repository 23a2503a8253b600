"""The one way mltui opens a file it did not write: a regular file, bounded, inside its folder.

Run logs come from anywhere.  A symlink in an imported folder may point at ``/etc/passwd``, a
FIFO would block a read forever and ``/dev/zero`` never ends, so every file an importer (or
``--dataset``/``--artifact`` hashing) opens goes through :func:`open_regular`:

* while an import reads a folder (:func:`contained_in`), the file's real path must lie inside
  that folder; a symlink that stays inside is fine;
* only regular files are opened (the open itself never blocks: ``O_NONBLOCK``);
* :func:`read_bytes` reads at most :func:`max_file_bytes` (``MLTUI_MAX_FILE_BYTES``, default
  512 MiB) and refuses a bigger file with a clear error rather than exhausting memory.

Errors are :class:`UnsafeFile`, an ``OSError``: every reader already turns "cannot read" into
its own one-line error, so a refused file is reported the same way.  While
:func:`noting_refusals` is active, every refusal is also noted, so the import can list a
candidate log it could not open instead of passing over it in silence.  No Textual, no
importer here: the core uses it for hashing.
"""

from __future__ import annotations

import os
import stat
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import BinaryIO, Iterator

_DEFAULT_MAX = 512 * 1024 * 1024

# The folders the current import may read from (None: no containment, the user named the file).
_ROOTS: ContextVar[tuple[str, ...] | None] = ContextVar("mltui_read_roots", default=None)
# Files refused while noting: {path as given: reason}.
_REFUSED: ContextVar[dict[str, str] | None] = ContextVar("mltui_refused", default=None)


class UnsafeFile(OSError):
    """A file mltui refuses to open: outside the imported folder, not a regular file, too big.

    ``str()`` is the reason; ``path`` names the file.
    """

    def __init__(self, reason: str, path: str = ""):
        super().__init__(reason)
        self.path = path


def max_file_bytes() -> int:
    """The per-file read limit in bytes (``MLTUI_MAX_FILE_BYTES``, default 512 MiB)."""
    raw = os.environ.get("MLTUI_MAX_FILE_BYTES", "")
    try:
        value = int(raw)
    except ValueError:
        return _DEFAULT_MAX
    return value if value > 0 else _DEFAULT_MAX


@contextmanager
def contained_in(*roots: Path | str) -> Iterator[None]:
    """While active, :func:`checked_path` refuses files whose real path is outside ``roots``."""
    real = tuple(os.path.realpath(os.fspath(r)) for r in roots)
    token = _ROOTS.set(real)
    try:
        yield
    finally:
        _ROOTS.reset(token)


@contextmanager
def noting_refusals() -> Iterator[dict[str, str]]:
    """Collect ``{path: reason}`` for every file refused or unreadable while active."""
    refused: dict[str, str] = {}
    token = _REFUSED.set(refused)
    try:
        yield refused
    finally:
        _REFUSED.reset(token)


def current_refusals() -> dict[str, str] | None:
    """The ``{path: reason}`` being collected by :func:`noting_refusals`, if any."""
    return _REFUSED.get()


def _refuse(path: Path | str, reason: str) -> UnsafeFile:
    refused = _REFUSED.get()
    if refused is not None:
        refused.setdefault(os.fspath(path), reason)
    return UnsafeFile(reason, os.fspath(path))


def _inside(real: str, roots: tuple[str, ...]) -> bool:
    return any(real == root or real.startswith(root.rstrip(os.sep) + os.sep) for root in roots)


def checked_path(path: Path | str) -> str:
    """The real path of ``path`` after checking it may be read; raises :class:`UnsafeFile`.

    Checks containment (during an import) and that it is a regular file, without opening it;
    callers that hand the path to another library (SQLite) use this.
    """
    real = os.path.realpath(os.fspath(path))
    roots = _ROOTS.get()
    if roots is not None and not _inside(real, roots):
        raise _refuse(path, "a symlink to a file outside the imported folder; not read")
    try:
        mode = os.stat(real).st_mode
    except OSError as exc:
        raise _refuse(path, f"cannot read: {exc.strerror or exc}") from None
    if not stat.S_ISREG(mode):
        raise _refuse(path, f"not a regular file ({_kind(mode)}); not read")
    return real


def open_regular(path: Path | str) -> BinaryIO:
    """Open ``path`` for binary reading after :func:`checked_path`; never blocks on a FIFO."""
    real = checked_path(path)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    try:
        fd = os.open(real, flags)
    except OSError as exc:
        raise _refuse(path, f"cannot read: {exc.strerror or exc}") from None
    # Checked again on the open descriptor: the path may have been swapped since the stat.
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        raise _refuse(path, f"not a regular file ({_kind(mode)}); not read")
    return os.fdopen(fd, "rb")


def read_bytes(path: Path | str, limit: int | None = None) -> bytes:
    """The bytes of a regular file (the first ``limit`` when given), at most the file limit."""
    cap = max_file_bytes()
    with open_regular(path) as handle:
        if limit is not None and limit <= cap:
            return handle.read(limit)
        data = handle.read(cap + 1)
    if len(data) > cap:
        raise _refuse(path, f"larger than {cap} bytes, the per-file limit; raise "
                         "MLTUI_MAX_FILE_BYTES to read it")
    return data


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISDIR(mode):
        return "a directory"
    return "not a plain file"
