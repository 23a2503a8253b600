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

import errno
import os
import stat
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import BinaryIO, Iterable, Iterator

_DEFAULT_MAX = 512 * 1024 * 1024
_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)

# The folders the current import may read from (None: no containment, the user named the file).
_ROOTS: ContextVar[tuple[str, ...] | None] = ContextVar("mltui_read_roots", default=None)
# The limit, read from the environment once per import (a lookup costs as much as a stat).
_CAP: ContextVar[int | None] = ContextVar("mltui_read_cap", default=None)
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
    cap = _CAP.get()
    return cap if cap is not None else _cap_from_env()


def _cap_from_env() -> int:
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
    real += tuple(r.rstrip(os.sep) + os.sep for r in real)
    _REAL_DIRS.clear()
    _RAW_DIRS.clear()
    token, cap_token = _ROOTS.set(real), _CAP.set(_cap_from_env())
    try:
        yield
    finally:
        _ROOTS.reset(token)
        _CAP.reset(cap_token)


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
    # roots holds each folder twice: as itself and with a trailing separator (see contained_in).
    return real in roots or real.startswith(roots)


_REAL_DIRS: dict[str, str] = {}
_RAW_DIRS: dict[str, str] = {}  # folders as readers spell them → real path with a separator


def _real_dir(folder: str) -> str:
    return _cached_real(folder, _REAL_DIRS)


def real_path(path: Path | str, cache: dict[str, str]) -> str:
    """``os.path.realpath(path)``, the real paths of its folders kept in ``cache``.

    For many paths in the same folders (one import): see :func:`_cached_real`.  A relative
    path or one with ``..`` is resolved in full (``..`` must follow a symlink, not the text).
    """
    text = os.fspath(path)
    if not os.path.isabs(text) or ".." in text.split(os.sep):
        return os.path.realpath(text)
    return _cached_real(os.path.normpath(text), cache)


def _cached_real(path: str, cache: dict[str, str]) -> str:
    # Resolving every path in full costs a system call per path component, per path; here a
    # path is its parent's cached real path plus its name (one lstat) unless it is itself a
    # symlink.  For one import's lifetime: a folder swapped for a symlink during it is not seen.
    real = cache.get(path)
    if real is None:
        parent, name = os.path.split(path)
        if not name or parent == path:
            real = os.path.realpath(path)
        else:
            try:
                is_link = stat.S_ISLNK(os.lstat(path).st_mode)
            except OSError:
                is_link = True  # let realpath say what it can
            real = os.path.realpath(path) if is_link else os.path.join(
                _cached_real(parent, cache), name)
        cache[path] = real
    return real


def _contained(path: Path | str) -> str:
    """``path`` made absolute and checked against the import's folders (when inside one)."""
    text = os.path.abspath(os.fspath(path))
    roots = _ROOTS.get()
    if roots is None:
        return text
    folder, name = os.path.split(text)
    try:
        is_link = stat.S_ISLNK(os.lstat(text).st_mode)
    except OSError as exc:
        raise _refuse(path, f"cannot read: {exc.strerror or exc}") from None
    real = os.path.realpath(text) if is_link else os.path.join(_real_dir(folder), name)
    if not _inside(real, roots):
        raise _refuse(path, "a symlink to a file outside the imported folder; not read")
    return real


def checked_path(path: Path | str) -> str:
    """The absolute path of ``path`` after checking it may be read; raises :class:`UnsafeFile`.

    Checks containment (during an import) and that it is a regular file, without opening it;
    callers that hand the path to another library (SQLite) use this.
    """
    real = _contained(path)
    try:
        mode = os.stat(real).st_mode
    except OSError as exc:
        raise _refuse(path, f"cannot read: {exc.strerror or exc}") from None
    if not stat.S_ISREG(mode):
        raise _refuse(path, f"not a regular file ({_kind(mode)}); not read")
    return real


def _open_fd(path: Path | str) -> tuple[int, int]:
    """An open descriptor of a regular file and its size; never blocks on a FIFO."""
    roots = _ROOTS.get()
    if roots is None:
        real, flags = os.fspath(path), _FLAGS
    elif not _NOFOLLOW:  # no O_NOFOLLOW on this system: check every path in full
        real, flags = _contained(path), _FLAGS
    else:
        # The common case costs no extra system call: the folder's real path is cached and
        # O_NOFOLLOW fails (ELOOP) on a symlinked file, which then takes the full check.
        real, flags = _fast_real(os.fspath(path)), _FLAGS | _NOFOLLOW
        if not _inside(real, roots):
            raise _refuse(path, "a symlink to a file outside the imported folder; not read")
    try:
        fd = os.open(real, flags)
    except OSError as exc:
        if not (flags & _NOFOLLOW and exc.errno == errno.ELOOP):
            raise _refuse(path, f"cannot read: {exc.strerror or exc}") from None
        fd = _open_symlink(path)
    # The type is checked on the open descriptor, so a swap after any earlier check is caught.
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        raise _refuse(path, f"not a regular file ({_kind(info.st_mode)}); not read")
    return fd, info.st_size


def _fast_real(text: str) -> str:
    """``text`` with its folder replaced by that folder's cached real path."""
    folder, sep, name = text.rpartition(os.sep)
    if not sep or name in ("", ".", ".."):
        folder, name = os.path.split(os.path.abspath(text))
        return os.path.join(_real_dir(folder), name)
    real = _RAW_DIRS.get(folder)
    if real is None:
        real = _RAW_DIRS[folder] = _real_dir(os.path.abspath(folder or os.sep)).rstrip(os.sep) + os.sep
    return real + name


def note_folders(folder: str, entries: Iterable[os.DirEntry]) -> None:
    """Cache the real paths of ``folder``'s subfolders from a scandir of it (during an import).

    A scandir already tells which entries are folders and which are symlinks (the directory's
    own type field: no system call), so the files later read in them skip the ``lstat`` that
    resolving each folder would cost.  Symlinked folders are left to the full check.  The same
    caveat as the cache itself: a folder swapped for a symlink during the import is not seen.
    """
    if _ROOTS.get() is None or not _NOFOLLOW:
        return
    base = _RAW_DIRS.get(folder)
    if base is None:
        base = _fast_real(os.path.join(folder, "x"))[:-1]
    # _REAL_DIRS keys are absolute and normalised: a folder named otherwise (a store given by a
    # relative path) keys its subfolders by its absolute path.
    plain = os.path.isabs(folder) and os.path.normpath(folder) == folder
    prefix = None if plain else os.path.join(os.path.abspath(folder), "")
    for entry in entries:
        if entry.is_dir(follow_symlinks=False):
            real = base + entry.name
            _RAW_DIRS.setdefault(entry.path, real + os.sep)
            _REAL_DIRS.setdefault(entry.path if prefix is None else prefix + entry.name, real)


def import_real_paths() -> dict[str, str]:
    """A cache for :func:`real_path`: during an import, the one its file reads fill (and
    :func:`note_folders` seeds), so a folder resolved for reading is not resolved again."""
    return _REAL_DIRS if _ROOTS.get() is not None else {}


def resolved(path: Path | str) -> str:
    """``str(Path(path).resolve())``, its folders resolved once per import (the import's cache):
    readers resolve each run folder and each file they read, an ``lstat`` per folder of the
    path without the cache."""
    return real_path(path, import_real_paths())


def _open_symlink(path: Path | str) -> int:
    real = _contained(path)
    try:
        return os.open(real, _FLAGS)
    except OSError as exc:
        raise _refuse(path, f"cannot read: {exc.strerror or exc}") from None


def open_regular(path: Path | str) -> BinaryIO:
    """Open ``path`` for binary reading: contained, a regular file, never blocking."""
    return os.fdopen(_open_fd(path)[0], "rb")


def read_bytes(path: Path | str, limit: int | None = None) -> bytes:
    """The bytes of a regular file (the first ``limit`` when given), at most the file limit."""
    cap = max_file_bytes()
    bounded = limit is not None and limit <= cap
    want = limit if bounded else cap + 1
    fd, size = _open_fd(path)
    chunks = []
    try:
        while want > 0:
            # Sized from the file, so a small file is one read and no huge buffer is allocated;
            # a short read of a regular file is its end.
            ask = min(want, max(size + 1, 1 << 16))
            chunk = os.read(fd, ask)
            chunks.append(chunk)
            want -= len(chunk)
            if len(chunk) < ask:
                break
    finally:
        os.close(fd)
    data = chunks[0] if len(chunks) == 1 else b"".join(chunks)
    if not bounded and len(data) > cap:
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
