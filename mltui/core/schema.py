"""The catalog schema, as numbered migration steps.

``PRAGMA user_version`` holds the number of the last step applied.  A new step is appended to
``MIGRATIONS`` and never edited once released, so any older catalog can be brought up to date;
``tests/core/test_migrations.py`` migrates from every earlier version.

Tables are created through sqlite-utils; the few things it cannot express (``WITHOUT ROWID``
clustering, append-only triggers, the rebuilt metric series of step 7) are plain SQL.
"""

from __future__ import annotations

import os
import signal
import sqlite3
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:  # pragma: no cover
    # sqlite-utils imports pandas and numpy (~0.5 s): only a migration may pay for it.
    import sqlite_utils

from . import audit
from .errors import MltuiError

TEXT, INT, REAL = str, int, float


def _v1_core(db: sqlite_utils.Database) -> None:
    db["meta"].create({"key": TEXT, "value": TEXT}, pk="key")

    db["runs"].create({
        "id": INT, "uid": TEXT, "name": TEXT, "project": TEXT, "source_format": TEXT,
        "source_path": TEXT, "status": TEXT, "start_time": REAL, "end_time": REAL,
        "user": TEXT, "host": TEXT, "git_commit": TEXT, "git_branch": TEXT, "git_dirty": INT,
        "environment": TEXT, "fingerprint": TEXT, "created_at": REAL, "updated_at": REAL,
    }, pk="id", not_null=["uid"])
    db["runs"].create_index(["uid"], unique=True)
    db["runs"].create_index(["start_time"])
    db["runs"].create_index(["git_commit"])

    db["params"].create({"run_id": INT, "key": TEXT, "value": TEXT}, pk=("run_id", "key"),
                        foreign_keys=[("run_id", "runs", "id")])
    db["run_tags"].create({"run_id": INT, "key": TEXT, "value": TEXT}, pk=("run_id", "key"),
                          foreign_keys=[("run_id", "runs", "id")])
    # Model files a run produced (registering the run as a version picks its best one).
    db["run_artifacts"].create({
        "run_id": INT, "seq": INT, "kind": TEXT, "name": TEXT, "path_raw": TEXT, "path": TEXT,
        "hash_algo": TEXT, "hash": TEXT, "size": INT, "base_model": TEXT,
    }, pk=("run_id", "seq"), foreign_keys=[("run_id", "runs", "id")])

    # Metric points as packed series, one row per (run, key): see core/series.py.
    db.execute("""
        CREATE TABLE metric_series (
            run_id INTEGER NOT NULL REFERENCES runs(id),
            key TEXT NOT NULL,
            count INTEGER NOT NULL,
            steps BLOB,
            vals BLOB NOT NULL,
            epochs BLOB,
            wall_times BLOB,
            axis TEXT,
            axes TEXT,
            raws TEXT,
            PRIMARY KEY (run_id, key)
        ) WITHOUT ROWID""")
    db.execute("""
        CREATE TABLE metric_summary (
            run_id INTEGER NOT NULL REFERENCES runs(id),
            key TEXT NOT NULL,
            last REAL, last_raw TEXT, last_step INTEGER,
            min REAL, min_step INTEGER,
            max REAL, max_step INTEGER,
            count INTEGER NOT NULL,
            PRIMARY KEY (run_id, key)
        ) WITHOUT ROWID""")
    db["metric_summary"].create_index(["key", "last"])

    db["dataset_versions"].create({
        "id": INT, "name": TEXT, "version": INT, "hash_algo": TEXT, "hash": TEXT,
        "uri_raw": TEXT, "path": TEXT, "size": INT, "file_count": INT, "row_count": INT,
        "columns": TEXT, "created_at": REAL,
    }, pk="id", not_null=["name", "version"])
    db["dataset_versions"].create_index(["name", "version"], unique=True)
    db["dataset_versions"].create_index(["hash"])

    db["models"].create({
        "id": INT, "name": TEXT, "description": TEXT, "project": TEXT, "created_at": REAL,
        "next_version": INT,
    }, pk="id", not_null=["name", "next_version"], defaults={"next_version": 1})
    db["models"].create_index(["name"], unique=True)
    db["model_tags"].create({"model_id": INT, "key": TEXT, "value": TEXT},
                            pk=("model_id", "key"), foreign_keys=[("model_id", "models", "id")])

    db["model_versions"].create({
        "id": INT, "model_id": INT, "version": INT, "canonical_name": TEXT, "run_id": INT,
        "artifact_path": TEXT, "artifact_path_raw": TEXT, "artifact_hash_algo": TEXT,
        "artifact_hash": TEXT, "artifact_size": INT, "base_model": TEXT, "created_at": REAL,
        "created_by": TEXT, "status": TEXT, "source_uid": TEXT,
    }, pk="id", not_null=["model_id", "version", "canonical_name", "status"],
        foreign_keys=[("model_id", "models", "id"), ("run_id", "runs", "id")])
    db["model_versions"].create_index(["model_id", "version"], unique=True)
    db["model_versions"].create_index(["canonical_name"], unique=True)
    db["model_versions"].create_index(["run_id"])
    db["model_versions"].create_index(["source_uid"], unique=True)
    db["version_tags"].create({"version_id": INT, "key": TEXT, "value": TEXT},
                              pk=("version_id", "key"),
                              foreign_keys=[("version_id", "model_versions", "id")])

    db.execute("""
        CREATE TABLE lineage (
            src_kind TEXT NOT NULL, src_id INTEGER NOT NULL,
            dst_kind TEXT NOT NULL, dst_id INTEGER NOT NULL,
            role TEXT NOT NULL,
            created_at REAL,
            PRIMARY KEY (src_kind, src_id, dst_kind, dst_id, role)
        ) WITHOUT ROWID""")
    db["lineage"].create_index(["dst_kind", "dst_id"])

    db["stages"].create({"model_id": INT, "stage": TEXT, "version_id": INT, "since": REAL},
                        pk=("model_id", "stage"),
                        foreign_keys=[("model_id", "models", "id"),
                                      ("version_id", "model_versions", "id")])
    db["stages"].create_index(["version_id"])

    db["stage_history"].create({
        "id": INT, "model_id": INT, "stage": TEXT, "from_version_id": INT,
        "to_version_id": INT, "action": TEXT, "reason": TEXT, "actor": TEXT, "at": REAL,
        "gate_results": TEXT, "forced": INT,
    }, pk="id", not_null=["model_id", "stage", "action", "at"],
        foreign_keys=[("model_id", "models", "id")])
    db["stage_history"].create_index(["model_id", "stage", "id"])

    db["doc_revisions"].create({
        "id": INT, "target_kind": TEXT, "target_id": INT, "rev": INT, "text": TEXT,
        "author": TEXT, "at": REAL, "message": TEXT,
    }, pk="id", not_null=["target_kind", "target_id", "rev", "text"])
    db["doc_revisions"].create_index(["target_kind", "target_id", "rev"], unique=True)

    # A gate guards promotions to one stage (production unless said otherwise).
    db["gates"].create({"id": INT, "model_id": INT, "rule": TEXT, "stage": TEXT,
                        "created_at": REAL, "created_by": TEXT}, pk="id",
                       not_null=["model_id", "rule", "stage"], defaults={"stage": "production"},
                       foreign_keys=[("model_id", "models", "id")])
    db["gates"].create_index(["model_id", "stage", "rule"], unique=True)

    db["events"].create({
        "id": INT, "at": REAL, "actor": TEXT, "action": TEXT, "entity_kind": TEXT,
        "entity_id": INT, "ref": TEXT, "before": TEXT, "after": TEXT, "detail": TEXT,
    }, pk="id", not_null=["at", "action"])
    db["events"].create_index(["at"])

    # Append-only tables: the audit trail cannot be edited through any API or by accident.
    for table in ("stage_history", "events", "doc_revisions"):
        for op in ("UPDATE", "DELETE"):
            db.execute(f"""
                CREATE TRIGGER {table}_no_{op.lower()} BEFORE {op} ON {table}
                BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END""")

    # Full-text search over names, tags and documentation: one searchable text per version
    # and per run, kept current by the catalog whenever one of its sources changes.
    db["search_text"].create({"kind": TEXT, "ref_id": INT, "body": TEXT}, pk=("kind", "ref_id"))
    db["search_text"].enable_fts(["body"], fts_version="FTS5", create_triggers=True,
                                 tokenize="unicode61")


def _append_only_triggers(conn: sqlite3.Connection, table: str) -> None:
    """Refuse INSERT OR REPLACE (which deletes the old row without firing the delete trigger)
    and rows without a chain hash, i.e. rows not appended through :func:`audit.append`."""
    keys = "id = NEW.id"
    if table == "doc_revisions":  # its unique (target, rev) key would be replaced just the same
        keys += (" OR (target_kind = NEW.target_kind AND target_id = NEW.target_id "
                 "AND rev = NEW.rev)")
    conn.execute(f"""
        CREATE TRIGGER {table}_no_replace BEFORE INSERT ON {table}
        WHEN EXISTS (SELECT 1 FROM {table} WHERE {keys})
        BEGIN SELECT RAISE(ABORT, '{table} is append-only: a row cannot be replaced'); END""")
    conn.execute(f"""
        CREATE TRIGGER {table}_needs_hash BEFORE INSERT ON {table}
        WHEN NEW.hash IS NULL OR NEW.prev_hash IS NULL
        BEGIN SELECT RAISE(ABORT, '{table} rows are appended by mltui only (no chain hash)'); END""")


def _v2_audit_chain(db: sqlite_utils.Database) -> None:
    """Hash-chain the audit trail (see core/audit.py) and seal the rows already there."""
    conn = db.conn
    for table in audit.CHAINED_TABLES:
        for column in ("override", "prev_hash", "hash"):
            conn.execute(f"ALTER TABLE {table} ADD COLUMN {column} TEXT")
        # Sealing writes the new columns of existing rows: lift the no-update guard for it,
        # inside this same transaction, so no other writer ever sees the table unguarded.
        conn.execute(f"DROP TRIGGER {table}_no_update")
        audit.seal(conn, table)
        fault_point("mid-migration")
        conn.execute(f"""
            CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table}
            BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END""")
        _append_only_triggers(conn, table)



def _v3_git_commit_inferred(db: sqlite_utils.Database) -> None:
    # 1 when the run's log named no commit and the import gave it its work tree's HEAD
    # (services/git.py): a guess every front end marks as such.  Self-contained step.
    db.execute("ALTER TABLE runs ADD COLUMN git_commit_inferred INTEGER")


def _v4_production(db: sqlite_utils.Database) -> None:
    """Production observations, monitors and alerts (core/observe.py, core/monitors.py)."""
    conn = db.conn
    # One series per (model, stage, metric) keeps the observation rows small: a window of a
    # monitor is one range of the clustered key (series, ts), read without a second lookup.
    conn.execute("""
        CREATE TABLE obs_series (
            id INTEGER PRIMARY KEY, model_id INTEGER NOT NULL REFERENCES models(id),
            stage TEXT NOT NULL, metric TEXT NOT NULL, UNIQUE (model_id, stage, metric))""")
    # An observation is its (time, value) and its position among identical ones in one
    # input (n), so ingesting the same log twice adds nothing and a grown log adds its tail.
    conn.execute("""
        CREATE TABLE observations (
            series_id INTEGER NOT NULL REFERENCES obs_series(id),
            ts REAL NOT NULL, value REAL NOT NULL, n INTEGER NOT NULL,
            version_id INTEGER REFERENCES model_versions(id),
            PRIMARY KEY (series_id, ts, value, n)
        ) WITHOUT ROWID""")
    fault_point("mid-migration")
    conn.execute("""
        CREATE TABLE monitors (
            id INTEGER PRIMARY KEY, model_id INTEGER NOT NULL REFERENCES models(id),
            stage TEXT NOT NULL, rule TEXT NOT NULL, auto_rollback INTEGER NOT NULL DEFAULT 0,
            created_at REAL, created_by TEXT, UNIQUE (model_id, stage, rule))""")
    # The state of each alert (open until its rule holds again); the audit facts (fired,
    # resolved, hooks, the rollback) are events.
    conn.execute("""
        CREATE TABLE alerts (
            id INTEGER PRIMARY KEY, monitor_id INTEGER NOT NULL REFERENCES monitors(id),
            model_id INTEGER NOT NULL, stage TEXT NOT NULL, version_id INTEGER, rule TEXT NOT NULL,
            value REAL, detail TEXT, opened_at REAL NOT NULL, resolved_at REAL,
            rollback_history_id INTEGER)""")
    conn.execute("CREATE INDEX alerts_open ON alerts (monitor_id, resolved_at)")
    conn.execute("CREATE INDEX alerts_model ON alerts (model_id, stage, opened_at)")


def _v5_remotes(db: sqlite_utils.Database) -> None:
    """What this catalog last saw of each MLflow tracking server (core/remote.py)."""
    conn = db.conn
    # Per remote: the run watermark an incremental pull starts from (server milliseconds) and
    # the experiments it knows, so an unchanged server costs few requests.  The registry's
    # watermark is each model's update time, in remote_models.
    conn.execute("""
        CREATE TABLE remote_state (
            remote TEXT PRIMARY KEY, url TEXT NOT NULL, runs_watermark INTEGER,
            experiments TEXT, pulled_at REAL)""")
    # Which catalog model and version each server model and version is (write-through needs
    # the server's name and number; a renumbered version keeps its server number here).
    conn.execute("""
        CREATE TABLE remote_models (
            remote TEXT NOT NULL, server_name TEXT NOT NULL,
            model_id INTEGER NOT NULL REFERENCES models(id), updated_ms INTEGER,
            PRIMARY KEY (remote, server_name))""")
    conn.execute("""
        CREATE TABLE remote_versions (
            remote TEXT NOT NULL, server_name TEXT NOT NULL, server_version INTEGER NOT NULL,
            version_id INTEGER NOT NULL REFERENCES model_versions(id),
            PRIMARY KEY (remote, server_name, server_version))""")
    conn.execute("CREATE INDEX remote_versions_by_id ON remote_versions (version_id)")
    # The server's aliases as of the last pull or write-through: a write refuses when the
    # server no longer matches (someone moved it), and a pull that finds them changed records
    # the change as "observed".
    conn.execute("""
        CREATE TABLE remote_aliases (
            remote TEXT NOT NULL, server_name TEXT NOT NULL, alias TEXT NOT NULL,
            server_version INTEGER NOT NULL, PRIMARY KEY (remote, server_name, alias))""")


# Each model's stored version count beside a fresh count of its versions (a scan of the
# (model_id, version) index): ``Catalog.version_count_drift`` compares the two.
LIVE_VERSION_COUNTS = ("SELECT mo.id, mo.name, mo.version_count, "
                       "(SELECT count(*) FROM model_versions v WHERE v.model_id = mo.id) "
                       "FROM models mo ORDER BY mo.name")


def version_count_triggers(conn: sqlite3.Connection) -> None:
    """Keep ``models.version_count`` exact on every write to ``model_versions``.

    Triggers, not the registry's code: versions are also written by imports, remote pulls, the
    demo builder and the benchmarks' raw ``executemany`` — a trigger sees every one of them, so
    the stored count cannot drift whichever path wrote the row.
    """
    conn.execute("""
        CREATE TRIGGER model_versions_count_insert AFTER INSERT ON model_versions
        BEGIN UPDATE models SET version_count = version_count + 1 WHERE id = NEW.model_id; END""")
    conn.execute("""
        CREATE TRIGGER model_versions_count_delete AFTER DELETE ON model_versions
        BEGIN UPDATE models SET version_count = version_count - 1 WHERE id = OLD.model_id; END""")
    conn.execute("""
        CREATE TRIGGER model_versions_count_move AFTER UPDATE OF model_id ON model_versions
        WHEN OLD.model_id IS NOT NEW.model_id
        BEGIN
            UPDATE models SET version_count = version_count - 1 WHERE id = OLD.model_id;
            UPDATE models SET version_count = version_count + 1 WHERE id = NEW.model_id;
        END""")


def _v6_version_counts(db: sqlite_utils.Database) -> None:
    """Each model's version count, stored: the first screen lists models without counting every
    version of every model (a linear scan: 43-65 ms of the app's start on 1,000,000 versions)."""
    conn = db.conn
    conn.execute("ALTER TABLE models ADD COLUMN version_count INTEGER NOT NULL DEFAULT 0")
    # One pass over the (model_id, version) index.
    conn.execute("UPDATE models SET version_count = "
                 "(SELECT count(*) FROM model_versions v WHERE v.model_id = models.id)")
    fault_point("mid-migration")
    version_count_triggers(conn)


def _v7_series_rowid(db: sqlite_utils.Database) -> None:
    """``metric_series`` as a rowid table: a WITHOUT ROWID row keeps at most ~1,000 bytes in its
    b-tree page, so every series of more than ~40 points spilled into an overflow page of its
    own, half of it empty (a 1,000-run import: 10.7 of its 20.5 MB of overflow unused).  A rowid
    table keeps up to ~4,000 bytes a row in the page; ``UNIQUE (run_id, key)`` is the index
    every lookup of a run's series uses.  Same columns, every row and byte copied as it is
    (full steps blobs stay valid beside progressions, core/series.py)."""
    conn = db.conn
    conn.execute("""
        CREATE TABLE metric_series_v7 (
            run_id INTEGER NOT NULL REFERENCES runs(id),
            key TEXT NOT NULL,
            count INTEGER NOT NULL,
            steps BLOB,
            vals BLOB NOT NULL,
            epochs BLOB,
            wall_times BLOB,
            axis TEXT,
            axes TEXT,
            raws TEXT,
            UNIQUE (run_id, key))""")
    # In key order: the rows land in rowid order as the old table clustered them, and the
    # unique index is built by appending.
    conn.execute("INSERT INTO metric_series_v7 (run_id, key, count, steps, vals, epochs, "
                 "wall_times, axis, axes, raws) SELECT run_id, key, count, steps, vals, epochs, "
                 "wall_times, axis, axes, raws FROM metric_series ORDER BY run_id, key")
    fault_point("mid-migration")
    conn.execute("DROP TABLE metric_series")
    conn.execute("ALTER TABLE metric_series_v7 RENAME TO metric_series")


MIGRATIONS: list[Callable[["sqlite_utils.Database"], None]] = [
    _v1_core, _v2_audit_chain, _v3_git_commit_inferred, _v4_production, _v5_remotes,
    _v6_version_counts, _v7_series_rowid]
SCHEMA_VERSION = len(MIGRATIONS)

FAULT_ENV = "MLTUI_FAULT"


def fault_point(name: str) -> None:
    """Test hook: kill this process (SIGKILL, no cleanup) when ``$MLTUI_FAULT`` names ``name``.

    Lets the crash tests prove that a kill at a chosen point leaves the catalog either as it
    was or fully changed: ``before-backup``, ``after-backup``, ``mid-migration``,
    ``before-commit`` (migrations) and ``import-row:N`` (after the Nth run of an import).
    """
    if os.environ.get(FAULT_ENV) == name:
        os.kill(os.getpid(), signal.SIGKILL)


class SchemaTooNew(MltuiError):
    """The catalog was written by a newer mltui than this one."""


class SchemaUnknown(MltuiError):
    """The catalog's schema version is not one any mltui writes (e.g. negative)."""


def check_version(version: int, path: object) -> None:
    """Refuse a schema version this mltui cannot open or migrate, with a one-line reason."""
    if version > SCHEMA_VERSION:
        raise SchemaTooNew(f"catalog {path} was made by a newer mltui (schema {version}, this "
                           f"one knows {SCHEMA_VERSION}): upgrade mltui",
                           hint="pip install -U mltui")
    if version < 0:
        raise SchemaUnknown(f"catalog {path} has schema version {version}, which no mltui "
                            "writes; it was changed by another program",
                            hint="restore the catalog from a backup copy (catalog.db.bak-*), "
                                 "or set PRAGMA user_version back if you know its version")


def schema_version(conn: sqlite3.Connection) -> int:
    """The catalog's schema version (0 for an empty file)."""
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def migrate(conn: sqlite3.Connection, from_version: int, path: object = "in memory") -> int:
    """Apply every step after ``from_version`` in one transaction; returns the new version.

    The caller holds the write lock (``BEGIN IMMEDIATE``) and has made a backup copy.
    """
    check_version(from_version, path)
    import sqlite_utils  # only a migration pays for it (it imports pandas and numpy)

    db = sqlite_utils.Database(conn, recursive_triggers=False, execute_plugins=False)
    for number in range(from_version, SCHEMA_VERSION):
        MIGRATIONS[number](db)
        conn.execute(f"PRAGMA user_version = {number + 1}")
    fault_point("before-commit")
    return SCHEMA_VERSION
