"""What this catalog knows of MLflow tracking servers (``mltui pull``, write-through).

The server is the team's truth; the catalog keeps, per remote, what it last saw there: the
watermark a pull starts from, which catalog model and version each server model and version
is, and the server's aliases.  A pull is written like any import (``_write_batches``, one
transaction) together with that state, so it is all-or-nothing too.  Alias changes the pull
finds are moved into the stage history as ``observed`` (``import`` the first time a model is
seen); a promotion or rollback of a synced model is handed to ``write_through`` (set by
:mod:`mltui.services.remote`) inside its own transaction, so the server and the catalog change
together or not at all.
"""

from __future__ import annotations

import json
import sqlite3
from typing import TYPE_CHECKING, Any, Callable

from . import refs as refs_mod
from . import registry_sql as sql
from .errors import Conflict, InvalidInput
from .registry_import import catalog_model_name, version_source_uid
from .rows import chunks

if TYPE_CHECKING:  # pragma: no cover
    from .catalog import Catalog
    from .hook_runs import StageChange
    from .records import ImportBatch, ImportSummary
    from .remote_writes import (ArchiveWrite, DocWrite, PullState, RegisterWrite, ServerModel,
                                StageWrite)

# What a pull saw and the writes handed to ``write_through`` are dataclasses in
# core/remote_writes.py, loaded at the first pull or synced change: not at every start.

# The version tag a registration writes on the server: mltui's register event as JSON.
REGISTERED_TAG = "mltui.registered"


class RemoteMixin:
    """Remotes' watermarks, model links and aliases; writing a pull (mixed into Catalog)."""

    # Set by the front ends (mltui.services.remote.apply_write): applies a StageWrite, a
    # DocWrite or an ArchiveWrite to the server, or raises (and then the local change rolls back).
    write_through: Callable[[StageWrite | DocWrite | ArchiveWrite | RegisterWrite], Any] | None = None

    def remote_state(self: "Catalog", remote: str) -> dict[str, Any] | None:
        """The last pull of ``remote``: url, watermarks, known experiments (None: never pulled)."""
        rows = self._read("SELECT * FROM remote_state WHERE remote = ?", [remote])
        if not rows:
            return None
        row = rows[0]
        row["experiments"] = json.loads(row["experiments"]) if row["experiments"] else {}
        return row

    def remote_model_updates(self: "Catalog", remote: str) -> dict[str, int | None]:
        """Server model name -> its update time (ms) as of the last pull."""
        return {row["server_name"]: row["updated_ms"] for row in self._read(
            "SELECT server_name, updated_ms FROM remote_models WHERE remote = ?", [remote])}

    def run_fingerprints(self: "Catalog", uids: list[str]) -> dict[str, str | None]:
        """The stored fingerprint of each run uid the catalog holds."""
        out: dict[str, str | None] = {}
        for chunk in chunks(uids):
            marks = ",".join("?" for _ in chunk)
            for uid, fingerprint in self._conn().execute(
                    f"SELECT uid, fingerprint FROM runs WHERE uid IN ({marks})", chunk):
                out[uid] = fingerprint
        return out

    def unfinished_runs(self: "Catalog", source_format: str, source_path: str) -> list[str]:
        """Uids of runs from one source that were still running when last read."""
        return [row[0] for row in self._conn().execute(
            "SELECT uid FROM runs WHERE source_format = ? AND source_path = ? AND "
            "UPPER(COALESCE(status, '')) IN ('RUNNING', 'SCHEDULED')",
            (source_format, source_path))]

    def remote_links(self: "Catalog") -> list[dict[str, Any]]:
        """Every synced model: remote, server name, catalog name, aliases last seen."""
        rows = self._read(
            "SELECT l.remote, l.server_name, m.name AS model FROM remote_models l "
            "JOIN models m ON m.id = l.model_id ORDER BY l.remote, l.server_name")
        for row in rows:
            row["aliases"] = {alias: number for alias, number in self._conn().execute(
                "SELECT alias, server_version FROM remote_aliases WHERE remote = ? AND "
                "server_name = ? ORDER BY alias", (row["remote"], row["server_name"]))}
        return rows

    def write_pull(self: "Catalog", state: PullState, batches: list[ImportBatch],
                   summary: "ImportSummary") -> "ImportSummary":
        """Write a pull in one transaction: its records (the import writer), the links of
        its models and versions, the aliases it observed and the new watermarks."""
        with self._write() as conn:
            self._write_batches(conn, batches, summary, [], None)
            updates = {model.name: model.updated_ms for model in state.models}
            for batch in batches:
                for record in batch.models:
                    self._link_model(conn, state.remote, record, updates.get(record.name))
            for model in state.models:
                self._observe_aliases(conn, state.remote, model, summary)
            conn.execute(
                "INSERT INTO remote_state (remote, url, runs_watermark, experiments, pulled_at) "
                "VALUES (?,?,?,?,?) ON CONFLICT (remote) DO UPDATE SET url = excluded.url, "
                "runs_watermark = excluded.runs_watermark, experiments = excluded.experiments, "
                "pulled_at = excluded.pulled_at",
                (state.remote, state.url, state.runs_watermark,
                 json.dumps(state.experiments, sort_keys=True), self.now()))
        return summary

    def _link_model(self: "Catalog", conn: sqlite3.Connection, remote: str, record: Any,
                    updated_ms: int | None) -> None:
        """Remember which catalog model and versions a server model and its versions are."""
        mid = conn.execute("SELECT id FROM models WHERE name = ?",
                           (catalog_model_name(record.name),)).fetchone()[0]
        conn.execute("INSERT OR REPLACE INTO remote_models (remote, server_name, model_id, "
                     "updated_ms) VALUES (?,?,?,?)",
                     (remote, record.name, mid, updated_ms))
        for version in record.versions:
            row = conn.execute("SELECT id FROM model_versions WHERE source_uid = ?",
                               (version_source_uid(record, version),)).fetchone()
            if row is None:
                continue
            conn.execute("INSERT OR REPLACE INTO remote_versions (remote, server_name, "
                         "server_version, version_id) VALUES (?,?,?,?)",
                         (remote, record.name, version.source_version, row[0]))
            # The import writer leaves versions it already holds alone; the server's later
            # description and tags are the truth for a synced one.
            for key, value in version.tags.items():
                conn.execute(sql.SET_TAG, (row[0], key, value))
            latest = conn.execute("SELECT text FROM doc_revisions WHERE target_kind = 'version' "
                                  "AND target_id = ? ORDER BY rev DESC LIMIT 1",
                                  (row[0],)).fetchone()
            if version.description and (latest is None or latest[0] != version.description):
                self._save_doc(conn, "version", row[0], version.description,
                               author=f"remote:{remote}", message=f"description on {remote}")
            elif version.tags:
                self._index_version(conn, row[0])

    def _observe_aliases(self: "Catalog", conn: sqlite3.Connection, remote: str,
                         model: ServerModel, summary: "ImportSummary") -> None:
        """Move stages to where the server's aliases are now, recorded as ``observed``.

        A model seen for the first time takes its aliases as an ``import``; an alias that
        moved or vanished since the last pull is an ``observed`` change, with the reason and
        actor of the mltui that made it when its version carries that note.
        """
        link = conn.execute("SELECT model_id FROM remote_models WHERE remote = ? AND "
                            "server_name = ?", (remote, model.name)).fetchone()
        if link is None:
            return
        mid = link[0]
        seen = dict(conn.execute("SELECT alias, server_version FROM remote_aliases WHERE "
                                 "remote = ? AND server_name = ?", (remote, model.name)))
        first = not seen and not conn.execute(
            "SELECT 1 FROM stage_history WHERE model_id = ? LIMIT 1", (mid,)).fetchone()
        for alias in sorted(set(seen) | set(model.aliases)):
            number = model.aliases.get(alias)
            if seen.get(alias) == number:
                continue
            try:
                stage = refs_mod.normalize_stage(alias)
            except InvalidInput:
                summary.warnings.append(f"{remote}: alias {alias!r} of {model.name!r} is not a "
                                        "stage name mltui accepts; not mirrored")
                continue
            vid = None
            if number is not None:
                row = conn.execute("SELECT version_id FROM remote_versions WHERE remote = ? AND "
                                   "server_name = ? AND server_version = ?",
                                   (remote, model.name, number)).fetchone()
                if row is None:
                    summary.warnings.append(f"{remote}: {model.name}@{alias} points at version "
                                            f"{number}, which was not pulled; not mirrored")
                    continue
                vid = row[0]
            self._remember_alias(conn, remote, model.name, alias, number)
            current = conn.execute("SELECT version_id FROM stages WHERE model_id = ? AND "
                                   "stage = ?", (mid, stage)).fetchone()
            current_id = current[0] if current else None
            if current_id == vid:
                continue
            note = model.notes.get(alias) or {}
            reason = note.get("reason")
            if note.get("action"):
                reason = f"{note['action']} on {remote}" + (f": {reason}" if reason else "")
            self._move_stage(conn, mid, stage, current_id, vid, "import" if first else "observed",
                             reason or f"{'imported' if first else 'seen'} on {remote}",
                             note.get("gates"), bool(note.get("forced")),
                             note.get("actor") or f"remote:{remote}")
            summary.stages_set += 1

    def pending_stage_writes(self: "Catalog", remote: str) -> list[tuple[StageWrite, str]]:
        """Stage moves of synced models made here but not on the server, with their labels.

        A stage counts when its last history entry is a local ``promote`` or ``rollback``
        (made without write-through, e.g. from the Python API) and its holder is a version the
        server has, at another alias position than the last pull saw.
        """
        from .remote_writes import StageWrite

        pending = []
        for model_id, server_name, model in self._conn().execute(
                "SELECT l.model_id, l.server_name, m.name FROM remote_models l JOIN models m ON "
                "m.id = l.model_id WHERE l.remote = ? ORDER BY m.name", (remote,)).fetchall():
            seen = dict(self._conn().execute(
                "SELECT LOWER(alias), server_version FROM remote_aliases WHERE remote = ? AND "
                "server_name = ?", (remote, server_name)))
            for stage, holder in self._conn().execute(
                    "SELECT stage, version_id FROM stages WHERE model_id = ? ORDER BY stage",
                    (model_id,)).fetchall():
                last = self._conn().execute(
                    "SELECT id, action, reason, actor, at, gate_results, forced FROM "
                    "stage_history WHERE model_id = ? AND stage = ? ORDER BY id DESC LIMIT 1",
                    (model_id, stage)).fetchone()
                number = self._conn().execute(
                    "SELECT server_version FROM remote_versions WHERE remote = ? AND "
                    "version_id = ?", (remote, holder)).fetchone()
                if not last or last[1] not in ("promote", "rollback") or number is None \
                        or seen.get(stage) == number[0]:
                    continue
                note = {"history_id": last[0], "action": last[1], "reason": last[2],
                        "actor": last[3], "at": last[4],
                        "gates": json.loads(last[5]) if last[5] else None,
                        "forced": bool(last[6])}
                pending.append((StageWrite(remote, server_name, stage, seen.get(stage),
                                           number[0], note), f"{model}@{stage}"))
        return pending

    def remember_alias(self: "Catalog", remote: str, server_name: str, alias: str,
                       number: int | None) -> None:
        """Record that the server's alias now points at ``number`` (after a push)."""
        with self._write() as conn:
            self._remember_alias(conn, remote, server_name, alias, number)

    def _remember_alias(self: "Catalog", conn: sqlite3.Connection, remote: str,
                        server_name: str, alias: str, number: int | None) -> None:
        if number is None:
            conn.execute("DELETE FROM remote_aliases WHERE remote = ? AND server_name = ? AND "
                         "alias = ?", (remote, server_name, alias))
        else:
            conn.execute("INSERT OR REPLACE INTO remote_aliases (remote, server_name, alias, "
                         "server_version) VALUES (?,?,?,?)", (remote, server_name, alias, number))

    def _sync_stage(self: "Catalog", conn: sqlite3.Connection, change: "StageChange",
                    from_id: int | None, to_id: int | None, history_id: int) -> None:
        """Inside a stage change's transaction: apply it to the model's server, if synced.

        Refused (nothing written anywhere) when the version exists only in this catalog, or
        when ``write_through`` finds the server's alias moved since the last pull.  Without a
        ``write_through`` (the Python API on its own) the change stays local and the next pull
        puts the server's alias back: the server is the truth.
        """
        link = conn.execute(
            "SELECT l.remote, l.server_name FROM remote_models l JOIN models m ON "
            "m.id = l.model_id WHERE m.name = ?", (change.model,)).fetchone()
        if link is None or self.write_through is None:
            return
        remote, server_name = link
        alias = next((a for (a,) in conn.execute(
            "SELECT alias FROM remote_aliases WHERE remote = ? AND server_name = ?",
            (remote, server_name)) if a.lower() == change.stage), change.stage)
        expected = conn.execute("SELECT server_version FROM remote_aliases WHERE remote = ? AND "
                                "server_name = ? AND alias = ?",
                                (remote, server_name, alias)).fetchone()
        new = None
        if to_id is not None:
            row = conn.execute("SELECT server_version FROM remote_versions WHERE remote = ? AND "
                               "version_id = ?", (remote, to_id)).fetchone()
            if row is None:
                raise Conflict(f"{self.ref_of(to_id)} exists only in this catalog, not on "
                               f"remote {remote!r}: the server cannot point {alias!r} at it",
                               hint="register it on the server, pull, then promote")
            new = row[0]
        entry = conn.execute("SELECT action, reason, actor, at, gate_results, forced FROM "
                             "stage_history WHERE id = ?", (history_id,)).fetchone()
        note = {"history_id": history_id, "action": entry[0], "reason": entry[1],
                "actor": entry[2], "at": entry[3],
                "gates": json.loads(entry[4]) if entry[4] else None, "forced": bool(entry[5])}
        from .remote_writes import StageWrite

        self.write_through(StageWrite(remote, server_name, alias,
                                      expected[0] if expected else None, new, note))
        self._remember_alias(conn, remote, server_name, alias, new)

    def _sync_doc(self: "Catalog", conn: sqlite3.Connection, version_id: int, text: str) -> None:
        """Inside a doc save's transaction: a synced version's doc becomes its description."""
        link = conn.execute("SELECT remote, server_name, server_version FROM remote_versions "
                            "WHERE version_id = ?", (version_id,)).fetchone()
        if link is not None and self.write_through is not None:
            from .remote_writes import DocWrite

            self.write_through(DocWrite(link[0], link[1], link[2], text))

    def _sync_status(self: "Catalog", conn: sqlite3.Connection, version_id: int,
                     archived: bool, reason: str | None) -> None:
        """Inside an archive's transaction: tag (or untag) a synced version on its server.

        Refused (the local archive rolls back) when the server's aliases on the version are
        not those the last pull saw: a stage moved onto or off it meanwhile.
        """
        link = conn.execute("SELECT remote, server_name, server_version FROM remote_versions "
                            "WHERE version_id = ?", (version_id,)).fetchone()
        if link is None or self.write_through is None:
            return
        remote, server_name, number = link
        aliases = sorted(a for (a,) in conn.execute(
            "SELECT alias FROM remote_aliases WHERE remote = ? AND server_name = ? AND "
            "server_version = ?", (remote, server_name, number)))
        action = "archive" if archived else "unarchive"
        event = conn.execute("SELECT id, actor, at FROM events WHERE action = ? AND "
                             "entity_kind = 'version' AND entity_id = ? ORDER BY id DESC LIMIT 1",
                             (action, version_id)).fetchone()
        note = {"event_id": event[0], "action": action, "reason": reason, "actor": event[1],
                "at": event[2]}
        from .remote_writes import ArchiveWrite

        self.write_through(ArchiveWrite(remote, server_name, number, archived, aliases, note))

    def _sync_register(self: "Catalog", conn: sqlite3.Connection, model: str, version_id: int,
                       run_id: int | None, artifact_given: bool) -> str | None:
        """Inside a registration's transaction: create the version on a synced model's server.

        Only a run pulled from that server with no local ``--artifact`` is reachable by the
        server (``runs:/<run id>/<path>``); any other registration stays local, and the reason
        is returned (the front ends say it).  A failing server call rolls the registration back.
        """
        link = conn.execute("SELECT l.remote, l.server_name FROM remote_models l JOIN models m "
                            "ON m.id = l.model_id WHERE m.name = ?", (model,)).fetchone()
        if link is None or self.write_through is None:
            return None
        remote, server_name = link
        url = conn.execute("SELECT url FROM remote_state WHERE remote = ?", (remote,)).fetchone()
        run = conn.execute("SELECT uid, source_format, source_path FROM runs WHERE id = ?",
                           (run_id,)).fetchone() if run_id is not None else None
        if artifact_given:
            return (f"not registered on remote {remote!r}: the artifact is a local path the "
                    "server cannot reach (this version stays local; register it there from the "
                    "run, without --artifact)")
        if run is None or url is None or (run[1], run[2]) != ("mlflow-server", url[0]):
            return (f"not registered on remote {remote!r}: the run is not one pulled from it, so "
                    "the server cannot reach the artifact (this version stays local)")
        raw = conn.execute("SELECT artifact_path_raw FROM model_versions WHERE id = ?",
                           (version_id,)).fetchone()[0] or ""
        marker = f"{run[0]}/artifacts/"
        path = raw.split(marker, 1)[1] if marker in raw else "model"  # log_model's default
        event = conn.execute("SELECT id, actor, at FROM events WHERE action = 'register' AND "
                             "entity_kind = 'version' AND entity_id = ? ORDER BY id DESC LIMIT 1",
                             (version_id,)).fetchone()
        note = json.dumps({"event_id": event[0], "actor": event[1], "at": event[2],
                           "ref": self.ref_of(version_id)}, sort_keys=True, default=str)
        tags = {str(k): str(v) for k, v in conn.execute(sql.VERSION_TAGS, (version_id,))}
        from .remote_writes import RegisterWrite

        number, source_uid = self.write_through(RegisterWrite(
            remote, server_name, run[0], f"runs:/{run[0]}/{path}",
            {**tags, REGISTERED_TAG: note}))
        conn.execute("UPDATE model_versions SET source_uid = ? WHERE id = ?",
                     (source_uid, version_id))
        conn.execute("INSERT OR REPLACE INTO remote_versions (remote, server_name, "
                     "server_version, version_id) VALUES (?,?,?,?)",
                     (remote, server_name, number, version_id))
        return None
