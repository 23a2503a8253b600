"""The MLflow model registry: registered models, their versions and aliases."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ...core.errors import ImportFailed
from ...core.records import RegistryModelRecord, RegistryVersionRecord
from ..common import looks_like_email
from .artifacts import ArtifactResolver
from .meta import _DELETED_VERSION_STAGE, _VERSION_STATUS, META, meta_int, read_meta, text_or_none


def registry_version(resolver: ArtifactResolver, *, model_name: str, version: Any,
                     source: str | None, storage_location: str | None, run_id: str | None,
                     description: str | None, tags: dict[str, str], stage: str | None,
                     status: str | None, created_ms: int | None, user_id: str | None,
                     path: str) -> RegistryVersionRecord | None:
    """A RegistryVersionRecord, or None for a version MLflow marks deleted."""
    stage_text = text_or_none(stage)
    if stage_text and stage_text.lower() == _DELETED_VERSION_STAGE:
        return None
    try:
        number = int(version)
    except (TypeError, ValueError):
        raise ImportFailed(path, f"registered model {model_name!r}: version is not a number: "
                                 f"{version!r}", field="version") from None
    location = text_or_none(storage_location)
    raw = location or text_or_none(source)
    artifact = None
    if raw:
        local = resolver.resolve(raw, None)
        if local is None and location and source and source != location:
            local = resolver.resolve(source, None)  # e.g. runs:/<id>/model via a known run
        artifact = resolver.record(raw, name=None, local=local)
    creator = text_or_none(user_id)
    return RegistryVersionRecord(
        source_version=number,
        run_uid=text_or_none(run_id),
        artifact=artifact,
        description=text_or_none(description),
        tags={k: str(v) for k, v in tags.items()},
        stage=stage_text if stage_text and stage_text.lower() != "none" else None,
        status=_VERSION_STATUS.get(str(status or "READY").upper(), str(status).lower()),
        created_at=created_ms / 1000.0 if created_ms is not None else None,
        created_by=None if not creator or looks_like_email(creator) else creator,
    )


def registry_model(*, name: str, description: str | None, tags: dict[str, str],
                   created_ms: int | None, versions: list[RegistryVersionRecord],
                   aliases: dict[str, Any],
                   warn: Callable[[str], None] | None = None) -> RegistryModelRecord:
    """A RegistryModelRecord; aliases pointing at a missing or deleted version are dropped."""
    versions = sorted(versions, key=lambda v: v.source_version)
    known = {v.source_version for v in versions}
    alias_map: dict[str, int] = {}
    for alias, target in sorted(aliases.items()):
        try:
            number = int(target)
        except (TypeError, ValueError):
            number = None
        if number is None or number not in known:
            if warn:
                warn(f"registered model {name!r}: alias {alias!r} points at missing version "
                     f"{target!r}; dropped")
            continue
        alias_map[str(alias)] = number
    return RegistryModelRecord(name=name, description=text_or_none(description),
                               tags={k: str(v) for k, v in tags.items()}, versions=versions,
                               aliases=alias_map,
                               created_at=created_ms / 1000.0 if created_ms is not None else None,
                               source="mlflow")



def read_registry(reader: Any, folder: Path) -> list[RegistryModelRecord]:
    """Registered models under ``mlruns/models/`` with their live versions and aliases.

    ``reader`` is the file store reader (its resolver, value reader and warnings)."""
    if not folder.is_dir():
        return []
    models = []
    for entry in sorted(os.scandir(folder), key=lambda e: e.name):
        model_dir = Path(entry.path)
        meta_path = model_dir / META
        if not entry.is_dir() or not meta_path.is_file():
            continue
        meta = read_meta(meta_path)
        name = text_or_none(meta.get("name")) or entry.name
        versions = []
        for version_entry in sorted(os.scandir(model_dir), key=lambda e: e.name):
            if not (version_entry.is_dir() and version_entry.name.startswith("version-")):
                continue
            version_meta_path = Path(version_entry.path) / META
            if not version_meta_path.is_file():
                reader.warn(f"{version_entry.path}: version without meta.yaml; skipped")
                continue
            vmeta = read_meta(version_meta_path)
            tags = (reader.read_values(Path(version_entry.path) / "tags", [])
                    if (Path(version_entry.path) / "tags").is_dir() else {})
            record = registry_version(
                reader.resolver, model_name=name,
                version=vmeta.get("version", version_entry.name[len("version-"):]),
                source=text_or_none(vmeta.get("source")),
                storage_location=text_or_none(vmeta.get("storage_location")),
                run_id=text_or_none(vmeta.get("run_id")),
                description=text_or_none(vmeta.get("description")), tags=tags,
                stage=text_or_none(vmeta.get("current_stage")),
                status=text_or_none(vmeta.get("status")),
                created_ms=meta_int(vmeta, "creation_timestamp", version_meta_path),
                user_id=text_or_none(vmeta.get("user_id")), path=str(version_meta_path))
            if record is not None:
                versions.append(record)
        aliases: dict[str, Any] = {}
        if isinstance(meta.get("aliases"), dict):
            aliases.update(meta["aliases"])
        if (model_dir / "aliases").is_dir():
            # The aliases/ folder is what MLflow reads; the meta.yaml map is a copy.
            aliases.update({k: v.strip() for k, v in
                            reader.read_values(model_dir / "aliases", []).items()})
        tags = (reader.read_values(model_dir / "tags", [])
                if (model_dir / "tags").is_dir() else {})
        models.append(registry_model(
            name=name, description=text_or_none(meta.get("description")), tags=tags,
            created_ms=meta_int(meta, "creation_timestamp", meta_path), versions=versions,
            aliases=aliases, warn=reader.ctx.warn))
    return sorted(models, key=lambda m: m.name)
