"""The Catalog: the one API the command line, the app and training scripts use.

``open_catalog()`` finds the catalog like git finds ``.git`` (the nearest ``.mltui/catalog.db``
from the working directory upwards; ``--catalog`` / ``MLTUI_CATALOG`` override), migrates it
when it is older, and returns a :class:`Catalog`.  Writes are one transaction per user action
and every write is recorded in the append-only event log.

The methods are grouped by concern in mixins (registry, ingest, lineage, docs); this module
holds opening, the shared write/event plumbing and the read side (listings, details, compare).
"""

from __future__ import annotations

import contextlib
import getpass
import os
import sqlite3
import time
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from . import lifecycle
from .audit import AuditMixin
from . import refs as refs_mod
from .db import ConnectionPool, is_locked_error, locked_error, network_filesystem_warning, \
    write_transaction
from .docs import DocsMixin
from .errors import InvalidInput, NotFound
from .checkout import CheckoutMixin
from .hooks import HooksMixin
from .monitors import MonitorMixin
from .observe import ObserveMixin
from .ingest import IngestMixin
from .series_append import SeriesAppendMixin
from .registry_import import RegistryImportMixin
from .details import EXPORT_TABLES, DetailsMixin
from .lineage import LineageMixin
from .verify import VerifyMixin
from .listing import ListingMixin
from .registry import RegistryMixin
from .remote import RemoteMixin
from .rows import metric_direction, rows_of

CATALOG_DIR = ".mltui"
CATALOG_FILE = "catalog.db"
ENV_CATALOG = "MLTUI_CATALOG"


def find_catalog(start: Path | None = None) -> Path | None:
    """The nearest ``.mltui/catalog.db`` from ``start`` (default: cwd) upwards, or None."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        candidate = folder / CATALOG_DIR / CATALOG_FILE
        if candidate.is_file():
            return candidate
    return None


def catalog_path(path: str | os.PathLike | None = None, *, start: Path | None = None) -> Path:
    """Where the catalog is: ``path``, else ``$MLTUI_CATALOG``, else discovery upwards.

    A directory argument means its ``.mltui/catalog.db`` (or the directory's own
    ``catalog.db`` when it is itself a ``.mltui`` folder).
    """
    explicit = path if path is not None else os.environ.get(ENV_CATALOG) or None
    if explicit is not None:
        target = Path(explicit).expanduser().absolute()
        if target.is_dir():
            target = target / CATALOG_FILE if target.name == CATALOG_DIR else \
                target / CATALOG_DIR / CATALOG_FILE
        return target
    found = find_catalog(start)
    if found is None:
        where = (start or Path.cwd()).resolve()
        raise NotFound(f"no mltui catalog in {where} or any parent folder",
                       hint="run `mltui init` here, or pass --catalog PATH (or set MLTUI_CATALOG)")
    return found


def open_catalog(path: str | os.PathLike | None = None, *, create: bool | str = False,
                 readonly: bool = False, clock: Callable[[], float] | None = None,
                 actor: str | None = None, force: bool = False,
                 notice: Callable[[str], None] | None = None) -> "Catalog":
    """Open (and migrate) the catalog.

    ``create=True`` makes a new one now where it is missing; ``create="on-write"`` makes it on
    the first write that commits (reads see an empty catalog, and a command that fails before
    writing leaves no file behind).  An empty (0-byte) file is refused unless ``force=True``,
    which starts it over.  ``clock`` and ``actor`` are for tests: rows written under them
    record the real user and time beside them.  ``notice`` is told when an older catalog is
    about to be backed up and migrated (the front ends print it: it can take minutes).

    Usable as a context manager: ``with open_catalog() as cat: ...``.
    """
    target = catalog_path(path)
    lifecycle.check_target(target, create=create, force=force)
    if not target.exists():
        if create == "on-write":
            return Catalog(target, clock=clock, actor=actor, readonly=readonly, unborn=True)
        target.parent.mkdir(parents=True, exist_ok=True)
    return Catalog(target, clock=clock, actor=actor, readonly=readonly, notice=notice)


def init_catalog(folder: str | os.PathLike | None = None, *, force: bool = False
                 ) -> tuple["Catalog", bool]:
    """Create ``FOLDER/.mltui/catalog.db`` (default: cwd); returns (catalog, created).

    ``force`` starts over an empty (0-byte) catalog file; a catalog with content is never
    replaced.
    """
    base = Path(folder) if folder is not None else Path.cwd()
    target = base if base.suffix == ".db" else base / CATALOG_DIR / CATALOG_FILE
    created = not target.exists() or (force and lifecycle.is_empty_file(target))
    return open_catalog(target, create=True, force=force), created


def default_actor() -> str:
    """Who is acting: ``$MLTUI_USER``, else the login name."""
    name = os.environ.get("MLTUI_USER")
    if name:
        return name
    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001 - no login name in some containers
        return "unknown"


class Catalog(ListingMixin, DetailsMixin, AuditMixin, RegistryMixin, IngestMixin, SeriesAppendMixin,
              RegistryImportMixin,
              LineageMixin, VerifyMixin, DocsMixin, HooksMixin, CheckoutMixin, ObserveMixin,
              MonitorMixin, RemoteMixin):
    """A handle on one catalog file; safe to use from several threads (one connection each)."""

    def __init__(self, path: Path, *, clock: Callable[[], float] | None = None,
                 actor: str | None = None, readonly: bool = False, unborn: bool = False,
                 notice: Callable[[str], None] | None = None):
        self.path = Path(path)
        self.clock = clock or time.time
        self.clock_overridden = clock is not None
        self.actor = actor or default_actor()
        self.readonly = readonly
        self._notice = notice
        self._unborn = lifecycle.Unborn(self.path) if unborn else None
        self._pool = self._unborn.pool(readonly) if self._unborn else \
            ConnectionPool(self.path, readonly=readonly)
        self.warnings: list[str] = self._prepare()
        warning = None if unborn else network_filesystem_warning(self.path)
        self.warnings += [warning] if warning else []

    # -- plumbing --------------------------------------------------------------------------

    def _prepare(self) -> list[str]:
        """Refuse, migrate and check the catalog (see core/lifecycle.py); returns warnings."""
        return lifecycle.prepare(self._pool, self.path, readonly=self.readonly, clock=self.clock,
                                 notice=self._notice)

    def _materialize(self) -> bool:
        """Create the file of a catalog opened with ``create="on-write"``; True if it did."""
        if self._unborn is None or self._pool.memory is None:
            return False
        self._pool.close()
        self._pool = ConnectionPool(self.path, readonly=self.readonly)
        if self.path.exists():  # another process created it meanwhile: write to theirs
            self._unborn = None
            self._prepare()
            return False
        self._unborn.materialize()
        try:
            self._prepare()
        except BaseException:
            self._unmaterialize()
            raise
        return True

    def _unmaterialize(self) -> None:
        """Undo :meth:`_materialize` after the first write failed: back to memory only."""
        self._pool.close()
        self._unborn.discard()
        self._pool = self._unborn.pool(self.readonly)
        self._prepare()

    def _conn(self) -> sqlite3.Connection:
        """This thread's connection."""
        return self._pool.get()

    @contextlib.contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One atomic write transaction on this thread's connection."""
        if self.readonly:
            raise InvalidInput(f"catalog {self.path} is open read-only")
        born_now = self._materialize()
        try:
            with write_transaction(self._conn(), self.path) as conn:
                yield conn
        except BaseException:
            if born_now:  # the first write failed: leave nothing behind
                self._unmaterialize()
            raise
        if born_now:
            self._unborn = None

    def _read(self, sql: str, params: Iterable[Any] = ()) -> list[dict[str, Any]]:
        try:
            return rows_of(self._conn().execute(sql, tuple(params)))
        except sqlite3.OperationalError as exc:
            if is_locked_error(exc):
                raise locked_error(self.path) from None
            raise

    def _scalar(self, sql: str, params: Iterable[Any] = ()) -> Any:
        row = self._conn().execute(sql, tuple(params)).fetchone()
        return row[0] if row else None

    def now(self) -> float:
        """The catalog's clock (frozen in tests and snapshots)."""
        return self.clock()

    def close(self) -> None:
        """Close every connection."""
        self._pool.close()

    def __enter__(self) -> "Catalog":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def data_version(self) -> int:
        """Changes whenever another connection commits (``PRAGMA data_version``)."""
        return int(self._conn().execute("PRAGMA data_version").fetchone()[0])

    # -- references ------------------------------------------------------------------------

    def resolve(self, ref: str | int) -> int:
        """The model_versions id a reference names (an int is taken as an id)."""
        if isinstance(ref, int):
            if self._scalar("SELECT 1 FROM model_versions WHERE id = ?", (ref,)):
                return ref
            raise NotFound(f"no model version with id {ref}")
        return refs_mod.resolve_version(self._conn(), refs_mod.parse_ref(ref))

    def resolve_run(self, ref: str | int | dict) -> int:
        """The runs id of ``run:<id>``, a bare run id/prefix, a run dict or an int id."""
        if isinstance(ref, dict):
            ref = ref["id"]
        if isinstance(ref, int):
            if self._scalar("SELECT 1 FROM runs WHERE id = ?", (ref,)):
                return ref
            raise NotFound(f"no run with id {ref}")
        text = ref if ref.startswith("run:") else f"run:{ref}"
        return refs_mod.resolve_run(self._conn(), refs_mod.parse_ref(text))

    def resolve_dataset(self, ref: str) -> int:
        """The dataset_versions id of ``data:<name>[@N]``."""
        text = ref if ref.startswith("data:") else f"data:{ref}"
        return refs_mod.resolve_dataset(self._conn(), refs_mod.parse_ref(text))

    def model_id(self, name: str) -> int:
        """The id of a model by name (NotFound with suggestions)."""
        return refs_mod.model_id(self._conn(), name)

    def ref_of(self, version_id: int) -> str:
        """The short reference of a version: ``model@N``."""
        row = self._conn().execute(
            "SELECT mo.name, v.version FROM model_versions v JOIN models mo ON mo.id = v.model_id "
            "WHERE v.id = ?", (version_id,)).fetchone()
        if not row:
            raise NotFound(f"no model version with id {version_id}")
        return f"{row[0]}@{row[1]}"


__all__ = ["Catalog", "EXPORT_TABLES", "catalog_path", "default_actor", "find_catalog",
           "init_catalog", "metric_direction", "open_catalog"]
