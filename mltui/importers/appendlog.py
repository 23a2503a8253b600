"""Reading only what a growing log appended since the last read (``mltui watch``).

A watch imports the same logs pass after pass; re-reading a log whole each time costs its full
size per pass.  Every format whose log only ever grows at its end (JSON lines, CSV rows, MLflow
metric files, TensorBoard records) reads through here.  Inside :func:`following` (what
``WatchState.poll`` wraps its import in), after a whole read :func:`keep` (:func:`remember`)
keeps, for this process, the byte offset of the last complete line (record), digests of the
file's first and last few KB before that offset, its inode, the fingerprint the catalog got,
the parser state the format needs to go on after the offset (``context``: a CSV header, the
last epoch) and the content of the run's other files (``sides``: a changed ``hparams.yaml``
means a whole read).  The next read calls :func:`read_grown` (or :func:`grown`): when the file
is the same inode, at least that long, both digests still match and the side files are
unchanged, only the bytes after the offset are parsed; otherwise (truncated, rewritten,
replaced) the reader reads the whole file as before.  A run of several logs (an MLflow run's
metric files, a TensorBoard run's event files) is remembered as a group: :func:`keep_group`,
:func:`grown_group`, :meth:`GroupGrowth.accept`.  The catalog appends the new points only
while it still holds the remembered fingerprint (see core/series_append.py); anything else is
a full re-read.
"""

from __future__ import annotations

import hashlib
import os
import stat
import threading
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from ..core.records import RunRecord
from ..core.safefile import open_regular
from ..core.errors import ImportFailed
from .readstate import BYTES_READ, digest_read, takes_unterminated

CHECK_BYTES = 4096  # the head and the end of the read part that must still match
SIDE_BYTES = 1 << 20  # a run's other files up to this size are compared by content
_STATES: dict[str, "AppendState"] = {}
_GROUPS: dict[str, "GroupState"] = {}  # runs of several logs (an MLflow run folder), by folder
_LOCK = threading.Lock()
# Bytes read to check a remembered prefix (head and end digests), for tests and benchmarks.
CHECKED = {"bytes": 0}
# Only a watch reads appended bytes: any other read of a log (an import, a dry run, a test
# calling a reader) gets the whole run, never just its new points.
_FOLLOWING: ContextVar[bool] = ContextVar("mltui_following", default=False)


def active() -> bool:
    """True inside :func:`following`: a reader may keep what it needs to read appended bytes."""
    return _FOLLOWING.get()


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
    context: Any = None  # the format's parser state after ``offset`` (a CSV header, ...)
    sides: str = ""  # what the run's other files held at that read (see side_stat)


def _digest(data: bytes) -> bytes:
    return hashlib.blake2b(data, digest_size=16).digest()


def chain(fingerprint: str, data: bytes) -> str:
    """The fingerprint of a run after ``data`` was appended to what ``fingerprint`` describes."""
    return hashlib.sha256(f"{fingerprint}\0append\0".encode() + _digest(data)).hexdigest()[:32]


def remember(path: Path | str, data: bytes, offset: int, fingerprint: str, inode: int, *,
             context: Any = None, sides: str = "") -> None:
    """Keep that ``data[:offset]`` (a prefix ending with a newline or a whole record, or
    empty) was read and written as ``fingerprint``; ``offset`` 0 forgets the file."""
    key = os.path.abspath(path)
    with _LOCK:
        if not _FOLLOWING.get():
            return
        if offset <= 0:
            _STATES.pop(key, None)
            return
        head_size = min(CHECK_BYTES, offset)
        _STATES[key] = AppendState(offset, inode, head_size, _digest(data[:head_size]),
                                   _digest(data[max(0, offset - CHECK_BYTES):offset]), fingerprint,
                                   context, sides)


def forget(path: Path | str | None = None) -> None:
    """Drop what was remembered of ``path`` (of every file when None): its next read is whole."""
    with _LOCK:
        if path is None:
            _STATES.clear()
            _GROUPS.clear()
        else:
            _STATES.pop(os.path.abspath(path), None)
            _GROUPS.pop(os.path.abspath(path), None)


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
            fingerprint: str, context: Any = None) -> None:
    """Keep that ``consumed`` (complete lines after ``state.offset``; ``before`` the bytes
    just before it) was read too and the catalog's run now holds ``fingerprint``."""
    offset = state.offset + len(consumed)
    tail = (before + consumed)[-CHECK_BYTES:]
    with _LOCK:
        _STATES[os.path.abspath(path)] = AppendState(offset, state.inode, state.head_size, state.head,
                                                     _digest(tail), fingerprint, context,
                                                     state.sides)


@dataclass(frozen=True)
class SideStat:
    """A run's other files (its ``hparams.yaml``, its ``args.yaml``) as :func:`side_stat`
    found them before a whole read: per path, a digest of its bytes, its stat, or ``-``."""

    paths: tuple[str, ...]
    parts: tuple[str, ...]

    @property
    def text(self) -> str:
        """The description compared with a remembered one."""
        return "\n".join(self.parts)

    def as_read(self) -> str:
        """:attr:`text`, with each side file the whole read parsed described by the bytes it
        parsed.  A side file rewritten with the same content while it was read (Lightning 1.x
        rewrites ``hparams.yaml`` at every save) may have been parsed empty or cut although it
        reads the same before and after: described by what was parsed, it differs from the
        file next pass, and the run is read whole again."""
        parts = list(self.parts)
        for index, path in enumerate(self.paths):
            parsed = digest_read(path)
            if parsed is not None and not parts[index].startswith(f"{path}\0stat\0"):
                parts[index] = f"{path}\0{parsed.hex()}"
        return "\n".join(parts)


def side_stat(paths: Iterable[Path | str]) -> SideStat:
    """What a run's other files hold: a digest of each one's bytes (they are small; Lightning
    rewrites ``hparams.yaml`` unchanged at every save, so their stat would change every pass),
    the stat of one over SIDE_BYTES.  Taken before a whole read, so a change during it shows
    next time (and see :meth:`SideStat.as_read`)."""
    paths = tuple(str(path) for path in paths)
    parts = []
    for path in paths:
        try:
            info = os.stat(path)  # first: a missing side file is no refusal to report
            if not stat.S_ISREG(info.st_mode) or info.st_size > SIDE_BYTES:
                parts.append(f"{path}\0stat\0{info.st_size}\0{info.st_mtime_ns}\0{info.st_ino}")
                continue
            with open_regular(path) as handle:
                data = handle.read(SIDE_BYTES + 1)
        except OSError:
            parts.append(f"{path}\0-")
            continue
        CHECKED["bytes"] += len(data)
        parts.append(f"{path}\0{_digest(data).hex()}")
    return SideStat(paths, tuple(parts))


def inode_of(path: Path | str) -> int | None:
    """The inode of ``path`` (None when it cannot be stat'ed), taken *before* a whole read:
    a file replaced during the read is then not trusted next time."""
    try:
        return os.stat(path).st_ino
    except OSError:
        return None


def keep(path: Path | str, data: bytes, offset: int, fingerprint: str | None, inode: int | None,
         *, context: Any = None, sides: SideStat | None = None) -> None:
    """After a whole read of ``data`` (``inode`` and ``sides`` taken before it): remember the
    first ``offset`` bytes as read, unless the file could not be stat'ed or the run has no
    fingerprint.  A no-op outside :func:`following`."""
    if inode is None or fingerprint is None:
        return
    remember(path, data, offset, fingerprint, inode, context=context,
             sides=sides.as_read() if sides is not None else "")


def last_line_end(data: bytes) -> int:
    """How many bytes of ``data`` end with its last newline."""
    return data.rfind(b"\n") + 1


@dataclass
class Grown:
    """What was appended to a remembered log: ``data`` after ``state.offset``; a reader parses
    ``data[:cut]`` (whole lines or records) then calls :meth:`accept`, or :meth:`refuse` when
    only a whole read can decide (an error, a last line the whole read would take)."""

    path: str
    state: AppendState
    before: bytes
    data: bytes
    cut: int

    @property
    def complete(self) -> bytes:
        """The whole lines (or records) appended: what this read consumes."""
        return self.data[:self.cut]

    @property
    def rest(self) -> bytes:
        """What follows the last whole line: a record still being written."""
        return self.data[self.cut:]

    @property
    def context(self) -> Any:
        """The format's parser state after the remembered offset."""
        return self.state.context

    def refuse(self) -> None:
        """Forget the file: the reader reads it whole instead."""
        forget(self.path)

    def accept(self, run: RunRecord, context: Any = None) -> None:
        """``run`` holds the points of :attr:`complete`: mark it as an append to what the
        catalog holds, give it the chained fingerprint and remember the new offset."""
        consumed = self.complete
        BYTES_READ["bytes"] += len(consumed)
        run.appends_to = self.state.fingerprint
        run.fingerprint = chain(self.state.fingerprint, consumed) if consumed else self.state.fingerprint
        advance(self.path, self.state, self.before, consumed, run.fingerprint, context)


def grown(path: Path | str, *, sides: Iterable[Path | str] = (),
          cut: Callable[[bytes], int] = last_line_end) -> Grown | None:
    """The bytes appended to ``path`` since it was remembered, cut by ``cut`` (default: at
    the last newline); None when it must be read whole: not remembered, truncated, rewritten,
    replaced, unreadable, or one of the run's other files (``sides``) changed since."""
    try:
        found = appended(path)
    except OSError:
        found = None
    if found is None:
        return None
    state, before, data = found
    if side_stat(sides).text != state.sides:
        forget(path)
        return None
    return Grown(os.path.abspath(path), state, before, data, cut(data))


def read_grown(path: Path | str, run: RunRecord, parse: Callable[[bytes, Any], Any],
               keeps_rest: Callable[[bytes, Any], bool], *, sides: Iterable[Path | str] = (),
               cut: Callable[[bytes], int] = last_line_end) -> bool:
    """Fill ``run`` from what was appended to ``path`` only: ``parse(complete, context)``
    fills it from the whole lines (records) appended and returns the parser state after them.
    False, and the file forgotten, when it must be read whole: see :func:`grown`, or
    ``keeps_rest(rest, context)`` says a whole read would take the unterminated rest as a
    record, or ``parse`` raised ImportFailed (the whole read reports it with its line)."""
    found = grown(path, sides=sides, cut=cut)
    if found is None:
        return False
    if keeps_rest(found.rest, found.context):
        found.refuse()
        return False
    try:
        context = parse(found.complete, found.context)
    except ImportFailed:
        found.refuse()
        return False
    found.accept(run, context)
    return True


def whole_offset(data: bytes, context: Any, keeps_rest: Callable[[bytes, Any], bool]) -> int:
    """What a whole read of ``data`` consumed for good: up to its last newline, or 0 (remember
    nothing) when it took an unterminated last line as a record, whose bytes may still grow."""
    cut = last_line_end(data)
    return 0 if keeps_rest(data[cut:], context) else cut


def csv_row_kept(rest: bytes, context: tuple) -> bool:
    """``keeps_rest`` of a CSV log whose context starts with (header width, delimiter)."""
    return takes_unterminated(rest.decode("utf-8", "replace"), context[0], context[1])


# ---------------------------------------------------------------------------------------------
# Runs of several logs: one file per metric (MLflow), a folder of event files (TensorBoard)


@dataclass(frozen=True)
class GroupState:
    """What the last read of a run of several logs left: the catalog's fingerprint of the run,
    its other files (``sides``), which logs it read (each remembered on its own) and the
    format's context (what the run's record needs that only a whole read finds)."""

    fingerprint: str
    sides: str
    members: frozenset[str]
    context: Any = None


@dataclass
class GroupGrowth:
    """The appended part of every log of a remembered run: ``grown`` for the logs read before,
    ``new`` (paths) for logs that appeared since, to be read whole."""

    key: str
    state: GroupState
    grown: list[Grown]
    new: list[str]

    @property
    def context(self) -> Any:
        """The format's context of the run, as the last read left it."""
        return self.state.context

    def accept(self, run: RunRecord, fresh: list[tuple[str, bytes, int, int | None]],
               context: Any = None) -> None:
        """``run`` holds the points of every grown log's whole lines and of the ``fresh`` logs
        read whole (path, bytes, offset consumed for good, inode before the read): mark it as
        an append, chain its fingerprint over all of them, remember every log (and the
        format's ``context`` after them; the one before when None)."""
        parts = [(g.path, g.complete) for g in self.grown]
        parts += [(os.path.abspath(path), data) for path, data, _, _ in fresh]
        BYTES_READ["bytes"] += sum(len(g.complete) for g in self.grown)
        run.appends_to = self.state.fingerprint
        if any(data for _, data in parts):
            run.fingerprint = chain(self.state.fingerprint, b"".join(
                path.encode() + b"\0" + _digest(data) for path, data in parts))
        else:
            run.fingerprint = self.state.fingerprint
        for found in self.grown:
            advance(found.path, found.state, found.before, found.complete, run.fingerprint,
                    found.context)
        for path, data, offset, inode in fresh:
            keep(path, data, offset, run.fingerprint, inode)
        members = self.state.members | {os.path.abspath(path) for path, *_ in fresh}
        _remember_group(self.key, run.fingerprint, self.state.sides, members,
                        self.state.context if context is None else context)


def keep_group(key: Path | str, fingerprint: str | None, sides: SideStat | None,
               members: Iterable[Path | str], context: Any = None) -> None:
    """After a whole read of a run of several logs (each already kept with :func:`keep`;
    ``sides`` taken before the read): remember the run.  A no-op outside :func:`following`."""
    _remember_group(key, fingerprint, sides.as_read() if sides is not None else "", members,
                    context)


def _remember_group(key: Path | str, fingerprint: str | None, sides: str,
                    members: Iterable[Path | str], context: Any) -> None:
    if not _FOLLOWING.get() or fingerprint is None:
        return
    with _LOCK:
        _GROUPS[os.path.abspath(key)] = GroupState(
            fingerprint, sides, frozenset(os.path.abspath(m) for m in members), context)


def grown_group(key: Path | str, paths: Iterable[Path | str], *, sides: Iterable[Path | str],
                keeps_rest: Callable[[bytes, Any], bool],
                cut: Callable[[bytes], int] = last_line_end) -> GroupGrowth | None:
    """What was appended to each of ``paths`` (a run's logs) since the run was remembered;
    None when it must be read whole: not remembered, a side file changed, a log gone, or any
    log truncated, rewritten, replaced, read against another state of the run, or ending with
    a record a whole read would take (``keeps_rest``)."""
    if not _FOLLOWING.get():
        return None
    key = os.path.abspath(key)
    with _LOCK:
        state = _GROUPS.get(key)
    if state is None:
        return None
    paths = [os.path.abspath(path) for path in paths]
    if side_stat(sides).text != state.sides or not state.members <= set(paths):
        forget(key)
        return None
    growth = GroupGrowth(key, state, [], [])
    for path in paths:
        if path not in state.members:
            growth.new.append(path)
            continue
        found = grown(path, cut=cut)
        if (found is None or found.state.fingerprint != state.fingerprint
                or keeps_rest(found.rest, found.context)):
            forget(key)
            return None
        growth.grown.append(found)
    return growth
