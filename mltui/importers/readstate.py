"""What an import read of each file, so a file its writer changes during the read is read again.

A trainer keeps writing while an import reads: it appends rows, rewrites a CSV whole when a new
column appears, rewrites ``trainer_state.json`` in place.  Three things keep such races from
losing points: fingerprints describe the bytes actually read (not a later stat), a partial last
row is left for the next import, and a file caught half-written is :class:`NotReady` — not an
error, and not a skip that sticks.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import re
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Iterable, Iterator

from ..core.errors import ImportFailed


class NotReady(ImportFailed):
    """A log caught while its writer is still writing it (a half-written JSON rewritten in place,
    a file with only a partial first line).

    Not an error: the import goes on without that run, the catalog keeps the run's previous state
    and the next import reads the file again.  A subclass of ImportFailed so that code unaware of
    it still refuses to use what it read.
    """


# What each whole-file read in the current reader consumed: path -> digests of the bytes read.
# ``fingerprint`` uses them, so a run's fingerprint describes the bytes its records came from
# and a file that changed after it was read is read again by the next import.
_READS: ContextVar[dict[str, list[bytes]] | None] = ContextVar("mltui_reads", default=None)


@contextmanager
def read_scope() -> Iterator[None]:
    """Record the bytes every :func:`read_text` consumes while one log is read (see fingerprint)."""
    token = _READS.set({})
    try:
        yield
    finally:
        _READS.reset(token)


# Bytes of log text read for parsing, by whole-file reads and appended-bytes reads alike: what
# tests and benchmarks measure per watch pass.
BYTES_READ = {"bytes": 0}


def content_digest(data: bytes) -> bytes:
    """What one read of ``data`` counts as in a fingerprint: 16 bytes of BLAKE2b."""
    return hashlib.blake2b(data, digest_size=16).digest()


def note_read(path: Path | str, data: bytes, digest: bytes | None = None) -> None:
    """Remember the bytes one whole-file read consumed (inside a read_scope); ``digest`` is
    their :func:`content_digest` when already known (computed by the forked reader)."""
    BYTES_READ["bytes"] += len(data)
    reads = _READS.get()
    if reads is not None:
        reads.setdefault(_key(path), []).append(digest or content_digest(data))


def _key(path: Path | str) -> str:
    """``os.path.abspath(path)``, without its normalising pass for a path that needs none
    (absolute, no ``//``, ``.`` or ``..`` part, no trailing separator): readers pass paths made
    by joining names to an absolute folder, twice per file read."""
    text = os.fspath(path)
    if (text[:1] == os.sep and "//" not in text and "/." not in text and text[-1:] != os.sep
            and os.sep == "/"):
        return text
    return os.path.abspath(text)


# What a JSON document cut mid-token ends with: part of a number or of true/false/null/NaN.
_CUT_TOKEN = re.compile(r"[-+.0-9A-Za-z]{0,12}")


def cut_short(text: str, error: json.JSONDecodeError) -> bool:
    """True when ``error`` comes from ``text`` ending early (a prefix of a JSON document), not
    from a mistake inside it: nothing or only part of a token after the error, or a string
    that runs to the end."""
    if error.msg.startswith("Extra data"):
        return False
    if error.msg.startswith("Unterminated string"):
        return True
    return bool(_CUT_TOKEN.fullmatch(text[error.pos:].strip()))


def digest_read(path: Path | str) -> bytes | None:
    """The digest of the bytes the last whole read of ``path`` in this read scope consumed
    (None when it was not read whole by :func:`read_text` in one)."""
    consumed = (_READS.get() or {}).get(_key(path))
    return consumed[-1] if consumed else None


def fingerprint(paths: Iterable[Path | str]) -> str:
    """A change detector for a set of log files: what was read of them, else their stat.

    A file read whole by :func:`read_text` inside a :func:`read_scope` (every import) counts by
    the digest of the bytes read, so a row written after the read (or during it) changes the
    next import's fingerprint and is never lost.  Other files (read by the format's own code)
    count by name, size, modification time and inode: call this *before* reading those, so a
    change during the read shows next time.  Paths may be Path objects or strings (the same
    digest either way: sorted by component).
    """
    reads = _READS.get() or {}
    digest = hashlib.sha256()
    for path in sorted(paths, key=lambda p: os.fspath(p).split(os.sep)):
        consumed = reads.get(_key(path))
        if consumed:
            digest.update(f"{path}\0read\0".encode() + b"".join(consumed) + b"\n")
            continue
        try:
            stat = os.stat(path)
        except OSError:
            continue
        digest.update(f"{path}\0{stat.st_size}\0{stat.st_mtime_ns}\0{stat.st_ino}\n".encode())
    return digest.hexdigest()[:32]


def without_partial_row(path: Path | str, text: str, *, delimiter: str = ",") -> str:
    """``text`` without a last line its writer has not finished: no newline and a different
    number of cells than the header.

    An appending writer caught mid-line leaves such a line; it is left for the next import (the
    fingerprint covers the bytes read, so the finished line is read then).  A last line with no
    newline but the header's width is kept: hand-written files often end that way.  A file
    whose first line is not finished is not ready at all (:class:`NotReady`).
    """
    if not text or text.endswith("\n"):
        return text
    cut = text.rfind("\n")
    if cut < 0:
        raise NotReady(str(path), "only a partial first line (being written?)", line=1)
    width = row_width(text[:text.index("\n")], delimiter)
    return text if width is not None and takes_unterminated(text[cut + 1:], width, delimiter) \
        else text[:cut + 1]


def row_width(line: str, delimiter: str = ",") -> int | None:
    """How many cells one CSV line has (None when it does not parse)."""
    try:
        return len(next(csv.reader([line], delimiter=delimiter)))
    except (csv.Error, StopIteration):
        return None


def takes_unterminated(rest: str, width: int, delimiter: str = ",") -> bool:
    """True when a whole read keeps ``rest``, a last CSV line without a newline, as a row: it
    has the header's ``width`` (see :func:`without_partial_row`)."""
    return bool(rest) and row_width(rest, delimiter) == width
