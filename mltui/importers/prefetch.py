"""A store's many small files read ahead by a forked process while this one parses them.

An MLflow file store keeps each run in a dozen tiny files (``meta.yaml``, a file per param, tag
and metric).  Reading one costs four system calls (open, fstat, read, close: ~8 µs on a cloud
VM) plus the containment checks, whatever its size: a store of 1,000 small runs spends about a
tenth of its import there, a store of 50 long runs almost nothing.  A thread cannot take that
work off the parser: every system call hands CPython's GIL back and forth (measured slower).  A
forked child has its own interpreter and the second core: it reads the runs' files in order with
the very same :func:`mltui.core.safefile.read_bytes` (fork copies the import's containment roots
and caches) and sends their bytes down a pipe; the parser takes a run's files just before it
reads that run, and reads anything not sent (a file the child could not read, a child that
died) itself, so errors and refusals are the parser's own.

Only an optimisation: the records are the same with or without it (tests compare).  It runs
where fork is safe and worth it: Linux, an import on the process's main thread (the
command line; the app reads logs in worker threads and never forks), not a watch pass, and
enough runs to pay for the fork.  The child runs nothing but system calls, pickling and the
read checks (no imports, no locks, no SQLite: the catalog's connection is left untouched) and
leaves with ``os._exit``.  Files over 1 MiB are left to the parser: read ahead, they would be
held twice and copied through the pipe for nothing (their parse dwarfs their open).
"""

from __future__ import annotations

import os
import pickle
import struct
import sys
import threading
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Callable, Iterator, NamedTuple, Sequence

from ..core.safefile import read_bytes
from .readstate import content_digest

# Fewer runs than this (in a whole store) are read directly: the fork (~3 ms) would cost
# more than it saves.
MIN_RUNS = 64
ENV = "MLTUI_PREFETCH"  # "never" turns it off, "always" ignores MIN_RUNS (the tests use both)
SEND_LIMIT = 1 << 20  # bytes: a bigger file is read by the parser itself
_FRAME = struct.Struct("<Q")

# The current run's files as read ahead: path as the reader spells it -> (bytes, their content
# digest), and its folders' listings (in the context of the thread that forked; other threads'
# reads never see them); the last file taken, for its digest.
_AHEAD: ContextVar[dict[str, tuple[bytes, bytes]] | None] = ContextVar("mltui_read_ahead",
                                                                        default=None)
_LISTED: ContextVar[dict[str, list] | None] = ContextVar("mltui_listed_ahead", default=None)
_TAKEN: ContextVar[tuple[bytes, bytes] | None] = ContextVar("mltui_taken", default=None)


def take(path: str | os.PathLike) -> bytes | None:
    """The bytes read ahead for ``path`` (once), or None: then the caller reads it itself."""
    ahead = _AHEAD.get()
    found = ahead.pop(path, None) if ahead else None
    if found is None:
        return None
    _TAKEN.set(found)
    return found[0]


def taken_digest(data: bytes) -> bytes | None:
    """The content digest the forked reader computed of ``data`` when ``data`` is the very
    object :func:`take` just gave (the importer notes each read right after making it)."""
    taken = _TAKEN.get()
    return taken[1] if taken is not None and taken[0] is data else None


class ListedEntry(NamedTuple):
    """A folder entry as the forked reader saw it: what readers use of an ``os.DirEntry``."""

    name: str
    path: str
    dir: bool  # is_dir(), symlinks followed, as os.DirEntry.is_dir() answers by default

    def is_dir(self) -> bool:
        """Whether the entry is a folder (or a symlink to one)."""
        return self.dir


def entries_of(folder: str) -> list[ListedEntry]:
    """``os.scandir(folder)`` as :class:`ListedEntry` tuples, which can cross the pipe."""
    with os.scandir(folder) as entries:
        return [ListedEntry(entry.name, entry.path, entry.is_dir()) for entry in entries]


def listed(folder: str) -> list | None:
    """What the child's listing of ``folder`` gave (once), or None: then list it yourself."""
    ahead = _LISTED.get()
    return ahead.pop(folder, None) if ahead else None


def read_head(path: str | os.PathLike, limit: int | None) -> bytes:
    """The bytes of ``path`` (the first ``limit``): as read ahead when they were, else read
    now through :func:`mltui.core.safefile.read_bytes` (every importer's whole-file read)."""
    if limit is None:
        ahead = take(path)
        if ahead is not None:
            return ahead
    return read_bytes(path, limit)


def wanted(count: int) -> bool:
    """Whether reading ``count`` runs ahead in a forked process is possible and worth it."""
    mode = os.environ.get(ENV, "")
    # Linux only: training servers are, and macOS frameworks are not safe to use after a fork
    # without exec (CPython's own multiprocessing stopped forking there).
    if mode == "never" or not sys.platform.startswith("linux") \
            or threading.current_thread() is not threading.main_thread():
        return False
    return mode == "always" or count >= MIN_RUNS


class _Reader:
    """The parent's end: frames of ``(index, {path: (bytes, digest)}, {folder: listing})`` in
    the order of the folders given to the child.  The parser asks for folders in that order
    but may pass some by (a deleted experiment's runs): their frames are dropped."""

    def __init__(self, fd: int, pid: int, folders: Sequence[str] = ()):
        self._pipe = os.fdopen(fd, "rb", buffering=1 << 20)
        self._pid = pid
        self._done = False
        self._position = {folder: index for index, folder in enumerate(folders)}
        self._early: tuple | None = None  # a frame for a folder not asked for yet

    def files_of(self, index: int) -> tuple[dict[str, tuple[bytes, bytes]],
                                            dict[str, list]]:
        """Folder ``index``'s files and listings; empty once the child has stopped sending."""
        while self._early is not None or not self._done:
            if self._early is not None:
                frame, self._early = self._early, None
            else:
                frame = self._next_frame()
                if frame is None:
                    break
            if frame[0] == index:
                return frame[1], frame[2]
            if frame[0] > index:  # a later folder's: kept for when the parser gets there
                self._early = frame
                break
        return {}, {}

    def files_for(self, folder: str) -> tuple[dict[str, tuple[bytes, bytes]],
                                             dict[str, list]]:
        """:meth:`files_of` by the folder's path; empty for a folder the child was not given."""
        index = self._position.get(folder)
        return self.files_of(index) if index is not None else ({}, {})

    def _next_frame(self) -> tuple | None:
        head = self._pipe.read(_FRAME.size)
        if len(head) < _FRAME.size:
            self._done = True
            return None
        size = _FRAME.unpack(head)[0]
        body = self._pipe.read(size)
        if len(body) < size:  # the child died mid-frame: read directly from here
            self._done = True
            return None
        return pickle.loads(body)

    def close(self) -> None:
        self._done = True
        self._pipe.close()  # a child still writing gets EPIPE and exits
        try:
            os.waitpid(self._pid, 0)
        except ChildProcessError:
            pass


@contextmanager
def read_ahead(folders: Sequence[str],
               files_of: Callable[[str, dict[str, list]], list[str]]
               ) -> Iterator[Callable[[str], None]]:
    """Fork a child that reads ``files_of(folder, listings)`` for each folder in turn (which may
    add ``{subfolder: its listing}`` to ``listings``); yields ``ready(folder)``, which makes that
    folder's bytes and listings available to :func:`take` and :func:`listed` (call it before
    reading the folder, in the order given; folders may be passed by)."""
    try:
        read_fd, write_fd = os.pipe()
    except OSError:  # out of descriptors: read everything directly
        yield lambda folder: None
        return
    try:
        pid = os.fork()
    except OSError:  # no process to spare (EAGAIN, ENOMEM): read everything directly
        os.close(read_fd)
        os.close(write_fd)
        yield lambda folder: None
        return
    if pid == 0:  # the child: read, send, and leave without running any of the parent's code
        code = 0
        try:
            os.close(read_fd)
            with os.fdopen(write_fd, "wb", buffering=1 << 20) as pipe:
                for index, folder in enumerate(folders):
                    files, listings = {}, {}
                    for path in files_of(folder, listings):
                        try:
                            data = read_bytes(path, SEND_LIMIT + 1)
                        except OSError:
                            continue  # the parent reads it and reports it its own way
                        if len(data) <= SEND_LIMIT:
                            files[path] = data, content_digest(data)
                    body = pickle.dumps((index, files, listings), protocol=pickle.HIGHEST_PROTOCOL)
                    pipe.write(_FRAME.pack(len(body)))
                    pipe.write(body)
                    pipe.flush()  # each run as soon as it is read: the parser waits on it
        except BaseException:  # noqa: BLE001 - a broken pipe, ^C: the parent reads directly
            code = 1
        finally:
            os._exit(code)
    os.close(write_fd)
    reader = _Reader(read_fd, pid, folders)

    def ready(folder: str) -> None:
        files, listings = reader.files_for(folder)
        _AHEAD.set(files)
        _LISTED.set(listings)

    tokens = _AHEAD.set(None), _LISTED.set(None), _TAKEN.set(None)
    try:
        yield ready
    finally:
        _AHEAD.reset(tokens[0])
        _LISTED.reset(tokens[1])
        _TAKEN.reset(tokens[2])
        reader.close()
