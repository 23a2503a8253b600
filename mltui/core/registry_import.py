"""Writing a source registry's models into the catalog, as part of an import.

MLflow's registry (file store, ``mlflow.db``, a tracking server) brings registered models with
their versions, stages and aliases.  Each version is keyed by its identity in its own store, so
two stores that both have ``fraud`` v1..v3 never collide: the second one's are numbered on,
with the source number kept as provenance and one ``summary.merged`` line each.
"""

from __future__ import annotations

import re
import sqlite3
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from .catalog import Catalog
    from .records import ArtifactRecord, ImportSummary, RegistryModelRecord


class RegistryImportMixin:
    """The registry half of an import (mixed into Catalog; called by ``_write_batches``)."""

    def _write_registry_model(self: "Catalog", conn: sqlite3.Connection,
                              record: RegistryModelRecord, uid_to_id: dict[str, int],
                              summary: ImportSummary, *, store: str = "") -> None:
        """Bring a source registry's model in: versions (by source identity), stages, aliases.

        A version is keyed by what identifies it in its store (name, number, creation time,
        run, artifact), so a second store (or server) with its own ``fraud`` v1..v3 does not
        collide with the first: its versions are kept, numbered on in mltui, with the source
        number in their tags and one ``summary.merged`` line each.  Stage and alias
        assignments that differ from the catalog's are recorded in the stage history as
        ``import`` actions, except that a stage held by another source's version is left alone
        (and reported).
        """
        name = catalog_model_name(record.name)
        if not conn.execute("SELECT 1 FROM models WHERE name = ?", (name,)).fetchone():
            summary.models_new += 1
        mid = self._ensure_model(conn, name, description=record.description,
                                 created_at=record.created_at)
        if record.description:
            conn.execute("UPDATE models SET description = ? WHERE id = ? AND description IS NULL",
                         (record.description, mid))
        for key, value in record.tags.items():
            conn.execute("INSERT OR REPLACE INTO model_tags (model_id, key, value) VALUES (?,?,?)",
                         (mid, key, value))
        where = f"{record.source} {record.name!r}" + (f" of {store}" if store else "")
        source_to_vid: dict[int, int] = {}
        for version in sorted(record.versions, key=lambda v: v.source_version):
            source_uid = version_source_uid(record, version)
            vid = self._imported_version(conn, record, version, source_uid)
            if vid is not None:
                source_to_vid[version.source_version] = vid
                continue
            run_id = uid_to_id.get(version.run_uid or "")
            if run_id is None and version.run_uid:
                found = conn.execute("SELECT id FROM runs WHERE uid = ?", (version.run_uid,)).fetchone()
                run_id = found[0] if found else None
            taken = conn.execute("SELECT 1 FROM model_versions WHERE model_id = ? AND version >= ?",
                                 (mid, version.source_version)).fetchone()
            tags = dict(version.tags)
            if taken:  # numbered on; the source's own number stays as provenance
                tags.update({"import.source_version": str(version.source_version),
                             "import.source": store or record.source})
            vid = self._register(conn, name, run_id=run_id,
                                 artifact=_artifact_columns(version.artifact), tags=tags,
                                 created_at=version.created_at, actor=version.created_by or "import",
                                 source_uid=source_uid,
                                 status="archived" if (version.stage or "").lower() == "archived"
                                 else version.status, number=version.source_version)
            summary.versions_new += 1
            if taken:
                number = conn.execute("SELECT version FROM model_versions WHERE id = ?",
                                      (vid,)).fetchone()[0]
                summary.merged.append(
                    f"{where} v{version.source_version} kept as {name}@{number}: {name}@"
                    f"{version.source_version} already holds another version (a second store or "
                    "server with the same model name)")
            if version.description:
                self._save_doc(conn, "version", vid, version.description, author="import",
                               message=f"imported from {record.source}")
            source_to_vid[version.source_version] = vid
        self._import_stages(conn, record, mid, name, source_to_vid, summary, where)

    def _imported_version(self: "Catalog", conn: sqlite3.Connection, record: RegistryModelRecord,
                          version: Any, source_uid: str) -> int | None:
        """The catalog's version already imported as this source version, or None.

        Catalogs written before versions were keyed by identity hold ``source:name/N``; such a
        row is this version only when its run and creation time agree (then it is re-keyed).
        """
        row = conn.execute("SELECT id FROM model_versions WHERE source_uid = ?",
                           (source_uid,)).fetchone()
        if row:
            return row[0]
        legacy = f"{record.source}:{record.name}/{version.source_version}"
        row = conn.execute(
            "SELECT v.id, r.uid, v.created_at FROM model_versions v LEFT JOIN runs r "
            "ON r.id = v.run_id WHERE v.source_uid = ?", (legacy,)).fetchone()
        if row and row[1] == version.run_uid and row[2] == version.created_at:
            conn.execute("UPDATE model_versions SET source_uid = ? WHERE id = ?", (source_uid, row[0]))
            return row[0]
        return None

    def _import_stages(self: "Catalog", conn: sqlite3.Connection, record: RegistryModelRecord,
                       mid: int, name: str, source_to_vid: dict[int, int],
                       summary: ImportSummary, where: str) -> None:
        """Move stages and aliases to where the source registry has them."""
        wanted: dict[str, int] = {}
        for version in record.versions:
            stage = (version.stage or "").strip().lower()
            if stage and stage not in ("none", "archived") and version.source_version in source_to_vid:
                wanted[stage] = source_to_vid[version.source_version]
        for alias, number in record.aliases.items():
            if number in source_to_vid:
                wanted[alias.strip().lower()] = source_to_vid[number]
        ours = set(source_to_vid.values())
        for stage, vid in sorted(wanted.items()):
            current = conn.execute(
                "SELECT s.version_id, v.source_uid, v.version FROM stages s LEFT JOIN "
                "model_versions v ON v.id = s.version_id WHERE s.model_id = ? AND s.stage = ?",
                (mid, stage)).fetchone()
            current_id = current[0] if current else None
            if current_id == vid:
                continue
            if current and current_id is not None and current[1] and current_id not in ours:
                summary.merged.append(f"{where}: stage {stage!r} not moved: {name}@{current[2]} "
                                      "holds it, a version imported from another source")
                continue
            self._move_stage(conn, mid, stage, current_id, vid, "import",
                             f"imported from {record.source} registry", None, False, "import")
            summary.stages_set += 1


def catalog_model_name(source_name: str) -> str:
    """The catalog's name for a source registry's model (made a valid model name if need be)."""
    from .refs import MODEL_NAME_RE

    if MODEL_NAME_RE.match(source_name):
        return source_name
    return _SAFE_MODEL.sub("-", source_name).strip("-.") or "model"


def version_source_uid(record: RegistryModelRecord, version: Any) -> str:
    """What identifies a registry version across stores: name, number, creation, run, artifact.

    The same store read again (or moved, or copied) gives the same key; another store's
    version with the same name and number does not.
    """
    import hashlib  # imports from a registry only: OpenSSL's hashes are not loaded at start

    artifact = version.artifact.path_raw if version.artifact else ""
    created = "" if version.created_at is None else f"{version.created_at:.3f}"
    digest = hashlib.sha256(f"{created}\0{version.run_uid or ''}\0{artifact}".encode()).hexdigest()
    return f"{record.source}:{record.name}/{version.source_version}#{digest[:16]}"


_SAFE_MODEL = re.compile(r"[^A-Za-z0-9_.-]+")


def _artifact_columns(artifact: ArtifactRecord | None) -> dict[str, Any]:
    if artifact is None:
        return {}
    return {"artifact_path": artifact.path, "artifact_path_raw": artifact.path_raw,
            "artifact_hash_algo": artifact.hash_algo, "artifact_hash": artifact.hash,
            "artifact_size": artifact.size, "base_model": artifact.base_model}
