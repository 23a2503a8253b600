"""Opening a catalog file: refusing what cannot be opened, migrating, creating on first write.

Kept apart from :mod:`catalog` (the API) because every rule here is about the file's life:

- an empty (0-byte) file is refused, not silently re-created: it was a catalog once, or a
  mistake, and either way the user decides (``force=True`` / ``mltui init --force``);
- a schema newer than this code, or one no mltui writes, is refused with one line;
- an older schema is migrated in one transaction after a backup copy;
- a catalog opened with ``create="on-write"`` exists only in memory until its first write
  commits, so a command that fails (``mltui import /nonexistent``) leaves nothing behind.
"""

from __future__ import annotations

import contextlib
import sqlite3
import uuid
from pathlib import Path
from typing import Callable

from . import audit
from .db import ConnectionPool, backup_before_migration, set_wal, unreadable, write_transaction
from .errors import CatalogUnreadable, InvalidInput, MltuiError, NotFound
from .schema import SCHEMA_VERSION, check_version, fault_point, migrate, schema_version

SIDE_FILES = ("-wal", "-shm", "-journal")


def is_empty_file(target: Path) -> bool:
    """True for a 0-byte catalog with no WAL holding its pages (what truncation leaves)."""
    if not target.is_file() or target.stat().st_size:
        return False
    wal = target.with_name(target.name + "-wal")
    return not (wal.is_file() and wal.stat().st_size)


def remove_files(target: Path) -> None:
    """Delete a catalog file and its WAL, shared-memory and journal files."""
    for suffix in ("", *SIDE_FILES):
        with contextlib.suppress(FileNotFoundError):
            target.with_name(target.name + suffix).unlink()


def check_target(target: Path, *, create: bool | str, force: bool) -> None:
    """Refuse a target that cannot be opened as asked; with ``force``, clear an empty file."""
    if target.is_dir():
        raise InvalidInput(f"{target} is a folder, not a catalog file")
    if is_empty_file(target):
        if not force:
            raise CatalogUnreadable(
                f"catalog {target} is empty (0 bytes): there is nothing in it to open",
                hint="if it held data, restore a backup copy (catalog.db.bak-*); to start over "
                     "with an empty catalog: mltui init --force")
        remove_files(target)
    if not target.exists() and not create:
        raise NotFound(f"no mltui catalog at {target}",
                       hint="run `mltui init`, or pass --catalog with an existing catalog")


def prepare(pool: ConnectionPool, path: Path, *, readonly: bool,
            clock: Callable[[], float], notice: Callable[[str], None] | None = None) -> list[str]:
    """Check the schema version, migrate an older catalog (after a backup), and check the tail
    of the audit trail; returns warnings.  ``notice`` is told, before it starts, that a catalog
    with content is being backed up and migrated (minutes for a catalog of several GB).
    Closes the pool on any error."""
    try:
        return _prepare(pool, path, readonly=readonly, clock=clock, notice=notice)
    except BaseException:
        pool.close()
        raise


def _prepare(pool: ConnectionPool, path: Path, *, readonly: bool,
             clock: Callable[[], float], notice: Callable[[str], None] | None) -> list[str]:
    conn = pool.get()
    try:
        version = schema_version(conn)
        has_tables = conn.execute(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table'").fetchone()[0]
    except MltuiError:
        raise
    except sqlite3.DatabaseError as exc:
        raise unreadable(exc, path) from None
    if version == 0 and has_tables:
        raise CatalogUnreadable(f"{path} is an SQLite file but not an mltui catalog",
                                hint="pass --catalog with a catalog made by `mltui init`")
    check_version(version, path)
    if version < SCHEMA_VERSION:
        if readonly:
            raise InvalidInput(f"catalog {path} needs a migration but was opened read-only")
        if pool.memory is None:
            set_wal(conn, path)
        with write_transaction(conn, path):
            current = schema_version(conn)  # another process may have migrated it meanwhile
            check_version(current, path)
            if current < SCHEMA_VERSION:
                if notice is not None and current > 0:
                    notice(migration_notice(path, current))
                fault_point("before-backup")
                backup_before_migration(conn, path, current)
                migrate(conn, current, path)
                if current == 0:
                    conn.execute("INSERT OR REPLACE INTO meta(key, value) VALUES "
                                 "('created_at', ?)", (str(clock()),))
    broken = audit.check_tail(conn)
    if broken:
        return [f"the audit trail is broken: {broken['reason']}; run `mltui verify --history`"]
    return []


def migration_notice(path: Path, version: int) -> str:
    """The line said before a catalog with content is backed up and migrated: with nothing
    said, a minute of a big catalog's migration looks like a hang (1,000,000 versions, schema
    6 → 7: ~90 s)."""
    try:
        size = f"{path.stat().st_size / 1e6:,.0f} MB"
    except OSError:
        size = "size unknown"
    return (f"upgrading catalog {path} ({size}) from schema {version} to {SCHEMA_VERSION}: a "
            "backup copy first, then the migration (a catalog of several GB takes minutes)")


class Unborn:
    """A catalog that exists only in memory until its first write commits.

    Reads see an empty catalog (a shared in-memory database with the full schema).  The first
    write creates the file (and its folders), migrates it and runs the write there; when that
    write fails, the file and the folders it created are removed again.
    """

    def __init__(self, path: Path):
        self.path = path
        self.memory = f"mltui-unborn-{uuid.uuid4().hex}"
        self.created_dirs: list[Path] = []

    def pool(self, readonly: bool) -> ConnectionPool:
        """A pool on the in-memory stand-in."""
        return ConnectionPool(self.path, readonly=readonly, memory=self.memory)

    def materialize(self) -> None:
        """Create the catalog's missing folders (remembered, to undo them)."""
        missing = []
        folder = self.path.parent
        while not folder.exists():
            missing.append(folder)
            folder = folder.parent
        for folder in reversed(missing):
            folder.mkdir()
        self.created_dirs = missing  # deepest first

    def discard(self) -> None:
        """Remove the file and the folders :meth:`materialize` created (when still empty)."""
        remove_files(self.path)
        for folder in self.created_dirs:
            with contextlib.suppress(OSError):
                folder.rmdir()
        self.created_dirs = []

