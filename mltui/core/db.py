"""Connections, pragmas, write transactions and migrations of the catalog file.

One connection per thread (Textual workers run in threads); WAL so readers never wait for a
writer; a busy timeout plus retries so a short lock held by another process is waited out and a
long one becomes a clear :class:`CatalogLocked` error.  The schema version lives in
``PRAGMA user_version``; an older catalog is copied to a backup before it is migrated.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any, Callable, Iterator, NoReturn

from .errors import (CatalogLocked, CatalogUnreadable, InvalidInput, MltuiError, NotFound,
                     QueryTooLarge, StorageError)
from .schema import fault_point

DEFAULT_BUSY_TIMEOUT = 5.0  # seconds; MLTUI_BUSY_TIMEOUT overrides (tests use a short one)


def busy_timeout() -> float:
    """The busy timeout in seconds (``MLTUI_BUSY_TIMEOUT`` or 5 s)."""
    try:
        value = float(os.environ.get("MLTUI_BUSY_TIMEOUT", DEFAULT_BUSY_TIMEOUT))
    except ValueError:
        return DEFAULT_BUSY_TIMEOUT
    if not value <= 86_400:  # inf, nan or more than a day cannot be a wait in ms
        raise InvalidInput(f"MLTUI_BUSY_TIMEOUT={os.environ.get('MLTUI_BUSY_TIMEOUT')!r} is not "
                           "a number of seconds up to 86400")
    return max(0.0, value)


def is_locked_error(exc: BaseException) -> bool:
    """True for SQLite's 'database is locked' / 'busy' errors."""
    if not isinstance(exc, sqlite3.OperationalError):
        return False
    text = str(exc).lower()
    return "locked" in text or "busy" in text


def locked_error(path: str | Path) -> CatalogLocked:
    """The one-line error for a catalog another process keeps locked."""
    return CatalogLocked(
        f"catalog {path} is locked by another process (waited {busy_timeout():g}s); try again",
        hint="wait for the other import or promotion to finish, or raise MLTUI_BUSY_TIMEOUT")


# SQLite's primary result codes (``sqlite_errorcode & 0xff``) that say what happened.
SQLITE_PERM, SQLITE_READONLY, SQLITE_IOERR, SQLITE_CORRUPT = 3, 8, 10, 11
SQLITE_FULL, SQLITE_CANTOPEN, SQLITE_TOOBIG, SQLITE_NOTADB = 13, 14, 18, 26

# Messages of SQLite limits that user input (a filter, a reference prefix) can reach.
_LIMIT_MESSAGES = ("too many terms in compound select", "expression tree is too large",
                   "too many sql variables", "parser stack overflow",
                   "like or glob pattern too complex", "string or blob too big",
                   "too many columns", "too many arguments on function", "at most 64 tables")


def translate_error(exc: BaseException, path: str | Path) -> MltuiError | None:
    """The typed error for an SQLite error, saying what happened; None when it is not one we
    can name (a programming error, which must stay loud).

    Only a damaged file is a reason to mention a backup: a full disk, a permission, a
    read-only mount or a too-large filter leave the catalog intact, and advice to restore a
    backup would invite losing the writes made since.
    """
    if not isinstance(exc, sqlite3.Error):
        return None
    code = getattr(exc, "sqlite_errorcode", None)
    primary = code & 0xFF if isinstance(code, int) else None
    text = str(exc).lower()
    if is_locked_error(exc):
        return locked_error(path)
    if primary == SQLITE_FULL or "disk is full" in text:
        return StorageError(f"the disk holding catalog {path} is full; nothing was written",
                            hint="free some space and try again")
    if primary == SQLITE_READONLY or "readonly database" in text:
        return StorageError(f"catalog {path} is read-only (the file, its folder or the file "
                            "system); nothing was written",
                            hint="make it writable, or run only commands that read")
    if primary in (SQLITE_PERM, SQLITE_CANTOPEN) or "unable to open" in text:
        return _open_failure(Path(path), exc)
    if "like or glob pattern" in text:
        return QueryTooLarge(f"the reference prefix is too long for SQLite ({exc})",
                             hint="use a shorter prefix: a few characters of the id are enough")
    if primary == SQLITE_TOOBIG or any(m in text for m in _LIMIT_MESSAGES):
        return QueryTooLarge(f"the filter is too large for SQLite ({exc})",
                             hint="use fewer terms, or split it into several queries")
    if primary == SQLITE_NOTADB or "not a database" in text:
        return CatalogUnreadable(f"{path} is not an mltui catalog (not an SQLite file)",
                                 hint="pass --catalog with a catalog made by `mltui init`")
    if primary == SQLITE_CORRUPT or "malformed" in text:
        return CatalogUnreadable(f"catalog {path} is damaged ({exc})",
                                 hint="copy it aside first, then try `sqlite3 catalog.db .recover` "
                                      "or restore a backup copy (catalog.db.bak-*)")
    if primary == SQLITE_IOERR:
        return StorageError(f"the disk failed reading or writing catalog {path} ({exc}); nothing "
                            "was written", hint="check the disk and the file system")
    return None


def _open_failure(path: Path, exc: BaseException) -> MltuiError:
    """Why a catalog file could not be opened: permission, missing folder, or other."""
    target = path if path.exists() else path.parent
    if target.exists() and not os.access(target, os.R_OK | (os.W_OK if target.is_dir() else 0)):
        return StorageError(f"permission denied opening catalog {path}",
                            hint="check the file's owner and mode (ls -l), or use --catalog")
    if not path.parent.exists():
        return NotFound(f"the folder of catalog {path} does not exist")
    return StorageError(f"could not open catalog {path} ({exc})",
                        hint="check the file's permissions and the disk")


def unreadable(exc: sqlite3.Error, path: str | Path) -> MltuiError:
    """The typed error for a file that could not be read as a catalog at all."""
    return translate_error(exc, path) or CatalogUnreadable(
        f"{path} is not an mltui catalog ({exc})",
        hint="pass --catalog with the path of a catalog made by `mltui init`")


class CatalogConnection(sqlite3.Connection):
    """A connection whose SQLite errors come out as the core's typed errors.

    Every statement of the core, the CLI and the app passes through ``execute``, so a full disk
    or a too-large filter reads the same wherever it happens.  Lock errors stay raw: the write
    transaction retries them (bounded) and turns them into :class:`CatalogLocked` itself.
    """

    catalog_path: str = ""

    def execute(self, sql: str, parameters: Any = (), /) -> sqlite3.Cursor:  # noqa: D102
        try:
            return super().execute(sql, parameters)
        except sqlite3.Error as exc:
            _reraise(exc, self.catalog_path)

    def executemany(self, sql: str, parameters: Any, /) -> sqlite3.Cursor:  # noqa: D102
        try:
            return super().executemany(sql, parameters)
        except sqlite3.Error as exc:
            _reraise(exc, self.catalog_path)


def _reraise(exc: sqlite3.Error, path: str) -> NoReturn:
    typed = None if is_locked_error(exc) else translate_error(exc, path)
    if typed is None:
        raise exc
    raise typed from exc


def connect(path: Path, *, readonly: bool = False, memory: str | None = None) -> sqlite3.Connection:
    """Open a connection with the catalog's pragmas.

    Autocommit mode (``isolation_level=None``): transactions are explicit, opened by
    :func:`write_transaction`, so a read never holds a lock longer than its statement.
    ``memory`` names a shared in-memory database to open instead of the file.
    """
    if memory is not None:  # a shared in-memory catalog (see Catalog: create on first write)
        target, uri = f"file:{memory}?mode=memory&cache=shared", True
    elif readonly:
        target, uri = f"file:{path}?mode=ro", True
    else:
        target, uri = str(path), False
    try:
        # ``timeout`` is SQLite's busy timeout (sqlite3_busy_timeout): no PRAGMA sets it again.
        conn = sqlite3.connect(target, uri=uri, isolation_level=None, check_same_thread=False,
                               timeout=busy_timeout(), factory=CatalogConnection)
        conn.catalog_path = str(path)
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA temp_store = MEMORY")
        conn.execute("PRAGMA cache_size = -65536")  # 64 MB page cache
    except MltuiError:
        raise
    except sqlite3.DatabaseError as exc:
        raise unreadable(exc, path) from None
    return conn


def set_wal(conn: sqlite3.Connection, path: Path) -> None:
    """Switch the file to WAL journaling (persistent; a no-op when already WAL)."""
    try:
        mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
        if mode != "wal":
            conn.execute("PRAGMA journal_mode = WAL")
    except sqlite3.OperationalError as exc:
        if is_locked_error(exc):
            raise locked_error(path) from None
        raise


@contextlib.contextmanager
def write_transaction(conn: sqlite3.Connection, path: str | Path) -> Iterator[sqlite3.Connection]:
    """One atomic write: ``BEGIN IMMEDIATE`` … ``COMMIT``, rolled back on any error.

    ``BEGIN IMMEDIATE`` takes the write lock up front, so two writers serialise cleanly instead
    of failing halfway; a lock still held after the busy timeout and a few retries becomes a
    :class:`CatalogLocked` error with nothing written.
    """
    if conn.in_transaction:  # nested: join the outer transaction
        yield conn
        return
    deadline = time.monotonic() + busy_timeout()
    while True:
        try:
            conn.execute("BEGIN IMMEDIATE")
            break
        except sqlite3.OperationalError as exc:
            if not is_locked_error(exc) or time.monotonic() >= deadline:
                if is_locked_error(exc):
                    raise locked_error(path) from None
                raise
            time.sleep(0.05)
    try:
        yield conn
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    else:
        try:
            conn.execute("COMMIT")
        except sqlite3.OperationalError as exc:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            if is_locked_error(exc):
                raise locked_error(path) from None
            raise


class ConnectionPool:
    """One connection per thread to one catalog file, closed together.

    SQLite connections must not be shared across threads mid-transaction; Textual workers and
    the live-refresh poller each get their own.
    """

    def __init__(self, path: Path, *, readonly: bool = False, memory: str | None = None,
                 on_connect: Callable[[sqlite3.Connection], None] | None = None):
        self.path = path
        self.readonly = readonly
        self.memory = memory
        self._local = threading.local()
        self._all: list[tuple[sqlite3.Connection, threading.Thread]] = []  # with their thread
        self._lock = threading.Lock()
        self._on_connect = on_connect

    def get(self) -> sqlite3.Connection:
        """This thread's connection, opened on first use."""
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = connect(self.path, readonly=self.readonly, memory=self.memory)
            if self._on_connect:
                self._on_connect(conn)
            self._local.conn = conn
            with self._lock:
                self._all.append((conn, threading.current_thread()))
        return conn

    def close(self) -> None:
        """Close every connection this pool opened, without pulling one from under a thread.

        Closing a connection while another thread is inside one of its statements crashes the
        process (SQLite frees what the statement is using): an app quitting while its poll
        thread reads ``PRAGMA data_version`` did.  So a connection is closed here only when
        its thread is this one or has ended; one that belongs to another live thread is let
        go instead: once that thread holds it no more (at once if it is idle, after its
        statement if not) the last reference goes and the connection closes itself.
        """
        with self._lock:
            owned, self._all = self._all, []
            self._local = threading.local()  # other threads' connections: let go here
        me = threading.current_thread()
        for conn, thread in owned:
            if thread is me or not thread.is_alive():
                with contextlib.suppress(sqlite3.Error):
                    conn.close()


def backup_before_migration(conn: sqlite3.Connection, path: Path, from_version: int) -> Path | None:
    """Copy the catalog (with its WAL folded in) before a migration; returns the copy's path.

    ``conn`` holds the write lock, and SQLite refuses a backup read through a connection that
    is writing (SQLITE_LOCKED, which Python's backup loop retries forever).  So the copy is read
    through a second, read-only connection: it may read while we hold the write lock, and the
    lock keeps every other writer out, so the copy is exactly the catalog being migrated.  The
    copy is written under a temporary name and renamed when complete, so a kill midway never
    leaves a half backup that looks whole; the retry loop is bounded by the busy timeout.
    """
    if from_version == 0 or str(path) == ":memory:":
        return None
    stamp = time.strftime("%Y%m%d%H%M%S")
    target = path.with_name(f"{path.name}.bak-v{from_version}-{stamp}")
    partial = target.with_name(target.name + ".partial")
    # Bounded by the busy timeout *without progress*, not in total: a catalog of a million
    # versions (4.7 GB) takes longer than that to copy, and was refused as "locked" for good.
    progress = {"remaining": -1, "deadline": time.monotonic() + busy_timeout()}

    def give_up_when_stuck(status: int, remaining: int, total: int) -> None:
        if remaining != progress["remaining"]:  # pages were copied since the last call
            progress.update(remaining=remaining, deadline=time.monotonic() + busy_timeout())
        elif time.monotonic() > progress["deadline"]:
            raise locked_error(path)

    source = connect(path, readonly=True)
    dest = sqlite3.connect(str(partial))
    try:
        source.backup(dest, pages=1024, progress=give_up_when_stuck, sleep=0.05)
        dest.close()
        with open(partial, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(partial, target)
    except BaseException:
        dest.close()
        with contextlib.suppress(OSError):
            partial.unlink()
        raise
    finally:
        source.close()
    fault_point("after-backup")
    return target


# File systems where SQLite's locking is unreliable (SQLite FAQ: "network file systems").
NETWORK_FILESYSTEMS = {"nfs", "nfs4", "cifs", "smb3", "smbfs", "9p", "afs", "fuse.sshfs",
                       "glusterfs", "lustre", "ceph", "fuse.s3fs", "fuse.gcsfuse", "davfs"}


def filesystem_type(path: Path, mounts: str = "/proc/mounts") -> str | None:
    """The type of the file system holding ``path`` (Linux ``/proc/mounts``), or None."""
    try:
        lines = Path(mounts).read_text().splitlines()
    except OSError:
        return None
    target = str(path.resolve())
    best, best_type = "", None
    for line in lines:
        parts = line.split()
        if len(parts) < 3:
            continue
        point = parts[1].replace("\\040", " ")
        inside = target == point or target.startswith(point.rstrip("/") + "/")
        if inside and len(point) >= len(best):
            best, best_type = point, parts[2]
    return best_type


def network_filesystem_warning(path: Path, mounts: str = "/proc/mounts") -> str | None:
    """A warning when the catalog sits on a network file system (unsafe SQLite locking)."""
    kind = filesystem_type(path.parent if not path.exists() else path, mounts)
    if kind in NETWORK_FILESYSTEMS:
        return (f"the catalog {path} is on a network file system ({kind}); SQLite locking is not "
                "reliable there, so concurrent writers can corrupt it: keep the catalog on a local "
                "disk (see SPEC §10 for sharing through an MLflow server)")
    return None
