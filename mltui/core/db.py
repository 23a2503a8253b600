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
from typing import Callable, Iterator

from .errors import CatalogLocked, InvalidInput

DEFAULT_BUSY_TIMEOUT = 5.0  # seconds; MLTUI_BUSY_TIMEOUT overrides (tests use a short one)


def busy_timeout() -> float:
    """The busy timeout in seconds (``MLTUI_BUSY_TIMEOUT`` or 5 s)."""
    try:
        return max(0.0, float(os.environ.get("MLTUI_BUSY_TIMEOUT", DEFAULT_BUSY_TIMEOUT)))
    except ValueError:
        return DEFAULT_BUSY_TIMEOUT


def is_locked_error(exc: BaseException) -> bool:
    """True for SQLite's 'database is locked' / 'busy' errors."""
    if not isinstance(exc, sqlite3.OperationalError):
        return False
    text = str(exc).lower()
    return "locked" in text or "busy" in text


def locked_error(path: str | Path) -> CatalogLocked:
    """The one-line error for a catalog another process keeps locked."""
    return CatalogLocked(
        f"catalog {path} is locked by another process (waited {busy_timeout():g}s)",
        hint="wait for the other import or promotion to finish and try again, "
             "or raise MLTUI_BUSY_TIMEOUT")


def connect(path: Path, *, readonly: bool = False) -> sqlite3.Connection:
    """Open a connection with the catalog's pragmas.

    Autocommit mode (``isolation_level=None``): transactions are explicit, opened by
    :func:`write_transaction`, so a read never holds a lock longer than its statement.
    """
    try:
        if readonly:
            conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None,
                                   check_same_thread=False, timeout=busy_timeout())
        else:
            conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False,
                                   timeout=busy_timeout())
        conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout() * 1000)}")
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA temp_store = MEMORY")
        conn.execute("PRAGMA cache_size = -65536")  # 64 MB page cache
    except sqlite3.DatabaseError as exc:
        if is_locked_error(exc):
            raise locked_error(path) from None
        raise InvalidInput(f"{path} is not an mltui catalog ({exc})",
                           hint="pass --catalog with the path of a catalog made by `mltui init`") from None
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

    def __init__(self, path: Path, *, readonly: bool = False,
                 on_connect: Callable[[sqlite3.Connection], None] | None = None):
        self.path = path
        self.readonly = readonly
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._on_connect = on_connect

    def get(self) -> sqlite3.Connection:
        """This thread's connection, opened on first use."""
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = connect(self.path, readonly=self.readonly)
            if self._on_connect:
                self._on_connect(conn)
            self._local.conn = conn
            with self._lock:
                self._all.append(conn)
        return conn

    def close(self) -> None:
        """Close every connection this pool opened."""
        with self._lock:
            for conn in self._all:
                with contextlib.suppress(sqlite3.Error):
                    conn.close()
            self._all.clear()
        self._local = threading.local()


def backup_before_migration(conn: sqlite3.Connection, path: Path, from_version: int) -> Path | None:
    """Copy the catalog (with its WAL folded in) before a migration; returns the copy's path."""
    if from_version == 0 or str(path) == ":memory:":
        return None
    target = path.with_name(f"{path.name}.bak-v{from_version}-{time.strftime('%Y%m%d%H%M%S')}")
    # Copied through a second connection: the caller's holds the write lock, and backing up
    # from a connection inside its own write transaction retries SQLITE_LOCKED forever.  In
    # WAL mode the second connection reads the last committed state, the one to keep.
    source = sqlite3.connect(str(path))
    dest = sqlite3.connect(str(target))
    try:
        source.backup(dest)
    finally:
        dest.close()
        source.close()
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
