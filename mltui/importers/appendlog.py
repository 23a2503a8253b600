"""Reading only what a growing line log appended since the last read (``mltui watch``).

A watch imports the same logs pass after pass; re-reading a JSONL file whole each time costs
its full size per pass.  Inside :func:`following` (what ``WatchState.poll`` wraps its import
in), after a read :func:`remember` keeps, for this process, the byte
offset of the last complete line, digests of the file's first and last few KB before that
offset, its inode and the fingerprint the catalog got.  The next read calls :func:`appended`:
when the file is the same inode, at least that long and both digests still match, only the
bytes after the offset are returned; otherwise (truncated, rewritten, replaced) None, and the
reader reads the whole file as before.  The catalog appends the new points only while it still
holds the remembered fingerprint (see core/series_append.py); anything else is a full re-read.
"""

from __future__ import annotations

import hashlib
import os
import threading
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from ..core.safefile import open_regular

CHECK_BYTES = 4096  # the head and the end of the read part that must still match
_STATES: dict[str, "AppendState"] = {}
_LOCK = threading.Lock()
# Bytes read to check a remembered prefix (head and end digests), for tests and benchmarks.
CHECKED = {"bytes": 0}
# Only a watch reads appended bytes: any other read of a log (an import, a dry run, a test
# calling a reader) gets the whole run, never just its new points.
_FOLLOWING: ContextVar[bool] = ContextVar("mltui_following", default=False)


@contextmanager
def following() -> Iterator[None]:
    """Reads inside remember what they consumed and read only what was appended since."""
    token = _FOLLOWING.set(True)
    try:
        yield
    finally:
        _FOLLOWING.reset(token)


@dataclass(frozen=True)
class AppendState:
    """What one earlier read of a log consumed: everything before ``offset``."""

    offset: int
    inode: int
    head_size: int  # min(CHECK_BYTES, offset) at the first read
    head: bytes  # digest of the first head_size bytes
    tail: bytes  # digest of the CHECK_BYTES bytes before offset
    fingerprint: str  # what the catalog holds for the run once that read is written


def _digest(data: bytes) -> bytes:
    return hashlib.blake2b(data, digest_size=16).digest()


def chain(fingerprint: str, data: bytes) -> str:
    """The fingerprint of a run after ``data`` was appended to what ``fingerprint`` describes."""
    return hashlib.sha256(f"{fingerprint}\0append\0".encode() + _digest(data)).hexdigest()[:32]


def remember(path: Path | str, data: bytes, offset: int, fingerprint: str, inode: int) -> None:
    """Keep that ``data[:offset]`` (a prefix ending with a newline, or empty) was read and
    written as ``fingerprint``; ``offset`` 0 forgets the file."""
    key = os.path.abspath(path)
    with _LOCK:
        if not _FOLLOWING.get():
            return
        if offset <= 0:
            _STATES.pop(key, None)
            return
        head_size = min(CHECK_BYTES, offset)
        _STATES[key] = AppendState(offset, inode, head_size, _digest(data[:head_size]),
                                   _digest(data[max(0, offset - CHECK_BYTES):offset]), fingerprint)


def forget(path: Path | str | None = None) -> None:
    """Drop what was remembered of ``path`` (of every file when None): its next read is whole."""
    with _LOCK:
        if path is None:
            _STATES.clear()
        else:
            _STATES.pop(os.path.abspath(path), None)


def appended(path: Path | str) -> tuple[AppendState, bytes, bytes] | None:
    """The remembered state of ``path``, the (up to CHECK_BYTES) bytes before its offset and
    the bytes after it; None when nothing is remembered or the file is no longer that prefix
    plus appended bytes."""
    if not _FOLLOWING.get():
        return None
    with _LOCK:
        state = _STATES.get(os.path.abspath(path))
    if state is None:
        return None
    with open_regular(path) as handle:
        info = os.fstat(handle.fileno())
        if info.st_ino != state.inode or info.st_size < state.offset:
            forget(path)  # replaced or truncated
            return None
        head = handle.read(state.head_size)
        start = max(0, state.offset - CHECK_BYTES)
        handle.seek(start)
        tail = handle.read(state.offset - start)
        CHECKED["bytes"] += len(head) + len(tail)
        if _digest(head) != state.head or _digest(tail) != state.tail:
            forget(path)  # rewritten
            return None
        handle.seek(state.offset)
        data = handle.read()
    return state, tail, data


def advance(path: Path | str, state: AppendState, before: bytes, consumed: bytes,
            fingerprint: str) -> None:
    """Keep that ``consumed`` (complete lines after ``state.offset``; ``before`` the bytes
    just before it) was read too and the catalog's run now holds ``fingerprint``."""
    offset = state.offset + len(consumed)
    tail = (before + consumed)[-CHECK_BYTES:]
    with _LOCK:
        _STATES[os.path.abspath(path)] = AppendState(offset, state.inode, state.head_size, state.head,
                                                     _digest(tail), fingerprint)
