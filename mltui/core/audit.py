"""The tamper-evident audit trail: a hash chain over stage history, events and doc revisions.

Triggers stop UPDATE, DELETE and INSERT OR REPLACE on the three tables, but anyone with the
file can drop a trigger.  So every row also carries ``hash = sha256(prev_hash, row)`` where
``prev_hash`` is the hash of the row before it (by id) in the same table, and ``meta`` keeps
the head of each chain (last id and hash).  Rewriting a row breaks its own hash; removing or
inserting one breaks the next row's ``prev_hash``; cutting rows off the end breaks the head.

:func:`check_tail` checks the head and the last few links (cheap, on every open);
:func:`verify` walks a whole chain and reports the first broken link.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from typing import TYPE_CHECKING, Any, Iterable

from .digest import sha256
from .errors import HistoryBroken

if TYPE_CHECKING:  # pragma: no cover
    from .catalog import Catalog

GENESIS = "0" * 64

# The hashed columns of each table, in order, with the type SQLite stores them as, so a value
# hashes the same when written (e.g. an int time) and when read back (a float).  Never reorder
# or drop a column here: that would break every chain already written.
CHAIN_COLUMNS: dict[str, tuple[tuple[str, type], ...]] = {
    "stage_history": (("id", int), ("model_id", int), ("stage", str), ("from_version_id", int),
                      ("to_version_id", int), ("action", str), ("reason", str), ("actor", str),
                      ("at", float), ("gate_results", str), ("forced", int), ("override", str),
                      ("prev_hash", str)),
    "events": (("id", int), ("at", float), ("actor", str), ("action", str), ("entity_kind", str),
               ("entity_id", int), ("ref", str), ("before", str), ("after", str),
               ("detail", str), ("override", str), ("prev_hash", str)),
    "doc_revisions": (("id", int), ("target_kind", str), ("target_id", int), ("rev", int),
                      ("text", str), ("author", str), ("at", float), ("message", str),
                      ("override", str), ("prev_hash", str)),
}
CHAINED_TABLES = tuple(CHAIN_COLUMNS)
TAIL_LINKS = 8  # links checked on every open
# Module level, so mutmut makes no letter-case mutants of them (SQLite ignores keyword case).
SET_HEAD = ("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET "
            "value = excluded.value")
HEAD = "SELECT value FROM meta WHERE key = ?"


def _coerce(value: Any, kind: type) -> Any:
    if value is None:
        return None
    return kind(value)


def row_hash(table: str, row: dict[str, Any]) -> str:
    """The hash of one row given its ``prev_hash`` (hex sha256 of a canonical JSON form)."""
    values = [_coerce(row.get(name), kind) for name, kind in CHAIN_COLUMNS[table]]
    # A list holds no key: the key separator is never written; None is as false as False.
    payload = json.dumps([table, values], ensure_ascii=False, separators=(",", ":"))  # pragma: no mutate - see above
    return sha256(payload.encode("utf-8", "surrogatepass")).hexdigest()  # pragma: no mutate - "UTF-8" is the same codec


def _head_key(table: str) -> str:
    return f"chain_head:{table}"


def _set_head(conn: sqlite3.Connection, table: str, row_id: int, digest: str) -> None:
    conn.execute(SET_HEAD, (_head_key(table), f"{row_id}:{digest}"))


def append(conn: sqlite3.Connection, table: str, row: dict[str, Any]) -> int:
    """Insert ``row`` as the next link of ``table``'s chain; returns its id.

    Must run inside the write transaction, which serialises appenders, so "the last row" cannot
    change between reading it and inserting after it.
    """
    last = conn.execute(f"SELECT id, hash FROM {table} ORDER BY id DESC LIMIT 1").fetchone()
    row = dict(row, id=(last[0] + 1) if last else 1, prev_hash=last[1] if last else GENESIS)
    row["hash"] = row_hash(table, row)
    names = list(row)
    conn.execute(f"INSERT INTO {table} ({', '.join(names)}) VALUES "
                 f"({', '.join('?' for _ in names)})", [row[n] for n in names])
    _set_head(conn, table, row["id"], row["hash"])
    return row["id"]


def seal(conn: sqlite3.Connection, table: str) -> int:
    """Chain the rows already in ``table`` (the migration that introduced the chain).

    The caller has lifted the no-update trigger inside the same transaction.  Returns how many
    rows were sealed.
    """
    columns = [name for name, _ in CHAIN_COLUMNS[table]]
    prev, last_id, count = GENESIS, None, 0
    rows = conn.execute(f"SELECT {', '.join(columns)} FROM {table} ORDER BY id").fetchall()
    for values in rows:
        row = dict(zip(columns, values), prev_hash=prev)
        digest = row_hash(table, row)
        conn.execute(f"UPDATE {table} SET prev_hash = ?, hash = ? WHERE id = ?",
                     (prev, digest, row["id"]))
        prev, last_id, count = digest, row["id"], count + 1
    if last_id is not None:
        _set_head(conn, table, last_id, prev)
    return count


def _broken(table: str, row_id: int | None, reason: str) -> dict[str, Any]:
    return {"table": table, "id": row_id, "reason": reason}


def _walk(table: str, rows: Iterable[tuple], prev: str | None) -> dict[str, Any] | None:
    """Check consecutive rows (``prev`` is the hash the first must follow; None: trust it)."""
    names = [name for name, _ in CHAIN_COLUMNS[table]] + ["hash"]
    for values in rows:
        row = dict(zip(names, values))
        if row["hash"] is None:
            return _broken(table, row["id"], f"{table} row {row['id']} has no hash "
                                             "(it was not written by mltui)")
        if prev is not None and row["prev_hash"] != prev:
            return _broken(table, row["id"], f"{table} row {row['id']} does not follow the row "
                                             "before it (a row was removed or inserted)")
        if row_hash(table, row) != row["hash"]:
            return _broken(table, row["id"], f"{table} row {row['id']} was changed after it was "
                                             "written (its hash does not match its content)")
        prev = row["hash"]
    return None


def _select(table: str) -> str:
    names = [name for name, _ in CHAIN_COLUMNS[table]] + ["hash"]  # pragma: no mutate - SQL names ignore case
    return f"SELECT {', '.join(names)} FROM {table}"


def _check_head(conn: sqlite3.Connection, table: str) -> dict[str, Any] | None:
    stored = conn.execute(HEAD, (_head_key(table),)).fetchone()
    last = conn.execute(f"SELECT id, hash FROM {table} ORDER BY id DESC LIMIT 1").fetchone()
    if stored is None:
        if last is None:
            return None
        return _broken(table, last[0], f"{table} has rows but no recorded chain head")
    head_id, _, head_hash = stored[0].partition(":")
    if last is None or str(last[0]) != head_id or last[1] != head_hash:
        where = f"ends at row {last[0]}" if last else "is empty"
        return _broken(table, int(head_id) if head_id.isdigit() else None,
                       f"{table} should end at row {head_id} but {where} "
                       "(rows were removed or added behind mltui's back)")
    return None


def check_tail(conn: sqlite3.Connection, links: int = TAIL_LINKS) -> dict[str, Any] | None:
    """The first broken link among each chain's head and last ``links`` rows, or None."""
    for table in CHAINED_TABLES:
        broken = _check_head(conn, table)
        if broken:
            return broken
        rows = conn.execute(f"{_select(table)} ORDER BY id DESC LIMIT ?", (links + 1,)).fetchall()
        rows.reverse()
        broken = _walk(table, rows, None)
        if broken:
            return broken
    return None


def verify_table(conn: sqlite3.Connection, table: str) -> dict[str, Any] | None:
    """The first broken link of one table's whole chain, or None."""
    return _walk(table, conn.execute(f"{_select(table)} ORDER BY id"), GENESIS) \
        or _check_head(conn, table)


def verify(conn: sqlite3.Connection) -> dict[str, Any]:
    """Walk every chain from its first row: ``{"ok", "rows": {table: n}, "broken": [...]}``.

    ``broken`` lists the first broken link of each table (empty when all hold); ``first`` is
    the first of those, what a one-line report names.
    """
    counts: dict[str, int] = {}
    broken: list[dict[str, Any]] = []
    for table in CHAINED_TABLES:
        counts[table] = conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        found = verify_table(conn, table)
        if found:
            broken.append(found)
    return {"ok": not broken, "rows": counts, "broken": broken,
            "first": broken[0] if broken else None}


def _json_or_none(value: Any) -> str | None:
    return None if value is None else json.dumps(value, sort_keys=True, default=str)


def os_user() -> str:
    """The operating system's name for the user running this process (not ``$MLTUI_USER``)."""
    try:
        import pwd

        return pwd.getpwuid(os.getuid()).pw_name
    except (ImportError, KeyError):
        import getpass

        try:
            return getpass.getuser()
        except Exception:  # noqa: BLE001 - no login name in some containers
            return "unknown"


class AuditMixin:
    """Writing and checking the audit trail (mixed into Catalog)."""

    def _provenance(self: "Catalog", actor: str | None = None, at: float | None = None
                    ) -> tuple[str, float, str | None]:
        """Who and when for an audit row, and the override note (None when neither is set).

        Who and when come from the OS user and the clock; an actor or clock given through
        the API (or ``MLTUI_USER``) is for tests and imports, so the row also records the real
        OS user and time beside it.
        """
        who = actor or self.actor
        when = at if at is not None else self.now()
        note: dict[str, Any] = {}
        real_user = os_user()
        if who != real_user:
            note["os_user"] = real_user
        if at is not None or self.clock_overridden:
            note["real_at"] = time.time()
        return who, when, _json_or_none(note) if note else None

    def _event(self: "Catalog", conn: sqlite3.Connection, action: str, entity_kind: str | None,
               entity_id: int | None, ref: str | None, *, before: Any = None, after: Any = None,
               detail: str | None = None, actor: str | None = None) -> None:
        who, when, note = self._provenance(actor)
        append(conn, "events", {
            "at": when, "actor": who, "action": action, "entity_kind": entity_kind,
            "entity_id": entity_id, "ref": ref, "before": _json_or_none(before),
            "after": _json_or_none(after), "detail": detail, "override": note})

    def verify_history(self: "Catalog", *, strict: bool = False) -> dict[str, Any]:
        """Walk the whole audit trail's hash chain (``mltui verify --history``).

        Returns ``{"ok", "rows": {table: count}, "broken": [first broken link per table],
        "first": the first of them or None}``; each link names its table, row id and reason.
        With ``strict``, a broken chain raises :class:`HistoryBroken` naming the first link.
        """
        result = verify(self._conn())
        if strict and not result["ok"]:
            raise HistoryBroken(f"the audit trail of {self.path} is broken: "
                                f"{result['first']['reason']}",
                                hint="compare with a backup copy (catalog.db.bak-*) to see what "
                                     "changed")
        return result
